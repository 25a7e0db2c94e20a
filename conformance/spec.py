"""What the reference says, as data: the suite's expectations, written from
../shared/reference/tiktok-api.md, independently of any server's code."""

from __future__ import annotations

# ref 4.2, 6-12: every documented error code of the {data, error} envelope and its status.
ENVELOPE_ERRORS: dict[str, int] = {
    "ok": 200,
    "access_token_invalid": 401,
    "internal_error": 500,
    "invalid_file_upload": 400,
    "invalid_params": 400,
    "invalid_param": 400,
    "rate_limit_exceeded": 429,
    "scope_not_authorized": 401,
    "scope_permission_missed": 400,
    "spam_risk_too_many_posts": 403,
    "spam_risk_user_banned_from_posting": 403,
    "reached_active_user_cap": 403,
    "unaudited_client_can_only_post_to_private_accounts": 403,
    "url_ownership_unverified": 403,
    "privacy_level_option_mismatch": 403,
    "spam_risk_too_many_pending_share": 403,
    "app_version_check_failed": 400,
    "invalid_publish_id": 400,
    "token_not_authorized_for_specified_publish_id": 400,
    "publish_not_cancellable": 400,
}
# ref 6: creator_info answers these with HTTP 200 on purpose.
CREATOR_INFO_200_ERRORS = frozenset(
    {"spam_risk_too_many_posts", "spam_risk_user_banned_from_posting", "reached_active_user_cap"}
)
# ref 2.6: the `error` values of the flat OAuth error.
OAUTH_ERRORS = frozenset(
    {
        "access_denied",
        "invalid_client",
        "invalid_grant",
        "invalid_request",
        "invalid_scope",
        "unauthorized_client",
        "unsupported_grant_type",
        "unsupported_response_type",
        "server_error",
        "temporarily_unavailable",
    }
)

PATHS = {
    "token": "/v2/oauth/token/",
    "revoke": "/v2/oauth/revoke/",
    "user_info": "/v2/user/info/",
    "video_list": "/v2/video/list/",
    "video_query": "/v2/video/query/",
    "creator_info": "/v2/post/publish/creator_info/query/",
    "video_init": "/v2/post/publish/video/init/",
    "inbox_video_init": "/v2/post/publish/inbox/video/init/",
    "content_init": "/v2/post/publish/content/init/",
    "status_fetch": "/v2/post/publish/status/fetch/",
    "cancel": "/v2/post/publish/cancel/",
}
# ref 4.2, OQ 13: the bad-input code. The posting pages list `invalid_param`, the generic page
# and recorded posting answers `invalid_params`: either is TikTok's on the posting endpoints;
# Display and user endpoints answer the plural.
BAD_INPUT_CODES = {
    "posting": frozenset({"invalid_param", "invalid_params"}),
    "display": frozenset({"invalid_params"}),
}
DISPLAY = ("user_info", "video_list", "video_query")
INVALID_CODE = {
    name: BAD_INPUT_CODES["display" if name in DISPLAY else "posting"] for name in PATHS
}
# The posting endpoints' bad-input codes (the name the rule-boundary checks use).
POSTING_INVALID = BAD_INPUT_CODES["posting"]
# ref 4.3: requests per minute per access token.
RATE_LIMITS = {
    "video_init": 6,
    "inbox_video_init": 6,
    "content_init": 6,
    "creator_info": 20,
    "status_fetch": 30,
    "user_info": 600,
    "video_list": 600,
    "video_query": 600,
}
# ref 3: scopes that allow an endpoint (any one).
SCOPES = {
    "user_info": {"user.info.basic"},
    "video_list": {"video.list"},
    "video_query": {"video.list"},
    "creator_info": {"video.publish"},
    "video_init": {"video.publish"},
    "inbox_video_init": {"video.upload"},
    "status_fetch": {"video.upload", "video.publish"},
    "cancel": {"video.upload", "video.publish"},
}
# ref 5.1: the Video Object's fields and types; max_count 1-20 (10 by default); 20 ids a query.
VIDEO_FIELDS: dict[str, type] = {
    "id": str,
    "create_time": int,
    "cover_image_url": str,
    "share_url": str,
    "video_description": str,
    "duration": int,
    "height": int,
    "width": int,
    "title": str,
    "embed_html": str,
    "embed_link": str,
    "like_count": int,
    "comment_count": int,
    "share_count": int,
    "view_count": int,
}
VIDEO_PAGE_DEFAULT, VIDEO_PAGE_MAX, VIDEO_QUERY_MAX = 10, 20, 20
# ref 6: privacy options by account type.
PRIVACY_OPTIONS = {
    "public": {"PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"},
    "private": {"FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"},
}
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
# ref 11: statuses and the moves between them.
STATUSES = (
    "PROCESSING_UPLOAD",
    "PROCESSING_DOWNLOAD",
    "SEND_TO_USER_INBOX",
    "PUBLISH_COMPLETE",
    "FAILED",
)
FORWARD = {
    "PROCESSING_UPLOAD": {"PROCESSING_UPLOAD", "SEND_TO_USER_INBOX", "PUBLISH_COMPLETE", "FAILED"},
    "PROCESSING_DOWNLOAD": {
        "PROCESSING_DOWNLOAD",
        "SEND_TO_USER_INBOX",
        "PUBLISH_COMPLETE",
        "FAILED",
    },
    "SEND_TO_USER_INBOX": {"SEND_TO_USER_INBOX", "PUBLISH_COMPLETE", "FAILED"},
    "PUBLISH_COMPLETE": {"PUBLISH_COMPLETE"},
    "FAILED": {"FAILED"},
}
FAIL_REASONS = frozenset(
    {
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
    }
)
# ref 10.1: chunk rules ("MB" binary, ref 10.1 guess from the doc's example).
MIB = 1024 * 1024
MIN_CHUNK, MAX_CHUNK, MAX_FINAL_CHUNK = 5 * MIB, 64 * MIB, 128 * MIB
MAX_CHUNKS = 1000
MAX_VIDEO_BYTES = 4 * 1024 * MIB
# ref 7.1, 9: caption limits in UTF-16 code units.
VIDEO_TITLE_MAX, PHOTO_TITLE_MAX, PHOTO_DESCRIPTION_MAX = 2200, 90, 4000
MAX_PHOTOS = 35
# ref 15.1, 15.2, 8: caps.
UNAUDITED_CREATOR_CAP = 5
PENDING_SHARE_CAP = 5
DAY = 24 * 3600
# ref 2.4: token prefixes.
TOKEN_PREFIXES = {"access_token": "act.", "refresh_token": "rft."}
CLIENT_TOKEN_PREFIX = "clt."
LOG_ID_LENGTH = 34  # ref 4.1 example


def chunk_plan_ok(video_size: int, chunk_size: int, total_chunk_count: int) -> bool:
    """ref 10.1, every rule: whether TikTok takes this FILE_UPLOAD chunk plan at init."""
    if not 0 < video_size <= MAX_VIDEO_BYTES or chunk_size <= 0:
        return False
    if not 1 <= total_chunk_count <= MAX_CHUNKS:
        return False
    if video_size < MIN_CHUNK:  # small files go up whole
        return chunk_size == video_size and total_chunk_count == 1
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        return False
    if total_chunk_count != video_size // chunk_size:
        return False
    if video_size > MAX_CHUNK and total_chunk_count < 2:  # over 64 MB must be chunked
        return False
    final_chunk = video_size - chunk_size * (total_chunk_count - 1)
    return final_chunk <= MAX_FINAL_CHUNK
