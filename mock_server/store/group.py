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
import queue
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
        # What waits (`_touched`, `_waiters`) is shared under `_lock`; an idle writer sleeps on
        # `_wake` (a queue, not a Condition: waking it is one C call, on every answer's path).
        self._lock = threading.Lock()
        self._wake: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._touched: Touched = {}
        self._waiters: list[_Waiter] = []
        self._closed = False
        self._idle = False  # the writer sleeps on `_wake`, to be woken once
        self._thread: threading.Thread | None = None

    async def commit(self, touched: Touched) -> None:
        """Return once what `touched` holds (and everything before it) is kept."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
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
            wake, self._idle = self._idle, False  # a busy writer takes this next anyway
        if wake:
            self._wake.put(None)
        await future

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._waiters:
                    if self._closed:
                        return
                    self._idle = True
                    sleep = True
                else:
                    sleep = False
                    touched, self._touched = self._touched, {}
                    waiters, self._waiters = self._waiters, []
            if sleep:  # until a commit or close wakes it (once: whoever cleared `_idle`)
                self._wake.get()
                continue
            error: BaseException | None = None
            try:
                self.state.commit(touched)
            except BaseException as exc:  # every waiter learns its answer is not kept
                log.exception("tiktok-sandbox: writing to the data directory failed")
                error = exc
            with self._lock:
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
        with self._lock:
            self._closed = True
            wake, self._idle = self._idle, False
            thread = self._thread
        if wake:
            self._wake.put(None)
        if thread is not None:
            thread.join(10)
