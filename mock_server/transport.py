"""httpx transports that call the sandbox's ASGI app in-process: no port, no thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx
from starlette.types import ASGIApp

# httpx's ASGITransport reports this client address; the control API sees a loopback peer.
CLIENT = ("127.0.0.1", 50000)


def async_transport(app: ASGIApp) -> httpx.AsyncBaseTransport:
    return httpx.ASGITransport(app=app, raise_app_exceptions=False, client=CLIENT)


T = TypeVar("T")


class _ThreadLoop:
    """One calling thread's event loop, kept from request to request (starting a loop per
    request cost more than the request) and shared by every in-process client the thread
    uses (a loop holds file descriptors: one per client would run out of them); closed when
    the thread ends."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        if not self.loop.is_closed() and not self.loop.is_running():
            self.loop.close()

    def __del__(self) -> None:
        self.close()


_LOOPS = threading.local()


def _thread_loop() -> _ThreadLoop:
    current: _ThreadLoop | None = getattr(_LOOPS, "loop", None)
    if current is None or current.loop.is_closed():
        current = _LOOPS.loop = _ThreadLoop()
    return current


class SyncASGITransport(httpx.BaseTransport):
    """Drive the ASGI app from synchronous code on the calling thread's own event loop.

    The request body is read first, the response body is read whole before returning (as
    httpx's own ASGITransport does). Threads calling at once each run on their own loop.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._inner = async_transport(app)

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return await send_whole(self._inner, request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return _thread_loop().run(self._handle(request))
        # Called from inside a running event loop (sync code in an async test): run the
        # request on a loop of its own in a worker thread instead of nesting loops.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self._handle(request)).result()


async def send_whole(transport: httpx.AsyncBaseTransport, request: httpx.Request) -> httpx.Response:
    """Send a request whose body is already read (`request.read()` or `aread()`) and return
    the response with its body read whole, on the caller's event loop. The headers go as they
    are (a chunked request stays without Content-Length, as on the wire)."""
    forwarded = httpx.Request(
        request.method,
        request.url,
        headers=request.headers,
        stream=httpx.ByteStream(request.content),
        extensions=request.extensions,
    )
    response = await transport.handle_async_request(forwarded)
    content = await response.aread()
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        content=content,
        extensions=response.extensions,
        request=request,
    )
