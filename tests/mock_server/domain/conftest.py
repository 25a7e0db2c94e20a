"""A sandbox state on a frozen clock, and short ways to authorize and exchange in the domain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mock_server.domain import oauth
from mock_server.domain.models import App, AuthCode
from mock_server.domain.oauth import TokenGrant
from mock_server.domain.world import World
from mock_server.runtime.clock import Clock
from mock_server.state import SandboxState
from tests.mock_server.sandboxes import WEB, frozen_clock, scenario

# What `Env` sends for apps that need PKCE (desktop apps) when a test names no challenge.
AUTO_VERIFIER = "env-verifier-" + "0123456789" * 4
AUTO_CHALLENGE = oauth.challenge_of(AUTO_VERIFIER, "hex")


class Env:
    """One sandbox's World and virtual clock, driven through the domain functions."""

    def __init__(self, **overrides: Any) -> None:
        self.state = SandboxState(scenario(**overrides), clock=frozen_clock())

    @property
    def world(self) -> World:
        return self.state.world

    @property
    def clock(self) -> Clock:
        return self.state.clock

    def now(self) -> float:
        return self.clock.now()

    def app(self, client_key: str = WEB) -> App:
        return self.world.apps[client_key]

    def params(self, app_key: str = WEB, **extra: str) -> dict[str, str]:
        """A valid authorize request for the app `app_key`; `extra` overrides any parameter."""
        app = self.app(app_key)
        return {
            "client_key": app_key,
            "scope": ",".join(app.scopes),
            "redirect_uri": app.redirect_uris[0],
            "response_type": "code",
            "state": "xyz",
            **extra,
        }

    def authorize(
        self,
        client_key: str = WEB,
        creator: str = "ana",
        granted: list[str] | None = None,
        **params: str,
    ) -> AuthCode:
        if self.app(client_key).requires_pkce:
            params.setdefault("code_challenge", AUTO_CHALLENGE)
        request = oauth.check_authorize(self.world, self.params(client_key, **params))
        return oauth.approve(self.world, request, self.world.creators[creator], granted, self.now())

    def form(self, client_key: str = WEB, **fields: str) -> dict[str, str]:
        secret = self.app(client_key).client_secret
        return {"client_key": client_key, "client_secret": secret, **fields}

    def exchange(self, issued: AuthCode, /, **fields: str) -> TokenGrant:
        """Exchange `issued` as its app would; `fields` override form fields."""
        form = self.form(issued.client_key, code=issued.code, redirect_uri=issued.redirect_uri)
        if issued.code_challenge == AUTO_CHALLENGE:
            form["code_verifier"] = AUTO_VERIFIER
        return oauth.exchange_code(self.world, {**form, **fields}, self.now())

    def tokens(self, client_key: str = WEB, creator: str = "ana", **params: str) -> TokenGrant:
        return self.exchange(self.authorize(client_key, creator, **params))

    def refresh(self, refresh_token: str, client_key: str = WEB) -> TokenGrant:
        form = self.form(client_key, grant_type="refresh_token", refresh_token=refresh_token)
        return oauth.refresh(self.world, form, self.now())


@pytest.fixture
def env() -> Env:
    return Env()


@pytest.fixture
def make_env() -> Callable[..., Env]:
    return Env
