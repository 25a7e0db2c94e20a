"""Login Kit rules in the domain, on a virtual clock (ref 2, 3, 15.3)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import pytest

from mock_server.domain import oauth
from mock_server.domain.errors import ApiError, OAuthError
from mock_server.domain.oauth import AuthorizeError
from tests.mock_server.domain.conftest import Env
from tests.mock_server.sandboxes import (
    NARROW,
    SANDBOX,
    WEB,
    WEB_LOOPBACK_REDIRECT,
    WEB_REDIRECT,
)

DAY = 86400

# RFC 7636 appendix B: a verifier and its base64url S256 challenge.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def hex_challenge(verifier: str) -> str:
    """TikTok's desktop doc form: the hex SHA-256 of the verifier."""
    return hashlib.sha256(verifier.encode()).hexdigest()


def b64_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def oauth_error(call: Callable[..., object], *args: object, **kwargs: object) -> OAuthError:
    with pytest.raises(OAuthError) as info:
        call(*args, **kwargs)
    return info.value


# -- authorization codes ------------------------------------------------------------------------


def test_code_shape_and_recorded_request(env: Env) -> None:
    code = env.authorize(scope="user.info.basic,video.upload")
    assert code.code.endswith(".va") and "*" in code.code and "!" in code.code
    assert code.scopes == ("user.info.basic", "video.upload")
    assert code.redirect_uri == WEB_REDIRECT
    assert code.expires_at == env.now() + 300


def test_codes_share_their_scopes_and_redirect_uri_rather_than_copies(env: Env) -> None:
    # A sandbox keeps thousands of codes and grants: equal scopes and the app's registered
    # redirect URI are held once, not parsed anew into each record.
    scope = "user.info.basic,video.upload"
    # Strings built per request, as a query's are.
    first = env.authorize(scope="".join(scope), redirect_uri="".join(WEB_REDIRECT))
    second = env.authorize(scope="".join(scope))
    assert first.scopes == second.scopes == ("user.info.basic", "video.upload")
    assert first.scopes is second.scopes
    assert all(a is b for a, b in zip(first.scopes, second.scopes, strict=True))
    registered = env.app(WEB).redirect_uris[0]
    assert first.redirect_uri == registered and first.redirect_uri is registered
    grant = env.exchange(first).grant
    assert grant.scopes is first.scopes


def test_code_is_single_use(env: Env) -> None:
    code = env.authorize()
    env.exchange(code)
    error = oauth_error(env.exchange, code)
    assert (error.error, error.rule) == ("invalid_grant", "auth_code_single_use")


@pytest.mark.parametrize(("wait", "expired"), [(0, False), (29, False), (30, True), (31, True)])
def test_code_expires_after_its_ttl(make_env, wait: int, expired: bool) -> None:
    env = make_env(web={"auth_code_ttl_seconds": 30})
    code = env.authorize()
    env.clock.advance(wait)
    if expired:
        error = oauth_error(env.exchange, code)
        assert (error.error, error.rule) == ("invalid_grant", "auth_code_expired")
    else:
        assert env.exchange(code).access.token.startswith("act.")


def test_unknown_code_and_code_of_another_client_are_invalid_grant(env: Env) -> None:
    code = env.authorize(WEB)
    form = env.form(NARROW, code=code.code, redirect_uri=WEB_REDIRECT)
    error = oauth_error(oauth.exchange_code, env.world, form, env.now())
    assert (error.error, error.rule) == ("invalid_grant", "auth_code_unknown")
    form = env.form(WEB, code="nope", redirect_uri=WEB_REDIRECT)
    assert oauth_error(oauth.exchange_code, env.world, form, env.now()).error == "invalid_grant"
    # The rightful client can still use it: a foreign attempt does not burn the code.
    assert env.exchange(code).grant.client_key == WEB


def test_redirect_uri_must_equal_the_one_used_for_the_code(env: Env) -> None:
    code = env.authorize(redirect_uri=WEB_REDIRECT)
    # Registered for the app, but not the one this code was issued for.
    error = oauth_error(env.exchange, code, redirect_uri=WEB_LOOPBACK_REDIRECT)
    assert error.error == "invalid_request"
    assert error.description == "Redirect_uri is not matched with the uri when requesting code."
    error = oauth_error(env.exchange, code, redirect_uri=WEB_REDIRECT + "/")
    assert error.error == "invalid_request"


@pytest.mark.parametrize("missing", ["code", "redirect_uri", "client_key"])
def test_code_exchange_requires_its_parameters(env: Env, missing: str) -> None:
    code = env.authorize()
    error = oauth_error(env.exchange, code, **{missing: ""})
    assert error.error == "invalid_request"
    assert "missing a required parameter" in error.description


def test_client_authentication(env: Env) -> None:
    code = env.authorize()
    error = oauth_error(env.exchange, code, client_secret="wrong-secret")
    assert (error.error, error.description) == (
        "invalid_client",
        "Client key or secret is incorrect.",
    )
    error = oauth_error(env.exchange, code, client_secret="")
    assert (error.error, error.description) == (
        "invalid_request",
        "Client secret is missed in request.",
    )
    # Any text may arrive in a form: a non-ASCII secret is a wrong secret, not a crash.
    assert oauth_error(env.exchange, code, client_secret="sécret").error == "invalid_client"


# -- PKCE ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "challenge",
    [hex_challenge(RFC_VERIFIER), hex_challenge(RFC_VERIFIER).upper()],
    ids=["tiktok-hex", "tiktok-hex-upper"],
)
def test_pkce_takes_tiktoks_hex_challenge(env: Env, challenge: str) -> None:
    code = env.authorize(code_challenge=challenge, code_challenge_method="S256")
    assert env.exchange(code, code_verifier=RFC_VERIFIER).access.token.startswith("act.")


def test_pkce_refuses_an_rfc7636_challenge_at_the_exchange_saying_what_tiktok_expects(
    env: Env,
) -> None:
    """ref 2.1 (3p): the authorize page takes it; the exchange fails."""
    code = env.authorize(code_challenge=RFC_CHALLENGE, code_challenge_method="S256")
    error = oauth_error(env.exchange, code, code_verifier=RFC_VERIFIER)
    assert (error.error, error.rule) == ("invalid_request", "pkce_challenge_base64url")
    assert error.description.startswith("Code verifier or code challenge is invalid. (")
    assert "hex-encoded SHA-256 of code_verifier" in error.description
    # The failed exchange does not use up the code.
    assert not env.world.codes[code.code].used


@pytest.mark.parametrize(
    ("accepted", "challenge", "ok"),
    [
        ("either", RFC_CHALLENGE, True),
        ("either", hex_challenge(RFC_VERIFIER), True),
        ("base64url", RFC_CHALLENGE, True),
        ("base64url", hex_challenge(RFC_VERIFIER), False),
        ("hex", RFC_CHALLENGE, False),
    ],
)
def test_the_challenge_forms_an_app_takes(
    make_env: Callable[..., Env], accepted: str, challenge: str, ok: bool
) -> None:
    env = make_env(web={"pkce_challenge": accepted})
    code = env.authorize(code_challenge=challenge)
    if ok:
        assert env.exchange(code, code_verifier=RFC_VERIFIER).access.token.startswith("act.")
    else:
        error = oauth_error(env.exchange, code, code_verifier=RFC_VERIFIER)
        assert error.rule in ("pkce_challenge_base64url", "pkce_challenge_hex")


def test_rfc_example_challenge_is_what_we_compute() -> None:
    assert b64_challenge(RFC_VERIFIER) == RFC_CHALLENGE


@pytest.mark.parametrize("make_challenge", [hex_challenge, b64_challenge])
def test_pkce_refuses_a_wrong_or_missing_verifier(make_env, make_challenge) -> None:
    env = make_env(web={"pkce_challenge": "either"})
    code = env.authorize(code_challenge=make_challenge(RFC_VERIFIER))
    for verifier in ("A" * 43, RFC_VERIFIER[:-1] + "l", ""):
        error = oauth_error(env.exchange, code, code_verifier=verifier)
        assert error.error == "invalid_request"
        assert error.description == "Code verifier or code challenge is invalid."
    assert env.exchange(code, code_verifier=RFC_VERIFIER).access.token.startswith("act.")


@pytest.mark.parametrize(
    "verifier",
    ["a" * 42, "a" * 129, "a" * 42 + "+", "a" * 42 + " ", "a" * 42 + "/", "a" * 42 + "é"],
    ids=["42-chars", "129-chars", "plus", "space", "slash", "non-ascii"],
)
def test_pkce_verifier_outside_the_alphabet_or_length_is_refused(env: Env, verifier: str) -> None:
    # The challenge is computed from this very verifier: only the verifier rule can refuse it.
    code = env.authorize(code_challenge=hex_challenge(verifier))
    error = oauth_error(env.exchange, code, code_verifier=verifier)
    assert error.description == "Code verifier or code challenge is invalid."


@pytest.mark.parametrize("verifier", ["a" * 43, "Az09-._~" * 16])
def test_pkce_verifier_bounds_are_inclusive(env: Env, verifier: str) -> None:
    assert len(verifier) in (43, 128)
    code = env.authorize(code_challenge=hex_challenge(verifier))
    assert env.exchange(code, code_verifier=verifier).access.token.startswith("act.")


def test_pkce_non_ascii_challenge_never_matches(env: Env) -> None:
    code = env.authorize(code_challenge="défi-" + hex_challenge(RFC_VERIFIER))
    error = oauth_error(env.exchange, code, code_verifier=RFC_VERIFIER)
    assert error.description == "Code verifier or code challenge is invalid."


def test_pkce_required_app_refuses_an_authorize_without_challenge(make_env) -> None:
    env = make_env(web={"pkce_required": True})
    with pytest.raises(AuthorizeError) as info:
        env.authorize(code_challenge="")
    assert (info.value.error, info.value.error_type) == ("invalid_request", "code_challenge")
    assert not info.value.redirectable
    env.authorize(code_challenge=hex_challenge(RFC_VERIFIER))


def test_desktop_apps_need_pkce_unless_they_say_otherwise(make_env) -> None:
    """ref 2.1: the desktop doc marks code_challenge required."""
    env = make_env()
    app = env.app(SANDBOX)
    assert (app.pkce_required, app.requires_pkce) == (None, True)
    redirect = "http://127.0.0.1:5000/callback/"
    with pytest.raises(AuthorizeError) as info:
        env.authorize(SANDBOX, redirect_uri=redirect, code_challenge="")
    assert (info.value.error, info.value.error_type) == ("invalid_request", "code_challenge")
    assert "desktop" in info.value.description and "hex" in info.value.description
    lenient = make_env(sandbox={"pkce_required": False})
    assert lenient.tokens(SANDBOX, redirect_uri=redirect, code_challenge="").access.token
    assert not env.app(WEB).requires_pkce


def test_only_s256_challenge_method(env: Env) -> None:
    with pytest.raises(AuthorizeError) as info:
        env.authorize(code_challenge=RFC_VERIFIER, code_challenge_method="plain")
    assert info.value.error_type == "code_challenge_method"


# -- token lifetimes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "access", "refresh"),
    [("current", 7200, 180 * DAY), ("legacy", 86400, 365 * DAY)],
)
def test_token_profiles(make_env, profile: str, access: int, refresh: int) -> None:
    env = make_env(web={"token_profile": profile})
    grant = env.tokens()
    body = grant.body(env.now())
    assert (body["expires_in"], body["refresh_expires_in"]) == (access, refresh)
    assert body["token_type"] == "Bearer"
    # expires_in is the remaining lifetime, never negative.
    assert grant.body(env.now() + 100)["expires_in"] == access - 100
    assert grant.body(env.now() + access + 5)["expires_in"] == 0


def test_access_token_expires(env: Env) -> None:
    grant = env.tokens()
    env.clock.advance(7199)
    assert (
        oauth.resolve_access_token(env.world, grant.access.token, env.now()).creator.username
        == "ana"
    )
    env.clock.advance(1)
    with pytest.raises(ApiError) as info:
        oauth.resolve_access_token(env.world, grant.access.token, env.now())
    assert (info.value.code, info.value.http_status) == ("access_token_invalid", 401)


@pytest.mark.parametrize("value", [None, "", "act.nope", "garbage"])
def test_missing_or_unknown_bearer_is_access_token_invalid(env: Env, value: str | None) -> None:
    with pytest.raises(ApiError) as info:
        oauth.resolve_access_token(env.world, value, env.now())
    assert info.value.code == "access_token_invalid"


# -- refresh ------------------------------------------------------------------------------------


def test_refresh_rotates_and_the_old_token_stops_working(env: Env) -> None:
    first = env.tokens()
    env.clock.advance(DAY)
    second = env.refresh(first.refresh.token)
    assert second.refresh.token.startswith("rft.")
    assert second.refresh.token != first.refresh.token
    assert second.access.token != first.access.token
    error = oauth_error(env.refresh, first.refresh.token)
    assert (error.error, error.rule) == ("invalid_grant", "refresh_rotated")
    third = env.refresh(second.refresh.token)
    assert third.grant.grant_id == first.grant.grant_id
    assert third.open_id == first.open_id


def test_refresh_keeps_the_grants_refresh_expiry(env: Env) -> None:
    first = env.tokens()
    env.clock.advance(10 * DAY)
    body = env.refresh(first.refresh.token).body(env.now())
    assert body["refresh_expires_in"] == 170 * DAY
    assert body["expires_in"] == 7200
    assert body["scope"] == first.body(env.now())["scope"]


def test_refresh_token_expires(env: Env) -> None:
    grant = env.tokens()
    env.clock.advance(180 * DAY)
    error = oauth_error(env.refresh, grant.refresh.token)
    assert (error.error, error.rule) == ("invalid_grant", "refresh_expired")


def test_without_rotation_the_same_refresh_token_keeps_working(make_env) -> None:
    env = make_env(web={"rotate_refresh_tokens": False})
    first = env.tokens()
    env.clock.advance(DAY)
    second = env.refresh(first.refresh.token)
    third = env.refresh(first.refresh.token)
    assert first.refresh.token == second.refresh.token == third.refresh.token
    assert third.body(env.now())["refresh_expires_in"] == 179 * DAY
    assert len({first.access.token, second.access.token, third.access.token}) == 3


def test_refresh_token_of_another_client_or_unknown_is_invalid_grant(env: Env) -> None:
    grant = env.tokens(WEB)
    assert oauth_error(env.refresh, grant.refresh.token, NARROW).error == "invalid_grant"
    assert oauth_error(env.refresh, "rft.unknown").error == "invalid_grant"
    assert oauth_error(env.refresh, grant.access.token).error == "invalid_grant"


# -- client credentials -------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["current", "legacy"])
def test_client_credentials(make_env, profile: str) -> None:
    env = make_env(web={"token_profile": profile})
    body = oauth.client_credentials(env.world, env.form(), env.now())
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert str(body["access_token"]).startswith("clt.")
    assert body["expires_in"] == 7200
    assert body["token_type"] == "Bearer"
    # A client token is not a user token (ref 2.4: Research and Commercial Content APIs only).
    with pytest.raises(ApiError) as info:
        oauth.resolve_access_token(env.world, str(body["access_token"]), env.now())
    assert info.value.code == "access_token_invalid"


def test_token_dispatches_on_grant_type(env: Env) -> None:
    form = env.form(grant_type="password")
    assert oauth_error(oauth.token, env.world, form, env.now()).error == "unsupported_grant_type"
    form = env.form()
    assert oauth_error(oauth.token, env.world, form, env.now()).error == "invalid_request"
    body = oauth.token(env.world, env.form(grant_type="client_credentials"), env.now())
    assert str(body["access_token"]).startswith("clt.")


# -- revoke -------------------------------------------------------------------------------------


def test_revoke_ends_the_whole_grant(env: Env) -> None:
    grant = env.tokens()
    refreshed = env.refresh(grant.refresh.token)
    other_app = env.tokens(SANDBOX, redirect_uri="http://127.0.0.1:5000/callback/")
    other_user = env.tokens(creator="ben")
    oauth.revoke(env.world, env.form(token=refreshed.access.token), env.now())

    for token in (grant.access.token, refreshed.access.token):
        with pytest.raises(ApiError) as info:
            oauth.resolve_access_token(env.world, token, env.now())
        assert (info.value.code, info.value.rule) == ("access_token_invalid", "token_revoked")
    error = oauth_error(env.refresh, refreshed.refresh.token)
    assert (error.error, error.rule) == ("invalid_grant", "refresh_revoked")
    # Other apps and other users keep their authorizations.
    for kept in (other_app, other_user):
        oauth.resolve_access_token(env.world, kept.access.token, env.now())


def test_revoke_refuses_unknown_revoked_expired_and_foreign_tokens(env: Env) -> None:
    def revoke(token: str, client_key: str = WEB) -> OAuthError:
        return oauth_error(oauth.revoke, env.world, env.form(client_key, token=token), env.now())

    assert revoke("act.unknown").error == "invalid_grant"
    grant = env.tokens()
    assert revoke(grant.access.token, NARROW).error == "invalid_grant"
    assert revoke("").error == "invalid_request"
    oauth.revoke(env.world, env.form(token=grant.access.token), env.now())
    assert revoke(grant.access.token).error == "invalid_grant"
    expired = env.tokens(creator="ben")
    env.clock.advance(7200)
    assert revoke(expired.access.token).error == "invalid_grant"


def test_a_new_authorization_after_revoke_works(env: Env) -> None:
    grant = env.tokens()
    oauth.revoke(env.world, env.form(token=grant.access.token), env.now())
    again = env.tokens()
    assert oauth.resolve_access_token(env.world, again.access.token, env.now()).grant is again.grant


# -- authorize and consent ----------------------------------------------------------------------


def test_sandbox_app_accepts_only_target_users(env: Env) -> None:
    redirect = "http://127.0.0.1:5000/callback/"
    assert env.authorize(SANDBOX, "ana", redirect_uri=redirect).redirect_uri == redirect
    with pytest.raises(AuthorizeError) as info:
        env.authorize(SANDBOX, "cora", redirect_uri=redirect)
    error = info.value
    assert (error.error, error.error_type) == ("access_denied", "non_sandbox_target")
    assert error.redirectable


def test_target_users_do_not_matter_outside_sandbox_apps(env: Env) -> None:
    assert env.authorize(WEB, "cora").creator_uid == env.world.creators["cora"].uid


@pytest.mark.parametrize(
    ("params", "error", "error_type"),
    [
        ({"client_key": "awnosuchapp"}, "unauthorized_client", "client_key"),
        ({"client_key": ""}, "unauthorized_client", "client_key"),
        ({"redirect_uri": "https://evil.example/callback"}, "invalid_request", "redirect_uri"),
        ({"redirect_uri": ""}, "invalid_request", "redirect_uri"),
        ({"response_type": "token"}, "unsupported_response_type", "response_type"),
        ({"response_type": ""}, "unsupported_response_type", "response_type"),
        ({"scope": ""}, "invalid_scope", "scope"),
        ({"scope": "user.info.basic,user.email"}, "invalid_scope", "scope"),
    ],
)
def test_bad_authorize_requests_stay_on_the_page(
    env: Env, params: dict[str, str], error: str, error_type: str
) -> None:
    with pytest.raises(AuthorizeError) as info:
        oauth.check_authorize(env.world, env.params(**params))
    assert (info.value.error, info.value.error_type) == (error, error_type)
    assert not info.value.redirectable


def test_scope_the_app_is_not_approved_for(env: Env) -> None:
    params = env.params(NARROW, scope="user.info.basic,video.publish")
    with pytest.raises(AuthorizeError) as info:
        oauth.check_authorize(env.world, params)
    assert (info.value.error, info.value.error_type) == ("invalid_scope", "scope")
    assert "video.publish" in info.value.description
    # The same scopes are fine for an app approved for them.
    oauth.check_authorize(env.world, env.params(WEB, scope="user.info.basic,video.publish"))


def test_scope_list_is_deduplicated_in_order(env: Env) -> None:
    code = env.authorize(scope=" video.upload ,user.info.basic,video.upload,")
    assert code.scopes == ("video.upload", "user.info.basic")


@pytest.mark.parametrize(
    ("granted", "scopes"),
    [
        (None, ("user.info.basic", "video.upload", "video.publish")),
        (["video.upload"], ("user.info.basic", "video.upload")),
        ([], ("user.info.basic",)),
        (["video.publish", "user.info.basic"], ("user.info.basic", "video.publish")),
    ],
)
def test_partial_consent_keeps_user_info_basic(
    env: Env, granted: list[str] | None, scopes: tuple[str, ...]
) -> None:
    code = env.authorize(scope="user.info.basic,video.upload,video.publish", granted=granted)
    assert code.scopes == scopes
    assert env.exchange(code).body(env.now())["scope"] == ",".join(scopes)


def test_consent_granting_nothing_is_access_denied(env: Env) -> None:
    with pytest.raises(AuthorizeError) as info:
        env.authorize(scope="video.upload,video.publish", granted=[])
    assert (info.value.error, info.value.redirectable) == ("access_denied", True)


def test_deny_is_a_redirectable_access_denied() -> None:
    error = oauth.deny()
    assert (error.error, error.redirectable, error.error_type) == ("access_denied", True, None)


def test_require_scope(env: Env) -> None:
    grant = env.tokens(scope="video.upload")
    session = oauth.resolve_access_token(env.world, grant.access.token, env.now())
    with pytest.raises(ApiError) as info:
        oauth.require_scope(session, frozenset({"user.info.basic"}), rule="r")
    assert (info.value.code, info.value.http_status) == ("scope_not_authorized", 401)
    oauth.require_scope(session, frozenset({"video.upload", "video.publish"}), rule="r")
