"""Everything the client raises: TikTok's errors, OAuth errors, and what it refuses itself.

TikTokClientError
├── TikTokError            an `error.code` other than "ok" in TikTok's envelope (ref 4.1)
│   └── one class per documented code; `error_class(code)` looks them up
├── UploadError            a PUT to `upload_url` failed (ref 10.3)
├── OAuthError             the flat `{error, error_description}` shape (ref 2.6)
├── LocalRefusal           refused before sending: TikTok would refuse it (ref 6-9, 13, 15.4)
├── WebhookVerificationError
└── PublishWaitTimeout, NotAuthenticated, StateMismatch
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from client.models import PublishStatus


class TikTokClientError(Exception):
    """The base of every error this package raises."""


# -- TikTok's envelope errors (ref 4.2, 6-12) ----------------------------------------------------


class TikTokError(TikTokClientError):
    """A response whose `error.code` is not "ok", whatever its HTTP status (ref 4.1)."""

    code_name: str = ""  # the code each subclass stands for

    def __init__(self, code: str, message: str = "", log_id: str = "", http_status: int = 0):
        self.code = code
        self.message = message
        self.log_id = log_id
        self.http_status = http_status
        super().__init__(f"{code}: {message}" if message else code)


class AuthError(TikTokError):
    """The token cannot be used for this request."""


class AccessTokenInvalid(AuthError):
    code_name = "access_token_invalid"  # 401


class ScopeNotAuthorized(AuthError):
    code_name = "scope_not_authorized"  # 401


class ScopePermissionMissed(AuthError):
    code_name = "scope_permission_missed"  # 400


class RateLimitExceeded(TikTokError):
    code_name = "rate_limit_exceeded"  # 429


class InternalError(TikTokError):
    code_name = "internal_error"  # 5xx: retry later


class InvalidParam(TikTokError):
    code_name = "invalid_param"  # 400, posting endpoints


class InvalidParams(InvalidParam):
    code_name = "invalid_params"  # 400, Display and user endpoints (ref 4.2: both spellings)


class InvalidFileUpload(TikTokError):
    code_name = "invalid_file_upload"  # 400


class SpamRisk(TikTokError):
    """The spam-risk family: TikTok will not take this post from this creator now."""


class SpamRiskTooManyPosts(SpamRisk):
    code_name = "spam_risk_too_many_posts"  # 403; 200 from creator_info


class SpamRiskUserBannedFromPosting(SpamRisk):
    code_name = "spam_risk_user_banned_from_posting"  # 403; 200 from creator_info


class SpamRiskTooManyPendingShare(SpamRisk):
    code_name = "spam_risk_too_many_pending_share"  # 403


class ReachedActiveUserCap(TikTokError):
    code_name = "reached_active_user_cap"  # 403; 200 from creator_info


class UnauditedClientCanOnlyPostToPrivateAccounts(TikTokError):
    code_name = "unaudited_client_can_only_post_to_private_accounts"  # 403


class UrlOwnershipUnverified(TikTokError):
    code_name = "url_ownership_unverified"  # 403


class PrivacyLevelOptionMismatch(TikTokError):
    code_name = "privacy_level_option_mismatch"  # 403


class AppVersionCheckFailed(TikTokError):
    code_name = "app_version_check_failed"  # 400


class InvalidPublishId(TikTokError):
    code_name = "invalid_publish_id"  # 400


class TokenNotAuthorizedForSpecifiedPublishId(TikTokError):
    code_name = "token_not_authorized_for_specified_publish_id"  # 400


class PublishNotCancellable(TikTokError):
    code_name = "publish_not_cancellable"  # 400


API_ERRORS: dict[str, type[TikTokError]] = {
    cls.code_name: cls
    for cls in (
        AccessTokenInvalid,
        ScopeNotAuthorized,
        ScopePermissionMissed,
        RateLimitExceeded,
        InternalError,
        InvalidParam,
        InvalidParams,
        InvalidFileUpload,
        SpamRiskTooManyPosts,
        SpamRiskUserBannedFromPosting,
        SpamRiskTooManyPendingShare,
        ReachedActiveUserCap,
        UnauditedClientCanOnlyPostToPrivateAccounts,
        UrlOwnershipUnverified,
        PrivacyLevelOptionMismatch,
        AppVersionCheckFailed,
        InvalidPublishId,
        TokenNotAuthorizedForSpecifiedPublishId,
        PublishNotCancellable,
    )
}


def error_class(code: str) -> type[TikTokError]:
    """The class for an `error.code`; unknown codes get the base class."""
    return API_ERRORS.get(code, TikTokError)


# -- media transfer (ref 10.3) -----------------------------------------------------------------


class UploadError(TikTokError):
    """A chunk PUT failed; `http_status` is what decided (the PUT body is undocumented)."""


class ChunkRejected(UploadError):
    """400: malformed headers, or the chunk does not follow the chunk plan."""


class UploadUrlExpired(UploadError):
    """403: the upload_url is valid for one hour after init."""


class UploadNotFound(UploadError):
    """404: no upload task for this upload_url."""


class RangeNotSatisfiable(UploadError):
    """416 that could not be resumed from: the server's progress is not at a chunk boundary,
    or resuming made no progress."""


UPLOAD_ERRORS: dict[int, type[UploadError]] = {
    400: ChunkRejected,
    403: UploadUrlExpired,
    404: UploadNotFound,
    416: RangeNotSatisfiable,
}


# -- OAuth (ref 2.6) ----------------------------------------------------------------------------


class OAuthError(TikTokClientError):
    """TikTok's flat OAuth error (`error`, `error_description`, `log_id`), sent with HTTP 200 as
    often as not (ref 2.6), or the `?error=` of an authorize redirect (ref 2.2)."""

    error_name: str = ""

    def __init__(
        self,
        error: str,
        error_description: str = "",
        log_id: str = "",
        http_status: int = 0,
        error_type: str = "",
    ) -> None:
        self.error = error
        self.error_description = error_description
        self.log_id = log_id
        self.http_status = http_status
        self.error_type = error_type
        detail = f"{error}: {error_description}" if error_description else error
        super().__init__(f"{detail} ({error_type})" if error_type else detail)


class AccessDenied(OAuthError):
    error_name = "access_denied"


class InvalidClient(OAuthError):
    error_name = "invalid_client"


class InvalidGrant(OAuthError):
    """The code or refresh token is invalid, used, expired, revoked or rotated out: the person
    has to authorize again."""

    error_name = "invalid_grant"


class InvalidRequest(OAuthError):
    error_name = "invalid_request"


class InvalidScope(OAuthError):
    error_name = "invalid_scope"


class UnauthorizedClient(OAuthError):
    error_name = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error_name = "unsupported_grant_type"


class UnsupportedResponseType(OAuthError):
    error_name = "unsupported_response_type"


class OAuthServerError(OAuthError):
    error_name = "server_error"


class TemporarilyUnavailable(OAuthError):
    error_name = "temporarily_unavailable"


OAUTH_ERRORS: dict[str, type[OAuthError]] = {
    cls.error_name: cls
    for cls in (
        AccessDenied,
        InvalidClient,
        InvalidGrant,
        InvalidRequest,
        InvalidScope,
        UnauthorizedClient,
        UnsupportedGrantType,
        UnsupportedResponseType,
        OAuthServerError,
        TemporarilyUnavailable,
    )
}


def oauth_error_class(error: str) -> type[OAuthError]:
    return OAUTH_ERRORS.get(error, OAuthError)


class StateMismatch(OAuthError):
    """The authorize redirect's `state` is not the one sent (ref 2.1: the CSRF check)."""

    error_name = "state_mismatch"


# -- refused before sending -------------------------------------------------------------------


class LocalRefusal(TikTokClientError):
    """Refused by the client before any init or upload request: TikTok would refuse it, or the
    audit's required UX forbids it. `rule` cites the reference."""

    rule: str = ""


class PrivacyLevelNotAllowed(LocalRefusal):
    rule = "ref 6, 7.1, 15.4: privacy_level must be one of the creator's privacy_level_options"


class DurationOverCreatorMax(LocalRefusal):
    rule = "ref 6, 13, 15.4: the video is longer than max_video_post_duration_sec (or 600 s)"


class InteractionDisabledByCreator(LocalRefusal):
    rule = "ref 6, 15.4: comment/duet/stitch the creator disabled cannot be turned on"


class BrandedContentCannotBePrivate(LocalRefusal):
    rule = "ref 7.1, 15.4: branded content (brand_content_toggle) cannot be SELF_ONLY"


class CaptionTooLong(LocalRefusal):
    rule = "ref 7.1, 9: title/description length in UTF-16 code units"


class UnsupportedMedia(LocalRefusal):
    rule = "ref 9, 13: formats, codecs, frame rate, resolution, photo count"


class MediaTooLarge(LocalRefusal):
    rule = "ref 10.1, 13: videos at most 4 GB"


class DisplayRequestOutOfBounds(LocalRefusal):
    rule = "ref 5.1: max_count 1-20; 1-20 video ids per query"


class CreatorCannotPostNow(LocalRefusal):
    """creator_info said the creator cannot post now (its intentional-200 errors, ref 6): stop
    and ask the person to try later. `reason` is the TikTok error it answered."""

    rule = "ref 6, 15.4: stop when the creator cannot post right now"

    def __init__(self, reason: TikTokError) -> None:
        self.reason = reason
        super().__init__(f"the creator cannot post now: {reason}")


# -- other client-side conditions --------------------------------------------------------------


class NotAuthenticated(TikTokClientError):
    """No token in the store: log in first."""


class PublishWaitTimeout(TikTokClientError):
    """wait_for_publish gave up before the publish reached a final status."""

    def __init__(self, publish_id: str, last: PublishStatus | None) -> None:
        self.publish_id = publish_id
        self.last = last
        status = last.status if last else "no status"
        super().__init__(f"{publish_id} is still {status}")


class WebhookVerificationError(TikTokClientError):
    """The webhook's TikTok-Signature does not verify."""


class InvalidSignature(WebhookVerificationError):
    """Missing or malformed header, or an HMAC that does not match the body."""


class StaleSignature(WebhookVerificationError):
    """The signature's timestamp is outside the replay tolerance."""
