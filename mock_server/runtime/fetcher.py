"""The PULL_FROM_URL fetcher seam: how the sandbox downloads media it was told to pull.

`HttpxFetcher` really downloads (no redirects, a timeout, a size cap). Tests can pass another
implementation, e.g. `StaticFetcher`, that serves bytes from memory.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

from mock_server.domain.redirects import is_loopback_host


class FetchError(Exception):
    """Why a pull failed: becomes `video_pull_failed` / `photo_pull_failed` (ref 10.4)."""


class TooLarge(FetchError):
    """The media is over the size TikTok accepts: a media check failure, not a pull failure."""


Progress = Callable[[int], None]


class UrlFetcher(Protocol):
    def fetch(self, url: str, dest: BinaryIO, max_bytes: int, progress: Progress) -> int:
        """Stream `url` into `dest`; return the byte count or raise FetchError.

        `progress(received)` may raise to stop the download (the publish was cancelled). A
        fetcher that can interrupt a read blocked on a silent server registers how with
        `progress.on_abort(callback)` when the sandbox's progress object has that attribute.
        """
        ...


def loopback_only_default() -> bool:
    """`TIKTOK_SANDBOX_LOOPBACK_ONLY=1` keeps every outgoing request on this machine (tests)."""
    return os.environ.get("TIKTOK_SANDBOX_LOOPBACK_ONLY") == "1"


def refuse_unless_loopback(url: str, loopback_only: bool) -> None:
    host = urlsplit(url).hostname or ""
    if loopback_only and not is_loopback_host(host):
        raise FetchError(f"{url}: only loopback hosts are reached (TIKTOK_SANDBOX_LOOPBACK_ONLY)")


class HttpxFetcher:
    """ref 10.4: a GET that must answer 200 with the media; any 3xx is a failure (no
    redirects), and so is any other status."""

    def __init__(self, timeout_seconds: float = 60.0, loopback_only: bool | None = None) -> None:
        self.timeout_seconds = timeout_seconds
        self.loopback_only = loopback_only_default() if loopback_only is None else loopback_only

    def fetch(self, url: str, dest: BinaryIO, max_bytes: int, progress: Progress) -> int:
        import httpx  # when a URL is first fetched, not at start-up

        refuse_unless_loopback(url, self.loopback_only)
        timeout = httpx.Timeout(self.timeout_seconds, connect=10.0)
        received = 0
        on_abort = getattr(progress, "on_abort", None)
        try:
            with (
                httpx.Client(follow_redirects=False, timeout=timeout) as client,
                client.stream(
                    "GET", url, extensions={"trace": _interruptible(on_abort)}
                ) as response,
            ):
                if 300 <= response.status_code < 400:
                    raise FetchError(f"{url} answered {response.status_code}: redirects fail")
                if response.status_code != 200:
                    raise FetchError(f"{url} answered HTTP {response.status_code}")
                for piece in response.iter_bytes(256 * 1024):
                    received += len(piece)
                    if received > max_bytes:
                        raise TooLarge(f"{url} is larger than {max_bytes} bytes")
                    dest.write(piece)
                    progress(received)
        except httpx.HTTPError as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
        return received


def _interruptible(
    on_abort: Callable[[Callable[[], None]], None] | None,
) -> Callable[[str, dict[str, object]], None]:
    """An httpcore trace hook that, once the TCP connection exists, registers with `on_abort`
    a way to cut it: shutting the socket down wakes a read blocked on a server that stalls."""

    def trace(event: str, info: dict[str, object]) -> None:
        # The TCP socket, and for https the TLS socket that takes it over (starting TLS
        # detaches the plain one, so only the new one can still be shut down).
        if on_abort is None or not event.endswith(("connect_tcp.complete", "start_tls.complete")):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None  # type: ignore[attr-defined]
        if isinstance(sock, socket.socket):
            on_abort(lambda: sock.shutdown(socket.SHUT_RDWR))

    return trace


class StaticFetcher:
    """Serves URLs from a mapping of bytes; unknown URLs fail like a 404. For tests."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = dict(files)
        self.requested: list[str] = []

    def fetch(self, url: str, dest: BinaryIO, max_bytes: int, progress: Progress) -> int:
        self.requested.append(url)
        data = self.files.get(url)
        if data is None:
            raise FetchError(f"{url} answered HTTP 404")
        if len(data) > max_bytes:
            raise TooLarge(f"{url} is larger than {max_bytes} bytes")
        dest.write(data)
        progress(len(data))
        return len(data)
