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

import threading
from contextvars import ContextVar
from typing import Any, TypeVar

K = TypeVar("K")
V = TypeVar("V")

# (kind, key) -> None for a World collection's record (the recorder looks it up), or the
# object itself for kinds kept elsewhere ("outbox": the Delivery or GONE, "journal": the
# entry), in the order first touched (a dict: new records keep their order).
# e.g. ("publishes", "v_pub_file~v2-1.7..."): None
Touched = dict[tuple[str, Any], Any]

GONE = "gone"  # the value of a removed webhook delivery

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
    """The touched records of one World that no change scope claimed (threads may note them
    outside the sandbox's lock: taking them and noting one never cross)."""

    __slots__ = ("_lock", "loose")

    def __init__(self) -> None:
        self.loose: Touched = {}
        self._lock = threading.Lock()

    def note(self, key: tuple[str, Any], value: Any = None) -> None:
        scope = _SCOPE.get()
        if scope is not None:
            scope[key] = value
        else:
            with self._lock:
                self.loose[key] = value

    def note_all(self, touched: Touched) -> None:
        with self._lock:
            self.loose.update(touched)

    def take_loose(self) -> Touched:
        with self._lock:
            loose, self.loose = self.loose, {}
        return loose


class TrackedDict(dict[K, V]):
    """A dict that notes every key it hands out, stores or removes (see the module doc)."""

    __slots__ = ("_changes", "_kind")

    def __init__(self, kind: str, changes: Changes, items: dict[K, V]) -> None:
        super().__init__(items)
        self._kind = kind
        self._changes = changes

    def __getitem__(self, key: K) -> V:
        value = dict.__getitem__(self, key)
        self._changes.note((self._kind, key))
        return value

    def get(self, key: K, default: Any = None) -> Any:
        value = dict.get(self, key, default)
        if value is not default:
            self._changes.note((self._kind, key))
        return value

    def __setitem__(self, key: K, value: V) -> None:
        dict.__setitem__(self, key, value)
        self._changes.note((self._kind, key))

    def __delitem__(self, key: K) -> None:
        dict.__delitem__(self, key)
        self._changes.note((self._kind, key))

    def pop(self, key: K, *default: Any) -> Any:
        value = dict.pop(self, key, *default)
        self._changes.note((self._kind, key))
        return value

    def setdefault(self, key: K, default: Any = None) -> Any:
        value = dict.setdefault(self, key, default)
        self._changes.note((self._kind, key))
        return value

    def popitem(self) -> tuple[K, V]:
        key, value = dict.popitem(self)
        self._changes.note((self._kind, key))
        return key, value

    def clear(self) -> None:
        for key in self:
            self._changes.note((self._kind, key))
        dict.clear(self)

    def update(self, *args: Any, **kwargs: Any) -> None:
        other = dict(*args, **kwargs)
        dict.update(self, other)
        for key in other:
            self._changes.note((self._kind, key))


# A record only read: looked up without being noted (a TrackedDict's own `get` notes what it
# hands out; a plain dict, a World in memory, is the same either way). `peek(world.grants, k)`;
# `peek_item` for one that must be there (KeyError).
peek, peek_item = dict.get, dict.__getitem__


def touch(changes: Changes | None, kind: str, key: Any, value: Any = None) -> None:
    """Note a record changed by a way its collection cannot see (no-op for a World in memory)."""
    if changes is not None:
        changes.note((kind, key), value)


# The scopes open now, and changes handed to a group commit, by id: what is still to be
# committed (store verification).
OPEN: dict[int, Touched] = {}


class scope:  # lower case: used as the function it replaces, `with scope() as touched:`
    """A change of its own (a request, a background job): what it touches, until committed."""

    __slots__ = ("_token", "touched")

    def __init__(self) -> None:
        self.touched: Touched = {}

    def __enter__(self) -> Touched:
        touched = self.touched
        self._token = _SCOPE.set(touched)
        OPEN[id(touched)] = touched
        return touched

    def __exit__(self, *exc: object) -> None:
        OPEN.pop(id(self.touched), None)
        _SCOPE.reset(self._token)


def uncommitted() -> set[tuple[str, Any]]:
    """What the changes under way have touched and not committed yet."""
    return {key for touched in list(OPEN.values()) for key in list(touched)}
