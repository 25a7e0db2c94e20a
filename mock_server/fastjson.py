"""Compact JSON through orjson, a compiled encoder, where it writes what `json` would.

The sandbox writes JSON on every answer (the body) and, with a data directory, on every commit
(the rows). With `separators=(",", ":")`, orjson writes the same text as the standard library
for strings (escapes included; non-ASCII as UTF-8, as `ensure_ascii=False` does), integers,
booleans, null and most floats, in a tenth to a twentieth of the time. Floats under 1e-4 it
writes in another form (`0.00001` and `1e-7` where `json` writes `1e-05` and `1e-07`): its
output holds `0.0000` or `e-` in a number then (`_small_float`), and such output is left to
`json`, so the bytes are the same as before for every value. A float
that is not finite orjson writes as `null` where `json(allow_nan=False)` refuses it: the
sandbox checks numbers before it keeps them, and the data directory's codec writes non-finite
instants as text of its own.

`dumps` answers None for what orjson refuses (a lone surrogate, an integer past 64 bits, a key
that is not a string, and dataclasses and datetimes, which `json` refuses too) and where it is
not installed (it is a dependency on CPython): the caller then uses `json`, as before.
"""

from __future__ import annotations

from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - installed wherever the package's dependencies are
    orjson = None  # type: ignore[assignment]

_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME if orjson else 0


def dumps(value: Any) -> bytes | None:
    """`value` as compact UTF-8 JSON, or None when `json` must write it."""
    if orjson is None:
        return None
    try:
        data = orjson.dumps(value, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError
        return None
    if (b"0.0000" in data or b"e-" in data) and _small_float(data):
        return None
    return data


_NUMBER_PART = frozenset(b"0123456789.")
_BEFORE_A_VALUE = frozenset(b":,[")


def _small_float(data: bytes) -> bool:
    """Whether `0.0000` or `e-` occurs in `data` inside a number rather than a string (an
    upload token, a UUID, a name). orjson writes compact JSON: a number starts the output or
    follows `:`, `,` or `[`, its digits maybe after a `-`; text in a string has a `"` or other
    characters there. A string that looks like one (`"a:9e-5"`) is taken as one: `json` then
    writes it, the same bytes, more slowly."""
    for needle in (b"0.0000", b"e-"):
        at = data.find(needle)
        while at != -1:
            start = at
            while start > 0 and data[start - 1] in _NUMBER_PART:
                start -= 1
            if start > 0 and data[start - 1] == 0x2D:  # a minus sign
                start -= 1
            if start == 0 or data[start - 1] in _BEFORE_A_VALUE:
                return True
            at = data.find(needle, at + 1)
    return False
