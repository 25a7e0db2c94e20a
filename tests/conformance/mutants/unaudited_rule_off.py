"""Mutant: unaudited apps may Direct Post to public accounts (ref 15.1)."""

from __future__ import annotations

import pytest

from tests.conformance.mutants import drop_init_rule


def pytest_configure(config: pytest.Config) -> None:
    drop_init_rule("unaudited_private_only")
