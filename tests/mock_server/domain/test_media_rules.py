"""TikTok's media rules (ref 13): every fail_reason, from real generated files and at the edges."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conformance.media import make_garbage, make_image, make_video
from mock_server.domain.media_rules import (
    MAX_PHOTO_BYTES,
    MAX_VIDEO_BYTES,
    ImageFacts,
    MediaCheck,
    VideoFacts,
    check_photo,
    check_video,
    photo_fail_reason,
    video_fail_reason,
)
from mock_server.runtime.media import probe_image, probe_video

CREATOR_MAX = 600  # a creator allowed the API's full 10 min

GOOD_VIDEO = VideoFacts("mp4", "h264", 3.5, 30.0, 640, 360, 20_000)
GOOD_PHOTO = ImageFacts("JPEG", 1080, 1920, 50_000)


# --- from real files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("container", "codec"),
    [
        ("mp4", "h264"),
        ("mov", "h264"),
        ("mp4", "hevc"),
        ("mov", "hevc"),
        ("webm", "vp8"),
        ("webm", "vp9"),
        ("mp4", "vp9"),
    ],
)
def test_supported_videos_pass(tmp_path: Path, container: str, codec: str) -> None:
    path = make_video(tmp_path / f"ok.{container}", container=container, codec=codec)
    assert video_fail_reason(probe_video(path), CREATOR_MAX) is None


@pytest.mark.parametrize(
    ("name", "kwargs", "creator_max", "expected"),
    [
        ("mpeg4.mp4", {"codec": "mpeg4"}, CREATOR_MAX, "file_format_check_failed"),
        ("h264.mkv", {"container": "mkv"}, CREATOR_MAX, "file_format_check_failed"),
        ("vp9.mkv", {"container": "mkv", "codec": "vp9"}, CREATOR_MAX, "file_format_check_failed"),
        ("short.mp4", {"seconds": 2}, CREATOR_MAX, "duration_check_failed"),
        ("long.mp4", {"seconds": 6}, 5, "duration_check_failed"),
        ("slow.mp4", {"fps": 20}, CREATOR_MAX, "frame_rate_check_failed"),
        ("fast.mp4", {"fps": 75}, CREATOR_MAX, "frame_rate_check_failed"),
        ("small.mp4", {"width": 320, "height": 240}, CREATOR_MAX, "picture_size_check_failed"),
    ],
)
def test_video_fail_reasons(
    tmp_path: Path, name: str, kwargs: dict[str, Any], creator_max: int, expected: str
) -> None:
    path = make_video(tmp_path / name, **kwargs)
    assert video_fail_reason(probe_video(path), creator_max) == expected


def test_six_seconds_pass_for_a_creator_allowed_more(tmp_path: Path) -> None:
    facts = probe_video(make_video(tmp_path / "six.mp4", seconds=6))
    assert video_fail_reason(facts, 5) == "duration_check_failed"
    assert video_fail_reason(facts, 6) is None


def test_garbage_video_fails_format(tmp_path: Path) -> None:
    facts = probe_video(make_garbage(tmp_path / "garbage.mp4", 100_000))
    assert video_fail_reason(facts, CREATOR_MAX) == "file_format_check_failed"


def test_one_reason_per_file_format_first(tmp_path: Path) -> None:
    # Wrong codec, too small, too short and too slow: the format is what gets reported.
    path = make_video(tmp_path / "all.mp4", codec="mpeg4", width=320, height=240, seconds=2, fps=20)
    assert check_video(probe_video(path), CREATOR_MAX) == MediaCheck(
        "video_codec_supported", "file_format_check_failed"
    )


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_supported_photos_pass(tmp_path: Path, fmt: str) -> None:
    for width, height in ((1080, 1920), (1920, 1080), (640, 640)):
        path = make_image(tmp_path / f"ok-{width}", fmt=fmt, width=width, height=height)
        assert photo_fail_reason(probe_image(path)) is None


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"fmt": "PNG"}, "file_format_check_failed"),
        ({"fmt": "GIF", "width": 64, "height": 64}, "file_format_check_failed"),
        ({"width": 1200, "height": 2000}, "picture_size_check_failed"),
        ({"fmt": "WEBP", "width": 2000, "height": 1200}, "picture_size_check_failed"),
        (
            {"width": 64, "height": 64, "pad_to_bytes": 20 * 1024**2 + 1},
            "picture_size_check_failed",
        ),
    ],
)
def test_photo_fail_reasons(tmp_path: Path, kwargs: dict[str, Any], expected: str) -> None:
    assert photo_fail_reason(probe_image(make_image(tmp_path / "img", **kwargs))) == expected


def test_photo_of_exactly_20_mib_passes(tmp_path: Path) -> None:
    path = make_image(tmp_path / "edge.jpg", width=64, height=64, pad_to_bytes=MAX_PHOTO_BYTES)
    assert photo_fail_reason(probe_image(path)) is None


def test_garbage_photo_fails_format(tmp_path: Path) -> None:
    facts = probe_image(make_garbage(tmp_path / "garbage.jpg", 10_000))
    assert photo_fail_reason(facts) == "file_format_check_failed"


# --- edges, on facts -----------------------------------------------------------------------------


def test_good_facts_pass() -> None:
    assert check_video(GOOD_VIDEO, CREATOR_MAX) is None
    assert check_photo(GOOD_PHOTO) is None


@pytest.mark.parametrize(
    ("change", "rule", "expected"),
    [
        ({"container": None}, "video_container_supported", "file_format_check_failed"),
        ({"container": "matroska"}, "video_container_supported", "file_format_check_failed"),
        ({"codec": "av1"}, "video_codec_supported", "file_format_check_failed"),
        ({"codec": None}, "video_codec_supported", "file_format_check_failed"),
        ({"size_bytes": MAX_VIDEO_BYTES + 1}, "video_within_max_size", "file_format_check_failed"),
        ({"width": 359}, "video_resolution_in_range", "picture_size_check_failed"),
        ({"height": 4097}, "video_resolution_in_range", "picture_size_check_failed"),
        ({"width": None}, "video_resolution_in_range", "picture_size_check_failed"),
        ({"duration_s": 2.99}, "video_long_enough", "duration_check_failed"),
        ({"duration_s": None}, "video_long_enough", "duration_check_failed"),
        ({"duration_s": 600.01}, "video_short_enough", "duration_check_failed"),
        ({"fps": 22.9}, "video_frame_rate_in_range", "frame_rate_check_failed"),
        ({"fps": 60.1}, "video_frame_rate_in_range", "frame_rate_check_failed"),
        ({"fps": None}, "video_frame_rate_in_range", "frame_rate_check_failed"),
    ],
)
def test_video_rule_edges(change: dict[str, Any], rule: str, expected: str) -> None:
    assert check_video(replace(GOOD_VIDEO, **change), CREATOR_MAX) == MediaCheck(rule, expected)


@pytest.mark.parametrize(
    "change",
    [
        {"duration_s": 3.0},
        {"duration_s": 600.0},
        {"fps": 23.0},
        {"fps": 60.0},
        {"fps": 29.97},
        {"width": 360, "height": 4096},
        {"size_bytes": MAX_VIDEO_BYTES},
        {"container": "webm", "codec": "vp8"},
        {"container": "mov", "codec": "hevc"},
    ],
)
def test_video_limits_are_inclusive(change: dict[str, Any]) -> None:
    assert video_fail_reason(replace(GOOD_VIDEO, **change), CREATOR_MAX) is None


def test_api_caps_duration_at_ten_minutes_whatever_the_creator_allows() -> None:
    assert video_fail_reason(replace(GOOD_VIDEO, duration_s=601.0), 900) == "duration_check_failed"
    assert video_fail_reason(replace(GOOD_VIDEO, duration_s=180.0), 180) is None
    assert video_fail_reason(replace(GOOD_VIDEO, duration_s=180.5), 180) == "duration_check_failed"


def test_check_order_is_format_size_duration_frame_rate() -> None:
    facts = VideoFacts("mov", "mpeg4", 2.0, 20.0, 100, 100, 1)
    fixes: list[tuple[str, dict[str, Any]]] = [
        ("video_codec_supported", {"codec": "h264"}),
        ("video_resolution_in_range", {"width": 640, "height": 360}),
        ("video_long_enough", {"duration_s": 4.0}),
        ("video_frame_rate_in_range", {"fps": 30.0}),
    ]
    for rule, fix in fixes:
        failed = check_video(facts, CREATOR_MAX)
        assert failed is not None and failed.rule == rule
        facts = replace(facts, **fix)
    assert check_video(facts, CREATOR_MAX) is None


@pytest.mark.parametrize(
    ("change", "rule", "expected"),
    [
        ({"format": "PNG"}, "photo_format_supported", "file_format_check_failed"),
        ({"format": None}, "photo_format_supported", "file_format_check_failed"),
        ({"size_bytes": MAX_PHOTO_BYTES + 1}, "photo_within_max_size", "picture_size_check_failed"),
        ({"width": 1081}, "photo_resolution_in_range", "picture_size_check_failed"),
        ({"height": 1921}, "photo_resolution_in_range", "picture_size_check_failed"),
        ({"width": 1920, "height": 1081}, "photo_resolution_in_range", "picture_size_check_failed"),
        ({"width": None, "height": None}, "photo_resolution_in_range", "picture_size_check_failed"),
    ],
)
def test_photo_rule_edges(change: dict[str, Any], rule: str, expected: str) -> None:
    assert check_photo(replace(GOOD_PHOTO, **change)) == MediaCheck(rule, expected)


def test_photo_format_before_size() -> None:
    png = ImageFacts("PNG", 4000, 4000, MAX_PHOTO_BYTES * 2)
    assert photo_fail_reason(png) == "file_format_check_failed"
