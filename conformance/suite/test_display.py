"""The Display API's videos (ref 5.1): `/v2/video/list/` lists the creator's public videos newest
first, a page at a time, and `/v2/video/query/` answers those of the given ids.

The creator posts videos through the reference client (public ones, and some only to
themselves); once they are publicly available (ref 11: a post id), every page of the list must
hold at most `max_count` videos, in descending `create_time`, and the pages together exactly the
public posts, each once. A query answers the creator's own public posts among the ids and
nothing else. A `max_count` outside 1-20 is refused with `invalid_params` or held to 20 (the
reference says "Maximum is 20" without saying which).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from client import PostInfo
from conformance import calls, checks, spec
from conformance.controller import Controller
from conformance.driver import drive
from conformance.library import MediaLibrary
from conformance.plugin import examples
from conformance.report import example
from conformance.target import Target

FIELDS = ",".join(spec.VIDEO_FIELDS)


def display_examples() -> settings:
    """Each example posts several real videos: a share of the profile's examples (at least 3)."""
    quota = examples()
    return settings(quota, max_examples=max(3, quota.max_examples // 4))


def pages(
    http: httpx.Client, token: str, max_count: int | None
) -> tuple[list[dict[str, Any]], int]:
    """Every page of the list, following `cursor` while `has_more`: the videos and the
    number of pages."""
    found: list[dict[str, Any]] = []
    body: dict[str, Any] = {} if max_count is None else {"max_count": max_count}
    for count in range(1, 50):
        answer = checks.envelope(
            calls.videos(http, "video_list", token, body, FIELDS), "video_list"
        )
        assert answer.code == "ok", answer
        data = answer.data or {}
        videos = data["videos"]
        limit = spec.VIDEO_PAGE_DEFAULT if max_count is None else max_count
        assert len(videos) <= limit, f"{len(videos)} videos on a page of max_count {limit}"
        found += videos
        if not data["has_more"]:
            return found, count
        body = {**body, "cursor": data["cursor"]}
    raise AssertionError("has_more never became false")


@pytest.mark.behaviour("display_lists_public_videos", "5.1, 11")
@display_examples()
@given(
    public=st.integers(0, 4),
    private=st.integers(0, 1),
    max_count=st.none() | st.integers(1, spec.VIDEO_PAGE_MAX),
)
def test_the_list_pages_through_the_public_videos_newest_first(
    target: Target,
    http: httpx.Client,
    controller: Controller,
    media: MediaLibrary,
    public: int,
    private: int,
    max_count: int | None,
) -> None:
    example("display_lists_public_videos")
    actor = calls.arrange(controller)
    session = drive(target, controller, actor.app, actor.tokens)
    clip = media.video()
    posted: list[str] = []
    for n in range(public + private):
        level = "PUBLIC_TO_EVERYONE" if n < public else "SELF_ONLY"
        publish = session.tiktok.post_video(clip, PostInfo(privacy_level=level, title=f"n{n}"))
        result = session.tiktok.wait_for_publish(
            publish, wait_for_public_post=level == "PUBLIC_TO_EVERYONE"
        )
        assert result.status == "PUBLISH_COMPLETE", result
        posted += [str(i) for i in result.post_ids]
    session.close()
    token = actor.access_token  # the client's posting took seconds of the token's hours
    videos, _ = pages(http, token, max_count)
    ids = [v["id"] for v in videos]
    assert sorted(ids) == sorted(posted), (ids, posted)  # public ones only, each once
    times = [v["create_time"] for v in videos]
    assert times == sorted(times, reverse=True), times  # ref 5.1: newest first
    for video in videos:
        assert set(video) == set(spec.VIDEO_FIELDS), video  # every field asked for
        # The clip: 3.5 s (rounded either way) of 640x360 (ref 5.1: duration in seconds).
        assert video["duration"] in (3, 4) and (video["width"], video["height"]) == (640, 360)
    if posted:
        query = {"filters": {"video_ids": [*reversed(posted), "7000000000000000000"]}}
        answer = checks.envelope(calls.videos(http, "video_query", token, query), "video_query")
        assert answer.code == "ok", answer
        assert sorted(v["id"] for v in (answer.data or {})["videos"]) == sorted(posted)


@pytest.mark.behaviour("display_bounds_and_scope", "5.1, 3, 4.2")
@examples()
@given(
    max_count=st.integers(-3, 0) | st.integers(spec.VIDEO_PAGE_MAX + 1, 2**31 - 1),
    ids=st.integers(spec.VIDEO_QUERY_MAX + 1, 40) | st.just(0),
    scoped=st.booleans(),
)
def test_out_of_bounds_requests_and_the_video_list_scope(
    http: httpx.Client, controller: Controller, max_count: int, ids: int, scoped: bool
) -> None:
    """ref 5.1: max_count 1-20 (refused with invalid_params, or held to 20), 1-20 ids a
    query (invalid_params beyond); ref 3: both need video.list (401 scope_not_authorized)."""
    example("display_bounds_and_scope")
    scopes = spec.SCOPES["video_list"] | {"user.info.basic"} if scoped else {"user.info.basic"}
    actor = calls.arrange(controller, scopes=tuple(sorted(scopes)))
    token = actor.access_token
    listed = checks.envelope(
        calls.videos(http, "video_list", token, {"max_count": max_count}), "video_list"
    )
    body = {"filters": {"video_ids": [str(7 * 10**18 + n) for n in range(ids)]}}
    queried = checks.envelope(calls.videos(http, "video_query", token, body), "video_query")
    if not scoped:
        assert (listed.status, listed.code) == (401, "scope_not_authorized"), listed
        assert (queried.status, queried.code) == (401, "scope_not_authorized"), queried
        return
    assert listed.code in ("invalid_params", "ok"), listed
    if listed.code == "ok":
        assert len((listed.data or {})["videos"]) <= spec.VIDEO_PAGE_MAX
    assert (queried.status, queried.code) == (400, "invalid_params"), queried
