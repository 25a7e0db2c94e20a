"""The bounds on codes, grants and tokens, and the sweep on the sandbox clock (DESIGN 7)."""

from __future__ import annotations

import pytest

from mock_server.domain import oauth, retention
from mock_server.domain.errors import ApiError, OAuthError
from mock_server.domain.retention import (
    MAX_ACCESS_TOKENS_PER_GRANT,
    MAX_CLIENT_TOKENS_PER_APP,
    MAX_CODES,
    MAX_ENDED_CODES,
    MAX_ENDED_GRANTS_PER_APP,
    MAX_GRANTS_PER_PAIR,
    MAX_OLD_REFRESH_TOKENS,
    RETENTION_SECONDS,
)
from tests.mock_server.domain.conftest import Env
from tests.mock_server.sandboxes import WEB

DAY = 24 * 3600


def rule_of(env: Env, token: str) -> str:
    with pytest.raises(ApiError) as caught:
        oauth.resolve_access_token(env.world, token, env.now())
    return caught.value.rule


def test_a_new_authorization_past_the_pair_cap_ends_the_oldest_grant(env: Env) -> None:
    pairs = [env.tokens() for _ in range(MAX_GRANTS_PER_PAIR + 1)]
    first, *rest = pairs
    assert rule_of(env, first.access.token) == "token_revoked"
    for pair in rest:
        assert oauth.resolve_access_token(env.world, pair.access.token, env.now())
    # Another creator's grants with the same app are their own.
    assert oauth.resolve_access_token(env.world, env.tokens(creator="ben").access.token, env.now())


def test_refreshes_past_the_grant_cap_retire_the_oldest_access_token(env: Env) -> None:
    pair = env.tokens()
    access = [pair.access.token]
    refresh = pair.refresh.token
    for _ in range(MAX_ACCESS_TOKENS_PER_GRANT):
        pair = env.refresh(refresh)
        access.append(pair.access.token)
        refresh = pair.refresh.token
    assert rule_of(env, access[0]) == "token_unknown"
    for token in access[1:]:
        assert oauth.resolve_access_token(env.world, token, env.now())
    assert len(env.world.access_tokens) == MAX_ACCESS_TOKENS_PER_GRANT


def test_rotated_out_refresh_tokens_are_remembered_a_few_at_a_time(env: Env) -> None:
    pair = env.tokens()
    used = [pair.refresh.token]
    for _ in range(MAX_OLD_REFRESH_TOKENS + 2):
        pair = env.refresh(pair.refresh.token)
        used.append(pair.refresh.token)
    *old, live = used
    for token, remembered in zip(
        old, [False, False] + [True] * MAX_OLD_REFRESH_TOKENS, strict=True
    ):
        with pytest.raises(OAuthError) as caught:
            env.refresh(token)
        assert caught.value.error == "invalid_grant"
        assert caught.value.rule == ("refresh_rotated" if remembered else "refresh_unknown")
    assert env.refresh(live)


def test_client_tokens_are_capped_per_app(env: Env) -> None:
    form = env.form(grant_type="client_credentials")
    issued = [
        oauth.client_credentials(env.world, form, env.now())["access_token"]
        for _ in range(MAX_CLIENT_TOKENS_PER_APP + 3)
    ]
    assert len(env.world.client_tokens) == MAX_CLIENT_TOKENS_PER_APP
    assert issued[0] not in env.world.client_tokens and issued[-1] in env.world.client_tokens


def test_codes_are_capped_oldest_first(env: Env) -> None:
    request = oauth.check_authorize(env.world, env.params())
    ana = env.world.creators["ana"]
    codes = [oauth.approve(env.world, request, ana, None, env.now()) for _ in range(MAX_CODES + 2)]
    assert len(env.world.codes) == MAX_CODES
    assert codes[0].code not in env.world.codes and codes[-1].code in env.world.codes


def test_a_sweep_keeps_only_the_newest_dead_codes(env: Env) -> None:
    dead = [env.authorize() for _ in range(MAX_ENDED_CODES + 3)]
    used = env.authorize()
    env.exchange(used)
    env.clock.advance(301)  # past the 5 min code TTL
    live = env.authorize()
    retention.sweep(env.world, env.now())
    assert len(env.world.codes) == MAX_ENDED_CODES + 1
    assert live.code in env.world.codes and used.code in env.world.codes
    with pytest.raises(OAuthError, match="invalid") as caught:
        env.exchange(dead[3])  # forgotten: unknown, the same error code
    assert caught.value.error == "invalid_grant"
    with pytest.raises(OAuthError, match="expired"):
        env.exchange(dead[4])
    with pytest.raises(OAuthError, match="has been used"):
        env.exchange(used)
    assert env.exchange(live)


def test_dead_codes_and_tokens_say_why_for_a_day_then_are_swept(env: Env) -> None:
    used = env.authorize()
    env.exchange(used)
    expired_code = env.authorize()
    pair = env.tokens()
    env.clock.advance(2 * 3600 + 1)  # past the 2 h access lifetime and the 5 min code TTL
    retention.sweep(env.world, env.now())
    assert rule_of(env, pair.access.token) == "token_expired"
    with pytest.raises(OAuthError, match="has been used"):
        env.exchange(used)
    with pytest.raises(OAuthError, match="expired"):
        env.exchange(expired_code)
    env.clock.advance(RETENTION_SECONDS)
    retention.sweep(env.world, env.now())
    assert rule_of(env, pair.access.token) == "token_unknown"
    assert env.world.codes == {}
    with pytest.raises(OAuthError, match="invalid"):
        env.exchange(used)


def test_ended_grants_stay_listed_a_day_then_go_with_their_tokens(env: Env) -> None:
    revoked = env.tokens()
    live = env.tokens(creator="ben")
    oauth.revoke_grants_of(env.world, WEB, revoked.grant.creator_uid, env.now())
    env.clock.advance(RETENTION_SECONDS - 1)
    retention.sweep(env.world, env.now())
    assert revoked.grant.grant_id in env.world.grants
    env.clock.advance(1)
    retention.sweep(env.world, env.now())
    assert revoked.grant.grant_id not in env.world.grants
    assert revoked.refresh.token not in env.world.refresh_tokens
    assert (WEB, revoked.grant.creator_uid) not in env.world.grants_by_pair
    assert live.grant.grant_id in env.world.grants  # refresh expiry is 180 days away


def test_at_most_so_many_ended_grants_are_kept_per_app(env: Env) -> None:
    for _ in range(MAX_ENDED_GRANTS_PER_APP + 5):
        pair = env.tokens()
        oauth.revoke_grants_of(env.world, WEB, pair.grant.creator_uid, env.now())
    retention.sweep(env.world, env.now())
    assert len(env.world.grants) == MAX_ENDED_GRANTS_PER_APP


def test_sweeps_run_on_the_sandbox_clock_through_tick(env: Env) -> None:
    pair = env.tokens()
    env.clock.advance(2 * 3600 + RETENTION_SECONDS + 1)
    env.state.tick()  # what every request and the served ticker do
    assert pair.access.token not in env.world.access_tokens


def test_a_clock_set_back_does_not_put_the_next_sweep_out_of_reach(env: Env) -> None:
    env.state.tick()  # a sweep now: the next is due a little later
    env.clock.set(env.now() - 300 * DAY)  # a test sets the sandbox back to an earlier date
    pair = env.tokens()
    oauth.revoke_grants_of(env.world, WEB, pair.grant.creator_uid, env.now())
    env.clock.advance(RETENTION_SECONDS + 3600)
    env.state.tick()
    assert pair.grant.grant_id not in env.world.grants
