"""Mutant: status/fetch admits 31 requests a minute per token (ref 4.3: 30)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain import ratelimit

    ratelimit.RATE_LIMITS["status_fetch"] = 31
