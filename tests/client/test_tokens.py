"""Tokens: expiry from expires_in, refresh before it lapses, rotation kept by the store."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from client import CallbackTokenStore, JsonFileTokenStore, TikTokClient, Token
from client.errors import AccessTokenInvalid, InvalidClient, InvalidGrant, NotAuthenticated
from client.oauth import code_challenge, make_code_verifier
from mock_server import Sandbox
from tests.client.conftest import (
    APP,
    BASE,
    SCOPES,
    SECRET,
    Log,
    RecordingTransport,
    VirtualTime,
    issue_token,
)

TOKEN = "/v2/oauth/token/"
CREATOR_INFO = "/v2/post/publish/creator_info/query/"
MARGIN = 300.0


def client_with(
    sandbox: Sandbox, vtime: VirtualTime, store: Any, log: Log, secret: str = SECRET
) -> TikTokClient:
    return TikTokClient(
        APP,
        secret,
        token_store=store,
        base_url=BASE,
        transport=RecordingTransport(sandbox.transport(), log),
        sleep=vtime.sleep,
        now=vtime.now,
        refresh_margin=MARGIN,
    )


def test_expiry_comes_from_expires_in(sandbox: Sandbox) -> None:
    token = issue_token(sandbox)
    now = sandbox.clock.now()
    assert token.expires_at == now + 7200  # the sandbox's current profile: 2 h
    assert token.refresh_expires_at == now + 180 * 86400
    assert token.access_token.startswith("act.") and token.refresh_token
    assert set(token.scope) == set(SCOPES)


def test_the_token_is_refreshed_before_it_lapses_and_the_rotation_is_kept(
    sandbox: Sandbox, vtime: VirtualTime
) -> None:
    saved: list[Token | None] = []
    first = issue_token(sandbox)
    log = Log()
    client = client_with(sandbox, vtime, CallbackTokenStore(saved.append, first), log)

    sandbox.advance(7200 - MARGIN - 1)  # still outside the margin: no refresh
    client.creator_info()
    assert log.paths() == [CREATOR_INFO] and saved == []

    sandbox.advance(2)  # now within 5 minutes of expiry
    client.creator_info()
    assert log.paths() == [CREATOR_INFO, TOKEN, CREATOR_INFO]
    assert len(saved) == 1 and saved[0] is not None
    second = saved[0]
    assert second.refresh_token != first.refresh_token  # rotated (doc-2026)
    assert second.access_token != first.access_token
    assert second.expires_at == vtime.now() + 7200
    assert second.open_id == first.open_id
    assert client.token == second

    # The old refresh token stopped working at once: only the stored one is usable.
    stale = client_with(sandbox, vtime, CallbackTokenStore(saved.append, first), Log())
    with pytest.raises(InvalidGrant) as caught:
        stale.refresh()
    assert caught.value.http_status == 200  # ref 2.6: OAuth errors come with 200
    client.refresh()
    assert len(saved) == 2


def test_a_token_refused_as_invalid_is_refreshed_once_and_the_call_repeated(
    sandbox: Sandbox, vtime: VirtualTime
) -> None:
    real = issue_token(sandbox)
    broken = Token("act.not-a-token", real.expires_at, real.refresh_token, open_id=real.open_id)
    log = Log()
    client = client_with(sandbox, vtime, CallbackTokenStore(lambda t: None, broken), log)
    assert client.creator_info().creator_username == "ana_makes"
    assert log.paths() == [CREATOR_INFO, TOKEN, CREATOR_INFO]
    assert log.statuses[0] == 401


def test_without_a_refresh_token_an_invalid_token_is_raised(
    sandbox: Sandbox, vtime: VirtualTime
) -> None:
    client = client_with(sandbox, vtime, CallbackTokenStore(lambda t: None), Log())
    client.core.token_store.save(Token.bare("act.not-a-token"))
    with pytest.raises(AccessTokenInvalid) as caught:
        client.creator_info()
    assert caught.value.http_status == 401 and caught.value.log_id


def test_exchange_a_pkce_code_then_revoke(
    sandbox: Sandbox, vtime: VirtualTime, control: httpx.Client
) -> None:
    verifier = make_code_verifier()
    answer = control.post(
        "/_sandbox/authorize",
        json={
            "client_key": APP,
            "username": "ben_private",
            "scopes": SCOPES,
            "code_challenge": code_challenge(verifier),  # TikTok's hex form
        },
    ).json()
    saved: list[Token | None] = []
    log = Log()
    client = client_with(sandbox, vtime, CallbackTokenStore(saved.append), log)
    token = client.exchange_code(answer["code"], answer["redirect_uri"], verifier)
    assert saved == [token] and token.expires_at == vtime.now() + 7200
    assert "code_verifier=" + verifier in log.bodies[0].decode()
    assert client.creator_info().creator_username == "ben_private"
    client.revoke()
    assert saved[-1] is None and client.token is None
    with pytest.raises(NotAuthenticated):
        client.creator_info()


def test_a_code_used_twice_is_invalid_grant(sandbox: Sandbox, vtime: VirtualTime) -> None:
    code = sandbox.issue_code(APP, "ana_makes", SCOPES)
    client = client_with(sandbox, vtime, CallbackTokenStore(lambda t: None), Log())
    redirect = "http://127.0.0.1:3000/callback/"
    client.exchange_code(code, redirect)
    with pytest.raises(InvalidGrant) as caught:
        client.exchange_code(code, redirect)
    assert caught.value.error == "invalid_grant" and caught.value.error_description


def test_a_wrong_secret_is_invalid_client(sandbox: Sandbox, vtime: VirtualTime) -> None:
    client = client_with(sandbox, vtime, CallbackTokenStore(lambda t: None), Log(), "wrong1234")
    with pytest.raises(InvalidClient):
        client.exchange_code("whatever", "http://127.0.0.1:3000/callback/")


def test_the_json_file_store_is_private_and_round_trips(tmp_path: Path) -> None:
    store = JsonFileTokenStore(tmp_path / "dir" / "token.json")
    assert store.load() is None
    token = Token("act.a", 1000.0, "rft.b", 2000.0, "open", ("video.publish",))
    store.save(token)
    assert store.load() == token
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert json.loads(store.path.read_text())["refresh_token"] == "rft.b"
    store.clear()
    assert store.load() is None and not store.path.exists()


def test_a_refresh_answer_without_refresh_token_keeps_the_old_one() -> None:
    old = Token("act.a", 10.0, "rft.keep", 500.0, "open", ("a",))
    new = Token.from_response({"access_token": "act.b", "expires_in": 60}, 100.0, old)
    assert (new.refresh_token, new.refresh_expires_at, new.open_id, new.scope) == (
        "rft.keep",
        500.0,
        "open",
        ("a",),
    )
    assert new.expires_at == 160.0
