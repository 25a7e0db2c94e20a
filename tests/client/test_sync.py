"""TikTokClient end to end against the sandbox: video (file, chunks, URL), inbox, photos."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from client import PhotoPostInfo, PostInfo
from client.errors import InvalidPublishId, PublishNotCancellable, UrlOwnershipUnverified
from client.media import READ_BLOCK
from mock_server.runtime.fetcher import StaticFetcher
from tests.client.conftest import MEDIA, Made, MiB, VirtualTime, publish_view, slow_pulls

PUBLIC = PostInfo(privacy_level="PUBLIC_TO_EVERYONE", title="Hello #sandbox")


def test_creator_info_reads_the_creators_settings(make_client: Any) -> None:
    info = make_client("cora.cooks").client.creator_info()
    assert info.creator_username == "cora.cooks"
    assert info.creator_nickname == "Cora Cooks"
    assert set(info.privacy_level_options) == {
        "PUBLIC_TO_EVERYONE",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    }
    assert (info.comment_disabled, info.duet_disabled, info.stitch_disabled) == (
        False,
        False,
        True,
    )
    assert info.max_video_post_duration_sec == 60


def test_user_info_returns_the_requested_fields(make_client: Any) -> None:
    user = make_client().client.user_info(["open_id", "display_name", "username"])
    assert user.display_name == "Ana Makes Things"
    assert user.username == "ana_makes"
    assert user.open_id and user.follower_count is None


def test_direct_post_of_a_small_file(make_client: Any, video: Path, control: httpx.Client) -> None:
    made: Made = make_client()
    seen: list[tuple[int, int]] = []
    publish = made.client.post_video(video, PUBLIC, progress=lambda a, b: seen.append((a, b)))
    size = video.stat().st_size
    assert publish.publish_id.startswith("v_pub_file~")
    assert made.log.paths()[:2] == [
        "/v2/post/publish/creator_info/query/",  # ref 15.4: read fresh before posting
        "/v2/post/publish/video/init/",
    ]
    put = made.log.requests[2]
    assert put.method == "PUT" and str(put.url) == publish.upload_url  # used as returned
    assert put.headers["content-range"] == f"bytes 0-{size - 1}/{size}"
    assert put.headers["content-type"] == "video/mp4"
    assert seen == [(0, size), (size, size)]
    init = made.log.bodies[1]
    assert b'"disable_comment": true' in init  # ref 15.4: interactions off unless asked for
    result = made.client.wait_for_publish(publish)
    assert (result.status, result.fail_reason, result.attempts) == ("PUBLISH_COMPLETE", None, 1)
    view = publish_view(control, publish.publish_id)
    assert view["post_info"]["title"] == "Hello #sandbox"
    assert view["uploaded_bytes"] == size


def test_a_15_mib_file_goes_up_in_three_streamed_chunks(
    make_client: Any, big_video: Path, control: httpx.Client
) -> None:
    made: Made = make_client()
    seen: list[int] = []
    publish = made.client.post_video(big_video, PUBLIC, progress=lambda a, b: seen.append(a))
    size = big_video.stat().st_size
    puts = [r for r in made.log.requests if r.method == "PUT"]
    assert [r.headers["content-range"] for r in puts] == [
        f"bytes 0-{5 * MiB - 1}/{size}",
        f"bytes {5 * MiB}-{10 * MiB - 1}/{size}",
        f"bytes {10 * MiB}-{size - 1}/{size}",
    ]
    assert made.log.statuses_of("PUT") == [206, 206, 201]
    assert seen == [0, 5 * MiB, 10 * MiB, size]
    # Flat memory: each chunk is read from disk in blocks, never whole.
    assert max(made.log.blocks) <= READ_BLOCK < 5 * MiB
    assert made.log.bodies[-1] == big_video.read_bytes()[10 * MiB :]
    view = publish_view(control, publish.publish_id)
    assert (view["chunk_size"], view["total_chunk_count"]) == (5 * MiB, 3)
    result = made.client.wait_for_publish(publish, wait_for_public_post=True)
    assert result.status == "PUBLISH_COMPLETE" and len(result.post_ids) == 1


def test_a_file_object_is_streamed_like_a_path(make_client: Any, big_video: Path) -> None:
    made: Made = make_client()
    with big_video.open("rb") as f:
        publish = made.client.post_video(f, PUBLIC)
    assert made.log.count("PUT") == 3
    assert made.client.wait_for_publish(publish).status == "PUBLISH_COMPLETE"


def test_direct_post_from_a_url(make_client: Any, fetcher: StaticFetcher) -> None:
    made: Made = make_client()
    publish = made.client.post_video(f"{MEDIA}/clip.mp4", PUBLIC)
    assert publish.publish_id.startswith("v_pub_url~") and publish.upload_url is None
    assert made.log.count("PUT") == 0
    assert b'"video_url": "https://media.acme.example/clip.mp4"' in made.log.bodies[-1]
    result = made.client.wait_for_publish(publish, wait_for_public_post=True)
    assert result.status == "PUBLISH_COMPLETE" and result.post_ids
    assert fetcher.requested == [f"{MEDIA}/clip.mp4"]


def test_a_url_on_an_unverified_domain_is_tiktoks_refusal(make_client: Any) -> None:
    with pytest.raises(UrlOwnershipUnverified) as caught:
        make_client().client.post_video("https://elsewhere.example/v.mp4", PUBLIC)
    assert caught.value.http_status == 403 and caught.value.log_id


def test_inbox_upload_then_the_creator_posts_the_draft(
    make_client: Any, video: Path, control: httpx.Client, vtime: VirtualTime
) -> None:
    made: Made = make_client()
    publish = made.client.upload_video_to_inbox(video)
    assert publish.publish_id.startswith("v_inbox_file~")
    assert "/v2/post/publish/creator_info/query/" not in made.log.paths()  # ref 8: no post_info
    assert made.client.wait_for_publish(publish).status == "SEND_TO_USER_INBOX"
    control.post(
        f"/_sandbox/publishes/{publish.publish_id}/actions", json={"action": "post_draft"}
    ).raise_for_status()
    result = made.client.wait_for_publish(publish, wait_for_public_post=True)
    assert result.status == "PUBLISH_COMPLETE" and len(result.post_ids) == 1


def test_inbox_upload_from_a_url(make_client: Any) -> None:
    made: Made = make_client()
    publish = made.client.upload_video_to_inbox(f"{MEDIA}/clip.mp4")
    assert publish.publish_id.startswith("v_inbox_url~")
    assert made.client.wait_for_publish(publish).status == "SEND_TO_USER_INBOX"


def test_photo_direct_post(make_client: Any, control: httpx.Client) -> None:
    made: Made = make_client()
    info = PhotoPostInfo(title="Two", description="#photos", privacy_level="PUBLIC_TO_EVERYONE")
    publish = made.client.post_photos([f"{MEDIA}/a.jpg", f"{MEDIA}/b.jpg"], info, cover_index=1)
    assert publish.publish_id.startswith("p_pub_url~")
    assert made.log.paths() == [
        "/v2/post/publish/creator_info/query/",
        "/v2/post/publish/content/init/",
    ]
    result = made.client.wait_for_publish(publish, wait_for_public_post=True)
    assert result.status == "PUBLISH_COMPLETE" and result.post_ids
    view = publish_view(control, publish.publish_id)
    assert view["photo_cover_index"] == 1 and view["post_info"]["description"] == "#photos"


def test_photo_media_upload_and_the_creators_post_draft(
    make_client: Any, control: httpx.Client
) -> None:
    made: Made = make_client()
    info = PhotoPostInfo(title="Draft", description="for later")
    publish = made.client.post_photos([f"{MEDIA}/a.jpg"], info, mode="MEDIA_UPLOAD")
    assert made.log.paths() == ["/v2/post/publish/content/init/"]  # no creator_info needed
    sent = made.log.bodies[0]
    assert b'"post_mode": "MEDIA_UPLOAD"' in sent and b"privacy_level" not in sent
    assert made.client.wait_for_publish(publish).status == "SEND_TO_USER_INBOX"
    control.post(
        f"/_sandbox/publishes/{publish.publish_id}/actions",
        json={"action": "post_draft", "privacy_level": "SELF_ONLY"},
    ).raise_for_status()
    result = made.client.wait_for_publish(publish)
    assert result.status == "PUBLISH_COMPLETE" and result.post_ids == ()  # SELF_ONLY: no id


@pytest.mark.parametrize("sandbox", [slow_pulls()], indirect=True)
def test_cancel_a_pull_under_way_then_it_cannot_be_cancelled_again(make_client: Any) -> None:
    made: Made = make_client()
    publish = made.client.post_video(f"{MEDIA}/clip.mp4", PUBLIC)
    made.client.cancel(publish.publish_id)
    result = made.client.wait_for_publish(publish)
    assert (result.status, result.fail_reason, result.attempts) == (
        "FAILED",
        "publish_cancelled",
        1,  # ref 11: never reposted
    )
    with pytest.raises(PublishNotCancellable):
        made.client.cancel(publish.publish_id)
    with pytest.raises(InvalidPublishId):
        made.client.cancel("v_pub_url~v2.1")
