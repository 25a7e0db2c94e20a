"""Test videos of a given duration and file size: `tiktok-sandbox make-video`.

    tiktok-sandbox make-video clip.mp4 --seconds 5                 # a few kB: one chunk
    tiktok-sandbox make-video big.mp4 --seconds 5 --size 30MB      # 30 MiB: six 5 MiB chunks

The video is a real H.264 MP4 (a sliding gradient, encoded by PyAV); `--size` grows the file to
exactly that many bytes with a trailing top-level MP4 `free` box, which every MP4 reader skips
(ISO/IEC 14496-12 "free space"), so the duration, frame rate and picture stay what was asked and
the sandbox's probe reads the same facts. Sizes use TikTok's binary MB (ref 10.1: a 5 MB chunk is
5,242,880 bytes).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path
from typing import Any

from mock_server.domain.media_rules import MAX_API_VIDEO_SECONDS, check_video
from mock_server.runtime.media import probe_video

FREE_HEADER = 8  # a box: 4-byte big-endian size, then its type
LARGE_FREE_HEADER = 16  # size 1, type, then an 8-byte size: boxes of 4 GiB and more
UNITS = {"": 1, "b": 1, "kb": 1024, "kib": 1024, "mb": 1024**2, "mib": 1024**2}
UNITS |= {"gb": 1024**3, "gib": 1024**3}
SUFFIXES = (".mp4", ".m4v")
MIN_SIDE, MAX_SIDE = 16, 8192  # what the encoder is asked to make (TikTok takes 360-4096)
MAX_SECONDS = 3600.0  # TikTok takes up to 600; longer still shows the sandbox's refusal


class TestVideoError(ValueError):
    """A video that cannot be made as asked; the message says why and what would do."""

    __test__ = False  # not a pytest test class, despite the name


def parse_size(text: str) -> int:
    """`123456`, `800KB`, `30MB`, `1.5GB` (binary, as TikTok counts: ref 10.1), `30MiB`."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in UNITS:
        raise TestVideoError(
            f"size {text!r}: give bytes, or a number with KB, MB or GB (binary, as TikTok "
            "counts them: 5MB is 5,242,880 bytes), e.g. 30MB"
        )
    return int(float(match.group(1)) * UNITS[unit])


def free_box(extra: int) -> bytes:
    """The header of a `free` box `extra` bytes long in all (its zeros follow it)."""
    if extra < FREE_HEADER:
        raise TestVideoError(f"a free box needs at least {FREE_HEADER} bytes, not {extra}")
    if extra < 2**32:
        return extra.to_bytes(4, "big") + b"free"
    return (1).to_bytes(4, "big") + b"free" + extra.to_bytes(8, "big")


def pad_mp4(data: bytes, size: int) -> bytes:
    """A real MP4's bytes grown to exactly `size` with a trailing `free` box."""
    extra = size - len(data)
    header = free_box(extra)
    return data + header + bytes(extra - len(header))


def pad_file(path: Path, size: int) -> None:
    """Grow the MP4 at `path` to exactly `size` bytes with a trailing `free` box; the zeros
    are left to the file system (a sparse tail where it can), so 4 GB costs no time."""
    current = path.stat().st_size
    if size == current:
        return
    with path.open("r+b") as f:
        f.seek(current)
        f.write(free_box(size - current))
        f.truncate(size)


def make_test_video(
    path: Path,
    *,
    seconds: float = 5.0,
    size: int | None = None,
    width: int = 720,
    height: int = 1280,
    fps: int = 30,
) -> Path:
    """Write a real H.264 MP4 of `seconds` (to the frame) at `fps`, `width` x `height`, grown to
    `size` bytes when given. Raises TestVideoError for what cannot be made."""
    from conformance.media import make_video  # the repository's one deterministic encoder

    if path.suffix.lower() not in SUFFIXES:
        raise TestVideoError(f"{path}: make-video writes MP4 (H.264); name the file .mp4")
    if not path.parent.is_dir():
        raise TestVideoError(f"{path.parent}: no such directory")
    if fps < 1:
        raise TestVideoError(f"--fps {fps}: at least 1 (TikTok takes 23-60)")
    if not math.isfinite(seconds) or seconds > MAX_SECONDS:
        raise TestVideoError(f"--seconds {seconds:g}: at most {MAX_SECONDS:g} (TikTok takes 3-600)")
    if round(seconds * fps) < 1:
        raise TestVideoError(f"--seconds {seconds:g} at {fps} fps is not one frame")
    for name, side in (("width", width), ("height", height)):
        if side % 2 or not MIN_SIDE <= side <= MAX_SIDE:
            raise TestVideoError(
                f"--{name} {side}: an even number of pixels, {MIN_SIDE}-{MAX_SIDE} "
                "(TikTok takes 360-4096)"
            )
    target = path.with_name(f".{path.name}.partial")
    try:
        make_video(target, seconds=seconds, fps=fps, width=width, height=height)
        made = target.stat().st_size
        if size is not None:
            if size < made + FREE_HEADER:
                raise TestVideoError(
                    f"--size {size}: the video itself is {made} bytes; ask for at least "
                    f"{made + FREE_HEADER} bytes, or fewer seconds or pixels"
                )
            pad_file(target, size)
        target.replace(path)
    finally:
        target.unlink(missing_ok=True)
    return path


def sandbox_verdict(path: Path) -> str | None:
    """What the sandbox's media checks would say: None, or the rule and its fail_reason."""
    failed = check_video(probe_video(path), MAX_API_VIDEO_SECONDS)
    return None if failed is None else f"{failed.fail_reason} ({failed.rule})"


# -- the command -----------------------------------------------------------------------------


def add_parser(sub: Any) -> None:
    """Add `make-video` to the `tiktok-sandbox` parser's subparsers."""
    cmd = sub.add_parser(
        "make-video",
        help="write a real H.264 MP4 test video of a given duration and file size",
        description="Write a real H.264 MP4 (a sliding gradient) of the given duration, grown "
        "to the given file size with a trailing MP4 free box, which TikTok and the sandbox "
        "ignore. Sizes are binary, as TikTok counts them (5MB = 5,242,880 bytes).",
        epilog="examples:\n"
        "  tiktok-sandbox make-video clip.mp4 --seconds 5\n"
        "  tiktok-sandbox make-video big.mp4 --seconds 5 --size 30MB   # six 5 MB chunks\n"
        "  tiktok-sandbox make-video short.mp4 --seconds 2   # fails: duration_check_failed",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument("out", type=Path, metavar="OUT.mp4", help="the file to write")
    cmd.add_argument(
        "--seconds", type=float, default=5.0, help="duration (default %(default)g; TikTok: 3-600)"
    )
    cmd.add_argument(
        "--size",
        metavar="SIZE",
        help="the file size: bytes, or KB, MB, GB (binary), e.g. 30MB (default: as encoded, "
        "a few kB a second)",
    )
    cmd.add_argument(
        "--width",
        type=int,
        default=720,
        help="pixels, even (default %(default)s; TikTok: 360-4096)",
    )
    cmd.add_argument("--height", type=int, default=1280, help="pixels, even (default %(default)s)")
    cmd.add_argument(
        "--fps", type=int, default=30, help="frames a second (default %(default)s; TikTok: 23-60)"
    )
    cmd.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    try:
        size = None if args.size is None else parse_size(args.size)
        path = make_test_video(
            args.out,
            seconds=args.seconds,
            size=size,
            width=args.width,
            height=args.height,
            fps=args.fps,
        )
    except TestVideoError as exc:
        print(f"tiktok-sandbox make-video: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"tiktok-sandbox make-video: cannot write {args.out}: {exc}", file=sys.stderr)
        return 1
    frames = round(args.seconds * args.fps)
    print(
        f"{path}: {path.stat().st_size} bytes, {frames / args.fps:g} s, "
        f"{args.width}x{args.height}, {args.fps} fps, H.264 MP4"
    )
    verdict = sandbox_verdict(path)
    if verdict is not None:
        print(f"note: TikTok and the sandbox will refuse it: {verdict}", file=sys.stderr)
    return 0
