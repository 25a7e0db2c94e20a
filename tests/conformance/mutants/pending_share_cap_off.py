"""Mutant: no cap on pending inbox shares (ref 8: at most 5)."""

from __future__ import annotations

import pytest

from tests.conformance.mutants import drop_init_rule


def pytest_configure(config: pytest.Config) -> None:
    drop_init_rule("pending_share_cap")
