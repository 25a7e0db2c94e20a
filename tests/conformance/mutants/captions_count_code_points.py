"""Mutant: titles and descriptions are measured in code points, so an emoji counts 1 (ref 7.1,
9: UTF-16 code units, an emoji counts 2)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain import posting

    posting.utf16_units = len
