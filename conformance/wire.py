"""What a real HTTP/1.1 client can send: the in-process target refuses the rest, as a socket does.

In process, requests reach the app through an ASGI transport that carries anything: a header
value with a leading space, a Content-Length the body does not match. Over a socket, httpx's
HTTP/1.1 layer (h11) refuses those before a byte leaves, so a suite that generated them would
pass in process and break against a URL. `WireCheck` puts the same h11 in front of the
in-process transport: every request is serialised as it would be on the wire, and one that
cannot be raises the error httpx raises over a socket (`httpx.LocalProtocolError`).

    transport = WireCheck(SyncASGITransport(app))
"""

from __future__ import annotations

import h11
import httpx


def check_sendable(request: httpx.Request) -> None:
    """Raise `httpx.LocalProtocolError` when HTTP/1.1 cannot carry `request` as it stands."""
    connection = h11.Connection(our_role=h11.CLIENT)
    target = request.url.raw_path or b"/"
    try:
        head = h11.Request(method=request.method, target=target, headers=request.headers.raw)
        connection.send(head)
        body = request.read()
        if body:
            connection.send(h11.Data(data=body))
        connection.send(h11.EndOfMessage())
    except h11.LocalProtocolError as exc:
        raise httpx.LocalProtocolError(
            f"{request.method} {request.url.path}: no HTTP/1.1 client can send this request "
            f"({exc})",
            request=request,
        ) from exc


class WireCheck(httpx.BaseTransport):
    """Wraps a transport: each request is first checked as h11 would put it on the wire."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check_sendable(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()
