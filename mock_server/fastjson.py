"""Compact JSON through orjson, a compiled encoder, where it writes what `json` would.

The sandbox writes JSON on every answer (the body) and, with a data directory, on every commit
(the rows). With `separators=(",", ":")`, orjson writes the same text as the standard library
for strings (escapes included; non-ASCII as UTF-8, as `ensure_ascii=False` does), integers,
booleans, null and most floats, in a tenth to a twentieth of the time. Floats under 1e-4 it
writes in another form (`0.00001` and `1e-7` where `json` writes `1e-05` and `1e-07`), the same
numbers. Where the form matters, `dumps(value, floats_as_json=True)` leaves such output to
`json` (`_small_float` finds them): the control API's answers, which echo what a test set (a
fault rule's probability), keep the bytes they had. TikTok's answers carry no floats, and the
data directory's rows only have to read back the same numbers, so those skip the check: it
costs more than the encoding (0.7 µs for a creator_info body, which holds many an `e`). A float
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


def dumps(value: Any, *, floats_as_json: bool = False) -> bytes | None:
    """`value` as compact UTF-8 JSON, or None when `json` must write it (`floats_as_json`:
    also when a float under 1e-4 would come out in orjson's form)."""
    if orjson is None:
        return None
    try:
        data = orjson.dumps(value, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError
        return None
    if floats_as_json and _small_float(data):
        return None
    return data


_NUMBER_PART = frozenset(b"0123456789.")
_BEFORE_A_VALUE = frozenset(b":,[")


def _small_float(data: bytes) -> bool:
    """Whether a number in `data` is written `...e-N` or `0.0000...`. orjson writes compact
    JSON: a number starts the output or follows `:`, `,` or `[`, its digits maybe after a `-`;
    the same characters in a string (an upload token, a UUID, a name) have a `"` or other
    characters there. A string that only looks like one (`"a:9e-5"`) is taken as one: `json`
    then writes it, the same bytes, more slowly. `-` and `.` are rare in an answer, so they are
    looked for first."""
    at = data.find(b"-")
    while at != -1:
        if at > 0 and data[at - 1] == 0x65 and _in_number(data, at - 1):  # e-
            return True
        at = data.find(b"-", at + 1)
    at = data.find(b".0000")
    while at != -1:
        if at > 0 and data[at - 1] == 0x30 and _in_number(data, at - 1):  # 0.0000
            return True
        at = data.find(b".0000", at + 1)
    return False


def _in_number(data: bytes, at: int) -> bool:
    start = at
    while start > 0 and data[start - 1] in _NUMBER_PART:
        start -= 1
    if start > 0 and data[start - 1] == 0x2D:  # a minus sign
        start -= 1
    return start == 0 or data[start - 1] in _BEFORE_A_VALUE
