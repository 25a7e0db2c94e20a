"""TikTok's entities as the sandbox keeps them: apps, creators, grants, codes and tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from mock_server.domain.caps import ActiveCreatorWindow

if TYPE_CHECKING:
    from mock_server.domain.properties import UrlProperty

Stage = Literal["sandbox", "unaudited", "audited"]
Platform = Literal["web", "desktop"]
Account = Literal["public", "private"]
TokenProfile = Literal["current", "legacy"]
PkceChallenge = Literal["hex", "base64url", "either"]

STAGES: tuple[str, ...] = ("sandbox", "unaudited", "audited")
PLATFORMS: tuple[str, ...] = ("web", "desktop")
ACCOUNTS: tuple[str, ...] = ("public", "private")
TOKEN_PROFILES: tuple[str, ...] = ("current", "legacy")
# ref 2.1: how `code_challenge` is derived from `code_verifier`: TikTok's hex SHA-256 (the
# desktop doc), RFC 7636's base64url form, or either (a lenient scenario).
PKCE_CHALLENGES: tuple[str, ...] = ("hex", "base64url", "either")


@dataclass(frozen=True)
class Lifetimes:
    access_seconds: int
    refresh_seconds: int


# ref 2.4: the two documented lifetime profiles. "current" is the 2026 docs (2 h / 180 d),
# "legacy" the older pages (24 h / 365 d). Client tokens are 2 h in both.
LIFETIMES: dict[str, Lifetimes] = {
    "current": Lifetimes(access_seconds=2 * 3600, refresh_seconds=180 * 86400),
    "legacy": Lifetimes(access_seconds=24 * 3600, refresh_seconds=365 * 86400),
}
CLIENT_TOKEN_SECONDS = 2 * 3600


@dataclass
class App:
    client_key: str
    client_secret: str
    name: str
    stage: Stage
    scopes: list[str]
    redirect_uris: list[str]
    platform: Platform = "web"
    developer: str = "default"
    description: str = ""
    direct_post_enabled: bool = True
    token_profile: TokenProfile = "current"
    rotate_refresh_tokens: bool = True
    # None: the platform decides (ref 2.1: desktop apps must send PKCE; web apps need not).
    pkce_required: bool | None = None
    pkce_challenge: PkceChallenge = "hex"
    loopback_redirects: bool = True
    auth_code_ttl_seconds: int = 300
    target_users: list[str] = field(default_factory=list)
    verified_domains: list[str] = field(default_factory=list)
    verified_url_prefixes: list[str] = field(default_factory=list)
    allow_loopback_http_media: bool = False
    webhook_url: str | None = None
    active_creator_cap: int | None = None
    active_creators: ActiveCreatorWindow = field(default_factory=ActiveCreatorWindow)
    # URL properties added through the control API, verified or not (domain.properties).
    url_properties: list[UrlProperty] = field(default_factory=list)

    @property
    def lifetimes(self) -> Lifetimes:
        return LIFETIMES[self.token_profile]

    @property
    def requires_pkce(self) -> bool:
        """ref 2.1: `code_challenge` is required for desktop apps unless the app says
        otherwise (`pkce_required`)."""
        return self.platform == "desktop" if self.pkce_required is None else self.pkce_required


@dataclass
class Creator:
    uid: str
    username: str
    nickname: str
    account: Account = "public"
    bio_description: str = ""
    is_verified: bool = False
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 600
    banned: bool = False
    app_version: str = "35.1.0"
    daily_post_cap: int = 15
    follower_count: int = 0
    following_count: int = 0
    likes_count: int = 0
    video_count: int = 0
    avatar_color: str = "#fe2c55"
    post_times: list[float] = field(default_factory=list)  # sorted (domain.posting.record_post)
    # Inbox drafts declared by a scenario or the control API (real ones are publishes).
    pending_share_times: list[float] = field(default_factory=list)
    # When the creator's latest post was made, in ms (posts get distinct instants).
    last_post_ms: int = 0


@dataclass(slots=True)
class AuthCode:
    code: str
    client_key: str
    creator_uid: str
    scopes: tuple[str, ...]
    redirect_uri: str
    code_challenge: str | None
    expires_at: float
    used: bool = False


@dataclass(slots=True)
class Grant:
    """One user's authorization of one app: what "Manage app permissions" lists (ref 2.5)."""

    grant_id: str
    client_key: str
    creator_uid: str
    scopes: tuple[str, ...]
    created_at: float
    refresh_expires_at: float
    revoked_at: float | None = None
    # The grant's tokens in the order they were issued (the live refresh token is the last).
    access_tokens: list[str] = field(default_factory=list)
    refresh_tokens: list[str] = field(default_factory=list)

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def ended_at(self) -> float:
        """When the grant stopped (or stops) being usable: revoked, or its refresh expiry."""
        return self.refresh_expires_at if self.revoked_at is None else self.revoked_at


@dataclass(slots=True)
class AccessToken:
    token: str
    grant_id: str
    expires_at: float


@dataclass(slots=True)
class RefreshToken:
    token: str
    grant_id: str
    expires_at: float
    superseded: bool = False


@dataclass(slots=True)
class ClientToken:
    token: str
    client_key: str
    expires_at: float
