"""Mutant: inbox uploads count toward the creator's daily Direct Post cap (ref 15.2: a
"Direct Post limit")."""

from __future__ import annotations

from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain import posting

    counted = posting.init_publish

    def init_publish(world: Any, session: Any, request: Any, now: float) -> Any:
        publish = counted(world, session, request, now)
        if request.mode != posting.DIRECT_POST:
            posting.record_post(session.creator, now)
        return publish

    posting.init_publish = init_publish
