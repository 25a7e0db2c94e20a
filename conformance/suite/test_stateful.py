"""The model of the documented contract (conformance/model.py), run against the target.

One run of the whole model, and narrower runs that keep only the rules of one area, so that a
broken rule in that area is found in a few seconds (and `-k` picks the area). A failure prints
as the program of API calls that breaks the contract, each call noted with its answer.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import Phase, settings
from hypothesis.internal.conjecture import engine
from hypothesis.stateful import run_state_machine_as_test

from conformance.controller import Controller
from conformance.library import MediaLibrary
from conformance.media_host import MediaHost
from conformance.model import (
    ActiveCreators,
    ContractMachine,
    DailyPostCap,
    Kit,
    MediaTransfer,
    PendingShares,
    PhotoPulls,
    PrivacyRules,
    RateLimits,
    TokenLifecycle,
)
from conformance.plugin import examples, profile

# Runs per test scale with the profile. The quick profile also bounds the shrinker (at most
# 2 s of simplifying a failing program: a limit Hypothesis documents as settable), so a broken
# target fails in seconds with a short program; `--conformance-profile thorough` shrinks it to
# the minimal one. (When the time runs out Hypothesis says "five minutes" whatever the limit.)
RUNS = {"quick": 1, "thorough": 10}
SHRINKING = {"quick": (100, 2), "thorough": (engine.MAX_SHRINKS, engine.MAX_SHRINKING_SECONDS)}


def run(machine: type[ContractMachine], kit: Kit, *, runs: int, steps: int) -> None:
    chosen = settings(
        examples(),
        max_examples=runs * RUNS[profile()],
        stateful_step_count=steps * (2 if profile() == "thorough" else 1),
        # No "explain" phase: its line tracing makes every replay while shrinking several
        # times slower, and the program of API calls already says what failed.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    )
    defaults = engine.MAX_SHRINKS, engine.MAX_SHRINKING_SECONDS
    engine.MAX_SHRINKS, engine.MAX_SHRINKING_SECONDS = SHRINKING[profile()]
    try:
        run_state_machine_as_test(machine.bound(kit), settings=chosen)
    finally:
        engine.MAX_SHRINKS, engine.MAX_SHRINKING_SECONDS = defaults


@pytest.fixture(scope="session")
def holding_host(media: MediaLibrary) -> Iterator[MediaHost]:
    """A real 1080x1920 JPEG at every path on 127.0.0.1, each pull held until released."""
    with MediaHost(media.image().read_bytes(), "image/jpeg") as host:
        yield host


@pytest.fixture
def kit(
    request: pytest.FixtureRequest,
    http: httpx.Client,
    controller: Controller,
    media: MediaLibrary,
    holding_host: MediaHost,
) -> Kit:
    """The model's means, named after the test's behaviour (the report counts runs)."""
    behaviour = next(request.node.iter_markers("behaviour")).args[0]
    # A 3.5 s H.264 MP4 of about 20 kB: under 5 MB, so uploaded whole (ref 10.1).
    return Kit(http, controller, media.video().read_bytes(), holding_host, behaviour)


@pytest.mark.behaviour("model_whole_contract", "2-15")
def test_whole_contract(kit: Kit) -> None:
    run(ContractMachine, kit, runs=8, steps=40)


@pytest.mark.behaviour("model_tokens", "2.2-2.6")
def test_tokens(kit: Kit) -> None:
    run(TokenLifecycle, kit, runs=24, steps=20)


@pytest.mark.behaviour("model_privacy_rules", "6, 7.1, 7.4, 15.1")
def test_privacy_rules(kit: Kit) -> None:
    run(PrivacyRules, kit, runs=24, steps=20)


@pytest.mark.behaviour("model_daily_post_cap", "15.2")
def test_daily_post_cap(kit: Kit) -> None:
    run(DailyPostCap, kit, runs=8, steps=30)


@pytest.mark.behaviour("model_pending_shares", "8")
def test_pending_shares(kit: Kit) -> None:
    run(PendingShares, kit, runs=12, steps=20)


@pytest.mark.behaviour("model_active_creators", "15.1, 15.2")
def test_active_creators(kit: Kit) -> None:
    run(ActiveCreators, kit, runs=12, steps=20)


@pytest.mark.behaviour("model_rate_limits", "4.3")
def test_rate_limits(kit: Kit) -> None:
    run(RateLimits, kit, runs=10, steps=30)


@pytest.mark.behaviour("model_media_transfer", "7.2, 10")
def test_media_transfer(kit: Kit) -> None:
    run(MediaTransfer, kit, runs=24, steps=20)


@pytest.mark.behaviour("model_photo_pulls", "9, 10.4, 11, 12")
def test_photo_pulls(kit: Kit) -> None:
    run(PhotoPulls, kit, runs=18, steps=20)
