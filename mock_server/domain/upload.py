"""The chunk rules of a FILE_UPLOAD PUT (ref 10.1-10.3), decided before any byte is read."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from mock_server.domain.publishing import PROCESSING_UPLOAD, Publish
from mock_server.domain.text import plain_decimal

CONTENT_RANGE = re.compile(r"^bytes (\d{1,19})-(\d{1,19})/(\d{1,19})$", re.ASCII)
# ref 10.2, 13: the PUT Content-Type values TikTok accepts.
VIDEO_CONTENT_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})


class ChunkRefused(Exception):
    def __init__(self, status: int, message: str, rule: str) -> None:
        super().__init__(message)
        self.status, self.message, self.rule = status, message, rule


@dataclass(frozen=True)
class ChunkPlan:
    first: int
    last: int
    repeat: str | None = None  # the digest of the identical earlier chunk, when it is a repeat


def progress_header(publish: Publish) -> str:
    """ref 10.3: `bytes 0-{UPLOADED_BYTES}/{TOTAL}`, read as the last byte received
    (inclusive, like HTTP ranges); `bytes */{TOTAL}` before the first byte."""
    total = publish.video_size
    if publish.uploaded_bytes == 0:
        return f"bytes */{total}"
    return f"bytes 0-{publish.uploaded_bytes - 1}/{total}"


def expected_length(publish: Publish, first: int) -> int:
    """ref 10.1: every chunk is chunk_size bytes but the last, which takes the remainder."""
    size, chunk, count = (
        publish.video_size or 0,
        publish.chunk_size or 0,
        publish.total_chunk_count or 1,
    )
    last_start = chunk * (count - 1)
    return size - last_start if first >= last_start else chunk


def check_chunk(publish: Publish, headers: Mapping[str, str], now: float) -> ChunkPlan:
    """Check a PUT's headers against the upload's plan and progress."""
    if publish.upload_expires_at is not None and now >= publish.upload_expires_at:
        raise ChunkRefused(403, "The upload_url has expired (valid 1 hour).", "upload_url_expired")
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in VIDEO_CONTENT_TYPES:
        raise ChunkRefused(
            400, "Content-Type must be video/mp4, video/quicktime or video/webm.", "content_type"
        )
    length = plain_decimal(headers.get("content-length", ""))
    if length is None:
        raise ChunkRefused(400, "Content-Length is required.", "content_length_missing")
    match = CONTENT_RANGE.match(headers.get("content-range", "").strip())
    if match is None:
        raise ChunkRefused(
            400, "Content-Range must read bytes {first}-{last}/{total}.", "content_range_malformed"
        )
    first, last, total = (int(g) for g in match.groups())
    if last < first:
        raise ChunkRefused(400, "Content-Range ends before it starts.", "content_range_malformed")
    if length != last - first + 1:
        raise ChunkRefused(
            400, "Content-Length does not match Content-Range.", "content_length_mismatch"
        )
    if total != publish.video_size:
        raise ChunkRefused(
            400,
            f"The total in Content-Range is not the video_size {publish.video_size} given at init.",
            "content_range_total",
        )
    for start, end, digest in publish.chunks:
        if (start, end) == (first, last):
            return ChunkPlan(first, last, repeat=digest)
    if publish.chunk_in_flight:
        raise ChunkRefused(
            416, "Another chunk of this upload is being received.", "chunk_in_flight"
        )
    if publish.uploaded_bytes == publish.video_size:
        raise ChunkRefused(416, "The upload is already complete.", "upload_complete")
    if publish.status != PROCESSING_UPLOAD:
        raise ChunkRefused(
            416,
            f"The publish takes no more media: it is {publish.status}.",
            "publish_not_uploading",
        )
    if first != publish.uploaded_bytes or last >= total:
        raise ChunkRefused(
            416,
            f"Chunks go up in order: the next chunk starts at byte {publish.uploaded_bytes}.",
            "range_not_next",
        )
    want = expected_length(publish, first)
    if last - first + 1 != want:
        raise ChunkRefused(
            400,
            f"This chunk must be {want} bytes to follow the chunk plan "
            f"(chunk_size {publish.chunk_size}, total_chunk_count "
            f"{publish.total_chunk_count}).",
            "chunk_size_off_plan",
        )
    return ChunkPlan(first, last)


def upload_under_way(publish: Publish) -> bool:
    """Whether an upload received some of its chunks and its media has not arrived whole
    (`arrived_at`, set once its media check ran: one whose last chunk was in while its check
    ran is still under way)."""
    return (
        publish.status == PROCESSING_UPLOAD and bool(publish.chunks) and publish.arrived_at is None
    )


def start_upload_again(publish: Publish) -> bool:
    """Forget the chunks an upload under way received, so it takes them again from the first
    (their bytes are gone: a snapshot holds an upload's progress, not its media). Whether it
    was under way."""
    if not upload_under_way(publish):
        return False
    publish.chunks.clear()
    publish.uploaded_bytes = publish.received_bytes = 0
    return True


def act_out_upload_fault(publish: Publish, action: str, now: float) -> None:
    """Injected upload faults that change the upload's state before this PUT is judged:
    `lose_progress` forgets the last received chunk (so this PUT meets a 416 with the earlier
    progress), `expire_upload_url` ends the URL's hour now (403)."""
    if action == "lose_progress" and publish.chunks:
        publish.chunks.pop()
        publish.uploaded_bytes = publish.received_bytes = (
            publish.chunks[-1][1] + 1 if publish.chunks else 0
        )
    elif action == "expire_upload_url":
        publish.upload_expires_at = now - 1
