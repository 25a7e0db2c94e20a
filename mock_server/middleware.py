"""ASGI middleware: the request journal, and sandbox time acting around each request."""

from __future__ import annotations

import json
from typing import Any

import anyio.to_thread
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.domain.signed_urls import PUBLIC_MEDIA_PREFIXES
from mock_server.runtime.clock import format_instant
from mock_server.runtime.journal import REPLAY_BYTES, Exchange, JournalEntry, preview
from mock_server.state import SandboxState

# What the journal records for a request whose client went away before the answer (nginx's
# "client closed request"; no answer was sent).
CLIENT_CLOSED_REQUEST = 499

# Kept whole (tokens included): the journal is a local, loopback-only record for replaying.
# Origin, Referer and Sec-Fetch-* say whether a browser sent the request (the audit's
# "token endpoint called from front-end code").
_KEPT_HEADERS = (
    "authorization",
    "content-type",
    "content-length",
    "content-range",
    "user-agent",
    "origin",
    "referer",
    "sec-fetch-site",
    "sec-fetch-mode",
)


def _journaled(scope: Scope) -> bool:
    path: str = scope["path"]
    if path.startswith("/_sandbox"):
        # Control reads and the dashboard are not the app's traffic; control changes are.
        return scope["method"] not in ("GET", "HEAD") and not path.startswith(PUBLIC_MEDIA_PREFIXES)
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
        except ClientDisconnect:
            status = CLIENT_CLOSED_REQUEST
            raise
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
                media=notes.get("media"),
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
            self.state.release_ended()  # a cancel stops its download now, not at the next tick
            if not self.state.background_dispatch:
                await anyio.to_thread.run_sync(self.state.dispatch_webhooks)
