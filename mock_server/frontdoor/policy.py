"""What plain-HTTP requests that reach the front door may do, request by request: absolute-form
requests for TikTok's hosts are served as if sent to those hosts (proxy mode), any other host is
refused, and a TLS-only port refuses plain HTTP with a hint. Requests over TLS pass untouched.

It wraps the app outside the journal: a refusal is the front door's, not TikTok's traffic.
"""

from __future__ import annotations

from urllib.parse import unquote

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.frontdoor.door import FrontDoor, log, peer
from mock_server.frontdoor.proxy import BadProxyRequest, absolute_target

NOT_A_PROXY = (
    "tiktok-sandbox: this port is not a proxy; start the sandbox with --proxy to use it as "
    "HTTPS_PROXY for TikTok's hosts."
)
CONNECT_FIRST = (
    "tiktok-sandbox: CONNECT must be the first request on a connection to the proxy; "
    "open a new connection for it."
)


def plain_on_tls_port(scope: Scope) -> str:
    host = dict(scope["headers"]).get(b"host", b"127.0.0.1").decode("latin-1")
    return (
        "tiktok-sandbox: this port speaks HTTPS only (started with --https); "
        f"use https://{host}/ and trust the sandbox's CA (`tiktok-sandbox ca`)."
    )


class PlainRequestPolicy:
    def __init__(self, app: ASGIApp, door: FrontDoor) -> None:
        self.app = app
        self.door = door

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") == "https":
            await self.app(scope, receive, send)
            return
        try:
            served, refusal = self._decide(scope)
        except BadProxyRequest as exc:
            served, refusal = None, (400, f"tiktok-sandbox: malformed proxy request: {exc}")
        if served is not None:
            await self.app(served, receive, send)
            return
        assert refusal is not None
        status, text = refusal
        client = peer(scope.get("client"))
        log.warning(
            "%s %s from %s refused (%d): %s",
            scope["method"],
            _target(scope),
            client,
            status,
            text.removeprefix("tiktok-sandbox: "),
        )
        response = PlainTextResponse(
            text + "\n", status_code=status, headers={"connection": "close"}
        )
        await response(scope, receive, send)

    def _decide(self, scope: Scope) -> tuple[Scope | None, tuple[int, str] | None]:
        """The scope to serve, or the status and text of the refusal."""
        if scope["method"] == "CONNECT":
            return None, (400, CONNECT_FIRST if self.door.proxy else NOT_A_PROXY)
        absolute = absolute_target(scope.get("raw_path") or scope["path"].encode())
        if absolute is None:
            if self.door.serves_plain:
                return scope, None
            return None, (400, plain_on_tls_port(scope))
        if not self.door.proxy:
            return None, (400, NOT_A_PROXY)
        scheme, target, path = absolute
        default_port = 443 if scheme == "https" else 80
        refusal = target.refusal(port=default_port)
        if refusal is not None:
            return None, (403, refusal)
        # RFC 9112 3.2.2: the target's authority replaces whatever Host header came along.
        host = target.host if target.port == default_port else str(target)
        headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
        headers.append((b"host", host.encode("ascii")))
        served = dict(scope)
        served.update(
            scheme=scheme,
            raw_path=path,
            path=unquote(path.decode("latin-1")),
            headers=headers,
            server=(target.host, target.port),
        )
        return served, None


def _target(scope: Scope) -> str:
    raw = scope.get("raw_path") or scope["path"].encode()
    return repr(raw.decode("latin-1")[:100])
