"""Deliberately broken variants of tiktok-sandbox: fixtures of the conformance suite's own tests.

Each module is a pytest plugin that breaks exactly one documented rule when loaded:

    python -m pytest conformance/suite/test_stateful.py -p tests.conformance.mutants.<name>

It patches the emulator's internals at `pytest_configure`, before any sandbox exists (the
suite's in-process target is built later, in the same process). Mutants are test fixtures, not
product code: they may reach into `mock_server` where the suite itself never does.
"""

from __future__ import annotations


def drop_init_rule(name: str) -> None:
    """Take one rule out of the Content Posting init rules (mock_server.domain.posting)."""
    from mock_server.domain import posting

    kept = tuple(rule for rule in posting.INIT_RULES if rule.__name__ != name)
    assert len(kept) == len(posting.INIT_RULES) - 1, f"no init rule named {name}"
    posting.INIT_RULES = kept
