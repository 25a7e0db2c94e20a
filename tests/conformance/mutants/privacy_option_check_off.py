"""Mutant: Direct Post takes any privacy_level, even one outside the creator's options
(ref 7.1, 7.4: privacy_level_option_mismatch)."""

from __future__ import annotations

import pytest

from tests.conformance.mutants import drop_init_rule


def pytest_configure(config: pytest.Config) -> None:
    drop_init_rule("privacy_option")
