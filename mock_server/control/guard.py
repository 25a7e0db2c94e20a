"""Who may use `/_sandbox/...`: the control API and the dashboard answer local tools and the
sandbox's own pages, never another web page.

A page on another origin can reach a local server in two ways, and each has its check:
- **Cross-site requests** (a form post, a `fetch` with `text/plain`, which need no CORS
  preflight): writes must come from the sandbox's own origin (`Origin`, `Sec-Fetch-Site`) and say
  `application/json`, which a page on another origin cannot send without a preflight the sandbox
  never answers. The dashboard's buttons are forms: they carry a form token instead.
- **DNS rebinding** (the attacker's host name re-pointed at 127.0.0.1, so the page is
  "same-origin" with the sandbox): requests must name the sandbox by a loopback host, its
  public URL's host or an explicitly allowed host.

Non-loopback peers need the admin token (`X-Sandbox-Admin-Token`), which a browser cannot add to
a cross-site request either; a request carrying it skips the Host and Origin checks.
"""

from __future__ import annotations

import functools
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.types import Scope, Send

from mock_server.domain.redirects import is_loopback_host
from mock_server.domain.signed_urls import PUBLIC_MEDIA_PREFIXES
from mock_server.state import ServerOptions

# The control routes that take a form body (the dashboard's buttons and forms), each checking
# the form token.
DASHBOARD_FORM_PATHS = (
    re.compile(r"/_sandbox/publishes/[^/]+/actions"),
    re.compile(r"/_sandbox/apps/[^/]+/url_properties(/[^/]+/verify)?"),
)
FORM_TYPE = "application/x-www-form-urlencoded"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SAME_ORIGIN_FETCH = frozenset({"same-origin", "none"})
_TOP_LEVEL_DESTINATIONS = frozenset({"document", ""})


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str


def guarded(path: str) -> bool:
    """The control plane; avatars and covers are public images (TikTok serves them from a
    CDN)."""
    return path.startswith("/_sandbox") and not path.startswith(PUBLIC_MEDIA_PREFIXES)


def split_host(value: str) -> str:
    """The host of a `Host` header or URL authority, lower-cased, without port or brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    return value.rpartition(":")[0] if value.count(":") == 1 else value


def _origin_of(url: str) -> str | None:
    """`scheme://host[:port]` with default ports dropped; None when `url` has no such parts."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


class ControlPolicy:
    """The checks, as data in and a Refusal (or None) out, so tests can read them plainly."""

    def __init__(
        self,
        *,
        admin_token: str | None,
        public_base_url: str | None,
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        self.admin_token = admin_token
        self.public_origin = _origin_of(public_base_url) if public_base_url else None
        hosts = {split_host(h) for h in allowed_hosts}
        if public_base_url:
            hosts.add(split_host(urlsplit(public_base_url).netloc))
        self.allowed_hosts = frozenset(h.rstrip(".") for h in hosts if h)

    def host_allowed(self, host_header: str | None) -> bool:
        if host_header is None:
            return True  # HTTP/1.0 tools; every browser sends Host
        host = split_host(host_header).rstrip(".")
        return (
            is_loopback_host(host)
            or host.endswith(".localhost")  # browsers resolve these to loopback themselves
            or host in self.allowed_hosts
        )

    def check(
        self,
        *,
        method: str,
        path: str,
        scheme: str,
        peer: str | None,
        headers: dict[str, str],
    ) -> Refusal | None:
        admin = self._admin(headers.get("x-sandbox-admin-token"))
        if not (admin or (peer is not None and is_loopback_host(peer))):
            return Refusal(
                403,
                "forbidden",
                "the control API answers loopback clients only, or requests carrying the admin "
                "token (X-Sandbox-Admin-Token)",
            )
        if not admin:
            refusal = self._browser_checks(method, scheme, headers)
            if refusal is not None:
                return refusal
        return self._content_type(method, path, headers)

    def _admin(self, given: str | None) -> bool:
        if not self.admin_token or given is None:
            return False
        return hmac.compare_digest(given.encode("latin-1"), self.admin_token.encode("utf-8"))

    def _browser_checks(self, method: str, scheme: str, headers: dict[str, str]) -> Refusal | None:
        host = headers.get("host")
        if not self.host_allowed(host):
            return Refusal(
                403,
                "host_not_allowed",
                f"the control API does not answer under the host name {split_host(host or '')!r}: "
                "use a loopback address (127.0.0.1, localhost), the --public-url host, or start "
                "the server with --allowed-host for this name",
            )
        site = headers.get("sec-fetch-site")
        if method in _SAFE_METHODS:
            # Reading is safe from other sites except by embedding: only the sandbox's own pages
            # and top-level navigations (a link to the dashboard) are answered.
            if site is not None and site not in _SAME_ORIGIN_FETCH:
                top_level = headers.get("sec-fetch-mode") == "navigate" and (
                    headers.get("sec-fetch-dest", "") in _TOP_LEVEL_DESTINATIONS
                )
                if not top_level:
                    return _cross_origin(f"Sec-Fetch-Site: {site}")
            return None
        if site is not None and site not in _SAME_ORIGIN_FETCH:
            return _cross_origin(f"Sec-Fetch-Site: {site}")
        origin = headers.get("origin")
        if origin is not None:
            own = _origin_of(f"{scheme}://{host}") if host else None
            if _origin_of(origin) not in {own, self.public_origin} - {None}:
                return _cross_origin(f"Origin: {origin}")
        return None

    @staticmethod
    def _content_type(method: str, path: str, headers: dict[str, str]) -> Refusal | None:
        if method in _SAFE_METHODS:
            return None
        content_type = headers.get("content-type")
        if content_type is None:
            length = headers.get("content-length")
            chunked = "chunked" in headers.get("transfer-encoding", "").lower()
            if not chunked and length in (None, "0"):
                return None  # a body-less POST (curl -X POST): nothing to misread
            return _unsupported("a request body needs Content-Type: application/json")
        media = content_type.split(";", 1)[0].strip().lower()
        if media == "application/json" or (
            media.startswith("application/") and media.endswith("+json")
        ):
            return None
        if media == FORM_TYPE and any(p.fullmatch(path) for p in DASHBOARD_FORM_PATHS):
            return None  # the dashboard's forms; the handler checks their form token
        return _unsupported(f"the control API takes application/json, not {media or 'nothing'}")


def _cross_origin(what: str) -> Refusal:
    return Refusal(
        403,
        "cross_origin_request",
        f"the control API refuses requests from other web pages ({what}); call it from a local "
        "tool, a test, or the dashboard",
    )


def _unsupported(message: str) -> Refusal:
    return Refusal(415, "unsupported_media_type", message)


def scope_headers(scope: Scope) -> dict[str, str]:
    """Request headers by lower-case name; the first of repeated ones wins."""
    headers: dict[str, str] = {}
    for key, value in scope["headers"]:
        headers.setdefault(key.decode("latin-1").lower(), value.decode("latin-1"))
    return headers


@functools.lru_cache(maxsize=32)
def policy_for(options: ServerOptions) -> ControlPolicy:
    return ControlPolicy(
        admin_token=options.admin_token,
        public_base_url=options.public_base_url,
        allowed_hosts=options.allowed_hosts,
    )


async def refuse(send: Send, refusal: Refusal) -> None:
    body = json.dumps({"error": {"code": refusal.code, "message": refusal.message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": refusal.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
