"""A sandbox's state as a versioned, JSON-compatible document, and back, exactly.

The codec follows the models' type hints: a dataclass is an object of its fields, a tuple or
deque a list, a dict with other than string keys a list of pairs, bytes base64, a float JSON
cannot write (an unbounded instant) the string "inf", "-inf" or "nan". So a field added to a
model is kept without touching this module. The parts that are not dataclasses (the id
streams, seeded generators, the rate limiter) have codecs of their own here. Indexes derived
from other fields (`World._by_uid`, `World._by_open_id`) are rebuilt, never stored.
"""

from __future__ import annotations

import base64
import dataclasses
import math
import random
import types
import typing
import weakref
from collections import deque
from functools import cache
from typing import TYPE_CHECKING, Any

from mock_server import __version__
from mock_server.domain import models
from mock_server.domain.ids import IdFactory
from mock_server.domain.properties import UrlProperty
from mock_server.domain.ratelimit import SlidingWindowLimiter
from mock_server.domain.world import World
from mock_server.runtime.clock import restore, snapshot
from mock_server.runtime.journal import Journal, JournalEntry, Recording

if TYPE_CHECKING:
    from mock_server.state import SandboxState

FORMAT = "tiktok-sandbox-state"
VERSION = 1

# World fields rebuilt from the others on load.
_DERIVED = frozenset({"_by_uid", "_by_open_id"})


class StateFormatError(ValueError):
    """A document this version cannot read: another format or version, or malformed."""


# -- type-directed encoding -------------------------------------------------------------------


@cache
def _hints(cls: type) -> dict[str, Any]:
    # models.App names UrlProperty only under TYPE_CHECKING: resolve it here.
    return typing.get_type_hints(cls, localns={"UrlProperty": UrlProperty, **vars(models)})


def _fields(cls: type) -> list[tuple[str, Any]]:
    hints = _hints(cls)
    return [(f.name, hints[f.name]) for f in dataclasses.fields(cls) if f.name not in _DERIVED]


def _float_out(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def encode(value: Any, hint: Any = Any) -> Any:
    if value is None:
        return None
    special = _ENCODERS.get(type(value))
    if special is not None:
        return special(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: encode(getattr(value, name), h) for name, h in _fields(type(value))}
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return encode(value, options[0] if len(options) == 1 else Any)
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return _float_out(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        key_hint, value_hint = args if origin is dict and args else (Any, Any)
        if all(isinstance(k, str) for k in value):
            return {k: encode(v, value_hint) for k, v in value.items()}
        return [[encode(k, key_hint), encode(v, value_hint)] for k, v in value.items()]
    if isinstance(value, tuple):
        if args and not (len(args) == 2 and args[1] is Ellipsis):
            return [encode(v, h) for v, h in zip(value, args, strict=True)]
        return [encode(v, args[0] if args else Any) for v in value]
    if isinstance(value, list | deque):
        return [encode(v, args[0] if args else Any) for v in value]
    raise TypeError(f"cannot store a {type(value).__name__}")


def decode(data: Any, hint: Any) -> Any:
    if data is None:
        return None
    if hint is Any:
        return data
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) != 1:
            raise StateFormatError(f"cannot read a value of type {hint}")
        return decode(data, options[0])
    if origin is typing.Literal:
        if data not in args:
            raise StateFormatError(f"{data!r} is not one of {args}")
        return data
    special = _DECODERS.get(hint)
    if special is not None:
        return special(data)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(data, dict):
            raise StateFormatError(f"{hint.__name__}: expected an object")
        known = dict(_fields(hint))
        unknown = set(data) - set(known)
        if unknown:
            raise StateFormatError(f"{hint.__name__}: unknown fields {sorted(unknown)}")
        values = {name: decode(data[name], h) for name, h in known.items() if name in data}
        init = {f.name for f in dataclasses.fields(hint) if f.init}
        obj = hint(**{k: v for k, v in values.items() if k in init})
        for name, value in values.items():
            if name not in init:
                object.__setattr__(obj, name, value)
        return obj
    if hint is float:
        if isinstance(data, str) and data in ("inf", "-inf", "nan"):
            return float(data)
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise StateFormatError(f"expected a number, got {data!r}")
        return data
    if hint in (int, str, bool):
        if type(data) is not hint:
            raise StateFormatError(f"expected {hint.__name__}, got {data!r}")
        return data
    if hint is bytes:
        return base64.b64decode(data, validate=True)
    if origin is dict:
        key_hint, value_hint = args
        pairs = data.items() if isinstance(data, dict) else data
        return {decode(k, key_hint): decode(v, value_hint) for k, v in pairs}
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(v, args[0]) for v in data)
        if len(data) != len(args):
            raise StateFormatError(f"expected {len(args)} values, got {len(data)}")
        return tuple(decode(v, h) for v, h in zip(data, args, strict=True))
    if origin in (list, deque):
        items = [decode(v, args[0]) for v in data]
        return deque(items) if origin is deque else items
    raise StateFormatError(f"cannot read a value of type {hint}")


# -- the parts that are not dataclasses -------------------------------------------------------


def random_state(rng: random.Random) -> list[Any]:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def set_random_state(rng: random.Random, data: Any) -> None:
    try:
        version, internal, gauss = data
        rng.setstate((version, tuple(internal), gauss))
    except (TypeError, ValueError) as exc:
        raise StateFormatError(f"a random generator's state: {exc}") from exc


def _random_out(rng: random.Random) -> Any:
    return random_state(rng)


def _random_in(data: Any) -> random.Random:
    rng = random.Random()
    set_random_state(rng, data)
    return rng


def _ids_out(ids: IdFactory) -> Any:
    return {
        "seed": ids.seed,
        "secrets": ids._secrets.counter,
        "ids": random_state(ids._rng),
        "logs": random_state(ids._logs),
    }


def _ids_in(data: Any) -> IdFactory:
    ids = IdFactory(data["seed"])
    ids._secrets.counter = data["secrets"]
    set_random_state(ids._rng, data["ids"])
    set_random_state(ids._logs, data["logs"])
    return ids


def _limiter_out(limiter: SlidingWindowLimiter) -> Any:
    return {
        "window": limiter.window,
        "admitted_since_sweep": limiter._admitted_since_sweep,
        # Keys are (endpoint, token) pairs (domain.ratelimit.check_rate).
        "hits": [[list(key), list(hits)] for key, hits in limiter._hits.items()],  # type: ignore[call-overload]
    }


def _limiter_in(data: Any) -> SlidingWindowLimiter:
    limiter = SlidingWindowLimiter(data["window"])
    limiter._admitted_since_sweep = data["admitted_since_sweep"]
    limiter._hits = {tuple(key): deque(hits) for key, hits in data["hits"]}
    return limiter


_ENCODERS: dict[type, Any] = {
    random.Random: _random_out,
    IdFactory: _ids_out,
    SlidingWindowLimiter: _limiter_out,
}
_DECODERS: dict[Any, Any] = {
    random.Random: _random_in,
    IdFactory: _ids_in,
    SlidingWindowLimiter: _limiter_in,
}


# -- World ------------------------------------------------------------------------------------


def world_to_doc(world: World) -> dict[str, Any]:
    doc: dict[str, Any] = encode(world, World)
    return doc


def world_from_doc(doc: Any) -> World:
    try:
        world: World = decode(doc, World)
    except StateFormatError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StateFormatError(f"world: {type(exc).__name__}: {exc}") from exc
    for creator in world.creators.values():
        world._by_uid[creator.uid] = creator
    return world


# -- the whole sandbox ------------------------------------------------------------------------


def state_to_doc(state: SandboxState) -> dict[str, Any]:
    """Everything a restarted sandbox needs to answer as this one would. Take it under
    `state.lock`, so no request is half-way through."""
    offset, frozen_at = snapshot(state.clock)
    journal = state.journal
    with journal._lock:
        entries = list(journal._entries)
        seq, cleared = journal._seq, journal._cleared
    return {
        "format": FORMAT,
        "version": VERSION,
        "written_by": f"tiktok-sandbox {__version__}",
        "sandbox": {
            "seed": state.seed,
            "scenario": state.scenario.source,
            "generation": state._generation,
            "built_at": _float_out(state.built_at),
            "clock": {"offset": _float_out(offset), "frozen_at": encode(frozen_at)},
            "faker_random": random_state(state.faker.random),
        },
        "journal": {"seq": seq, "cleared": cleared, "entries": _journal_entries(journal, entries)},
        "world": world_to_doc(state.world),
    }


# Journal entries never change once recorded: each is encoded once (per journal), and the same
# dict is handed out again, so a store can tell by identity that its row needs no new text.
_JOURNAL_CACHE: weakref.WeakKeyDictionary[Journal, dict[int, tuple[object, Any]]] = (
    weakref.WeakKeyDictionary()
)


def _journal_entries(journal: Journal, entries: list[JournalEntry | Recording]) -> list[Any]:
    cache = _JOURNAL_CACHE.setdefault(journal, {})
    encoded: dict[int, tuple[object, Any]] = {}
    for entry in entries:
        known = cache.get(entry.seq)
        if known is None or known[0] is not entry:
            plain = entry.entry() if isinstance(entry, Recording) else entry
            known = (entry, encode(plain, JournalEntry))
        encoded[entry.seq] = known
    _JOURNAL_CACHE[journal] = encoded  # only what the journal still holds
    return [doc for _, doc in encoded.values()]


def check_format(doc: Any) -> None:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise StateFormatError("not a tiktok-sandbox state document")
    version = doc.get("version")
    if version != VERSION:
        raise StateFormatError(f"state format {version}, this tiktok-sandbox reads {VERSION}")


def restore_state(state: SandboxState, doc: Any) -> None:
    """Make `state` what `doc` describes (the scenario and seed `state` was built with stay
    what a reset goes back to). Raises StateFormatError, leaving `state` unchanged."""
    check_format(doc)
    try:
        sandbox, journal_doc = doc["sandbox"], doc["journal"]
        world = world_from_doc(doc["world"])
        generation = decode(sandbox["generation"], int)
        built_at = decode(sandbox["built_at"], float)
        clock = sandbox["clock"]
        offset = decode(clock["offset"], float)
        frozen_at = decode(clock["frozen_at"], float | None)
        faker_random = random.Random()
        set_random_state(faker_random, sandbox["faker_random"])
        entries = [decode(e, JournalEntry) for e in journal_doc["entries"]]
        seq, cleared = decode(journal_doc["seq"], int), decode(journal_doc["cleared"], bool)
    except StateFormatError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise StateFormatError(f"{type(exc).__name__}: {exc}") from exc
    with state.lock:
        # A reset builds the next World: generations keep growing across restarts.
        world.generation = state._generation = max(generation, world.generation)
        state.world = world
        state.built_at = built_at
        state.faker.random.setstate(faker_random.getstate())
        if not state._clock_given:  # a clock handed in by the caller is theirs
            restore(state.clock, (offset, frozen_at))
        # A chunk being received when the state was taken is not recorded: take it again.
        for publish in world.publishes.values():
            publish.chunk_in_flight = False
        # The workers that had deliveries queued or in flight are gone: attempt them again.
        for log in world.outbox.by_app.values():
            for delivery in log:
                delivery.queued = delivery.in_flight = False
        journal = state.journal
        with journal._lock:
            journal._entries.clear()
            journal._entries.extend(entries)
            journal._seq, journal._cleared = seq, cleared
