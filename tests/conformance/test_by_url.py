"""The conformance suite judges a sandbox served on a loopback port, over real sockets: the
quick profile passes whole with the control API, and without it (`--base-url` alone, as against
a staging server) every check that needs no controller runs and each skipped one says why.

Both runs print their summary of documented behaviours at the end of this session too.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from conformance.plugin import NO_CONTROLLER
from tests.conformance.conftest import SUMMARIES
from tests.conformance.runs import Run, conformance
from tests.served import served

# Behaviours that need no controller: they run against any target.
WITHOUT_CONTROLLER = {
    "bad_token_is_access_token_invalid",
    "missing_token_is_access_token_invalid",
    "oauth_errors_are_flat",
    "client_chunk_plans_follow_ref_10_1",
}


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, Future[Run]]]:
    with served() as url, ThreadPoolExecutor(max_workers=2) as pool:
        yield {
            "whole": pool.submit(conformance, base_url=url),
            "base_url_only": pool.submit(conformance, base_url=url, control=False),
        }


def test_the_quick_profile_passes_against_a_served_sandbox(runs: dict[str, Future[Run]]) -> None:
    run = runs["whole"].result()
    SUMMARIES.append(("conformance by URL (served sandbox): documented behaviours", run.summary()))
    assert run.returncode == 0, run.tail()
    behaviours = run.behaviours()
    assert behaviours, "no summary of documented behaviours:\n" + run.tail()
    assert {result for _, result in behaviours.values()} == {"passed"}, run.summary()
    assert all(examples > 0 for examples, _ in behaviours.values()), run.summary()


def test_without_the_control_api_the_rest_runs_and_each_skip_says_why(
    runs: dict[str, Future[Run]],
) -> None:
    run = runs["base_url_only"].result()
    SUMMARIES.append(("conformance by URL without control: documented behaviours", run.summary()))
    assert run.returncode == 0, run.tail()  # skips keep the run green
    behaviours = run.behaviours()
    passed = {name for name, (_, result) in behaviours.items() if result == "passed"}
    assert passed >= WITHOUT_CONTROLLER, run.summary()
    skipped = {name: result for name, (_, result) in behaviours.items() if name not in passed}
    assert skipped, run.summary()
    assert all(result == f"skipped: {NO_CONTROLLER}" for result in skipped.values()), skipped
    # Each skipped test is named under its reason.
    summary = run.summary()
    heading = next(
        i for i, line in enumerate(summary) if line.startswith(f"skipped, {NO_CONTROLLER}")
    )
    named = [line for line in summary[heading + 1 :] if line.startswith("  suite/test_")]
    assert len(named) == int(summary[heading].split()[-2]), summary
