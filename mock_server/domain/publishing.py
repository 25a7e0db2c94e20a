"""Publishes: what one `publish_id` is, from init to its final status (ref 7-12)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mock_server.domain.media_rules import VideoFacts

# ref 11: the status enum.
PROCESSING_UPLOAD = "PROCESSING_UPLOAD"
PROCESSING_DOWNLOAD = "PROCESSING_DOWNLOAD"
SEND_TO_USER_INBOX = "SEND_TO_USER_INBOX"
PUBLISH_COMPLETE = "PUBLISH_COMPLETE"
FAILED = "FAILED"
# ref 11: every status a publish can have, in the order it moves through them.
STATUSES = (PROCESSING_UPLOAD, PROCESSING_DOWNLOAD, SEND_TO_USER_INBOX, PUBLISH_COMPLETE, FAILED)
FINAL_STATUSES = frozenset({PUBLISH_COMPLETE, FAILED})

DIRECT_POST = "DIRECT_POST"
MEDIA_UPLOAD = "MEDIA_UPLOAD"
FILE_UPLOAD = "FILE_UPLOAD"
PULL_FROM_URL = "PULL_FROM_URL"
VIDEO = "VIDEO"
PHOTO = "PHOTO"

# ref 6, 7.1: the privacy levels a creator's account allows.
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
PRIVACY_OPTIONS = {
    "public": ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"),
    "private": ("FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"),
}

UPLOAD_URL_SECONDS = 3600  # ref 7.3: upload_url is valid 1 hour after issue


def publish_id_prefix(media_type: str, mode: str, source: str) -> str:
    """ref 7.3, 8, 9: `v_pub_file~v2-1.`, `v_pub_url~v2.`, `v_inbox_file~v2.`,
    `v_inbox_url~v2.`, `p_pub_url~v2.` (the doc shows the photo form for both modes)."""
    if media_type == PHOTO:
        return "p_pub_url~v2."
    kind = "pub" if mode == DIRECT_POST else "inbox"
    return (
        f"v_{kind}_file~v2-1."
        if (source == FILE_UPLOAD and kind == "pub")
        else (f"v_{kind}_{'file' if source == FILE_UPLOAD else 'url'}~v2.")
    )


@dataclass(slots=True)
class Publish:
    """One `publish_id`. A sandbox keeps thousands: what grows one step at a time (`timeline`)
    or is set once (`post_ids`, `photo_images`) is a tuple, a few dozen bytes smaller than a
    list and none when empty."""

    publish_id: str
    client_key: str
    creator_uid: str
    mode: str  # DIRECT_POST | MEDIA_UPLOAD
    media_type: str  # VIDEO | PHOTO
    source: str  # FILE_UPLOAD | PULL_FROM_URL
    created_at: float
    post_info: dict[str, Any] = field(default_factory=dict)
    requested_privacy_level: str | None = None
    privacy_level: str | None = None  # effective
    video_size: int | None = None
    chunk_size: int | None = None
    total_chunk_count: int | None = None
    video_url: str | None = None
    photo_images: tuple[str, ...] = ()
    photo_cover_index: int | None = None
    upload_id: str | None = None
    upload_token: str | None = None
    upload_expires_at: float | None = None
    status: str = PROCESSING_UPLOAD
    timeline: tuple[tuple[str, float], ...] = ()
    fail_reason: str | None = None
    uploaded_bytes: int = 0
    post_ids: tuple[str, ...] = ()
    public: bool = False
    decided_by: str = ""
    # Media: bytes received for real, total size, when they were all in on the sandbox clock,
    # what the media check found, and a processing outcome injected by a scenario or test.
    received_bytes: int = 0
    media_bytes: int = 0
    arrived_at: float | None = None
    download_stopped_at: float | None = None
    check_result: str | None = None
    injected_fail_reason: str | None = None
    # Chunked upload progress (ref 10.2): (first byte, last byte, sha256) per received chunk.
    chunks: list[tuple[int, int, str]] = field(default_factory=list)
    chunk_in_flight: bool = False
    # What the Display API shows of the posted video (ref 5.1): the probed facts, and the
    # millisecond it was posted at (its create_time and the list's cursor), unique per creator.
    video_facts: VideoFacts | None = None
    posted_ms: int | None = None
    # When the creator discarded the inbox draft in the app (it never posts; docs/fidelity.md).
    discarded_at: float | None = None

    def move_to(self, status: str, now: float, fail_reason: str | None = None) -> None:
        self.status = status
        self.timeline += ((status, now),)
        if fail_reason is not None:
            self.fail_reason = fail_reason

    @property
    def upload_path(self) -> str:
        """Path and query of this publish's `upload_url` on the sandbox (ref 1: opaque)."""
        return f"/upload/?upload_id={self.upload_id}&upload_token={self.upload_token}"

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def pending_share(self) -> bool:
        """An inbox draft the creator has not posted yet (ref 8: counts toward the cap)."""
        return self.mode == MEDIA_UPLOAD and not self.final and self.discarded_at is None


def cover_timestamp_ms(publish: Publish) -> int | None:
    """ref 7.1: the frame Direct Post asked for as the cover (`video_cover_timestamp_ms`); None
    (the first frame) for inbox drafts and when unset."""
    value = publish.post_info.get("video_cover_timestamp_ms")
    return value if isinstance(value, int) else None
