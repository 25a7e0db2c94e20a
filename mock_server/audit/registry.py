"""The audit's checks, one row each: id, title, where TikTok says it, what to change, and the
function that judges the traffic. Also the audit criteria traffic cannot show (ref 15.4)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mock_server.audit import limits, media, posting, tokens
from mock_server.audit.traffic import Traffic
from mock_server.audit.verdicts import Findings

DOCS = "https://developers.tiktok.com/doc/"
GUIDELINES = DOCS + "content-sharing-guidelines"
DIRECT_POST = DOCS + "content-posting-api-reference-direct-post"
CREATOR_INFO = DOCS + "content-posting-api-reference-query-creator-info"
GET_STARTED = DOCS + "content-posting-api-get-started"
MEDIA_TRANSFER = DOCS + "content-posting-api-media-transfer-guide"
STATUS = DOCS + "content-posting-api-reference-get-video-status"
UPLOAD = DOCS + "content-posting-api-reference-upload-video"
RATE_LIMITS = DOCS + "tiktok-api-v2-rate-limit"
TOKENS = DOCS + "oauth-user-access-token-management"
REFRESH = "https://developers.tiktok.com/docs/en/oauth-refresh-a-user-access-token"
ERRORS = DOCS + "tiktok-api-v2-error-handling"
LOGIN_WEB = DOCS + "login-kit-web"
LOGIN_DESKTOP = DOCS + "login-kit-desktop"

UX = "Content Sharing Guidelines: Direct Post API developer guidelines"


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    section: str  # where TikTok states the rule
    rule: str  # TikTok's rule, in a sentence
    doc: str  # TikTok's public page
    fix: str  # what to change in the app
    judge: Callable[[Traffic], Findings]


CHECKS: tuple[Check, ...] = (
    Check(
        "creator_info_before_post",
        "creator_info fetched for the creator before each Direct Post",
        f"{UX}; Query Creator Info",
        "Call creator_info/query every time the Post to TikTok page is shown, and stop when it "
        "says the creator cannot post now.",
        CREATOR_INFO,
        "Call POST /v2/post/publish/creator_info/query/ when the post page opens, for every post; "
        "never reuse an earlier answer. On spam_risk_too_many_posts, "
        "spam_risk_user_banned_from_posting or reached_active_user_cap, stop and tell the person "
        "to try later.",
        posting.creator_info_before_post,
    ),
    Check(
        "privacy_level_in_options",
        "privacy_level picked from the creator's privacy_level_options",
        f"{UX}; Direct Post: post_info.privacy_level",
        "privacy_level must be one of the creator's current privacy_level_options, picked by "
        "the person from a list with no default.",
        DIRECT_POST,
        "Build the privacy dropdown from creator_info's privacy_level_options, with nothing "
        "selected, and send what the person picked; never a fixed level.",
        posting.privacy_level_in_options,
    ),
    Check(
        "interaction_settings_respected",
        "Comment, Duet and Stitch follow the creator's settings",
        f"{UX}; Query Creator Info: comment_disabled, duet_disabled, stitch_disabled",
        "An interaction creator_info reports disabled is greyed out: the post cannot turn it on.",
        CREATOR_INFO,
        "Grey out (and send disable_comment / disable_duet / disable_stitch = true for) every "
        "interaction creator_info reports disabled; photos have only comments.",
        posting.interaction_settings_respected,
    ),
    Check(
        "branded_content_not_private",
        "Branded content never SELF_ONLY; brand toggles where they apply",
        f"{UX}: commercial content disclosure",
        "Branded content (brand_content_toggle) can be public or friends only, never "
        "SELF_ONLY; the brand toggles belong to Direct Post.",
        GUIDELINES,
        "When 'Branded content' is on, remove SELF_ONLY from the privacy choices (or switch the "
        "disclosure off for private posts); send brand toggles with Direct Post only.",
        posting.branded_content_not_private,
    ),
    Check(
        "unaudited_self_only_surfaced",
        "The unaudited-stage SELF_ONLY restriction told to the person, not retried",
        "Content Sharing Guidelines: Direct Post API developer guidelines (unaudited clients)",
        "Before the audit, posts go to private accounts only and are SELF_ONLY; "
        "unaudited_client_can_only_post_to_private_accounts is not retried.",
        GET_STARTED,
        "Until the app passes the audit, say in the UI that posts are private (SELF_ONLY) and "
        "that the account must be private; on the 403, ask the person to make their account "
        "private instead of posting again.",
        posting.unaudited_self_only_surfaced,
    ),
    Check(
        "duration_enforced_before_upload",
        "No video longer than the creator's max_video_post_duration_sec uploaded",
        "Query Creator Info: max_video_post_duration_sec; Media Transfer Guide",
        "A video is at most the creator's max_video_post_duration_sec (and never over 10 "
        "minutes); the app enforces it before uploading.",
        CREATOR_INFO,
        "Read the video's duration before the init and refuse (or trim) anything over "
        "creator_info's max_video_post_duration_sec; inbox uploads stay within 600 s.",
        media.duration_enforced_before_upload,
    ),
    Check(
        "media_passes_checks",
        "Media passes TikTok's checks (format, codec, size, duration, frame rate)",
        "Media Transfer Guide: media requirements; Get Post Status: fail_reason",
        "Videos are MP4, WebM or MOV in H.264, H.265, VP8 or VP9, 360-4096 px, 23-60 fps; photos "
        "WebP or JPEG up to 1080p and 20 MB.",
        MEDIA_TRANSFER,
        "Check container, codec, resolution, frame rate (and photo format and size) before "
        "sending; tell the person what to change instead of sending the file.",
        media.media_passes_checks,
    ),
    Check(
        "chunk_plan_valid",
        "FILE_UPLOAD chunk plans valid at the first try, chunks sent in order",
        "Media Transfer Guide: FILE_UPLOAD chunk rules",
        "Chunks are 5-64 MB (the last up to 128 MB), total_chunk_count = floor(video_size / "
        "chunk_size), 1-1000 chunks, files under 5 MB whole; chunks go up one after another.",
        MEDIA_TRANSFER,
        "Compute the plan from the file size with the documented arithmetic, PUT exactly those "
        "ranges in order, one at a time, and resume from the server's Content-Range after a "
        "416.",
        media.chunk_plan_valid,
    ),
    Check(
        "pull_from_url_verified",
        "PULL_FROM_URL only from verified https domains or URL prefixes",
        "Media Transfer Guide: PULL_FROM_URL and URL properties",
        "Pulled URLs are https, never redirect, and fall under a Domain or URL prefix property "
        "verified for the app.",
        MEDIA_TRANSFER,
        "Serve media over https from a domain (or URL prefix) verified on the app's URL "
        "properties page; use FILE_UPLOAD for files that are on the person's device.",
        media.pull_from_url_verified,
    ),
    Check(
        "token_refreshed_in_time",
        "Access tokens refreshed before they expire",
        "Manage User Access Tokens: refresh",
        "An access token lasts expires_in seconds; refresh it with the refresh token before "
        "then, and before refresh_expires_in ends ask the person to log in again.",
        TOKENS,
        "Store the expiry from expires_in and refresh a little before it (the reference client "
        "uses a margin); on access_token_invalid refresh once, then ask the person to log in.",
        tokens.token_refreshed_in_time,
    ),
    Check(
        "invalid_token_not_reused",
        "No call repeated with an expired or revoked token",
        "Error handling: access_token_invalid; Revoke access",
        "access_token_invalid means the token no longer works; the same call with the same "
        "token fails again.",
        ERRORS,
        "After access_token_invalid, refresh (or ask the person to log in again) before the "
        "next call; forget a token once it is revoked.",
        tokens.invalid_token_not_reused,
    ),
    Check(
        "rotated_refresh_token_not_reused",
        "A rotated refresh token never sent again",
        "Refresh an access token: refresh_token rotation",
        "Every refresh returns a new refresh_token and the old one stops working at once.",
        REFRESH,
        "Save the refresh_token of every refresh answer before using the new access token, "
        "and let one refresh run at a time per person.",
        tokens.rotated_refresh_token_not_reused,
    ),
    Check(
        "token_endpoint_server_side",
        "Token endpoint called from a server, never from a browser",
        "Login Kit for Web: server code",
        "The server keeps client_secret and refresh tokens; the code exchange and refreshes "
        "happen there, never in front-end code.",
        LOGIN_WEB,
        "Move /v2/oauth/token/ and /v2/oauth/revoke/ calls (and client_secret) to your server; "
        "the browser only follows the authorize URL and comes back with the code.",
        tokens.token_endpoint_server_side,
    ),
    Check(
        "redirect_uri_accepted_by_tiktok",
        "Redirect URI and PKCE as TikTok accepts them",
        "Login Kit for Web / Desktop: redirect URI rules and PKCE",
        "Web redirect URIs are absolute https URIs (no localhost); desktop ones are localhost or "
        "127.0.0.1 with a port, and desktop apps send PKCE with the hex SHA-256 challenge.",
        LOGIN_WEB,
        "Register and use an https redirect URI on your own domain for a web app (the sandbox "
        "also takes http://localhost, TikTok does not); for desktop, send code_challenge as "
        "the hex SHA-256 of the verifier (see " + LOGIN_DESKTOP + ").",
        tokens.redirect_uri_accepted_by_tiktok,
    ),
    Check(
        "rate_limits_respected",
        "Rate limits: no 429, or a backoff after each",
        "Rate limits",
        "Each endpoint allows a number of requests per minute per access token (6 for inits, "
        "20 for creator_info, 30 for status); over it the answer is 429 rate_limit_exceeded.",
        RATE_LIMITS,
        "Keep under the per-minute limits; after a 429 wait (TikTok sends no Retry-After: the "
        "window is a sliding minute) and grow the wait on each further 429.",
        limits.rate_limits_respected,
    ),
    Check(
        "status_polling_within_limit",
        "Status polling within 30 requests a minute",
        "Get Post Status: fetch status rate limit",
        "status/fetch allows 30 requests a minute per access token.",
        STATUS,
        "Poll every few seconds at most, slower as time passes (the reference client starts at "
        "2 s and grows to 30 s), or follow the webhooks instead.",
        limits.status_polling_within_limit,
    ),
    Check(
        "cap_errors_not_retried",
        "Daily cap, pending-share cap and ban refusals not retried",
        "Direct Post / Upload: error codes; Content Sharing Guidelines: caps",
        "spam_risk_too_many_posts, spam_risk_too_many_pending_share and "
        "reached_active_user_cap hold for 24 hours; spam_risk_user_banned_from_posting is not "
        "to be retried.",
        DIRECT_POST,
        "On a cap or ban refusal, tell the person and stop; offer to try again after the 24 "
        "hours (or once a pending draft is posted), never in a loop.",
        limits.cap_errors_not_retried,
    ),
)


@dataclass(frozen=True)
class NotShown:
    """An audit criterion that lives in the app's UI or content: traffic cannot show it."""

    id: str
    title: str
    doc: str
    why: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "doc": self.doc, "why": self.why}


NOT_SHOWN_BY_TRAFFIC: tuple[NotShown, ...] = (
    NotShown(
        "creator_identity_shown",
        "The creator's nickname (and avatar) shown on the post page",
        GUIDELINES,
        "creator_info returns them; whether the page displays them is UI.",
    ),
    NotShown(
        "privacy_without_default",
        "Privacy picked by the person from a dropdown with no default",
        GUIDELINES,
        "The request shows the level sent, not whether the person chose it (the audit only "
        "warns when one level is sent for creators whose options differ).",
    ),
    NotShown(
        "interactions_start_unchecked",
        "Comment, Duet and Stitch boxes start unchecked",
        GUIDELINES,
        "The request shows the final values, not the boxes' starting state.",
    ),
    NotShown(
        "title_editable",
        "The title (caption) is editable before posting",
        GUIDELINES,
        "The request carries the final title only.",
    ),
    NotShown(
        "commercial_disclosure_ui",
        "The commercial content disclosure toggle, off by default, with 'Your brand' "
        "(Promotional content) and 'Branded content' (Paid partnership), one of them required "
        "when on",
        GUIDELINES,
        "The request carries brand_organic_toggle and brand_content_toggle, not the toggle's "
        "labels, default or validation.",
    ),
    NotShown(
        "consent_declarations",
        "Music Usage Confirmation (and the Branded Content Policy for branded content) shown "
        "before the post button",
        GUIDELINES,
        "Consent text is on the page, not in the request.",
    ),
    NotShown(
        "content_preview",
        "A preview of the content before posting",
        GUIDELINES,
        "UI only.",
    ),
    NotShown(
        "no_watermarks",
        "No watermark, logo or promotional branding added to the content",
        GUIDELINES,
        "The media check reads format, codec, size, duration and frame rate, not what is drawn "
        "in the frames.",
    ),
    NotShown(
        "explicit_consent_before_upload",
        "Upload only after the person explicitly agreed to post",
        DIRECT_POST,
        "The init shows that a post was sent, not that a person pressed the button.",
    ),
    NotShown(
        "processing_time_told",
        "The person is told that processing takes a few minutes",
        GUIDELINES,
        "UI only (status polling is checked: status_polling_within_limit).",
    ),
    NotShown(
        "webhooks_handled",
        "Publish outcomes followed through webhooks",
        STATUS,
        "Webhook deliveries are in the sandbox's webhook log; what the app did with them is "
        "not in its requests (polling is checked).",
    ),
    NotShown(
        "source_matches_content",
        "PULL_FROM_URL for content already on a server, FILE_UPLOAD for files on the device",
        MEDIA_TRANSFER,
        "Where a file came from before the app had it is not in the traffic.",
    ),
    NotShown(
        "allowed_use_case",
        "No copying of content from other platforms; not an internal tool for your own accounts",
        GUIDELINES,
        "A matter of what the app is for, judged by the reviewers.",
    ),
)
