"""`GET /v2/user/info/` rules in the domain: fields, their scopes, and what they hold (ref 5)."""

from __future__ import annotations

import pytest

from mock_server.domain.errors import ApiError
from mock_server.domain.fields import parse_fields, scoped_fields
from mock_server.domain.ids import open_id
from mock_server.domain.scopes import USER_INFO_FIELDS
from mock_server.domain.users import user_fields, user_info
from tests.mock_server.domain.conftest import Env
from tests.mock_server.sandboxes import NARROW, SANDBOX, WEB

BASE = "http://127.0.0.1:8080"
BASIC = frozenset({"user.info.basic"})
BASIC_FIELDS = ["open_id", "union_id", "avatar_url", "avatar_url_100", "avatar_large_url"]
PROFILE_FIELDS = ["bio_description", "profile_deep_link", "is_verified", "username"]
STATS_FIELDS = ["follower_count", "following_count", "likes_count", "video_count"]


@pytest.mark.parametrize("raw", [None, "", ",", " , ,, "])
def test_fields_are_required(raw: str | None) -> None:
    with pytest.raises(ApiError) as info:
        parse_fields(raw, USER_INFO_FIELDS)
    assert (info.value.code, info.value.http_status) == ("invalid_params", 400)
    assert info.value.message == "Fields is required, please provide fields in the request"


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("open_id,email", ["open_id"]),
        ("Open_ID", []),
        ("open_id,,nope,display_name", ["open_id", "display_name"]),
    ],
)
def test_unknown_fields_are_ignored_by_default(raw: str, kept: list[str]) -> None:
    assert parse_fields(raw, USER_INFO_FIELDS) == kept


@pytest.mark.parametrize("raw", ["open_id,email", "Open_ID", "open_id,,nope,display_name"])
def test_unknown_fields_refuse_the_request_when_the_scenario_says_so(raw: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_fields(raw, USER_INFO_FIELDS, "refuse")
    assert (info.value.code, info.value.http_status) == ("invalid_params", 400)
    assert info.value.message.startswith("Invalid field(s): ")


def test_fields_are_trimmed_and_deduplicated_in_order() -> None:
    fields = parse_fields(" display_name,open_id ,display_name", USER_INFO_FIELDS)
    assert fields == ["display_name", "open_id"]


UNSCOPED = [
    (["username"], BASIC, ["user.info.profile"]),
    (["open_id", "follower_count"], BASIC | {"user.info.profile"}, ["user.info.stats"]),
    (
        ["display_name", "is_verified", "video_count"],
        BASIC,
        ["user.info.profile", "user.info.stats"],
    ),
    (["open_id"], frozenset({"video.upload"}), ["user.info.basic"]),
]


@pytest.mark.parametrize(("fields", "scopes", "missing"), UNSCOPED)
def test_a_field_without_its_scope_is_scope_not_authorized_naming_the_scopes(
    fields: list[str], scopes: frozenset[str], missing: list[str]
) -> None:
    """The recorded answer (SocialiteProviders/Providers issue 1198): `username` asked for with
    only user.info.basic granted is a 401 `scope_not_authorized` for the whole request."""
    with pytest.raises(ApiError) as info:
        scoped_fields(fields, USER_INFO_FIELDS, scopes, "scope_not_authorized")
    assert (info.value.code, info.value.http_status) == ("scope_not_authorized", 401)
    assert info.value.message.startswith("The user did not authorize the scope required")
    assert info.value.message.endswith(f"({' or '.join(missing)}).")


@pytest.mark.parametrize(("fields", "scopes", "missing"), UNSCOPED)
def test_a_field_without_its_scope_may_be_scope_permission_missed(
    fields: list[str], scopes: frozenset[str], missing: list[str]
) -> None:
    with pytest.raises(ApiError) as info:
        scoped_fields(fields, USER_INFO_FIELDS, scopes, "scope_permission_missed")
    assert (info.value.code, info.value.http_status) == ("scope_permission_missed", 400)
    assert all(scope in info.value.message for scope in missing)


def test_a_field_without_its_scope_may_be_left_out() -> None:
    fields = ["open_id", "username", "follower_count", "display_name"]
    kept = scoped_fields(fields, USER_INFO_FIELDS, BASIC, "omit")
    assert kept == ["open_id", "display_name"]


@pytest.mark.parametrize(
    ("fields", "scopes"),
    [
        ([*BASIC_FIELDS, "display_name"], BASIC),
        (PROFILE_FIELDS, BASIC | {"user.info.profile"}),
        (STATS_FIELDS, frozenset({"user.info.stats"})),
    ],
)
def test_fields_with_their_scope_pass(fields: list[str], scopes: frozenset[str]) -> None:
    for unscoped in ("scope_not_authorized", "scope_permission_missed", "omit"):
        assert scoped_fields(fields, USER_INFO_FIELDS, scopes, unscoped) == fields


def test_user_info_holds_exactly_the_requested_fields(env: Env) -> None:
    app, ana = env.app(WEB), env.world.creators["ana"]
    scopes = frozenset(app.scopes)
    user = user_info(app, ana, scopes, ["username", "open_id", "is_verified", "likes_count"], BASE)
    assert list(user) == ["username", "open_id", "is_verified", "likes_count"]
    assert user["username"] == "ana"
    assert user["open_id"] == open_id(WEB, ana.uid)
    assert user["is_verified"] is True
    assert isinstance(user["likes_count"], int)


def test_user_fields_types(env: Env) -> None:
    values = user_fields(env.app(WEB), env.world.creators["ben"], BASE)
    assert values["display_name"] == "Ben Private"
    for name in (*BASIC_FIELDS, "display_name", "bio_description", "profile_deep_link"):
        assert isinstance(values[name], str) and values[name], name
    for name in STATS_FIELDS:
        assert type(values[name]) is int and values[name] >= 0, name
    assert type(values["is_verified"]) is bool
    assert str(values["avatar_url"]).startswith(BASE + "/")


def test_open_id_is_per_app_and_union_id_per_developer(env: Env) -> None:
    ana = env.world.creators["ana"]
    web = user_fields(env.app(WEB), ana, BASE)
    sandbox = user_fields(env.app(SANDBOX), ana, BASE)  # same developer as WEB
    narrow = user_fields(env.app(NARROW), ana, BASE)  # another developer
    assert len({web["open_id"], sandbox["open_id"], narrow["open_id"]}) == 3
    assert web["union_id"] == sandbox["union_id"] != narrow["union_id"]
    ben = user_fields(env.app(WEB), env.world.creators["ben"], BASE)
    assert ben["open_id"] != web["open_id"] and ben["union_id"] != web["union_id"]
