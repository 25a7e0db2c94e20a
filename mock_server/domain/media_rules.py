"""TikTok's media requirements (ref 13): which probed videos and photos pass, and why not.

Pure: the facts come from `mock_server.runtime.media`, which reads the bytes. Each file gets at
most one `fail_reason`, from the first rule it breaks. Rules run in this order (the reference is
silent on order; see docs/fidelity.md): format (container, codec, file size), then picture size,
then duration, then frame rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

# ref 11: the media fail reasons (shared with webhooks).
FILE_FORMAT_CHECK_FAILED = "file_format_check_failed"
DURATION_CHECK_FAILED = "duration_check_failed"
FRAME_RATE_CHECK_FAILED = "frame_rate_check_failed"
PICTURE_SIZE_CHECK_FAILED = "picture_size_check_failed"

# ref 13: MP4 (recommended), WebM, MOV; H.264 (recommended), H.265, VP8, VP9. Names are FFmpeg's.
VIDEO_CONTAINERS = frozenset({"mp4", "mov", "webm"})
VIDEO_CODECS = frozenset({"h264", "hevc", "vp8", "vp9"})
# ref 13: the minimum duration is not documented; third parties report 3 s.
MIN_VIDEO_SECONDS = 3
# ref 13: the API accepts at most 10 min, whatever the creator's own limit.
MAX_API_VIDEO_SECONDS = 600
MIN_FPS, MAX_FPS = 23, 60  # ref 13: 23-60 FPS
MIN_VIDEO_SIDE_PX, MAX_VIDEO_SIDE_PX = 360, 4096  # ref 13: both width and height
MAX_VIDEO_BYTES = 4 * 1024**3  # ref 13: 4 GB, read as GiB

# ref 9, 13: WebP and JPEG only (PNG is refused). Names are Pillow's.
PHOTO_FORMATS = frozenset({"JPEG", "WEBP"})
# ref 9, 13: "max 1080p", read (as integrators do) as at most 1080 x 1920 in either orientation.
MAX_PHOTO_SHORT_SIDE_PX, MAX_PHOTO_LONG_SIDE_PX = 1080, 1920
MAX_PHOTO_BYTES = 20 * 1024**2  # ref 9, 13: 20 MB each, read as MiB


@dataclass(frozen=True, slots=True)
class VideoFacts:
    """What probing a video found; every field but the size is None when it could not be read."""

    container: str | None  # "mp4", "mov", "webm", or another name; None if unreadable
    codec: str | None  # "h264", "hevc", "vp8", "vp9", or the codec name found
    duration_s: float | None
    fps: float | None
    width: int | None
    height: int | None
    size_bytes: int


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """What probing an image found; `format` is Pillow's name ("JPEG", "WEBP", "PNG"...)."""

    format: str | None
    width: int | None
    height: int | None
    size_bytes: int


class MediaCheck(NamedTuple):
    """A broken media rule: its name (for the journal) and TikTok's `fail_reason`."""

    rule: str
    fail_reason: str


# --- video rules: each returns True when the file passes ---------------------------------------


def video_container_supported(facts: VideoFacts, max_seconds: int) -> bool:
    return facts.container in VIDEO_CONTAINERS  # ref 13


def video_codec_supported(facts: VideoFacts, max_seconds: int) -> bool:
    return facts.codec in VIDEO_CODECS  # ref 13


def video_within_max_size(facts: VideoFacts, max_seconds: int) -> bool:
    # ref 13: max 4 GB. The reference names no fail_reason for size; a file TikTok will not take is
    # a format failure here (docs/fidelity.md).
    return facts.size_bytes <= MAX_VIDEO_BYTES


def video_resolution_in_range(facts: VideoFacts, max_seconds: int) -> bool:
    sides = (facts.width, facts.height)  # ref 13: 360-4096 px for both width and height
    return all(
        side is not None and MIN_VIDEO_SIDE_PX <= side <= MAX_VIDEO_SIDE_PX for side in sides
    )


def video_long_enough(facts: VideoFacts, max_seconds: int) -> bool:
    return facts.duration_s is not None and facts.duration_s >= MIN_VIDEO_SECONDS  # ref 13 (3p)


def video_short_enough(facts: VideoFacts, max_seconds: int) -> bool:
    # ref 13: the creator's `max_video_post_duration_sec`, and never above the API's 10 min.
    limit = min(max_seconds, MAX_API_VIDEO_SECONDS)
    return facts.duration_s is not None and facts.duration_s <= limit


def video_frame_rate_in_range(facts: VideoFacts, max_seconds: int) -> bool:
    return facts.fps is not None and MIN_FPS <= facts.fps <= MAX_FPS  # ref 13


VideoRule = Callable[[VideoFacts, int], bool]

# Check order: format, picture size, duration, frame rate (docs/fidelity.md).
VIDEO_RULES: tuple[tuple[VideoRule, str], ...] = (
    (video_container_supported, FILE_FORMAT_CHECK_FAILED),
    (video_codec_supported, FILE_FORMAT_CHECK_FAILED),
    (video_within_max_size, FILE_FORMAT_CHECK_FAILED),
    (video_resolution_in_range, PICTURE_SIZE_CHECK_FAILED),
    (video_long_enough, DURATION_CHECK_FAILED),
    (video_short_enough, DURATION_CHECK_FAILED),
    (video_frame_rate_in_range, FRAME_RATE_CHECK_FAILED),
)


# --- photo rules ----------------------------------------------------------------------------------


def photo_format_supported(facts: ImageFacts) -> bool:
    return facts.format in PHOTO_FORMATS  # ref 9, 13


def photo_within_max_size(facts: ImageFacts) -> bool:
    # ref 9, 13: 20 MB each; ref 9 gives picture_size_check_failed or file_format_check_failed, and
    # an oversized file is a size failure, not a format one.
    return facts.size_bytes <= MAX_PHOTO_BYTES


def photo_resolution_in_range(facts: ImageFacts) -> bool:
    if facts.width is None or facts.height is None:  # e.g. a decompression bomb's header
        return False
    short, long = sorted((facts.width, facts.height))
    return short <= MAX_PHOTO_SHORT_SIDE_PX and long <= MAX_PHOTO_LONG_SIDE_PX  # ref 9, 13


PhotoRule = Callable[[ImageFacts], bool]

PHOTO_RULES: tuple[tuple[PhotoRule, str], ...] = (
    (photo_format_supported, FILE_FORMAT_CHECK_FAILED),
    (photo_within_max_size, PICTURE_SIZE_CHECK_FAILED),
    (photo_resolution_in_range, PICTURE_SIZE_CHECK_FAILED),
)


def check_video(facts: VideoFacts, max_video_post_duration_sec: int) -> MediaCheck | None:
    """The first video rule `facts` break, or None when the video is acceptable."""
    for rule, fail_reason in VIDEO_RULES:
        if not rule(facts, max_video_post_duration_sec):
            return MediaCheck(rule.__name__, fail_reason)
    return None


def check_photo(facts: ImageFacts) -> MediaCheck | None:
    """The first photo rule `facts` break, or None when the photo is acceptable."""
    for rule, fail_reason in PHOTO_RULES:
        if not rule(facts):
            return MediaCheck(rule.__name__, fail_reason)
    return None


def video_fail_reason(facts: VideoFacts, max_video_post_duration_sec: int) -> str | None:
    """TikTok's `fail_reason` for this video, or None when it passes every rule."""
    failed = check_video(facts, max_video_post_duration_sec)
    return failed.fail_reason if failed else None


def photo_fail_reason(facts: ImageFacts) -> str | None:
    """TikTok's `fail_reason` for this photo, or None when it passes every rule."""
    failed = check_photo(facts)
    return failed.fail_reason if failed else None


def duration_limit(direct_post: bool, max_video_post_duration_sec: int) -> int:
    """ref 6, 13: Direct Post is held to the creator's maximum; an inbox draft only to the
    API's 10 minutes (the creator trims it in the app)."""
    return max_video_post_duration_sec if direct_post else MAX_API_VIDEO_SECONDS
