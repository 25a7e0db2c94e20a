"""orjson writes the JSON the standard library would, or leaves it to the standard library:
answers (`responses.render_json`, `LoggedJSON`) and the data directory's rows (`codec.text`)."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server import fastjson
from mock_server.responses import JSONResponse, LoggedJSON, render_json
from mock_server.store import codec

pytestmark = pytest.mark.skipif(fastjson.orjson is None, reason="orjson is not installed")

# Text without lone surrogates (the ones orjson refuses), any code point else: controls,
# quotes, backslashes, U+2028, emoji.
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=25,
)
with_floats = st.recursive(
    plain | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=25,
)


def stdlib_answer(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def stdlib_row(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


@given(plain)
def test_the_same_bytes_as_the_standard_library_without_floats(value: Any) -> None:
    assert fastjson.dumps(value) == stdlib_answer(value)
    assert render_json(value) == stdlib_answer(value)
    assert codec.text(value) == stdlib_row(value)


@given(with_floats)
def test_control_answers_write_floats_as_the_standard_library_does(value: Any) -> None:
    assert render_json(value) == stdlib_answer(value)
    assert fastjson.dumps(value, floats_as_json=True) in (None, stdlib_answer(value))


@given(with_floats)
def test_tiktok_answers_and_rows_keep_the_numbers_of_their_floats(value: Any) -> None:
    assert json.loads(LoggedJSON({"data": value}, 200, "L").body) == {"data": value}
    row = codec.text(value)
    assert row.isascii()
    assert json.loads(row) == value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e-05, "1e-05"),
        (1e-7, "1e-07"),
        (-2.5e-10, "-2.5e-10"),
        (0.0001, "0.0001"),
        (1e16, "1e+16"),
    ],
)
def test_small_and_large_floats_keep_their_form(value: float, text: str) -> None:
    body = {"probability": value, "name": "Anne-Marie"}
    assert render_json(body) == f'{{"probability":{text},"name":"Anne-Marie"}}'.encode()


@dataclasses.dataclass
class Record:
    a: int


@pytest.mark.parametrize(
    "value",
    [
        {"a": "\ud800"},  # a lone surrogate
        [2**64],  # past 64 bits
        [-(2**63) - 1],
        {1: "a"},  # a key that is not a string
        [Record(1)],  # the standard library refuses these two too
        [datetime(2026, 1, 1, tzinfo=UTC)],
    ],
)
def test_what_orjson_refuses_is_left_to_the_standard_library(value: Any) -> None:
    assert fastjson.dumps(value) is None


def test_answers_fall_back_as_before() -> None:
    assert render_json({"a": "\ud800"}) == b'{"a":"\\ud800"}'
    assert render_json([2**70]) == b"[1180591620717411303424]"
    assert render_json({1: 2}) == b'{"1":2}'
    with pytest.raises(TypeError):
        render_json([Record(1)])


def test_rows_stay_ascii() -> None:
    value = {"title": "Café ☕ \U0001f600", "n": 1}
    assert codec.text(value) == stdlib_row(value)
    assert codec.text(value).isascii()
    assert codec.text([2**70]) == "[1180591620717411303424]"


def test_a_float_that_is_not_finite_never_reaches_a_row() -> None:
    # The codec writes non-finite instants as text of its own before any JSON is made.
    encoded = codec.encode({"at": math.inf, "since": -math.inf})
    assert codec.text(encoded) == '{"at":"inf","since":"-inf"}'


@pytest.mark.parametrize("status", [200, 400, 401, 429, 500])
def test_a_logged_answer_has_the_headers_of_a_json_response(status: int) -> None:
    content = {"data": {}, "error": {"code": "ok", "message": "é", "log_id": "2026X"}}
    mine = LoggedJSON(content, status, "2026X")
    starlettes = JSONResponse(content, status_code=status, headers={"x-tt-logid": "2026X"})
    assert mine.raw_headers == starlettes.raw_headers
    assert mine.body == starlettes.body
    assert mine.status_code == starlettes.status_code
    assert mine.background is None


@given(st.uuids(), st.text("abcdefxyz- ", max_size=12))
def test_text_that_only_looks_like_a_small_float_stays_with_orjson(token: Any, name: str) -> None:
    value = {"upload_token": str(token), "name": f"Anne-Marie 0.00001 {name}", "n": -1.5}
    assert fastjson.dumps(value, floats_as_json=True) == stdlib_answer(value)
