"""The consent flow at `/v2/auth/authorize/` over HTTP, without a browser (ref 2.1-2.3, 15.3)."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from mock_server.sandbox import Sandbox
from tests.mock_server.api.conftest import assert_oauth_error, exchange
from tests.mock_server.sandboxes import (
    ALL_SCOPES,
    NARROW,
    SANDBOX,
    SANDBOX_SECRET,
    WEB,
    WEB_LOOPBACK_REDIRECT,
    WEB_REDIRECT,
    WEB_SECRET,
    make_sandbox,
)

AUTHORIZE = "/v2/auth/authorize/"
DESKTOP_REDIRECT = "http://127.0.0.1:53682/callback/"


def request_params(**overrides: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "client_key": WEB,
        "scope": "user.info.basic,video.upload,video.publish",
        "redirect_uri": WEB_REDIRECT,
        "state": "s-1&a=b c/é",
        "response_type": "code",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


class ConsentForm(HTMLParser):
    """What a browser would submit from the consent page's form."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.action = ""
        self.hidden: list[tuple[str, str]] = []
        self.creators: list[str] = []
        self.scopes: list[str] = []  # every scope checkbox, ticked by default
        self.locked: list[str] = []  # checkboxes the person cannot untick
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a.get("action", "")
        if tag != "input":
            return
        if a.get("type") == "hidden":
            self.hidden.append((a["name"], a["value"]))
        elif a.get("type") == "radio" and a.get("name") == "creator":
            self.creators.append(a["value"])
        elif a.get("type") == "checkbox" and a.get("name") == "granted":
            self.scopes.append(a["value"])
            if "disabled" in a:
                self.locked.append(a["value"])

    def submit(
        self, decision: str, creator: str | None = None, granted: list[str] | None = None
    ) -> list[tuple[str, str]]:
        ticked = self.scopes if granted is None else granted
        fields = [*self.hidden, ("decision", decision)]
        if creator is not None:
            fields.append(("creator", creator))
        fields += [("granted", s) for s in ticked if s not in self.locked]
        return fields


def post_form(http: httpx.Client, fields: list[tuple[str, str]]) -> httpx.Response:
    """POST a form with repeated keys, as a browser sends the consent form."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return http.post(AUTHORIZE, content=urlencode(fields), headers=headers)


def show(http: httpx.Client, **overrides: str | None) -> httpx.Response:
    return http.get(AUTHORIZE, params=request_params(**overrides))


def consent(
    http: httpx.Client,
    decision: str = "approve",
    creator: str | None = "ana",
    granted: list[str] | None = None,
    **overrides: str | None,
) -> httpx.Response:
    page = show(http, **overrides)
    assert page.status_code == 200, page.text
    form = ConsentForm(page.text)
    assert form.action == AUTHORIZE
    return post_form(http, form.submit(decision, creator, granted))


def redirect_query(response: httpx.Response, redirect_uri: str) -> dict[str, list[str]]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(redirect_uri + "?")
    return parse_qs(urlsplit(location).query, keep_blank_values=True)


def page_error(response: httpx.Response) -> tuple[str, str | None]:
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "location" not in response.headers
    error = re.search(r"<code id=error>([^<]*)</code>", response.text)
    kind = re.search(r"<code id=error-type>([^<]*)</code>", response.text)
    assert error is not None
    return error.group(1), kind.group(1) if kind else None


# -- the page -----------------------------------------------------------------------------------


def test_consent_page_lists_app_scopes_and_creators(http: httpx.Client) -> None:
    response = show(http)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "Web Scheduler" in html
    form = ConsentForm(html)
    assert form.scopes == ["user.info.basic", "video.upload", "video.publish"]
    assert "user.info.profile" not in html  # approved for the app but not requested
    assert form.creators == ["ana", "ben", "cora"]
    for nickname in ("Ana Makes", "Ben Private", "Cora Cooks"):
        assert nickname in html
    assert dict(form.hidden)["state"] == "s-1&a=b c/é"
    assert form.locked == ["user.info.basic"]


def test_consent_page_escapes_what_the_request_carries(http: httpx.Client) -> None:
    response = show(http, state="'><script>alert(1)</script>")
    assert "<script>alert(1)" not in response.text
    assert dict(ConsentForm(response.text).hidden)["state"] == "'><script>alert(1)</script>"


# -- decisions ----------------------------------------------------------------------------------


def test_approve_redirects_with_code_scopes_and_state(http: httpx.Client) -> None:
    response = consent(http)
    location = response.headers["location"]
    query = redirect_query(response, WEB_REDIRECT)
    assert set(query) == {"code", "scopes", "state"}
    assert query["scopes"] == ["user.info.basic,video.upload,video.publish"]
    assert query["state"] == ["s-1&a=b c/é"]
    code = query["code"][0]
    # ref 2.2: the code carries `*` and `!`, URL-encoded in the redirect.
    assert "*" in code and "!" in code
    assert "*" not in location and "!" not in location
    assert "%2A" in location and "%21" in location
    token = exchange(http, code)
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "user.info.basic,video.upload,video.publish"


def test_a_code_sent_still_encoded_is_not_accepted(http: httpx.Client) -> None:
    location = consent(http).headers["location"]
    raw = re.search(r"[?&]code=([^&]*)", location)
    assert raw is not None and "%2A" in raw.group(1)
    assert exchange(http, raw.group(1)).json()["error"] == "invalid_grant"


def test_state_is_optional(http: httpx.Client) -> None:
    response = consent(http, state=None)
    assert set(redirect_query(response, WEB_REDIRECT)) == {"code", "scopes"}


def test_partial_consent(http: httpx.Client) -> None:
    query = redirect_query(consent(http, granted=["video.upload"]), WEB_REDIRECT)
    assert query["scopes"] == ["user.info.basic,video.upload"]


def test_user_info_basic_cannot_be_unticked(http: httpx.Client) -> None:
    page = ConsentForm(show(http).text)
    # A hand-made POST with no hidden basic input and only video.publish granted.
    fields = [(k, v) for k, v in page.hidden if k != "granted"]
    fields += [("decision", "approve"), ("creator", "ana"), ("granted", "video.publish")]
    query = redirect_query(post_form(http, fields), WEB_REDIRECT)
    assert query["scopes"] == ["user.info.basic,video.publish"]


def test_granted_scopes_outside_the_request_are_ignored(http: httpx.Client) -> None:
    page = ConsentForm(show(http, scope="user.info.basic").text)
    fields = [*page.submit("approve", "ana"), ("granted", "video.publish")]
    query = redirect_query(post_form(http, fields), WEB_REDIRECT)
    assert query["scopes"] == ["user.info.basic"]


def test_deny_redirects_with_access_denied_and_state(http: httpx.Client) -> None:
    query = redirect_query(consent(http, decision="deny"), WEB_REDIRECT)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["s-1&a=b c/é"]
    assert "code" not in query and "error_type" not in query


def test_approve_without_choosing_a_creator_stays_on_the_page(http: httpx.Client) -> None:
    response = consent(http, creator=None)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "Choose the account" in response.text
    assert ConsentForm(response.text).creators == ["ana", "ben", "cora"]


# ref 2.1 (desktop doc): the verifier's hex SHA-256 is TikTok's code_challenge.
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
HEX_CHALLENGE = hashlib.sha256(VERIFIER.encode()).hexdigest()
B64_CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).decode()
DESKTOP = {
    "client_key": SANDBOX,
    "redirect_uri": DESKTOP_REDIRECT,
    "scope": "user.info.basic",
    "code_challenge": HEX_CHALLENGE,
    "code_challenge_method": "S256",
}


def desktop_exchange(http: httpx.Client, response: httpx.Response, **form: str) -> httpx.Response:
    code = redirect_query(response, DESKTOP_REDIRECT)["code"][0]
    return exchange(
        http,
        code,
        client_key=SANDBOX,
        client_secret=SANDBOX_SECRET,
        redirect_uri=DESKTOP_REDIRECT,
        **form,
    )


def test_sandbox_app_target_user_gets_a_code_on_the_desktop_port(http: httpx.Client) -> None:
    response = consent(http, **DESKTOP)
    token = desktop_exchange(http, response, code_verifier=VERIFIER)
    assert token.status_code == 200 and "access_token" in token.json()


def test_sandbox_app_refuses_a_non_target_creator(http: httpx.Client) -> None:
    response = consent(http, creator="cora", **DESKTOP)
    query = redirect_query(response, DESKTOP_REDIRECT)
    assert query["error"] == ["access_denied"]
    assert query["error_type"] == ["non_sandbox_target"]
    assert query["state"] == ["s-1&a=b c/é"]
    assert "code" not in query


# -- PKCE (ref 2.1; OQ 3) ------------------------------------------------------------------------


def test_a_desktop_app_without_code_challenge_is_shown_the_page_error(http: httpx.Client) -> None:
    page = show(http, **{**DESKTOP, "code_challenge": None, "code_challenge_method": None})
    assert page_error(page) == ("invalid_request", "code_challenge")
    assert "hex-encoded SHA-256" in page.text


def test_a_base64url_challenge_fails_at_token_exchange_naming_the_hex_form(
    http: httpx.Client,
) -> None:
    """3p: the authorize page takes an RFC 7636 challenge; the exchange then fails with
    "Code verifier or code challenge is invalid." (the sandbox adds what TikTok expects)."""
    response = consent(http, **{**DESKTOP, "code_challenge": B64_CHALLENGE.rstrip("=")})
    token = desktop_exchange(http, response, code_verifier=VERIFIER)
    body = assert_oauth_error(token, "invalid_request")
    assert body["error_description"].startswith("Code verifier or code challenge is invalid.")
    assert "hex-encoded SHA-256 of code_verifier" in body["error_description"]


@pytest.mark.parametrize(
    ("settings", "challenge", "ok"),
    [
        ({"pkce_challenge": "either"}, B64_CHALLENGE.rstrip("="), True),
        ({"pkce_challenge": "either"}, HEX_CHALLENGE, True),
        ({"pkce_challenge": "base64url"}, B64_CHALLENGE.rstrip("="), True),
        ({"pkce_challenge": "base64url"}, HEX_CHALLENGE, False),
        ({"pkce_challenge": "hex"}, HEX_CHALLENGE.upper(), True),
    ],
)
def test_the_lenient_challenge_forms_are_app_settings(
    settings: dict[str, str], challenge: str, ok: bool
) -> None:
    sandbox = make_sandbox(sandbox=settings)
    with sandbox.client() as http:
        response = consent(http, **{**DESKTOP, "code_challenge": challenge})
        token = desktop_exchange(http, response, code_verifier=VERIFIER)
    if ok:
        assert token.status_code == 200 and "access_token" in token.json(), token.text
    else:
        body = assert_oauth_error(token, "invalid_request")
        assert "base64url" in body["error_description"]


def test_pkce_required_false_lets_a_desktop_app_go_without() -> None:
    sandbox = make_sandbox(sandbox={"pkce_required": False})
    with sandbox.client() as http:
        no_pkce = {**DESKTOP, "code_challenge": None, "code_challenge_method": None}
        token = desktop_exchange(http, consent(http, **no_pkce))
    assert token.status_code == 200, token.text


def test_web_apps_need_pkce_only_when_the_app_says_so(http: httpx.Client) -> None:
    assert consent(http).status_code == 302
    sandbox = make_sandbox(web={"pkce_required": True})
    with sandbox.client() as strict:
        assert page_error(show(strict)) == ("invalid_request", "code_challenge")


# -- bad requests -------------------------------------------------------------------------------


BAD_REQUESTS = [
    ({"client_key": "awnosuchapp"}, "unauthorized_client", "client_key"),
    ({"client_key": None}, "unauthorized_client", "client_key"),
    ({"redirect_uri": "https://evil.example/callback"}, "invalid_request", "redirect_uri"),
    ({"redirect_uri": WEB_REDIRECT + "?x=1"}, "invalid_request", "redirect_uri"),
    ({"redirect_uri": None}, "invalid_request", "redirect_uri"),
    ({"redirect_uri": "http://[::1/callback/"}, "invalid_request", "redirect_uri"),
    ({"response_type": "token"}, "unsupported_response_type", "response_type"),
    ({"response_type": None}, "unsupported_response_type", "response_type"),
    ({"client_key": NARROW, "scope": "user.info.basic,video.publish"}, "invalid_scope", "scope"),
    ({"scope": "user.info.basic,user.email"}, "invalid_scope", "scope"),
    ({"scope": None}, "invalid_scope", "scope"),
    (
        {"code_challenge": "abc", "code_challenge_method": "plain"},
        "invalid_request",
        "code_challenge_method",
    ),
]


@pytest.mark.parametrize(("overrides", "error", "error_type"), BAD_REQUESTS)
def test_bad_request_is_an_error_page_without_redirect(
    http: httpx.Client, overrides: dict[str, str | None], error: str, error_type: str
) -> None:
    assert page_error(show(http, **overrides)) == (error, error_type)


@pytest.mark.parametrize(("overrides", "error", "error_type"), BAD_REQUESTS[:8])
def test_bad_request_posted_from_a_tampered_form_is_refused_too(
    http: httpx.Client, overrides: dict[str, str | None], error: str, error_type: str
) -> None:
    fields = {**request_params(**overrides), "decision": "approve", "creator": "ana"}
    assert page_error(http.post(AUTHORIZE, data=fields)) == (error, error_type)


def test_the_wildcard_port_itself_is_not_a_redirect_target(http: httpx.Client) -> None:
    response = show(http, client_key=SANDBOX, redirect_uri="http://127.0.0.1:*/callback/")
    assert page_error(response) == ("invalid_request", "redirect_uri")


def test_unregistered_port_on_a_fixed_port_uri(http: httpx.Client) -> None:
    other_port = WEB_LOOPBACK_REDIRECT.replace(":3000", ":3001")
    assert page_error(show(http, redirect_uri=other_port)) == ("invalid_request", "redirect_uri")


def test_page_errors_are_escaped(http: httpx.Client) -> None:
    response = show(http, scope="<b>nope</b>")
    assert page_error(response) == ("invalid_scope", "scope")
    assert "<b>nope</b>" not in response.text


# -- determinism --------------------------------------------------------------------------------


def run_flow(sandbox: Sandbox) -> list[object]:
    """One app's whole journey; every response body, headers that carry ids included."""
    seen: list[object] = []
    with sandbox.client() as http:
        approved = consent(http, scope=",".join(ALL_SCOPES))
        code = redirect_query(approved, WEB_REDIRECT)["code"][0]
        tokens = exchange(http, code)
        seen += [code, tokens.json()]
        sandbox.clock.advance(60)
        refresh = {
            "client_key": WEB,
            "client_secret": WEB_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": tokens.json()["refresh_token"],
        }
        refreshed = http.post("/v2/oauth/token/", data=refresh)
        seen.append(refreshed.json())
        info = http.get(
            "/v2/user/info/",
            params={"fields": "open_id,union_id,display_name,username"},
            headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"},
        )
        seen += [info.json(), info.headers["x-tt-logid"]]
        seen.append(http.post("/v2/oauth/token/", data=refresh).json())  # an error's log_id
        denied = consent(http, decision="deny")
        seen.append(denied.headers["location"])
    return seen


def test_same_seed_and_clock_give_identical_responses() -> None:
    first, second = run_flow(make_sandbox(seed=11)), run_flow(make_sandbox(seed=11))
    assert first == second
    assert run_flow(make_sandbox(seed=12))[0] != first[0]


# -- the form token: only the consent page itself can post the consent ------------------------


def test_a_consent_post_without_the_pages_form_token_is_refused(http: httpx.Client) -> None:
    fields = ConsentForm(show(http).text).submit("approve", "ana")
    for tampered in (
        [(k, v) for k, v in fields if k != "csrf_token"],  # a page on another origin's post
        [(k, "0" * 64 if k == "csrf_token" else v) for k, v in fields],
    ):
        response = post_form(http, tampered)
        assert response.status_code == 403
        assert "location" not in response.headers  # nothing is sent to the app
        assert "open the authorize url again" in response.text.lower()
    journal = http.get("/_sandbox/journal", params={"path": AUTHORIZE}).json()["entries"]
    assert [e["rule"] for e in journal[:2]] == ["consent_form_token"] * 2


@pytest.mark.parametrize("changed", ["state", "redirect_uri", "scope", "code_challenge"])
def test_a_form_token_only_fits_the_request_its_page_showed(
    http: httpx.Client, changed: str
) -> None:
    other = {
        "state": "another-state",
        "redirect_uri": WEB_LOOPBACK_REDIRECT,
        "scope": "user.info.basic",
        "code_challenge": "a" * 64,
    }[changed]
    token = dict(ConsentForm(show(http).text).hidden)["csrf_token"]
    fields = ConsentForm(show(http, **{changed: other}).text).submit("approve", "ana")
    swapped = [(k, token if k == "csrf_token" else v) for k, v in fields]
    assert post_form(http, swapped).status_code == 403
    assert post_form(http, fields).status_code == 302  # its own token fits


def test_a_denial_needs_the_form_token_too(http: httpx.Client) -> None:
    fields = ConsentForm(show(http).text).submit("deny")
    forged = [(k, v) for k, v in fields if k != "csrf_token"]
    assert post_form(http, forged).status_code == 403
    assert "error=access_denied" in post_form(http, fields).headers["location"]


def test_the_consent_page_cannot_be_framed(http: httpx.Client) -> None:
    page = show(http)
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


@pytest.mark.parametrize(("host", "status"), [("evil.example", 403), ("www.tiktok.com", 302)])
def test_a_consent_post_is_answered_only_under_the_sandboxs_or_tiktoks_names(
    http: httpx.Client, host: str, status: int
) -> None:
    # DNS rebinding: a page whose own name now points at 127.0.0.1 can read the consent page
    # (a TikTok path, open under any name) but its post of the form is refused.
    page = http.get(AUTHORIZE, params=request_params(), headers={"Host": host})
    fields = ConsentForm(page.text).submit("approve", "ana")
    response = http.post(
        AUTHORIZE,
        content=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Host": host},
    )
    assert response.status_code == status
    if status == 403:
        assert "location" not in response.headers
