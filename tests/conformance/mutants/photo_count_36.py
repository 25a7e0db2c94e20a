"""Mutant: a photo post takes 36 photos (ref 9: up to 35)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain import posting

    posting.MAX_PHOTOS = 36
