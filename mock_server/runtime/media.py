"""Media probing: read a video's or photo's real container, codec, duration, size and rate.

Metadata only. Videos are opened with PyAV (FFmpeg), which reads headers and a few packets, never
the whole file; photos with Pillow, which reads the header only. Bad input never raises: what
cannot be read comes back as None and the rules in `mock_server.domain.media_rules` decide.
"""

from __future__ import annotations

import sys
import threading
from fractions import Fraction
from pathlib import Path
from typing import Any

from mock_server.domain.media_rules import ImageFacts, VideoFacts

__all__ = ["ImageFacts", "VideoFacts", "probe_image", "probe_video"]

# FFmpeg demuxes only the container families TikTok accepts (ISO BMFF/QuickTime and Matroska/WebM)
# and reads only local files: a playlist or concat file cannot make the probe open anything else.
# Any other format is reported as unreadable.
DEMUX_OPTIONS = {
    "format_whitelist": "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm",
    "protocol_whitelist": "file",
}

# When a file carries no duration, it is read from packet timestamps (demuxing, no decoding),
# stopping once past any duration limit or after this many packets.
_SCAN_MAX_SECONDS = 3600
_SCAN_MAX_PACKETS = 500_000

# Matroska's EBML header ids (RFC 8794): the header itself and its DocType ("webm", "matroska").
_EBML_HEADER_ID = 0x1A45DFA3
_EBML_DOCTYPE_ID = 0x4282

# Pillow reads some formats whole and keeps JPEG comment segments in memory; a photo above this
# size is only sniffed for its format (it fails the 20 MB rule whatever its resolution).
_IMAGE_PARSE_MAX_BYTES = 64 * 1024**2


def probe_errors() -> tuple[type[BaseException], ...]:
    """What reading a file that is not a video (or not a readable one) raises."""
    import av  # PyAV (FFmpeg) is imported when media is first probed, not at start-up

    return (av.FFmpegError, OSError, ValueError, EOFError)


def probe_video(path: Path) -> VideoFacts:
    """The facts of the video at `path`; `container` is None when it cannot be read as one."""
    import av

    size = _size_of(path)
    try:
        with av.open(
            str(path), container_options=DEMUX_OPTIONS, metadata_errors="replace"
        ) as container:
            return _shared(_video_facts(container, path, size))
    except probe_errors():
        return _shared(VideoFacts(None, None, None, None, None, None, size))


# Facts equal to ones probed recently, handed out as the same (frozen) object: every publish
# keeps its video's facts, and an integration posts the same few test videos again and again
# (about 200 bytes a publish, with the numbers).
_SHARED_FACTS = 256
_facts: dict[VideoFacts, VideoFacts] = {}
_facts_lock = threading.Lock()


def _shared(facts: VideoFacts) -> VideoFacts:
    with _facts_lock:
        known = _facts.pop(facts, facts)
        _facts[known] = known  # the most recently probed last
        if len(_facts) > _SHARED_FACTS:
            del _facts[next(iter(_facts))]
        return known


def probe_image(path: Path) -> ImageFacts:
    """The facts of the image at `path`; `format` is None when Pillow cannot identify it.

    A decompression bomb (a header declaring more pixels than Pillow will open) keeps its format
    and gets no width or height, which the rules read as a picture size failure.
    """
    from PIL import Image, UnidentifiedImageError  # Pillow, when an image is first probed

    size = _size_of(path)
    if size > _IMAGE_PARSE_MAX_BYTES:
        return ImageFacts(_sniff_image_format(path), None, None, size)
    try:
        with Image.open(path) as image:
            return ImageFacts(image.format, image.width, image.height, size)
    except Image.DecompressionBombError:
        return ImageFacts(_sniff_image_format(path), None, None, size)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        return ImageFacts(None, None, None, size)


# --- video ---------------------------------------------------------------------------------------


def _video_facts(container: Any, path: Path, size: int) -> VideoFacts:
    name = _container_name(container, path)
    stream = main_video_stream(container)
    if stream is None:
        return VideoFacts(name, None, None, None, None, None, size)
    context = stream.codec_context
    codec = getattr(getattr(context, "codec", None), "canonical_name", None)
    if isinstance(codec, str):  # PyAV makes a new string per probe; every publish keeps one
        codec = sys.intern(codec)
    return VideoFacts(
        container=name,
        codec=codec,
        duration_s=_duration(container, stream),
        fps=_fps(stream),
        width=getattr(context, "width", 0) or None,
        height=getattr(context, "height", 0) or None,
        size_bytes=size,
    )


def _container_name(container: Any, path: Path) -> str:
    """FFmpeg's demuxer name, split into the names TikTok uses ("mp4", "mov", "webm")."""
    names = container.format.name.split(",")
    if "mov" in names:
        # One demuxer reads MP4 and QuickTime; QuickTime's major brand is "qt  ", and old
        # QuickTime files have no ftyp box (so no brand) at all.
        brand = container.metadata.get("major_brand", "").strip().lower()
        if brand in ("", "qt"):
            return "mov"
        # 3GPP/3GPP2 and Motion JPEG 2000 share the demuxer but are not MP4 (ref 13).
        return "3gp" if brand.startswith(("3g", "mj2", "mjp2")) else "mp4"
    if "matroska" in names:
        # One demuxer reads Matroska and WebM; only the EBML DocType tells them apart.
        return "webm" if _ebml_doctype(path) == "webm" else "matroska"
    return str(names[0])


def main_video_stream(container: Any) -> Any | None:
    """The first video stream that is not cover art (an attached picture)."""
    import av

    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    return None


def _duration(container: Any, stream: Any) -> float | None:
    import av

    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration / av.time_base)
    return _scan_duration(container, stream)


def _scan_duration(container: Any, stream: Any) -> float | None:
    """The span of packet timestamps, for files whose headers carry no duration (live WebM)."""
    time_base: Fraction | None = stream.time_base
    if time_base is None:
        return None
    first: int | None = None
    end: int | None = None
    try:
        for count, packet in enumerate(container.demux(stream)):
            if count >= _SCAN_MAX_PACKETS:
                break
            if packet.pts is None:
                continue
            first = packet.pts if first is None else min(first, packet.pts)
            packet_end = packet.pts + (packet.duration or 0)
            end = packet_end if end is None else max(end, packet_end)
            if (end - first) * time_base > _SCAN_MAX_SECONDS:
                break
    except probe_errors():
        pass  # a damaged tail: keep the span read so far
    if first is None or end is None:
        return None
    return float((end - first) * time_base)


def _fps(stream: Any) -> float | None:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return float(rate)
    return None


def _ebml_doctype(path: Path) -> str | None:
    """The DocType in a Matroska file's EBML header, which sits in its first few dozen bytes."""
    try:
        with path.open("rb") as f:
            head = f.read(4096)
        element, pos = _ebml_vint(head, 0, keep_marker=True)
        if element != _EBML_HEADER_ID:
            return None
        length, pos = _ebml_vint(head, pos)
        header_end = min(pos + length, len(head))
        while pos < header_end:
            element, pos = _ebml_vint(head, pos, keep_marker=True)
            length, pos = _ebml_vint(head, pos)
            if element == _EBML_DOCTYPE_ID:
                return head[pos : pos + length].rstrip(b"\0").decode("ascii", "replace")
            pos += length
    except (OSError, IndexError, ValueError):
        return None
    return None


def _ebml_vint(data: bytes, pos: int, *, keep_marker: bool = False) -> tuple[int, int]:
    """An EBML variable-length integer at `pos`: its value and the position after it."""
    first = data[pos]
    width = 9 - first.bit_length()  # the count of leading zero bits, plus one
    if not 1 <= width <= 8:
        raise ValueError("invalid EBML variable-length integer")
    if pos + width > len(data):
        raise IndexError("truncated EBML variable-length integer")
    value = first if keep_marker else first & (0xFF >> width)
    for byte in data[pos + 1 : pos + width]:
        value = value << 8 | byte
    return value, pos + width


# --- images --------------------------------------------------------------------------------------


def _sniff_image_format(path: Path) -> str | None:
    """Pillow's format name for the file's magic bytes, without parsing the image."""
    try:
        with path.open("rb") as f:
            prefix = f.read(16)
    except OSError:
        return None
    from PIL import Image

    Image.init()
    for name in Image.ID:
        _, accept = Image.OPEN[name]
        verdict = accept(prefix) if accept is not None else False
        if verdict and not isinstance(verdict, str):  # a str is Pillow's "almost" warning
            return name
    return None


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
