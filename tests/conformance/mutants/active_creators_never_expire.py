"""Mutant: a creator who posted through an app stays one of its active creators for good (ref
15.1, 15.2: the cap counts creators over 24 h)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain.caps import ActiveCreatorWindow

    def _prune(self: ActiveCreatorWindow, now: float) -> None:
        pass

    ActiveCreatorWindow._prune = _prune  # type: ignore[method-assign]
