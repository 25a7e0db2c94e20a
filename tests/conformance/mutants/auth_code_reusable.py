"""Mutant: an authorization code can be exchanged again and again (ref 2.2: once)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain import oauth

    single_use = oauth.exchange_code

    def exchange_code(world: Any, form: Mapping[str, str], now: float) -> Any:
        answer = single_use(world, form, now)
        world.codes[form["code"]].used = False
        return answer

    oauth.exchange_code = exchange_code
