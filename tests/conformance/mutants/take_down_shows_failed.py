"""Mutant: a post the creator takes down shows FAILED in status/fetch (ref 11: it was posted;
only its public id goes)."""

from __future__ import annotations

from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain import lifecycle
    from mock_server.domain.publishing import FAILED

    taking_down = lifecycle.take_down

    def take_down(world: Any, publish: Any, at: float) -> None:
        taking_down(world, publish, at)
        publish.move_to(FAILED, at, "spam_risk")

    lifecycle.take_down = take_down
