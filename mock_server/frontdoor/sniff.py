"""What a new connection speaks, read off its first bytes without consuming them, so the
socket can then be handed whole to TLS or to the HTTP server.

    kind = await sniff(sock, timeout=30)       # Kind.TLS, Kind.CONNECT, Kind.HTTP, Kind.CLOSED
    head = await read_head(sock, limit, 30)    # consumes exactly one request head, no more
"""

from __future__ import annotations

import asyncio
import enum
import socket

TLS_HANDSHAKE = 0x16  # the first byte of every TLS record carrying a ClientHello
CONNECT = b"CONNECT "
END_OF_HEAD = b"\r\n\r\n"
# A client that sends a few bytes of "CONNECT " at a time is rare; it is waited for in steps.
_PARTIAL_STEP = 0.01
_PARTIAL_STEP_MAX = 0.5


class Kind(enum.Enum):
    TLS = "tls"
    CONNECT = "connect"
    HTTP = "http"
    CLOSED = "closed"


class HeadTooLarge(Exception):
    pass


async def readable(sock: socket.socket) -> None:
    """Wait until `sock` has data (or end of file) to read."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(sock.fileno(), wake)
    try:
        await ready
    finally:
        loop.remove_reader(sock.fileno())


def classify(first: bytes) -> Kind | None:
    """The kind of a connection from its first bytes; None while they could still be either."""
    if not first:
        return Kind.CLOSED
    if first[0] == TLS_HANDSHAKE:
        return Kind.TLS
    if first.startswith(CONNECT):
        return Kind.CONNECT
    if CONNECT.startswith(first):
        return None
    return Kind.HTTP


async def sniff(sock: socket.socket, timeout: float) -> Kind:
    """Peek at the first bytes; TimeoutError if the client says nothing for `timeout` s."""
    step = _PARTIAL_STEP
    async with asyncio.timeout(timeout):
        while True:
            await readable(sock)
            kind = classify(sock.recv(len(CONNECT), socket.MSG_PEEK))
            if kind is not None:
                return kind
            # A part of "CONNECT" came and no more yet: the socket stays readable with the same
            # bytes, so wait longer each time rather than spin until the timeout.
            await asyncio.sleep(step)
            step = min(step * 2, _PARTIAL_STEP_MAX)


async def read_head(sock: socket.socket, limit: int, timeout: float) -> bytes:
    """Consume one request head up to and including its blank line, and nothing after it (the
    bytes that follow belong to whatever the head opens). EOFError if the client leaves,
    HeadTooLarge past `limit` bytes, TimeoutError after `timeout` s."""
    head = bytearray()
    async with asyncio.timeout(timeout):
        while True:
            await readable(sock)
            peeked = sock.recv(limit + len(END_OF_HEAD), socket.MSG_PEEK)
            if not peeked:
                raise EOFError
            carried = bytes(head[-(len(END_OF_HEAD) - 1) :])
            end = (carried + peeked).find(END_OF_HEAD)
            if end >= 0:
                head += _recv_exactly(sock, end + len(END_OF_HEAD) - len(carried))
                return bytes(head)
            head += _recv_exactly(sock, len(peeked))
            if len(head) > limit:
                raise HeadTooLarge


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    # The bytes were just peeked, so they are all there to read now.
    data = sock.recv(size)
    assert len(data) == size, (len(data), size)
    return data
