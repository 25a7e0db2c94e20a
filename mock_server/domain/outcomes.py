"""Injected processing outcomes: make the next publish, or every matching one, fail with a
given `fail_reason` (ref 11), whatever its media is."""

from __future__ import annotations

from dataclasses import dataclass

# ref 11: the documented fail reasons (the 3p extras are not emitted).
FAIL_REASONS = (
    "file_format_check_failed",
    "duration_check_failed",
    "frame_rate_check_failed",
    "picture_size_check_failed",
    "internal",
    "video_pull_failed",
    "photo_pull_failed",
    "publish_cancelled",
    "auth_removed",
    "spam_risk_too_many_posts",
    "spam_risk_user_banned_from_posting",
    "spam_risk_text",
    "spam_risk",
)


@dataclass
class Injection:
    fail_reason: str
    client_key: str | None = None
    creator_uid: str | None = None
    remaining: int | None = 1  # None: every matching publish

    def matches(self, client_key: str, creator_uid: str) -> bool:
        return (self.client_key in (None, client_key)) and (self.creator_uid in (None, creator_uid))


def take_injected(injections: list[Injection], client_key: str, creator_uid: str) -> str | None:
    """The fail reason for a new publish, consuming one use of the first matching rule."""
    for injection in injections:
        if injection.matches(client_key, creator_uid):
            if injection.remaining is not None:
                injection.remaining -= 1
                if injection.remaining <= 0:
                    injections.remove(injection)
            return injection.fail_reason
    return None
