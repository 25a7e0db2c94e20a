"""Fault rules in the domain: validation (`parse_rule`), when a rule fires (`fire`), and the
latency it draws (`draw_latency`), all on a seeded generator."""

from __future__ import annotations

import random
import statistics
from typing import Any

import pytest

from mock_server.domain.faults import (
    FAULT_ENDPOINTS,
    MAX_LATENCY_MS,
    FaultRule,
    draw_latency,
    fire,
    parse_rule,
)
from mock_server.domain.settings import SettingError

APPS = {"awone": object(), "awtwo": object()}
CREATORS = {"ana": "uid-ana", "ben": "uid-ben"}


def parse(data: object, where: str = "fault") -> FaultRule:
    return parse_rule(data, "fault-1", where, APPS, CREATORS)


# -- parse_rule: refusals name the field ------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ("503 please", "fault"),
        ({"status": 500, "bogus": 1}, "fault.bogus"),
        ({"action": "explode"}, "fault.action"),
        ({"endpoint": "video/init", "status": 500}, "fault.endpoint"),
        ({"endpoint": "video_init", "action": "chunk_5xx"}, "fault.endpoint"),
        ({"endpoint": "token", "action": "lose_progress"}, "fault.endpoint"),
        ({"client_key": "awnobody", "status": 500}, "fault.client_key"),
        ({"creator": "nobody", "status": 500}, "fault.creator"),
        ({"creator": "uid-ana", "status": 500}, "fault.creator"),  # a username, not a uid
        ({"nth": 0, "status": 500}, "fault.nth"),
        ({"nth": 1.5, "status": 500}, "fault.nth"),
        ({"nth": True, "status": 500}, "fault.nth"),
        ({"probability": 1.5, "status": 500}, "fault.probability"),
        ({"probability": -0.1, "status": 500}, "fault.probability"),
        ({"probability": "0.5", "status": 500}, "fault.probability"),
        ({"probability": True, "status": 500}, "fault.probability"),
        ({"times": 0, "status": 500}, "fault.times"),
        ({"times": "2", "status": 500}, "fault.times"),
        ({"status": 399}, "fault.status"),
        ({"status": 600}, "fault.status"),
        ({"status": "500"}, "fault.status"),
        ({"status": True}, "fault.status"),
        ({"action": "chunk_5xx", "status": 429}, "fault.status"),  # chunk rejections are 5xx
        ({"status": 500, "error_code": "kaboom"}, "fault.error_code"),
        ({"status": 500, "message": 5}, "fault.message"),
        ({}, "fault.latency_ms"),  # no status: a latency rule, which needs a latency
        ({"action": "latency"}, "fault.latency_ms"),
        ({"latency_ms": -1}, "fault.latency_ms"),
        ({"latency_ms": MAX_LATENCY_MS + 1}, "fault.latency_ms"),
        ({"latency_ms": "5"}, "fault.latency_ms"),
        ({"latency": 5}, "fault.latency"),
        ({"latency": {"distribution": "pareto"}}, "fault.latency.distribution"),
        ({"latency": {"ms": -5}}, "fault.latency.ms"),
        ({"latency": {"distribution": "uniform", "min_ms": 5}}, "fault.latency.max_ms"),
        (
            {"latency": {"distribution": "uniform", "min_ms": 10, "max_ms": 5}},
            "fault.latency.max_ms",
        ),
        ({"latency": {"distribution": "uniform", "max_ms": 5}}, "fault.latency.min_ms"),
        ({"latency": {"distribution": "exponential"}}, "fault.latency.mean_ms"),
        ({"latency": {"distribution": "normal", "mean_ms": 5}}, "fault.latency.stddev_ms"),
        (
            {"latency": {"distribution": "normal", "mean_ms": -1, "stddev_ms": 1}},
            "fault.latency.mean_ms",
        ),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(data: Any, key: str) -> None:
    with pytest.raises(SettingError) as refused:
        parse(data)
    assert refused.value.key == key
    assert str(refused.value).startswith(f"{key}: expected ")


def test_the_refusal_names_where_the_rule_came_from() -> None:
    with pytest.raises(SettingError, match=r"^lab\.yaml: faults\[2\]\.nth: expected a positive"):
        parse({"nth": -1, "status": 500}, where="lab.yaml: faults[2]")


def test_a_refused_value_is_shown_and_the_choices_listed() -> None:
    with pytest.raises(SettingError) as refused:
        parse({"endpoint": "video/init", "status": 500})
    assert "got 'video/init'" in str(refused.value)
    assert all(name in str(refused.value) for name in FAULT_ENDPOINTS)


# -- parse_rule: what a valid rule means ------------------------------------------------------


def test_a_status_alone_makes_an_error_rule() -> None:
    rule = parse({"endpoint": "video_init", "status": 503})
    assert (rule.action, rule.endpoint, rule.status, rule.error_code) == (
        "error",
        "video_init",
        503,
        None,
    )
    assert (rule.nth, rule.probability, rule.times, rule.latency) == (None, None, None, {})


def test_an_error_rule_defaults_to_500() -> None:
    assert parse({"action": "error"}).status == 500


def test_a_chunk_rejection_defaults_to_503_on_the_upload_endpoint() -> None:
    rule = parse({"action": "chunk_5xx"})
    assert (rule.endpoint, rule.status) == ("upload", 503)


@pytest.mark.parametrize("action", ["lose_progress", "expire_upload_url"])
def test_upload_faults_always_match_the_upload_endpoint(action: str) -> None:
    assert parse({"action": action}).endpoint == "upload"
    assert parse({"action": action, "endpoint": "upload"}).endpoint == "upload"


def test_nth_fires_once_unless_told_otherwise() -> None:
    assert parse({"nth": 3, "status": 500}).times == 1
    assert parse({"nth": 3, "status": 500, "times": None}).times is None
    assert parse({"status": 500}).times is None


def test_the_creator_is_named_by_username_and_kept_as_its_uid() -> None:
    rule = parse({"creator": "ben", "client_key": "awtwo", "status": 500})
    assert (rule.creator_uid, rule.client_key) == ("uid-ben", "awtwo")


def test_an_error_rule_may_also_wait() -> None:
    rule = parse({"status": 429, "error_code": "rate_limit_exceeded", "latency_ms": 5})
    assert (rule.action, rule.status, rule.error_code) == ("error", 429, "rate_limit_exceeded")
    assert draw_latency(rule.latency, random.Random(0)) == 0.005


def test_oauth_error_codes_are_accepted_too() -> None:
    assert parse({"endpoint": "token", "status": 503, "error_code": "server_error"}).error_code


# -- fire -------------------------------------------------------------------------------------


def rule(**fields: Any) -> FaultRule:
    return FaultRule(
        rule_id=fields.pop("rule_id", "r"), action=fields.pop("action", "error"), **fields
    )


def fired(
    rules: list[FaultRule],
    count: int,
    rng: random.Random | None = None,
    endpoint: str = "video_init",
    client_key: str | None = "awone",
    creator_uid: str | None = "uid-ana",
) -> list[list[str]]:
    """The ids of the rules that fire on each of `count` identical requests."""
    rng = rng or random.Random(0)
    return [
        [hit.rule.rule_id for hit in fire(rules, rng, endpoint, client_key, creator_uid)]
        for _ in range(count)
    ]


def test_nth_fires_exactly_on_the_nth_matching_request() -> None:
    third = rule(nth=3, times=1)
    assert fired([third], 8) == [[], [], ["r"], [], [], [], [], []]
    assert third.fired == 1


def test_nth_fires_once_even_without_a_times_limit() -> None:
    third = rule(nth=3)
    assert fired([third], 8) == [[], [], ["r"], [], [], [], [], []]


def test_only_matching_requests_count_towards_nth() -> None:
    second = rule(nth=2, endpoint="status_fetch", times=1)
    rng = random.Random(0)
    for endpoint in ("video_init", "status_fetch", "cancel", "video_init"):
        assert fire([second], rng, endpoint, "awone", "uid-ana") == []
    assert [h.rule for h in fire([second], rng, "status_fetch", "awone", "uid-ana")] == [second]
    assert second.seen == 2


def test_without_nth_or_probability_every_matching_request_fires() -> None:
    always = rule()
    assert fired([always], 4) == [["r"]] * 4
    assert (always.seen, always.fired) == (4, 4)


def test_times_limits_how_often_a_rule_fires() -> None:
    twice = rule(times=2)
    assert fired([twice], 5) == [["r"], ["r"], [], [], []]
    assert twice.fired == 2 and twice.spent()


def test_a_spent_rule_stops_counting() -> None:
    once = rule(times=1)
    fired([once], 4)
    assert (once.seen, once.fired) == (1, 1)


@pytest.mark.parametrize(
    ("fields", "matches"),
    [
        ({"endpoint": "video_init"}, True),
        ({"endpoint": "creator_info"}, False),
        ({"client_key": "awone"}, True),
        ({"client_key": "awtwo"}, False),
        ({"creator_uid": "uid-ana"}, True),
        ({"creator_uid": "uid-ben"}, False),
        ({"endpoint": "video_init", "client_key": "awone", "creator_uid": "uid-ana"}, True),
        ({"endpoint": "video_init", "client_key": "awone", "creator_uid": "uid-ben"}, False),
        ({}, True),
    ],
)
def test_a_rule_matches_on_endpoint_app_and_creator(fields: dict, matches: bool) -> None:
    candidate = rule(**fields)
    assert fired([candidate], 1) == [["r"] if matches else []]
    assert candidate.seen == (1 if matches else 0)


def test_a_creator_rule_never_matches_a_request_without_a_creator() -> None:
    # The OAuth endpoints know the app (form client_key) but no creator.
    assert fired([rule(creator_uid="uid-ana")], 1, endpoint="token", creator_uid=None) == [[]]
    assert fired([rule(client_key="awone")], 1, endpoint="token", creator_uid=None) == [["r"]]


def test_several_rules_fire_on_one_request_in_the_order_they_were_added() -> None:
    rules = [
        rule(rule_id="slow", action="latency", latency={"ms": 10.0}),
        rule(rule_id="other-app", client_key="awtwo"),
        rule(rule_id="second", nth=2, times=1),
        rule(rule_id="fail", status=503),
    ]
    assert fired(rules, 3) == [["slow", "fail"], ["slow", "second", "fail"], ["slow", "fail"]]


def test_a_hit_carries_its_drawn_latency_in_seconds() -> None:
    hits = fire(
        [rule(action="latency", latency={"ms": 250.0})], random.Random(0), "cancel", None, None
    )
    assert [h.latency_seconds for h in hits] == [0.25]
    assert fire([rule()], random.Random(0), "cancel", None, None)[0].latency_seconds == 0.0


def outcomes(seed: int, probability: float, count: int) -> list[bool]:
    rng = random.Random(f"faults:{seed}")
    maybe = rule(probability=probability)
    return [bool(ids) for ids in fired([maybe], count, rng)]


def test_probability_is_deterministic_for_a_seed() -> None:
    assert outcomes(7, 0.3, 200) == outcomes(7, 0.3, 200)
    assert outcomes(7, 0.3, 200) != outcomes(8, 0.3, 200)


@pytest.mark.parametrize("probability", [0.1, 0.5, 0.9])
def test_probability_fires_roughly_that_often(probability: float) -> None:
    share = sum(outcomes(3, probability, 2000)) / 2000
    assert abs(share - probability) < 0.05


@pytest.mark.parametrize(("probability", "expected"), [(0.0, False), (1.0, True)])
def test_probability_zero_never_fires_and_one_always_fires(
    probability: float, expected: bool
) -> None:
    assert set(outcomes(1, probability, 100)) == {expected}


def test_probability_and_times_together_stop_after_times_hits() -> None:
    capped = rule(probability=0.5, times=3)
    fired([capped], 100, random.Random(4))
    assert capped.fired == 3 and capped.seen < 100


def test_rules_that_draw_nothing_leave_the_others_draws_alone() -> None:
    """Adding an nth or always-on rule does not shift a probability rule's outcomes."""
    alone = [bool(ids) for ids in fired([rule(probability=0.5)], 50, random.Random(9))]
    mixed = fired(
        [rule(rule_id="nth", nth=5, times=1), rule(probability=0.5), rule(rule_id="all")],
        50,
        random.Random(9),
    )
    assert ["r" in ids for ids in mixed] == alone


# -- latency: what a parsed rule draws -------------------------------------------------------


def draws(latency: dict[str, Any], seed: int = 0, count: int = 500) -> list[float]:
    """Seconds drawn by `count` firings of a rule with this `latency` (scenario syntax)."""
    spec = parse({"latency": latency}).latency
    rng = random.Random(seed)
    return [draw_latency(spec, rng) for _ in range(count)]


def test_no_latency_is_zero_and_draws_nothing() -> None:
    rng = random.Random(1)
    assert draw_latency(parse({"status": 500}).latency, rng) == 0.0
    assert rng.random() == random.Random(1).random()


@pytest.mark.parametrize(
    "data",
    [{"latency_ms": 80}, {"latency": {"ms": 80}}, {"latency": {"distribution": "fixed", "ms": 80}}],
)
def test_fixed_latency_is_exact(data: dict[str, Any]) -> None:
    spec = parse(data).latency
    rng = random.Random(0)
    assert {draw_latency(spec, rng) for _ in range(5)} == {0.08}


def test_uniform_latency_stays_within_its_bounds() -> None:
    values = draws({"distribution": "uniform", "min_ms": 20, "max_ms": 60})
    assert all(0.02 <= v <= 0.06 for v in values)
    assert min(values) < 0.025 and max(values) > 0.055  # it spreads over the range


def test_exponential_latency_is_non_negative_around_its_mean() -> None:
    values = draws({"distribution": "exponential", "mean_ms": 40}, count=2000)
    assert min(values) >= 0
    assert 0.035 < statistics.fmean(values) < 0.045
    assert draws({"distribution": "exponential", "mean_ms": 0}, count=3) == [0.0, 0.0, 0.0]


def test_normal_latency_is_clipped_at_zero() -> None:
    values = draws({"distribution": "normal", "mean_ms": 10, "stddev_ms": 20}, count=2000)
    assert min(values) == 0.0  # negative draws become no delay
    assert 0.005 < statistics.fmean(values) < 0.02


def test_latency_is_capped_at_two_minutes() -> None:
    values = draws({"distribution": "exponential", "mean_ms": MAX_LATENCY_MS}, count=500)
    assert max(values) == MAX_LATENCY_MS / 1000


@pytest.mark.parametrize(
    "latency",
    [
        {"distribution": "uniform", "min_ms": 0, "max_ms": 100},
        {"distribution": "exponential", "mean_ms": 50},
        {"distribution": "normal", "mean_ms": 50, "stddev_ms": 10},
    ],
)
def test_latency_draws_are_deterministic_per_seed(latency: dict[str, Any]) -> None:
    assert draws(latency, seed=5) == draws(latency, seed=5)
    assert draws(latency, seed=5) != draws(latency, seed=6)
