"""uvicorn's server with a front door that accepts its connections: each new connection is
sniffed (a TLS ClientHello, a CONNECT, or plain HTTP), TLS is terminated with the local CA's
leaf, a CONNECT for TikTok's hosts opens a tunnel whose TLS is terminated the same way, and then
the connection goes to uvicorn's own HTTP protocol. From there on the app, the journal, faults
(dropped and truncated answers included), the ticker and the dashboard behave exactly as over
plain HTTP. Nothing is ever forwarded: a CONNECT to any other host is refused.

    server = build_server(app, FrontDoor(https=True, proxy=True), log_level="warning")
    server.run(sockets=[sock])
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from mock_server.frontdoor.ca import LocalCA
from mock_server.frontdoor.door import FrontDoor, log, peer
from mock_server.frontdoor.policy import NOT_A_PROXY, PlainRequestPolicy
from mock_server.frontdoor.proxy import (
    TUNNEL_OPEN,
    BadProxyRequest,
    parse_connect,
    refusal_response,
)
from mock_server.frontdoor.sniff import HeadTooLarge, Kind, read_head, sniff
from mock_server.frontdoor.tls import server_context

FIRST_BYTES_TIMEOUT = 30.0  # seconds a new connection may stay silent before it is closed
HANDSHAKE_TIMEOUT = 30.0
MAX_CONNECT_HEAD = 16 * 1024
ACCEPT_RETRY = 1.0  # after a failed accept (out of file descriptors), as asyncio's own server

# TLS alerts a client sends when it does not trust the certificate it was shown.
_DISTRUST = ("UNKNOWN_CA", "BAD_CERTIFICATE", "CERTIFICATE_UNKNOWN", "UNSUPPORTED_CERTIFICATE")
TRUST_HINT = "`tiktok-sandbox ca` prints how to trust the sandbox's CA"


def build_server(
    app: ASGIApp, door: FrontDoor, *, stopping: Callable[[], None] | None = None, **config: Any
) -> uvicorn.Server:
    """A uvicorn server for `app` whose port speaks what `door` says; plain uvicorn when the
    door is plain HTTP only. `config` goes to uvicorn.Config. `stopping` is called when the
    server begins to stop, before it cuts the requests still running."""
    if door.plain_only:
        return StoppingServer(uvicorn.Config(app, **config), stopping)
    tls = server_context(LocalCA.load_or_create())
    # h11, whatever else is installed: absolute-form targets must reach PlainRequestPolicy.
    wrapped = PlainRequestPolicy(app, door)
    return FrontDoorServer(
        uvicorn.Config(wrapped, **{**config, "http": "h11"}), door, tls, stopping
    )


class StoppingServer(uvicorn.Server):
    """uvicorn's server, telling the sandbox when it begins to stop: a request it then cancels
    (past the graceful shutdown's time) was cut by the server, not given up by its client."""

    def __init__(self, config: uvicorn.Config, stopping: Callable[[], None] | None) -> None:
        super().__init__(config)
        self._stopping = stopping

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._stopping is not None:
            self._stopping()
        await super().shutdown(sockets=sockets)


class FrontDoorServer(StoppingServer):
    def __init__(
        self,
        config: uvicorn.Config,
        door: FrontDoor,
        tls: ssl.SSLContext,
        stopping: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(config, stopping)
        self.door = door
        self.tls = tls
        self._accepting: list[asyncio.Task[None]] = []
        self._opening: set[asyncio.Task[None]] = set()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # uvicorn listens on nothing itself: the door does
        for sock in sockets or []:
            sock.setblocking(False)
            self._accepting.append(asyncio.create_task(self._accept(sock)))

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        pending = [*self._accepting, *self._opening]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await super().shutdown(sockets=sockets)

    async def _accept(self, listening: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        failing = False
        while True:
            try:
                conn, address = await loop.sock_accept(listening)
            except OSError as exc:
                if not failing:  # one line per run of failures, not one per retry
                    log.error("tiktok-sandbox: cannot accept a connection: %s", exc)
                failing = True
                await asyncio.sleep(ACCEPT_RETRY)
                continue
            failing = False
            task = asyncio.create_task(self._open(conn, peer(address)))
            self._opening.add(task)
            task.add_done_callback(self._opening.discard)

    def _protocol(self) -> asyncio.Protocol:
        return H11Protocol(
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state
        )

    async def _open(self, conn: socket.socket, client: str) -> None:
        """Sniff a new connection and hand it to TLS, the tunnel or plain HTTP."""
        handed = False
        try:
            kind = await sniff(conn, FIRST_BYTES_TIMEOUT)
            if kind is Kind.TLS:
                handed = await self._tls(conn, client, "")
            elif kind is Kind.CONNECT:
                handed = await self._tunnel(conn, client)
            elif kind is not Kind.CLOSED:  # plain HTTP; PlainRequestPolicy says what it may do
                loop = asyncio.get_running_loop()
                await loop.connect_accepted_socket(self._protocol, conn)
                handed = True
        except TimeoutError:
            log.debug("tiktok-sandbox: %s sent nothing; connection closed", client)
        except (OSError, EOFError) as exc:
            log.info("tiktok-sandbox: connection from %s lost before any request: %s", client, exc)
        finally:
            if not handed:
                _close(conn)

    async def _tls(self, conn: socket.socket, client: str, through: str) -> bool:
        """Terminate TLS on `conn` and serve HTTP inside; False (logged) when that failed."""
        loop = asyncio.get_running_loop()
        try:
            await loop.connect_accepted_socket(
                self._protocol, conn, ssl=self.tls, ssl_handshake_timeout=HANDSHAKE_TIMEOUT
            )
        except (OSError, TimeoutError, EOFError) as exc:
            log.warning(
                "tiktok-sandbox: TLS handshake with %s%s failed: %s", client, through, _why(exc)
            )
            return False
        return True

    async def _tunnel(self, conn: socket.socket, client: str) -> bool:
        """Answer a CONNECT: refuse it on a port that is not a proxy and for any target the
        sandbox does not emulate, else open the tunnel and terminate the TLS started in it."""
        loop = asyncio.get_running_loop()
        try:
            head = await read_head(conn, MAX_CONNECT_HEAD, FIRST_BYTES_TIMEOUT)
            target = parse_connect(head)
        except (BadProxyRequest, HeadTooLarge) as exc:
            reason = str(exc) or f"the request head is over {MAX_CONNECT_HEAD} bytes"
            log.warning("tiktok-sandbox: malformed CONNECT from %s refused: %s", client, reason)
            await loop.sock_sendall(
                conn, refusal_response(400, f"tiktok-sandbox: malformed CONNECT: {reason}")
            )
            return False
        if not self.door.proxy:
            log.warning("tiktok-sandbox: CONNECT %s from %s refused: not a proxy", target, client)
            await loop.sock_sendall(conn, refusal_response(400, NOT_A_PROXY))
            return False
        refusal = target.refusal()
        if refusal is not None:
            log.warning("tiktok-sandbox: CONNECT %s from %s refused (403)", target, client)
            await loop.sock_sendall(conn, refusal_response(403, refusal))
            return False
        await loop.sock_sendall(conn, TUNNEL_OPEN)
        inside = await sniff(conn, FIRST_BYTES_TIMEOUT)
        if inside is not Kind.TLS:
            if inside is not Kind.CLOSED:
                log.warning(
                    "tiktok-sandbox: %s opened a tunnel to %s but did not start TLS in it; "
                    "closed (TikTok's hosts speak HTTPS only)",
                    client,
                    target,
                )
            return False
        return await self._tls(conn, client, f" (tunnel to {target})")


def _close(conn: socket.socket) -> None:
    """Close a connection the front door refused: first discard what the client already sent
    (a bounded amount), so the close is a clean end of stream, not a reset that could destroy
    the refusal on its way to the client."""
    try:
        for _ in range(16):
            if not conn.recv(65536):
                break
    except OSError:  # nothing more to read now (BlockingIOError), or the client is gone
        pass
    conn.close()


def _why(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or exc.__class__.__name__
        if any(alert in reason for alert in _DISTRUST):
            return f"{reason}: the client does not trust the sandbox's certificate; {TRUST_HINT}"
        return f"{reason}: the client's TLS was refused"
    if isinstance(exc, TimeoutError):
        return f"no handshake within {HANDSHAKE_TIMEOUT:.0f} s"
    # A client that rejects the certificate often just hangs up.
    detail = str(exc) or exc.__class__.__name__
    return f"the client hung up ({detail}); if it did not trust the certificate, {TRUST_HINT}"
