"""Group commit for a served sandbox: the answers waiting for their commit share one.

A served sandbox answers many clients at once. Each answer still leaves only once its change is
in the data directory, but rather than one transaction per answer, a writer thread takes every
change waiting at that moment and writes them together: the records several of them touched
(their app, their creator) are encoded once, the sections compared once, and SQLite commits
once. While it writes, the next changes gather. A sandbox answering one request at a time (in
process) commits inline instead: there would be nothing to share.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import TYPE_CHECKING

from mock_server.domain.changes import OPEN, Touched

if TYPE_CHECKING:
    from mock_server.state import SandboxState

log = logging.getLogger("tiktok_sandbox")

_Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]


def _resolve(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


class GroupCommitter:
    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._ready = threading.Condition(threading.Lock())
        self._touched: Touched = {}
        self._waiters: list[_Waiter] = []
        self._closed = False
        self._idle = False  # the writer waits for work
        self._thread: threading.Thread | None = None

    async def commit(self, touched: Touched) -> None:
        """Return once what `touched` holds (and everything before it) is kept."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the sandbox is stopping")
            self._touched.update(touched)
            touched.clear()
            OPEN[id(self)] = self._touched  # still to be committed (store verification)
            self._waiters.append((loop, future))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="tiktok-sandbox-commits", daemon=True
                )
                self._thread.start()
            if self._idle:  # a writer busy writing takes this with the next batch anyway
                self._ready.notify()
        await future

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._waiters and not self._closed:
                    self._idle = True
                    self._ready.wait()
                    self._idle = False
                if not self._waiters:
                    return
                touched, self._touched = self._touched, {}
                waiters, self._waiters = self._waiters, []
            error: BaseException | None = None
            try:
                self.state.commit(touched)
            except BaseException as exc:  # every waiter learns its answer is not kept
                log.exception("tiktok-sandbox: writing to the data directory failed")
                error = exc
            with self._ready:
                if OPEN.get(id(self)) is touched:
                    del OPEN[id(self)]
            by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
            for loop, future in waiters:
                by_loop.setdefault(loop, []).append(future)
            for loop, futures in by_loop.items():  # one wake-up per event loop
                with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                    loop.call_soon_threadsafe(_resolve, futures, error)

    def close(self) -> None:
        """Write what waits, then stop the writer."""
        with self._ready:
            self._closed = True
            self._ready.notify()
            thread = self._thread
        if thread is not None:
            thread.join(10)
