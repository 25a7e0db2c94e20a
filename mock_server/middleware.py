"""ASGI middleware: the request journal, and sandbox time acting around each request."""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.domain.signed_urls import PUBLIC_MEDIA_PREFIXES
from mock_server.runtime.journal import REPLAY_BYTES, Recording
from mock_server.state import SandboxState

# What the journal records for a request whose client went away before the answer (nginx's
# "client closed request"; no answer was sent).
CLIENT_CLOSED_REQUEST = 499


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
            self.state.journal.record(
                Recording(
                    at=at,
                    method=scope["method"],
                    path=scope["path"],
                    query=scope.get("query_string", b""),
                    status=status,
                    notes=scope.get("sandbox_notes", {}),
                    headers=scope["headers"],
                    request_head=bytes(request_head),
                    request_size=request_size,
                    response_head=bytes(response_head),
                    response_headers=response_headers,
                    scheme=scope.get("scheme", "http"),
                    server=scope.get("server"),
                )
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


_REPLAYED_RESPONSE_HEADERS = ("location", "content-range", "content-type")


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
            # A thread only when a delivery is due: most answers have none to send.
            if not self.state.background_dispatch and self.state.webhooks_due():
                await anyio.to_thread.run_sync(self.state.dispatch_webhooks)
