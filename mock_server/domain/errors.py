"""TikTok's error vocabulary: one table of codes with their HTTP status and default message.

Everything that fails raises `ApiError` (v2 envelope endpoints) or `OAuthError` (flat OAuth
endpoints and the authorize redirect). Each carries the name of the rule that decided, so the
journal can say why.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    code: str
    http_status: int
    message: str


def _table(*rows: tuple[str, int, str]) -> dict[str, ErrorCode]:
    return {code: ErrorCode(code, status, message) for code, status, message in rows}


# ref 4.2 (generic codes), 6-9, 11, 12 (posting codes). Messages are the recorded wording where
# one is known (access_token_invalid, scope_not_authorized, unaudited..., url_ownership...), the
# docs' description otherwise (see docs/fidelity.md).
API_ERRORS: dict[str, ErrorCode] = _table(
    ("ok", 200, ""),
    ("access_token_invalid", 401, "The access token is invalid or not found in the request."),
    ("internal_error", 500, "Something went wrong. Please try again later."),
    ("invalid_file_upload", 400, "The file cannot be uploaded: it does not meet the API specs."),
    ("invalid_params", 400, "The request parameters are invalid."),
    ("invalid_param", 400, "The request parameters are invalid."),
    ("rate_limit_exceeded", 429, "The API rate limit was exceeded. Please try again later."),
    (
        "scope_not_authorized",
        401,
        "The user did not authorize the scope required for completing this request.",
    ),
    (
        "scope_permission_missed",
        400,
        "Access token is invalid, some fields need additional scopes.",
    ),
    (
        "spam_risk_too_many_posts",
        403,
        "The daily post cap from API is reached for the current user.",
    ),
    ("spam_risk_user_banned_from_posting", 403, "The user is banned from making new posts."),
    (
        "reached_active_user_cap",
        403,
        "The daily quota for active publishing users from your client is reached.",
    ),
    (
        "unaudited_client_can_only_post_to_private_accounts",
        403,
        "Please review our integration guidelines at "
        "https://developers.tiktok.com/doc/content-sharing-guidelines/",
    ),
    (
        "url_ownership_unverified",
        403,
        "Please review our URL ownership verification rules at "
        "https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide/#pull_from_url",
    ),
    (
        "privacy_level_option_mismatch",
        403,
        "The privacy_level is missing or not among the creator's privacy_level_options.",
    ),
    (
        "spam_risk_too_many_pending_share",
        403,
        "The user has too many pending shares awaiting action in the inbox.",
    ),
    (
        "app_version_check_failed",
        400,
        "The user's TikTok app version must not be less than 31.8.",
    ),
    ("invalid_publish_id", 400, "The publish_id does not exist."),
    (
        "token_not_authorized_for_specified_publish_id",
        400,
        "The access token is not authorized for the specified publish_id.",
    ),
    ("publish_not_cancellable", 400, "The publish task can no longer be cancelled."),
)


class ApiError(Exception):
    """A failure rendered in TikTok's `{data, error}` envelope."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        rule: str | None = None,
        http_status: int | None = None,
    ) -> None:
        spec = API_ERRORS[code]
        self.code = code
        self.message = spec.message if message is None else message
        self.rule = rule or code
        self.http_status = spec.http_status if http_status is None else http_status
        super().__init__(f"{code}: {self.message}")


# ref 2.6: the `error` values of the flat OAuth error shape.
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

# ref 2.6: the wording TikTok documents for these situations.
MISSING_PARAMETER = "The request is missing a required parameter."
MISSING_SECRET = "Client secret is missed in request."
BAD_CLIENT = "Client key or secret is incorrect."
MALFORMED_PARAMETERS = "The request parameters are malformed."
REDIRECT_URI_MISMATCH = "Redirect_uri is not matched with the uri when requesting code."
# ref 2.1 (3p): the text integrators see when PKCE fails at token exchange.
PKCE_MISMATCH = "Code verifier or code challenge is invalid."


class OAuthError(Exception):
    """A failure rendered as TikTok's flat OAuth error (`error`, `error_description`)."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        rule: str | None = None,
        error_type: str | None = None,
    ) -> None:
        if error not in OAUTH_ERRORS:
            raise ValueError(f"not an OAuth error value: {error}")
        self.error = error
        self.description = description
        self.rule = rule or error
        self.error_type = error_type
        super().__init__(f"{error}: {description}")
