"""The dashboard in headless Debian Chromium (issue 16): it fits a 390 px phone and a 1280 px
window without sideways scrolling, every action it offers works when clicked and says what it
did, and a change made elsewhere appears without a reload.

The fixtures and rules of tests/test_browser.py: Debian's Chromium, one browser per module, a
fresh context per test whose traffic cannot leave 127.0.0.1, the sandbox served on a free
loopback port (its clock frozen, so nothing moves unless a test moves it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.media import make_video
from mock_server import Clock, RunningServer, Sandbox
from tests import test_browser
from tests.test_browser import TIMEOUT_MS

pytestmark = pytest.mark.browser

browser = test_browser.browser

ACME = "awacmescheduler01"
ANA, BEN = "ana_makes", "ben_private"
SCOPES = ["user.info.basic", "video.publish", "video.upload"]
WIDTHS = [390, 1280]
LONG = "x" * 180


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return Path(make_video(tmp_path_factory.mktemp("media") / "v.mp4", fps=24)).read_bytes()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, RunningServer, httpx.Client]]:
    sandbox = Sandbox("default", seed=7, clock=Clock.frozen_at(datetime(2026, 1, 1, tzinfo=UTC)))
    with (
        sandbox.serve(host="127.0.0.1", port=0) as running,
        httpx.Client(base_url=running.url, timeout=30) as http,
    ):
        yield sandbox, running, http
    sandbox.close()


def page_at(browser: Any, width: int) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith("http://127.0.0.1:")
            else route.abort()
        ),
    )
    return context.new_page()


def upload(sandbox: Sandbox, http: httpx.Client, video: bytes, *, inbox: bool, who: str) -> str:
    token = sandbox.issue_tokens(ACME, who, SCOPES)["access_token"]
    source = {
        "source": "FILE_UPLOAD",
        "video_size": len(video),
        "chunk_size": len(video),
        "total_chunk_count": 1,
    }
    body: dict[str, Any] = {"source_info": source}
    if not inbox:
        body["post_info"] = {"privacy_level": "SELF_ONLY", "title": "A very long caption " * 9}
    path = "/v2/post/publish/inbox/video/init/" if inbox else "/v2/post/publish/video/init/"
    answer = http.post(path, headers={"Authorization": f"Bearer {token}"}, json=body)
    assert answer.json()["error"]["code"] == "ok", answer.text
    data = answer.json()["data"]
    last = len(video) - 1
    put = http.put(
        data["upload_url"],
        content=video,
        headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{last}/{len(video)}"},
    )
    assert put.status_code == 201, put.text
    return str(data["publish_id"])


def advance(http: httpx.Client, seconds: float) -> None:
    assert http.post("/_sandbox/clock", json={"advance_seconds": seconds}).status_code == 200


def overflow(page: Any) -> int:
    """How far the page scrolls sideways (0 when it fits)."""
    result: int = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    return result


def status_of(http: httpx.Client, publish_id: str) -> dict[str, Any]:
    view: dict[str, Any] = http.get(f"/_sandbox/publishes/{publish_id}").json()
    return view


@pytest.mark.parametrize("width", WIDTHS)
def test_it_fits_the_window_with_long_values_and_updates_live(
    served: tuple[Sandbox, RunningServer, httpx.Client], browser: Any, video: bytes, width: int
) -> None:
    sandbox, running, http = served
    created = http.post(
        "/_sandbox/apps",
        json={
            "name": "An app with a name far longer than any window " + LONG,
            "redirect_uris": [f"https://example.com/{LONG}/callback/"],
        },
    )
    assert created.status_code == 201, created.text
    upload(sandbox, http, video, inbox=False, who=ANA)
    http.get("/v2/user/info/", params={"fields": LONG}, headers={"Authorization": "Bearer " + LONG})
    page = page_at(browser, width)
    try:
        page.goto(f"{running.url}/_sandbox/?endpoint=user_info")
        assert overflow(page) <= 0, f"{overflow(page)} px of sideways scrolling at {width} px"
        page.goto(f"{running.url}/_sandbox/")
        assert overflow(page) <= 0, f"{overflow(page)} px of sideways scrolling at {width} px"
        page.goto(f"{running.url}/_sandbox/audit.html?client_key={ACME}")
        assert overflow(page) <= 0

        # Live: a creator added and a request made elsewhere appear without a reload.
        page.goto(f"{running.url}/_sandbox/")
        page.evaluate("window.notReloaded = true")
        newcomer = f"live_{width}"
        assert http.post("/_sandbox/creators", json={"username": newcomer}).status_code == 201
        page.locator(f"#creator-{newcomer}").wait_for()
        issued = http.post(
            "/_sandbox/tokens", json={"client_key": ACME, "username": newcomer, "scopes": SCOPES}
        )
        token = issued.json()["access_token"]
        http.get(
            "/v2/user/info/",
            params={"fields": "open_id"},
            headers={"Authorization": f"Bearer {token}"},
        )
        page.locator("#journal tr", has_text=f"@{newcomer}").wait_for()
        advance(http, 60)
        page.locator("#clock", has_text="2026-01-01T00:0").wait_for()
        assert page.evaluate("window.notReloaded") is True
        assert overflow(page) <= 0
    finally:
        page.context.close()


def click_and_confirm(page: Any, selector: str, message: str) -> None:
    with page.expect_navigation():
        page.locator(selector).click()
    page.locator("#flash", has_text=message).wait_for()


def test_every_action_is_clicked_and_confirmed(
    served: tuple[Sandbox, RunningServer, httpx.Client], browser: Any, video: bytes
) -> None:
    sandbox, running, http = served
    to_post = upload(sandbox, http, video, inbox=True, who=ANA)
    to_discard = upload(sandbox, http, video, inbox=True, who=ANA)
    to_publish = upload(sandbox, http, video, inbox=False, who=ANA)
    advance(http, 120)
    in_flight = upload(sandbox, http, video, inbox=False, who=BEN)
    page = page_at(browser, 390)
    try:
        page.goto(f"{running.url}/_sandbox/")
        draft = f"[data-publish='{to_post}'].draft"
        assert page.locator(f"{draft} img.thumb").count() == 1  # its real cover frame
        page.locator(f"{draft} select[name=privacy_level]").select_option("PUBLIC_TO_EVERYONE")
        click_and_confirm(page, f"{draft} button[data-action=post_draft]", "posted the draft")
        assert status_of(http, to_post)["status"] == "PUBLISH_COMPLETE"
        assert page.locator(draft).count() == 0

        other = f"[data-publish='{to_discard}'].draft"
        click_and_confirm(page, f"{other} button[data-action=discard_draft]", "discarded the draft")
        assert status_of(http, to_discard)["discarded_at"] is not None
        assert page.locator(other).count() == 0

        card = f"article[data-publish='{to_publish}']"
        click_and_confirm(page, f"{card} button[data-action=restore]", "is public again")
        assert status_of(http, to_publish)["public"] is True
        click_and_confirm(page, f"{card} button[data-action=take_down]", "taken down")
        assert status_of(http, to_publish)["public"] is False

        card = f"article[data-publish='{in_flight}']"
        click_and_confirm(page, f"{card} button[data-action=revoke_app]", "disconnected")
        assert status_of(http, in_flight)["fail_reason"] == "auth_removed"
        page.locator(card, has_text="auth_removed").wait_for()

        form = f"form[data-app='{ACME}']"
        page.locator(f"{form} select[name=type]").select_option("domain")
        page.locator(f"{form} input[name=value]").fill("cdn.dashboard.example")
        click_and_confirm(page, f"{form} button", "Added domain cdn.dashboard.example")
        (prop,) = [
            p
            for p in http.get(f"/_sandbox/apps/{ACME}/url_properties").json()["url_properties"]
            if p["value"] == "cdn.dashboard.example"
        ]
        verify = f"form[data-property='{prop['id']}']"
        page.locator(f"{verify} textarea").fill(prop["signature"])
        click_and_confirm(page, f"{verify} button", "Verified cdn.dashboard.example")
        assert overflow(page) <= 0
    finally:
        page.context.close()
