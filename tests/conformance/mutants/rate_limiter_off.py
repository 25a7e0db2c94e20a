"""Mutant: the per-token rate limiter admits every request (ref 4.3: 6 inits a minute)."""

from __future__ import annotations

from collections.abc import Hashable

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain.ratelimit import SlidingWindowLimiter

    def admit(self: SlidingWindowLimiter, key: Hashable, limit: int, now: float) -> bool:
        return True

    SlidingWindowLimiter.admit = admit  # type: ignore[method-assign]
