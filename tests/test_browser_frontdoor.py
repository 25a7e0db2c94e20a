"""Chromium through the proxy: the consent page at https://www.tiktok.com/v2/auth/authorize/,
served by the sandbox, lands on the app's redirect URI on loopback (ref 2.1-2.3).

Chromium trusts the sandbox's CA only through `--ignore-certificate-errors-spki-list` with the
CA's key hash (the server sends its chain, CA included), in a fresh profile. The redirect URI
is a real HTTP receiver on 127.0.0.1 that Chromium reaches directly: loopback bypasses the
proxy, and the proxy would refuse it anyway.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mock_server import Sandbox
from mock_server.frontdoor import LocalCA
from tests.test_browser import ACME_SANDBOX, CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, _unavailable

VERIFIER = "frontdoor-verifier-" + "0123456789" * 3
CHALLENGE = hashlib.sha256(VERIFIER.encode()).hexdigest()

pytestmark = pytest.mark.browser


class Receiver(http.server.ThreadingHTTPServer):
    """The app's redirect URI: records each request's path and query."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        super().__init__(("127.0.0.1", 0), _Callback)

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/callback/"


class _Callback(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        body = b"<!doctype html><title>callback</title><p id=landed>back at the app</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_chromium_completes_the_consent_page_at_tiktoks_address_through_the_proxy(
    receiver: Receiver,
) -> None:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright's Python package is missing: pip install -e '.[test]'")
    ca = LocalCA.load_or_create()
    sandbox = Sandbox("default", seed=7)
    with sandbox.serve(proxy=True) as running, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                f"--proxy-server={running.proxy_url}",
                f"--ignore-certificate-errors-spki-list={ca.spki_sha256()}",
            ],
        )
        try:
            page = browser.new_context().new_page()
            page.set_default_timeout(TIMEOUT_MS)
            # A desktop app sends PKCE: TikTok's hex challenge of the verifier (ref 2.1).
            query = (
                f"client_key={ACME_SANDBOX}&scope=user.info.basic&response_type=code"
                f"&redirect_uri={receiver.redirect_uri}&state=st-proxy"
                f"&code_challenge={CHALLENGE}&code_challenge_method=S256"
            )
            response = page.goto(f"https://www.tiktok.com/v2/auth/authorize/?{query}")
            assert response is not None and response.status == 200
            assert page.url.startswith("https://www.tiktok.com/v2/auth/authorize/")
            assert "Acme Sandbox" in page.locator("h1").inner_text()
            page.check("input[name=creator][data-creator='ana_makes']")
            page.click("#approve")
            page.wait_for_url(receiver.redirect_uri + "**")
            assert page.locator("#landed").inner_text() == "back at the app"
        finally:
            browser.close()

        # The redirect reached the receiver itself, straight from Chromium.
        callbacks = [hit for hit in receiver.hits if hit.startswith("/callback/")]
        assert len(callbacks) == 1, receiver.hits
        landed = parse_qs(urlsplit(callbacks[0]).query)
        assert landed["state"] == ["st-proxy"]
        assert landed["scopes"] == ["user.info.basic"]
        code = landed["code"][0]

        # The code is the sandbox's: it exchanges for tokens (at the loopback address).
        with httpx.Client(base_url=running.proxy_url or "", timeout=10) as http:
            secret = http.get(f"/_sandbox/apps/{ACME_SANDBOX}").json()["client_secret"]
            token = http.post(
                "/v2/oauth/token/",
                data={
                    "client_key": ACME_SANDBOX,
                    "client_secret": secret,
                    "code": code,
                    "grant_type": "authorization_code",
                    "redirect_uri": receiver.redirect_uri,
                    "code_verifier": VERIFIER,
                },
            )
        assert token.status_code == 200, token.text
        assert token.json()["access_token"].startswith("act.")
        # The consent page's traffic went through the proxy into the journal, under TikTok's name.
        consent = sandbox.state.journal.entries(path="/v2/auth/authorize/")
        assert {(e.method, e.exchange.base_url if e.exchange else "") for e in consent} == {
            ("GET", "https://www.tiktok.com"),
            ("POST", "https://www.tiktok.com"),
        }
