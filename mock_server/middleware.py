"""The sandbox's one ASGI middleware: around each request, in this order,

1. quiet disconnects (`logs`): a client gone mid-request, or an answer an injected fault cut
   short, is one log line instead of uvicorn's traceback;
2. the control guard (`control.guard.ControlPolicy`) on `/_sandbox/...`; a refused request is
   not journaled;
3. the request journal: method, path, status, notes and the first bytes of both bodies;
4. sandbox time acting: due lifecycle steps run before the request, and, when no background
   ticker does it, due webhooks are delivered after the response.

One layer rather than four: each layer wrapped `send` again and cost a coroutine per request.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterable
from functools import partial

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.control.guard import guarded, policy_for, refuse, scope_headers
from mock_server.domain.changes import Touched
from mock_server.domain.changes import scope as changes_scope
from mock_server.domain.signed_urls import PUBLIC_MEDIA_PREFIXES
from mock_server.logs import (
    AnswerCutShort,
    ConnectionGone,
    answer_cancelled,
    answer_dropped,
    log,
    where,
)
from mock_server.routing import IndexedRouter
from mock_server.runtime.journal import REPLAY_BYTES, Recording
from mock_server.state import SandboxState

# What the journal records for a request whose client went away before the answer (nginx's
# "client closed request"; no answer was sent).
CLIENT_CLOSED_REQUEST = 499

# A response sent by Starlette's own `Response.__call__`: its start and its whole body.
_SENT_WHOLE = Response.__call__

# Where the middleware leaves the sandbox's state in the request's scope, for the endpoints.
STATE_KEY = "tiktok_sandbox.state"

# The response headers a replay compares, by their raw lower-case names.
_REPLAYED_RESPONSE_HEADERS = {
    name.encode("latin-1"): name for name in ("location", "content-range", "content-type")
}


def _journaled(scope: Scope) -> bool:
    path: str = scope["path"]
    if path.startswith("/_sandbox"):
        # Control reads and the dashboard are not the app's traffic; control changes are.
        return scope["method"] not in ("GET", "HEAD") and not path.startswith(PUBLIC_MEDIA_PREFIXES)
    return True


async def _send_or_gone(send: Send, message: Message) -> None:
    await _send_all(send, (message,))


async def _send_all(send: Send, messages: Iterable[Message]) -> None:
    """Send `messages` in order; a server that can no longer answer is ConnectionGone."""
    try:
        for message in messages:
            await send(message)
    except AnswerCutShort:
        raise
    except Exception as exc:  # the server can no longer answer on this connection
        raise ConnectionGone(str(exc) or type(exc).__name__) from exc


def _replayed_headers(headers: Iterable[tuple[bytes, bytes]], into: dict[str, str]) -> None:
    """Note the response headers a replay compares."""
    for key, value in headers:
        name = _REPLAYED_RESPONSE_HEADERS.get(key.lower())
        if name is not None:
            into[name] = value.decode("latin-1")


async def _http_exception(request: Request, exc: HTTPException) -> Response:
    """What Starlette's exception middleware answers for an HTTPException an endpoint raised:
    the app's handler for its status code (the sandbox has them for 404 and 405), else its
    detail as plain text."""
    handler = request.app.exception_handlers.get(exc.status_code)
    if handler is not None:
        answer = handler(request, exc)
        return await answer if inspect.isawaitable(answer) else answer  # type: ignore[no-any-return]
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)


class SandboxMiddleware:
    def __init__(
        self, app: ASGIApp, state: SandboxState, router: IndexedRouter | None = None
    ) -> None:
        self.app = app
        self.router = router
        self.direct = router.direct if router is not None else {}
        self.state = state
        self.policy = policy_for(state.options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[STATE_KEY] = self.state
        try:
            if guarded(scope["path"]):
                client = scope.get("client")
                refusal = self.policy.check(
                    method=scope["method"],
                    path=scope["path"],
                    scheme=scope.get("scheme", "http"),
                    peer=client[0] if client else None,
                    headers=scope_headers(scope),
                )
                if refusal is not None:
                    await refuse(partial(_send_or_gone, send), refusal)
                    return
            if _journaled(scope):
                await self._journal(scope, receive, send)
            else:
                await self._pump(scope, receive, partial(_send_or_gone, send), keep_time=True)
        except ClientDisconnect as gone:
            detail = f" ({gone})" if str(gone) else ""  # an upload names the chunk it lost
            log.warning("tiktok-sandbox: the client disconnected during %s%s", where(scope), detail)
        except ConnectionGone as gone:
            # e.g. a malformed chunked body: the HTTP server refused it with its own 400 (and
            # its own log line) and closed the connection while the endpoint was answering.
            answer_dropped.set(True)
            log.debug("tiktok-sandbox: no answer to %s: %s", where(scope), gone)
        except AnswerCutShort as cut:
            log.warning("tiktok-sandbox: %s (%s)", cut, where(scope))
            raise
        except asyncio.CancelledError:
            answer_cancelled.set(True)
            log.warning(
                "tiktok-sandbox: %s was cancelled before its answer (%s)",
                where(scope),
                "the server stopping" if self.state.stopping else "its client gave up",
            )
            raise

    async def _pump(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        keep_time: bool = False,
        whole: Callable[[Response], Awaitable[None]] | None = None,
    ) -> None:
        """Sandbox time acts before the request; webhooks fall due after it. `keep_time`: a
        request that changes nothing itself (a control read) still answers with what time
        did, so with a data directory that is kept first. `whole`: what sends an answer a
        direct endpoint gave whole (a body in memory, nothing to run after it), in place of
        the answer's own two `send`s."""
        state = self.state
        state.tick()
        if keep_time and state.recorder is not None:
            await state.keep({})
        try:
            route = self.direct.get((scope["path"], scope["method"]))
            if route is None or scope.get("root_path"):
                await self.app(scope, receive, send)
            else:  # what Starlette's router and `request_response` do (routing.IndexedRouter)
                scope.setdefault("router", self.router)
                scope["route"] = route
                scope["endpoint"] = route.endpoint
                scope["path_params"] = {}
                request = Request(scope, receive, send)
                try:
                    response = await route.endpoint(request)
                except HTTPException as exc:  # none does; answered as the layers skipped would
                    response = await _http_exception(request, exc)
                if (
                    whole is not None
                    and type(response).__call__ is _SENT_WHOLE
                    and response.background is None
                ):
                    await whole(response)
                else:
                    await response(scope, receive, send)
        finally:
            state.release_ended()  # a cancel stops its download now, not at the next tick
            # A thread only when a delivery is due: most answers have none to send.
            if not state.background_dispatch and state.webhooks_due():
                await anyio.to_thread.run_sync(state.dispatch_webhooks)

    async def _journal(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`_pump`, with the request and its answer recorded in the journal. `send` is the
        server's own: a failure to send becomes ConnectionGone here."""
        state = self.state
        request_head = bytearray()
        request_size = 0
        response_head: bytearray | bytes = bytearray()  # bytes: a whole answer's own body
        response_headers: dict[str, str] = {}
        status = 500
        at = state.now()
        recorded = False

        def record() -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            state.journal.record(
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

        # With a data directory the answer's end, and its head when it has not left with an
        # earlier part of the body, wait for the request's commit, made once the endpoint is
        # done (an answer whose head says `Content-Length: 0` is complete when the head
        # leaves). Waiting there, not inside the endpoint's own `send`, suspends and resumes
        # this middleware's few frames rather than the whole stack of the endpoint.
        held: list[Message] = []

        async def recording_send(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                _replayed_headers(message.get("headers", []), response_headers)
                if touched is not None:
                    held.append(message)
                    return
            elif kind == "http.response.body":
                if len(response_head) <= REPLAY_BYTES:
                    assert isinstance(response_head, bytearray)  # not a whole answer
                    response_head.extend(
                        message.get("body", b"")[: REPLAY_BYTES + 1 - len(response_head)]
                    )
                if not message.get("more_body", False):
                    # Before the answer's end leaves: a client holding the answer finds the entry
                    record()
                    if touched is not None:  # and, with a data directory, finds it after a crash
                        held.append(message)
                        return
                if held:
                    await _send_or_gone(send, held.pop())
            await _send_or_gone(send, message)

        async def send_whole(response: Response) -> None:
            """`recording_send` for both messages of a whole answer, without passing each
            through it (the most common answer: a JSON body)."""
            nonlocal status, response_head
            status = response.status_code
            headers = response.raw_headers
            _replayed_headers(headers, response_headers)
            body = response.body
            response_head = bytes(body[: REPLAY_BYTES + 1])  # the body itself when it is short
            start = {"type": "http.response.start", "status": status, "headers": headers}
            end = {"type": "http.response.body", "body": body}
            record()
            if touched is not None:  # sent once the request's change is kept, as above
                held.extend((start, end))
                return
            await _send_all(send, (start, end))

        # With a data directory, what this request touches is its own (domain.changes).
        touched: Touched | None = None
        try:
            if state.recorder is None:
                await self._pump(scope, recording_receive, recording_send, whole=send_whole)
            else:
                with changes_scope() as touched:
                    await self._pump(scope, recording_receive, recording_send, whole=send_whole)
                    if held:  # the endpoint is done: its change is kept, then its answer ends
                        await state.keep(touched)
                        await _send_all(send, held)
                        held.clear()
        except (ClientDisconnect, asyncio.CancelledError) as gone:
            if isinstance(gone, asyncio.CancelledError) and state.stopping:
                # Cut by the server stopping: it answers 500 itself when no answer started
                # (`status` is still 500 then), and the entry says so.
                scope.setdefault("sandbox_notes", {}).setdefault("rule", "server_stopping")
            else:
                # The client went away (an in-process client that gives up cancels the
                # request): whatever the endpoint was about to answer, nobody received it.
                status = CLIENT_CLOSED_REQUEST
            raise
        finally:
            record()
            if touched:  # no answer went out (the commit takes them): the next commit will
                state.leave_uncommitted(touched)
