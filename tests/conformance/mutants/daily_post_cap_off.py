"""Mutant: no per-creator daily Direct Post cap (ref 15.2: spam_risk_too_many_posts)."""

from __future__ import annotations

import pytest

from tests.conformance.mutants import drop_init_rule


def pytest_configure(config: pytest.Config) -> None:
    drop_init_rule("creator_post_cap")
