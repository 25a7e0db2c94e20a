"""What the client refuses before sending: one function per TikTok rule, each raising a
`LocalRefusal` that names it (ref 6, 7.1, 9, 13, 15.4). Pure: the facts are passed in."""

from __future__ import annotations

from collections.abc import Sequence

from client.chunks import MAX_VIDEO_BYTES
from client.errors import (
    BrandedContentCannotBePrivate,
    CaptionTooLong,
    CreatorCannotPostNow,
    DisplayRequestOutOfBounds,
    DurationOverCreatorMax,
    InteractionDisabledByCreator,
    MediaTooLarge,
    PrivacyLevelNotAllowed,
    ReachedActiveUserCap,
    SpamRiskTooManyPosts,
    SpamRiskUserBannedFromPosting,
    TikTokError,
    UnsupportedMedia,
)
from client.media import FileSource, VideoFacts
from client.models import CreatorInfo

VIDEO_TITLE_MAX = 2200  # ref 7.1, UTF-16 code units
PHOTO_TITLE_MAX = 90  # ref 9
PHOTO_DESCRIPTION_MAX = 4000  # ref 9
MAX_PHOTOS = 35  # ref 9
MAX_VIDEO_PAGE = 20  # ref 5.1: max_count at most 20
MAX_QUERY_IDS = 20  # ref 5.1: at most 20 video ids per query
API_MAX_VIDEO_SECONDS = 600  # ref 13: the API takes at most 10 min whatever the creator's limit
VIDEO_CONTAINERS = ("mp4", "mov", "webm")  # ref 13
VIDEO_CODECS = ("h264", "hevc", "vp8", "vp9")  # ref 13 (FFmpeg's names)
MIN_FPS, MAX_FPS = 23, 60  # ref 13
MIN_SIDE_PX, MAX_SIDE_PX = 360, 4096  # ref 13: both width and height
# ref 6: creator_info's intentional-200 answers mean "cannot post right now".
CANNOT_POST_NOW: tuple[type[TikTokError], ...] = (
    SpamRiskTooManyPosts,
    SpamRiskUserBannedFromPosting,
    ReachedActiveUserCap,
)


def utf16_units(text: str) -> int:
    """Length as TikTok counts it: an emoji outside the BMP is 2 units (ref 7.1)."""
    return len(text.encode("utf-16-le")) // 2


def caption_fits(name: str, text: str | None, limit: int) -> None:
    if text is not None and (units := utf16_units(text)) > limit:
        raise CaptionTooLong(f"{name} is {units} UTF-16 code units; the maximum is {limit}")


def branded_content_not_private(privacy_level: str | None, brand_content_toggle: bool) -> None:
    """ref 7.1, 15.4: a paid partnership is public or friends, never "only me"."""
    if brand_content_toggle and privacy_level == "SELF_ONLY":
        raise BrandedContentCannotBePrivate(
            "branded content (brand_content_toggle) cannot be posted with SELF_ONLY"
        )


def photo_set(urls: Sequence[str], cover_index: int) -> None:
    """ref 9: 1 to 35 photo URLs, and a cover index inside the list."""
    if not 1 <= len(urls) <= MAX_PHOTOS:
        raise UnsupportedMedia(f"a photo post has 1 to {MAX_PHOTOS} photos, not {len(urls)}")
    if not 0 <= cover_index < len(urls):
        raise UnsupportedMedia(f"photo_cover_index {cover_index} is not in 0..{len(urls) - 1}")


def video_page_size(max_count: int | None) -> None:
    """ref 5.1: `max_count` is 1 to 20 (10 when left out)."""
    if max_count is not None and not 1 <= max_count <= MAX_VIDEO_PAGE:
        raise DisplayRequestOutOfBounds(f"max_count is 1 to {MAX_VIDEO_PAGE}, not {max_count}")


def video_ids(ids: Sequence[str]) -> None:
    """ref 5.1: a query names 1 to 20 video ids."""
    if not 1 <= len(ids) <= MAX_QUERY_IDS:
        raise DisplayRequestOutOfBounds(f"a query names 1 to {MAX_QUERY_IDS} ids, not {len(ids)}")


def video_file(source: FileSource) -> None:
    """ref 10.1, 13: size, container, codec, frame rate and resolution of a local video (the
    duration depends on the creator: `video_duration`)."""
    if source.size > MAX_VIDEO_BYTES:
        raise MediaTooLarge(f"{source.size} bytes is over the 4 GB maximum ({MAX_VIDEO_BYTES})")
    if source.size == 0:
        raise UnsupportedMedia("the file is empty")
    facts = source.facts
    if facts is None:
        return  # PyAV not installed: TikTok's processing decides
    if facts.container not in VIDEO_CONTAINERS:
        what = facts.container or "not a readable video"
        raise UnsupportedMedia(f"container {what}: TikTok takes MP4, MOV and WebM")
    if facts.codec not in VIDEO_CODECS:
        raise UnsupportedMedia(f"codec {facts.codec}: TikTok takes H.264, H.265, VP8 and VP9")
    if facts.fps is not None and not MIN_FPS <= facts.fps <= MAX_FPS:
        raise UnsupportedMedia(f"{facts.fps:g} fps: TikTok takes {MIN_FPS}-{MAX_FPS} fps")
    for side in (facts.width, facts.height):
        if side is not None and not MIN_SIDE_PX <= side <= MAX_SIDE_PX:
            raise UnsupportedMedia(
                f"{facts.width}x{facts.height}: both sides must be {MIN_SIDE_PX}-{MAX_SIDE_PX} px"
            )


def video_duration(facts: VideoFacts | None, max_seconds: int) -> None:
    """ref 6, 13, 15.4: no longer than the creator's max_video_post_duration_sec, and never
    over the API's 600 s. Skipped when the duration is unknown (URLs, no PyAV)."""
    if facts is None or facts.duration_s is None:
        return
    limit = min(max_seconds, API_MAX_VIDEO_SECONDS)
    if facts.duration_s > limit:
        raise DurationOverCreatorMax(
            f"the video is {facts.duration_s:.1f} s; this creator can post at most {limit} s"
        )


def creator_can_post(error: TikTokError) -> None:
    """ref 6, 15.4: creator_info's "cannot post right now" answers stop the post."""
    if isinstance(error, CANNOT_POST_NOW):
        raise CreatorCannotPostNow(error) from error


def privacy_allowed(creator: CreatorInfo, privacy_level: str | None) -> None:
    """ref 6, 7.1, 15.4: picked from the creator's current options; there is no default."""
    if privacy_level not in creator.privacy_level_options:
        options = ", ".join(creator.privacy_level_options)
        what = "is required" if privacy_level is None else f"{privacy_level} is not allowed"
        raise PrivacyLevelNotAllowed(f"privacy_level {what}; this creator allows: {options}")


def interactions_allowed(
    creator: CreatorInfo,
    disable_comment: bool,
    disable_duet: bool | None = None,
    disable_stitch: bool | None = None,
) -> None:
    """ref 6, 15.4: the Comment/Duet/Stitch boxes of a setting the creator turned off are
    greyed out, so a request cannot turn it on (`disable_x=False`). None: not applicable
    (duet and stitch on photos, ref 9)."""
    asked = (
        ("comment", disable_comment, creator.comment_disabled),
        ("duet", disable_duet, creator.duet_disabled),
        ("stitch", disable_stitch, creator.stitch_disabled),
    )
    for name, disable, creator_disabled in asked:
        if disable is False and creator_disabled:
            raise InteractionDisabledByCreator(
                f"the creator has turned {name} off; post with disable_{name}=True"
            )
