"""`GET /v2/user/info/` over the in-process transport (ref 4, 5)."""

from __future__ import annotations

import httpx
import pytest

from mock_server.sandbox import Sandbox
from tests.mock_server.api.conftest import LOG_ID, assert_envelope_error, user_tokens
from tests.mock_server.sandboxes import WEB, WEB_SECRET, make_sandbox

PATH = "/v2/user/info/"


def get_info(http: httpx.Client, token: str | None, fields: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    params = {"fields": fields} if fields is not None else {}
    return http.get(PATH, params=params, headers=headers)


@pytest.fixture
def token(sandbox: Sandbox, http: httpx.Client) -> str:
    scopes = ["user.info.basic", "user.info.profile", "user.info.stats"]
    return str(user_tokens(sandbox, http, scopes)["access_token"])


def test_success_envelope(sandbox: Sandbox, http: httpx.Client, token: str) -> None:
    response = get_info(http, token, "open_id,display_name,username,is_verified,follower_count")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"data", "error"}
    assert set(body["data"]) == {"user"}
    user = body["data"]["user"]
    assert list(user) == ["open_id", "display_name", "username", "is_verified", "follower_count"]
    assert (user["display_name"], user["username"], user["is_verified"]) == (
        "Ana Makes",
        "ana",
        True,
    )
    assert type(user["follower_count"]) is int
    assert body["error"]["code"] == "ok" and body["error"]["message"] == ""
    assert set(body["error"]) == {"code", "message", "log_id"}
    assert response.headers["x-tt-logid"] == body["error"]["log_id"]


def test_open_id_matches_the_token_response(sandbox: Sandbox, http: httpx.Client) -> None:
    tokens = user_tokens(sandbox, http, ["user.info.basic"])
    user = get_info(http, tokens["access_token"], "open_id").json()["data"]["user"]
    assert user == {"open_id": tokens["open_id"]}


def test_log_id_is_the_utc_time_and_20_hex_digits(
    sandbox: Sandbox, http: httpx.Client, token: str
) -> None:
    sandbox.clock.advance(3 * 3600 + 4 * 60 + 5)  # T0 is 2026-03-01 12:00:00 UTC
    ids = [get_info(http, token, "open_id").json()["error"]["log_id"] for _ in range(3)]
    for log_id in ids:
        assert len(log_id) == 34 and LOG_ID.match(log_id)
        assert log_id[:14] == "20260301150405"
    assert len(set(ids)) == 3


def test_a_field_without_its_scope_is_scope_not_authorized(
    sandbox: Sandbox, http: httpx.Client
) -> None:
    """As recorded (SocialiteProviders/Providers issue 1198): the whole request is refused."""
    basic = user_tokens(sandbox, http, ["user.info.basic"])["access_token"]
    response = get_info(http, basic, "open_id,username")
    body = assert_envelope_error(response, "scope_not_authorized", 401)
    assert "(user.info.profile)" in body["error"]["message"]
    response = get_info(http, basic, "open_id,follower_count")
    assert_envelope_error(response, "scope_not_authorized", 401)
    assert get_info(http, basic, "open_id,avatar_url").status_code == 200


@pytest.mark.parametrize(
    ("unscoped", "status", "user"),
    [
        ("scope_permission_missed", 400, None),
        ("omit", 200, {"display_name": "Ana Makes"}),
    ],
)
def test_the_other_readings_of_unscoped_fields_are_scenario_settings(
    unscoped: str, status: int, user: dict[str, str] | None
) -> None:
    sandbox = make_sandbox(display={"unscoped_fields": unscoped})
    with sandbox.client() as http:
        basic = user_tokens(sandbox, http, ["user.info.basic"])["access_token"]
        response = get_info(http, basic, "display_name,username,follower_count")
    if user is None:
        assert_envelope_error(response, unscoped, status)
    else:
        assert response.status_code == 200
        assert response.json()["data"]["user"] == user


def test_a_token_without_user_info_basic_is_scope_not_authorized(
    sandbox: Sandbox, http: httpx.Client
) -> None:
    upload_only = user_tokens(sandbox, http, ["video.upload"])
    assert upload_only["scope"] == "video.upload"
    response = get_info(http, upload_only["access_token"], "open_id")
    assert_envelope_error(response, "scope_not_authorized", 401)


@pytest.mark.parametrize("fields", [None, "", ",,", " "])
def test_fields_missing_is_invalid_params(http: httpx.Client, token: str, fields: str) -> None:
    body = assert_envelope_error(get_info(http, token, fields), "invalid_params", 400)
    assert body["error"]["message"] == "Fields is required, please provide fields in the request"


@pytest.mark.parametrize(
    ("fields", "answered"),
    [
        ("email", set()),
        ("open_id,email", {"open_id"}),
        ("OPEN_ID,display_name", {"display_name"}),
        ("open_id;display_name", set()),
        ("open_id,avatar_url_200", {"open_id"}),
    ],
)
def test_unknown_fields_are_left_out(
    http: httpx.Client, token: str, fields: str, answered: set[str]
) -> None:
    """TikTok's own video/query example asks for `fps`, which no Video Object has; the
    Display API answers the fields it knows (docs/fidelity.md)."""
    response = get_info(http, token, fields)
    assert response.status_code == 200, response.text
    assert set(response.json()["data"]["user"]) == answered


@pytest.mark.parametrize("fields", ["email", "open_id,email", "OPEN_ID", "open_id;display_name"])
def test_unknown_fields_refuse_the_request_when_the_scenario_says_so(fields: str) -> None:
    sandbox = make_sandbox(display={"unknown_fields": "refuse"})
    with sandbox.client() as http:
        scopes = ["user.info.basic", "user.info.profile"]
        token = str(user_tokens(sandbox, http, scopes)["access_token"])
        body = assert_envelope_error(get_info(http, token, fields), "invalid_params", 400)
    assert body["error"]["message"].startswith("Invalid field(s): ")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer act.not-a-real-token",
        "act.missing-scheme",
        "Bearer \u00e9\u00e9",
    ],
)
def test_missing_or_malformed_bearer_is_access_token_invalid(
    http: httpx.Client, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization.encode("utf-8")}
    response = http.get(PATH, params={"fields": "open_id"}, headers=headers)
    assert_envelope_error(response, "access_token_invalid", 401)


def test_expired_token_is_access_token_invalid(sandbox: Sandbox, http: httpx.Client) -> None:
    token = user_tokens(sandbox, http, ["user.info.basic"])["access_token"]
    sandbox.clock.advance(7199)
    assert get_info(http, token, "open_id").status_code == 200
    sandbox.clock.advance(1)
    assert_envelope_error(get_info(http, token, "open_id"), "access_token_invalid", 401)


def test_revoked_token_is_access_token_invalid(sandbox: Sandbox, http: httpx.Client) -> None:
    token = user_tokens(sandbox, http, ["user.info.basic"])["access_token"]
    assert get_info(http, token, "open_id").status_code == 200
    form = {"client_key": WEB, "client_secret": WEB_SECRET, "token": token}
    assert http.post("/v2/oauth/revoke/", data=form).status_code == 200
    assert_envelope_error(get_info(http, token, "open_id"), "access_token_invalid", 401)


def test_client_token_is_not_a_user_token(http: httpx.Client) -> None:
    form = {"client_key": WEB, "client_secret": WEB_SECRET, "grant_type": "client_credentials"}
    client_token = http.post("/v2/oauth/token/", data=form).json()["access_token"]
    assert client_token.startswith("clt.")
    assert_envelope_error(get_info(http, client_token, "open_id"), "access_token_invalid", 401)


def test_rate_limit_600_per_minute_sliding_window(
    sandbox: Sandbox, http: httpx.Client, token: str
) -> None:
    for _ in range(300):
        assert get_info(http, token, "open_id").status_code == 200
    sandbox.clock.advance(30)
    for _ in range(300):
        assert get_info(http, token, "open_id").status_code == 200
    assert_envelope_error(get_info(http, token, "open_id"), "rate_limit_exceeded", 429)

    # Another token has its own window.
    other = user_tokens(sandbox, http, ["user.info.basic"], username="ben")["access_token"]
    assert get_info(http, other, "open_id").status_code == 200

    # Sliding: at 59 s the first 300 are still in the window; at 60 s they have left it.
    sandbox.clock.advance(29)
    assert_envelope_error(get_info(http, token, "open_id"), "rate_limit_exceeded", 429)
    sandbox.clock.advance(1)
    for _ in range(300):
        assert get_info(http, token, "open_id").status_code == 200
    assert_envelope_error(get_info(http, token, "open_id"), "rate_limit_exceeded", 429)


def test_wrong_method_gets_the_envelope(http: httpx.Client, token: str) -> None:
    response = http.post(PATH, params={"fields": "open_id"}, headers={"Authorization": token})
    assert_envelope_error(response, "invalid_params", 405)
