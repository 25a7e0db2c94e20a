"""Login Kit rules: the authorize request, consent, code exchange, refresh, revoke (ref 2, 15.3).

Each function takes the `World`, the request's parameters and the instant `now`, and either
returns what TikTok would hand back or raises `OAuthError` / `ApiError` naming the rule.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from mock_server.domain import retention
from mock_server.domain.changes import peek, peek_item
from mock_server.domain.errors import (
    API_ERRORS,
    BAD_CLIENT,
    MISSING_PARAMETER,
    MISSING_SECRET,
    PKCE_MISMATCH,
    REDIRECT_URI_MISMATCH,
    ApiError,
    OAuthError,
)
from mock_server.domain.fields import with_scopes
from mock_server.domain.ids import open_id
from mock_server.domain.lifecycle import auth_removed
from mock_server.domain.models import (
    CLIENT_TOKEN_SECONDS,
    AccessToken,
    App,
    AuthCode,
    ClientToken,
    Creator,
    Grant,
    RefreshToken,
)
from mock_server.domain.redirects import find_registered
from mock_server.domain.scopes import REQUIRED_SCOPES, SCOPES, parse_scope_list, shared_scopes
from mock_server.domain.world import World

# Recorded error_description strings (docs/fidelity.md).
REFRESH_INVALID = "Refresh token is invalid or expired."
REVOKE_INVALID = "Access token is invalid or expired."

# ref 2.1: the PKCE verifier alphabet and length.
CODE_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


class AuthorizeError(OAuthError):
    """An authorize failure; `redirectable` says whether it goes back to the redirect_uri.

    Problems with the request itself stay on TikTok's page (what TikTok's page does); only the
    person's decision (deny, non-target user, nothing granted) is redirected as `?error=...`.
    """

    def __init__(
        self,
        error: str,
        description: str,
        *,
        redirectable: bool,
        rule: str | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(error, description, rule=rule, error_type=error_type)
        self.redirectable = redirectable


@dataclass(frozen=True)
class AuthorizeRequest:
    app: App
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    code_challenge: str | None


def _page_error(error: str, error_type: str, description: str) -> AuthorizeError:
    return AuthorizeError(
        error,
        description,
        redirectable=False,
        rule=f"authorize_{error_type}",
        error_type=error_type,
    )


def check_authorize(world: World, params: Mapping[str, str]) -> AuthorizeRequest:
    """Validate `GET /v2/auth/authorize/` parameters (ref 2.1, 2.3).

    Every failure here stays on TikTok's own page with `error` and `error_type` (what TikTok's
    authorize page shows); only the person's decision is redirected back to the app.
    """
    app = world.apps.get(params.get("client_key", ""))
    if app is None:
        raise _page_error("unauthorized_client", "client_key", "client_key is missing or unknown.")
    redirect_uri = params.get("redirect_uri", "")
    registered = find_registered(app.redirect_uris, redirect_uri) if redirect_uri else None
    if registered is None:
        raise _page_error(
            "invalid_request",
            "redirect_uri",
            "redirect_uri is missing or does not match a redirect URI registered for the app.",
        )
    if params.get("response_type") != "code":
        raise _page_error(
            "unsupported_response_type", "response_type", "response_type must be code."
        )
    scopes = parse_scope_list(params.get("scope", ""))
    unknown = [s for s in scopes if s not in SCOPES]
    unapproved = [s for s in scopes if s in SCOPES and s not in app.scopes]
    if not scopes or unknown or unapproved:
        detail = (
            "scope is required."
            if not scopes
            else f"Unknown scope: {','.join(unknown)}."
            if unknown
            else f"The app is not approved for scope: {','.join(unapproved)}."
        )
        raise _page_error("invalid_scope", "scope", detail)
    challenge = params.get("code_challenge") or None
    if challenge is not None and params.get("code_challenge_method") not in (None, "", "S256"):
        raise _page_error(
            "invalid_request", "code_challenge_method", "code_challenge_method must be S256."
        )
    if challenge is None and app.requires_pkce:
        raise _page_error(
            "invalid_request",
            "code_challenge",
            f"code_challenge is required{' for desktop apps' if app.platform == 'desktop' else ''}"
            ": send code_challenge (the hex-encoded SHA-256 of a code_verifier) and "
            "code_challenge_method=S256.",
        )
    if redirect_uri == registered:  # the app's own string: codes keep a reference, not a copy
        redirect_uri = registered
    return AuthorizeRequest(app, redirect_uri, tuple(scopes), params.get("state"), challenge)


def approve(
    world: World,
    request: AuthorizeRequest,
    creator: Creator,
    granted: list[str] | None,
    now: float,
) -> AuthCode:
    """The person approved as `creator`, granting `granted` (None: all requested scopes)."""
    app = request.app
    if app.stage == "sandbox" and creator.username not in app.target_users:
        # ref 2.2, 15.3 (3p): only target users may authorize a sandbox app.
        raise AuthorizeError(
            "access_denied",
            "This account is not a target user of the sandbox app.",
            redirectable=True,
            rule="sandbox_target_user",
            error_type="non_sandbox_target",
        )
    wanted = set(request.scopes if granted is None else granted) | (
        REQUIRED_SCOPES & set(request.scopes)
    )
    scopes = shared_scopes(tuple(s for s in request.scopes if s in wanted))
    if not scopes:
        raise AuthorizeError(
            "access_denied",
            "The user granted none of the requested scopes.",
            redirectable=True,
            rule="consent_no_scope",
        )
    code = AuthCode(
        code=world.ids.auth_code(),
        client_key=app.client_key,
        creator_uid=creator.uid,
        scopes=scopes,
        redirect_uri=request.redirect_uri,
        code_challenge=request.code_challenge,
        expires_at=now + app.auth_code_ttl_seconds,
    )
    retention.add_code(world, code)
    return code


HEADLESS_WILDCARD_PORT = 8765


def authorize_headless(
    world: World,
    app: App,
    creator: Creator,
    scopes: list[str],
    now: float,
    *,
    redirect_uri: str | None = None,
    code_challenge: str | None = None,
    state: str | None = None,
) -> tuple[AuthorizeRequest, AuthCode]:
    """The code the consent page would issue when `creator` approves every requested scope,
    refused exactly as the page would refuse it."""
    uri = redirect_uri or (app.redirect_uris[0] if app.redirect_uris else "")
    if not redirect_uri and ":*/" in uri:
        # A desktop URI with the wildcard port: stand in a concrete port, as a real app would.
        uri = uri.replace(":*/", f":{HEADLESS_WILDCARD_PORT}/", 1)
    params = {
        "client_key": app.client_key,
        "scope": ",".join(scopes),
        "redirect_uri": uri,
        "response_type": "code",
    }
    if code_challenge:
        params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
    if state is not None:
        params["state"] = state
    checked = check_authorize(world, params)
    return checked, approve(world, checked, creator, None, now)


# The verifier of the codes the sandbox issues and exchanges itself (`tokens_headless`): it
# never leaves the sandbox, so a constant is as good as a random one.
HEADLESS_VERIFIER = "tiktok-sandbox-issued-this-code-and-exchanged-it-itself"


def tokens_headless(
    world: World, app: App, creator: Creator, scopes: list[str], now: float, **where: str | None
) -> tuple[AuthorizeRequest, TokenGrant]:
    """A code issued as the consent page would, exchanged at once: what an app gets from a
    whole authorization. PKCE is done on the app's behalf when it needs it; `where` is the
    `redirect_uri` and `state` of `authorize_headless`."""
    challenge = None
    if app.requires_pkce:
        form = "base64url" if app.pkce_challenge == "base64url" else "hex"
        challenge = challenge_of(HEADLESS_VERIFIER, form)
    checked, code = authorize_headless(
        world, app, creator, scopes, now, code_challenge=challenge, **where
    )
    form_fields = {
        "client_key": app.client_key,
        "client_secret": app.client_secret,
        "code": code.code,
        "redirect_uri": checked.redirect_uri,
        "code_verifier": HEADLESS_VERIFIER if challenge else "",
    }
    return checked, exchange_code(world, form_fields, now)


def deny() -> AuthorizeError:
    return AuthorizeError(
        "access_denied",
        "The user denied the authorization request.",
        redirectable=True,
        rule="consent_denied",
    )


@dataclass(frozen=True)
class TokenGrant:
    """What a successful user-token call hands back (ref 2.4)."""

    access: AccessToken
    refresh: RefreshToken
    grant: Grant
    open_id: str

    def body(self, now: float) -> dict[str, object]:
        return {
            "access_token": self.access.token,
            "expires_in": remaining(self.access.expires_at, now),
            "open_id": self.open_id,
            "refresh_expires_in": remaining(self.refresh.expires_at, now),
            "refresh_token": self.refresh.token,
            "scope": ",".join(self.grant.scopes),
            "token_type": "Bearer",
        }


def remaining(expires_at: float, now: float) -> int:
    """Remaining lifetime in whole seconds, never negative (ref 2.4, doc-2026)."""
    return max(0, int(expires_at - now))


def _required(form: Mapping[str, str], *names: str) -> list[str]:
    missing = [n for n in names if not form.get(n)]
    if missing:
        raise OAuthError(
            "invalid_request",
            f"{MISSING_PARAMETER} ({', '.join(missing)})",
            rule="token_missing_parameter",
        )
    return [form[n] for n in names]


def authenticate_client(world: World, form: Mapping[str, str]) -> App:
    (client_key,) = _required(form, "client_key")
    if not form.get("client_secret"):
        raise OAuthError("invalid_request", MISSING_SECRET, rule="token_missing_parameter")
    app = world.apps.get(client_key)
    if app is None or not _same(app.client_secret, form["client_secret"]):
        raise OAuthError("invalid_client", BAD_CLIENT, rule="client_authentication")
    return app


def challenge_of(verifier: str, form: str) -> str:
    """ref 2.1: TikTok's `code_challenge` is the hex-encoded SHA-256 of `code_verifier`; RFC
    7636 (what OAuth libraries send) encodes the same digest as base64url without padding."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    if form == "hex":
        return digest.hex()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def pkce_problem(challenge: str, verifier: str, accepted: str) -> tuple[str, str] | None:
    """Why `verifier` does not answer `challenge` for an app taking `accepted` challenges
    ("hex", "base64url" or "either"), as (error_description, rule); None when it does.

    A challenge in the form the app does not take fails like any mismatch (3p: a base64url
    challenge fails at token exchange with "Code verifier or code challenge is invalid."),
    with a sentence saying which form TikTok expects.
    """
    if not CODE_VERIFIER.match(verifier):
        return PKCE_MISMATCH, "pkce_verifier"
    as_hex = _same(challenge.lower(), challenge_of(verifier, "hex"))
    as_b64 = _same(challenge, challenge_of(verifier, "base64url"))
    if (as_hex and accepted != "base64url") or (as_b64 and accepted != "hex"):
        return None
    if as_b64:
        return (
            f"{PKCE_MISMATCH} (code_challenge is the RFC 7636 base64url form; TikTok expects "
            "the hex-encoded SHA-256 of code_verifier.)",
            "pkce_challenge_base64url",
        )
    if as_hex:
        return (
            f"{PKCE_MISMATCH} (code_challenge is the hex form; this app takes the RFC 7636 "
            "base64url form of SHA-256(code_verifier).)",
            "pkce_challenge_hex",
        )
    return PKCE_MISMATCH, "pkce_verifier"


def _same(a: str, b: str) -> bool:
    """Constant-time equality for any text (hmac refuses non-ASCII str; forms may carry it)."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _issue_pair(world: World, app: App, grant: Grant, now: float) -> TokenGrant:
    access = AccessToken(
        world.ids.access_token(), grant.grant_id, now + app.lifetimes.access_seconds
    )
    refresh = RefreshToken(world.ids.refresh_token(), grant.grant_id, grant.refresh_expires_at)
    retention.add_access_token(world, grant, access)
    retention.add_refresh_token(world, grant, refresh)
    return TokenGrant(access, refresh, grant, open_id(app.client_key, grant.creator_uid))


def exchange_code(world: World, form: Mapping[str, str], now: float) -> TokenGrant:
    """`grant_type=authorization_code` (ref 2.4): single-use, short-lived, redirect must match."""
    app = authenticate_client(world, form)
    code_value, redirect_uri = _required(form, "code", "redirect_uri")
    code = world.codes.get(code_value)
    if code is None or code.client_key != app.client_key:
        raise OAuthError(
            "invalid_grant", "Authorization code is invalid.", rule="auth_code_unknown"
        )
    if code.used:
        raise OAuthError(
            "invalid_grant", "Authorization code has been used.", rule="auth_code_single_use"
        )
    if code.expires_at <= now:
        raise OAuthError(
            "invalid_grant", "Authorization code is expired.", rule="auth_code_expired"
        )
    if redirect_uri != code.redirect_uri:
        # Recorded as invalid_request, not RFC 6749's invalid_grant (docs/fidelity.md).
        raise OAuthError("invalid_request", REDIRECT_URI_MISMATCH, rule="token_redirect_uri")
    if code.code_challenge is not None:
        verifier = form.get("code_verifier", "")
        problem = pkce_problem(code.code_challenge, verifier, app.pkce_challenge)
        if problem is not None:
            raise OAuthError("invalid_request", problem[0], rule=problem[1])
    code.used = True
    grant = Grant(
        grant_id=world.ids.token_hex(16),
        client_key=app.client_key,
        creator_uid=code.creator_uid,
        scopes=code.scopes,
        created_at=now,
        refresh_expires_at=now + app.lifetimes.refresh_seconds,
    )
    retention.add_grant(world, grant, now)
    return _issue_pair(world, app, grant, now)


def refresh(world: World, form: Mapping[str, str], now: float) -> TokenGrant:
    """`grant_type=refresh_token` (ref 2.4): rotates, and the old refresh token stops working.

    The new refresh token keeps the grant's original expiry, so `refresh_expires_in` counts
    down across refreshes ("remaining lifetime", doc-2026).
    """
    app = authenticate_client(world, form)
    (value,) = _required(form, "refresh_token")
    token = world.refresh_tokens.get(value)
    grant = world.grants.get(token.grant_id) if token else None
    if token is None or grant is None or grant.client_key != app.client_key:
        raise OAuthError("invalid_grant", REFRESH_INVALID, rule="refresh_unknown")
    if token.superseded:
        raise OAuthError("invalid_grant", REFRESH_INVALID, rule="refresh_rotated")
    if grant.revoked:
        raise OAuthError("invalid_grant", REFRESH_INVALID, rule="refresh_revoked")
    if token.expires_at <= now:
        raise OAuthError("invalid_grant", REFRESH_INVALID, rule="refresh_expired")
    access = AccessToken(
        world.ids.access_token(), grant.grant_id, now + app.lifetimes.access_seconds
    )
    retention.add_access_token(world, grant, access)
    if app.rotate_refresh_tokens:
        token.superseded = True
        token = RefreshToken(world.ids.refresh_token(), grant.grant_id, token.expires_at)
        retention.add_refresh_token(world, grant, token)
    return TokenGrant(access, token, grant, open_id(app.client_key, grant.creator_uid))


def client_credentials(world: World, form: Mapping[str, str], now: float) -> dict[str, object]:
    """`grant_type=client_credentials` (ref 2.4): only access_token, expires_in, token_type."""
    app = authenticate_client(world, form)
    token = ClientToken(world.ids.client_token(), app.client_key, now + CLIENT_TOKEN_SECONDS)
    retention.add_client_token(world, token)
    return {
        "access_token": token.token,
        "expires_in": remaining(token.expires_at, now),
        "token_type": "Bearer",
    }


GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


def token(world: World, form: Mapping[str, str], now: float) -> dict[str, object]:
    """`POST /v2/oauth/token/` dispatched on grant_type."""
    grant_type = form.get("grant_type", "")
    if not grant_type:
        raise OAuthError(
            "invalid_request", f"{MISSING_PARAMETER} (grant_type)", rule="token_missing_parameter"
        )
    if grant_type == "authorization_code":
        return exchange_code(world, form, now).body(now)
    if grant_type == "refresh_token":
        return refresh(world, form, now).body(now)
    if grant_type == "client_credentials":
        return client_credentials(world, form, now)
    raise OAuthError(
        "unsupported_grant_type",
        f"grant_type must be one of {', '.join(GRANT_TYPES)}.",
        rule="token_grant_type",
    )


def revoke(world: World, form: Mapping[str, str], now: float) -> Grant:
    """`POST /v2/oauth/revoke/` (ref 2.5): the app loses the user's authorization entirely.

    An unknown, expired or already revoked token is `invalid_grant`, as recorded (not RFC
    7009's silent success).
    """
    app = authenticate_client(world, form)
    (value,) = _required(form, "token")
    found = world.access_tokens.get(value) or world.refresh_tokens.get(value)
    grant = world.grants.get(found.grant_id) if found else None
    if found is None or grant is None or grant.revoked or found.expires_at <= now:
        raise OAuthError("invalid_grant", REVOKE_INVALID, rule="revoke_unknown_token")
    if grant.client_key != app.client_key:
        raise OAuthError("invalid_grant", REVOKE_INVALID, rule="revoke_other_client")
    revoke_grants_of(world, app.client_key, grant.creator_uid, now)
    # ref 2.5, 14.3: reason 5, "developer revoked authorization" (that revoke fires it: guess).
    auth_removed(world, app.client_key, grant.creator_uid, reason=5, at=now)
    return grant


def revoke_grants_of(world: World, client_key: str, creator_uid: str, now: float) -> None:
    """Every grant the creator gave this app ends now (what "Manage app permissions" does)."""
    for grant_id in world.grants_by_pair.get((client_key, creator_uid), []):
        grant = world.grants[grant_id]
        if not grant.revoked:
            grant.revoked_at = now


@dataclass(slots=True)
class Session:
    """A resolved user access token: who is calling, for which app, with which scopes.

    Nothing changes a session once made; it is not a frozen dataclass only because every
    request makes one, and a frozen dataclass's `__init__` costs three times as much."""

    token: str
    app: App
    creator: Creator
    grant: Grant

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.grant.scopes)


INVALID_TOKEN = "access_token_invalid"


def resolve_access_token(world: World, value: str | None, now: float) -> Session:
    """Resolve a bearer token; anything but a live user token is `access_token_invalid` (401).

    Only reads: the records are looked up without noting them (domain.changes). A caller that
    goes on to change any of them notes them with `World.note_session`."""
    if not value:
        raise ApiError(INVALID_TOKEN, rule="token_missing")
    token = peek(world.access_tokens, value)
    if token is None:
        rule = "client_token_on_user_endpoint" if value in world.client_tokens else "token_unknown"
        raise ApiError(INVALID_TOKEN, rule=rule)
    grant = peek_item(world.grants, token.grant_id)
    if grant.revoked:
        raise ApiError(INVALID_TOKEN, rule="token_revoked")
    if token.expires_at <= now:
        raise ApiError(INVALID_TOKEN, rule="token_expired")
    app = peek(world.apps, grant.client_key)
    creator = world.creator_by_uid(grant.creator_uid, noted=False)
    if app is None or creator is None:
        raise ApiError(INVALID_TOKEN, rule="token_orphaned")
    # The sandbox's own copy of the token, not the request's: the rate limiter keeps it (in
    # its key) for a minute, for every token used, thousands.
    return Session(token.token, app, creator, grant)


def token_holder(world: World, value: str | None) -> tuple[App, Creator] | None:
    """The app and creator an access token was issued to, while the sandbox still knows the
    token (also once expired or revoked), or None."""
    token = world.access_tokens.get(value or "")
    grant = world.grants.get(token.grant_id) if token else None
    app = world.apps.get(grant.client_key) if grant else None
    creator = world.creator_by_uid(grant.creator_uid) if grant else None
    return (app, creator) if app is not None and creator is not None else None


def require_scope(session: Session, needed: frozenset[str], rule: str) -> None:
    """ref 4.2: the token lacks every scope that would allow the endpoint (the message names
    them)."""
    if needed.isdisjoint(session.grant.scopes):
        message = with_scopes(API_ERRORS["scope_not_authorized"].message, sorted(needed))
        raise ApiError("scope_not_authorized", message, rule=rule)
