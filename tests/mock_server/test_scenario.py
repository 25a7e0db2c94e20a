"""Scenario files: the embedded default, validation errors that say where, seeded details."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server import Sandbox, ScenarioError
from mock_server.scenario import builtin_names, load_scenario, parse_scenario, resolve


def write(tmp_path: Path, text: str, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the default scenario -------------------------------------------------------------------


@pytest.fixture(scope="module")
def default() -> Sandbox:
    return Sandbox("default")


def test_builtin_names_include_default() -> None:
    names = builtin_names()
    assert "default" in names
    assert names == sorted(names)
    for name in names:
        assert resolve(name).is_file()


def test_every_builtin_scenario_loads() -> None:
    for name in builtin_names():
        scenario = load_scenario(name)
        assert scenario.name
        assert scenario.description
        Sandbox(name)  # apps and creators build too


def test_default_scenario_metadata() -> None:
    scenario = load_scenario()
    assert scenario.name == "default"
    assert scenario.source == "default.yaml"
    assert scenario.apps and scenario.creators


def test_default_has_an_app_at_each_stage(default: Sandbox) -> None:
    apps = default.state.world.apps.values()
    assert {"audited", "unaudited", "sandbox"} <= {a.stage for a in apps}
    for app in apps:
        assert app.redirect_uris
        assert "user.info.basic" in app.scopes
    sandbox_app = next(a for a in apps if a.stage == "sandbox")
    assert sandbox_app.target_users
    assert set(sandbox_app.target_users) <= set(default.state.world.creators)
    # Sandbox apps' keys start `sb` (ref 2.4).
    assert sandbox_app.client_key.startswith("sb")


def test_default_creators_are_varied(default: Sandbox) -> None:
    creators = list(default.state.world.creators.values())
    assert {c.account for c in creators} == {"public", "private"}
    for flag in ("comment_disabled", "duet_disabled", "stitch_disabled"):
        assert {getattr(c, flag) for c in creators} == {True, False}, flag
    assert len({c.max_video_post_duration_sec for c in creators}) >= 3


# -- validation errors ----------------------------------------------------------------------

BAD_SCENARIOS = {
    "unknown top-level key": (
        "name: x\ncreatorz: []\n",
        ["creatorz", "expected a known key"],
    ),
    "wrong stage": (
        "apps:\n  - name: A\n    stage: production\n",
        ["apps[0].stage", "one of sandbox, unaudited, audited", "'production'"],
    ),
    "bad redirect URI for a web app": (
        "apps:\n  - name: A\n    platform: web\n    redirect_uris: ['http://example.com/cb']\n",
        ["apps[0].redirect_uris[0]", "https", "'http://example.com/cb'"],
    ),
    "target_users on a non-sandbox app": (
        "creators:\n  - username: ana\n"
        "apps:\n  - name: A\n    stage: audited\n    target_users: [ana]\n",
        ["apps[0].target_users", "only on a sandbox app"],
    ),
    "unknown target user": (
        "creators:\n  - username: ana\n"
        "apps:\n  - name: A\n    stage: sandbox\n    target_users: [ana, nobody]\n",
        ["apps[0].target_users[1]", "the username of a creator", "'nobody'"],
    ),
    "wrong type for a bool": (
        "creators:\n  - username: ana\n    banned: 1\n",
        ["creators[0].banned", "true or false", "got 1"],
    ),
    "wrong type for a bool (string)": (
        "apps:\n  - name: A\n    direct_post_enabled: 'no'\n",
        ["apps[0].direct_post_enabled", "true or false", "'no'"],
    ),
    "bad clock.start": (
        "clock:\n  start: next tuesday\n",
        ["clock.start", "ISO 8601", "'next tuesday'"],
    ),
    "clock.start out of range": (
        "clock:\n  start: '0001-01-01T00:00:00+14:00'\n",
        ["clock.start", "between"],
    ),
    "bad clock.frozen": (
        "clock:\n  frozen: sometimes\n",
        ["clock.frozen", "true or false"],
    ),
    "unknown clock key": (
        "clock:\n  speed: 2\n",
        ["clock.speed"],
    ),
    "unknown app setting": (
        "apps:\n  - name: A\n    scope: [user.info.basic]\n",
        ["apps[0].scope", "a known setting"],
    ),
    "unknown scope": (
        "apps:\n  - name: A\n    scopes: [user.info.everything]\n",
        ["apps[0].scopes", "'user.info.everything'"],
    ),
    "negative seed": (
        "seed: -3\n",
        ["seed", "non-negative integer"],
    ),
    "apps not a list": (
        "apps:\n  name: A\n",
        ["apps", "a list"],
    ),
    "creator not a mapping": (
        "creators:\n  - ana\n",
        ["creators[0]", "a mapping"],
    ),
    "duplicate username": (
        "creators:\n  - username: ana\n  - username: ana\n",
        ["creators[1].username", "not already taken"],
    ),
    "max duration too long": (
        "creators:\n  - max_video_post_duration_sec: 99999\n",
        ["creators[0].max_video_post_duration_sec", "<= 3600"],
    ),
    "bad oauth.error_status": (
        "oauth:\n  error_status: loud\n",
        ["oauth.error_status", "observed, rfc"],
    ),
    "bad posting.bad_input_code": (
        "posting:\n  bad_input_code: invalid_parameter\n",
        ["posting.bad_input_code", "invalid_params, invalid_param"],
    ),
    "unknown display key": (
        "display:\n  unknown: refuse\n",
        ["display.unknown", "unknown_fields, unscoped_fields"],
    ),
    "bad display.unscoped_fields": (
        "display:\n  unscoped_fields: drop\n",
        ["display.unscoped_fields", "scope_not_authorized, scope_permission_missed, omit"],
    ),
    "display not a mapping": (
        "display: refuse\n",
        ["display", "a mapping"],
    ),
    "top level not a mapping": (
        "- just\n- a list\n",
        ["(top level)", "a mapping"],
    ),
    "not YAML": (
        "apps: [unclosed\n",
        ["not valid YAML"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_SCENARIOS))
def test_validation_error_names_file_key_and_expectation(tmp_path: Path, case: str) -> None:
    text, fragments = BAD_SCENARIOS[case]
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        Sandbox(path)
    message = str(info.value)
    assert message.startswith("broken.yaml: "), message
    for fragment in fragments:
        assert fragment in message, message


def test_shape_errors_are_found_without_building(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nflavour: sweet\n")
    with pytest.raises(ScenarioError, match=r"broken\.yaml: flavour"):
        load_scenario(path)


def test_missing_file_and_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "absent.yaml")
    with pytest.raises(ScenarioError, match=r"unknown scenario 'nope'.*default"):
        load_scenario("nope")


def test_a_name_too_long_for_the_file_system_is_an_unknown_scenario(tmp_path: Path) -> None:
    long = "x" * 5000  # longer than any file name the system takes (ENAMETOOLONG)
    with pytest.raises(ScenarioError, match="unknown scenario"):
        load_scenario(long)
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / f"{long}.yaml")


def test_behaviour_choices_default_to_what_tiktok_was_seen_doing() -> None:
    scenario = parse_scenario({"name": "plain"}, "plain.yaml")
    assert scenario.oauth_error_status == "observed"
    assert scenario.posting_bad_input_code == "invalid_params"
    assert (scenario.display_unknown_fields, scenario.display_unscoped_fields) == (
        "ignore",
        "scope_not_authorized",
    )
    chosen = parse_scenario(
        {
            "posting": {"bad_input_code": "invalid_param"},
            "display": {"unknown_fields": "refuse", "unscoped_fields": "omit"},
        },
        "chosen.yaml",
    )
    assert chosen.posting_bad_input_code == "invalid_param"
    assert (chosen.display_unknown_fields, chosen.display_unscoped_fields) == ("refuse", "omit")


def test_parse_scenario_takes_a_document() -> None:
    scenario = parse_scenario(
        {"seed": 4, "clock": {"start": "2026-03-01T00:00:00Z", "frozen": True}}, "inline"
    )
    assert scenario.seed == 4
    assert scenario.clock_frozen
    assert scenario.name == "scenario"
    sandbox = Sandbox(scenario)
    assert sandbox.clock.frozen
    assert sandbox.clock.isoformat() == "2026-03-01T00:00:00Z"


def test_clock_start_accepts_a_yaml_date(tmp_path: Path) -> None:
    path = write(tmp_path, "clock:\n  start: 2026-02-03\n  frozen: true\n", "dated.yaml")
    assert Sandbox(path).clock.isoformat() == "2026-02-03T00:00:00Z"


def test_valid_file_builds_with_its_stem_as_name(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "creators:\n  - username: ana\n    account: private\n"
        "apps:\n  - name: Mine\n    stage: sandbox\n    target_users: [ana]\n"
        "    redirect_uris: ['https://mine.example/cb']\n",
        "mine.yaml",
    )
    sandbox = Sandbox(path)
    assert sandbox.state.scenario.name == "mine"
    (app,) = sandbox.state.world.apps.values()
    assert app.stage == "sandbox"
    assert app.client_key.startswith("sbaw")
    assert sandbox.state.world.creators["ana"].account == "private"


# -- Faker fills what the scenario leaves out -----------------------------------------------

SPARSE = "creators:\n  - {}\n  - account: private\n  - username: named\napps:\n  - name: A\n"


def details(sandbox: Sandbox) -> list[tuple[object, ...]]:
    return [
        (c.username, c.nickname, c.bio_description, c.follower_count, c.avatar_color, c.uid)
        for c in sandbox.state.world.creators.values()
    ] + [(a.client_key, a.client_secret) for a in sandbox.state.world.apps.values()]


def test_faker_details_are_deterministic_per_seed(tmp_path: Path) -> None:
    path = write(tmp_path, SPARSE, "sparse.yaml")
    assert details(Sandbox(path, seed=7)) == details(Sandbox(path, seed=7))


def test_faker_details_differ_across_seeds(tmp_path: Path) -> None:
    path = write(tmp_path, SPARSE, "sparse.yaml")
    a, b = details(Sandbox(path, seed=1)), details(Sandbox(path, seed=2))
    assert a != b
    # Every generated field changes, not just one.
    for left, right in zip(a[:2], b[:2], strict=True):
        assert left[0] != right[0]  # username
        assert left[1] != right[1]  # nickname


def test_faker_fills_only_what_is_missing(tmp_path: Path) -> None:
    sandbox = Sandbox(write(tmp_path, SPARSE, "sparse.yaml"), seed=3)
    creators = list(sandbox.state.world.creators.values())
    assert len(creators) == 3
    assert creators[2].username == "named"
    assert creators[1].account == "private"
    for creator in creators:
        assert creator.nickname
        assert creator.bio_description
    assert len({c.username for c in creators}) == 3


def test_scenario_seed_is_used_unless_overridden(tmp_path: Path) -> None:
    path = write(tmp_path, "seed: 11\n" + SPARSE, "seeded.yaml")
    assert Sandbox(path).state.seed == 11
    assert details(Sandbox(path)) == details(Sandbox(path, seed=11))
    assert details(Sandbox(path)) != details(Sandbox(path, seed=12))


def test_default_scenario_named_creators_do_not_depend_on_seed() -> None:
    a = Sandbox("default", seed=1).state.world
    b = Sandbox("default", seed=2).state.world
    assert list(a.creators) == list(b.creators)
    assert list(a.apps) == list(b.apps)  # the default scenario fixes its keys
    assert a.creators["ana_makes"].bio_description != b.creators["ana_makes"].bio_description
