"""Every local refusal: the right exception, and no init or upload request sent (ref 6, 7.1,
9, 13, 15.4). Refusals that need the creator's settings read creator_info first, nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from client import PhotoPostInfo, PostInfo
from client.errors import (
    BrandedContentCannotBePrivate,
    CaptionTooLong,
    CreatorCannotPostNow,
    DurationOverCreatorMax,
    InteractionDisabledByCreator,
    LocalRefusal,
    MediaTooLarge,
    PrivacyLevelNotAllowed,
    SpamRiskTooManyPosts,
    SpamRiskUserBannedFromPosting,
    UnsupportedMedia,
)
from client.media import VideoFacts
from client.rules import API_MAX_VIDEO_SECONDS, utf16_units, video_duration
from conformance.media import make_garbage, make_video
from tests.client.conftest import MEDIA, Made, patch_creator

CREATOR_INFO = ["/v2/post/publish/creator_info/query/"]
EMOJI = "\U0001f600"  # outside the BMP: 2 UTF-16 code units, 1 code point


def refused(made: Made, exc: type[LocalRefusal], call: Any, expected_paths: list[str]) -> Any:
    with pytest.raises(exc) as caught:
        call()
    assert made.log.paths() == expected_paths
    assert not made.log.sent_any_init()
    assert caught.value.rule.startswith("ref ")
    return caught.value


def test_utf16_units_count_astral_characters_twice() -> None:
    assert utf16_units("abc") == 3 and utf16_units(EMOJI) == 2 and utf16_units("é") == 1


def test_a_title_over_2200_utf16_units_is_refused_before_any_request(
    make_client: Any, video: Path
) -> None:
    made: Made = make_client()
    title = EMOJI * 1101  # 1101 characters, 2202 units
    info = PostInfo(privacy_level="SELF_ONLY", title=title)
    error = refused(made, CaptionTooLong, lambda: made.client.post_video(video, info), [])
    assert "2202" in str(error)


def test_a_title_of_exactly_2200_units_is_posted(make_client: Any, video: Path) -> None:
    made: Made = make_client()
    made.client.post_video(video, PostInfo(privacy_level="SELF_ONLY", title=EMOJI * 1100))
    assert made.log.sent_any_init()


@pytest.mark.parametrize(
    "info",
    [
        PhotoPostInfo(title="x" * 91, privacy_level="SELF_ONLY"),
        PhotoPostInfo(description=EMOJI * 2001, privacy_level="SELF_ONLY"),
    ],
)
def test_photo_title_and_description_limits(make_client: Any, info: PhotoPostInfo) -> None:
    made: Made = make_client()
    call = lambda: made.client.post_photos([f"{MEDIA}/a.jpg"], info)  # noqa: E731
    refused(made, CaptionTooLong, call, [])


def test_branded_content_cannot_be_only_me(make_client: Any, video: Path) -> None:
    made: Made = make_client()
    info = PostInfo(privacy_level="SELF_ONLY", brand_content_toggle=True)
    refused(made, BrandedContentCannotBePrivate, lambda: made.client.post_video(video, info), [])
    photo = PhotoPostInfo(privacy_level="SELF_ONLY", brand_content_toggle=True)
    call = lambda: made.client.post_photos([f"{MEDIA}/a.jpg"], photo)  # noqa: E731
    refused(made, BrandedContentCannotBePrivate, call, [])


def test_a_privacy_level_the_creator_does_not_offer(make_client: Any, video: Path) -> None:
    made: Made = make_client("ben_private")  # private: FOLLOWER_OF_CREATOR, not PUBLIC
    info = PostInfo(privacy_level="PUBLIC_TO_EVERYONE")
    error = refused(
        made, PrivacyLevelNotAllowed, lambda: made.client.post_video(video, info), CREATOR_INFO
    )
    assert "FOLLOWER_OF_CREATOR" in str(error)


def test_a_photo_direct_post_needs_a_privacy_level(make_client: Any) -> None:
    made: Made = make_client()
    call = lambda: made.client.post_photos([f"{MEDIA}/a.jpg"], PhotoPostInfo())  # noqa: E731
    refused(made, PrivacyLevelNotAllowed, call, CREATOR_INFO)


@pytest.mark.parametrize(
    ("username", "asked"),
    [
        ("dev_quiet", {"disable_comment": False}),  # comments "No one"
        ("cora.cooks", {"disable_stitch": False}),  # stitch off
        ("eli.long", {"disable_duet": False}),  # duet off
        ("ben_private", {"disable_duet": False}),  # private account: duet and stitch off
    ],
)
def test_turning_on_what_the_creator_disabled(
    make_client: Any, video: Path, username: str, asked: dict[str, bool]
) -> None:
    made: Made = make_client(username)
    info = PostInfo(privacy_level="SELF_ONLY", **asked)
    refused(
        made,
        InteractionDisabledByCreator,
        lambda: made.client.post_video(video, info),
        CREATOR_INFO,
    )


def test_leaving_disabled_interactions_off_is_fine(make_client: Any, video: Path) -> None:
    made: Made = make_client("dev_quiet")
    made.client.post_video(video, PostInfo(privacy_level="SELF_ONLY", disable_duet=True))
    assert made.log.sent_any_init()


def test_photo_comments_the_creator_disabled(make_client: Any) -> None:
    made: Made = make_client("dev_quiet")
    info = PhotoPostInfo(privacy_level="SELF_ONLY", disable_comment=False)
    call = lambda: made.client.post_photos([f"{MEDIA}/a.jpg"], info)  # noqa: E731
    refused(made, InteractionDisabledByCreator, call, CREATOR_INFO)


def test_a_video_longer_than_the_creator_may_post(
    make_client: Any, video: Path, control: httpx.Client
) -> None:
    patch_creator(control, "cora.cooks", max_video_post_duration_sec=3)  # the video is 3.5 s
    made: Made = make_client("cora.cooks")
    info = PostInfo(privacy_level="SELF_ONLY")
    refused(made, DurationOverCreatorMax, lambda: made.client.post_video(video, info), CREATOR_INFO)


def test_the_duration_limit_never_exceeds_the_apis_10_minutes() -> None:
    video_duration(VideoFacts("mp4", duration_s=600.0), 3600)
    with pytest.raises(DurationOverCreatorMax):
        video_duration(VideoFacts("mp4", duration_s=600.5), 3600)
    video_duration(VideoFacts("mp4", duration_s=None), 1)  # unknown (a URL): not checked
    assert API_MAX_VIDEO_SECONDS == 600


@pytest.mark.parametrize(
    ("name", "make", "why"),
    [
        ("a.mkv", lambda p: make_video(p, container="mkv", codec="vp9"), "matroska"),
        ("a.mp4", lambda p: make_video(p, codec="mpeg4"), "codec"),
        ("a.mp4", lambda p: make_video(p, fps=20), "fps"),
        ("a.mp4", lambda p: make_video(p, width=320, height=240), "320x240"),
        ("a.mp4", lambda p: make_garbage(p, 5000), "not a readable video"),
    ],
)
def test_media_tiktok_does_not_take(
    make_client: Any, tmp_path: Path, name: str, make: Any, why: str
) -> None:
    path = make(tmp_path / name)
    made: Made = make_client()
    info = PostInfo(privacy_level="SELF_ONLY")
    error = refused(made, UnsupportedMedia, lambda: made.client.post_video(path, info), [])
    assert why in str(error)
    refused(made, UnsupportedMedia, lambda: made.client.upload_video_to_inbox(path), [])


def test_a_file_over_4_gb_is_refused(make_client: Any, tmp_path: Path) -> None:
    huge = tmp_path / "huge.mp4"
    with huge.open("wb") as f:
        f.truncate(4 * 1024**3 + 1)  # sparse: no real disk used
    made: Made = make_client()
    call = lambda: made.client.post_video(huge, PostInfo(privacy_level="SELF_ONLY"))  # noqa: E731
    refused(made, MediaTooLarge, call, [])


@pytest.mark.parametrize(
    ("urls", "cover"), [([], 0), ([f"{MEDIA}/a.jpg"] * 36, 0), ([f"{MEDIA}/a.jpg"], 1)]
)
def test_photo_count_and_cover_index(make_client: Any, urls: list[str], cover: int) -> None:
    made: Made = make_client()
    info = PhotoPostInfo(privacy_level="SELF_ONLY")
    call = lambda: made.client.post_photos(urls, info, cover_index=cover)  # noqa: E731
    refused(made, UnsupportedMedia, call, [])


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"banned": True}, SpamRiskUserBannedFromPosting),
        ({"posts_last_24h": 15}, SpamRiskTooManyPosts),
    ],
)
def test_the_creator_cannot_post_now(
    make_client: Any, video: Path, control: httpx.Client, settings: dict[str, Any], reason: Any
) -> None:
    patch_creator(control, "ana_makes", **settings)
    made: Made = make_client()
    # creator_info answers these with HTTP 200 on purpose (ref 6): the code decides.
    with pytest.raises(reason) as direct:
        made.client.creator_info()
    assert direct.value.http_status == 200
    made.log.requests.clear()
    info = PostInfo(privacy_level="SELF_ONLY")
    error = refused(
        made, CreatorCannotPostNow, lambda: made.client.post_video(video, info), CREATOR_INFO
    )
    assert isinstance(error.reason, reason) and error.__cause__ is error.reason
