"""Mutant: authorization codes never expire (ref 2.2: short-lived, "seconds to minutes")."""

from __future__ import annotations

from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain import oauth

    issuing = oauth.approve

    def approve(*args: Any, **kwargs: Any) -> Any:
        code = issuing(*args, **kwargs)
        code.expires_at = float("inf")
        return code

    oauth.approve = approve
