"""The dashboard without a browser (issue 16): what it shows, how it escapes, its empty and
crowded states, its filters' 400s, the live endpoint, and the forms' confirmations.

The browser tests (tests/test_dashboard_browser.py) check layout, clicks and live updates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.media import make_video
from mock_server.control.dashboard_data import available_actions
from tests.forms import form_token
from tests.hardening.kit import form_body, page_forms
from tests.mock_server.lifecycle_kit import (
    ANA,
    AUDITED,
    BEN,
    PUBLISH_COMPLETE,
    SEND_TO_USER_INBOX,
    Studio,
    studio,
)

PAGE = "/_sandbox/"
LIVE = "/_sandbox/dashboard/live"
HOSTILE = "<script>alert('x')</script>&amp;\"'"


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = make_video(tmp_path_factory.mktemp("media") / "v.mp4", seconds=3.5, fps=24)
    return Path(path).read_bytes()


@pytest.fixture
def st() -> Iterator[Studio]:
    with studio() as made:
        yield made


def draft(st: Studio, video: bytes, username: str = ANA) -> str:
    """An inbox draft waiting in the creator's inbox."""
    publish_id = st.post_video(st.token(AUDITED, username), video, inbox=True)
    st.advance(120)
    assert st.publish(publish_id)["status"] == SEND_TO_USER_INBOX
    return publish_id


def action_form(html: str, publish_id: str) -> Any:
    forms = [f for f in page_forms(html) if f.action == f"/_sandbox/publishes/{publish_id}/actions"]
    assert forms, f"no action form for {publish_id}"
    return forms


def buttons(html: str, publish_id: str) -> set[str]:
    return {value for f in action_form(html, publish_id) for _, value in f.buttons}


def test_the_page_shows_apps_creators_and_the_consent_example(st: Studio) -> None:
    page = st.http.get(PAGE)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "/_sandbox/static/dashboard.css" in html and "/_sandbox/static/dashboard.js" in html
    assert "https://" not in html.split("<main>")[0], "nothing is loaded from another host"
    for text in ("Acme Scheduler", "unaudited", "Active creators (24 h)", "@ana_makes", "Inbox"):
        assert text in html, text
    assert "Try the consent page" in html
    assert st.http.get("/_sandbox/dashboard").text.count("Acme Scheduler") >= 1  # the alias


def test_hostile_values_are_escaped_everywhere(st: Studio) -> None:
    made = st.http.post("/_sandbox/creators", json={"nickname": HOSTILE, "username": "hostile"})
    assert made.status_code == 201, made.text
    assert st.http.post("/_sandbox/apps", json={"name": HOSTILE}).status_code == 201
    st.http.get("/v2/user/info/?fields=<script>", headers={"Authorization": "Bearer <b>x"})
    html = st.http.get(PAGE).text
    assert "<script>alert" not in html and "<b>x" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;amp;&#34;&#39;" in html
    live = st.http.get(LIVE).json()["html"]
    assert "<script>alert" not in live and "&lt;script&gt;" in live


def test_an_empty_sandbox_says_what_is_missing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("name: empty\ndescription: nothing\napps: []\ncreators: []\n")
    with studio(empty) as st:
        html = st.http.get(PAGE).text
    for text in (
        "No apps.",
        "No creators.",
        "No publishes yet",
        "No requests yet.",
        "No webhook deliveries",
        "No grants yet",
    ):
        assert text in html, text


def test_many_rows_are_capped_and_counted(st: Studio) -> None:
    for _ in range(60):
        st.http.post("/_sandbox/clock", json={"advance_seconds": 1})
    html = st.http.get(PAGE).text
    assert "50 of 60 matching" in html
    assert html.count("<tr class=") == 50


def test_filters_narrow_the_journal_and_bad_ones_are_a_clear_400(st: Studio) -> None:
    token = st.token()
    st.post("/v2/post/publish/creator_info/query/", token, {})
    st.post("/v2/post/publish/video/init/", token, {"post_info": {}, "source_info": {}})
    refused = st.http.get(PAGE, params={"status": "4xx", "endpoint": "video_init"}).text
    assert "1 of 1 matching" in refused
    assert "developers.tiktok.com/doc/content-posting-api-reference-direct-post" in refused
    assert st.http.get(PAGE, params={"status": "refused", "app": AUDITED}).status_code == 200
    for query, problem in [
        ({"status": "<4xx>"}, "status:"),
        ({"endpoint": "nope"}, "endpoint: expected one of"),
        ({"app": "nope"}, "no app with client_key"),
        ({"publish": "v_pub_file~v2-1.1"}, "no publish with publish_id"),
        ({"app": "a" * 300}, "at most 200 characters"),
    ]:
        page = st.http.get(PAGE, params=query)
        assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
        assert problem in page.text, query
        live = st.http.get(LIVE, params=query)
        assert live.status_code == 400 and problem in live.json()["error"]["message"]
    assert st.http.get(PAGE, params={"unknown": "<x>"}).status_code == 200


def test_the_live_endpoint_answers_html_only_when_something_changed(st: Studio) -> None:
    first = st.http.get(LIVE).json()
    assert first["html"] and first["clock"] == "2026-01-01T00:00:00Z" and first["frozen"]
    same = st.http.get(LIVE, params={"version": first["version"]}).json()
    assert same["html"] is None and same["version"] == first["version"]
    st.http.post("/_sandbox/creators", json={"username": "newcomer"})
    changed = st.http.get(LIVE, params={"version": first["version"]}).json()
    assert changed["version"] != first["version"] and "@newcomer" in changed["html"]


def test_inbox_draft_post_with_a_flash_and_no_restore_while_in_review(
    st: Studio, video: bytes
) -> None:
    publish_id = draft(st, video)
    html = st.http.get(PAGE).text
    assert f'id="draft-{publish_id}"' in html
    assert f"/_sandbox/dashboard/covers/{publish_id}.jpeg" in html
    cover = st.http.get(f"/_sandbox/dashboard/covers/{publish_id}.jpeg")
    assert cover.status_code == 200 and cover.content[:2] == b"\xff\xd8"
    assert buttons(html, publish_id) == {"post_draft", "discard_draft", "revoke_app"}
    (inbox,) = [f for f in action_form(html, publish_id) if ("action", "post_draft") in f.buttons]
    back = dict(inbox.fields)["back"]
    assert back == f"/_sandbox/#creator-{ANA}"
    posted = st.http.post(
        inbox.action,
        **form_body(
            inbox.submit(("privacy_level", "PUBLIC_TO_EVERYONE"), ("action", "post_draft"))
        ),
    )
    assert posted.status_code == 303 and posted.headers["location"] == back
    page = st.http.get(PAGE)
    done = r"@ana_makes posted the draft .*PUBLIC_TO_EVERYONE: PUBLISH_COMPLETE"
    assert re.search(done, page.text)
    assert 'sandbox_flash=""' in page.headers["set-cookie"]  # shown once
    assert "posted the draft" not in st.http.get(PAGE).text
    # Posted publicly and still in moderation: nothing to restore, nothing to take down yet.
    assert st.publish(publish_id)["status"] == PUBLISH_COMPLETE
    assert action_form_buttons_or_none(st.http.get(PAGE).text, publish_id) == set()
    st.advance(3600)
    html = st.http.get(PAGE).text
    assert buttons(html, publish_id) == {"take_down"}
    assert "Everyone · public" in html


def action_form_buttons_or_none(html: str, publish_id: str) -> set[str]:
    forms = [f for f in page_forms(html) if f.action == f"/_sandbox/publishes/{publish_id}/actions"]
    return {value for f in forms for _, value in f.buttons}


def test_discard_leaves_the_inbox_frees_the_slot_and_cannot_be_posted(
    st: Studio, video: bytes
) -> None:
    publish_id = draft(st, video)
    assert st.http.get(f"/_sandbox/creators/{ANA}").json()["pending_shares"] == 1
    done = st.action(publish_id, "discard_draft")
    assert done.status_code == 200, done.text
    view = st.publish(publish_id)
    assert view["status"] == SEND_TO_USER_INBOX and view["discarded_at"] == "2026-01-01T00:02:00Z"
    assert st.http.get(f"/_sandbox/creators/{ANA}").json()["pending_shares"] == 0
    again = st.action(publish_id, "post_draft")
    assert again.status_code == 409 and "discarded" in again.json()["error"]["message"]
    html = st.http.get(PAGE).text
    assert f'id="draft-{publish_id}"' not in html and "DISCARDED by the creator" in html
    assert action_form_buttons_or_none(html, publish_id) == set()


def test_a_refused_form_action_comes_back_with_the_reason(st: Studio, video: bytes) -> None:
    publish_id = draft(st, video, BEN)
    token = form_token(st.http.get(PAGE).text)
    st.action(publish_id, "discard_draft")
    late = st.http.post(
        f"/_sandbox/publishes/{publish_id}/actions",
        **form_body([("csrf_token", token), ("action", "post_draft"), ("back", "//evil.example/")]),
    )
    assert late.status_code == 303 and late.headers["location"] == "/_sandbox/"
    assert "the creator discarded this draft" in st.http.get(PAGE).text
    entry = st.http.get("/_sandbox/journal", params={"limit": 1}).json()["entries"][0]
    assert entry["error_code"] == "conflict"


def test_a_planted_flash_cookie_is_ignored(st: Studio) -> None:
    st.http.cookies.set("sandbox_flash", "b2sfWW91IHdvbg.0000", path="/_sandbox")
    assert "You won" not in st.http.get(PAGE).text


def test_url_property_forms_confirm(st: Studio) -> None:
    token = form_token(st.http.get(PAGE).text)
    path = f"/_sandbox/apps/{AUDITED}/url_properties"
    added = st.http.post(path, data={"csrf_token": token, "type": "domain", "value": "x.example"})
    assert added.status_code == 303 and added.headers["location"] == "/_sandbox/#url-properties"
    assert "Added domain x.example to Acme Scheduler" in st.http.get(PAGE).text
    bad = st.http.post(path, data={"csrf_token": token, "type": "domain", "value": ""})
    assert bad.status_code == 303
    assert "Not added:" in st.http.get(PAGE).text


def test_static_files_and_missing_covers(st: Studio) -> None:
    css = st.http.get("/_sandbox/static/dashboard.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "@media" in css.text
    assert st.http.get("/_sandbox/static/dashboard.js").status_code == 200
    missing = st.http.get("/_sandbox/static/nope.css")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert st.http.get("/_sandbox/dashboard/covers/nope.jpeg").status_code == 404


def test_restore_is_offered_only_where_it_makes_sense(st: Studio, video: bytes) -> None:
    creator = st.sandbox.state.world.creators[ANA]
    private = st.sandbox.state.world.creators[BEN]
    publish_id = st.post_video(st.token(), video, privacy="SELF_ONLY")
    st.advance(120)
    publish = st.sandbox.state.world.publishes[publish_id]
    assert publish.status == PUBLISH_COMPLETE
    assert available_actions(publish, creator) == ["restore"]  # make a private post public
    assert available_actions(publish, private) == []  # a private account cannot
    publish.privacy_level = "PUBLIC_TO_EVERYONE"  # posted publicly, in moderation
    assert available_actions(publish, creator) == []


def test_the_publish_timeline_links_its_journal_and_webhooks(st: Studio, video: bytes) -> None:
    publish_id = st.post_video(st.token(), video, privacy="SELF_ONLY")
    st.advance(120)
    html = st.http.get(PAGE, params={"publish": publish_id}).text
    assert html.count('class="card publish') == 1
    assert "PROCESSING_UPLOAD" in html and "PUBLISH_COMPLETE" in html
    assert "“t” <span class=muted>· 2026-01-01 00:00:00</span>" in html
    assert "2 journal entries" in html  # the init and the upload
    assert "2 of 2 matching" in html


def test_a_large_sandbox_shows_the_first_hundred_and_says_how_many() -> None:
    from mock_server import Sandbox

    sandbox = Sandbox("default", seed=4)
    with sandbox.client() as http:
        names = [f"many_{i:03d}" for i in range(150)]
        made = http.post("/_sandbox/apps", json={"creators": [{"username": n} for n in names]})
        assert made.status_code == 201, made.text
        key = made.json()["app"]["client_key"]
        for name in names[:120]:
            sandbox.issue_tokens(key, name, ["user.info.basic"])
        html = http.get(PAGE).text
    creators = len(re.findall(r'<article class="card creator"', html))
    assert creators == 100
    assert re.search(r"Creators <span class=muted>\(the first 100 of 15\d\)", html)
    assert re.search(r"Grants <span class=muted>\(the newest 100 of 12\d", html)
    assert "many_119" in html  # the newest grants are the ones shown
    # The app's card lists 20 of the 120 creators who authorized it and says how many more.
    card = html.split(f'id="app-{key}"', 1)[1].split("</article>", 1)[0]
    assert len(re.findall(r'<td data-label=creator><a href="#creator-many_', card)) == 20
    assert "and 100 more" in card
    sandbox.close()


def test_an_app_card_shows_the_windows_of_tokens_used_in_the_last_minute(st: Studio) -> None:
    quiet = st.token(AUDITED, BEN)
    used = st.token(AUDITED, ANA)
    info = st.http.post(
        "/v2/post/publish/creator_info/query/", headers={"Authorization": f"Bearer {used}"}
    )
    assert info.status_code == 200
    card = st.http.get(PAGE).text.split(f'id="app-{AUDITED}"', 1)[1].split("</article>", 1)[0]
    assert f"<code>{used[:14]}…</code> @{ANA}" in card
    assert "<code>creator_info</code> 1 / 20" in card
    assert f"<code>{quiet[:14]}…</code>" not in card
    assert "live token(s), unused in the last minute" in card
