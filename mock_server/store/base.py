"""The state store seam: where a sandbox's state is kept between requests.

`MemoryStore` keeps nothing (a sandbox without a data directory); `SqliteStore`
(mock_server/store/sqlite.py) keeps it in a data directory. A store shared by several workers
(a server database) would be a third implementation: see docs/design/state-store.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mock_server.store.recorder import Change


class StoreError(Exception):
    """A data directory that cannot be used; the message is one line for the user (what it
    quotes, SQLite's multi-line reports among them, is put on that line; a path's own spaces
    are kept)."""

    def __init__(self, message: str) -> None:
        lines = (line.strip() for line in message.splitlines())
        super().__init__(" ".join(line for line in lines if line))


class StateStore(Protocol):
    # Whether a commit waits for the disk (fsync): then it is made off the event loop.
    fsync: bool
    # Set while a served sandbox's ticker calls `checkpoint`: a commit then leaves what takes
    # longer (folding the log into the database) to it, rather than doing it on the answers'
    # path, which the event loop itself may be making (store.group).
    folds_on_tick: bool

    def load(self) -> dict[str, Any] | None:
        """The document the store held when opened, or None when it holds none yet."""
        ...

    def apply(self, change: Change) -> None:
        """Write the rows of `change` (store.recorder) all together; kept when this returns."""
        ...

    def checkpoint(self) -> None:
        """Housekeeping off the answers' path (a served sandbox's ticker, every few seconds)."""
        ...

    def checkpoint_due(self) -> bool:
        """Whether `checkpoint` should run at the ticker's next tick rather than when its few
        seconds are up (a commit found the log full)."""
        ...

    def close(self) -> None: ...


class MemoryStore:
    """No store: the sandbox's state lives and dies with the process."""

    fsync = False
    folds_on_tick = False

    def load(self) -> dict[str, Any] | None:
        return None

    def apply(self, change: Change) -> None:
        return None

    def checkpoint(self) -> None:
        return None

    def checkpoint_due(self) -> bool:
        return False

    def close(self) -> None:
        return None
