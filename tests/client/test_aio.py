"""AsyncTikTokClient runs the same flows as TikTokClient: a few of them, over asyncio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from client import PhotoPostInfo, PostInfo
from client.errors import PrivacyLevelNotAllowed
from client.media import READ_BLOCK
from client.policy import RATE_LIMITED, TRANSIENT
from tests.client.conftest import MEDIA, Made, MiB, VirtualTime

pytestmark = pytest.mark.anyio
PUBLIC = PostInfo(privacy_level="PUBLIC_TO_EVERYONE", title="async")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_multi_chunk_upload_and_wait_for_the_public_post(
    make_async_client: Any, big_video: Path
) -> None:
    made: Made = make_async_client()
    async with made.client as client:
        publish = await client.post_video(big_video, PUBLIC)
        result = await client.wait_for_publish(publish, wait_for_public_post=True)
    assert made.log.statuses_of("PUT") == [206, 206, 201]
    assert max(made.log.blocks) <= READ_BLOCK < 5 * MiB
    assert result.status == "PUBLISH_COMPLETE" and len(result.post_ids) == 1


async def test_url_post_and_photo_media_upload(make_async_client: Any) -> None:
    made: Made = make_async_client()
    async with made.client as client:
        video = await client.post_video(f"{MEDIA}/clip.mp4", PUBLIC)
        photos = await client.post_photos(
            [f"{MEDIA}/a.jpg"], PhotoPostInfo(title="t"), mode="MEDIA_UPLOAD"
        )
        assert (await client.wait_for_publish(video)).status == "PUBLISH_COMPLETE"
        assert (await client.wait_for_publish(photos)).status == "SEND_TO_USER_INBOX"


async def test_a_local_refusal_sends_no_init(make_async_client: Any, video: Path) -> None:
    made: Made = make_async_client("ben_private")
    async with made.client as client:
        with pytest.raises(PrivacyLevelNotAllowed):
            await client.post_video(video, PostInfo(privacy_level="PUBLIC_TO_EVERYONE"))
    assert made.log.paths() == ["/v2/post/publish/creator_info/query/"]


async def test_chunk_retry_and_rate_limit_backoff(
    make_async_client: Any, video: Path, vtime: VirtualTime
) -> None:
    made: Made = make_async_client()
    made.log.fault = lambda r, n: httpx.Response(500) if r.method == "PUT" and n == 0 else None
    async with made.client as client:
        publish = await client.post_video(video, PUBLIC)
        assert made.log.statuses_of("PUT") == [500, 201]
        assert vtime.sleeps == [TRANSIENT.delay(0)]
        for _ in range(30):
            await client.fetch_status(publish.publish_id)
        result = await client.wait_for_publish(publish)
    assert result.status == "PUBLISH_COMPLETE"
    assert vtime.sleeps[1:3] == [RATE_LIMITED.delay(0), RATE_LIMITED.delay(1)]


async def test_refresh_before_expiry(make_async_client: Any, vtime: VirtualTime) -> None:
    made: Made = make_async_client()
    first = made.store.load()
    assert first is not None
    vtime.sandbox.advance(7200 - 60)
    async with made.client as client:
        await client.creator_info()
    assert made.log.paths() == ["/v2/oauth/token/", "/v2/post/publish/creator_info/query/"]
    second = made.store.load()
    assert second is not None and second.refresh_token != first.refresh_token
