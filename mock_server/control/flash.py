"""What a dashboard form did, shown once on the page the form redirects back to.

The form's answer is a redirect (POST-redirect-GET); the message rides along in a short-lived
cookie signed with the sandbox's form-token key, so another page on a loopback port (cookies do
not tell ports apart) cannot plant a message. The dashboard reads it and clears it.
"""

from __future__ import annotations

import base64

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mock_server.forms import FormTokens

COOKIE = "sandbox_flash"
_PURPOSE = "flash"
_MAX_TEXT = 600


def set_flash(response: Response, tokens: FormTokens, kind: str, text: str) -> Response:
    """Attach `text` (kind "ok" or "error") to the redirect `response`."""
    payload = f"{kind}\x1f{text[:_MAX_TEXT]}".encode("utf-8", "replace")
    encoded = base64.urlsafe_b64encode(payload).decode("ascii")
    value = f"{encoded}.{tokens.issue(_PURPOSE, encoded)}"
    response.set_cookie(
        COOKIE, value, max_age=60, path="/_sandbox", httponly=True, samesite="strict"
    )
    return response


def read_flash(request: Request, tokens: FormTokens) -> tuple[str, str] | None:
    """The (kind, text) the last form left, if it is genuine."""
    value = request.cookies.get(COOKIE)
    if not value or "." not in value:
        return None
    encoded, _, signature = value.rpartition(".")
    if not tokens.valid(signature, _PURPOSE, encoded):
        return None
    try:
        kind, _, text = base64.urlsafe_b64decode(encoded).decode("utf-8").partition("\x1f")
    except ValueError:
        return None
    return ("error" if kind == "error" else "ok"), text


def clear_flash(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/_sandbox")


def safe_back(value: object, default: str) -> str:
    """Where a dashboard form returns: a path on the dashboard (with its filters and anchor),
    never another host."""
    if (
        isinstance(value, str)
        and value.startswith("/_sandbox/")
        and len(value) <= 2000
        and not any(c in value for c in "\\\r\n\t")
        and "//" not in value
    ):
        return value
    return default


def back_to_dashboard(
    tokens: FormTokens, back: object, kind: str, text: str, default: str = "/_sandbox/"
) -> Response:
    """The redirect a dashboard form is answered with, carrying what the form did."""
    response = RedirectResponse(safe_back(back, default), status_code=303)
    return set_flash(response, tokens, kind, text)
