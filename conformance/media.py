"""Real test media, made on the spot: small videos encoded with PyAV (FFmpeg), images with Pillow.

Output is tiny (a sliding gradient on a flat tint compresses to almost nothing), quick to make
(well under a second for a few seconds of 640x360) and byte-for-byte deterministic for given
arguments: the encoders run single-threaded and the muxers in FFmpeg's bitexact mode (no random
Matroska ids, no version strings).

    make_video(tmp_path / "ok.mp4")                                  # 3.5 s H.264 MP4, 30 fps
    make_video(tmp_path / "bad.mkv", container="mkv", codec="vp9")   # Matroska, not WebM
    make_image(tmp_path / "ok.jpg", fmt="JPEG", width=1080, height=1920)
"""

from __future__ import annotations

import io
import random
from fractions import Fraction
from pathlib import Path

import av
from av.video.frame import VideoFrame
from PIL import Image

# Container name -> FFmpeg muxer. "mkv" (Matroska that is not WebM) is for negative tests.
CONTAINERS = {"mp4": "mp4", "mov": "mov", "webm": "webm", "mkv": "matroska"}

# Codec name (FFmpeg's) -> encoder and the options that make it fast. "mpeg4" (MPEG-4 Part 2) is
# a codec TikTok does not take, for negative tests.
CODECS: dict[str, tuple[str, dict[str, str]]] = {
    "h264": ("libx264", {"preset": "ultrafast"}),
    "hevc": ("libx265", {"preset": "ultrafast", "x265-params": "log-level=none"}),
    "vp8": ("libvpx", {"deadline": "realtime", "cpu-used": "16"}),
    "vp9": ("libvpx-vp9", {"deadline": "realtime", "cpu-used": "8"}),
    "mpeg4": ("mpeg4", {}),
}

_JPEG_SEGMENT_MAX = 0xFFFF - 2  # payload bytes in one JPEG marker segment


def make_video(
    path: Path,
    *,
    container: str = "mp4",
    codec: str = "h264",
    seconds: float = 3.5,
    fps: int | Fraction = 30,
    width: int = 640,
    height: int = 360,
    bitrate: int | None = None,
    live: bool = False,
) -> Path:
    """Encode `round(seconds * fps)` frames of `width` x `height` at a constant `fps` to `path`.

    The stream's frame rate reads back as exactly `fps` and its duration as frames / fps. Width
    and height must be even (4:2:0 chroma). `live=True` (WebM and Matroska only) writes the file
    as a live stream: no duration in the header and no cues, as a recorder that never seeked back
    would leave it.
    """
    if container not in CONTAINERS:
        raise ValueError(f"unknown container {container!r}; one of {sorted(CONTAINERS)}")
    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r}; one of {sorted(CODECS)}")
    if width % 2 or height % 2:
        raise ValueError("width and height must be even")
    if live and CONTAINERS[container] not in ("webm", "matroska"):
        raise ValueError("live=True needs a WebM or Matroska container")
    rate = Fraction(fps)
    encoder, options = CODECS[codec]
    muxer_options = {"fflags": "+bitexact"} | ({"live": "1"} if live else {})
    with av.open(
        str(path), "w", format=CONTAINERS[container], container_options=muxer_options
    ) as output:
        stream = output.add_stream(encoder, rate=rate)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = 1 / rate
        stream.thread_count = 1
        stream.codec_context.gop_size = max(1, round(rate))  # a keyframe every second
        stream.options = {**options, "flags": "+bitexact"}
        if bitrate is not None:
            stream.bit_rate = bitrate
        for index in range(round(seconds * rate)):
            frame = _gradient_frame(width, height, shift=index * 4)
            frame.pts, frame.time_base = index, 1 / rate
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return path


def _gradient_frame(width: int, height: int, *, shift: int) -> VideoFrame:
    """A frame of horizontal grey ramps sliding `shift` pixels left, on a constant tint."""
    frame = VideoFrame(width, height, "yuv420p")
    luma = frame.planes[0]
    ramp = bytes(range(256))
    row = (ramp * (luma.line_size // 256 + 2))[shift % 256 :][: luma.line_size]
    luma.update(row * luma.height)
    for plane, value in zip(frame.planes[1:], (96, 160), strict=True):
        plane.update(bytes([value]) * plane.buffer_size)
    return frame


def make_image(
    path: Path,
    *,
    fmt: str = "JPEG",
    width: int = 1080,
    height: int = 1920,
    quality: int = 85,
    pad_to_bytes: int | None = None,
) -> Path:
    """Write a `width` x `height` gradient image in Pillow format `fmt` ("JPEG", "WEBP", "PNG"...).

    `pad_to_bytes` (JPEG only) grows the file to that size with comment (COM) segments after the
    start-of-image marker, as large EXIF/XMP blocks would: the image stays valid and its pixels
    unchanged.
    """
    ramp = Image.linear_gradient("L").resize((width, height))
    mirrored = ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image = Image.merge("RGB", (ramp, Image.new("L", (width, height), 96), mirrored))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, quality=quality)
    data = buffer.getvalue()
    if pad_to_bytes is not None:
        if fmt.upper() not in ("JPEG", "JPG"):
            raise ValueError("pad_to_bytes is supported for JPEG only")
        data = data[:2] + _jpeg_comments(pad_to_bytes - len(data)) + data[2:]
    path.write_bytes(data)
    return path


def _jpeg_comments(extra: int) -> bytes:
    """COM segments adding `extra` bytes (give or take 3: a segment is at least 4 bytes)."""
    segments = []
    while extra > 0:
        payload = min(_JPEG_SEGMENT_MAX, max(0, extra - 4))
        segments.append(b"\xff\xfe" + (payload + 2).to_bytes(2, "big") + b"\0" * payload)
        extra -= payload + 4
    return b"".join(segments)


def make_garbage(path: Path, size: int, *, seed: int = 0) -> Path:
    """Write `size` seeded pseudo-random bytes: a file no media library can read."""
    rng = random.Random(seed)
    with path.open("wb") as f:
        remaining = size
        while remaining > 0:
            chunk = min(remaining, 1024 * 1024)
            f.write(rng.randbytes(chunk))
            remaining -= chunk
    return path
