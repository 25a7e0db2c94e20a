"""Which records of a World a change touched, so a data directory writes only those.

A World kept in a data directory has its collections (apps, creators, tokens, publishes, ...)
as `TrackedDict`s: every record handed out by key, stored or removed is noted as touched, under
the change (a request, a background job) it was done for. Noting what is *handed out*, not only
what is assigned, over-approximates on purpose: a record read and then changed in place (a
publish moving on, a token revoked) is caught without the code that changes it knowing about
the store. What a change reaches by other ways (iterating a collection, an index of its own)
it notes with `touch`. A World in memory has plain dicts and pays nothing.

Each change has its own set (`scope`), taken when that change is committed: a request that
looks a publish up, waits for a chunk to reach the disk and only then changes the publish is
still written by its own commit, even if other requests committed in between. Changes made
outside any scope (the ticker, the Python API) go to the World's `Changes.loose`, which every
commit takes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

K = TypeVar("K")
V = TypeVar("V")

# (collection, key) -> None, in the order first touched (a dict: new records keep their order):
# e.g. ("publishes", "v_pub_file~v2-1.7...")
Touched = dict[tuple[str, Any], None]

_SCOPE: ContextVar[Touched | None] = ContextVar("tiktok_sandbox_touched", default=None)

# The World's collections kept one row per record.
COLLECTIONS = (
    "apps",
    "creators",
    "codes",
    "grants",
    "access_tokens",
    "refresh_tokens",
    "client_tokens",
    "publishes",
    "uploads",
)


class Changes:
    """The touched records of one World that no change scope claimed."""

    __slots__ = ("loose",)

    def __init__(self) -> None:
        self.loose: Touched = {}

    def take_loose(self) -> Touched:
        loose, self.loose = self.loose, {}
        return loose


def _touched(changes: Changes) -> Touched:
    scope = _SCOPE.get()
    return changes.loose if scope is None else scope


class TrackedDict(dict[K, V]):
    """A dict that notes every key it hands out, stores or removes (see the module doc)."""

    __slots__ = ("_changes", "_kind")

    def __init__(self, kind: str, changes: Changes, items: dict[K, V]) -> None:
        super().__init__(items)
        self._kind = kind
        self._changes = changes

    def __getitem__(self, key: K) -> V:
        value = dict.__getitem__(self, key)
        _touched(self._changes)[self._kind, key] = None
        return value

    def get(self, key: K, default: Any = None) -> Any:
        value = dict.get(self, key, default)
        if value is not default:
            _touched(self._changes)[self._kind, key] = None
        return value

    def __setitem__(self, key: K, value: V) -> None:
        dict.__setitem__(self, key, value)
        _touched(self._changes)[self._kind, key] = None

    def __delitem__(self, key: K) -> None:
        dict.__delitem__(self, key)
        _touched(self._changes)[self._kind, key] = None

    def pop(self, key: K, *default: Any) -> Any:
        value = dict.pop(self, key, *default)
        _touched(self._changes)[self._kind, key] = None
        return value

    def setdefault(self, key: K, default: Any = None) -> Any:
        value = dict.setdefault(self, key, default)
        _touched(self._changes)[self._kind, key] = None
        return value

    def popitem(self) -> tuple[K, V]:
        key, value = dict.popitem(self)
        _touched(self._changes)[self._kind, key] = None
        return key, value

    def clear(self) -> None:
        touched = _touched(self._changes)
        touched.update(dict.fromkeys((self._kind, key) for key in self))
        dict.clear(self)

    def update(self, *args: Any, **kwargs: Any) -> None:
        other = dict(*args, **kwargs)
        dict.update(self, other)
        _touched(self._changes).update(dict.fromkeys((self._kind, key) for key in other))


def touch(changes: Changes | None, kind: str, key: Any) -> None:
    """Note a record changed by a way its collection cannot see (no-op for a World in memory)."""
    if changes is not None:
        _touched(changes)[kind, key] = None


# The scopes open now, by id: what other changes still hold uncommitted (store verification).
_OPEN: dict[int, Touched] = {}


@contextmanager
def scope() -> Iterator[Touched]:
    """A change of its own (a request, a background job): what it touches, until committed."""
    touched: Touched = {}
    token = _SCOPE.set(touched)
    _OPEN[id(touched)] = touched
    try:
        yield touched
    finally:
        _OPEN.pop(id(touched), None)
        _SCOPE.reset(token)


def uncommitted() -> set[tuple[str, Any]]:
    """What the changes under way have touched and not committed yet."""
    return {key for touched in list(_OPEN.values()) for key in list(touched)}
