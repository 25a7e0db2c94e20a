"""JSON bodies are checked whole before a handler sees them (lone surrogates, depth, numbers)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.api import jsontext
from mock_server.api.jsontext import MAX_DEPTH, JsonProblem, parse


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b'{"title": "\\udfff"}', "lone UTF-16 surrogate (\\udfff)"),
        (b'{"\\ud83d": 1}', "lone UTF-16 surrogate"),  # keys too
        (b'{"a": ["ok", {"b": "x\\uDBFFy"}]}', "lone UTF-16 surrogate"),
        (b"[" * 3000 + b"]" * 3000, "nested more than"),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "nested more than"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON number"),
        (b"\xff\xfe", "not UTF-8"),
        (b'\xef\xbb\xbf{"a": 1}', "not valid JSON"),  # a BOM, as Go's decoder refuses it
        (b'{"a": 1', "not valid JSON"),
    ],
)
def test_refused_everywhere(raw: bytes, problem: str) -> None:
    for strict in (True, False):
        with pytest.raises(JsonProblem, match=re.escape(problem)):
            parse(raw, strict=strict)


@pytest.mark.parametrize(
    "raw",
    [b'{"a": 1e999}', b'{"a": ' + b"9" * 20 + b"}", b'{"a": ' + b"9" * 5000 + b"}", b'"\\u0000"'],
)
def test_the_control_api_refuses_what_it_cannot_store(raw: bytes) -> None:
    with pytest.raises(JsonProblem):
        parse(raw)


def test_tiktok_bodies_read_numbers_as_tiktoks_decoder_does() -> None:
    # A huge number becomes a float the field then refuses by name (api/posting.py).
    assert parse(b'{"a": 1e999}', strict=False) == {"a": float("inf")}
    assert parse(b'{"a": ' + b"1" + b"0" * 25 + b"}", strict=False) == {"a": 1e25}
    assert parse(b'{"a": ' + b"9" * 5000 + b"}", strict=False) == {"a": float("inf")}
    assert parse(b'{"a": -9223372036854775808}', strict=False) == {"a": -(2**63)}
    # Captions keep their control characters and line breaks.
    assert parse(b'{"title": "a\\nb\\u0007"}', strict=False) == {"title": "a\nb\x07"}


def test_int64_bounds_are_kept_exactly() -> None:
    assert parse(b"[9223372036854775807, -9223372036854775808]") == [2**63 - 1, -(2**63)]
    with pytest.raises(JsonProblem, match="out of range"):
        parse(b"[9223372036854775808]")


def test_deep_but_allowed_and_surrogate_pairs_are_fine() -> None:
    assert parse(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    assert parse(b'{"e": "\\ud83d\\ude00 \\t\\n\\r"}') == {"e": "\U0001f600 \t\n\r"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_whatever_python_can_encode_as_utf8_comes_back(value: object) -> None:
    raw = json.dumps(value).encode()
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
        expected_ok = not _controls(value)
    except UnicodeEncodeError:
        expected_ok = False
    if expected_ok:
        assert parse(raw) == value
    else:
        with pytest.raises(JsonProblem):
            parse(raw)


def _controls(value: object) -> bool:
    if isinstance(value, str):
        return any((ord(c) < 0x20 and c not in "\t\n\r") or c == "\x7f" for c in value)
    if isinstance(value, list):
        return any(_controls(v) for v in value)
    if isinstance(value, dict):
        return any(_controls(k) or _controls(v) for k, v in value.items())
    return False


json_texts = st.one_of(
    json_values.map(json.dumps),
    json_values.map(lambda v: json.dumps(v) + " "),
    st.text('{}[]":,0123456789.eE-+ tfnaulrs\\', max_size=30),
    st.text(max_size=30).map(lambda t: "{" + t + "}"),
)


@given(json_texts, st.booleans())
def test_the_shortcut_for_objects_reads_as_decode_does(text: str, strict: bool) -> None:
    """parse's scan of `{...}` bodies (jsontext._decode) gives decode's value, or its error."""
    decoder = jsontext._STRICT if strict else jsontext._LOOSE
    scan = jsontext._STRICT_SCAN if strict else jsontext._LOOSE_SCAN
    try:
        expected: object = ("value", decoder.decode(text))
    except (ValueError, RecursionError) as exc:
        expected = ("error", type(exc), str(exc))
    try:
        got: object = ("value", jsontext._decode(decoder, scan, text))
    except (ValueError, RecursionError) as exc:
        got = ("error", type(exc), str(exc))
    if expected[0] == "value" and got[0] == "value":
        assert json.dumps(got[1]) == json.dumps(expected[1])  # NaN-free: ints, inf as floats
    else:
        assert got == expected
