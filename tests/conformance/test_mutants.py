"""The conformance suite finds real bugs, in process and over a real socket.

Each mutant in `tests/conformance/mutants/` is tiktok-sandbox with one documented rule broken.
The checks of its area are run against it in a process of their own (a mutant patches the
emulator for the whole process) and must fail, naming the expectation it broke with its
reference section:

- in process: `pytest <checks> -p tests.conformance.mutants.<name>`, the suite's in-process
  target built after the patch;
- by URL: the mutant served on a loopback port (`python -m tests.conformance.serve <name> serve
  --port 0`) and the same checks run with `--base-url` and `--control-url`.

The stateful model's mutants must also print a readable reproducer: the program of API calls
Hypothesis found. The same selection of the model, run against the unbroken sandbox, passes
(the scripted checks' selections are part of the whole suite, run in both modes elsewhere).

The runs of the selected tests start together (as many at a time as there are CPUs) when the
first of them asks.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from tests.conformance.runs import Run, run_command
from tests.served import ROOT, served

SUITE = "conformance/suite/"
STATEFUL = SUITE + "test_stateful.py"


@dataclass(frozen=True)
class Mutant:
    tests: str  # the checks that catch it (pytest -k)
    names: str  # what the failure must name: the broken expectation and its section
    path: str = STATEFUL  # the suite module holding those checks

    @property
    def stateful(self) -> bool:
        return self.path == STATEFUL


def module(name: str) -> str:
    return f"{SUITE}test_{name}.py"


MUTANTS = {
    # The stateful model (ref 2-15).
    "rate_limiter_off": Mutant("test_rate_limits", "rate_limit_exceeded (ref 4.3"),
    "chunk_count_unchecked": Mutant("test_media_transfer", "invalid_param (ref 10.1"),
    "chunk_size_unchecked": Mutant("test_media_transfer", "ref 10.1: every chunk but the last"),
    "unaudited_rule_off": Mutant(
        "test_privacy_rules",
        "unaudited_client_can_only_post_to_private_accounts (ref 15.1",
    ),
    "token_rotation_off": Mutant(
        "test_tokens",
        "expected invalid_grant (ref 2.4 (doc-2026): the old refresh token",
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
    # Rate limits: values and windows (ref 4.3).
    "rate_window_fixed_minute": Mutant(
        "full_window_stays_full or window_slides", "(ref 4.3: ", module("rate_limits")
    ),
    "status_fetch_limit_31": Mutant(
        "nth_request_of_a_minute and status_fetch",
        "expected rate_limit_exceeded (ref 4.3: request 31 within a minute)",
        module("rate_limits"),
    ),
    # The caps' counting rules (ref 8, 15.1, 15.2).
    "pending_counts_posted_drafts": Mutant(
        "a_posted_draft_frees_its_slot",
        "(ref 8: the posted draft is no longer pending)",
        module("caps"),
    ),
    "inbox_counts_toward_daily_cap": Mutant(
        "across_apps_and_counts_posts_only",
        "(ref 15.2: the first Direct Post (inbox uploads do not count))",
        module("caps"),
    ),
    "active_creators_never_expire": Mutant(
        "active_creators_are_counted_over_a_rolling",
        "(ref 15.1: the five posted over 24 h ago)",
        module("caps"),
    ),
    # Lifetimes (ref 2.2, 7.3).
    "auth_code_never_expires": Mutant(
        "code_is_short_lived or code_lives_as_long", "ref 2.2: a code", module("lifetimes")
    ),
    "upload_url_two_hours": Mutant(
        "upload_url_takes_bytes",
        "1 s from the upload_url's hour: expected HTTP [403] (ref 7.3, 10.3",
        module("lifetimes"),
    ),
    # Which client a code belongs to (ref 2.6).
    "code_any_client": Mutant(
        "code_is_exchanged_only_by_the_app",
        "ref 2.6: another app exchanged this app's code",
        module("ownership"),
    ),
    # Domain and URL-prefix properties, redirects on pulls (ref 10.4).
    "domain_suffix_match": Mutant(
        "pull_url_is_taken_only_under and name",
        "expected url_ownership_unverified (ref 10.4: name ending the same",
        module("ownership"),
    ),
    "pull_follows_redirects": Mutant(
        "pull_that_is_redirected", "ref 10.4, 11", module("ownership")
    ),
    # Status after a take-down (ref 11, 14.3).
    "take_down_shows_failed": Mutant(
        "post_taken_down", "ref 11: taken down is not FAILED", module("outcomes")
    ),
    # fail_reason strings (ref 11).
    "photo_pull_failed_as_video": Mutant(
        "pulled_photo_ends and missing",
        "expected FAILED photo_pull_failed (ref 11, 13)",
        module("outcomes"),
    ),
    # Which scope each user-info field needs (ref 3, 5).
    "username_is_basic": Mutant(
        "each_field_needs_exactly_its_scope",
        "ref 5: username needs user.info.profile",
        module("scopes"),
    ),
    # Photo limits at their edges (ref 9) and caption units (ref 7.1, 9).
    "photo_count_36": Mutant(
        "photo_posts_take_their_limits", "(ref 9: 36 photos)", module("post_limits")
    ),
    "captions_count_code_points": Mutant(
        "photo_posts_take_their_limits or video_title_of_2200",
        " units)",
        module("post_limits"),
    ),
}
CONTROL = "control"


def pytest_args(mutant: Mutant, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "pytest", mutant.path, *extra, "-q", "--derandomize", "-x",
        "-k", mutant.tests, "-p", "no:cacheprovider", "-p", "_hypothesis_pytestplugin",
    ]  # fmt: skip


def run(args: list[str]) -> Run:
    # Only the plugins a run needs (the suite's own comes with conformance/conftest.py): the
    # entry-point plugins installed beside it cost each of these short runs seconds of imports.
    return run_command(args, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")


def in_process(name: str) -> Run:
    return run(pytest_args(MUTANTS[name], "-p", f"tests.conformance.mutants.{name}"))


def by_url(name: str) -> Run:
    with served(name) as url:
        return run(pytest_args(MUTANTS[name], "--base-url", url, "--control-url", url))


def control(name: str = CONTROL) -> Run:
    stateful = sorted({m.tests for m in MUTANTS.values() if m.stateful})
    return run(pytest_args(Mutant(" or ".join(stateful), "")))


CASES = [(name, mode) for name in MUTANTS for mode in ("in_process", "by_url")]


def selected(session: pytest.Session) -> list[tuple[str, str]]:
    """The runs the session's selected tests wait for (`-k` picks mutants and modes)."""
    wanted = []
    for item in session.items:
        if item.module is sys.modules[__name__] and hasattr(item, "callspec"):
            wanted.append((item.callspec.params["name"], item.callspec.params["mode"]))
        elif item.name == "test_the_sandbox_itself_passes":
            wanted.append((CONTROL, "in_process"))
    return wanted


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest) -> Iterator[dict[tuple[str, str], Future[Run]]]:
    modes = {"in_process": in_process, "by_url": by_url}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        # The longest runs go first (the control, then those by URL): the lanes end together.
        started = {}
        for name, mode in sorted(selected(request.session), key=lambda c: (c[0] != CONTROL, c[1])):
            started[name, mode] = pool.submit(control if name == CONTROL else modes[mode], name)
        yield started


def test_every_mutant_is_a_plugin_module() -> None:
    folder = ROOT / "tests" / "conformance" / "mutants"
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    assert modules == set(MUTANTS)


def test_the_sandbox_itself_passes(runs: dict[tuple[str, str], Future[Run]]) -> None:
    result = runs[CONTROL, "in_process"].result()
    assert result.returncode == 0, result.tail()
    assert " passed" in result.output and "failed" not in result.output


@pytest.mark.parametrize(("name", "mode"), CASES, ids=[f"{n}-{m}" for n, m in CASES])
def test_the_suite_catches(name: str, mode: str, runs: dict[tuple[str, str], Future[Run]]) -> None:
    result = runs[name, mode].result()
    output = result.output
    assert result.returncode == 1, (
        f"exit code {result.returncode}, expected 1 (a check failed):\n" + (result.tail())
    )
    # The failure names the broken expectation (and the reference section behind it).
    assert MUTANTS[name].names in output, result.tail()
    if MUTANTS[name].stateful:
        machine = next(line for line in output.splitlines() if "state = " in line)
        program = output[output.index(machine) :]
        # The reproducer: the machine, the steps Hypothesis found, each call with its answer.
        assert "state.teardown()" in program, result.tail()
        assert " -> " in program and ("POST /v2/" in program or "PUT " in program), result.tail()
