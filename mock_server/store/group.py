"""Group commit for a served sandbox: the answers waiting for their commit share one.

A served sandbox answers many clients at once. Each answer still leaves only once its change is
in the data directory, but rather than one commit per answer, the changes waiting at the same
moment are written together: the records several of them touched (their app, their creator)
are encoded once, the sections compared once, and the log appended once.

Without `fsync` an append is a `write()` into the page cache: the event loop makes the commit
itself, for every answer that waits for one. The first to wait schedules it to run after the
next turn of the loop, and the answers of this turn and the next join it: under load, the
requests read while one group of answers was being made, which would otherwise make a commit
of their own (twice the answers a commit with 16 connections, about 6 % less server CPU an
answer; one client alone pays one more turn, about 2 us). There is no thread to wake and no
hand-back from one, about 3 us less server CPU an answer than a writer thread
(docs/design/state-store.md, "Cost"); the fold into SQLite, which takes longer, is left to the
ticker's thread (`StateStore.folds_on_tick`). A commit takes the answers waiting on every
event loop, not only its own (a served sandbox and an in-process client on another thread
share the World: an answer on one may show a change waiting on the other, which must be kept
first), and `close` commits whatever still waits. With `fsync` each commit waits for the disk: a
writer thread takes every change waiting while the previous one was written, so the event loop
never waits for the disk. A sandbox answering one request at a time (in process) commits
inline instead: there would be nothing to share.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import queue
import threading
from typing import TYPE_CHECKING

from mock_server.domain.changes import OPEN, Touched

if TYPE_CHECKING:
    from mock_server.state import SandboxState

log = logging.getLogger("tiktok_sandbox")

_Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]


class _Turn:
    """The answers of one turn of an event loop that wait for their commit."""

    __slots__ = ("futures", "touched")

    def __init__(self) -> None:
        self.touched: Touched = {}
        self.futures: list[asyncio.Future[None]] = []


def _resolve_on(
    loop: asyncio.AbstractEventLoop,
    futures: list[asyncio.Future[None]],
    error: BaseException | None,
) -> None:
    """Resolve `loop`'s `futures` from wherever this runs: at once on that loop's own thread,
    else through the loop."""
    try:
        here: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:  # the writer thread, or `close` on a thread with no event loop
        here = None
    if loop is here:
        _resolve(futures, error)
        return
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
        loop.call_soon_threadsafe(_resolve, futures, error)


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
        # Without fsync: the answers waiting on each event loop (a served sandbox has one; an
        # in-process client on another thread is a second), under `_lock`; `_order` keeps the
        # commits that take them in the order they took them.
        self._turns: dict[asyncio.AbstractEventLoop, _Turn] = {}
        self._order = threading.Lock()

    async def commit(self, touched: Touched) -> None:
        """Return once what `touched` holds (and everything before it) is kept."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if self.state.store.fsync:
            await self._by_writer(loop, future, touched)
            return
        with self._lock:
            if self._closed:
                raise RuntimeError("the sandbox is stopping")
            turn = self._turns.get(loop)
            if turn is None:  # the first answer to wait: the commit comes after the next turn
                turn = self._turns[loop] = _Turn()
                OPEN[id(turn)] = turn.touched  # still to be committed (store verification)
                # Scheduled from the next turn, it runs after that turn's answers too: those of
                # the requests read meanwhile, which join this commit rather than make their
                # own. In a context of its own: the request's change scope is not the commit's.
                context = contextvars.Context()
                loop.call_soon(loop.call_soon, self._commit_turn, loop, turn, context=context)
            turn.touched.update(touched)
            touched.clear()
            turn.futures.append(future)
        await future

    def _commit_turn(self, loop: asyncio.AbstractEventLoop, turn: _Turn) -> None:
        """On the event loop, after the answers of two turns: the commit of every answer
        waiting (unless another loop's commit, or `close`, has taken this turn already)."""
        with self._lock:
            if self._turns.get(loop) is not turn:
                return
        self._commit_waiting()

    def _commit_waiting(self) -> None:
        """Commit the answers waiting on every event loop, then let each go on."""
        with self._order:
            with self._lock:
                turns, self._turns = self._turns, {}
            if not turns:
                return
            touched: Touched = {}
            for turn in turns.values():
                touched.update(turn.touched)
            error = self._commit(touched)
        for loop, turn in turns.items():
            OPEN.pop(id(turn), None)
            _resolve_on(loop, turn.futures, error)

    async def _by_writer(
        self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[None], touched: Touched
    ) -> None:
        """`commit` through the writer thread (a store that waits for the disk)."""
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
            error = self._commit(touched)
            with self._lock:
                if OPEN.get(id(self)) is touched:
                    del OPEN[id(self)]
            by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
            for loop, future in waiters:
                by_loop.setdefault(loop, []).append(future)
            for loop, futures in by_loop.items():  # one wake-up per event loop
                _resolve_on(loop, futures, error)

    def _commit(self, touched: Touched) -> BaseException | None:
        """Commit `touched`; None, or the error every answer waiting for it learns (its
        change is not kept)."""
        try:
            self.state.commit(touched)
        except BaseException as exc:
            log.exception("tiktok-sandbox: writing to the data directory failed")
            return exc
        return None

    def close(self) -> None:
        """Write what waits (on any event loop, or for the writer), then stop the writer."""
        with self._lock:
            self._closed = True
            wake, self._idle = self._idle, False
            thread = self._thread
        self._commit_waiting()
        if wake:
            self._wake.put(None)
        if thread is not None:
            thread.join(10)
