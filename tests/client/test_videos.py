"""`list_videos` and `query_videos` (ref 5.1), sync and async, against the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from client import PostInfo, Video, VideoPage
from client.errors import DisplayRequestOutOfBounds, ScopeNotAuthorized
from client.models import VIDEO_FIELDS
from tests.client.conftest import Made

PUBLIC = PostInfo(privacy_level="PUBLIC_TO_EVERYONE", title="listed #sandbox")


def post_public(made: Made, video: Path, title: str) -> str:
    """Direct Post a public video and wait until it is publicly available: its post id."""
    info = PostInfo(privacy_level="PUBLIC_TO_EVERYONE", title=title)
    publish = made.client.post_video(video, info)
    result = made.client.wait_for_publish(publish, wait_for_public_post=True)
    (post_id,) = result.post_ids
    return str(post_id)


def test_list_then_query_the_posted_videos(make_client: Any, video: Path) -> None:
    made: Made = make_client()
    ids = [post_public(made, video, f"clip {n}") for n in range(3)]
    first: VideoPage = made.client.list_videos(max_count=2)
    assert [v.id for v in first.videos] == [ids[2], ids[1]] and first.has_more
    second = made.client.list_videos(["id", "title"], cursor=first.cursor, max_count=2)
    assert second.videos == (Video(id=ids[0], title="clip 0"),) and not second.has_more
    newest = first.videos[0]
    assert (newest.width, newest.height, newest.duration) == (640, 360, 4)  # 3.5 s, rounded
    assert newest.share_url and newest.share_url.endswith(
        f"/video/{ids[2]}?utm_campaign=tt4d_open_api&utm_source=awacmescheduler01"
    )
    assert newest.cover_image_url and newest.view_count == 0
    queried = made.client.query_videos([ids[0], "7000000000000000001"], ["id", "share_url"])
    assert [v.id for v in queried.videos] == [ids[0]]
    assert queried.videos[0].cover_image_url is None  # not asked for
    sent = made.log.requests[-1]
    assert sent.url.path == "/v2/video/query/"
    assert sent.url.params["fields"] == "id,share_url"
    assert made.log.requests[-3].url.params["fields"] == ",".join(VIDEO_FIELDS)


def test_out_of_bounds_requests_are_refused_before_sending(make_client: Any) -> None:
    made: Made = make_client()
    with pytest.raises(DisplayRequestOutOfBounds):
        made.client.list_videos(max_count=21)
    with pytest.raises(DisplayRequestOutOfBounds):
        made.client.query_videos([str(n) for n in range(21)])
    with pytest.raises(DisplayRequestOutOfBounds):
        made.client.query_videos([])
    assert made.log.requests == []


def test_without_video_list_the_scope_error_is_tiktoks(make_client: Any, sandbox: Any) -> None:
    from client import MemoryTokenStore, Token

    body = sandbox.issue_tokens("awacmescheduler01", "ana_makes", ["user.info.basic"])
    token = Token.from_response(body, sandbox.clock.now())
    made: Made = make_client(token_store=MemoryTokenStore(token))
    with pytest.raises(ScopeNotAuthorized):
        made.client.list_videos()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_async_client_lists_and_queries_too(
    make_async_client: Any, video: Path, anyio_backend: str
) -> None:
    made: Made = make_async_client()
    async with made.client as client:
        publish = await client.post_video(video, PUBLIC)
        result = await client.wait_for_publish(publish, wait_for_public_post=True)
        page = await client.list_videos(["id", "title"])
        assert page.videos == (Video(id=str(result.post_ids[0]), title="listed #sandbox"),)
        queried = await client.query_videos([str(result.post_ids[0])], ["id"])
        assert [v.id for v in queried.videos] == [str(result.post_ids[0])]
