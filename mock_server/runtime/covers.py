"""Cover images: a frame of each received video, small, kept for the Display API.

When the whole video is in (uploaded or pulled), the sandbox probes it (`media.probe_video`) and,
if it passes TikTok's checks, decodes one frame with PyAV: the frame at
`video_cover_timestamp_ms` (ref 7.1: unset or invalid means the first frame), scaled to at most
`COVER_MAX_SIDE` pixels and saved as a JPEG. The spooled media is deleted right after, so the
frame is taken then or never. `CoverStore` keeps at most `MAX_COVERS` of them, oldest dropped
first, as files next to the spooled media (in memory when given no directory: a server left
running keeps its memory for records, not pictures); the sandbox serves them at
`cover_image_url` (`/_sandbox/covers/...`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_server.domain.media_rules import MediaCheck, VideoFacts, check_video
from mock_server.runtime.media import DEMUX_OPTIONS, main_video_stream, probe_errors, probe_video

COVER_MAX_SIDE = 360  # px, the longer side (TikTok's list covers are a few hundred px)
COVER_QUALITY = 75
MAX_COVERS = 500  # about 10-20 KB each
# Frames decoded at most while looking for the one at the cover timestamp (after a seek to the
# keyframe before it); a stream with sparser keyframes gives the last frame decoded.
_MAX_FRAMES = 600


def extract_cover(path: Path, at_ms: int | None, duration_s: float | None) -> bytes | None:
    """A JPEG of the frame at `at_ms` (the first frame when None, negative or past the end),
    at most COVER_MAX_SIDE px on its longer side; None when no frame can be decoded."""
    import av  # PyAV and Pillow when a cover is first made, not at start-up
    from PIL import Image

    target = 0.0
    if at_ms is not None and at_ms > 0 and duration_s is not None and at_ms / 1000 < duration_s:
        target = at_ms / 1000
    try:
        with av.open(str(path), container_options=DEMUX_OPTIONS) as container:
            stream = main_video_stream(container)
            if stream is None:
                return None
            frame = _frame_at(container, stream, target)
            if frame is None:
                return None
            image = frame.to_image()
    except probe_errors():
        return None
    image.thumbnail((COVER_MAX_SIDE, COVER_MAX_SIDE), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=COVER_QUALITY)
    return out.getvalue()


def _frame_at(container: Any, stream: Any, target: float) -> Any | None:
    """The first decoded frame at or after `target` seconds (the last one tried otherwise)."""
    if target > 0 and stream.time_base:
        container.seek(int(target / stream.time_base), stream=stream, backward=True)
    chosen = None
    for count, frame in enumerate(container.decode(stream)):
        chosen = frame
        if frame.time is None or frame.time >= target - 1e-3 or count >= _MAX_FRAMES:
            break
    return chosen


class CoverStore:
    """Cover JPEGs by publish_id, at most `limit`, the oldest forgotten first. Thread-safe:
    uploads and pulls finish on different threads. With `directory` (called when the first
    cover comes), each cover is a file there; otherwise they are kept in memory."""

    def __init__(
        self, limit: int = MAX_COVERS, directory: Callable[[], Path] | None = None
    ) -> None:
        self.limit = limit
        self._directory = directory
        self._lock = threading.Lock()
        # publish_id -> the JPEG (in memory) or None (in its file)
        self._covers: OrderedDict[str, bytes | None] = OrderedDict()
        # The file names of covers a previous run left in `directory` (a data directory
        # resumed), not yet asked for, oldest first: each is known again when first asked for,
        # or removed with its publish; they count toward `limit`, and go first past it.
        self._left: OrderedDict[str, None] = OrderedDict()

    def find_left(self) -> None:
        """Take in the covers a previous run left in the directory (a resumed data
        directory keeps its spool, and the covers in it), the newest `limit` of them."""
        if self._directory is None:
            return
        try:
            found = sorted(
                (entry.stat().st_mtime, entry.name)
                for entry in os.scandir(self._directory())
                if entry.name.startswith("cover-") and entry.name.endswith(".jpeg")
            )
        except OSError:
            return
        with self._lock:
            self._left = OrderedDict.fromkeys(name for _, name in found)
        self._keep_within_limit()

    def put(self, publish_id: str, jpeg: bytes) -> None:
        kept: bytes | None = jpeg
        if self._directory is not None:
            path = self._path(publish_id)
            partial = path.with_suffix(".part")
            try:
                partial.write_bytes(jpeg)
                os.replace(partial, path)  # a reader sees the whole picture or none
            except OSError:  # a reset or close removed the spool meanwhile: no cover then
                with contextlib.suppress(OSError):
                    partial.unlink(missing_ok=True)
                return
            kept = None
        self._keep(publish_id, kept)

    def get(self, publish_id: str) -> bytes | None:
        with self._lock:
            known = publish_id in self._covers
            jpeg = self._covers.get(publish_id)
            left = not known and bool(self._left) and self._path(publish_id).name in self._left
        if jpeg is not None or self._directory is None or not (known or left):
            return jpeg
        try:
            jpeg = self._path(publish_id).read_bytes()
        except OSError:  # removed meanwhile (forgotten, or the spool cleared by a reset)
            return None
        if left:  # made before the data directory it is kept in was resumed
            self._keep(publish_id, None, only_new=True)
        return jpeg

    def _keep(self, publish_id: str, kept: bytes | None, only_new: bool = False) -> None:
        """Remember a cover (its JPEG, or None: in its file), the newest; past `limit`, the
        oldest are forgotten."""
        with self._lock:
            if self._left:
                self._left.pop(self._path(publish_id).name, None)
            if only_new and publish_id in self._covers:
                return
            self._covers[publish_id] = kept
            self._covers.move_to_end(publish_id)
        self._keep_within_limit()

    def _keep_within_limit(self) -> None:
        """Past `limit` covers, forget the oldest: those a previous run left first."""
        dropped, left = [], []
        with self._lock:
            while len(self._covers) + len(self._left) > self.limit:
                if self._left:
                    left.append(self._left.popitem(last=False)[0])
                else:
                    dropped.append(self._covers.popitem(last=False)[0])
        for old in dropped:
            self._remove(old)
        if left and self._directory is not None:
            directory = self._directory()
            for name in left:
                with contextlib.suppress(OSError):
                    (directory / name).unlink(missing_ok=True)

    def discard(self, publish_id: str) -> None:
        with self._lock:
            known = publish_id in self._covers
            self._covers.pop(publish_id, None)
            if self._left:  # a cover a previous run left: its file goes too
                name = self._path(publish_id).name
                if name in self._left:
                    del self._left[name]
                    known = True
        if known:
            self._remove(publish_id)

    def clear(self) -> None:
        with self._lock:
            ids = list(self._covers)
            self._covers.clear()
            self._left.clear()  # removed with the spool they are in
        for publish_id in ids:
            self._remove(publish_id)

    def __len__(self) -> int:
        with self._lock:
            return len(self._covers)

    def _path(self, publish_id: str) -> Path:
        assert self._directory is not None
        digest = hashlib.sha256(publish_id.encode()).hexdigest()[:32]
        return self._directory() / f"cover-{digest}.jpeg"

    def _remove(self, publish_id: str) -> None:
        if self._directory is not None:
            self._path(publish_id).unlink(missing_ok=True)


@dataclass(frozen=True)
class VideoInspection:
    """What the sandbox learns from a received video: the rule it broke, if any (None: it
    passes), and the facts the Display API shows."""

    failed: MediaCheck | None
    facts: VideoFacts

    @property
    def fail_reason(self) -> str | None:
        return self.failed.fail_reason if self.failed else None


# Decoding takes FFmpeg buffers of a few MB per video; uploads and pulls finishing together
# must not add them all up at once (a server's memory stays flat), so only so many run at once.
MEDIA_CHECKS = threading.BoundedSemaphore(2)


def inspect_video(
    path: Path,
    max_seconds: int,
    cover_at_ms: int | None,
    covers: CoverStore,
    publish_id: str,
) -> VideoInspection:
    """Probe the video at `path`, judge it (ref 13), and keep a cover frame of a video that
    passes."""
    with MEDIA_CHECKS:
        facts = probe_video(path)
        failed = check_video(facts, max_seconds)
        if failed is None:
            jpeg = extract_cover(path, cover_at_ms, facts.duration_s)
            if jpeg is not None:
                covers.put(publish_id, jpeg)
    return VideoInspection(failed, facts)
