"""The Display API's `fields` query parameter (ref 5, 5.1): which names a request asks for, and
what happens to names TikTok does not know or whose scope the token lacks.

Both are scenario choices (`display:` in a scenario, docs/fidelity.md):

- unknown names are ignored by default (TikTok's own video/query example asks for `fps`, which
  is no Video Object field) or refuse the request (`unknown_fields: refuse`);
- a name whose scope was not granted refuses the whole request with `scope_not_authorized`
  401 by default, as recorded, or with `scope_permission_missed` 400 (the error page's
  description), or is left out of the answer (`unscoped_fields: omit`).
"""

from __future__ import annotations

from collections.abc import Mapping

from mock_server.domain.errors import API_ERRORS, ApiError

FIELDS_REQUIRED = "Fields is required, please provide fields in the request"


def parse_fields(raw: str | None, known: Mapping[str, str], unknown: str = "ignore") -> list[str]:
    """The names asked for, trimmed and deduplicated in order; `known` maps each name TikTok
    knows to its scope. Missing or empty `fields` is `invalid_params` (recorded wording)."""
    names = list(dict.fromkeys(f.strip() for f in (raw or "").split(",") if f.strip()))
    if not names:
        raise ApiError("invalid_params", FIELDS_REQUIRED, rule="fields_missing")
    strangers = [n for n in names if n not in known]
    if strangers and unknown == "refuse":
        raise ApiError(
            "invalid_params", f"Invalid field(s): {','.join(strangers)}", rule="fields_unknown"
        )
    return [n for n in names if n in known]


def scoped_fields(
    fields: list[str], known: Mapping[str, str], scopes: frozenset[str], unscoped: str
) -> list[str]:
    """The fields the token may read. A field whose scope was not granted refuses the request
    (`scope_not_authorized` or `scope_permission_missed`, naming the scopes) or, with `omit`,
    is dropped."""
    missing = sorted({known[f] for f in fields} - scopes)
    if not missing:
        return fields
    if unscoped == "omit":
        return [f for f in fields if known[f] in scopes]
    if unscoped == "scope_permission_missed":
        message = f"The access token lacks scope {', '.join(missing)} for some requested fields."
    else:
        message = with_scopes(API_ERRORS["scope_not_authorized"].message, missing)
    raise ApiError(unscoped, message, rule="field_scope")


def with_scopes(message: str, scopes: list[str]) -> str:
    """TikTok's message with the scopes it is about before its final period:
    "... this request (user.info.profile)."."""
    return f"{message.rstrip('.')} ({' or '.join(scopes)})."
