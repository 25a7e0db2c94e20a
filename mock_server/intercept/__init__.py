"""Interception: unmodified code calling TikTok's hosts reaches an in-process sandbox.

with sandbox.intercept():                        # or @sandbox.intercept() on a function
    requests.post("https://open.tiktokapis.com/v2/oauth/token/", data=form)   # the sandbox
    httpx.get("http://127.0.0.1:5000/health")     # any other host: untouched (or refused)

Calls made through httpx (sync and async) and requests to TikTok's hosts are answered by the
sandbox's ASGI app in the calling thread: async httpx awaits the app on the caller's event
loop, sync calls run it on a private loop (a worker thread only when sync code runs inside a
running event loop). No port is opened. respx (httpx) and responses (requests) do the patching
of the HTTP libraries; the user's modules are never touched. Both come with the `pytest` extra.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Protocol, TypeVar, cast
from urllib.parse import urlsplit

import httpx
from starlette.types import ASGIApp

from mock_server.domain.hosts import TIKTOK_HOSTS
from mock_server.transport import SyncASGITransport, async_transport, send_whole

EXTRA = "tiktok-sandbox[pytest]"

OtherHosts = Literal["passthrough", "refuse"]
OTHER_HOSTS: tuple[OtherHosts, ...] = ("passthrough", "refuse")
_DEFAULT_PORTS = {"http": 80, "https": 443}

F = TypeVar("F", bound=Callable[..., Any])


class HostRefused(AssertionError):
    """A request to a host the sandbox does not answer, under `other_hosts="refuse"`."""


@dataclass(frozen=True)
class HostSet:
    """Which requests go to the sandbox: host names on any port, or exact host and port."""

    names: frozenset[str]
    addresses: frozenset[tuple[str, int]]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> HostSet:
        """Entries are `host` (any port), `host:port` or a base URL (its host and port)."""
        names: set[str] = set()
        addresses: set[tuple[str, int]] = set()
        for entry in entries:
            split = urlsplit(entry if "://" in entry else f"//{entry}")
            try:
                port = split.port
            except ValueError as exc:
                raise ValueError(f"hosts: {entry!r} has an invalid port") from exc
            if not split.hostname:
                raise ValueError(f"hosts: expected a host, host:port or URL, got {entry!r}")
            if port is None and split.scheme:
                port = _DEFAULT_PORTS.get(split.scheme)
            if port is None:
                names.add(split.hostname)
            else:
                addresses.add((split.hostname, port))
        return cls(frozenset(names), frozenset(addresses))

    def __contains__(self, url: object) -> bool:
        split = urlsplit(str(url))
        host = (split.hostname or "").rstrip(".")
        if host in self.names:
            return True
        port = split.port or _DEFAULT_PORTS.get(split.scheme)
        return port is not None and (host, port) in self.addresses

    def describe(self) -> str:
        shown = sorted(self.names) + sorted(f"{h}:{p}" for h, p in self.addresses)
        return ", ".join(shown)


class _Hook(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


_active_lock = threading.Lock()
_active: Interceptor | None = None


class Interceptor:
    """Routes httpx and requests calls for `hosts` to an ASGI app while active.

    A context manager, and a decorator for sync and async functions. One interception is
    active at a time in a process (the HTTP libraries are patched process-wide).
    """

    def __init__(
        self,
        app: ASGIApp,
        hosts: Iterable[str] = TIKTOK_HOSTS,
        *,
        other_hosts: OtherHosts = "passthrough",
    ) -> None:
        if other_hosts not in OTHER_HOSTS:
            raise ValueError(
                f"other_hosts: expected 'passthrough' or 'refuse', got {other_hosts!r}"
            )
        self.app = app
        self.hosts = HostSet.parse(hosts)
        self.other_hosts: OtherHosts = other_hosts
        self._hooks: list[_Hook] = []

    # -- what the hooks share ----------------------------------------------------------------

    def claims(self, url: object) -> bool:
        """Whether a request to `url` goes to the sandbox."""
        return url in self.hosts

    def refusal(self, method: str, url: str) -> HostRefused:
        return HostRefused(
            f"tiktok-sandbox refused {method} {url}: this interception sends "
            f"{self.hosts.describe()} to the sandbox and refuses every other host "
            "(other_hosts='refuse'). Use intercept(other_hosts='passthrough') to let other "
            "hosts through, or intercept(hosts=[...]) to send this one to the sandbox too."
        )

    def send(self, request: httpx.Request) -> httpx.Response:
        """Answer from the sandbox, from synchronous code."""
        return SyncASGITransport(self.app).handle_request(request)

    async def send_async(self, request: httpx.Request) -> httpx.Response:
        """Answer from the sandbox, awaited on the caller's event loop."""
        await request.aread()
        return await send_whole(async_transport(self.app), request)

    # -- activation ----------------------------------------------------------------------------

    def __enter__(self) -> Interceptor:
        global _active
        httpx_hook, requests_hook = _load_hooks()
        with _active_lock:
            if _active is not None:
                raise RuntimeError(
                    "another sandbox interception is already active; leave it before starting "
                    "this one (TikTok's hosts can be routed to one sandbox at a time)"
                )
            hooks: list[_Hook] = [httpx_hook(self), requests_hook(self)]
            started: list[_Hook] = []
            try:
                for hook in hooks:
                    hook.start()
                    started.append(hook)
            except BaseException:
                for hook in reversed(started):
                    hook.stop()
                raise
            self._hooks = started
            _active = self
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        global _active
        with _active_lock:
            for hook in reversed(self._hooks):
                hook.stop()
            self._hooks = []
            if _active is self:
                _active = None

    def __call__(self, func: F) -> F:
        """Decorate a function (sync or async) so it runs under this interception."""
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await func(*args, **kwargs)

            return cast(F, run_async)

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return cast(F, run)


def _load_hooks() -> tuple[Callable[[Interceptor], _Hook], Callable[[Interceptor], _Hook]]:
    """The httpx and requests hooks; a clear ImportError when the extra is not installed."""
    try:
        from mock_server.intercept.httpx_hook import HttpxHook
        from mock_server.intercept.requests_hook import RequestsHook
    except ImportError as exc:
        missing = exc.name or "respx or responses"
        raise ImportError(
            f"Sandbox.intercept() needs respx and responses ({missing} is missing): install "
            f"the extra with pip install '{EXTRA}'"
        ) from exc
    return HttpxHook, RequestsHook
