"""What the dashboard tells a person about a refusal or a failure: the TikTok page each rule
comes from, and what each `fail_reason` means (ref 11).

A rule's page is its endpoint's reference page (`domain.schemas`, the OpenAPI document's source)
unless the rule belongs to a page of its own (rate limits, token management, the content sharing
guidelines...), the same pages the audit report cites (`audit.registry`)."""

from __future__ import annotations

from mock_server.audit import registry as docs
from mock_server.domain.endpoints import endpoint_of
from mock_server.domain.schemas import ENDPOINT_SCHEMAS

# Rules (or rule-name prefixes, ending in "_") whose TikTok page is not their endpoint's.
RULE_DOCS: tuple[tuple[str, str], ...] = (
    ("rate_limit_", docs.RATE_LIMITS),
    ("token_", docs.TOKENS),
    ("refresh_", docs.TOKENS),
    ("revoke_", docs.TOKENS),
    ("auth_code_", docs.TOKENS),
    ("client_authentication", docs.TOKENS),
    ("url_ownership", docs.MEDIA_TRANSFER + "#pull_from_url"),
    ("cancel_url_ownership", docs.MEDIA_TRANSFER + "#pull_from_url"),
    ("multi_chunk_refused", docs.MEDIA_TRANSFER),
    ("chunk_", docs.MEDIA_TRANSFER),
    ("unaudited_private_only", docs.GUIDELINES),
    ("branded_content_self_only", docs.GUIDELINES),
    ("active_creator_cap", docs.GET_STARTED),
    ("pending_share_cap", docs.UPLOAD),
    ("creator_post_cap", docs.CREATOR_INFO),
    ("creator_banned", docs.CREATOR_INFO),
    ("privacy_level_option", docs.CREATOR_INFO),
    ("sandbox_target_user", "https://developers.tiktok.com/doc/add-a-sandbox/"),
)

# ref 11: the fail_reason table of status/fetch and the webhooks.
FAIL_REASONS: dict[str, str] = {
    "file_format_check_failed": "Unsupported media format (or the upload never completed).",
    "duration_check_failed": "The video's duration is outside the limits.",
    "frame_rate_check_failed": "Unsupported frame rate.",
    "picture_size_check_failed": "Unsupported resolution or picture size.",
    "internal": "Part of TikTok was unavailable; retryable.",
    "video_pull_failed": "Connection error or 1 h timeout pulling the video; retry if the URL "
    "is valid.",
    "photo_pull_failed": "Connection error or 1 h timeout pulling a photo; retry if the URL is "
    "valid.",
    "publish_cancelled": "The developer cancelled the download.",
    "auth_removed": "The user revoked the app's access mid-process; do not retry.",
    "spam_risk_too_many_posts": "Too many API posts by this creator in 24 h.",
    "spam_risk_user_banned_from_posting": "The creator is banned from posting; do not retry.",
    "spam_risk_text": "The caption was judged risky or spammy; do not retry.",
    "spam_risk": "The request was judged risky; do not retry.",
}


def rule_doc(rule: str | None, path: str) -> str | None:
    """The TikTok page the rule that answered a request at `path` comes from."""
    if rule:
        for name, doc in RULE_DOCS:
            if rule == name or (name.endswith("_") and rule.startswith(name)):
                return doc
    endpoint = endpoint_of(path)
    schema = ENDPOINT_SCHEMAS.get(endpoint) if endpoint else None
    return schema.doc if schema is not None else None


def fail_reason_meaning(reason: str | None) -> str:
    if not reason:
        return ""
    return FAIL_REASONS.get(reason, "Not in TikTok's documented list.")
