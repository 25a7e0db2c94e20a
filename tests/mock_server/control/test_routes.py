"""The `/_sandbox/` control API, driven through the in-process transport users use."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server import Clock, Sandbox
from mock_server.state import ServerOptions
from tests.mock_server.control.views import control_state

JSON = {"Content-Type": "application/json"}
T0 = datetime(2026, 1, 1, tzinfo=UTC)
T0_TEXT = "2026-01-01T00:00:00Z"

# The default scenario's apps (scenarios/default.yaml).
AUDITED = "awacmescheduler01"
AUDITED_SECRET = "acmeSchedulerSecret0000000000001"
UNAUDITED = "awindieposter0001"
SANDBOX_APP = "sbawacmesandbox01"
SANDBOX_SECRET = "acmeSandboxSecret000000000000001"
DEFAULT_KEYS = [AUDITED, UNAUDITED, SANDBOX_APP]
DEFAULT_CREATORS = ["ana_makes", "ben_private", "cora.cooks", "dev_quiet", "eli.long"]
LOOPBACK_CALLBACK = "http://127.0.0.1:5555/callback/"


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox("default", seed=0, clock=Clock.frozen_at(T0))


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with sandbox.client() as client:
        yield client


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def refused(response: httpx.Response, status: int = 400, code: str = "invalid_request") -> str:
    """Assert a control API error; return its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    return error["message"]


# The default scenario's sandbox app is a desktop app: it sends PKCE, with TikTok's hex
# challenge (ref 2.1), as a careful desktop client does.
DESKTOP_VERIFIER = "desktop-verifier-" + "0123456789" * 3
DESKTOP_CHALLENGE = hashlib.sha256(DESKTOP_VERIFIER.encode()).hexdigest()


def authorize(http: httpx.Client, **fields: Any) -> httpx.Response:
    if fields.get("client_key") == SANDBOX_APP:
        fields.setdefault("code_challenge", DESKTOP_CHALLENGE)
    return http.post("/_sandbox/authorize", json=fields)


def exchange(
    http: httpx.Client, client_key: str, secret: str, code: str, redirect_uri: str, **extra: str
) -> httpx.Response:
    if client_key == SANDBOX_APP:
        extra.setdefault("code_verifier", DESKTOP_VERIFIER)
    form = {
        "client_key": client_key,
        "client_secret": secret,
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": redirect_uri,
        **extra,
    }
    return http.post("/v2/oauth/token/", data=form)


def tokens(http: httpx.Client, client_key: str = AUDITED, username: str = "ana_makes") -> Any:
    return ok(
        http.post(
            "/_sandbox/tokens",
            json={"client_key": client_key, "username": username, "scopes": ["user.info.basic"]},
        )
    )


def user_info(http: httpx.Client, access_token: str) -> httpx.Response:
    return http.get(
        "/v2/user/info/",
        params={"fields": "open_id,display_name"},
        headers={"Authorization": f"Bearer {access_token}"},
    )


def journal(http: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = ok(http.get("/_sandbox/journal", params=params))["entries"]
    return entries


# -- health ---------------------------------------------------------------------------------


def test_health(http: httpx.Client) -> None:
    assert ok(http.get("/_sandbox/health")) == {
        "status": "ok",
        "scenario": "default",
        "seed": 0,
        "now": T0_TEXT,
        "frozen": True,
    }


def test_health_follows_the_clock(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.clock.advance(90)
    assert ok(http.get("/_sandbox/health"))["now"] == "2026-01-01T00:01:30Z"


# -- reset and seed -------------------------------------------------------------------------


def test_reset_restores_the_initial_state(http: httpx.Client, sandbox: Sandbox) -> None:
    initial_apps = ok(http.get("/_sandbox/apps"))
    initial_creators = ok(http.get("/_sandbox/creators"))
    access = tokens(http)["access_token"]
    ok(http.post("/_sandbox/apps", json={"name": "Temporary"}), 201)
    ok(http.post("/_sandbox/creators", json={"username": "temp_creator"}), 201)
    ok(http.patch("/_sandbox/creators/ana_makes", json={"banned": True}))
    ok(http.patch(f"/_sandbox/apps/{AUDITED}", json={"name": "Renamed"}))
    ok(http.post("/_sandbox/clock", json={"advance_seconds": 86_400, "freeze": False}))
    assert journal(http)

    health = ok(http.post("/_sandbox/reset"))
    assert health["status"] == "ok"
    assert health["now"] == T0_TEXT
    assert health["frozen"] is True

    assert ok(http.get("/_sandbox/apps")) == initial_apps
    assert ok(http.get("/_sandbox/creators")) == initial_creators
    refused(http.get("/_sandbox/creators/temp_creator"), 404, "not_found")
    assert ok(http.get("/_sandbox/clock")) == {"now": T0_TEXT, "frozen": True}
    assert ok(http.get("/_sandbox/grants")) == {"grants": []}
    # Nothing from before the reset is left in the journal (the reset itself may be).
    assert all(e["path"] == "/_sandbox/reset" for e in journal(http))
    # Tokens issued before the reset are gone with the grants.
    assert user_info(http, access).status_code == 401


def test_reset_restores_a_running_clock_to_real_time() -> None:
    wall = [T0.timestamp()]
    sandbox = Sandbox("default", clock=Clock(source=lambda: wall[0]))
    with sandbox.client() as http:
        ok(http.post("/_sandbox/clock", json={"advance_seconds": 3600, "freeze": True}))
        wall[0] += 10
        assert ok(http.post("/_sandbox/reset"))["frozen"] is False
        assert ok(http.get("/_sandbox/clock")) == {"now": "2026-01-01T00:00:10Z", "frozen": False}


def test_reset_can_switch_seed(http: httpx.Client) -> None:
    before = ok(http.get("/_sandbox/creators/ana_makes"))
    assert ok(http.post("/_sandbox/reset", json={"seed": 5}))["seed"] == 5
    after = ok(http.get("/_sandbox/creators/ana_makes"))
    assert after["bio_description"] != before["bio_description"]
    with Sandbox("default", seed=5, clock=Clock.frozen_at(T0)).client() as other:
        assert ok(other.get("/_sandbox/creators/ana_makes")) == after
    # A later plain reset keeps the chosen seed.
    assert ok(http.post("/_sandbox/reset", json={}))["seed"] == 5


def scenario_dir_client(directory: Path) -> httpx.Client:
    """A sandbox whose control API may load scenario files from `directory`."""
    options = ServerOptions(scenario_dirs=(directory,))
    return Sandbox("default", seed=0, clock=Clock.frozen_at(T0), options=options).client()


def test_reset_can_switch_scenario(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text("name: tiny\ncreators:\n  - username: solo\napps:\n  - name: Only\n")
    with scenario_dir_client(tmp_path) as http:
        health = ok(http.post("/_sandbox/reset", json={"scenario": str(path)}))
        assert health["scenario"] == "tiny"
        assert [a["name"] for a in ok(http.get("/_sandbox/apps"))["apps"]] == ["Only"]
        assert ok(http.post("/_sandbox/reset", json={"scenario": "default"}))["scenario"] == (
            "default"
        )
        # A path relative to the scenario directory works too.
        assert ok(http.post("/_sandbox/reset", json={"scenario": "tiny.yaml"}))["scenario"] == (
            "tiny"
        )


def test_reset_with_a_bad_scenario_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("apps:\n  - stage: beta-secret-value\n")
    with scenario_dir_client(tmp_path) as http:
        ok(http.post("/_sandbox/apps", json={"name": "Kept"}), 201)
        message = refused(http.post("/_sandbox/reset", json={"scenario": str(path)}))
        assert "bad.yaml" in message and "stage" in message
        assert "beta-secret-value" not in message  # what the file holds is not told over HTTP
        refused(http.post("/_sandbox/reset", json={"scenario": "no_such_scenario"}))
        assert ok(http.get("/_sandbox/health"))["scenario"] == "default"
        assert "Kept" in [a["name"] for a in ok(http.get("/_sandbox/apps"))["apps"]]


@pytest.mark.parametrize(
    "content",
    [
        "root:x:0:0:root:/root:/bin/bash\n",  # not a mapping
        "SECRET_KEY: hunter2\n",  # an unknown key
        "seed: hunter2\n",  # a value of the wrong type
        "apps: [\n  hunter2: {\n",  # not YAML
        "creators:\n  - username: hunter2\n    flavour: x\n",  # an unknown setting
    ],
)
def test_scenario_errors_over_http_never_quote_the_file(tmp_path: Path, content: str) -> None:
    (tmp_path / "leak.yaml").write_text(content)
    with scenario_dir_client(tmp_path) as http:
        message = refused(http.post("/_sandbox/reset", json={"scenario": "leak.yaml"}))
    assert "leak.yaml" in message
    for secret in ("hunter2", "root:x", "SECRET_KEY", "flavour"):
        assert secret not in message


@pytest.mark.parametrize(
    "where",
    ["/etc/passwd", "../outside.yaml", "{outside}", "{inside}/../outside.yaml", "notes.txt"],
)
def test_reset_loads_no_file_outside_the_scenario_directories(tmp_path: Path, where: str) -> None:
    inside = tmp_path / "scenarios"
    inside.mkdir()
    outside = tmp_path / "outside.yaml"
    outside.write_text("name: outside-first-line-secret\n")
    (inside / "notes.txt").write_text("name: notes-secret\n")
    target = where.format(outside=outside, inside=inside)
    with scenario_dir_client(inside) as http:
        message = refused(http.post("/_sandbox/reset", json={"scenario": target}))
        assert "secret" not in message and "root:" not in message
        assert ok(http.get("/_sandbox/health"))["scenario"] == "default"


def test_without_scenario_directories_only_built_in_scenarios_load(
    http: httpx.Client, tmp_path: Path
) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text("name: tiny\n")
    message = refused(http.post("/_sandbox/reset", json={"scenario": str(path)}))
    assert "--scenario-dir" in message
    assert ok(http.post("/_sandbox/reset", json={"scenario": "unaudited-app"}))["scenario"] == (
        "unaudited-app"
    )


@pytest.mark.parametrize(
    "body",
    [{"seed": -1}, {"seed": "3"}, {"seed": True}, {"seed": 1.5}, {"scenario": 3}, {"sed": 1}],
)
def test_reset_refuses_bad_fields(http: httpx.Client, body: dict[str, Any]) -> None:
    message = refused(http.post("/_sandbox/reset", json=body))
    assert next(iter(body)) in message


def test_seed_switches_seed(http: httpx.Client) -> None:
    health = ok(http.post("/_sandbox/seed", json={"seed": 9}))
    assert health["seed"] == 9
    assert ok(http.get("/_sandbox/health"))["seed"] == 9


def test_seed_needs_a_seed(http: httpx.Client) -> None:
    assert "seed" in refused(http.post("/_sandbox/seed", json={}))
    assert "scenario" in refused(http.post("/_sandbox/seed", json={"scenario": "default"}))
    assert "seed" in refused(http.post("/_sandbox/seed", json={"seed": "nine"}))


def test_scenarios_lists_the_builtins(http: httpx.Client) -> None:
    names = [s["name"] for s in ok(http.get("/_sandbox/scenarios"))["scenarios"]]
    assert "default" in names


# -- apps -----------------------------------------------------------------------------------

APP_FIELDS = ("client_key", "client_secret", "name", "stage", "scopes", "redirect_uris")


def test_list_apps_has_the_fixed_fields(http: httpx.Client) -> None:
    apps = ok(http.get("/_sandbox/apps"))["apps"]
    assert [a["client_key"] for a in apps] == DEFAULT_KEYS
    for app in apps:
        for key in APP_FIELDS:
            assert key in app, key
        assert app["stage"] in ("sandbox", "unaudited", "audited")
        assert isinstance(app["scopes"], list) and app["scopes"]
        assert isinstance(app["redirect_uris"], list) and app["redirect_uris"]
    by_key = {a["client_key"]: a for a in apps}
    assert by_key[AUDITED]["client_secret"] == AUDITED_SECRET
    assert by_key[AUDITED]["stage"] == "audited"
    assert by_key[UNAUDITED]["stage"] == "unaudited"
    assert by_key[SANDBOX_APP]["stage"] == "sandbox"
    assert by_key[SANDBOX_APP]["target_users"] == ["ana_makes", "ben_private"]


def test_create_app_with_defaults(http: httpx.Client) -> None:
    created = ok(http.post("/_sandbox/apps", json={}), 201)
    app = created["app"]
    assert created["creators"] == []
    assert app["stage"] == "audited"
    assert app["client_key"].startswith("aw") and app["client_key"] not in DEFAULT_KEYS
    assert len(app["client_secret"]) >= 8
    assert app["redirect_uris"]
    assert ok(http.get(f"/_sandbox/apps/{app['client_key']}")) == app
    assert app in ok(http.get("/_sandbox/apps"))["apps"]


def test_create_app_with_overrides(http: httpx.Client) -> None:
    settings = {
        "name": "Mine",
        "client_key": "mine_app_0001",
        "client_secret": "mineSecret000001",
        "stage": "unaudited",
        "scopes": ["user.info.basic", "video.upload"],
        "redirect_uris": ["https://mine.example/cb"],
        "direct_post_enabled": False,
        "token_profile": "legacy",
    }
    app = ok(http.post("/_sandbox/apps", json=settings), 201)["app"]
    for key, value in settings.items():
        assert app[key] == value, key
    assert ok(http.get("/_sandbox/apps/mine_app_0001"))["name"] == "Mine"


def test_each_created_app_is_distinct(http: httpx.Client) -> None:
    keys = {ok(http.post("/_sandbox/apps", json={}), 201)["app"]["client_key"] for _ in range(5)}
    assert len(keys) == 5


def test_created_sandbox_app_gets_a_sandbox_key(http: httpx.Client) -> None:
    app = ok(http.post("/_sandbox/apps", json={"stage": "sandbox"}), 201)["app"]
    assert app["client_key"].startswith("sb")


def test_create_app_with_inline_creators(http: httpx.Client) -> None:
    body = {
        "name": "Isolated",
        "stage": "sandbox",
        "target_users": ["iso_one"],
        "creators": [
            {"username": "iso_one", "account": "private", "duet_disabled": True},
            {"nickname": "Generated Username"},
        ],
    }
    created = ok(http.post("/_sandbox/apps", json=body), 201)
    key = created["app"]["client_key"]
    one, two = created["creators"]
    assert one["username"] == "iso_one"
    assert one["account"] == "private" and one["duet_disabled"] is True
    assert two["nickname"] == "Generated Username" and two["username"]
    # The creators come back as the new app sees them.
    listed = {
        c["username"]: c for c in ok(http.get(f"/_sandbox/creators?client_key={key}"))["creators"]
    }
    assert listed["iso_one"]["open_id"] == one["open_id"]
    assert listed[two["username"]]["open_id"] == two["open_id"]
    # And they can authorize the new sandbox app at once.
    ok(authorize(http, client_key=key, username="iso_one", scopes=["user.info.basic"]))


@pytest.mark.parametrize(
    ("app", "creators", "key"),
    [
        ({"stage": "beta"}, [{"username": "left_behind"}], "app.stage"),
        ({"target_users": ["left_behind"]}, [{"username": "left_behind"}], "app.target_users"),
        ({}, [{"username": "left_behind"}, {"username": "x"}], "creators[1].username"),
        ({}, [{"username": "left_behind"}, {"banned": "no"}], "creators[1].banned"),
        ({}, [{"username": "left_behind"}, "not a mapping"], "creators[1]"),
        ({}, [{"username": "left_behind"}, {"username": "left_behind"}], "creators[1].username"),
        ({"client_key": AUDITED}, [{"username": "left_behind"}], "app.client_key"),
    ],
)
def test_create_app_is_all_or_nothing(
    http: httpx.Client, app: dict[str, Any], creators: list[Any], key: str
) -> None:
    apps_before = ok(http.get("/_sandbox/apps"))
    message = refused(http.post("/_sandbox/apps", json={**app, "creators": creators}))
    assert key in message
    refused(http.get("/_sandbox/creators/left_behind"), 404, "not_found")
    assert ok(http.get("/_sandbox/apps")) == apps_before
    usernames = [c["username"] for c in ok(http.get("/_sandbox/creators"))["creators"]]
    assert usernames == DEFAULT_CREATORS


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"stage": "production"}, "app.stage"),
        ({"redirect_uris": ["http://example.com/cb"]}, "app.redirect_uris[0]"),
        ({"redirect_uris": "https://example.com/cb"}, "app.redirect_uris"),
        ({"scopes": ["video.everything"]}, "app.scopes"),
        ({"direct_post_enabled": "yes"}, "app.direct_post_enabled"),
        ({"auth_code_ttl_seconds": 0}, "app.auth_code_ttl_seconds"),
        ({"target_users": ["ana_makes"]}, "app.target_users"),
        ({"stage": "sandbox", "target_users": ["nobody"]}, "app.target_users[0]"),
        ({"client_key": "no spaces allowed"}, "app.client_key"),
        ({"colour": "red"}, "app.colour"),
        ({"creators": {"username": "x"}}, "creators"),
    ],
)
def test_create_app_validation_errors_name_the_key(
    http: httpx.Client, settings: dict[str, Any], key: str
) -> None:
    assert key in refused(http.post("/_sandbox/apps", json=settings))


def test_get_unknown_app_is_404(http: httpx.Client) -> None:
    assert "nope_nope" in refused(http.get("/_sandbox/apps/nope_nope"), 404, "not_found")
    refused(http.patch("/_sandbox/apps/nope_nope", json={"name": "x"}), 404, "not_found")


def test_patch_app(http: httpx.Client) -> None:
    patched = ok(
        http.patch(
            f"/_sandbox/apps/{AUDITED}",
            json={"name": "Renamed", "direct_post_enabled": False, "scopes": ["user.info.basic"]},
        )
    )
    assert patched["name"] == "Renamed"
    assert patched["direct_post_enabled"] is False
    assert patched["scopes"] == ["user.info.basic"]
    assert ok(http.get(f"/_sandbox/apps/{AUDITED}")) == patched
    # The patch takes effect on the rules: the app is no longer approved for video.publish.
    refused(
        authorize(http, client_key=AUDITED, username="ana_makes", scopes=["video.publish"]),
        400,
        "invalid_scope",
    )


def test_patch_app_with_empty_body_changes_nothing(http: httpx.Client) -> None:
    before = ok(http.get(f"/_sandbox/apps/{AUDITED}"))
    assert ok(http.patch(f"/_sandbox/apps/{AUDITED}", json={})) == before


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"stage": "beta"}, "app.stage"),
        ({"name": 3}, "app.name"),
        ({"redirect_uris": ["ftp://x/"]}, "app.redirect_uris[0]"),
        ({"unknown_setting": 1}, "app.unknown_setting"),
        ({"client_key": "another_key"}, "app.client_key"),
        ({"client_secret": "anotherSecret1"}, "app.client_secret"),
        ({"developer": "someone"}, "app.developer"),
    ],
)
def test_patch_app_refusals_name_the_key_and_change_nothing(
    http: httpx.Client, settings: dict[str, Any], key: str
) -> None:
    before = ok(http.get(f"/_sandbox/apps/{AUDITED}"))
    assert key in refused(http.patch(f"/_sandbox/apps/{AUDITED}", json=settings))
    assert ok(http.get(f"/_sandbox/apps/{AUDITED}")) == before


def test_patch_app_checks_the_merged_settings(http: httpx.Client) -> None:
    # The sandbox app has target users; they cannot stay on an audited app.
    message = refused(http.patch(f"/_sandbox/apps/{SANDBOX_APP}", json={"stage": "audited"}))
    assert "target_users" in message
    assert ok(http.get(f"/_sandbox/apps/{SANDBOX_APP}"))["stage"] == "sandbox"
    both = {"stage": "audited", "target_users": []}
    assert ok(http.patch(f"/_sandbox/apps/{SANDBOX_APP}", json=both))["stage"] == "audited"


def test_patch_immutable_keys_are_refused_as_such(http: httpx.Client) -> None:
    message = refused(http.patch(f"/_sandbox/apps/{AUDITED}", json={"client_key": "abcdefgh"}))
    assert "can change after creation" in message


# -- creators -------------------------------------------------------------------------------


def test_list_creators_without_an_app(http: httpx.Client) -> None:
    creators = ok(http.get("/_sandbox/creators"))["creators"]
    assert [c["username"] for c in creators] == DEFAULT_CREATORS
    for creator in creators:
        assert creator["account"] in ("public", "private")
        assert creator["nickname"]
        assert set(creator["open_ids"]) == set(DEFAULT_KEYS)


def test_creators_open_id_is_per_app(http: httpx.Client) -> None:
    seen: dict[str, list[str]] = {}
    for key in DEFAULT_KEYS:
        creators = ok(http.get("/_sandbox/creators", params={"client_key": key}))["creators"]
        assert [c["username"] for c in creators] == DEFAULT_CREATORS
        for creator in creators:
            assert creator["open_id"]
            assert {"username", "nickname", "account"} <= set(creator)
        seen[key] = [c["open_id"] for c in creators]
    every = [oid for ids in seen.values() for oid in ids]
    assert len(set(every)) == len(every)  # different apps, different open_ids
    # The same as the un-scoped listing's per-app map.
    unscoped = ok(http.get("/_sandbox/creators"))["creators"]
    assert [c["open_ids"][UNAUDITED] for c in unscoped] == seen[UNAUDITED]


def test_creators_open_id_is_what_the_token_endpoint_returns(http: httpx.Client) -> None:
    for key, secret, username, redirect in [
        (AUDITED, AUDITED_SECRET, "cora.cooks", None),
        (SANDBOX_APP, SANDBOX_SECRET, "ben_private", LOOPBACK_CALLBACK),
    ]:
        issued = ok(
            authorize(
                http,
                client_key=key,
                username=username,
                scopes=["user.info.basic"],
                redirect_uri=redirect,
            )
        )
        pair = ok(exchange(http, key, secret, issued["code"], issued["redirect_uri"]))
        listed = ok(http.get(f"/_sandbox/creators/{username}", params={"client_key": key}))
        assert pair["open_id"] == listed["open_id"]


def test_creators_for_an_unknown_app_is_404(http: httpx.Client) -> None:
    refused(http.get("/_sandbox/creators", params={"client_key": "nope_nope"}), 404, "not_found")
    refused(
        http.get("/_sandbox/creators/ana_makes", params={"client_key": "nope_nope"}),
        404,
        "not_found",
    )


def test_get_unknown_creator_is_404(http: httpx.Client) -> None:
    assert "ghost" in refused(http.get("/_sandbox/creators/ghost"), 404, "not_found")
    refused(http.patch("/_sandbox/creators/ghost", json={"banned": True}), 404, "not_found")


def test_create_creator(http: httpx.Client) -> None:
    settings = {
        "username": "new.creator",
        "nickname": "New Creator",
        "account": "private",
        "comment_disabled": True,
        "max_video_post_duration_sec": 90,
        "daily_post_cap": 3,
    }
    created = ok(http.post("/_sandbox/creators", json=settings), 201)
    for key, value in settings.items():
        assert created[key] == value, key
    assert set(created["open_ids"]) == set(DEFAULT_KEYS)
    assert ok(http.get("/_sandbox/creators/new.creator"))["nickname"] == "New Creator"
    refused(http.post("/_sandbox/creators", json={"username": "new.creator"}))


def test_create_creator_fills_the_rest_with_faker(http: httpx.Client) -> None:
    created = ok(http.post("/_sandbox/creators", json={}), 201)
    assert created["username"] and created["nickname"] and created["bio_description"]
    assert created["account"] == "public"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("account", "private"),
        ("banned", True),
        ("comment_disabled", True),
        ("duet_disabled", True),
        ("stitch_disabled", True),
        ("max_video_post_duration_sec", 15),
        ("app_version", "30.1.2"),
        ("daily_post_cap", 0),
        ("posts_last_24h", 4),
        ("nickname", "Renamed"),
    ],
)
def test_patch_creator_field(http: httpx.Client, field: str, value: Any) -> None:
    patched = ok(http.patch("/_sandbox/creators/ana_makes", json={field: value}))
    assert patched[field] == value
    assert ok(http.get("/_sandbox/creators/ana_makes"))[field] == value


def test_patch_creator_several_fields_at_once(http: httpx.Client) -> None:
    body = {"account": "private", "banned": True, "duet_disabled": True, "daily_post_cap": 2}
    patched = ok(http.patch("/_sandbox/creators/eli.long", json=body))
    assert {k: patched[k] for k in body} == body


def test_posts_last_24h_follows_the_clock(http: httpx.Client) -> None:
    ok(http.patch("/_sandbox/creators/ana_makes", json={"posts_last_24h": 3}))
    ok(http.post("/_sandbox/clock", json={"advance_seconds": 86_399}))
    assert ok(http.get("/_sandbox/creators/ana_makes"))["posts_last_24h"] == 3
    ok(http.post("/_sandbox/clock", json={"advance_seconds": 1}))
    assert ok(http.get("/_sandbox/creators/ana_makes"))["posts_last_24h"] == 0


def test_banned_creator_patch_is_seen_by_user_info(http: httpx.Client) -> None:
    access = tokens(http)["access_token"]
    assert user_info(http, access).status_code == 200
    ok(http.patch("/_sandbox/creators/ana_makes", json={"nickname": "Patched Name"}))
    assert user_info(http, access).json()["data"]["user"]["display_name"] == "Patched Name"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("account", "secret"),
        ("banned", "true"),
        ("banned", 1),
        ("comment_disabled", None),
        ("duet_disabled", "off"),
        ("stitch_disabled", [True]),
        ("max_video_post_duration_sec", 0),
        ("max_video_post_duration_sec", 3601),
        ("max_video_post_duration_sec", "60"),
        ("max_video_post_duration_sec", 60.5),
        ("app_version", "latest"),
        ("daily_post_cap", -1),
        ("posts_last_24h", -1),
        ("posts_last_24h", True),
        ("username", "renamed"),
        ("open_id", "-000abc"),
    ],
)
def test_patch_creator_refusals_name_the_key(http: httpx.Client, field: str, value: Any) -> None:
    before = ok(http.get("/_sandbox/creators/ana_makes"))
    message = refused(http.patch("/_sandbox/creators/ana_makes", json={field: value}))
    assert f"creator.{field}" in message
    assert ok(http.get("/_sandbox/creators/ana_makes")) == before


# -- clock ----------------------------------------------------------------------------------


def test_get_clock(http: httpx.Client) -> None:
    assert ok(http.get("/_sandbox/clock")) == {"now": T0_TEXT, "frozen": True}


def test_clock_advance(http: httpx.Client) -> None:
    assert ok(http.post("/_sandbox/clock", json={"advance_seconds": 3600})) == {
        "now": "2026-01-01T01:00:00Z",
        "frozen": True,
    }
    assert ok(http.post("/_sandbox/clock", json={"advance_seconds": 0.5}))["now"] == (
        "2026-01-01T01:00:00.500000Z"
    )
    assert ok(http.post("/_sandbox/clock", json={"advance_seconds": 0}))["now"] == (
        "2026-01-01T01:00:00.500000Z"
    )


def test_clock_set(http: httpx.Client) -> None:
    result = ok(http.post("/_sandbox/clock", json={"set": "2026-06-01T12:00:00+02:00"}))
    assert result == {"now": "2026-06-01T10:00:00Z", "frozen": True}
    # Backwards is allowed.
    assert ok(http.post("/_sandbox/clock", json={"set": "2025-01-01T00:00:00Z"}))["now"] == (
        "2025-01-01T00:00:00Z"
    )


def test_clock_freeze_and_unfreeze() -> None:
    wall = [T0.timestamp()]
    sandbox = Sandbox("default", clock=Clock(source=lambda: wall[0]))
    with sandbox.client() as http:
        assert ok(http.get("/_sandbox/clock")) == {"now": T0_TEXT, "frozen": False}
        assert ok(http.post("/_sandbox/clock", json={"freeze": True}))["frozen"] is True
        wall[0] += 60
        assert ok(http.get("/_sandbox/clock")) == {"now": T0_TEXT, "frozen": True}
        assert ok(http.post("/_sandbox/clock", json={"freeze": False})) == {
            "now": T0_TEXT,  # no jump on unfreeze
            "frozen": False,
        }
        wall[0] += 5
        assert ok(http.get("/_sandbox/clock"))["now"] == "2026-01-01T00:00:05Z"


def test_a_running_clock_set_and_frozen_in_one_call_stops_at_the_instant_set() -> None:
    wall = [T0.timestamp()]

    def source() -> float:
        wall[0] += 0.001  # the real clock moves on between any two readings
        return wall[0]

    sandbox = Sandbox("default", clock=Clock(source=source))
    with sandbox.client() as http:
        body = {"set": "2030-01-01T00:00:00Z", "freeze": True}
        assert ok(http.post("/_sandbox/clock", json=body)) == {
            "now": "2030-01-01T00:00:00Z",
            "frozen": True,
        }
    sandbox.close()


def test_clock_set_then_advance_in_one_call(http: httpx.Client) -> None:
    body = {"set": "2026-02-01T00:00:00Z", "advance_seconds": 60, "freeze": True}
    assert ok(http.post("/_sandbox/clock", json=body)) == {
        "now": "2026-02-01T00:01:00Z",
        "frozen": True,
    }


def test_clock_drives_token_expiry(http: httpx.Client) -> None:
    access = tokens(http)["access_token"]
    ok(http.post("/_sandbox/clock", json={"advance_seconds": 2 * 3600 - 1}))
    assert user_info(http, access).status_code == 200
    ok(http.post("/_sandbox/clock", json={"advance_seconds": 1}))
    response = user_info(http, access)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "access_token_invalid"


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"advance_seconds": -1}, "advance_seconds"),
        ({"advance_seconds": "60"}, "advance_seconds"),
        ({"advance_seconds": True}, "advance_seconds"),
        ({"advance_seconds": [1]}, "advance_seconds"),
        ({"advance_seconds": 1e300}, "clock"),
        ({"set": "tomorrow"}, "tomorrow"),
        ({"set": 1767225600}, "set"),
        ({"set": "0001-01-01T00:00:00+14:00"}, "clock"),
        ({"set": "9999-12-31T23:59:59Z"}, "clock"),
        ({"freeze": "yes"}, "freeze"),
        ({"freeze": 1}, "freeze"),
        ({"advance": 60}, "advance"),
        ({"now": T0_TEXT}, "now"),
    ],
)
def test_clock_bad_input_is_400_and_changes_nothing(
    http: httpx.Client, body: dict[str, Any], key: str
) -> None:
    assert key in refused(http.post("/_sandbox/clock", json=body))
    assert ok(http.get("/_sandbox/clock")) == {"now": T0_TEXT, "frozen": True}
    assert ok(http.get("/_sandbox/health"))["now"] == T0_TEXT


def test_clock_advance_by_a_huge_integer_is_400(http: httpx.Client) -> None:
    body = b'{"advance_seconds": 1' + b"0" * 400 + b"}"
    refused(http.post("/_sandbox/clock", content=body, headers=JSON))
    assert ok(http.get("/_sandbox/clock")) == {"now": T0_TEXT, "frozen": True}


def test_clock_advance_by_infinity_is_400(http: httpx.Client) -> None:
    # Python's JSON parser accepts these non-standard literals.
    for literal in (b"Infinity", b"NaN", b"-Infinity"):
        body = b'{"advance_seconds": ' + literal + b"}"
        refused(http.post("/_sandbox/clock", content=body, headers=JSON))
    assert ok(http.get("/_sandbox/health"))["now"] == T0_TEXT


# -- journal --------------------------------------------------------------------------------


def test_journal_is_newest_first_and_records_the_rule(http: httpx.Client) -> None:
    tokens(http)
    authorize(
        http,
        client_key=SANDBOX_APP,
        username="cora.cooks",
        scopes=["user.info.basic"],
        redirect_uri=LOOPBACK_CALLBACK,
    )
    http.post("/v2/oauth/token/", data={"client_key": AUDITED})
    entries = journal(http)
    assert [e["path"] for e in entries] == [
        "/v2/oauth/token/",
        "/_sandbox/authorize",
        "/_sandbox/tokens",
    ]
    seqs = [e["seq"] for e in entries]
    assert seqs == sorted(seqs, reverse=True)
    token_error, refusal, issued = entries
    assert token_error["client_key"] == AUDITED
    assert token_error["error_code"] == "invalid_request"
    assert token_error["rule"]
    assert refusal["status"] == 403
    assert refusal["error_code"] == "access_denied"
    assert refusal["rule"] == "sandbox_target_user"
    assert issued["status"] == 200 and issued["client_key"] == AUDITED
    for entry in entries:
        assert entry["time"] == T0_TEXT
        assert entry["method"] == "POST"


def test_journal_leaves_out_control_reads(http: httpx.Client) -> None:
    http.get("/_sandbox/apps")
    http.get("/_sandbox/health")
    http.get("/_sandbox/")
    assert journal(http) == []


def test_journal_filters(http: httpx.Client) -> None:
    tokens(http, AUDITED)
    http.post("/v2/oauth/token/", data={"client_key": UNAUDITED, "grant_type": "nope"})
    access = tokens(http, UNAUDITED)["access_token"]
    user_info(http, access)
    by_app = journal(http, client_key=UNAUDITED)
    assert [e["path"] for e in by_app] == ["/v2/user/info/", "/_sandbox/tokens", "/v2/oauth/token/"]
    assert all(e["client_key"] == UNAUDITED for e in by_app)
    assert [e["client_key"] for e in journal(http, path="/_sandbox/")] == [UNAUDITED, AUDITED]
    assert journal(http, path="/v2/oauth/") == journal(http, path="/v2/oauth/token/")
    assert len(journal(http, path="/v2/")) == 2
    assert [e["path"] for e in journal(http, limit=1)] == ["/v2/user/info/"]
    assert journal(http, client_key=AUDITED, path="/v2/") == []
    assert journal(http, client_key="nobody") == []


def test_journal_limit_and_capacity() -> None:
    sandbox = Sandbox("default", options=ServerOptions(journal_capacity=3))
    with sandbox.client() as http:
        for _ in range(5):
            http.post("/v2/oauth/token/", data={})
        answer = ok(http.get("/_sandbox/journal"))
        assert answer["capacity"] == 3
        assert [e["seq"] for e in answer["entries"]] == [5, 4, 3]
        assert [e["seq"] for e in journal(http, limit=2)] == [5, 4]
        assert journal(http, limit=0) == []


@pytest.mark.parametrize("limit", ["abc", "-1", "1.5", ""])
def test_journal_bad_limit(http: httpx.Client, limit: str) -> None:
    assert "limit" in refused(http.get("/_sandbox/journal", params={"limit": limit}))


def test_journal_delete_clears(http: httpx.Client) -> None:
    tokens(http)
    http.post("/v2/oauth/token/", data={})
    assert len(journal(http)) == 2
    assert ok(http.delete("/_sandbox/journal")) == {"entries": []}
    # Nothing from before the clear is left (the DELETE itself may be recorded).
    assert all(e["path"] == "/_sandbox/journal" for e in journal(http))


def test_journal_previews_bodies(http: httpx.Client) -> None:
    long_form = b"client_key=" + b"k" * 10_000
    http.post(
        "/v2/oauth/token/",
        content=long_form,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    http.post(
        "/v2/oauth/token/",
        content=b"\x00\xff" * 3000,  # read as a form, then refused as not UTF-8
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    binary, long = journal(http)
    assert binary["request_body"] == "<6000 bytes of binary data>"
    assert binary["request_bytes"] == 6000
    assert long["request_bytes"] == len(long_form)
    assert long["request_body"].startswith("client_key=kkk")
    assert long["request_body"].endswith("more bytes>")
    assert len(long["request_body"]) < len(long_form)


def test_journal_keeps_the_authorization_header(http: httpx.Client) -> None:
    # Whole, for replaying: the journal is a local, loopback-only record.
    access = tokens(http)["access_token"]
    user_info(http, access)
    (entry,) = journal(http, path="/v2/user/")
    assert entry["request_headers"]["authorization"] == f"Bearer {access}"
    assert entry["query"] == "fields=open_id%2Cdisplay_name"
    assert entry["client_key"] == AUDITED
    assert entry["status"] == 200


def test_journal_files_a_refused_authorization_under_its_app(http: httpx.Client) -> None:
    authorize(
        http,
        client_key=SANDBOX_APP,
        username="cora.cooks",
        scopes=["user.info.basic"],
        redirect_uri=LOOPBACK_CALLBACK,
    )
    entries = journal(http, client_key=SANDBOX_APP)
    assert [e["rule"] for e in entries] == ["sandbox_target_user"]


# -- authorize and tokens without a browser -------------------------------------------------


def test_authorize_returns_a_code_that_exchanges(http: httpx.Client) -> None:
    issued = ok(
        authorize(
            http,
            client_key=AUDITED,
            username="ana_makes",
            scopes=["user.info.basic", "video.publish"],
            state="xyz",
        )
    )
    assert issued["redirect_uri"] == "http://127.0.0.1:3000/callback/"  # the first registered
    assert issued["scopes"] == ["user.info.basic", "video.publish"]
    assert issued["state"] == "xyz"
    pair = ok(exchange(http, AUDITED, AUDITED_SECRET, issued["code"], issued["redirect_uri"]))
    assert pair["access_token"].startswith("act.")
    assert pair["refresh_token"].startswith("rft.")
    assert pair["scope"] == "user.info.basic,video.publish"
    assert pair["expires_in"] == 7200
    # Codes are single-use: the second exchange fails.
    again = exchange(http, AUDITED, AUDITED_SECRET, issued["code"], issued["redirect_uri"])
    assert "access_token" not in again.json()


def test_authorize_with_a_chosen_redirect_uri(http: httpx.Client) -> None:
    uri = "https://app.acme.example/auth/tiktok/callback"
    issued = ok(
        authorize(
            http,
            client_key=AUDITED,
            username="ana_makes",
            scopes="user.info.basic",
            redirect_uri=uri,
        )
    )
    assert issued["redirect_uri"] == uri
    wrong = exchange(
        http, AUDITED, AUDITED_SECRET, issued["code"], "http://127.0.0.1:3000/callback/"
    )
    assert "access_token" not in wrong.json()
    ok(exchange(http, AUDITED, AUDITED_SECRET, issued["code"], uri))


def test_authorize_by_open_id(http: httpx.Client) -> None:
    creator = ok(http.get("/_sandbox/creators/dev_quiet", params={"client_key": UNAUDITED}))
    issued = ok(
        authorize(
            http, client_key=UNAUDITED, open_id=creator["open_id"], scopes=["user.info.basic"]
        )
    )
    secret = ok(http.get(f"/_sandbox/apps/{UNAUDITED}"))["client_secret"]
    pair = ok(exchange(http, UNAUDITED, secret, issued["code"], issued["redirect_uri"]))
    assert pair["open_id"] == creator["open_id"]
    # Another app's open_id for the same person does not resolve here.
    other = ok(http.get("/_sandbox/creators/dev_quiet", params={"client_key": AUDITED}))
    refused(
        authorize(http, client_key=UNAUDITED, open_id=other["open_id"], scopes=["user.info.basic"]),
        404,
        "not_found",
    )


PKCE_VERIFIER = "v" * 43 + "-._~0123456789"
PKCE_DIGEST = hashlib.sha256(PKCE_VERIFIER.encode()).digest()


def issue_with_challenge(http: httpx.Client, challenge: str) -> tuple[str, str]:
    """A code for ana_makes on the audited app carrying `challenge`: (code, redirect_uri)."""
    issued = ok(
        authorize(
            http,
            client_key=AUDITED,
            username="ana_makes",
            scopes=["user.info.basic"],
            code_challenge=challenge,
        )
    )
    return issued["code"], issued["redirect_uri"]


def test_authorize_with_pkce(http: httpx.Client) -> None:
    challenge = PKCE_DIGEST.hex()  # ref 2.1: TikTok's hex form
    code, uri = issue_with_challenge(http, challenge)
    without = exchange(http, AUDITED, AUDITED_SECRET, code, uri)
    assert "access_token" not in without.json()
    code, uri = issue_with_challenge(http, challenge)
    pair = ok(exchange(http, AUDITED, AUDITED_SECRET, code, uri, code_verifier=PKCE_VERIFIER))
    assert pair["access_token"].startswith("act.")


def test_authorize_with_an_rfc7636_challenge_fails_at_the_exchange(http: httpx.Client) -> None:
    code, uri = issue_with_challenge(
        http, base64.urlsafe_b64encode(PKCE_DIGEST).decode().rstrip("=")
    )
    answer = exchange(http, AUDITED, AUDITED_SECRET, code, uri, code_verifier=PKCE_VERIFIER)
    assert answer.json()["error"] == "invalid_request"
    assert "hex-encoded SHA-256" in answer.json()["error_description"]
    (entry,) = journal(http, path="/v2/oauth/token/")
    assert entry["rule"] == "pkce_challenge_base64url"


def test_a_desktop_app_needs_a_challenge_but_tokens_does_pkce_itself(http: httpx.Client) -> None:
    without = http.post(
        "/_sandbox/authorize",
        json={"client_key": SANDBOX_APP, "username": "ana_makes", "scopes": ["user.info.basic"]},
    )
    assert refused(without, 400, "invalid_request").startswith("code_challenge is required")
    assert without.json()["error"]["error_type"] == "code_challenge"
    pair = tokens(http, SANDBOX_APP, "ana_makes")
    assert pair["access_token"].startswith("act.")
    app = ok(http.get(f"/_sandbox/apps/{SANDBOX_APP}"))
    assert (app["pkce_required"], app["effective_pkce_required"]) == (None, True)
    assert (app["pkce_challenge"]) == "hex"


def test_authorize_sandbox_app_target_user(http: httpx.Client) -> None:
    issued = ok(
        authorize(
            http,
            client_key=SANDBOX_APP,
            username="ana_makes",
            scopes=["user.info.basic"],
            redirect_uri=LOOPBACK_CALLBACK,
        )
    )
    assert issued["redirect_uri"] == LOOPBACK_CALLBACK
    ok(exchange(http, SANDBOX_APP, SANDBOX_SECRET, issued["code"], LOOPBACK_CALLBACK))


def test_authorize_sandbox_app_refuses_non_target(http: httpx.Client) -> None:
    response = authorize(
        http,
        client_key=SANDBOX_APP,
        username="cora.cooks",
        scopes=["user.info.basic"],
        redirect_uri=LOOPBACK_CALLBACK,
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "access_denied"
    assert error["error_type"] == "non_sandbox_target"
    assert ok(http.get("/_sandbox/grants")) == {"grants": []}


def test_authorize_wildcard_port_stands_in_a_concrete_port(http: httpx.Client) -> None:
    response = authorize(
        http, client_key=SANDBOX_APP, username="ana_makes", scopes=["user.info.basic"]
    )
    assert response.status_code == 200, response.text
    assert response.json()["redirect_uri"] == "http://127.0.0.1:8765/callback/"


def test_authorize_refuses_unapproved_scope(http: httpx.Client) -> None:
    response = authorize(http, client_key=UNAUDITED, username="ana_makes", scopes=["video.list"])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_scope"
    assert "video.list" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"scopes": ["user.info.everything"]}, 400, "invalid_scope"),
        ({"scopes": []}, 400, "invalid_scope"),
        ({"redirect_uri": "https://evil.example/cb"}, 400, "invalid_request"),
        ({"client_key": "nope_nope"}, 404, "not_found"),
        ({"username": "ghost"}, 404, "not_found"),
        ({"username": None}, 400, "invalid_request"),
        ({"scopes": "user.info.basic", "username": 5}, 400, "invalid_request"),
        ({"scopes": [1, 2]}, 400, "invalid_request"),
        ({"scopes": None}, 400, "invalid_request"),
        ({"scope": ["user.info.basic"]}, 400, "invalid_request"),
    ],
)
def test_authorize_refusals(
    http: httpx.Client, fields: dict[str, Any], status: int, code: str
) -> None:
    body = {"client_key": AUDITED, "username": "ana_makes", "scopes": ["user.info.basic"], **fields}
    response = http.post("/_sandbox/authorize", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_tokens_gives_a_working_pair(http: httpx.Client) -> None:
    pair = tokens(http, AUDITED, "ben_private")
    assert pair["token_type"] == "Bearer"
    assert pair["expires_in"] == 7200
    assert pair["refresh_expires_in"] == 180 * 86400
    listed = ok(http.get("/_sandbox/creators/ben_private", params={"client_key": AUDITED}))
    assert pair["open_id"] == listed["open_id"]
    user = ok(user_info(http, pair["access_token"]))["data"]["user"]
    assert user["open_id"] == listed["open_id"]
    # The refresh token works at the token endpoint.
    refreshed = http.post(
        "/v2/oauth/token/",
        data={
            "client_key": AUDITED,
            "client_secret": AUDITED_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": pair["refresh_token"],
        },
    )
    assert ok(refreshed)["access_token"].startswith("act.")


def test_tokens_refused_like_authorize(http: httpx.Client) -> None:
    response = http.post(
        "/_sandbox/tokens",
        json={
            "client_key": SANDBOX_APP,
            "username": "eli.long",
            "scopes": ["user.info.basic"],
            "redirect_uri": LOOPBACK_CALLBACK,
        },
    )
    assert response.status_code == 403
    assert response.json()["error"]["error_type"] == "non_sandbox_target"
    body = {"client_key": UNAUDITED, "username": "ana_makes", "scopes": ["user.info.stats"]}
    response = http.post("/_sandbox/tokens", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_scope"
    body = {**body, "scopes": ["user.info.basic"], "code_challenge": "abc"}
    assert "code_challenge" in refused(http.post("/_sandbox/tokens", json=body))


# -- grants ---------------------------------------------------------------------------------


def test_grants(http: httpx.Client) -> None:
    assert ok(http.get("/_sandbox/grants")) == {"grants": []}
    pair = tokens(http, AUDITED, "ana_makes")
    tokens(http, UNAUDITED, "ben_private")
    grants = ok(http.get("/_sandbox/grants"))["grants"]
    assert len(grants) == 2
    (mine,) = ok(http.get("/_sandbox/grants", params={"client_key": AUDITED}))["grants"]
    assert mine["client_key"] == AUDITED
    assert mine["creator"] == "ana_makes"
    assert mine["open_id"] == pair["open_id"]
    assert mine["scopes"] == ["user.info.basic"]
    assert mine["created_at"] == T0_TEXT
    assert mine["revoked"] is False and mine["active"] is True
    refused(http.get("/_sandbox/grants", params={"client_key": "nope_nope"}), 404, "not_found")

    http.post(
        "/v2/oauth/revoke/",
        data={
            "client_key": AUDITED,
            "client_secret": AUDITED_SECRET,
            "token": pair["access_token"],
        },
    )
    (mine,) = ok(http.get("/_sandbox/grants", params={"client_key": AUDITED}))["grants"]
    assert mine["revoked"] is True and mine["active"] is False

    ok(http.post("/_sandbox/clock", json={"advance_seconds": 180 * 86400}))
    (other,) = ok(http.get("/_sandbox/grants", params={"client_key": UNAUDITED}))["grants"]
    assert other["revoked"] is False and other["active"] is False
    # A day after they ended, ended grants are swept away (a sandbox left running stays small).
    ok(http.post("/_sandbox/clock", json={"advance_seconds": 86400}))
    assert ok(http.get("/_sandbox/grants", params={"client_key": UNAUDITED}))["grants"] == []
    assert ok(http.get("/_sandbox/grants"))["grants"] == []


# -- dashboard ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/_sandbox/", "/_sandbox"])
def test_dashboard_renders(http: httpx.Client, path: str) -> None:
    tokens(http)
    response = http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for text in ["Acme Scheduler", AUDITED, AUDITED_SECRET, SANDBOX_APP, *DEFAULT_CREATORS]:
        assert text in page, text
    assert T0_TEXT in page
    assert "/_sandbox/tokens" in page  # the journal section


def test_dashboard_escapes_what_it_shows(http: httpx.Client) -> None:
    ok(http.post("/_sandbox/creators", json={"nickname": "<script>alert(1)</script>"}), 201)
    ok(http.post("/_sandbox/apps", json={"name": "<b>bold</b>"}), 201)
    page = http.get("/_sandbox/").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert "<b>bold</b>" not in page


def test_avatar(http: httpx.Client, sandbox: Sandbox) -> None:
    uid = sandbox.state.world.creators["ana_makes"].uid
    response = http.get(f"/_sandbox/avatars/{uid}.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert http.get("/_sandbox/avatars/123.svg").status_code == 404


# -- bad input ------------------------------------------------------------------------------

WRITES = [
    ("POST", "/_sandbox/reset"),
    ("POST", "/_sandbox/seed"),
    ("POST", "/_sandbox/apps"),
    ("PATCH", f"/_sandbox/apps/{AUDITED}"),
    ("POST", "/_sandbox/creators"),
    ("PATCH", "/_sandbox/creators/ana_makes"),
    ("POST", "/_sandbox/clock"),
    ("POST", "/_sandbox/authorize"),
    ("POST", "/_sandbox/tokens"),
]
BAD_BODIES = [
    b"{",
    b'{"a": }',
    b"[1, 2]",
    b'"a string"',
    b"42",
    b"null",
    b"true",
    b"\xff\xfe\x00garbage",
    b'{"stage": "\xff"}',
    b"<xml/>",
]


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("content", BAD_BODIES)
def test_malformed_bodies_are_400_json(
    http: httpx.Client, method: str, path: str, content: bytes
) -> None:
    response = http.request(
        method, path, content=content, headers={"content-type": "application/json"}
    )
    refused(response)


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_unknown_fields_are_400(http: httpx.Client, method: str, path: str) -> None:
    response = http.request(method, path, json={"no_such_field_anywhere": 1})
    assert "no_such_field_anywhere" in refused(response)


def test_oversized_control_body_is_refused_as_json() -> None:
    sandbox = Sandbox("default", options=ServerOptions(max_body_bytes=64))
    with sandbox.client() as http:
        response = http.post("/_sandbox/apps", json={"name": "x" * 500})
        assert 400 <= response.status_code < 500, response.text
        assert "error" in response.json()
        assert ok(http.get("/_sandbox/apps"))["apps"][-1]["name"] != "x" * 500


def test_unknown_control_path_is_404_json(http: httpx.Client) -> None:
    for path in ["/_sandbox/nope", "/_sandbox/apps/x/y", "/_sandbox/journal/1"]:
        assert path in refused(http.get(path), 404, "not_found")


def test_wrong_method_is_405_json(http: httpx.Client) -> None:
    refused(http.put("/_sandbox/clock", json={}), 405, "method_not_allowed")
    refused(http.delete("/_sandbox/apps"), 405, "method_not_allowed")
    refused(http.get("/_sandbox/authorize"), 405, "method_not_allowed")


# -- the loopback guard ---------------------------------------------------------------------


def remote_get(
    sandbox: Sandbox, path: str, client: tuple[str, int] = ("10.1.2.3", 1234), **kwargs: Any
) -> httpx.Response:
    """A request from a non-loopback peer, straight into the ASGI app."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=sandbox.app, client=client)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1:8080"
        ) as remote:
            return await remote.get(path, **kwargs)

    return asyncio.run(call())


@pytest.mark.parametrize("path", ["/_sandbox/health", "/_sandbox/", "/_sandbox/apps"])
def test_control_api_refuses_non_loopback_clients(sandbox: Sandbox, path: str) -> None:
    refused(remote_get(sandbox, path), 403, "forbidden")


def test_tiktok_paths_answer_any_client(sandbox: Sandbox) -> None:
    response = remote_get(sandbox, "/v2/user/info/")
    assert response.status_code == 401  # TikTok's answer, not the guard's
    assert response.json()["error"]["code"] == "access_token_invalid"


@pytest.mark.parametrize("peer", [("127.0.0.1", 1), ("127.8.9.10", 1), ("::1", 1)])
def test_loopback_clients_are_allowed(sandbox: Sandbox, peer: tuple[str, int]) -> None:
    assert ok(remote_get(sandbox, "/_sandbox/health", client=peer))["status"] == "ok"


def test_admin_token_opens_the_control_api() -> None:
    sandbox = Sandbox("default", options=ServerOptions(admin_token="s3cret-token"))
    header = "X-Sandbox-Admin-Token"
    refused(remote_get(sandbox, "/_sandbox/health"), 403, "forbidden")
    refused(remote_get(sandbox, "/_sandbox/health", headers={header: "wrong"}), 403, "forbidden")
    refused(remote_get(sandbox, "/_sandbox/health", headers={header: ""}), 403, "forbidden")
    answer = remote_get(sandbox, "/_sandbox/health", headers={header: "s3cret-token"})
    assert ok(answer)["status"] == "ok"
    # Loopback clients still need no token.
    assert ok(remote_get(sandbox, "/_sandbox/health", client=("127.0.0.1", 9)))["status"] == "ok"


# -- nothing a refused request sends is stored (issue 10) -------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/_sandbox/creators/ana_makes", b'{"nickname": "Ana \\udfff"}'),
        ("PATCH", "/_sandbox/creators/ana_makes", b'{"bio_description": "x\\u0000y"}'),
        ("POST", "/_sandbox/creators", b'{"nickname": "\\ud800"}'),
        ("POST", "/_sandbox/apps", b'{"name": "\\udfff", "creators": [{"username": "new_one"}]}'),
        (
            "POST",
            "/_sandbox/apps",
            b'{"name": "ok", "creators": [{"username": "new_one"}], "stage": 3}',
        ),
        (
            "PATCH",
            "/_sandbox/apps/awacmescheduler01",
            b'{"webhook_url": "http://127.0.0.1:9/h\\nook"}',
        ),
        (
            "PATCH",
            "/_sandbox/apps/awacmescheduler01",
            b'{"redirect_uris": ["https://a.example/c b"]}',
        ),
        ("POST", "/_sandbox/authorize", b'{"client_key": "\\udfff", "username": "ana_makes"}'),
        (
            "POST",
            "/_sandbox/tokens",
            b'{"client_key": "a", "scopes": ' + b"[" * 3000 + b"]" * 3000 + b"}",
        ),
        ("POST", "/_sandbox/faults", b'{"status": ' + b"9" * 5000 + b"}"),
        ("POST", "/_sandbox/clock", b'{"advance_seconds": 1e999}'),
        ("POST", "/_sandbox/outcomes", b'{"fail_reason": "internal", "count": NaN}'),
    ],
)
def test_a_refused_control_write_changes_nothing_and_everything_still_renders(
    http: httpx.Client, method: str, path: str, body: bytes
) -> None:
    before = control_state(http)
    answer = http.request(method, path, content=body, headers=JSON)
    refused(answer, 400)
    assert control_state(http) == before
    for page in ("/_sandbox/", "/_sandbox/journal", "/_sandbox/creators"):
        assert http.get(page).status_code == 200


def test_a_refused_app_creation_draws_no_ids(sandbox: Sandbox, http: httpx.Client) -> None:
    # The ids and generated details after a refused request are those a run without it gets.
    refused(http.post("/_sandbox/apps", json={"creators": [{}, {}], "stage": "beta"}))
    made = ok(http.post("/_sandbox/apps", json={"creators": [{}]}), 201)
    with Sandbox("default", seed=0, clock=Clock.frozen_at(T0)).client() as fresh:
        assert ok(fresh.post("/_sandbox/apps", json={"creators": [{}]}), 201) == made


def test_a_sandbox_holds_a_bounded_number_of_apps(sandbox: Sandbox, http: httpx.Client) -> None:
    from mock_server.domain.world import MAX_APPS

    for i in range(MAX_APPS - len(sandbox.state.world.apps)):
        sandbox.state.world.apps[f"filler{i:04d}"] = sandbox.state.world.apps[AUDITED]
    message = refused(http.post("/_sandbox/apps", json={"name": "One too many"}))
    assert f"at most {MAX_APPS} apps" in message


@pytest.mark.parametrize(
    "path",
    ["/v2/oauth/token", "/v2/post/publish/video/init", "/v2/user/info", "/v2/auth/authorize"],
)
def test_a_missing_trailing_slash_is_not_found_never_redirected(
    http: httpx.Client, path: str
) -> None:
    answer = http.post(path, headers={"Host": "evil.example"})
    assert answer.status_code == 404
    assert "location" not in answer.headers
    body = answer.json()
    if path.startswith(("/v2/oauth", "/v2/auth")):
        assert set(body) == {"error", "error_description", "log_id"}
    else:
        assert set(body) == {"data", "error"} and body["data"] == {}


@pytest.mark.parametrize("size", ["²", "9" * 5000, "-1", "0", "2049", "1e3", "١٢", ""])
def test_avatar_sizes_that_are_not_plain_numbers_fall_back(
    sandbox: Sandbox, http: httpx.Client, size: str
) -> None:
    uid = sandbox.state.world.creators["ana_makes"].uid
    answer = http.get(f"/_sandbox/avatars/{uid}.svg", params={"size": size})
    assert answer.status_code == 200
    assert "width='168'" in answer.text
    assert "width='2048'" in http.get(f"/_sandbox/avatars/{uid}.svg?size=2048").text
