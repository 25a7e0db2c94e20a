"""When to wait, retry, or stop: one table per decision (ref 4.3, 10.3, 11).

Read top to bottom, this is the client's whole retry policy; docs/client.md repeats it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import httpx

from client.errors import InternalError, RateLimitExceeded, TikTokError
from client.models import FAILED, PUBLISH_COMPLETE, SEND_TO_USER_INBOX


class AfterFailure(Enum):
    """What a FAILED publish allows (ref 11's guidance per fail_reason)."""

    REPOST = "post again: the reference calls it retryable"
    FIX_MEDIA = "the media breaks a rule: posting the same file again fails the same way"
    NEVER = "the reference says do not retry"


# ref 11: the documented fail_reason values. Unknown values are never retried.
FAIL_REASONS: dict[str, AfterFailure] = {
    "internal": AfterFailure.REPOST,  # "part of TikTok unavailable; retryable"
    "video_pull_failed": AfterFailure.REPOST,  # "retry if the URL is valid"
    "photo_pull_failed": AfterFailure.REPOST,
    "file_format_check_failed": AfterFailure.FIX_MEDIA,
    "duration_check_failed": AfterFailure.FIX_MEDIA,
    "frame_rate_check_failed": AfterFailure.FIX_MEDIA,
    "picture_size_check_failed": AfterFailure.FIX_MEDIA,
    "publish_cancelled": AfterFailure.NEVER,  # the developer cancelled it
    "auth_removed": AfterFailure.NEVER,  # "do not retry"
    "spam_risk_too_many_posts": AfterFailure.NEVER,
    "spam_risk_user_banned_from_posting": AfterFailure.NEVER,  # "do not retry"
    "spam_risk_text": AfterFailure.NEVER,  # "do not retry"
    "spam_risk": AfterFailure.NEVER,  # "do not retry"
}


def may_repost(fail_reason: str | None) -> bool:
    return fail_reason is not None and FAIL_REASONS.get(fail_reason) is AfterFailure.REPOST


def is_final(status: str, *, until_public: bool, has_post_ids: bool) -> bool:
    """Whether polling can stop at `status` (ref 11).

    FAILED always ends it. PUBLISH_COMPLETE ends it unless waiting for the public post id,
    which comes after moderation. SEND_TO_USER_INBOX is where the app's part of an upload
    ends; waiting for the public post goes on until the creator posts the draft.
    """
    if status == FAILED:
        return True
    if status == PUBLISH_COMPLETE:
        return not until_public or has_post_ids
    if status == SEND_TO_USER_INBOX:
        return not until_public
    return False


@dataclass(frozen=True)
class Backoff:
    """Delays growing from `first` by `factor`, capped at `maximum` (seconds)."""

    first: float
    factor: float
    maximum: float

    def delay(self, attempt: int) -> float:
        """The wait before retry number `attempt` (0-based)."""
        return float(min(self.maximum, self.first * self.factor ** min(attempt, 64)))


# ref 4.3: status/fetch allows 30 requests a minute per token. Never polling faster than every
# 2 s keeps one waiter inside the limit; the interval then grows to 30 s.
POLL = Backoff(first=2.0, factor=1.5, maximum=30.0)
# ref 4.3: 429 means the one-minute sliding window is full; no Retry-After is documented, so
# wait 10, 20, 40, then 60 s (a whole window). A Retry-After header, if sent, wins.
RATE_LIMITED = Backoff(first=10.0, factor=2.0, maximum=60.0)
RATE_LIMITED_ATTEMPTS = 4  # retries of a rate-limited call (wait_for_publish: until its timeout)
# ref 4.2, 10.3: 5xx / internal_error / network errors are transient ("retry later").
TRANSIENT = Backoff(first=1.0, factor=2.0, maximum=30.0)
TRANSIENT_ATTEMPTS = 4  # retries of an idempotent call (reads, status, a chunk PUT)
RANGE_RESUMES = 8  # 416 resumes of one upload before giving up


def is_rate_limited(error: BaseException) -> bool:
    """429, with TikTok's `rate_limit_exceeded` or any body (some omit it, ref 2.6 3p)."""
    if isinstance(error, RateLimitExceeded):
        return True
    return isinstance(error, TikTokError) and error.http_status == 429


def is_transient(error: BaseException) -> bool:
    """5xx, `internal_error`, or the network: worth retrying an idempotent request."""
    if isinstance(error, httpx.TransportError):
        return True
    if isinstance(error, InternalError):
        return True
    return isinstance(error, TikTokError) and error.http_status >= 500


def retry_after(response: httpx.Response) -> float | None:
    """A numeric Retry-After header, if the server sends one (ref 4.3: none is documented)."""
    value = response.headers.get("retry-after", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 3600 else None
