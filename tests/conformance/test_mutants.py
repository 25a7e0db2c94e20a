"""The conformance suite finds real bugs.

Each mutant in `tests/conformance/mutants/` is tiktok-sandbox with one documented rule broken.
The suite's stateful model is run against each (in a subprocess: a mutant patches the emulator
for the whole process) and must fail, printing a readable reproducer: the program of API calls
Hypothesis found, and the expectation it broke, with its reference section. The same selection
of the suite, run against the unbroken sandbox, passes.

The runs start together (as many at a time as there are CPUs) when the first test asks for one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITE = "conformance/suite/test_stateful.py"


@dataclass(frozen=True)
class Mutant:
    tests: str  # the suite's tests that catch it (pytest -k)
    names: str  # what the failure must name: the broken expectation


MUTANTS = {
    "rate_limiter_off": Mutant("test_rate_limits", "rate_limit_exceeded (ref 4.3"),
    "chunk_count_unchecked": Mutant("test_media_transfer", "invalid_param (ref 10.1"),
    "chunk_size_unchecked": Mutant("test_media_transfer", "ref 10.1: every chunk but the last"),
    "unaudited_rule_off": Mutant(
        "test_privacy_rules", "unaudited_client_can_only_post_to_private_accounts (ref 15.1"
    ),
    "token_rotation_off": Mutant(
        "test_tokens", "expected invalid_grant (ref 2.4 (doc-2026): the old refresh token"
    ),
    "auth_code_reusable": Mutant("test_tokens", "expected invalid_grant (ref 2.2: a code can"),
    "pending_share_cap_off": Mutant(
        "test_pending_shares", "spam_risk_too_many_pending_share (ref 8"
    ),
    "privacy_option_check_off": Mutant(
        "test_privacy_rules", "privacy_level_option_mismatch (ref 7.1"
    ),
    "daily_post_cap_off": Mutant("test_daily_post_cap", "spam_risk_too_many_posts (ref 15.2"),
    "active_user_cap_off": Mutant("test_active_creators", "reached_active_user_cap (ref 15."),
    "revoke_ineffective": Mutant("test_tokens", "ref 2.5"),
    "self_only_not_forced": Mutant("test_privacy_rules", "must be SELF_ONLY (ref 15.1"),
}
CONTROL = "control"


def command(mutant: str | None, tests: str) -> list[str]:
    plugin = ["-p", f"tests.conformance.mutants.{mutant}"] if mutant else []
    return [
        sys.executable, "-m", "pytest", SUITE, *plugin, "-q", "--derandomize", "-x",
        "-k", tests, "-p", "no:cacheprovider",
    ]  # fmt: skip


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONFORMANCE_PROFILE": "quick"}
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, Future[subprocess.CompletedProcess[str]]]]:
    everything = " or ".join(sorted({t for m in MUTANTS.values() for t in m.tests.split(" or ")}))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        # The control run is the longest: it goes first, so that the lanes end together.
        started = {CONTROL: pool.submit(run, command(None, everything))}
        for name, mutant in MUTANTS.items():
            started[name] = pool.submit(run, command(name, mutant.tests))
        yield started


def test_every_mutant_is_a_plugin_module() -> None:
    folder = Path(__file__).parent / "mutants"
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    assert modules == set(MUTANTS)


def test_the_sandbox_itself_passes(
    runs: dict[str, Future[subprocess.CompletedProcess[str]]],
) -> None:
    result = runs[CONTROL].result()
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_the_suite_catches(
    name: str, runs: dict[str, Future[subprocess.CompletedProcess[str]]]
) -> None:
    result = runs[name].result()
    output = result.stdout + result.stderr
    assert result.returncode == 1, (
        f"exit code {result.returncode}, expected 1 (a test failed):\n" + (output[-4000:])
    )
    machine = next(line for line in output.splitlines() if "state = " in line)
    program = output[output.index(machine) :]
    # The reproducer: the machine, the steps Hypothesis found, each API call with its answer.
    assert "state.teardown()" in program, output[-4000:]
    assert " -> " in program and ("POST /v2/" in program or "PUT " in program), output[-4000:]
    # The failure names the broken expectation (and the reference section behind it).
    assert MUTANTS[name].names in output, output[-4000:]
