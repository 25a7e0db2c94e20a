"""Turns settings (from a scenario file or the control API) into apps and creators in a World.

Faker, seeded from the sandbox seed, fills whatever creator details the settings leave out, so
the same seed always gives the same people.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from faker import Faker

from mock_server.domain.caps import DAY_SECONDS
from mock_server.domain.faults import FaultRule, parse_rule
from mock_server.domain.ids import CountedRandom, IdFactory
from mock_server.domain.models import App, Creator
from mock_server.domain.outcomes import FAIL_REASONS, Injection
from mock_server.domain.scopes import SCOPES
from mock_server.domain.settings import (
    APP_SETTINGS,
    CREATOR_SETTINGS,
    SettingError,
    check_app_consistency,
    check_settings,
)
from mock_server.domain.world import (
    MAX_APPS,
    MAX_CREATORS,
    MAX_FAULT_RULES,
    MAX_INJECTIONS,
    World,
)

AVATAR_COLORS = ("#fe2c55", "#25f4ee", "#7b61ff", "#ff9f1c", "#2ec4b6", "#e71d36", "#3a86ff")
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback/"


def new_faker(seed: int) -> Faker:
    faker = Faker()
    faker.seed_instance(seed)
    rng = CountedRandom()  # the same draws, counted (domain.ids.CountedRandom)
    rng.setstate(faker.random.getstate())
    faker.random = rng  # type: ignore[attr-defined]  # a property Faker's stubs leave out
    return faker


def add_creator(
    world: World, faker: Faker, settings: Mapping[str, Any], where: str, now: float
) -> Creator:
    _room(len(world.creators), MAX_CREATORS, where, "creators")
    values = check_settings(settings, CREATOR_SETTINGS, where)
    username = values.pop("username", None) or _free_username(world, faker)
    if username in world.creators:
        raise SettingError(f"{where}.username", "a username not already taken", username)
    counters = {k: values.pop(k) for k in COUNTERS if k in values}
    creator = Creator(
        uid=world.ids.creator_uid(),
        username=username,
        nickname=values.pop("nickname", None) or faker.name(),
        bio_description=values.pop("bio_description", None) or faker.sentence(nb_words=8),
        follower_count=values.pop("follower_count", faker.random_int(0, 250_000)),
        following_count=values.pop("following_count", faker.random_int(0, 2_000)),
        likes_count=values.pop("likes_count", faker.random_int(0, 5_000_000)),
        video_count=values.pop("video_count", faker.random_int(0, 800)),
        avatar_color=values.pop("avatar_color", faker.random_element(AVATAR_COLORS)),
        **values,
    )
    set_counters(creator, counters, now)
    world.add_creator(creator)
    return creator


def _free_username(world: World, faker: Faker) -> str:
    base = re.sub(r"[^A-Za-z0-9._]", "", faker.user_name())[:18] or "creator"
    name, n = base, 1
    while name in world.creators or len(name) < 2:
        n += 1
        name = f"{base}{n}"
    return name


# Settings that are not stored as such but set a rolling 24 h history to a count.
COUNTERS = ("posts_last_24h", "pending_shares")


def set_counters(creator: Creator, counters: Mapping[str, int], now: float) -> None:
    """`posts_last_24h`: the creator's Direct Posts in the last 24 h become exactly that many
    (made `now`). `pending_shares`: that many inbox drafts are declared pending (made `now`), on
    top of the drafts real publishes left pending."""
    if "posts_last_24h" in counters:
        creator.post_times = [t for t in creator.post_times if t <= now - DAY_SECONDS]
        creator.post_times.extend([now] * counters["posts_last_24h"])
    if "pending_shares" in counters:
        creator.pending_share_times = [now] * counters["pending_shares"]


def update_creator(creator: Creator, settings: Mapping[str, Any], where: str, now: float) -> None:
    values = check_settings(settings, CREATOR_SETTINGS, where, updating=True)
    set_counters(creator, {k: values.pop(k) for k in COUNTERS if k in values}, now)
    for key, value in values.items():
        setattr(creator, key, value)


def app_defaults(ids: IdFactory, values: Mapping[str, Any], index: int) -> dict[str, Any]:
    stage = values.get("stage", "audited")
    return {
        "name": f"Sandbox app {index}",
        "stage": stage,
        "scopes": list(SCOPES),
        "redirect_uris": [DEFAULT_REDIRECT_URI],
        "client_key": values.get("client_key") or ids.client_key(stage),
        "client_secret": values.get("client_secret") or ids.client_secret(),
    }


def _room(count: int, limit: int, where: str, what: str) -> None:
    if count >= limit:
        raise SettingError(where, f"room for it: a sandbox holds at most {limit} {what}", count)


def add_app(world: World, settings: Mapping[str, Any], where: str) -> App:
    _room(len(world.apps), MAX_APPS, where, "apps")
    values = check_settings(settings, APP_SETTINGS, where)
    values = {**app_defaults(world.ids, values, len(world.apps) + 1), **values}
    if values["client_key"] in world.apps:
        raise SettingError(
            f"{where}.client_key", "a client_key not already taken", values["client_key"]
        )
    check_app_consistency(values, where, set(world.creators))
    app = App(**values)
    world.apps[app.client_key] = app
    return app


def update_app(world: World, app: App, settings: Mapping[str, Any], where: str) -> None:
    values = check_settings(settings, APP_SETTINGS, where, updating=True)
    merged = {key: getattr(app, key) for key in APP_SETTINGS} | values
    check_app_consistency(merged, where, set(world.creators))
    for key, value in values.items():
        setattr(app, key, value)


def populate(
    world: World,
    faker: Faker,
    apps: Sequence[Mapping[str, Any]],
    creators: Sequence[Mapping[str, Any]],
    now: float,
    source: str,
) -> None:
    """Creators first (sandbox apps name them as target users), then apps."""
    for i, settings in enumerate(creators):
        add_creator(world, faker, settings, f"{source}: creators[{i}]", now)
    for i, settings in enumerate(apps):
        add_app(world, settings, f"{source}: apps[{i}]")


INJECTION_KEYS = ("fail_reason", "client_key", "creator", "count")


def injection_from(data: object, world: World, where: str) -> Injection:
    """An injected processing outcome from a scenario or the control API.

    `{"fail_reason": "internal", "client_key": K?, "creator": username?, "count": N | null}`:
    the next N (default 1; null for every) matching publishes fail with that reason.
    """
    _room(len(world.injections), MAX_INJECTIONS, where, "injected outcomes")
    if not isinstance(data, Mapping):
        raise SettingError(where, "a mapping with fail_reason", data)
    for key in data:
        if key not in INJECTION_KEYS:
            raise SettingError.unknown_key(where, key, "one of " + ", ".join(INJECTION_KEYS))
    reason = data.get("fail_reason")
    if reason not in FAIL_REASONS:
        raise SettingError(f"{where}.fail_reason", "one of " + ", ".join(FAIL_REASONS), reason)
    client_key = data.get("client_key")
    if client_key is not None and (not isinstance(client_key, str) or client_key not in world.apps):
        raise SettingError(f"{where}.client_key", "the client_key of an app", client_key)
    username = data.get("creator")
    creator = world.creators.get(username) if isinstance(username, str) else None
    if username is not None and creator is None:
        raise SettingError(f"{where}.creator", "the username of a creator", username)
    count = data.get("count", 1)
    if count is not None and (type(count) is not int or count < 1):
        raise SettingError(f"{where}.count", "a positive integer or null (every publish)", count)
    return Injection(reason, client_key, creator.uid if creator else None, count)


def add_fault(world: World, data: object, where: str) -> FaultRule:
    """Validate a fault rule (scenario `faults` item or control API body) and arm it."""
    _room(len(world.faults), MAX_FAULT_RULES, where, "fault rules")
    usernames = {name: creator.uid for name, creator in world.creators.items()}
    rule = parse_rule(data, "", where, world.apps, usernames)
    rule.rule_id = world.next_fault_id()  # only a valid rule takes an id
    world.faults.append(rule)
    return rule
