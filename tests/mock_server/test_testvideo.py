"""`tiktok-sandbox make-video`: real H.264 MP4s of the asked duration and exact size, which the
sandbox's upload and media checks accept; clear errors for what cannot be made."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from client import PostInfo, TikTokClient, Token
from client.chunks import plan_chunks
from mock_server import Clock, Sandbox
from mock_server.cli import main
from mock_server.runtime.media import probe_video
from mock_server.testvideo import (
    TestVideoError,
    free_box,
    make_test_video,
    pad_mp4,
    parse_size,
)

MiB = 1024 * 1024


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("123456", 123456),
        ("800KB", 800 * 1024),
        ("30MB", 30 * MiB),
        ("30 MiB", 30 * MiB),
        ("1.5GB", 3 * 1024**3 // 2),
        ("5mb", 5 * MiB),
    ],
)
def test_sizes_read_as_tiktok_counts_them(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MB", "30 parsecs", "-5MB", "1e6"])
def test_a_size_it_cannot_read_says_what_it_takes(text: str) -> None:
    with pytest.raises(TestVideoError, match=r"e\.g\. 30MB"):
        parse_size(text)


def test_the_command_writes_the_duration_and_size_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "big.mp4"
    size = 11 * MiB + 7  # two chunks: 5 MiB and 6 MiB + 7 bytes
    argv = ["make-video", str(out), "--seconds", "4", "--size", str(size)]
    assert main([*argv, "--width", "360", "--height", "640", "--fps", "25"]) == 0
    said = capsys.readouterr()
    assert said.out == f"{out}: {size} bytes, 4 s, 360x640, 25 fps, H.264 MP4\n"
    assert said.err == ""  # within every rule: no note
    facts = probe_video(out)
    assert (facts.container, facts.codec, facts.width, facts.height) == ("mp4", "h264", 360, 640)
    assert facts.size_bytes == size
    assert facts.fps == pytest.approx(25)
    assert facts.duration_s == pytest.approx(4, abs=1 / 25)


def test_a_padded_video_goes_up_in_chunks_and_publishes(tmp_path: Path) -> None:
    path = make_test_video(tmp_path / "clip.mp4", seconds=3.5, size=11 * MiB + 7)
    assert plan_chunks(path.stat().st_size).total_chunk_count == 2
    sandbox = Sandbox(clock=Clock.frozen_at(datetime(2026, 1, 1, tzinfo=UTC)))
    body = sandbox.issue_tokens("awacmescheduler01", "ana_makes", ["video.publish"])
    token = Token.from_response(body, sandbox.clock.now())
    with (
        sandbox,
        TikTokClient(
            token=token,
            base_url="http://sandbox.test",
            transport=sandbox.transport(),
            sleep=sandbox.advance,
            now=sandbox.clock.now,
        ) as tiktok,
    ):
        held: list[int] = []
        publish = tiktok.post_video(
            path, PostInfo(privacy_level="SELF_ONLY"), progress=lambda n, _: held.append(n)
        )
        assert held == [0, 5 * MiB, 11 * MiB + 7]
        assert tiktok.wait_for_publish(publish).status == "PUBLISH_COMPLETE"


def test_a_video_outside_tiktoks_rules_is_made_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["make-video", str(tmp_path / "short.mp4"), "--seconds", "2"]) == 0
    assert "refuse it: duration_check_failed (video_long_enough)" in capsys.readouterr().err


def test_more_than_4_gb_uses_a_large_free_box(tmp_path: Path) -> None:
    path = make_test_video(tmp_path / "huge.mp4", seconds=3, size=4 * 1024**3 + 1)  # sparse
    facts = probe_video(path)
    assert facts.size_bytes == 4 * 1024**3 + 1 and facts.duration_s == pytest.approx(3)
    assert facts.codec == "h264"  # the probe skipped the 64-bit free box
    assert free_box(2**32) == (1).to_bytes(4, "big") + b"free" + (2**32).to_bytes(8, "big")
    assert pad_mp4(b"\0" * 8, 24)[8:] == (16).to_bytes(4, "big") + b"free" + bytes(8)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["clip.mov"], "make-video writes MP4 (H.264); name the file .mp4"),
        (["clip.mp4", "--size", "1KB"], "ask for at least"),
        (["clip.mp4", "--size", "huge"], "size 'huge': give bytes"),
        (["clip.mp4", "--width", "641"], "--width 641: an even number of pixels"),
        (["clip.mp4", "--height", "8"], "--height 8: an even number of pixels"),
        (["clip.mp4", "--seconds", "0"], "--seconds 0 at 30 fps is not one frame"),
        (["clip.mp4", "--seconds", "nan"], "--seconds nan: at most 3600"),
        (["clip.mp4", "--seconds", "inf"], "--seconds inf: at most 3600"),
        (["clip.mp4", "--seconds", "1e9"], "--seconds 1e+09: at most 3600"),
        (["clip.mp4", "--fps", "0"], "--fps 0: at least 1"),
        (["no/such/dir/clip.mp4"], "no/such/dir: no such directory"),
    ],
)
def test_what_cannot_be_made_is_one_line_and_no_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    said: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["make-video", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tiktok-sandbox make-video: ") and err.count("\n") == 1
    assert said in err
    assert list(tmp_path.iterdir()) == []  # nothing left behind, not even a partial file
