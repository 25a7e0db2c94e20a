"""ASGI middleware: the request journal, and the loopback guard of the control API."""

from __future__ import annotations

import hmac
import ipaddress
import json
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.runtime.clock import format_instant
from mock_server.runtime.journal import REPLAY_BYTES, Exchange, JournalEntry, preview
from mock_server.state import SandboxState

# Kept whole (tokens included): the journal is a local, loopback-only record for replaying.
_KEPT_HEADERS = ("authorization", "content-type", "content-length", "content-range", "user-agent")


def _journaled(scope: Scope) -> bool:
    path: str = scope["path"]
    if path.startswith("/_sandbox"):
        # Control reads and the dashboard are not the app's traffic; control changes are.
        return scope["method"] not in ("GET", "HEAD") and not path.startswith("/_sandbox/avatars")
    return True


class JournalMiddleware:
    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _journaled(scope):
            await self.app(scope, receive, send)
            return
        request_head = bytearray()
        request_size = 0
        response_head = bytearray()
        response_headers: dict[str, str] = {}
        status = 500
        at = self.state.now()
        recorded = False

        def record() -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            exchange = Exchange(
                at=at,
                base_url=_base_url(scope),
                request_body=bytes(request_head) if request_size <= REPLAY_BYTES else None,
                response_body=bytes(response_head) if len(response_head) <= REPLAY_BYTES else None,
                response_headers=response_headers,
            )
            self._record(
                scope, exchange, status, bytes(request_head), request_size, bytes(response_head)
            )

        async def recording_receive() -> Message:
            nonlocal request_size
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                request_size += len(chunk)
                if len(request_head) <= REPLAY_BYTES:
                    request_head.extend(chunk[: REPLAY_BYTES + 1 - len(request_head)])
            return message

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for key, value in message.get("headers", []):
                    name = key.decode("latin-1").lower()
                    if name in _REPLAYED_RESPONSE_HEADERS:
                        response_headers[name] = value.decode("latin-1")
            elif message["type"] == "http.response.body" and len(response_head) <= REPLAY_BYTES:
                response_head.extend(
                    message.get("body", b"")[: REPLAY_BYTES + 1 - len(response_head)]
                )
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                # Before the answer's end leaves: a client holding the answer finds the entry.
                record()
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            record()

    def _record(
        self,
        scope: Scope,
        exchange: Exchange,
        status: int,
        request_body: bytes,
        request_size: int,
        response_body: bytes,
    ) -> None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        kept = {k: headers[k] for k in _KEPT_HEADERS if k in headers}
        notes: dict[str, Any] = scope.get("sandbox_notes", {})
        error_code = notes.get("error_code")
        if error_code is None:
            error_code = _code_from_body(response_body)
        self.state.journal.add(
            JournalEntry(
                seq=self.state.journal.next_seq(),
                time=format_instant(exchange.at),
                method=scope["method"],
                path=scope["path"],
                query=scope.get("query_string", b"").decode("latin-1"),
                status=status,
                client_key=notes.get("client_key"),
                creator=notes.get("creator"),
                error_code=error_code,
                rule=notes.get("rule"),
                fault=notes.get("fault"),
                request_headers=kept,
                request_body=preview(request_body, request_size),
                response_body=preview(response_body),
                request_bytes=request_size,
                exchange=exchange,
            )
        )


_REPLAYED_RESPONSE_HEADERS = ("location", "content-range", "content-type")


def _base_url(scope: Scope) -> str:
    headers = dict(scope["headers"])
    host = headers.get(b"host", b"").decode("latin-1")
    if not host and scope.get("server"):
        server_host, server_port = scope["server"]
        host = f"{server_host}:{server_port}"
    return f"{scope.get('scheme', 'http')}://{host}"


def _code_from_body(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            return error.get("code")
        if isinstance(error, str):
            return error
    return None


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class ControlGuard:
    """`/_sandbox/` answers loopback clients; others only with the configured admin token."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith("/_sandbox")
            and not (scope["path"].startswith("/_sandbox/avatars/") or self._allowed(scope))
        ):
            body = json.dumps(
                {
                    "error": {
                        "code": "forbidden",
                        "message": "the control API answers loopback clients only, or "
                        "requests carrying the admin token (X-Sandbox-Admin-Token)",
                    }
                }
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        client = scope.get("client")
        if is_loopback(client[0] if client else None):
            return True
        token = self.state.options.admin_token
        if not token:
            return False
        headers = dict(scope["headers"])
        given = headers.get(b"x-sandbox-admin-token", b"").decode("latin-1")
        return hmac.compare_digest(given.encode("latin-1"), token.encode("utf-8"))


class PumpMiddleware:
    """Lets sandbox time act before each request (due lifecycle steps run first), and, when
    no background ticker does it, delivers due webhooks after each response."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.state.tick()
        try:
            await self.app(scope, receive, send)
        finally:
            if not self.state.background_dispatch:
                await anyio.to_thread.run_sync(self.state.dispatch_webhooks)
