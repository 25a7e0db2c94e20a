"""Property tests: whatever arrives at the OAuth, consent and user-info endpoints, the answer is
TikTok's shape for that endpoint and never a 5xx (DESIGN.md principle 6)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote, urlencode, urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.domain.errors import OAUTH_ERRORS
from mock_server.sandbox import Sandbox
from tests.forms import form_token
from tests.mock_server.api.conftest import LOG_ID, USER_TOKEN_FIELDS
from tests.mock_server.sandboxes import (
    ALL_SCOPES,
    NARROW,
    SANDBOX,
    WEB,
    WEB_LOOPBACK_REDIRECT,
    WEB_REDIRECT,
    WEB_SECRET,
    make_sandbox,
)

TOKEN = "/v2/oauth/token/"
REVOKE = "/v2/oauth/revoke/"
USER_INFO = "/v2/user/info/"
AUTHORIZE = "/v2/auth/authorize/"
EXAMPLES = settings(max_examples=150)

# Errors that would mean the sandbox itself failed.
SANDBOX_FAILURES = {"server_error", "temporarily_unavailable"}
ENVELOPE_CODES = {
    200: {"ok"},
    400: {"invalid_params", "scope_permission_missed"},
    401: {"access_token_invalid", "scope_not_authorized"},
    429: {"rate_limit_exceeded"},
}


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return make_sandbox()


@pytest.fixture(scope="module")
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with sandbox.client() as client:
        yield client


# -- strategies ---------------------------------------------------------------------------------

printable = st.characters(min_codepoint=32, max_codepoint=126)
any_text = st.text(max_size=40)
oauth_names = st.sampled_from(
    [
        "client_key",
        "client_secret",
        "grant_type",
        "code",
        "redirect_uri",
        "code_verifier",
        "refresh_token",
        "token",
    ]
)
oauth_values = st.sampled_from(
    [
        WEB,
        NARROW,
        WEB_SECRET,
        "authorization_code",
        "refresh_token",
        "client_credentials",
        WEB_REDIRECT,
        "act.x",
        "rft.x",
        "",
    ]
)
# Start from nothing, a known client key, or full client credentials, then add or override.
oauth_bases = st.sampled_from(
    [{}, {"client_key": WEB}, {"client_key": WEB, "client_secret": WEB_SECRET}]
)
oauth_forms = st.builds(
    lambda base, extra: {**base, **extra},
    oauth_bases,
    st.dictionaries(oauth_names | any_text, oauth_values | any_text, max_size=8),
)
content_types = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=UTF-8",
            "APPLICATION/X-WWW-FORM-URLENCODED",
            "application/json",
            "multipart/form-data; boundary=x",
            "text/plain",
            "",
        ]
    ),
    st.text(printable, max_size=40),
)
# Live credentials put into a form just before it is sent, so success paths are reached too.
live = st.sampled_from([None, "code", "refresh_token", "token"])


def raw_query(pairs: list[tuple[str, str]], junk: str) -> bytes:
    """A query string: encoded pairs, then arbitrary text percent-encoded except for `&=%,+;`."""
    encoded = urlencode(pairs)
    extra = quote(junk, safe="&=%,+;")
    return "&".join(p for p in (encoded, extra) if p).encode("ascii")


def url(path: str, query: bytes) -> httpx.URL:
    return httpx.URL(f"http://127.0.0.1:8080{path}", query=query)


def headers_for(content_type: str | None) -> dict[str, str]:
    return {} if content_type is None else {"Content-Type": content_type}


# -- checks -------------------------------------------------------------------------------------


def check_oauth(response: httpx.Response, path: str) -> None:
    assert response.status_code < 500, response.text
    if path == REVOKE and response.status_code == 200 and response.content == b"":
        return  # ref 2.5: revoke's success body is empty
    body = response.json()
    assert isinstance(body, dict)
    if "error" in body:
        assert set(body) == {"error", "error_description", "log_id"}, body
        assert body["error"] in OAUTH_ERRORS - SANDBOX_FAILURES, body
        assert isinstance(body["error_description"], str)
        assert LOG_ID.match(body["log_id"])
        assert response.status_code == 200  # the default "observed" status
    else:
        assert path == TOKEN, body
        assert set(body) in (USER_TOKEN_FIELDS, {"access_token", "expires_in", "token_type"})
        assert body["access_token"].startswith(("act.", "clt."))


def check_envelope(response: httpx.Response) -> None:
    assert response.status_code in ENVELOPE_CODES, response.text
    body = response.json()
    assert set(body) == {"data", "error"}
    assert set(body["error"]) == {"code", "message", "log_id"}
    assert body["error"]["code"] in ENVELOPE_CODES[response.status_code]
    assert LOG_ID.match(body["error"]["log_id"])
    assert response.headers["x-tt-logid"] == body["error"]["log_id"]
    if response.status_code == 200:
        assert set(body["data"]) == {"user"}
    else:
        assert body["data"] == {}


def check_html(response: httpx.Response, allowed: tuple[int, ...]) -> None:
    assert response.status_code in allowed, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!doctype html>")
    assert "Traceback" not in response.text


# -- properties ---------------------------------------------------------------------------------


def fill_live(sandbox: Sandbox, form: dict[str, str], which: str | None) -> None:
    if which == "code":
        form["code"] = sandbox.issue_code(WEB, "ana", ["user.info.basic"], WEB_REDIRECT)
    elif which in ("refresh_token", "token"):
        tokens = sandbox.issue_tokens(WEB, "ana", ["user.info.basic"], WEB_REDIRECT)
        form[which] = tokens["refresh_token" if which == "refresh_token" else "access_token"]


@EXAMPLES
@given(
    path=st.sampled_from([TOKEN, REVOKE]),
    form=oauth_forms,
    which=live,
    content_type=content_types,
)
def test_oauth_form_bodies(
    sandbox: Sandbox,
    http: httpx.Client,
    path: str,
    form: dict[str, str],
    which: str | None,
    content_type: str | None,
) -> None:
    fill_live(sandbox, form, which)
    response = http.post(path, content=urlencode(form), headers=headers_for(content_type))
    check_oauth(response, path)


@EXAMPLES
@given(path=st.sampled_from([TOKEN, REVOKE]), body=st.binary(max_size=300), ct=content_types)
def test_oauth_raw_bodies(http: httpx.Client, path: str, body: bytes, ct: str | None) -> None:
    check_oauth(http.post(path, content=body, headers=headers_for(ct)), path)


field_names = st.sampled_from(["open_id", "union_id", "display_name", "username", "video_count"])
fields_values = st.lists(field_names | any_text, max_size=5).map(",".join)
authorizations = st.one_of(
    st.none(),
    st.just("live"),
    st.text(printable, max_size=40),
    st.text(printable, max_size=40).map("Bearer ".__add__),
)


@EXAMPLES
@given(
    pairs=st.lists(st.tuples(st.just("fields") | any_text, fields_values | any_text), max_size=4),
    junk=st.text(max_size=30),
    authorization=authorizations,
)
def test_user_info_queries(
    sandbox: Sandbox,
    http: httpx.Client,
    pairs: list[tuple[str, str]],
    junk: str,
    authorization: str | None,
) -> None:
    headers = {}
    if authorization == "live":
        scopes = ["user.info.basic", "user.info.profile"]
        token = sandbox.issue_tokens(WEB, "ana", scopes, WEB_REDIRECT)["access_token"]
        headers["Authorization"] = f"Bearer {token}"
    elif authorization is not None:
        headers["Authorization"] = authorization
    check_envelope(http.get(url(USER_INFO, raw_query(pairs, junk)), headers=headers))


authorize_names = st.sampled_from(
    [
        "client_key",
        "scope",
        "redirect_uri",
        "state",
        "response_type",
        "code_challenge",
        "code_challenge_method",
        "decision",
        "creator",
        "granted",
    ]
)
authorize_values = st.sampled_from(
    [
        WEB,
        NARROW,
        SANDBOX,
        ",".join(ALL_SCOPES),
        "user.info.basic",
        "video.publish",
        WEB_REDIRECT,
        WEB_LOOPBACK_REDIRECT,
        "http://127.0.0.1:4000/callback/",
        "http://127.0.0.1:*/callback/",
        "http://[::1/callback/",
        "code",
        "approve",
        "deny",
        "ana",
        "cora",
        "S256",
        "",
    ]
)
authorize_pairs = st.lists(st.tuples(authorize_names | any_text, authorize_values | any_text))
VALID = [
    ("client_key", WEB),
    ("scope", "user.info.basic,video.upload"),
    ("redirect_uri", WEB_REDIRECT),
    ("response_type", "code"),
]


@EXAMPLES
@given(pairs=authorize_pairs, junk=st.text(max_size=30), start_valid=st.booleans())
def test_authorize_page_queries(
    http: httpx.Client, pairs: list[tuple[str, str]], junk: str, start_valid: bool
) -> None:
    query = raw_query([*(VALID if start_valid else []), *pairs], junk)
    check_html(http.get(url(AUTHORIZE, query)), (200, 400))


@EXAMPLES
@given(
    pairs=authorize_pairs,
    raw=st.none() | st.binary(max_size=200),
    start_valid=st.booleans(),
    content_type=content_types,
)
def test_authorize_decisions(
    http: httpx.Client,
    pairs: list[tuple[str, str]],
    raw: bytes | None,
    start_valid: bool,
    content_type: str | None,
) -> None:
    # A valid start carries the form token of the page for those parameters, as a browser's
    # post would; what the pairs add may still make it another page's token.
    page = http.get(AUTHORIZE, params=VALID) if start_valid else None
    token = [("csrf_token", form_token(page.text))] if page is not None else []
    fields = [*(VALID if start_valid else []), *token, *pairs]
    body = urlencode(fields).encode() if raw is None else raw
    response = http.post(AUTHORIZE, content=body, headers=headers_for(content_type))
    if response.status_code == 302:
        location = response.headers["location"]
        target = urlsplit(location)
        assert target.scheme in ("http", "https") and target.hostname in (
            "app.example.com",
            "127.0.0.1",
        ), location
        query = target.query
        assert ("code=" in query and "scopes=" in query) or "error=access_denied" in query
    else:
        check_html(response, (200, 400, 403))
