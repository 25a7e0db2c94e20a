"""Whatever a client sends to a control endpoint, the answer is JSON and never a 5xx."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server import Clock, Sandbox
from mock_server.domain.settings import APP_SETTINGS, CREATOR_SETTINGS

AUDITED = "awacmescheduler01"
SANDBOX_APP = "sbawacmesandbox01"

WRITES = [
    ("POST", "/_sandbox/reset"),
    ("POST", "/_sandbox/seed"),
    ("POST", "/_sandbox/apps"),
    ("PATCH", f"/_sandbox/apps/{AUDITED}"),
    ("PATCH", f"/_sandbox/apps/{SANDBOX_APP}"),
    ("POST", "/_sandbox/creators"),
    ("PATCH", "/_sandbox/creators/ana_makes"),
    ("POST", "/_sandbox/clock"),
    ("POST", "/_sandbox/authorize"),
    ("POST", "/_sandbox/tokens"),
    ("DELETE", "/_sandbox/journal"),
]

# Keys the endpoints know, so that examples reach past "unknown field".
KNOWN_KEYS = sorted(
    {*APP_SETTINGS, *CREATOR_SETTINGS}
    | {"creators", "seed", "scenario", "advance_seconds", "set", "freeze"}
    | {"username", "open_id", "scopes", "redirect_uri", "code_challenge", "state"}
)
# Values that are valid somewhere, so that examples reach the rules behind the type checks.
PLAUSIBLE = [
    "default",
    "sandbox",
    "unaudited",
    "audited",
    "desktop",
    "private",
    "ana_makes",
    "cora.cooks",
    AUDITED,
    SANDBOX_APP,
    "user.info.basic",
    "video.publish",
    "2026-01-01T00:00:00Z",
    "https://x.example/cb",
    "http://127.0.0.1:3000/callback/",
    "http://127.0.0.1:*/callback/",
    "34.1.2",
    "#fe2c55",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(PLAUSIBLE)
)
keys = st.sampled_from(KNOWN_KEYS) | st.text(max_size=8)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(keys, json_values, max_size=5)


def encode(value: Any) -> bytes:
    # Python's encoder writes NaN and Infinity literals, which its decoder reads back.
    return json.dumps(value).encode()


bodies = (
    json_objects.map(encode)
    | json_values.map(encode)
    | st.binary(max_size=200)
    | st.text(max_size=100).map(str.encode)
)
content_types = st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "text/plain", None]
)

SANDBOX = Sandbox("default", seed=0, clock=Clock.frozen_at(1_767_225_600.0))


def send(method: str, path: str, content: bytes, content_type: str | None) -> httpx.Response:
    SANDBOX.state.reset(seed=0)
    headers = {"content-type": content_type} if content_type else {}
    with SANDBOX.client() as http:
        return http.request(method, path, content=content, headers=headers)


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    data = response.json()
    assert isinstance(data, dict)
    if response.status_code >= 400:
        assert isinstance(data["error"], dict)
        assert isinstance(data["error"]["message"], str)


PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(("method", "path"), WRITES)
@PROPERTY
@given(value=json_objects)
def test_json_objects_never_5xx(method: str, path: str, value: dict[str, Any]) -> None:
    check(send(method, path, encode(value), "application/json"))


@pytest.mark.parametrize(("method", "path"), WRITES)
@PROPERTY
@given(content=bodies, content_type=content_types)
def test_any_body_never_5xx(
    method: str, path: str, content: bytes, content_type: str | None
) -> None:
    check(send(method, path, content, content_type))


@PROPERTY
@given(
    method=st.sampled_from(["GET", "PATCH"]),
    collection=st.sampled_from(["apps", "creators"]),
    name=st.text(min_size=1, max_size=30).filter(lambda s: "/" not in s),
    value=json_objects,
)
def test_any_path_parameter_never_5xx(
    method: str, collection: str, name: str, value: dict[str, Any]
) -> None:
    path = f"/_sandbox/{collection}/{quote(name, safe='')}"
    check(send(method, path, encode(value), "application/json"))


@PROPERTY
@given(params=st.dictionaries(st.sampled_from(["client_key", "path", "limit"]), st.text()))
def test_any_query_never_5xx(params: dict[str, str]) -> None:
    for path in ("/_sandbox/journal", "/_sandbox/creators", "/_sandbox/grants"):
        SANDBOX.state.reset(seed=0)
        with SANDBOX.client() as http:
            check(http.get(path, params=params))


# Every field the control API knows, given every JSON type (the refused ones must be a 400, not
# a TypeError from looking an unhashable value up in a table).
_ODD_VALUES = ([], {}, [1], {"a": 1}, 1.5, True, None, "x", 10**30, -1)


def _known_fields() -> list[tuple[str, str, tuple[str, ...], dict[str, Any]]]:
    from mock_server.domain.faults import RULE_KEYS
    from mock_server.domain.settings import APP_SETTINGS, CREATOR_SETTINGS
    from mock_server.population import INJECTION_KEYS

    authorize = ("client_key", "username", "open_id", "scopes", "redirect_uri", "state")
    grant = {
        "client_key": "awacmescheduler01",
        "username": "ana_makes",
        "scopes": ["user.info.basic"],
    }
    return [
        ("POST", "/_sandbox/faults", tuple(RULE_KEYS), {}),
        ("POST", "/_sandbox/outcomes", tuple(INJECTION_KEYS), {"fail_reason": "internal"}),
        ("POST", "/_sandbox/apps", (*APP_SETTINGS, "creators"), {}),
        ("PATCH", "/_sandbox/apps/awacmescheduler01", tuple(APP_SETTINGS), {}),
        ("POST", "/_sandbox/creators", tuple(CREATOR_SETTINGS), {}),
        ("PATCH", "/_sandbox/creators/ana_makes", tuple(CREATOR_SETTINGS), {}),
        ("POST", "/_sandbox/authorize", authorize, grant),
        ("POST", "/_sandbox/tokens", authorize, grant),
        ("POST", "/_sandbox/clock", ("advance_seconds", "set", "freeze"), {}),
        ("POST", "/_sandbox/reset", ("scenario", "seed"), {}),
        ("POST", "/_sandbox/settle", ("timeout_seconds",), {}),
    ]


@pytest.mark.parametrize(("method", "path", "fields", "base"), _known_fields())
def test_every_known_field_of_any_json_type_never_5xx(
    method: str, path: str, fields: tuple[str, ...], base: dict[str, Any]
) -> None:
    sandbox = Sandbox("default", clock=Clock.frozen_at(datetime(2026, 1, 1, tzinfo=UTC)))
    with sandbox.client() as http:
        for field in fields:
            for value in _ODD_VALUES:
                answer = http.request(method, path, json={**base, field: value})
                assert answer.status_code < 500, (field, value, answer.text)
    sandbox.close()
