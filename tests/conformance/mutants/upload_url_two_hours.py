"""Mutant: an upload_url takes bytes for two hours (ref 7.3: valid 1 hour)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain import posting

    posting.UPLOAD_URL_SECONDS = 7200
