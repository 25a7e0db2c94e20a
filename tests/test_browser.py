"""End to end: the consent page in headless Debian Chromium, driven by Playwright (ref 2.1-2.3).

The sandbox runs as a real uvicorn server on a free loopback port (`Sandbox().serve()`). The
app's redirect URI is never served: Playwright intercepts the navigation to it and answers with
a small page, so the test reads `code`, `scopes`, `state` or `error` from the URL the browser
landed on. Every request the browser makes to anything but 127.0.0.1 is aborted and reported.

Chromium is Debian's (`/usr/bin/chromium`); Playwright's own browser download is never used.
Without it these tests skip, unless TIKTOK_SANDBOX_REQUIRE_BROWSER=1 (as `scripts/test` and CI
set), which turns the skip into a failure.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from mock_server import RunningServer, Sandbox

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
REQUIRE_BROWSER = os.environ.get("TIKTOK_SANDBOX_REQUIRE_BROWSER") == "1"
TIMEOUT_MS = 15_000

# From scenarios/default.yaml.
ACME = "awacmescheduler01"
ACME_CALLBACK = "http://127.0.0.1:3000/callback/"
ACME_SANDBOX = "sbawacmesandbox01"  # registered redirect: http://127.0.0.1:*/callback/


def _unavailable(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (TIKTOK_SANDBOX_REQUIRE_BROWSER=1, so this is a failure)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, with a fresh profile (Playwright makes a temp user-data-dir)."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright's Python package is missing: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def server() -> Iterator[tuple[Sandbox, RunningServer]]:
    """A fresh default-scenario sandbox served on a free loopback port, stopped afterwards."""
    sandbox = Sandbox("default", seed=7)
    with sandbox.serve(host="127.0.0.1", port=0) as running:
        yield sandbox, running


@dataclass
class Callback:
    """The app's redirect URI as the browser saw it, without anything listening there."""

    hits: list[str] = field(default_factory=list)

    @property
    def query(self) -> dict[str, str]:
        assert len(self.hits) == 1, f"expected one redirect to the app, got {self.hits}"
        return {k: v[0] for k, v in parse_qs(urlsplit(self.hits[0]).query).items()}


@dataclass
class Browsing:
    page: Any
    off_loopback: list[str]

    def intercept(self, pattern: str) -> Callback:
        callback = Callback()

        def answer(route: Any) -> None:
            callback.hits.append(route.request.url)
            route.fulfill(
                status=200,
                content_type="text/html",
                body="<!doctype html><title>callback</title><p id=landed>back at the app</p>",
            )

        self.page.route(pattern, answer)
        return callback


@pytest.fixture
def browsing(browser: Any) -> Iterator[Browsing]:
    """A fresh browser context (no cookies) whose traffic cannot leave 127.0.0.1."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    off_loopback: list[str] = []

    def loopback_only(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            off_loopback.append(route.request.url)
            route.abort()

    context.route("**/*", loopback_only)  # page.route() handlers take precedence
    try:
        yield Browsing(context.new_page(), off_loopback)
        assert off_loopback == [], f"the browser tried to leave loopback: {off_loopback}"
    finally:
        context.close()


def authorize_url(
    base: str,
    client_key: str,
    scopes: list[str],
    redirect_uri: str,
    code_challenge: str | None = None,
) -> str:
    params = {
        "client_key": client_key,
        "scope": ",".join(scopes),
        "redirect_uri": redirect_uri,
        "state": "st-8f3a/xyz",
        "response_type": "code",
    }
    if code_challenge:
        params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
    return f"{base}/v2/auth/authorize/?{urlencode(params)}"


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_approve_with_one_scope_unticked_then_exchange_and_read_user_info(
    server: tuple[Sandbox, RunningServer], browsing: Browsing
) -> None:
    _, running = server
    page = browsing.page
    callback = browsing.intercept(ACME_CALLBACK + "**")
    requested = ["user.info.basic", "user.info.profile", "video.publish"]

    response = page.goto(authorize_url(running.url, ACME, requested, ACME_CALLBACK))
    assert response is not None and response.status == 200
    assert "Acme Scheduler" in page.locator("h1").inner_text()
    for scope in requested:
        box = page.locator(f"input[name=granted][data-scope='{scope}']")
        assert box.is_checked(), scope
        assert scope in page.locator("form").inner_text()
    assert page.locator("input[data-scope='user.info.basic']").is_disabled()  # required scope
    for username in ("ana_makes", "ben_private", "cora.cooks"):
        assert page.locator(f"input[name=creator][data-creator='{username}']").count() == 1

    page.check("input[name=creator][data-creator='ana_makes']")
    page.uncheck("input[name=granted][data-scope='video.publish']")
    page.click("#approve")
    page.wait_for_url(ACME_CALLBACK + "**")
    assert page.locator("#landed").inner_text() == "back at the app"

    query = callback.query
    assert page.url.startswith(ACME_CALLBACK + "?")
    assert query["scopes"] == "user.info.basic,user.info.profile"
    assert query["state"] == "st-8f3a/xyz"
    assert query["code"]
    assert "error" not in query

    with httpx.Client(base_url=running.url, timeout=10) as http:
        apps = {a["client_key"]: a for a in http.get("/_sandbox/apps").json()["apps"]}
        token = http.post(
            "/v2/oauth/token/",
            data={
                "client_key": ACME,
                "client_secret": apps[ACME]["client_secret"],
                "code": query["code"],
                "grant_type": "authorization_code",
                "redirect_uri": ACME_CALLBACK,
            },
        )
        assert token.status_code == 200, token.text
        tokens = token.json()
        assert tokens["access_token"].startswith("act.")
        assert tokens["refresh_token"].startswith("rft.")
        assert tokens["scope"] == "user.info.basic,user.info.profile"

        info = http.get(
            "/v2/user/info/",
            params={"fields": "open_id,display_name,username"},
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        assert info.status_code == 200, info.text
        body = info.json()
        assert body["error"]["code"] == "ok"
        assert body["data"]["user"]["display_name"] == "Ana Makes Things"
        assert body["data"]["user"]["username"] == "ana_makes"
        assert body["data"]["user"]["open_id"] == tokens["open_id"]

        # The code was used by the exchange above: a second try is refused (in the body; the
        # HTTP status of OAuth errors is undocumented, see docs/fidelity.md).
        again = http.post(
            "/v2/oauth/token/",
            data={
                "client_key": ACME,
                "client_secret": apps[ACME]["client_secret"],
                "code": query["code"],
                "grant_type": "authorization_code",
                "redirect_uri": ACME_CALLBACK,
            },
        )
        assert again.json()["error"] == "invalid_grant"
        assert "access_token" not in again.json()


def test_deny_redirects_with_access_denied_and_the_state(
    server: tuple[Sandbox, RunningServer], browsing: Browsing
) -> None:
    _, running = server
    page = browsing.page
    callback = browsing.intercept(ACME_CALLBACK + "**")

    page.goto(authorize_url(running.url, ACME, ["user.info.basic"], ACME_CALLBACK))
    page.check("input[name=creator][data-creator='ana_makes']")
    page.click("#deny")
    page.wait_for_url(ACME_CALLBACK + "**")

    query = callback.query
    assert query["error"] == "access_denied"
    assert query["state"] == "st-8f3a/xyz"
    assert "code" not in query


@pytest.mark.parametrize(
    ("username", "error_type"),
    [("cora.cooks", "non_sandbox_target"), ("ana_makes", None)],
)
def test_sandbox_app_accepts_only_its_target_users(
    server: tuple[Sandbox, RunningServer],
    browsing: Browsing,
    username: str,
    error_type: str | None,
) -> None:
    _, running = server
    page = browsing.page
    redirect_uri = f"http://127.0.0.1:{unused_port()}/callback/"  # matches :*/callback/
    callback = browsing.intercept(redirect_uri + "**")

    # A desktop app sends PKCE with TikTok's hex challenge (ref 2.1).
    challenge = hashlib.sha256(b"browser-test-verifier-" + b"0" * 30).hexdigest()
    url = authorize_url(running.url, ACME_SANDBOX, ["user.info.basic"], redirect_uri, challenge)
    response = page.goto(url)
    assert response is not None and response.status == 200
    assert "Acme Sandbox" in page.locator("h1").inner_text()
    page.check(f"input[name=creator][data-creator='{username}']")
    page.click("#approve")
    page.wait_for_url(redirect_uri + "**")

    query = callback.query
    assert query["state"] == "st-8f3a/xyz"
    if error_type is None:
        assert query["code"]
        assert query["scopes"] == "user.info.basic"
    else:
        assert query["error"] == "access_denied"
        assert query["error_type"] == error_type
        assert "code" not in query


def test_unknown_client_key_shows_the_error_page_and_stays(
    server: tuple[Sandbox, RunningServer], browsing: Browsing
) -> None:
    _, running = server
    page = browsing.page
    callback = browsing.intercept(ACME_CALLBACK + "**")
    url = authorize_url(running.url, "awnosuchapp000001", ["user.info.basic"], ACME_CALLBACK)

    response = page.goto(url)
    assert response is not None and response.status == 400
    assert page.locator("#error").inner_text() == "unauthorized_client"
    assert page.locator("#error-type").inner_text() == "client_key"
    assert page.locator("#error-description").inner_text()
    assert page.locator("#approve").count() == 0
    page.wait_for_load_state("networkidle")
    assert page.url == url
    assert callback.hits == []
