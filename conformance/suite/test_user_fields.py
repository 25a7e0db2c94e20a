"""Which scope each user-info field needs (ref 3, 5), field by field, both ways: a token with the
field's scope gets it, a token without is `scope_permission_missed` (400), even for a field that
an older mapping put elsewhere (`username` moved from basic to profile by 2024-02-29, ref 3). A
token without `user.info.basic` gets no user info at all (`scope_not_authorized`, 401).
"""

from __future__ import annotations

import httpx
import pytest

from conformance import calls, checks
from conformance.controller import Controller
from conformance.report import example

BASIC, PROFILE, STATS = "user.info.basic", "user.info.profile", "user.info.stats"
GRANTS = [(BASIC,), (BASIC, PROFILE), (BASIC, STATS), (BASIC, PROFILE, STATS)]


@pytest.mark.behaviour("user_info_field_scopes", "3, 5")
@pytest.mark.parametrize("scopes", GRANTS, ids=lambda s: "+".join(x.split(".")[-1] for x in s))
def test_each_field_needs_exactly_its_scope(
    http: httpx.Client, controller: Controller, scopes: tuple[str, ...]
) -> None:
    actor = calls.arrange(controller, scopes=scopes)
    for field, (scope, _kind) in sorted(checks.USER_FIELDS.items()):
        example("user_info_field_scopes")
        answer = checks.envelope(calls.user_info(http, actor.access_token, field), "user_info")
        if scope in scopes:
            assert answer.ok, f"ref 5: {field} needs {scope}, granted {scopes}: {answer}"
            user = (answer.data or {})["user"]
            assert set(user) == {field}, f"ref 5: only the field asked for: {user}"
        else:
            assert (answer.status, answer.code) == (400, "scope_permission_missed"), (
                f"ref 5: {field} needs {scope}, not granted in {scopes}: {answer}"
            )


@pytest.mark.behaviour("user_info_field_scopes", "3, 5")
def test_without_the_basic_scope_no_field_is_answered(
    http: httpx.Client, controller: Controller
) -> None:
    actor = calls.arrange(controller, scopes=(PROFILE, STATS, "video.publish"))
    for field in ("open_id", "username", "follower_count"):
        example("user_info_field_scopes")
        answer = checks.envelope(calls.user_info(http, actor.access_token, field), "user_info")
        assert (answer.status, answer.code) == (401, "scope_not_authorized"), (field, answer)
