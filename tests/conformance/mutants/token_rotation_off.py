"""Mutant: a refresh issues a new refresh token, but the old one keeps working (ref 2.4,
doc-2026: it must stop working at once)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain import oauth

    rotating = oauth.refresh

    def refresh(world: Any, form: Mapping[str, str], now: float) -> Any:
        answer = rotating(world, form, now)
        old = world.refresh_tokens.get(form.get("refresh_token", ""))
        if old is not None:
            old.superseded = False
        return answer

    oauth.refresh = refresh
