"""The state store seam: where a sandbox's state document is kept between requests.

`MemoryStore` keeps nothing (a sandbox without a data directory); `SqliteStore`
(mock_server/store/sqlite.py) keeps it in a data directory. A store shared by several workers
(a server database) would be a third implementation: see docs/design/state-store.md.
"""

from __future__ import annotations

from typing import Any, Protocol


class StoreError(Exception):
    """A data directory that cannot be used; the message is one line for the user."""


class StateStore(Protocol):
    # Whether commits are kept: False lets a sandbox skip taking the document at all.
    durable: bool

    def load(self) -> dict[str, Any] | None:
        """The last committed document, or None when the store holds none yet."""
        ...

    def commit(self, doc: dict[str, Any]) -> None:
        """Keep `doc` in place of the last one; it is durable when this returns."""
        ...

    def close(self) -> None: ...


class MemoryStore:
    """No store: the sandbox's state lives and dies with the process."""

    durable = False

    def load(self) -> dict[str, Any] | None:
        return None

    def commit(self, doc: dict[str, Any]) -> None:
        return None

    def close(self) -> None:
        return None
