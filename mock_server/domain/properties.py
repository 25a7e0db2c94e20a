"""URL properties (ref 10.4): the domains and URL prefixes an app proves it owns, so that TikTok
pulls media (PULL_FROM_URL) from them.

As on TikTok's "URL properties" page, a property is added with a verification token, then
verified; until then a pull from it is `url_ownership_unverified`. The signature is the line
`tiktok-developers-site-verification=<token>`:

- a **URL prefix** is verified by serving that line in the file `tiktok<token>.txt` under the
  prefix, which the sandbox fetches (over its URL fetcher: no redirects; loopback `http` prefixes
  only with `allow_loopback_http_media`);
- a **domain** is verified by a DNS TXT record holding the line. The sandbox cannot query DNS
  offline, so the verify call states the TXT records the domain serves (`dns_txt`), as the
  developer would after adding the record at their DNS host.

A verified property is what the app settings `verified_domains` and `verified_url_prefixes`
hold, and those settings stay the source of truth: a value put there directly counts as an
already verified property, and deleting a property takes its value out of them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from mock_server.domain.models import App
from mock_server.domain.settings import DOMAIN, url_prefix_problem

DOMAIN_KIND = "domain"
URL_PREFIX_KIND = "url_prefix"
KINDS = (DOMAIN_KIND, URL_PREFIX_KIND)
SIGNATURE = "tiktok-developers-site-verification="  # ref 10.4 (3p)
MAX_PROPERTIES = 100  # per app, pending ones included (DESIGN principle 7)
MAX_SIGNATURE_FILE_BYTES = 4096


class PropertyProblem(ValueError):
    """A property that cannot be added, found or verified; `status` is the control API's."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


@dataclass
class UrlProperty:
    """A property added through the control API, verified or not."""

    kind: str
    value: str
    token: str
    created_at: float
    verified_at: float | None = None

    @property
    def property_id(self) -> str:
        return property_id(self.kind, self.value)

    @property
    def signature(self) -> str:
        return SIGNATURE + self.token

    @property
    def signature_file(self) -> str:
        """ref 10.4 (3p): the URL-prefix file is named `tiktok<token>.txt`."""
        return f"tiktok{self.token}.txt"


def property_id(kind: str, value: str) -> str:
    """Stable for a kind and value, so a property declared in settings has one too."""
    return "up_" + hashlib.sha256(f"{kind}\n{value}".encode()).hexdigest()[:16]


def _verified_values(app: App, kind: str) -> list[str]:
    return app.verified_domains if kind == DOMAIN_KIND else app.verified_url_prefixes


def is_verified(app: App, kind: str, value: str) -> bool:
    return value in _verified_values(app, kind)


def normalized(app: App, kind: object, value: object) -> tuple[str, str]:
    """Check a new property's kind and value: a domain name (lower case), or a URL prefix as
    the `verified_url_prefixes` setting takes it."""
    if kind not in KINDS:
        raise PropertyProblem(400, "invalid_request", "type: expected domain or url_prefix")
    if not isinstance(value, str) or not value:
        raise PropertyProblem(400, "invalid_request", "value: expected a domain or a URL prefix")
    if kind == DOMAIN_KIND:
        name = value.lower().rstrip(".")
        if not DOMAIN.match(name) or name.replace(".", "").isdigit():
            raise PropertyProblem(
                400,
                "invalid_request",
                "value: expected a domain name such as media.example.com (no scheme or path)",
            )
        return DOMAIN_KIND, name
    problem = url_prefix_problem(value, app.allow_loopback_http_media)
    if problem:
        raise PropertyProblem(400, "invalid_request", f"value: expected {problem}")
    return URL_PREFIX_KIND, value


def add(app: App, kind: object, value: object, token: str, now: float) -> UrlProperty:
    """A new, unverified property of the app with its verification token."""
    checked_kind, checked_value = normalized(app, kind, value)
    pid = property_id(checked_kind, checked_value)
    if any(p.property_id == pid for p in app.url_properties) or is_verified(
        app, checked_kind, checked_value
    ):
        raise PropertyProblem(409, "conflict", f"the app already has this property ({pid})")
    if len(app.url_properties) >= MAX_PROPERTIES:
        raise PropertyProblem(
            409, "conflict", f"an app holds at most {MAX_PROPERTIES} URL properties"
        )
    prop = UrlProperty(checked_kind, checked_value, token, now)
    app.url_properties.append(prop)
    return prop


def find(app: App, pid: str) -> UrlProperty | None:
    return next((p for p in app.url_properties if p.property_id == pid), None)


def remove(app: App, pid: str) -> None:
    """Delete a property (added, or declared in settings): pulls from it are unverified again."""
    prop = find(app, pid)
    declared = [
        (kind, value)
        for kind in KINDS
        for value in _verified_values(app, kind)
        if property_id(kind, value) == pid
    ]
    if prop is None and not declared:
        raise PropertyProblem(404, "not_found", f"no URL property {pid!r} on this app")
    if prop is not None:
        app.url_properties.remove(prop)
        declared.append((prop.kind, prop.value))
    for kind, value in declared:
        values = _verified_values(app, kind)
        if value in values:
            values.remove(value)


def signature_file_url(prop: UrlProperty) -> str:
    return prop.value + prop.signature_file


def file_proves(prop: UrlProperty, content: bytes) -> str | None:
    """Why the fetched signature file does not verify `prop`, or None when it does: one of its
    lines must be the signature."""
    text = content.decode("utf-8", "replace")
    if any(line.strip() == prop.signature for line in text.splitlines()):
        return None
    return f"{signature_file_url(prop)} does not hold the line {prop.signature}"


def txt_proves(prop: UrlProperty, records: list[str]) -> str | None:
    """Why the domain's TXT records do not verify `prop`, or None when one is the signature."""
    if any(record.strip().strip('"') == prop.signature for record in records):
        return None
    return f"no TXT record of {prop.value} is {prop.signature}"


def mark_verified(app: App, prop: UrlProperty, now: float) -> None:
    prop.verified_at = now
    values = _verified_values(app, prop.kind)
    if prop.value not in values:
        values.append(prop.value)


def views(app: App) -> list[dict[str, object]]:
    """Every property of the app: those added through the control API, then the verified
    values of its settings that were never added as properties."""
    listed = [view(app, p) for p in app.url_properties]
    added = {p.property_id for p in app.url_properties}
    for kind in KINDS:
        for value in _verified_values(app, kind):
            if property_id(kind, value) not in added:
                listed.append(
                    {
                        "id": property_id(kind, value),
                        "type": kind,
                        "value": value,
                        "status": "verified",
                        "source": "settings",
                    }
                )
    return listed


def view(app: App, prop: UrlProperty) -> dict[str, object]:
    out: dict[str, object] = {
        "id": prop.property_id,
        "type": prop.kind,
        "value": prop.value,
        "status": "verified" if is_verified(app, prop.kind, prop.value) else "unverified",
        "source": "added",
        "verification_token": prop.token,
        "signature": prop.signature,
    }
    if prop.kind == URL_PREFIX_KIND:
        out["signature_file"] = prop.signature_file
        out["signature_file_url"] = signature_file_url(prop)
    else:
        out["dns_txt_record"] = {"name": prop.value, "type": "TXT", "value": prop.signature}
    return out
