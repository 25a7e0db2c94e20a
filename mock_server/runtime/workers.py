"""A pool of worker threads shared fairly between keys (apps), for work that waits on peers.

Webhook deliveries and PULL_FROM_URL downloads wait on servers the sandbox does not control. One
app's receiver that hangs, or media server that stalls, must only hold up that app: each key runs
at most `per_key` jobs at once, and idle workers serve keys in turn. The threads are daemons, so
a stalled peer never keeps the process from exiting; `close()` drops what has not started.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable

Job = Callable[[], None]
log = logging.getLogger("tiktok_sandbox")


class FairPool:
    def __init__(self, workers: int, per_key: int, name: str) -> None:
        self.workers = workers
        self.per_key = per_key
        self.name = name
        self._cond = threading.Condition()
        self._queues: dict[Hashable, deque[Job]] = {}
        self._turns: deque[Hashable] = deque()  # keys with queued jobs, in serving order
        self._running: dict[Hashable, int] = {}
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._queued = 0
        self._closed = False

    def submit(self, key: Hashable, job: Job) -> None:
        with self._cond:
            if self._closed:
                return
            queue = self._queues.get(key)
            if queue is None:
                queue = self._queues[key] = deque()
                self._turns.append(key)
            queue.append(job)
            self._queued += 1
            # One idle worker per queued job: a burst of submits must not all count on the same
            # sleeper (a job left without a worker would wait behind another key's stall).
            if self._queued > self._idle and len(self._threads) < self.workers:
                thread = threading.Thread(
                    target=self._work, name=f"{self.name}-{len(self._threads) + 1}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            self._cond.notify()

    @property
    def pending(self) -> int:
        """Jobs queued or running."""
        with self._cond:
            return self._queued + sum(self._running.values())

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no job is queued or running; False when `timeout` ran out first."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._queues and not any(self._running.values()), timeout
            )

    def close(self) -> None:
        """Start nothing more; jobs already running finish (or are abandoned at exit)."""
        with self._cond:
            self._closed = True
            self._queues.clear()
            self._turns.clear()
            self._queued = 0
            self._cond.notify_all()

    def _next(self) -> tuple[Hashable, Job] | None:
        """The first key in turn that has a job and room to run it; it goes to the back."""
        for _ in range(len(self._turns)):
            key = self._turns[0]
            self._turns.rotate(-1)
            if self._running.get(key, 0) < self.per_key:
                queue = self._queues[key]
                job = queue.popleft()
                self._queued -= 1
                if not queue:
                    del self._queues[key]
                    self._turns.remove(key)
                return key, job
        return None

    def _work(self) -> None:
        while True:
            with self._cond:
                picked = self._next()
                while picked is None:
                    if self._closed:
                        return
                    self._idle += 1
                    self._cond.wait()
                    self._idle -= 1
                    picked = self._next()
                key, job = picked
                self._running[key] = self._running.get(key, 0) + 1
            try:
                job()
            except Exception:  # jobs report their own failures; this is a bug, the pool lives on
                log.exception("tiktok-sandbox: a %s job failed", self.name)
            finally:
                with self._cond:
                    self._running[key] -= 1
                    if not self._running[key]:
                        del self._running[key]
                    self._cond.notify_all()
