"""What each TikTok endpoint takes and answers, as data (ref 2, 5-12): the table the OpenAPI
document (`GET /_sandbox/openapi.json`, `mock_server.openapi`) is built from, together with the
routes (`ENDPOINTS`, `app.HANDLERS`), scopes (`scopes.ENDPOINT_SCOPES`), rate limits
(`ratelimit.RATE_LIMITS`) and error codes (`errors.API_ERRORS`). One entry per routed endpoint:
a route without one cannot be documented, and the tests say so.

Schemas are JSON Schema 2020-12 (what OpenAPI 3.1 uses). Lengths TikTok counts in UTF-16 code
units (captions) are said in descriptions, since JSON Schema counts code points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mock_server.domain.outcomes import FAIL_REASONS
from mock_server.domain.posting import (
    MAX_CHUNKS,
    MAX_PHOTOS,
    MAX_VIDEO_BYTES,
    PHOTO_DESCRIPTION_MAX,
    PHOTO_TITLE_MAX,
    VIDEO_TITLE_MAX,
)
from mock_server.domain.publishing import PRIVACY_LEVELS, STATUSES
from mock_server.domain.scopes import USER_INFO_FIELDS, VIDEO_FIELDS
from mock_server.domain.videos import MAX_COUNT, MAX_QUERY_IDS

JsonSchema = dict[str, Any]

DOCS = "https://developers.tiktok.com/doc/"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Param:
    """A query or header parameter."""

    name: str
    where: str  # "query" | "header"
    schema: JsonSchema
    required: bool = False
    description: str = ""
    example: Any = None


@dataclass(frozen=True)
class Endpoint:
    """One endpoint's contract.

    `shape` says how it answers: "envelope" (`{data, error}`, ref 4.1), "oauth" (flat JSON,
    ref 2.4-2.6), "upload" (the PUT to `upload_url`, ref 10.2-10.3) or "page" (HTML, the
    browser's authorize page, ref 2.1). `data` is the success `data` of an envelope endpoint
    (None: no `data`, as cancel) or the flat success body of an OAuth one (None: empty).
    `errors` are the endpoint's own error codes (envelope) or `error` values (OAuth); the
    token, scope, rate-limit and internal errors every envelope endpoint shares are added by the
    document. `answered_200` are error codes answered with HTTP 200 on purpose (ref 6).
    `publishes` marks an init whose `data.publish_id` other operations take (links).
    """

    summary: str
    doc: str
    shape: str
    body_types: tuple[str, ...] = ()  # the request body's media types (none: no body)
    body: JsonSchema | None = None
    params: tuple[Param, ...] = ()
    data: JsonSchema | None = None
    errors: tuple[str, ...] = ()
    answered_200: tuple[str, ...] = ()
    publishes: bool = False
    description: str = ""
    example: Any = None  # a request body that works (given a verified media.example.com)


# -- shared pieces -----------------------------------------------------------------------------


def obj(properties: dict[str, JsonSchema], *required: str, closed: bool = False) -> JsonSchema:
    schema: JsonSchema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


STRING: JsonSchema = {"type": "string"}
BOOL: JsonSchema = {"type": "boolean"}
INT64: JsonSchema = {"type": "integer", "format": "int64"}
INT32: JsonSchema = {"type": "integer", "format": "int32"}
PRIVACY: JsonSchema = {"type": "string", "enum": list(PRIVACY_LEVELS)}


def text(units: int, what: str) -> JsonSchema:
    return {"type": "string", "description": f"{what}: at most {units} UTF-16 code units"}


# ref 4.2: the posting pages write `invalid_param`, the generic page `invalid_params` (and
# recorded posting answers carry it): a client of the posting endpoints must expect either.
POSTING_INVALID = ("invalid_param", "invalid_params")

# ref 7.2, 8, 10.1: where the video comes from.
SOURCE_INFO: JsonSchema = {
    "oneOf": [
        obj(
            {
                "source": {"const": "FILE_UPLOAD"},
                "video_size": {**INT64, "minimum": 1, "maximum": MAX_VIDEO_BYTES},
                "chunk_size": {**INT64, "minimum": 1},
                "total_chunk_count": {**INT64, "minimum": 1, "maximum": MAX_CHUNKS},
            },
            "source",
            "video_size",
            "chunk_size",
            "total_chunk_count",
        ),
        obj({"source": {"const": "PULL_FROM_URL"}, "video_url": STRING}, "source", "video_url"),
    ],
    "description": "FILE_UPLOAD with a chunk plan (ref 10.1: chunks of 5-64 MB, the last up to "
    "128 MB, total_chunk_count = floor(video_size / chunk_size), files under 5 MB whole), or "
    "PULL_FROM_URL from a verified domain or URL prefix (ref 10.4).",
}
VIDEO_POST_INFO = obj(
    {
        "privacy_level": PRIVACY,
        "title": text(VIDEO_TITLE_MAX, "caption"),
        "disable_duet": BOOL,
        "disable_stitch": BOOL,
        "disable_comment": BOOL,
        "video_cover_timestamp_ms": INT32,
        "brand_content_toggle": BOOL,
        "brand_organic_toggle": BOOL,
        "is_aigc": BOOL,
    },
    "privacy_level",
)
PHOTO_POST_INFO = obj(
    {
        "title": text(PHOTO_TITLE_MAX, "title"),
        "description": text(PHOTO_DESCRIPTION_MAX, "description"),
        "privacy_level": {**PRIVACY, "description": "required for DIRECT_POST"},
        "disable_comment": BOOL,
        "auto_add_music": BOOL,
        "brand_content_toggle": BOOL,
        "brand_organic_toggle": BOOL,
    }
)
PUBLISH_ID_BODY = obj({"publish_id": STRING}, "publish_id")
PUBLISH_ID_EXAMPLE = {"publish_id": "v_pub_file~v2-1.123456789"}  # ref 7.3's example
WHOLE_FILE = {  # ref 10.1: under 5 MB, one chunk
    "source": "FILE_UPLOAD",
    "video_size": 10_000,
    "chunk_size": 10_000,
    "total_chunk_count": 1,
}
FIELD_NAMES = "|".join(USER_INFO_FIELDS)
VIDEO_FIELD_NAMES = "|".join(VIDEO_FIELDS)
VIDEO_FIELDS_PARAM = Param(
    "fields",
    "query",
    {"type": "string", "pattern": f"^({VIDEO_FIELD_NAMES})(,({VIDEO_FIELD_NAMES}))*$"},
    required=True,
    example="id,create_time,cover_image_url,share_url,duration,title",
    description="comma-separated fields of the Video Object: " + ", ".join(VIDEO_FIELDS),
)
VIDEO = obj(
    {
        "id": STRING,
        "create_time": INT64,
        "cover_image_url": {**STRING, "description": "a signed URL, valid 6 hours"},
        "share_url": STRING,
        "video_description": STRING,
        "duration": INT32,
        "height": INT32,
        "width": INT32,
        "title": STRING,
        "embed_html": STRING,
        "embed_link": STRING,
        "like_count": INT32,
        "comment_count": INT32,
        "share_count": INT32,
        "view_count": INT64,
    },
    closed=True,
)
VIDEO_PAGE = obj(
    {"videos": {"type": "array", "items": VIDEO}, "cursor": INT64, "has_more": BOOL},
    "videos",
    "cursor",
    "has_more",
)
INIT_DATA = obj(
    {
        "publish_id": {"type": "string", "minLength": 1, "maxLength": 64},
        "upload_url": {
            "type": "string",
            "maxLength": 256,
            "description": "FILE_UPLOAD only: PUT the media here, query string included, "
            "within 1 hour (ref 7.3, 10.2)",
        },
    },
    "publish_id",
)
INIT_ERRORS = (
    *POSTING_INVALID,
    "spam_risk_user_banned_from_posting",
    "url_ownership_unverified",
)
DIRECT_POST_ERRORS = (
    "spam_risk_too_many_posts",
    "reached_active_user_cap",
    "unaudited_client_can_only_post_to_private_accounts",
    "privacy_level_option_mismatch",
)
USER_FIELDS_DATA = obj(
    {
        "user": obj(
            {
                "open_id": STRING,
                "union_id": STRING,
                "avatar_url": STRING,
                "avatar_url_100": STRING,
                "avatar_large_url": STRING,
                "display_name": STRING,
                "bio_description": STRING,
                "profile_deep_link": STRING,
                "is_verified": BOOL,
                "username": STRING,
                "follower_count": INT64,
                "following_count": INT64,
                "likes_count": INT64,
                "video_count": INT64,
            },
            closed=True,
        )
    },
    "user",
)
CREDENTIALS = {"client_key": STRING, "client_secret": STRING}
USER_TOKEN = obj(
    {
        "access_token": {"type": "string", "pattern": "^act\\."},
        "expires_in": INT64,
        "open_id": STRING,
        "refresh_expires_in": INT64,
        "refresh_token": {"type": "string", "pattern": "^rft\\."},
        "scope": STRING,
        "token_type": {"const": "Bearer"},
    },
    "access_token",
    "expires_in",
    "open_id",
    "refresh_expires_in",
    "refresh_token",
    "scope",
    "token_type",
)
CLIENT_TOKEN = obj(
    {
        "access_token": {"type": "string", "pattern": "^clt\\."},
        "expires_in": INT64,
        "token_type": {"const": "Bearer"},
    },
    "access_token",
    "expires_in",
    "token_type",
    closed=True,
)
AUTHORIZE_PARAMS = (
    Param("client_key", "query", STRING, description="the app's client key"),
    Param("scope", "query", STRING, description="comma-separated scopes"),
    Param("redirect_uri", "query", STRING, description="one of the app's registered URIs"),
    Param("state", "query", STRING),
    Param("response_type", "query", {"const": "code"}),
    Param("code_challenge", "query", STRING, description="PKCE: hex SHA-256 of the verifier"),
    Param("code_challenge_method", "query", {"const": "S256"}),
    Param("disable_auto_auth", "query", {"type": "integer", "enum": [0, 1]}),
)

# -- the table ---------------------------------------------------------------------------------

ENDPOINT_SCHEMAS: dict[str, Endpoint] = {
    "authorize": Endpoint(
        "The consent page (browser): approve or deny, then a redirect with code or error",
        DOCS + "login-kit-web",
        "page",
        body_types=(FORM,),
        body=obj({"csrf_token": STRING, "decision": STRING, "creator": STRING}),
        params=AUTHORIZE_PARAMS,
        description="GET shows the page; POST is the page's own form (with its csrf_token).",
    ),
    "token": Endpoint(
        "Exchange a code, refresh a token, or get a client token",
        DOCS + "oauth-user-access-token-management",
        "oauth",
        body_types=(FORM,),
        body=obj(
            {
                **CREDENTIALS,
                "grant_type": {
                    "type": "string",
                    "enum": ["authorization_code", "refresh_token", "client_credentials"],
                },
                "code": STRING,
                "redirect_uri": STRING,
                "code_verifier": STRING,
                "refresh_token": STRING,
            },
            "client_key",
            "client_secret",
            "grant_type",
        ),
        data={"oneOf": [USER_TOKEN, CLIENT_TOKEN]},
        errors=(
            "invalid_request",
            "invalid_client",
            "invalid_grant",
            "unsupported_grant_type",
            "server_error",
            "temporarily_unavailable",
        ),
    ),
    "revoke": Endpoint(
        "Revoke the user's authorization of the app (empty 200)",
        DOCS + "oauth-user-access-token-management",
        "oauth",
        body_types=(FORM,),
        body=obj({**CREDENTIALS, "token": STRING}, "client_key", "client_secret", "token"),
        errors=(
            "invalid_request",
            "invalid_client",
            "invalid_grant",
            "server_error",
            "temporarily_unavailable",
        ),
    ),
    "user_info": Endpoint(
        "The user's profile fields, each needing its scope",
        DOCS + "tiktok-api-v2-get-user-info",
        "envelope",
        params=(
            Param(
                "fields",
                "query",
                {"type": "string", "pattern": f"^({FIELD_NAMES})(,({FIELD_NAMES}))*$"},
                required=True,
                example="open_id,union_id,avatar_url,display_name",
                description="comma-separated: open_id, union_id, avatar_url, avatar_url_100, "
                "avatar_large_url, display_name (user.info.basic); bio_description, "
                "profile_deep_link, is_verified, username (user.info.profile); "
                "follower_count, following_count, likes_count, video_count (user.info.stats)",
            ),
        ),
        data=USER_FIELDS_DATA,
        errors=("invalid_params", "scope_permission_missed"),
    ),
    "creator_info": Endpoint(
        "What the creator may post now (call before showing the post screen)",
        DOCS + "content-posting-api-reference-query-creator-info",
        "envelope",
        data=obj(
            {
                "creator_avatar_url": STRING,
                "creator_username": STRING,
                "creator_nickname": STRING,
                "privacy_level_options": {"type": "array", "items": PRIVACY, "minItems": 1},
                "comment_disabled": BOOL,
                "duet_disabled": BOOL,
                "stitch_disabled": BOOL,
                "max_video_post_duration_sec": INT32,
            },
            "creator_avatar_url",
            "creator_username",
            "creator_nickname",
            "privacy_level_options",
            "comment_disabled",
            "duet_disabled",
            "stitch_disabled",
            "max_video_post_duration_sec",
        ),
        answered_200=(
            "spam_risk_too_many_posts",
            "spam_risk_user_banned_from_posting",
            "reached_active_user_cap",
        ),
    ),
    "video_init": Endpoint(
        "Direct Post a video (FILE_UPLOAD or PULL_FROM_URL)",
        DOCS + "content-posting-api-reference-direct-post",
        "envelope",
        body_types=(JSON,),
        body=obj({"post_info": VIDEO_POST_INFO, "source_info": SOURCE_INFO}, "source_info"),
        example={
            "post_info": {"privacy_level": "SELF_ONLY", "title": "#sandbox"},
            "source_info": WHOLE_FILE,
        },
        data=INIT_DATA,
        errors=(*INIT_ERRORS, *DIRECT_POST_ERRORS),
        publishes=True,
    ),
    "inbox_video_init": Endpoint(
        "Upload a video to the creator's inbox as a draft",
        DOCS + "content-posting-api-reference-upload-video",
        "envelope",
        body_types=(JSON,),
        body=obj({"source_info": SOURCE_INFO}, "source_info"),
        example={"source_info": WHOLE_FILE},
        data=INIT_DATA,
        errors=(*INIT_ERRORS, "spam_risk_too_many_pending_share"),
        publishes=True,
    ),
    "content_init": Endpoint(
        "Post photos (DIRECT_POST) or send them to the inbox (MEDIA_UPLOAD)",
        DOCS + "content-posting-api-reference-photo-post",
        "envelope",
        body_types=(JSON,),
        body=obj(
            {
                "media_type": {"const": "PHOTO"},
                "post_mode": {"type": "string", "enum": ["DIRECT_POST", "MEDIA_UPLOAD"]},
                "post_info": PHOTO_POST_INFO,
                "source_info": obj(
                    {
                        "source": {"const": "PULL_FROM_URL"},
                        "photo_images": {
                            "type": "array",
                            "items": STRING,
                            "minItems": 1,
                            "maxItems": MAX_PHOTOS,
                        },
                        "photo_cover_index": {**INT32, "minimum": 0},
                    },
                    "source",
                    "photo_images",
                    "photo_cover_index",
                ),
            },
            "media_type",
            "post_mode",
            "post_info",
            "source_info",
        ),
        example={
            "media_type": "PHOTO",
            "post_mode": "DIRECT_POST",
            "post_info": {"title": "Photos", "privacy_level": "SELF_ONLY"},
            "source_info": {
                "source": "PULL_FROM_URL",
                "photo_images": ["https://media.example.com/p0.jpg"],
                "photo_cover_index": 0,
            },
        },
        data=obj({"publish_id": INIT_DATA["properties"]["publish_id"]}, "publish_id"),
        errors=(
            *INIT_ERRORS,
            *DIRECT_POST_ERRORS,
            "app_version_check_failed",
            "spam_risk_too_many_pending_share",
        ),
        publishes=True,
    ),
    "status_fetch": Endpoint(
        "The status of a publish",
        DOCS + "content-posting-api-reference-get-video-status",
        "envelope",
        body_types=(JSON,),
        body=PUBLISH_ID_BODY,
        example=PUBLISH_ID_EXAMPLE,
        data=obj(
            {
                "status": {"type": "string", "enum": list(STATUSES)},
                "fail_reason": {"type": "string", "enum": list(FAIL_REASONS)},
                "publicaly_available_post_id": {"type": "array", "items": INT64},
                "uploaded_bytes": INT64,
                "downloaded_bytes": INT64,
            },
            "status",
        ),
        errors=(
            *POSTING_INVALID,
            "invalid_publish_id",
            "token_not_authorized_for_specified_publish_id",
        ),
    ),
    "video_list": Endpoint(
        "The creator's public videos, newest first, a page at a time",
        DOCS + "tiktok-api-v2-video-list",
        "envelope",
        body_types=(JSON,),
        body=obj(
            {
                "cursor": {**INT64, "minimum": 0, "description": "UTC Unix time in ms"},
                "max_count": {**INT32, "minimum": 1, "maximum": MAX_COUNT, "default": 10},
            }
        ),
        params=(VIDEO_FIELDS_PARAM,),
        example={"max_count": 10},
        data=VIDEO_PAGE,
        errors=("invalid_params",),
    ),
    "video_query": Endpoint(
        "Some of the creator's public videos, by id",
        DOCS + "tiktok-api-v2-video-query",
        "envelope",
        body_types=(JSON,),
        body=obj(
            {
                "filters": obj(
                    {
                        "video_ids": {
                            "type": "array",
                            "items": STRING,
                            "minItems": 1,
                            "maxItems": MAX_QUERY_IDS,
                        }
                    },
                    "video_ids",
                )
            },
            "filters",
        ),
        params=(VIDEO_FIELDS_PARAM,),
        example={"filters": {"video_ids": ["7000000000000000000"]}},
        data=VIDEO_PAGE,
        errors=("invalid_params",),
    ),
    "cancel": Endpoint(
        "Cancel a PULL_FROM_URL download under way (no data in the answer)",
        DOCS + "content-posting-api-media-transfer-guide",
        "envelope",
        body_types=(JSON,),
        body=PUBLISH_ID_BODY,
        example=PUBLISH_ID_EXAMPLE,
        errors=(
            *POSTING_INVALID,
            "invalid_publish_id",
            "token_not_authorized_for_specified_publish_id",
            "publish_not_cancellable",
            "url_ownership_unverified",
        ),
    ),
    "upload": Endpoint(
        "PUT a chunk of a FILE_UPLOAD to its upload_url (the sandbox's own upload path)",
        DOCS + "content-posting-api-media-transfer-guide",
        "upload",
        body_types=("video/mp4", "video/quicktime", "video/webm"),
        body={"type": "string", "format": "binary"},
        params=(
            Param("upload_id", "query", STRING, required=True),
            Param("upload_token", "query", STRING, required=True),
            Param(
                "Content-Range",
                "header",
                {"type": "string", "pattern": "^bytes [0-9]+-[0-9]+/[0-9]+$"},
                required=True,
                description="bytes {first}-{last}/{total}, last inclusive",
            ),
        ),
        description="Use the whole `upload_url` an init returned: its host and path are the "
        "server's to choose (ref 1). 206: chunk taken, more to come; 201: all received. "
        "Every answer carries Content-Range: bytes 0-{received}/{total}.",
        errors=("invalid_file_upload",),
    ),
}
