"""Where a video comes from (a file path, a file object, or a URL) and what it is.

Local files are probed with PyAV (FFmpeg) when it is installed, reading headers only, so the
client can refuse what TikTok would refuse (ref 13) before uploading a byte. Bytes are read in
blocks for each chunk, so memory stays flat whatever the file size.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

READ_BLOCK = 1024 * 1024

# ref 10.2, 13: the PUT Content-Type for each accepted container.
CONTENT_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm"}
EXTENSIONS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".qt": "mov", ".webm": "webm"}


@dataclass(frozen=True)
class VideoFacts:
    """What probing found; None where it could not be read. `container` is "mp4", "mov",
    "webm", or FFmpeg's name for anything else."""

    container: str | None
    codec: str | None = None
    duration_s: float | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class UrlSource:
    """PULL_FROM_URL: TikTok downloads the media (ref 10.4); nothing is probed locally."""

    url: str


class FileSource:
    """A local video: a path (opened per chunk) or a seekable binary file object, read from
    its current position to its end."""

    def __init__(self, target: str | os.PathLike[str] | IO[bytes]) -> None:
        if isinstance(target, str | os.PathLike):
            self.path: Path | None = Path(target)
            self.fileobj: IO[bytes] | None = None
            self.start = 0
            self.size = self.path.stat().st_size
            self.name = self.path.name
        else:
            self.path, self.fileobj = None, target
            self.start = target.tell()
            self.size = target.seek(0, os.SEEK_END) - self.start
            target.seek(self.start)
            self.name = str(getattr(target, "name", "") or "")
        self.facts = probe_video(self)

    @property
    def content_type(self) -> str:
        container = self.facts.container if self.facts else None
        container = container or EXTENSIONS.get(Path(self.name).suffix.lower())
        return CONTENT_TYPES.get(container or "", "video/mp4")

    def iter_range(self, first: int, last: int) -> Iterator[bytes]:
        """Bytes first..last (inclusive) in blocks; a fresh read every call, so a retried
        chunk is read again from the file."""
        if self.fileobj is not None:
            yield from _read(self.fileobj, self.start + first, last - first + 1)
            return
        assert self.path is not None
        with self.path.open("rb") as f:
            yield from _read(f, first, last - first + 1)

    async def aiter_range(self, first: int, last: int) -> AsyncIterator[bytes]:
        """The same bytes for an async request body (reads are plain blocking file reads of
        one block at a time)."""
        for block in self.iter_range(first, last):
            yield block


def _read(f: IO[bytes], offset: int, length: int) -> Iterator[bytes]:
    f.seek(offset)
    while length > 0:
        block = f.read(min(READ_BLOCK, length))
        if not block:
            raise OSError(f"the file ended {length} bytes early")
        length -= len(block)
        yield block


def resolve_video_source(
    source: str | os.PathLike[str] | IO[bytes],
) -> FileSource | UrlSource:
    """A URL string (http or https) is pulled by TikTok; anything else is a local file."""
    if isinstance(source, str) and source.lower().startswith(("https://", "http://")):
        return UrlSource(source)
    return FileSource(source)


# -- probing --------------------------------------------------------------------------------


def probe_video(source: FileSource) -> VideoFacts | None:
    """The video's facts; None when PyAV is not installed (checks are then skipped), or when
    the object cannot be probed from its start."""
    try:
        import av
    except ImportError:  # pragma: no cover - av is a dependency, but optional for the client
        return None
    if source.fileobj is not None and source.start != 0:
        return None
    target: Any = str(source.path) if source.path is not None else source.fileobj
    try:
        with av.open(target, metadata_errors="replace") as container:
            return _facts(container, source)
    except (av.FFmpegError, OSError, ValueError, EOFError):
        return VideoFacts(container=None)
    finally:
        if source.fileobj is not None:
            source.fileobj.seek(source.start)


def _facts(container: Any, source: FileSource) -> VideoFacts:
    stream = next(iter(container.streams.video), None)
    if stream is None:
        return VideoFacts(container=_container_name(container, source))
    context = stream.codec_context
    duration = None
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / 1_000_000  # AV_TIME_BASE
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    codec = getattr(getattr(context, "codec", None), "canonical_name", None)
    width, height = context.width or None, context.height or None
    return VideoFacts(
        container=_container_name(container, source),  # after the rest: it may read the file
        codec=codec,
        duration_s=duration,
        fps=float(rate) if rate else None,
        width=width,
        height=height,
    )


def _container_name(container: Any, source: FileSource) -> str:
    """FFmpeg's demuxer name split into TikTok's names (one demuxer reads MP4 and MOV, and one
    reads Matroska and WebM)."""
    names = container.format.name.split(",")
    if "mov" in names:
        brand = str(container.metadata.get("major_brand", "")).strip()
        return "mov" if brand in ("", "qt") else "mp4"
    if "matroska" in names:
        return "webm" if _ebml_doctype_is_webm(source) else "matroska"
    return str(names[0])


def _ebml_doctype_is_webm(source: FileSource) -> bool:
    """A WebM file's EBML header (its first bytes) carries the DocType "webm"."""
    head = b"".join(source.iter_range(0, min(source.size, 64) - 1)) if source.size else b""
    return b"\x42\x82\x84webm" in head
