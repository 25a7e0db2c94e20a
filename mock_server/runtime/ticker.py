"""A background ticker for a served sandbox: lets sandbox time act with no request coming in.

Due lifecycle steps run and due webhooks are delivered every `interval` seconds of real time.
In-process sandboxes have no ticker: each request (or `Sandbox.pump()`) does the same work.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from mock_server.runtime import memory

if TYPE_CHECKING:
    from mock_server.state import SandboxState

log = logging.getLogger("tiktok_sandbox")

# How often (in real seconds) a served sandbox returns free heap memory to the system, besides
# at its first tick (after a resumed data directory or an imported snapshot was decoded) and
# within a second of a reset replacing its World (every record freed at once). Not more often:
# memory freed by the requests of the moment is taken again within seconds, and giving it back
# only to fault it in again cost page faults and made RSS swing by 4-6 MiB every cycle without
# lowering its peaks (docs/performance.md, "Memory over time").
GIVE_BACK_EVERY_SECONDS = 3600.0
# How often a data directory's commit log is folded into its database (store.sqlite): what
# changed since is written once per row however often it changed, so a fold every few seconds
# writes a busy server's rate-limit keys and journal entries a fraction as often as one a
# second. A restart replays at most this long of commits (and at most sqlite.FOLD_BYTES).
CHECKPOINT_EVERY_SECONDS = 5.0


class Ticker:
    def __init__(self, state: SandboxState, interval: float = 0.1) -> None:
        self.state = state
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tiktok-sandbox-ticker", daemon=True)

    def __enter__(self) -> Ticker:
        self.state.background_dispatch = True
        self.state.store.folds_on_tick = True
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.state.background_dispatch = False
        self.state.store.folds_on_tick = False

    def _run(self) -> None:
        ticks = 0
        every_second = max(1, round(1.0 / self.interval))
        world = None  # the first tick gives back what starting up freed
        given_back_at = time.monotonic()
        checkpoint_every = max(1, round(CHECKPOINT_EVERY_SECONDS / self.interval))
        while not self._stop.wait(self.interval):
            try:
                self.state.pump(background=True)
            except Exception:  # a failing tick must not stop later ones
                log.exception("tiktok-sandbox: background tick failed")
            ticks += 1
            if ticks % checkpoint_every == 0 or self.state.store.checkpoint_due():
                try:
                    self.state.store.checkpoint()
                except Exception:
                    log.exception("tiktok-sandbox: data directory checkpoint failed")
            # Looked at once a second: a suite resetting many times a second gives memory back
            # once a second, and the checkpoints above keep their own count.
            if (ticks - 1) % every_second == 0:  # the first tick, then once a second
                now = time.monotonic()
                if self.state.world is not world or now - given_back_at >= GIVE_BACK_EVERY_SECONDS:
                    world, given_back_at = self.state.world, now
                    memory.give_back()  # a server left running for days keeps its memory flat
