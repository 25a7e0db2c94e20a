"""Mutant: user info's `username` needs only user.info.basic, as before TikTok's 2024 scope
migration (ref 3, 5: user.info.profile)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain import scopes

    scopes.USER_INFO_FIELDS["username"] = "user.info.basic"
