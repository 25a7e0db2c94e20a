"""Mutant: the rate limiter counts requests per calendar minute, reset at each minute's start,
instead of over the minute before each request (ref 4.3: a sliding window)."""

from __future__ import annotations

from collections.abc import Hashable

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain.ratelimit import SlidingWindowLimiter

    def admit(self: SlidingWindowLimiter, key: Hashable, limit: int, now: float) -> bool:
        minute = now // 60
        hits = self._hits.setdefault(key, [])
        while hits and hits[0] // 60 != minute:
            hits.pop(0)
        if len(hits) >= limit:
            return False
        hits.append(now)
        return True

    SlidingWindowLimiter.admit = admit  # type: ignore[method-assign]
