"""Media probing on real files made by `conformance.media`: containers, codecs, timing, sizes."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image

from conformance.media import make_garbage, make_image, make_video
from mock_server.domain import media_rules
from mock_server.runtime.media import ImageFacts, VideoFacts, probe_image, probe_video


@pytest.mark.parametrize(
    ("container", "codec", "expected"),
    [
        ("mp4", "h264", "mp4"),
        ("mov", "h264", "mov"),
        ("mp4", "hevc", "mp4"),
        ("mov", "hevc", "mov"),
        ("mp4", "vp9", "mp4"),
        ("webm", "vp8", "webm"),
        ("webm", "vp9", "webm"),
        ("mkv", "vp9", "matroska"),
        ("mkv", "h264", "matroska"),
        ("mp4", "mpeg4", "mp4"),
    ],
)
def test_tells_containers_and_codecs_apart(
    tmp_path: Path, container: str, codec: str, expected: str
) -> None:
    path = make_video(tmp_path / f"clip.{container}", container=container, codec=codec)
    facts = probe_video(path)
    assert facts == VideoFacts(
        container=expected,
        codec=codec,
        duration_s=3.5,
        fps=30.0,
        width=640,
        height=360,
        size_bytes=path.stat().st_size,
    )


@pytest.mark.parametrize(("fps", "seconds"), [(20, 2.0), (24, 6.0), (60, 3.0), (75, 4.0)])
def test_reads_frame_rate_and_duration(tmp_path: Path, fps: int, seconds: float) -> None:
    facts = probe_video(make_video(tmp_path / "clip.mp4", fps=fps, seconds=seconds))
    assert facts.fps == fps
    assert facts.duration_s == pytest.approx(seconds)


def test_reads_ntsc_frame_rate_in_webm(tmp_path: Path) -> None:
    path = make_video(tmp_path / "c.webm", container="webm", codec="vp9", fps=Fraction(30000, 1001))
    facts = probe_video(path)
    assert facts.fps == pytest.approx(29.97, abs=0.01)
    assert facts.duration_s == pytest.approx(105 * 1001 / 30000, abs=0.002)


def test_reads_resolution(tmp_path: Path) -> None:
    portrait = probe_video(make_video(tmp_path / "p.mp4", width=360, height=640, seconds=1))
    small = make_video(tmp_path / "s.webm", container="webm", codec="vp8", width=320, height=240)
    assert (portrait.width, portrait.height) == (360, 640)
    assert (probe_video(small).width, probe_video(small).height) == (320, 240)


def test_duration_of_a_live_webm_comes_from_packet_timestamps(tmp_path: Path) -> None:
    path = make_video(tmp_path / "live.webm", container="webm", codec="vp8", live=True)
    with av.open(str(path)) as container:  # the header really carries no duration
        assert container.duration is None
        assert container.streams.video[0].duration is None
    assert probe_video(path).duration_s == pytest.approx(3.5)


def test_a_stream_without_video_has_no_codec(tmp_path: Path) -> None:
    path = tmp_path / "sound.mp4"
    with av.open(str(path), "w", format="mp4") as output:
        stream = output.add_stream("aac", rate=48000, layout="mono")
        for index in range(50):  # about a second of silence
            frame = av.AudioFrame(format="fltp", layout="mono", samples=1024)
            frame.planes[0].update(bytes(frame.planes[0].buffer_size))
            frame.sample_rate, frame.pts = 48000, index * 1024
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    assert probe_video(path) == VideoFacts("mp4", None, None, None, None, None, path.stat().st_size)


@pytest.mark.parametrize("name", ["garbage.mp4", "garbage.webm"])
def test_garbage_is_unreadable_not_an_error(tmp_path: Path, name: str) -> None:
    path = make_garbage(tmp_path / name, 200_000)
    assert probe_video(path) == VideoFacts(None, None, None, None, None, None, 200_000)
    assert probe_image(path) == ImageFacts(None, None, None, 200_000)


def test_other_formats_are_unreadable_for_video(tmp_path: Path) -> None:
    # Only the ISO BMFF and Matroska demuxers run: a JPEG is not "a one-frame video".
    path = make_image(tmp_path / "photo.jpg", width=640, height=360)
    assert probe_video(path).container is None
    playlist = tmp_path / "list.m3u8"
    playlist.write_text("#EXTM3U\n#EXTINF:10,\nhttp://127.0.0.1:9/never.ts\n")
    assert probe_video(playlist).container is None


def test_truncated_video_is_unreadable_or_partial_never_raises(tmp_path: Path) -> None:
    whole = make_video(tmp_path / "whole.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: len(whole) // 2])  # the moov box, written last, is gone
    assert probe_video(cut).container is None


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    assert probe_video(tmp_path / "nope.mp4").container is None
    assert probe_image(tmp_path / "nope.jpg") == ImageFacts(None, None, None, 0)


@pytest.mark.parametrize(
    ("fmt", "size"), [("JPEG", (1080, 1920)), ("WEBP", (1920, 1080)), ("PNG", (640, 480))]
)
def test_reads_image_format_and_size(tmp_path: Path, fmt: str, size: tuple[int, int]) -> None:
    path = make_image(tmp_path / "img", fmt=fmt, width=size[0], height=size[1])
    assert probe_image(path) == ImageFacts(fmt, *size, size_bytes=path.stat().st_size)


def test_padded_jpeg_still_opens_with_its_real_size(tmp_path: Path) -> None:
    path = make_image(tmp_path / "big.jpg", width=64, height=64, pad_to_bytes=21 * 1024**2)
    assert path.stat().st_size == 21 * 1024**2
    with Image.open(path) as image:
        image.load()  # the pixels decode: the padding is well-formed JPEG
        assert image.size == (64, 64)
    assert probe_image(path) == ImageFacts("JPEG", 64, 64, 21 * 1024**2)


def test_image_too_large_to_parse_is_only_sniffed(tmp_path: Path) -> None:
    path = make_image(tmp_path / "huge.jpg", width=64, height=64, pad_to_bytes=65 * 1024**2)
    assert probe_image(path) == ImageFacts("JPEG", None, None, 65 * 1024**2)


def test_decompression_bomb_keeps_its_format_but_no_size(tmp_path: Path) -> None:
    path = _jpeg_declaring(tmp_path / "bomb.jpg", width=60_000, height=60_000)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(path)
    facts = probe_image(path)
    assert facts == ImageFacts("JPEG", None, None, path.stat().st_size)
    assert media_rules.photo_fail_reason(facts) == "picture_size_check_failed"


def test_generated_media_is_deterministic(tmp_path: Path) -> None:
    def digest(name: str, container: str, codec: str) -> str:
        path = make_video(tmp_path / name, container=container, codec=codec)
        return hashlib.sha256(path.read_bytes()).hexdigest()

    assert digest("a.mp4", "mp4", "h264") == digest("b.mp4", "mp4", "h264")
    assert digest("a.webm", "webm", "vp9") == digest("b.webm", "webm", "vp9")


def _jpeg_declaring(path: Path, *, width: int, height: int) -> Path:
    """A small JPEG whose frame header (SOF0) claims `width` x `height`."""
    data = bytearray(make_image(path, width=16, height=16).read_bytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    path.write_bytes(bytes(data))
    return path
