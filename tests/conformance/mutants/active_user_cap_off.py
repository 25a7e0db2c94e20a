"""Mutant: no cap on the distinct creators posting through an app in 24 h (ref 15.1: 5
before audit; ref 15.2: the app's own cap)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain import posting

    def effective_active_creator_cap(stage: str, configured: int | None) -> int | None:
        return None

    posting.effective_active_creator_cap = effective_active_creator_cap
