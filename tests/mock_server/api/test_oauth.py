"""`POST /v2/oauth/token/` and `/v2/oauth/revoke/` over the in-process transport (ref 2.4-2.6)."""

from __future__ import annotations

import json

import httpx
import pytest

from mock_server.sandbox import Sandbox
from mock_server.state import ServerOptions
from tests.mock_server.api.conftest import (
    USER_TOKEN_FIELDS,
    assert_oauth_error,
    exchange,
    user_tokens,
)
from tests.mock_server.sandboxes import (
    NARROW,
    NARROW_SECRET,
    WEB,
    WEB_LOOPBACK_REDIRECT,
    WEB_REDIRECT,
    WEB_SECRET,
    frozen_clock,
    make_sandbox,
    scenario,
)

TOKEN = "/v2/oauth/token/"
REVOKE = "/v2/oauth/revoke/"
CLIENT = {"client_key": WEB, "client_secret": WEB_SECRET}


def test_authorization_code_success_is_flat(sandbox: Sandbox, http: httpx.Client) -> None:
    code = sandbox.issue_code(WEB, "ana", ["user.info.basic", "video.upload"], WEB_REDIRECT)
    response = exchange(http, code)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == USER_TOKEN_FIELDS
    assert body["access_token"].startswith("act.")
    assert body["refresh_token"].startswith("rft.")
    assert (body["expires_in"], body["refresh_expires_in"]) == (7200, 180 * 86400)
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "user.info.basic,video.upload"
    creators = http.get("/_sandbox/creators", params={"client_key": WEB}).json()["creators"]
    assert body["open_id"] == next(c["open_id"] for c in creators if c["username"] == "ana")
    # ref 2.2: single use.
    assert_oauth_error(exchange(http, code), "invalid_grant")


def test_legacy_profile_over_http() -> None:
    sandbox = make_sandbox(web={"token_profile": "legacy"})
    with sandbox.client() as http:
        body = user_tokens(sandbox, http, ["user.info.basic"])
    assert (body["expires_in"], body["refresh_expires_in"]) == (86400, 365 * 86400)


def test_code_expires(sandbox: Sandbox, http: httpx.Client) -> None:
    code = sandbox.issue_code(WEB, "ana", ["user.info.basic"], WEB_REDIRECT)
    sandbox.clock.advance(300)
    body = assert_oauth_error(exchange(http, code), "invalid_grant")
    assert "expired" in body["error_description"]


def test_redirect_uri_mismatch(sandbox: Sandbox, http: httpx.Client) -> None:
    code = sandbox.issue_code(WEB, "ana", ["user.info.basic"], WEB_REDIRECT)
    body = assert_oauth_error(
        exchange(http, code, redirect_uri=WEB_LOOPBACK_REDIRECT), "invalid_request"
    )
    assert body["error_description"] == (
        "Redirect_uri is not matched with the uri when requesting code."
    )


def test_pkce_over_http(sandbox: Sandbox, http: httpx.Client) -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    grant = http.post(
        "/_sandbox/authorize",
        json={
            "client_key": WEB,
            "username": "ana",
            "scopes": ["user.info.basic"],
            "redirect_uri": WEB_REDIRECT,
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        },
    )
    assert grant.status_code == 200, grant.text
    code = grant.json()["code"]
    body = assert_oauth_error(exchange(http, code, code_verifier="x" * 43), "invalid_request")
    assert body["error_description"] == "Code verifier or code challenge is invalid."
    assert exchange(http, code, code_verifier=verifier).status_code == 200


def test_refresh_rotates(sandbox: Sandbox, http: httpx.Client) -> None:
    first = user_tokens(sandbox, http, ["user.info.basic"])
    sandbox.clock.advance(3600)
    form = {**CLIENT, "grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    response = http.post(TOKEN, data=form)
    assert response.status_code == 200
    second = response.json()
    assert set(second) == USER_TOKEN_FIELDS
    assert second["refresh_token"].startswith("rft.")
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["open_id"] == first["open_id"]
    assert second["expires_in"] == 7200
    assert second["refresh_expires_in"] == 180 * 86400 - 3600
    assert_oauth_error(http.post(TOKEN, data=form), "invalid_grant")
    form["refresh_token"] = second["refresh_token"]
    assert http.post(TOKEN, data=form).status_code == 200


def test_client_credentials_has_only_three_fields(http: httpx.Client) -> None:
    response = http.post(TOKEN, data={**CLIENT, "grant_type": "client_credentials"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["access_token"].startswith("clt.")
    assert (body["expires_in"], body["token_type"]) == (7200, "Bearer")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "client_credentials"}, "invalid_request"),
        ({"grant_type": "client_credentials", "client_key": WEB}, "invalid_request"),
        ({**CLIENT}, "invalid_request"),
        ({**CLIENT, "grant_type": "password"}, "unsupported_grant_type"),
        ({**CLIENT, "grant_type": "AUTHORIZATION_CODE"}, "unsupported_grant_type"),
        ({**CLIENT, "grant_type": "authorization_code"}, "invalid_request"),
        ({**CLIENT, "grant_type": "authorization_code", "code": "abc"}, "invalid_request"),
        (
            {**CLIENT, "grant_type": "authorization_code", "code": "abc", "redirect_uri": "x"},
            "invalid_grant",
        ),
        ({**CLIENT, "grant_type": "refresh_token"}, "invalid_request"),
        ({**CLIENT, "grant_type": "refresh_token", "refresh_token": "rft.x"}, "invalid_grant"),
        (
            {"client_key": WEB, "client_secret": "nope", "grant_type": "client_credentials"},
            "invalid_client",
        ),
        (
            {"client_key": "awnosuch", "client_secret": "x", "grant_type": "client_credentials"},
            "invalid_client",
        ),
        (
            {"client_key": NARROW, "client_secret": WEB_SECRET, "grant_type": "client_credentials"},
            "invalid_client",
        ),
    ],
)
def test_errors_are_flat_with_http_200(
    http: httpx.Client, form: dict[str, str], error: str
) -> None:
    assert_oauth_error(http.post(TOKEN, data=form), error, 200)


def test_missing_parameter_wording(http: httpx.Client) -> None:
    body = assert_oauth_error(
        http.post(TOKEN, data={"grant_type": "client_credentials"}), "invalid_request"
    )
    assert body["error_description"].startswith("The request is missing a required parameter.")


@pytest.mark.parametrize(
    ("form", "error", "status"),
    [
        ({"grant_type": "client_credentials"}, "invalid_request", 400),
        ({**CLIENT, "grant_type": "password"}, "unsupported_grant_type", 400),
        ({**CLIENT, "grant_type": "refresh_token", "refresh_token": "rft.x"}, "invalid_grant", 400),
        (
            {"client_key": WEB, "client_secret": "nope", "grant_type": "client_credentials"},
            "invalid_client",
            401,
        ),
    ],
)
def test_rfc_error_statuses_when_the_scenario_asks(
    form: dict[str, str], error: str, status: int
) -> None:
    sandbox = make_sandbox(oauth={"error_status": "rfc"})
    with sandbox.client() as http:
        assert_oauth_error(http.post(TOKEN, data=form), error, status)
        revoke = http.post(REVOKE, data={"client_key": WEB, "client_secret": "nope", "token": "t"})
        assert_oauth_error(revoke, "invalid_client", 401)
        # Successes are unchanged.
        ok = http.post(TOKEN, data={**CLIENT, "grant_type": "client_credentials"})
        assert ok.status_code == 200


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/json", json.dumps({**CLIENT, "grant_type": "client_credentials"})),
        ("text/plain", "client_key=x"),
        ("multipart/form-data; boundary=x", "--x--"),
    ],
)
@pytest.mark.parametrize("path", [TOKEN, REVOKE])
def test_only_form_bodies_are_read(
    http: httpx.Client, path: str, content_type: str, content: str
) -> None:
    response = http.post(path, content=content, headers={"Content-Type": content_type})
    body = assert_oauth_error(response, "invalid_request")
    assert body["error_description"] == "The request parameters are malformed."


def test_form_with_charset_parameter_is_read(http: httpx.Client) -> None:
    content = f"client_key={WEB}&client_secret={WEB_SECRET}&grant_type=client_credentials"
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}
    assert http.post(TOKEN, content=content, headers=headers).status_code == 200


def test_body_that_is_not_utf8(http: httpx.Client) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = http.post(TOKEN, content=b"client_key=\xff\xfe", headers=headers)
    assert_oauth_error(response, "invalid_request")


def test_body_over_the_limit() -> None:
    sandbox = Sandbox(scenario(), clock=frozen_clock(), options=ServerOptions(max_body_bytes=256))
    with sandbox.client() as http:
        form = {**CLIENT, "grant_type": "client_credentials", "pad": "x" * 300}
        assert_oauth_error(http.post(TOKEN, data=form), "invalid_request")
        small = http.post(TOKEN, data={**CLIENT, "grant_type": "client_credentials"})
        assert small.status_code == 200


def test_wrong_method_is_a_flat_error(http: httpx.Client) -> None:
    assert_oauth_error(http.get(TOKEN), "invalid_request", 405)


# -- revoke -------------------------------------------------------------------------------------


def test_revoke_success_has_an_empty_body(sandbox: Sandbox, http: httpx.Client) -> None:
    tokens = user_tokens(sandbox, http, ["user.info.basic"])
    response = http.post(REVOKE, data={**CLIENT, "token": tokens["access_token"]})
    assert response.status_code == 200
    assert response.content == b""
    info = http.get(
        "/v2/user/info/",
        params={"fields": "open_id"},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert (info.status_code, info.json()["error"]["code"]) == (401, "access_token_invalid")
    refresh = {**CLIENT, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    assert_oauth_error(http.post(TOKEN, data=refresh), "invalid_grant")
    # Revoked already: nothing left to revoke.
    again = http.post(REVOKE, data={**CLIENT, "token": tokens["access_token"]})
    assert_oauth_error(again, "invalid_grant")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({**CLIENT}, "invalid_request"),
        ({**CLIENT, "token": ""}, "invalid_request"),
        ({**CLIENT, "token": "act.unknown"}, "invalid_grant"),
        ({"client_key": WEB, "token": "act.unknown"}, "invalid_request"),
        ({"client_key": WEB, "client_secret": "bad", "token": "act.x"}, "invalid_client"),
        ({"client_key": NARROW, "client_secret": NARROW_SECRET, "token": "act.x"}, "invalid_grant"),
    ],
)
def test_revoke_errors(http: httpx.Client, form: dict[str, str], error: str) -> None:
    assert_oauth_error(http.post(REVOKE, data=form), error)


def test_revoke_by_another_client_is_refused(sandbox: Sandbox, http: httpx.Client) -> None:
    tokens = user_tokens(sandbox, http, ["user.info.basic"])
    form = {"client_key": NARROW, "client_secret": NARROW_SECRET, "token": tokens["access_token"]}
    assert_oauth_error(http.post(REVOKE, data=form), "invalid_grant")
    info = http.get(
        "/v2/user/info/",
        params={"fields": "open_id"},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert info.status_code == 200
