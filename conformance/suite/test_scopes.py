"""Which scope opens what (ref 3, 5, 9), both ways, one by one.

Each endpoint for a token granted one scope: answered when that scope opens it, 401
`scope_not_authorized` when not. Each user-info field: a token with the field's scope gets it, a
token without is refused: `scope_permission_missed` (400, the reference's reading of the code)
or `scope_not_authorized` (401, as TikTok was recorded answering), even for a field that an
older mapping put elsewhere (`username` moved from basic to profile by 2024-02-29, ref 3); a
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
# ref 5: a field whose scope was not granted; either refusal the reference allows.
FIELD_REFUSALS = {(400, "scope_permission_missed"), (401, "scope_not_authorized")}


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
            assert (answer.status, answer.code) in FIELD_REFUSALS, (
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


# ref 3: the scope(s) that open each endpoint; any one of them is enough.
OPENS: dict[tuple[str, str], frozenset[str]] = {
    ("user_info", ""): frozenset({BASIC}),
    ("creator_info", ""): frozenset({"video.publish"}),
    ("video_init", ""): frozenset({"video.publish"}),
    ("inbox_video_init", ""): frozenset({"video.upload"}),
    ("content_init", "DIRECT_POST"): frozenset({"video.publish"}),
    ("content_init", "MEDIA_UPLOAD"): frozenset({"video.upload"}),
    ("status_fetch", ""): frozenset({"video.upload", "video.publish"}),
}


@pytest.mark.behaviour("endpoint_scopes", "3, 4.2, 9")
@pytest.mark.parametrize("granted", [BASIC, "video.upload", "video.publish"])
def test_each_endpoint_opens_to_exactly_its_scopes(
    http: httpx.Client, controller: Controller, granted: str
) -> None:
    """A token granted one scope: every endpoint that scope opens answers, every other one is
    401 scope_not_authorized; photo posts need video.publish to DIRECT_POST and video.upload to
    MEDIA_UPLOAD (ref 3, 9)."""
    app = controller.create_app(verified_domains=["photos.conformance.example"])
    actor = calls.arrange(controller, app=app, scopes=(granted,), app_version="35.1.0")
    photo = ["https://photos.conformance.example/p.jpg"]
    bodies = {
        ("video_init", ""): calls.video_init(calls.file_upload()),
        ("inbox_video_init", ""): {"source_info": calls.file_upload()},
        ("content_init", "DIRECT_POST"): calls.photo_init(photo, "DIRECT_POST"),
        ("content_init", "MEDIA_UPLOAD"): calls.photo_init(photo, "MEDIA_UPLOAD"),
        ("status_fetch", ""): {"publish_id": "v_pub_file~v2-1.123456789"},  # ref 7.3's
    }
    for (endpoint, mode), scopes in OPENS.items():
        example("endpoint_scopes")
        answer = checks.envelope(
            calls.call(http, endpoint, actor.access_token, bodies.get((endpoint, mode))), endpoint
        )
        what = f"{endpoint} {mode}".strip()
        if granted in scopes:
            assert answer.code != "scope_not_authorized", f"ref 3: {granted} opens {what}: {answer}"
        else:
            assert (answer.status, answer.code) == (401, "scope_not_authorized"), (
                f"ref 3: {what} needs {' or '.join(sorted(scopes))}, granted {granted}: {answer}"
            )
