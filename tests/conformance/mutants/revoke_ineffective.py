"""Mutant: /v2/oauth/revoke/ answers 200 but the tokens keep working (ref 2.5)."""

from __future__ import annotations

from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain import oauth

    def revoke_grants_of(world: Any, client_key: str, creator_uid: str, now: float) -> None:
        pass

    oauth.revoke_grants_of = revoke_grants_of
