"""Control listings come in pages: `limit` (default 100), an opaque `cursor`, and a `next` link
only when more follow; bad paging parameters are a clear 400."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from mock_server import Clock, Sandbox
from mock_server.control.paging import DEFAULT_LIMIT, MAX_LIMIT


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    sandbox = Sandbox("default", seed=3, clock=Clock.frozen_at(datetime(2026, 1, 1, tzinfo=UTC)))
    with sandbox.client() as client:
        yield client
    sandbox.close()


def add_creators(http: httpx.Client, count: int) -> list[str]:
    names = [f"page_{i:04d}" for i in range(count)]
    made = http.post("/_sandbox/apps", json={"creators": [{"username": n} for n in names]})
    assert made.status_code == 201, made.text
    return names


def every(http: httpx.Client, url: str, field: str) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    pages = 0
    next_url: str | None = url
    while next_url is not None:
        page = http.get(next_url)
        assert page.status_code == 200, page.text
        body = page.json()
        items.extend(body[field])
        next_url = body.get("next")
        pages += 1
    return items, pages


def test_a_listing_is_cut_at_the_default_page_size_with_a_next_link(http: httpx.Client) -> None:
    before = len(http.get("/_sandbox/creators").json()["creators"])
    add_creators(http, DEFAULT_LIMIT)
    first = http.get("/_sandbox/creators").json()
    assert len(first["creators"]) == DEFAULT_LIMIT
    assert first["next"].startswith("/_sandbox/creators?")
    rest, _ = every(http, first["next"], "creators")
    assert len(rest) == before  # the default scenario's creators, then the new ones


def test_paging_through_gives_every_item_once_in_listing_order(http: httpx.Client) -> None:
    names = add_creators(http, 25)
    whole = http.get("/_sandbox/creators", params={"limit": MAX_LIMIT}).json()
    assert "next" not in whole  # a short listing answers as it always did
    paged, pages = every(http, "/_sandbox/creators?limit=7", "creators")
    assert [c["username"] for c in paged] == [c["username"] for c in whole["creators"]]
    assert pages == -(-len(whole["creators"]) // 7)
    assert set(names) <= {c["username"] for c in paged}


def test_next_keeps_the_filters(http: httpx.Client) -> None:
    add_creators(http, 5)
    key = http.get("/_sandbox/apps").json()["apps"][0]["client_key"]
    page = http.get("/_sandbox/creators", params={"client_key": key, "limit": 2}).json()
    assert f"client_key={key}" in page["next"]
    assert "limit=2" in page["next"]


def test_newest_first_listing_does_not_repeat_when_items_arrive_between_pages(
    http: httpx.Client,
) -> None:
    token = http.post(
        "/_sandbox/tokens",
        json={
            "client_key": "awacmescheduler01",
            "username": "ana_makes",
            "scopes": ["video.upload"],
        },
    ).json()["access_token"]

    def inbox_init() -> None:
        answer = http.post(
            "/v2/post/publish/inbox/video/init/",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "source_info": {
                    "source": "FILE_UPLOAD",
                    "video_size": 1000,
                    "chunk_size": 1000,
                    "total_chunk_count": 1,
                }
            },
        )
        assert answer.status_code == 200, answer.text

    for _ in range(4):
        inbox_init()
    first = http.get("/_sandbox/publishes", params={"limit": 2}).json()
    inbox_init()  # a newer publish arrives before the second page
    second = http.get(first["next"]).json()
    ids = [p["publish_id"] for p in first["publishes"] + second["publishes"]]
    assert len(ids) == len(set(ids)) == 4
    assert "next" not in second


@pytest.mark.parametrize("limit", ["0", "-1", "abc", str(MAX_LIMIT + 1), "1.5"])
def test_a_bad_limit_is_a_400(http: httpx.Client, limit: str) -> None:
    for path in (
        "/_sandbox/apps",
        "/_sandbox/creators",
        "/_sandbox/grants",
        "/_sandbox/publishes",
        "/_sandbox/webhooks",
    ):
        answer = http.get(path, params={"limit": limit})
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["error"]["code"] == "invalid_request"
        assert "limit" in answer.json()["error"]["message"]


def test_an_unknown_cursor_is_a_400_that_says_to_start_again(http: httpx.Client) -> None:
    answer = http.get("/_sandbox/creators", params={"cursor": "nobody-by-that-name"})
    assert answer.status_code == 400
    assert "list again without cursor" in answer.json()["error"]["message"]


def test_a_long_bad_query_value_is_quoted_by_its_start_only(http: httpx.Client) -> None:
    long = "x" * 5000
    for path, param in (
        ("/_sandbox/creators", "cursor"),
        ("/_sandbox/publishes", "limit"),
        ("/_sandbox/journal", "cursor"),
        ("/_sandbox/journal", "limit"),
        ("/_sandbox/publishes", "status"),
        ("/_sandbox/publishes", "creator"),
        ("/_sandbox/grants", "client_key"),
    ):
        answer = http.get(path, params={param: long})
        assert answer.status_code in (400, 404), (path, param)  # unknown creator, app: 404
        message = answer.json()["error"]["message"]
        assert f"'{'x' * 64}'... (5000 characters)" in message, message
        assert len(message) < 300, message


def test_the_webhook_log_is_newest_first_across_apps() -> None:
    from mock_server.domain.webhooks import DELIVERED, Delivery

    sandbox = Sandbox("default", seed=3)
    outbox = sandbox.state.world.outbox
    # Two apps' deliveries, interleaved in time; three made at the same instant, by either app.
    for n, (app, at) in enumerate(
        [
            ("awacmescheduler01", 10.0),
            ("awindieposter0001", 20.0),
            ("awacmescheduler01", 30.0),
            ("awindieposter0001", 30.0),
            ("awacmescheduler01", 30.0),
            ("awacmescheduler01", 40.0),
        ]
    ):
        outbox.add(
            Delivery(
                f"d{n}",
                app,
                "post.publish.complete",
                "http://127.0.0.1:9/",
                b"{}",
                at,
                None,
                status=DELIVERED,
            )
        )
    with sandbox.client() as http:
        listed, _ = every(http, "/_sandbox/webhooks?limit=2", "deliveries")
    assert [d["delivery_id"] for d in listed] == ["d5", "d4", "d3", "d2", "d1", "d0"]
    sandbox.close()


# -- a cursor whose item no longer passes the filters ------------------------------------------

APP, CREATOR = "awacmescheduler01", "ana_makes"


def init_uploads(sandbox: Sandbox, http: httpx.Client, count: int) -> None:
    assert http.patch(f"/_sandbox/creators/{CREATOR}", json={"daily_post_cap": 1000}).is_success
    for n in range(count):
        if n % 5 == 0:  # a token's init budget is 6 a minute
            token = sandbox.issue_tokens(APP, CREATOR, ["video.publish"])["access_token"]
        size = 52_333
        source = {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": size}
        answer = http.post(
            "/v2/post/publish/video/init/",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "post_info": {"privacy_level": "SELF_ONLY", "title": f"t{n}"},
                "source_info": {**source, "total_chunk_count": 1},
            },
        )
        assert answer.status_code == 200, answer.text


def test_a_filtered_page_goes_on_when_its_last_item_no_longer_passes_the_filter() -> None:
    sandbox = Sandbox("default", seed=3)
    with sandbox.client() as http:
        init_uploads(sandbox, http, 7)
        url = "/_sandbox/publishes?status=PROCESSING_UPLOAD&limit=3"
        whole = [p["publish_id"] for p in http.get(url.replace("3", "100")).json()["publishes"]]
        first = http.get(url).json()
        last = first["publishes"][-1]["publish_id"]
        action = {"action": "fail", "fail_reason": "internal"}
        assert http.post(f"/_sandbox/publishes/{last}/actions", json=action).is_success
        rest, _ = every(http, first["next"], "publishes")
    assert [p["publish_id"] for p in first["publishes"]] + [p["publish_id"] for p in rest] == whole
    sandbox.close()


def test_an_unknown_publish_status_is_a_400_that_names_the_statuses(http: httpx.Client) -> None:
    for status in ("NOPE", "failed", ""):
        answer = http.get("/_sandbox/publishes", params={"status": status})
        assert answer.status_code == 400, answer.text
        assert "PROCESSING_UPLOAD" in answer.json()["error"]["message"]


# -- the journal -------------------------------------------------------------------------------


def test_the_journal_pages_by_its_entries_numbers() -> None:
    sandbox = Sandbox("default", seed=3)
    with sandbox.client() as http:
        for n in range(130):
            http.get("/v2/user/info/", params={"fields": "open_id", "n": n})
        first = http.get("/_sandbox/journal").json()
        assert len(first["entries"]) == 100 and first["next"].startswith("/_sandbox/journal?")
        walked, pages = every(http, "/_sandbox/journal?path=/v2/user/&limit=40", "entries")
        assert pages == 4
        assert [e["seq"] for e in walked] == list(range(130, 0, -1))  # each once, newest first
        everything = http.get("/_sandbox/journal", params={"limit": 1000}).json()
        assert "next" not in everything
        assert http.get("/_sandbox/journal", params={"limit": 0}).json()["entries"] == []
        # Entries come in while a page is read: the next page starts below the cursor all the same.
        page = http.get("/_sandbox/journal?path=/v2/user/&limit=50").json()
        http.get("/v2/user/info/", params={"fields": "open_id"})
        after = http.get(page["next"]).json()["entries"]
        assert after[0]["seq"] == page["entries"][-1]["seq"] - 1
        for cursor in ("abc", "-1", "1.5", ""):
            refused = http.get("/_sandbox/journal", params={"cursor": cursor})
            assert refused.status_code == 400 and "cursor" in refused.json()["error"]["message"]
    sandbox.close()
