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
import binascii
import dataclasses
import json
import math
import operator
import random
import struct
import sys
import types
import typing
from array import array
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from mock_server import __version__, fastjson
from mock_server.domain import models
from mock_server.domain.changes import COLLECTIONS
from mock_server.domain.ids import CountedRandom, IdFactory, moved
from mock_server.domain.properties import UrlProperty
from mock_server.domain.ratelimit import SlidingWindowLimiter
from mock_server.domain.webhooks import Delivery, Outbox
from mock_server.domain.world import World
from mock_server.runtime.clock import restore, snapshot
from mock_server.runtime.journal import (
    BODY_PREVIEW_BYTES,
    KEPT_HEADERS,
    REPLAY_BYTES,
    JournalEntry,
    Recording,
)

if TYPE_CHECKING:
    from mock_server.state import SandboxState

FORMAT = "tiktok-sandbox-state"
_LITTLE_ENDIAN = sys.byteorder == "little"
# 2: a journal entry may be kept as the request it records (`recording_out`), rate-limit hits
# are packed (`hits_out`). A document or a data directory of format 1 is read as it is.
VERSION = 2
READS = frozenset({1, 2})

# World fields rebuilt from the others on load (World.rebuild_indexes), and what is not state.
_DERIVED = frozenset(
    {
        "_by_uid",
        "_by_open_id",
        "grants_by_pair",
        "client_tokens_by_app",
        "finished",
        "drafts_by_creator",
        "publishes_by_creator",
        "posts_by_creator",
        "by_post_id",
        "changes",
    }
)
# Fields that only mean something while this process runs (a worker holds the delivery, a
# chunk is being received): a restarted sandbox starts them at their defaults.
_TRANSIENT = {
    "Delivery": frozenset({"queued", "in_flight"}),
    "Publish": frozenset({"chunk_in_flight"}),
}


class StateFormatError(ValueError):
    """A document this version cannot read: another format or version, or malformed."""


# -- type-directed encoding -------------------------------------------------------------------


@cache
def _hints(cls: type) -> dict[str, Any]:
    # models.App names UrlProperty only under TYPE_CHECKING: resolve it here.
    return typing.get_type_hints(cls, localns={"UrlProperty": UrlProperty, **vars(models)})


@cache
def _fields(cls: type) -> list[tuple[str, Any]]:
    hints = _hints(cls)
    skip = _DERIVED | _TRANSIENT.get(cls.__name__, frozenset())
    return [(f.name, hints[f.name]) for f in dataclasses.fields(cls) if f.name not in skip]


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


def _same(value: Any) -> Any:
    return value


@cache
def encoder(hint: Any) -> Callable[[Any], Any]:
    """`encode` for values of type `hint`, with the type's reading done once: what a commit
    runs for every record it writes. Falls back to `encode` where the hint does not decide."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) != 1:
            return encode
        inner = encoder(options[0])
        if inner is _same:
            return _same
        return lambda value: None if value is None else inner(value)
    special = _ENCODERS.get(hint)
    if special is not None:
        return special  # type: ignore[no-any-return]
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _record_encoder(hint)
    if hint in (bool, int, str) or origin is typing.Literal:
        return _same
    if hint is float:
        return lambda value: value if math.isfinite(value) else _float_out(value)
    if hint is bytes:
        return lambda value: base64.b64encode(value).decode("ascii")
    if origin is dict and args and args[0] is str:
        values = encoder(args[1])
        if values is _same:
            return dict
        if args[1] is float:  # all finite, the usual case: copied in one call
            return lambda value: (
                dict(value)
                if all(map(math.isfinite, value.values()))
                else {k: values(v) for k, v in value.items()}
            )
        return lambda value: {k: values(v) for k, v in value.items()}
    if origin in (list, deque) and args:
        items = encoder(args[0])
        if items is _same:
            return list
        if args[0] is float:
            return lambda value: (
                list(value) if all(map(math.isfinite, value)) else [items(v) for v in value]
            )
        return lambda value: [items(v) for v in value]
    if origin is tuple and args and len(args) == 2 and args[1] is Ellipsis:
        items = encoder(args[0])
        return lambda value: [items(v) for v in value]
    if origin is tuple and args:  # a fixed shape, e.g. a timeline's (status, at)
        parts = [encoder(a) for a in args]
        if all(part is _same for part in parts):
            return list
        return lambda value: [part(v) for part, v in zip(parts, value, strict=True)]
    if hint is Any:
        return _any
    return lambda value: encode(value, hint)


_PLAIN = frozenset({str, int, bool, type(None)})


def _any(value: Any) -> Any:
    """`encode` of a value whose type the hint does not say: JSON's own types as they are."""
    kind = type(value)
    if kind in _PLAIN or (kind is float and math.isfinite(value)):
        return value
    return encode(value)


def _record_encoder(cls: type) -> Callable[[Any], Any]:
    """A function made for `cls` that builds its object in one expression: a field that needs
    no encoding is read as it is, the others through their type's encoder (a commit runs this
    for every record it writes, so the per-field loop is unrolled once, here)."""
    scope: dict[str, Any] = {"cls": cls, "encode": encode}
    parts = []
    for i, (name, hint) in enumerate(_fields(cls)):
        fn = encoder(hint)
        if fn is _same:
            parts.append(f"{name!r}: value.{name}")
        else:
            scope[f"f{i}"] = fn
            parts.append(f"{name!r}: f{i}(value.{name})")
    source = (
        "def record(value):\n"
        "    if type(value) is not cls:\n"
        "        return encode(value)\n"
        f"    return {{{', '.join(parts)}}}\n"
    )
    exec(compile(source, f"<store encoder of {cls.__name__}>", "exec"), scope)
    made: Callable[[Any], Any] = scope["record"]
    return made


def decode(data: Any, hint: Any) -> Any:
    return decoder(hint)(data)


def _none_or(read: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda data: None if data is None else read(data)


@cache
def decoder(hint: Any) -> Callable[[Any], Any]:
    """`decode` for values of type `hint`, with the type's reading done once: a restart runs
    it for every record kept. None is None whatever the type."""
    if hint is Any:
        return _same
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return decoder(options[0])
        return _none_or(_refuse(f"cannot read a value of type {hint}"))
    return _none_or(_reader(hint, origin, args))


def _reader(hint: Any, origin: Any, args: tuple[Any, ...]) -> Callable[[Any], Any]:
    """`decoder`'s reading of a value that is not None."""
    if origin is typing.Literal:

        def literal(data: Any) -> Any:
            if data not in args:
                raise StateFormatError(f"{data!r} is not one of {args}")
            return data

        return literal
    special: Callable[[Any], Any] | None = _DECODERS.get(hint)
    if special is not None:
        return special
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _record_decoder(hint)
    if hint is float:
        return _float_in
    if hint in (int, str, bool):

        def exact(data: Any) -> Any:
            if type(data) is not hint:
                raise StateFormatError(f"expected {hint.__name__}, got {data!r}")
            return data

        return exact
    if hint is bytes:
        return lambda data: base64.b64decode(data, validate=True)
    if origin is dict:
        keys, values = decoder(args[0]), decoder(args[1])

        def mapping(data: Any) -> Any:
            pairs = data.items() if isinstance(data, dict) else data
            return {keys(k): values(v) for k, v in pairs}

        return mapping
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        items = decoder(args[0])
        return lambda data: tuple(items(v) for v in data)
    if origin is tuple:
        parts = [decoder(a) for a in args]

        def shaped(data: Any) -> Any:
            if len(data) != len(parts):
                raise StateFormatError(f"expected {len(parts)} values, got {len(data)}")
            return tuple(part(v) for part, v in zip(parts, data, strict=True))

        return shaped
    if origin in (list, deque):
        items = decoder(args[0])
        if origin is deque:
            return lambda data: deque([items(v) for v in data])
        return lambda data: [items(v) for v in data]
    return _refuse(f"cannot read a value of type {hint}")


def _refuse(message: str) -> Callable[[Any], Any]:
    def refuse(data: Any) -> Any:
        raise StateFormatError(message)

    return refuse


def _float_in(data: Any) -> Any:
    if isinstance(data, str) and data in ("inf", "-inf", "nan"):
        return float(data)
    if isinstance(data, bool) or not isinstance(data, int | float):
        raise StateFormatError(f"expected a number, got {data!r}")
    return data


def _record_decoder(cls: type) -> Callable[[Any], Any]:
    fields = {name: decoder(hint) for name, hint in _fields(cls)}
    init = {f.name for f in dataclasses.fields(cls) if f.init}
    name = cls.__name__

    def record(data: Any) -> Any:
        if not isinstance(data, dict):
            raise StateFormatError(f"{name}: expected an object")
        if not fields.keys() >= data.keys():
            unknown = set(data) - set(fields)
            raise StateFormatError(f"{name}: unknown fields {sorted(unknown)}")
        values = {name: read(data[name]) for name, read in fields.items() if name in data}
        obj = cls(**{k: v for k, v in values.items() if k in init})
        for field_name, value in values.items():
            if field_name not in init:
                object.__setattr__(obj, field_name, value)
        return obj

    return record


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


def _random_in(data: Any) -> random.Random:
    rng = CountedRandom()
    set_random_state(rng, data)
    return rng


def _ids_out(ids: IdFactory) -> Any:
    return {
        "seed": ids.seed,
        "secrets": ids._secrets.counter,
        "ids": random_state(ids._rng),
        "logs": ids._logs.counter,
    }


def _ids_in(data: Any) -> IdFactory:
    ids = IdFactory(decode(data["seed"], int))
    ids._secrets.counter = decode(data["secrets"], int)
    set_random_state(ids._rng, data["ids"])
    ids._logs.counter = decode(data["logs"], int)
    return ids


@lru_cache(maxsize=16_384)
def limiter_key(key: Any) -> str:
    """A rate-limit key ((endpoint, token): domain.ratelimit.check_rate) as a row key."""
    return json.dumps(list(key), separators=(",", ":"))


def hits_out(hits: Iterable[float]) -> str:
    """A key's hit times, as base64 of little-endian doubles: exact, and written on every
    request a limit counts, where the JSON of 20 instants costs about 10 us (their digits).
    The limiter keeps them in an `array("d")`, whose bytes are those doubles as they are on
    a little-endian machine (one copy, not a float object per instant)."""
    if type(hits) is array and _LITTLE_ENDIAN:
        packed = hits.tobytes()
    else:
        times = tuple(hits)
        packed = struct.pack(f"<{len(times)}d", *times)
    return binascii.b2a_base64(packed, newline=False).decode("ascii")


def hits_text(hits: Iterable[float]) -> str:
    """`text(hits_out(hits))`: base64 needs no escaping in JSON."""
    return f'"{hits_out(hits)}"'


def hits_in(data: Any) -> list[float]:
    if isinstance(data, list):  # format 1: the instants as JSON numbers
        return decode(data, list[float])  # type: ignore[no-any-return]
    if not isinstance(data, str):
        raise StateFormatError(f"rate-limit hits as {type(data).__name__}")
    packed = base64.b64decode(data, validate=True)
    if len(packed) % 8:
        raise StateFormatError("rate-limit hits: not a whole number of instants")
    return list(struct.unpack(f"<{len(packed) // 8}d", packed))


def _limiter_out(limiter: SlidingWindowLimiter) -> Any:
    return {
        "window": limiter.window,
        "hits": {limiter_key(key): hits_out(hits) for key, hits in limiter._hits.items()},
    }


def _limiter_in(data: Any) -> SlidingWindowLimiter:
    limiter = SlidingWindowLimiter(decode(data["window"], float))
    for key, hits in data["hits"].items():
        limiter.restore(tuple(json.loads(key)), hits_in(hits))
    return limiter


def _outbox_out(outbox: Outbox) -> Any:
    """Every delivery by id, in the order the outbox took them (a row each in a data
    directory); the per-app logs are rebuilt from their `client_key` and `seq`."""
    deliveries = sorted(outbox.all(), key=lambda d: d.seq)
    return {
        "added": outbox.added,
        "deliveries": {d.delivery_id: delivery_out(d) for d in deliveries},
    }


def _outbox_in(data: Any) -> Outbox:
    outbox = Outbox(added=decode(data["added"], int))
    deliveries = [decode(d, Delivery) for d in data["deliveries"].values()]
    for delivery in sorted(deliveries, key=lambda d: d.seq):
        outbox.by_app.setdefault(delivery.client_key, deque()).append(delivery)
    return outbox


_ENCODERS: dict[type, Any] = {
    random.Random: random_state,
    CountedRandom: random_state,
    IdFactory: _ids_out,
    SlidingWindowLimiter: _limiter_out,
    Outbox: _outbox_out,
}
_DECODERS: dict[Any, Any] = {
    random.Random: _random_in,
    IdFactory: _ids_in,
    SlidingWindowLimiter: _limiter_in,
    Outbox: _outbox_in,
}


def delivery_out(delivery: Delivery) -> Any:
    return encoder(Delivery)(delivery)


# -- World ------------------------------------------------------------------------------------


def world_to_doc(world: World) -> dict[str, Any]:
    doc: dict[str, Any] = encoder(World)(world)
    return doc


def world_from_doc(doc: Any) -> World:
    try:
        world: World = decode(doc, World)
    except StateFormatError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StateFormatError(f"world: {type(exc).__name__}: {exc}") from exc
    dangling = world.dangling()
    if dangling is not None:
        raise StateFormatError(f"world.{dangling}")
    world.rebuild_indexes()
    return world


# -- the whole sandbox, as rows ---------------------------------------------------------------
#
# The document is kept as rows (mock_server/store/sqlite.py): a row per record of the large
# collections (ROW_KINDS: the dicts at those paths, and the journal's entries) and a row per
# other section (a path in the document). `full_rows` makes every row; `Recorder` makes the
# rows a change touched, the same text for the same record; `assemble` makes the document
# (what `export` writes and `restore_state` reads) from rows.

Rows = dict[str, dict[str, str]]  # kind -> key -> JSON text, in order
SECTIONS = "doc"  # the kind of the rows that hold one section each, keyed by path
JOURNAL_ENTRIES = "journal.entries"
OUTBOX_DELIVERIES = "world.outbox.deliveries"
LIMITER_HITS = "world.limiter.hits"
ROW_KINDS = (
    *(f"world.{name}" for name in COLLECTIONS),
    OUTBOX_DELIVERIES,
    LIMITER_HITS,
    JOURNAL_ENTRIES,
)
# World fields that are sections of their own (the collections are rows; the derived ones are
# not kept).
WORLD_SECTIONS = tuple(name for name, _ in _fields(World) if name not in COLLECTIONS)


_TEXT = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def text(value: Any) -> str:
    """A row's JSON text: ASCII (the commit log's lines are), compact. Through orjson when
    that gives ASCII (fastjson: the same text but for the form of floats under 1e-4, which
    read back the same; a fifth of the time for a journal row)."""
    data = fastjson.dumps(value)
    if data is not None and data.isascii():
        return data.decode("ascii")
    return _TEXT(value)


def clock_section(state: SandboxState) -> dict[str, Any]:
    offset, frozen_at = snapshot(state.clock)
    return {
        "offset": _float_out(offset),
        "frozen_at": None if frozen_at is None else _float_out(frozen_at),
    }


def world_section(world: World, name: str) -> Any:
    """A World field's section: the outbox without its deliveries, the limiter without its
    hits (those are rows)."""
    value = getattr(world, name)
    if name == "outbox":
        return {"added": value.added}
    if name == "limiter":  # how many were admitted since its last sweep is not kept
        return {"window": value.window}
    return encoder(_hints(World)[name])(value)


def journal_entry(entry: JournalEntry | Recording) -> Any:
    """A journal row: the request as it went by, when it is one (about half the text of the
    entry it becomes, and a third of the cost to write: most are never read), else the entry."""
    if type(entry) is Recording:
        return recording_out(entry)
    return encoder(JournalEntry)(entry)


def journal_entry_in(data: Any) -> JournalEntry | Recording:
    if isinstance(data, dict) and "recording" in data:
        return recording_in(data["recording"])
    return decode(data, JournalEntry)  # type: ignore[no-any-return]


# What a Recording's entry reads of its request headers (runtime.journal.Recording._build).
_RECORDED_HEADERS = frozenset(name.encode() for name in (*KEPT_HEADERS, "host"))


def _bytes_out(data: bytes) -> str | dict[str, str]:
    """Bytes as their text when ASCII (a JSON body: as long as it is), else base64."""
    if data.isascii():
        return data.decode("ascii")
    return {"base64": base64.b64encode(data).decode("ascii")}


def _bytes_in(data: Any) -> bytes:
    if isinstance(data, str):
        return data.encode("ascii")
    if isinstance(data, dict) and isinstance(data.get("base64"), str):
        return base64.b64decode(data["base64"], validate=True)
    raise StateFormatError(f"bytes as {type(data).__name__}")


def _headers_out(headers: list[tuple[bytes, bytes]]) -> list[list[str | dict[str, str]]]:
    """The recorded headers (their names are ASCII: they are known names), each pair as
    `_bytes_out` would write it; decoded as ASCII at once where they are (as they all are but
    for a rare value), which costs a third of a call per part."""
    try:
        return [
            [name.decode("ascii"), value.decode("ascii")]
            for name, value in headers
            if name in _RECORDED_HEADERS
        ]
    except UnicodeDecodeError:
        return [
            [_bytes_out(name), _bytes_out(value)]
            for name, value in headers
            if name in _RECORDED_HEADERS
        ]


def recording_out(recording: Recording) -> Any:
    """A Recording's row. Written for every answer with a data directory, so the common case
    is spelled out rather than called for: notes of JSON's own types used as they are (the
    value is only turned into text), an ASCII query and bodies decoded at once."""
    head = recording.request_head
    if recording.request_size > REPLAY_BYTES:  # not replayed: only its preview is read
        head = head[:BODY_PREVIEW_BYTES]
    query, response_head, notes, at = (
        recording.query,
        recording.response_head,
        recording.notes,
        recording.at,
    )
    if not _PLAIN.issuperset(map(type, notes.values())):
        notes = {k: v if type(v) in _PLAIN else _any(v) for k, v in notes.items()}
    server = recording.server
    return {
        "recording": {
            "seq": recording.seq,
            "at": at if math.isfinite(at) else _float_out(at),
            "method": recording.method,
            "path": recording.path,
            "query": query.decode("ascii") if query.isascii() else _bytes_out(query),
            "status": recording.status,
            "notes": notes,
            "headers": _headers_out(recording.headers),
            "request_head": head.decode("ascii") if head.isascii() else _bytes_out(head),
            "request_size": recording.request_size,
            "response_head": (
                response_head.decode("ascii")
                if response_head.isascii()
                else _bytes_out(response_head)
            ),
            "response_headers": recording.response_headers,
            "scheme": recording.scheme,
            "server": None if server is None else list(server),
        }
    }


def recording_in(data: Any) -> Recording:
    server = data["server"]
    return Recording(
        at=decode(data["at"], float),
        method=decode(data["method"], str),
        path=decode(data["path"], str),
        query=_bytes_in(data["query"]),
        status=decode(data["status"], int),
        notes=decode(data["notes"], dict[str, Any]),
        headers=[(_bytes_in(k), _bytes_in(v)) for k, v in data["headers"]],
        request_head=_bytes_in(data["request_head"]),
        request_size=decode(data["request_size"], int),
        response_head=_bytes_in(data["response_head"]),
        response_headers=decode(data["response_headers"], dict[str, str]),
        scheme=decode(data["scheme"], str),
        server=None if server is None else (decode(server[0], str), decode(server[1], int | None)),
        seq=decode(data["seq"], int),
    )


@dataclass(frozen=True)
class Section:
    """A section row: its path in the document, its value, and a fingerprint that is cheap to
    take where the value is costly to encode (None: compare the values), so a commit encodes
    it only when it moved (store.recorder)."""

    path: str
    value: Callable[[SandboxState], Any]
    fingerprint: Callable[[SandboxState], object] | None = None
    # The state's attributes (dotted paths) the value is made of, when they are few, plain
    # and seldom change (none: a constant): a commit reads those of all such sections at
    # once, and compares the sections one by one only when one moved. None: compare it each
    # commit.
    made_of: tuple[str, ...] | None = None


def _world_section(name: str) -> Callable[[SandboxState], Any]:
    return lambda state: world_section(state.world, name)


@cache
def section_rows() -> tuple[Section, ...]:
    """Every section row, the one list both the whole state (`full_rows`) and a commit's rows
    (store.recorder) are made from. The id streams move at different paces: a row each."""
    return (
        Section("written_by", lambda s: f"tiktok-sandbox {__version__}", made_of=()),
        Section("sandbox.seed", lambda s: s.seed, made_of=("seed",)),
        Section("sandbox.scenario", lambda s: s.scenario.source, made_of=("scenario.source",)),
        Section("sandbox.generation", lambda s: s._generation, made_of=("_generation",)),
        Section("sandbox.built_at", lambda s: _float_out(s.built_at), made_of=("built_at",)),
        # Compared by its value each commit (not with the plain sections: many a test moves the
        # clock often), which is read under the clock's lock: a fingerprint read apart from it
        # could pair the setting before a move with the value after it.
        Section("sandbox.clock", clock_section),
        Section(
            "sandbox.faker_random",
            lambda s: random_state(s.faker_random),
            lambda s: moved(s.faker_random),
        ),
        Section("journal.seq", lambda s: s.journal._seq),
        Section("journal.cleared", lambda s: s.journal._cleared, made_of=("journal._cleared",)),
        Section("world.ids.seed", lambda s: s.world.ids.seed, made_of=("world.ids.seed",)),
        Section(
            "world.ids.secrets",
            lambda s: s.world.ids._secrets.counter,
            made_of=("world.ids._secrets.counter",),
        ),
        Section("world.ids.logs", lambda s: s.world.ids._logs.counter),
        Section(
            "world.ids.ids",
            lambda s: random_state(s.world.ids._rng),
            lambda s: moved(s.world.ids._rng),
        ),
        Section(
            "world.fault_rng",
            _world_section("fault_rng"),
            lambda s: moved(s.world.fault_rng),
        ),
        Section(
            "world.schedule",
            _world_section("schedule"),
            lambda s: (s.world.schedule.seq, len(s.world.schedule.heap)),
        ),
        *(
            Section(
                f"world.{name}",
                _world_section(name),
                None if _plain_world_field(name) else _unless_empty(name),
                made_of=_plain_world_field(name),
            )
            for name in WORLD_SECTIONS
            if name not in ("ids", "fault_rng", "schedule")
        ),
    )


def _unless_empty(name: str) -> Callable[[SandboxState], object]:
    """The fingerprint of a World list changed in place (faults, injections): the same while
    it stays empty, as it does in most sandboxes, else new every time (its value is compared)."""
    read = operator.attrgetter(f"world.{name}")
    return lambda state: () if not read(state) else object()


def _plain_world_field(name: str) -> tuple[str, ...] | None:
    """What a World section's value is made of, when that is a plain value (or the one field
    of it the section keeps); None for the lists changed in place (faults, injections)."""
    if name == "outbox":
        return ("world.outbox.added",)
    if name == "limiter":
        return ("world.limiter.window",)
    hint = _hints(World)[name]
    if hint in (int, float, str, bool) or name == "timing":  # Timing is frozen: replaced
        return (f"world.{name}",)
    return None


def full_rows(state: SandboxState) -> Rows:
    """Every row of the sandbox's state. Take it under `state.lock`."""
    world = state.world
    rows: Rows = {SECTIONS: {row.path: text(row.value(state)) for row in section_rows()}}
    for name in COLLECTIONS:
        collection = getattr(world, name)
        encode_one = encoder(_hints(World)[name].__args__[1])
        rows[f"world.{name}"] = {k: text(encode_one(v)) for k, v in dict.items(collection)}
    deliveries = _outbox_out(world.outbox)["deliveries"]
    rows[OUTBOX_DELIVERIES] = {k: text(v) for k, v in deliveries.items()}
    hits = _limiter_out(world.limiter)["hits"]
    rows[LIMITER_HITS] = {k: text(v) for k, v in hits.items()}
    with state.journal._lock:
        entries = list(state.journal._entries)
    rows[JOURNAL_ENTRIES] = {str(e.seq): text(journal_entry(e)) for e in entries}
    return rows


def assemble(rows: Rows) -> dict[str, Any]:
    """The document the rows make (`export`'s JSON, what `restore_state` reads)."""
    doc: dict[str, Any] = {"format": FORMAT, "version": VERSION}

    def put(path: str, value: Any) -> None:
        *parents, last = path.split(".")
        place = doc
        for part in parents:
            place = place.setdefault(part, {})
        place[last] = value

    for path, value in rows.get(SECTIONS, {}).items():
        put(path, json.loads(value))
    for kind in ROW_KINDS:
        found = rows.get(kind, {})
        if kind == JOURNAL_ENTRIES:  # by seq: a commit writes its own request's entry
            entries = sorted(found.items(), key=lambda item: int(item[0]))
            put(kind, [json.loads(v) for _, v in entries])
        else:
            put(kind, {k: json.loads(v) for k, v in found.items()})
    return doc


def state_to_doc(state: SandboxState) -> dict[str, Any]:
    """Everything a restarted sandbox needs to answer as this one would."""
    with state.lock:
        rows = full_rows(state)
    return assemble(rows)


def check_format(doc: Any) -> None:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise StateFormatError("not a tiktok-sandbox state document")
    version = doc.get("version")
    if type(version) is not int:  # `true` equals 1 and 2.0 equals 2, but neither is a format
        raise StateFormatError(f"state format {json.dumps(version)[:40]}: not a format number")
    if version not in READS:
        raise StateFormatError(
            f"state format {version}, this tiktok-sandbox reads {min(READS)} to {VERSION}"
        )


@dataclass
class Decoded:
    """A document read back, before it becomes a sandbox's state."""

    world: World
    generation: int
    built_at: float
    clock: tuple[float, float | None]
    faker_random: random.Random
    entries: list[JournalEntry | Recording]
    seq: int
    cleared: bool
    # The scenario file's name and the seed of the sandbox that saved it, which its reset went
    # back to (only told to the user: a reset goes back to the running sandbox's own).
    made_with: tuple[str, int | None] | None = None


def decode_state(doc: Any) -> Decoded:
    """Read a whole document; StateFormatError (one line) when it cannot be this version's."""
    check_format(doc)
    try:
        sandbox, journal_doc = doc["sandbox"], doc["journal"]
        world = world_from_doc(doc["world"])
        clock = sandbox["clock"]
        faker_random = random.Random()
        set_random_state(faker_random, sandbox["faker_random"])
        return Decoded(
            world=world,
            generation=decode(sandbox["generation"], int),
            built_at=decode(sandbox["built_at"], float),
            clock=(decode(clock["offset"], float), decode(clock["frozen_at"], float | None)),
            faker_random=faker_random,
            entries=[journal_entry_in(e) for e in journal_doc["entries"]],
            seq=decode(journal_doc["seq"], int),
            cleared=decode(journal_doc["cleared"], bool),
            made_with=_made_with(sandbox),
        )
    except StateFormatError:
        raise
    except RecursionError:
        raise StateFormatError("nested too deeply") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StateFormatError(f"{type(exc).__name__}: {exc}") from exc


def _made_with(sandbox: Any) -> tuple[str, int | None] | None:
    scenario, seed = sandbox.get("scenario"), sandbox.get("seed")
    if not isinstance(scenario, str) or not (seed is None or type(seed) is int):
        return None
    return scenario, seed


def restore_state(state: SandboxState, doc: Any) -> None:
    """Make `state` what `doc` describes (the scenario and seed `state` was built with stay
    what a reset goes back to). Raises StateFormatError, leaving `state` unchanged."""
    install_state(state, decode_state(doc))


def install_state(state: SandboxState, decoded: Decoded) -> None:
    """Make `state` what a document read by `decode_state` describes."""
    world = decoded.world
    with state.lock:
        # A reset builds the next World: generations keep growing across restarts.
        world.generation = state._generation = max(decoded.generation, world.generation)
        state.install(world)
        state.built_at = decoded.built_at
        state.made_with = decoded.made_with
        state.faker.random.setstate(decoded.faker_random.getstate())
        if not state._clock_given:  # a clock handed in by the caller is theirs
            restore(state.clock, decoded.clock)
        journal = state.journal
        with journal._lock:
            journal._entries.clear()
            journal._entries.extend(decoded.entries)
            journal._seq, journal._cleared = decoded.seq, decoded.cleared
