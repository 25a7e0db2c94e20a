"""JSON request bodies, checked whole before any of it reaches a handler.

Python's `json` accepts things that cannot be stored or sent back: a lone UTF-16 surrogate
(`"\\udfff"` decodes to a str that UTF-8 cannot encode), nesting that exhausts the recursion
limit, integers of thousands of digits, `NaN` and `Infinity`. `parse` refuses all of them with a
`JsonProblem` that says what is wrong, so the TikTok endpoints answer in TikTok's error shape,
the control API with a 400, and nothing half-read is ever stored or rendered.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from mock_server.domain.text import CONTROLS

MAX_DEPTH = 64
INT64_MAX = 2**63 - 1


class JsonProblem(ValueError):
    """Why a body is not acceptable JSON; the message is safe to show the client."""


def _number(text: str) -> int:
    if len(text.lstrip("-")) > 19 or not -INT64_MAX - 1 <= (value := int(text)) <= INT64_MAX:
        raise JsonProblem(f"a number in the body is out of range (more than {INT64_MAX})")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonProblem("a number in the body is too large to represent")
    return value


def _loose_number(text: str) -> int | float:
    """As a Go decoder reads a number it has no field for: a float64 (so a huge one becomes
    infinite); a field that needs an integer then refuses it and names itself."""
    return int(text) if len(text.lstrip("-")) <= 19 else float(text)


def _constant(name: str) -> float:
    raise JsonProblem(f"{name} is not a JSON number")


# The decoders json.loads would build for each call, built once.
_STRICT = json.JSONDecoder(parse_int=_number, parse_float=_fraction, parse_constant=_constant)
_LOOSE = json.JSONDecoder(parse_int=_loose_number, parse_float=float, parse_constant=_constant)
# Their scanners (the `scan_once` that `decode` calls once it has matched the whitespace).
Scanner = Callable[[str, int], tuple[Any, int]]
_STRICT_SCAN: Scanner = _STRICT.__dict__["scan_once"]
_LOOSE_SCAN: Scanner = _LOOSE.__dict__["scan_once"]


def parse(raw: bytes, *, strict: bool = True) -> Any:
    """Decode a UTF-8 JSON document, or raise JsonProblem.

    `strict` (the control API) also refuses integers outside int64, numbers that overflow, and
    control characters other than tab, CR and LF in any string. Without it (TikTok's
    endpoints), numbers are read as TikTok's decoder reads them, so the field that cannot take
    one names itself, and captions keep whatever text they hold.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonProblem("the body is not UTF-8 text") from exc
    try:
        if text.startswith("\ufeff"):  # as json.loads refuses it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        if strict:
            value = _decode(_STRICT, _STRICT_SCAN, text)
        else:
            value = _decode(_LOOSE, _LOOSE_SCAN, text)
    except RecursionError as exc:
        raise JsonProblem(f"the JSON is nested more than {MAX_DEPTH} levels deep") from exc
    except JsonProblem:
        raise
    except ValueError as exc:  # json.JSONDecodeError, or int() past its digit limit
        raise JsonProblem(f"the body is not valid JSON: {exc}") from exc
    # A surrogate can only come from a \u escape; a control character from any escape.
    escaped = "\\" in text
    surrogates = escaped and "\\ud" in text.lower()
    controls = strict and escaped
    # A value is nested no deeper than the text has `[` and `{`: most bodies need no walk.
    if surrogates or controls or text.count("[") + text.count("{") > MAX_DEPTH:
        _check(value, surrogates, controls)
    return value


def _decode(decoder: json.JSONDecoder, scan: Scanner, text: str) -> Any:
    """`decoder.decode(text)`: an object with nothing around it (most bodies) is scanned
    without the whitespace matching around it; anything else, and any text the scanner
    stops short in, goes through `decode` itself, which gives the same value or error."""
    if text[:1] == "{" and text[-1:] == "}":
        try:
            value, end = scan(text, 0)
        except StopIteration:
            return decoder.decode(text)
        if end == len(text):
            return value
    return decoder.decode(text)


def _check(value: Any, surrogates: bool, controls: bool) -> None:
    """Depth, and (when the text could hold them) lone surrogates and control characters."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list) and depth > MAX_DEPTH:
            raise JsonProblem(f"the JSON is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            for key, child in item.items():
                _check_text(key, surrogates, controls)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            _check_text(item, surrogates, controls)


def _check_text(text: str, surrogates: bool, controls: bool) -> None:
    if surrogates:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise JsonProblem(
                f"a string in the body holds a lone UTF-16 surrogate "
                f"(\\u{ord(text[exc.start]):04x}): text must be valid Unicode"
            ) from exc
    if controls and not CONTROLS.isdisjoint(text):
        bad = next(c for c in text if c in CONTROLS)
        raise JsonProblem(f"a string in the body holds a control character (\\u{ord(bad):04x})")
