"""Mutant: a creator who posted through an app stays one of its active creators for good (ref
15.1, 15.2: the cap counts creators over 24 h)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain.caps import ActiveCreatorWindow

    def active(self: ActiveCreatorWindow, now: float) -> set[str]:
        return set(self.last_post)  # whenever they posted

    ActiveCreatorWindow.active = active  # type: ignore[method-assign]
