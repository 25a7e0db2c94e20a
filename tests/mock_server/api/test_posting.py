"""The Content Posting endpoints over HTTP: every rule of issue 3 made to fire (ref 4, 6-12, 15).

Each test builds the default scenario on a frozen clock (`Posting`): apps `awacmescheduler01`
(audited), `awindieposter0001` (unaudited), `sbawacmesandbox01` (sandbox; targets ana_makes and
ben_private); creators ana_makes (public), ben_private (private), cora.cooks (public, stitch off,
60 s), dev_quiet (private, comments off, app 30.2.0), eli.long (public, duet off, 3600 s).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.mock_server.api.conftest import (
    ACME_MEDIA,
    AUDITED,
    CANCEL_PATH,
    CHUNKED,
    CONTENT_INIT_PATH,
    CREATOR_INFO_PATH,
    INBOX_INIT_PATH,
    LOG_ID,
    LOOPBACK_MEDIA,
    POSTING_SCOPES,
    SANDBOX_APP,
    STATUS_PATH,
    UNAUDITED,
    VIDEO_INIT_PATH,
    Posting,
    assert_envelope_error,
    default_with,
    publish_id_of,
    pull,
)
from tests.polling import eventually

DAY = 24 * 3600
MIB = 1_048_576
PUBLIC_OPTIONS = {"PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"}
PRIVATE_OPTIONS = {"FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"}
UNAUDITED_MESSAGE = (
    "Please review our integration guidelines at "
    "https://developers.tiktok.com/doc/content-sharing-guidelines/"
)
INIT_PATHS = (VIDEO_INIT_PATH, INBOX_INIT_PATH, CONTENT_INIT_PATH)
ALL_PATHS = (CREATOR_INFO_PATH, *INIT_PATHS, STATUS_PATH, CANCEL_PATH)


@pytest.fixture
def p() -> Iterator[Posting]:
    with Posting() as posting:
        yield posting


def expect_error(response: httpx.Response, code: str, status: int, *words: str) -> dict[str, Any]:
    """TikTok's envelope with `code` and `status`, `data: {}`, a 34-character log_id, and a
    message that mentions every one of `words`."""
    body = assert_envelope_error(response, code, status)
    assert len(body["error"]["log_id"]) == 34
    for word in words:
        assert word in body["error"]["message"], (word, body["error"]["message"])
    return body


def expect_ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["error"]["code"] == "ok"
    assert body["error"]["message"] == ""
    assert LOG_ID.match(body["error"]["log_id"])
    data: dict[str, Any] = body.get("data", {})
    return data


def effective_privacy(p: Posting, publish_id: str) -> str | None:
    privacy: str | None = p.publish(publish_id)["privacy_level"]
    return privacy


# -- scopes (ref 3, 4.2, 6-9) ---------------------------------------------------------------


def test_video_init_needs_video_publish(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes", ["video.upload"])
    expect_error(p.video_init(token), "scope_not_authorized", 401, "scope")


def test_creator_info_needs_video_publish(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes", ["video.upload", "user.info.basic"])
    expect_error(p.creator_info(token), "scope_not_authorized", 401, "scope")


def test_inbox_init_needs_video_upload(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes", ["video.publish"])
    expect_error(p.inbox_init(token), "scope_not_authorized", 401, "scope")


def test_photo_direct_post_needs_video_publish_and_media_upload_needs_video_upload(
    p: Posting,
) -> None:
    upload_only = p.token(AUDITED, "ana_makes", ["video.upload"])
    publish_only = p.token(AUDITED, "ana_makes", ["video.publish"])
    expect_error(p.photo_init(upload_only, "DIRECT_POST"), "scope_not_authorized", 401)
    expect_error(
        p.photo_init(publish_only, "MEDIA_UPLOAD", privacy_level=None),
        "scope_not_authorized",
        401,
    )
    expect_ok(p.photo_init(publish_only, "DIRECT_POST"))
    expect_ok(p.photo_init(upload_only, "MEDIA_UPLOAD", privacy_level=None))


def test_photo_init_with_neither_posting_scope(p: Posting) -> None:
    basic = p.token(AUDITED, "ana_makes", ["user.info.basic"])
    expect_error(p.photo_init(basic, "MEDIA_UPLOAD"), "scope_not_authorized", 401)


def test_status_and_cancel_accept_either_posting_scope(p: Posting) -> None:
    publish_id = publish_id_of(p.video_init(p.token(AUDITED, "ana_makes"), source=pull()))
    upload_only = p.token(AUDITED, "ana_makes", ["video.upload"])
    expect_ok(p.status(upload_only, publish_id))
    basic = p.token(AUDITED, "ana_makes", ["user.info.basic"])
    expect_error(p.status(basic, publish_id), "scope_not_authorized", 401)
    expect_error(p.cancel(basic, publish_id), "scope_not_authorized", 401)


def test_direct_post_disabled_for_the_app_is_scope_not_authorized(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    p.patch_app(AUDITED, direct_post_enabled=False)
    expect_error(p.video_init(token), "scope_not_authorized", 401)
    expect_error(p.photo_init(token, "DIRECT_POST"), "scope_not_authorized", 401)
    # the upload (inbox) flow does not need Direct Post
    expect_ok(p.inbox_init(token))
    expect_ok(p.photo_init(token, "MEDIA_UPLOAD", privacy_level=None))
    p.patch_app(AUDITED, direct_post_enabled=True)
    expect_ok(p.video_init(token))


def test_missing_or_unknown_token_is_access_token_invalid(p: Posting) -> None:
    for path in ALL_PATHS:
        expect_error(p.call(path, None, {}), "access_token_invalid", 401)
        expect_error(p.call(path, "act.nope", {}), "access_token_invalid", 401)


# -- privacy_level_option_mismatch (ref 6, 7.1, 7.4) ----------------------------------------


def test_missing_privacy_level_is_a_mismatch(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    expect_error(
        p.video_init(token, privacy_level=None), "privacy_level_option_mismatch", 403, "missing"
    )
    expect_error(
        p.photo_init(token, "DIRECT_POST", privacy_level=None),
        "privacy_level_option_mismatch",
        403,
    )


def test_public_to_everyone_for_a_private_account_is_a_mismatch(p: Posting) -> None:
    token = p.token(AUDITED, "ben_private")
    expect_error(
        p.video_init(token, "PUBLIC_TO_EVERYONE"),
        "privacy_level_option_mismatch",
        403,
        "PUBLIC_TO_EVERYONE",
    )
    expect_ok(p.video_init(token, "FOLLOWER_OF_CREATOR"))


def test_follower_of_creator_for_a_public_account_is_a_mismatch(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    expect_error(p.video_init(token, "FOLLOWER_OF_CREATOR"), "privacy_level_option_mismatch", 403)
    expect_error(p.video_init(token, "EVERYONE"), "privacy_level_option_mismatch", 403)


def test_options_are_computed_at_request_time(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    info = expect_ok(p.creator_info(token))
    assert "PUBLIC_TO_EVERYONE" in info["privacy_level_options"]
    p.patch_creator("ana_makes", account="private")  # flipped after creator_info was read
    expect_error(p.video_init(token, "PUBLIC_TO_EVERYONE"), "privacy_level_option_mismatch", 403)
    publish_id = publish_id_of(p.video_init(token, "FOLLOWER_OF_CREATOR"))
    assert effective_privacy(p, publish_id) == "FOLLOWER_OF_CREATOR"


def test_photo_media_upload_needs_no_privacy_level(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    publish_id = publish_id_of(p.photo_init(token, "MEDIA_UPLOAD", privacy_level=None))
    assert p.publish(publish_id)["mode"] == "MEDIA_UPLOAD"


# -- audit stages (ref 7.4, 15.1, 15.3) -----------------------------------------------------


def test_unaudited_app_refuses_a_public_account_even_with_self_only(p: Posting) -> None:
    token = p.token(UNAUDITED, "ana_makes")
    body = expect_error(
        p.video_init(token, "SELF_ONLY"),
        "unaudited_client_can_only_post_to_private_accounts",
        403,
    )
    assert body["error"]["message"] == UNAUDITED_MESSAGE
    expect_error(
        p.video_init(token, "SELF_ONLY", source=pull()),
        "unaudited_client_can_only_post_to_private_accounts",
        403,
    )
    expect_error(
        p.photo_init(token, "DIRECT_POST"),
        "unaudited_client_can_only_post_to_private_accounts",
        403,
    )
    assert p.publishes(UNAUDITED) == []


def test_unaudited_app_posts_to_a_private_account_as_self_only(p: Posting) -> None:
    token = p.token(UNAUDITED, "ben_private")
    self_only = publish_id_of(p.video_init(token, "SELF_ONLY"))
    followers = publish_id_of(p.video_init(token, "FOLLOWER_OF_CREATOR", source=pull()))
    photo = publish_id_of(p.photo_init(token, "DIRECT_POST", "MUTUAL_FOLLOW_FRIENDS"))
    listed = {item["publish_id"]: item for item in p.publishes(UNAUDITED)}
    assert set(listed) == {self_only, followers, photo}
    for item in listed.values():
        assert item["privacy_level"] == "SELF_ONLY"
        assert item["creator"] == "ben_private"
        assert item["mode"] == "DIRECT_POST"
    assert listed[followers]["source"] == "PULL_FROM_URL"
    assert listed[photo]["media_type"] == "PHOTO"


def test_unaudited_app_still_checks_the_private_accounts_options(p: Posting) -> None:
    token = p.token(UNAUDITED, "ben_private")
    expect_error(p.video_init(token, "PUBLIC_TO_EVERYONE"), "privacy_level_option_mismatch", 403)


def test_unaudited_app_uploads_to_a_public_accounts_inbox(p: Posting) -> None:
    token = p.token(UNAUDITED, "ana_makes")
    publish_id = publish_id_of(p.inbox_init(token))
    assert publish_id.startswith("v_inbox_file~v2.")
    expect_ok(p.photo_init(token, "MEDIA_UPLOAD", privacy_level=None))


def test_a_private_account_made_public_is_refused_by_an_unaudited_app(p: Posting) -> None:
    token = p.token(UNAUDITED, "ben_private")
    expect_ok(p.video_init(token))
    p.patch_creator("ben_private", account="public")
    expect_error(p.video_init(token), "unaudited_client_can_only_post_to_private_accounts", 403)


def test_sandbox_app_behaves_like_an_unaudited_one(p: Posting) -> None:
    public = p.token(SANDBOX_APP, "ana_makes")
    private = p.token(SANDBOX_APP, "ben_private")
    expect_error(
        p.video_init(public, "SELF_ONLY"), "unaudited_client_can_only_post_to_private_accounts", 403
    )
    publish_id = publish_id_of(p.video_init(private, "FOLLOWER_OF_CREATOR"))
    assert effective_privacy(p, publish_id) == "SELF_ONLY"
    # ref 15.3 (3p): inbox upload works in a sandbox, public account or not
    inbox = publish_id_of(p.inbox_init(public))
    assert p.publish(inbox)["mode"] == "MEDIA_UPLOAD"
    expect_ok(p.photo_init(public, "MEDIA_UPLOAD", privacy_level=None))


@pytest.mark.parametrize(
    ("username", "privacy"),
    [
        ("ana_makes", "PUBLIC_TO_EVERYONE"),
        ("ana_makes", "MUTUAL_FOLLOW_FRIENDS"),
        ("ana_makes", "SELF_ONLY"),
        ("ben_private", "FOLLOWER_OF_CREATOR"),
    ],
)
def test_audited_app_keeps_the_requested_privacy(p: Posting, username: str, privacy: str) -> None:
    token = p.token(AUDITED, username)
    video = publish_id_of(p.video_init(token, privacy))
    photo = publish_id_of(p.photo_init(token, "DIRECT_POST", privacy))
    assert effective_privacy(p, video) == privacy
    assert effective_privacy(p, photo) == privacy
    assert p.publish(video)["requested_privacy_level"] == privacy


# -- reached_active_user_cap (ref 15.1, 15.2) -----------------------------------------------


def test_sixth_creator_in_24h_on_an_unaudited_app(p: Posting) -> None:
    key, names = p.new_app([{"account": "private"}] * 6, stage="unaudited")
    for name in names[:5]:  # one an hour
        expect_ok(p.video_init(p.token(key, name)))
        p.advance(3600)
    sixth = p.token(key, names[5])
    expect_error(p.video_init(sixth), "reached_active_user_cap", 403)
    expect_error(p.photo_init(sixth, "DIRECT_POST"), "reached_active_user_cap", 403)
    # creator_info says so too, with HTTP 200 (ref 6)
    expect_error(p.creator_info(sixth), "reached_active_user_cap", 200)
    # the five active creators can keep posting; the sixth can still use the inbox
    expect_ok(p.video_init(p.token(key, names[0])))  # t = 5 h
    expect_ok(p.inbox_init(sixth))
    # at t = 24 h the first creator's first post left the window, but it posted again
    p.advance(DAY - 5 * 3600)
    expect_error(p.video_init(p.token(key, names[5])), "reached_active_user_cap", 403)
    # at t = 25 h the second creator's only post left the window: its slot frees up
    p.advance(3600)
    expect_ok(p.video_init(p.token(key, names[5])))
    expect_error(p.video_init(p.token(key, names[1])), "reached_active_user_cap", 403)


def test_sixth_creator_is_admitted_24h_later(p: Posting) -> None:
    key, names = p.new_app([{"account": "private"}] * 6, stage="unaudited")
    tokens = [p.token(key, name) for name in names]
    for token in tokens[:5]:
        expect_ok(p.video_init(token))
    expect_error(p.video_init(tokens[5]), "reached_active_user_cap", 403)
    p.advance(DAY - 1)
    sixth = p.token(key, names[5])
    expect_error(p.video_init(sixth), "reached_active_user_cap", 403)
    p.advance(1)
    expect_ok(p.creator_info(sixth))
    expect_ok(p.video_init(sixth))


def test_unaudited_cap_cannot_be_raised_above_5(p: Posting) -> None:
    key, names = p.new_app([{"account": "private"}] * 6, stage="unaudited")
    p.patch_app(key, active_creator_cap=50)
    tokens = [p.token(key, name) for name in names]
    for token in tokens[:5]:
        expect_ok(p.video_init(token))
    expect_error(p.video_init(tokens[5]), "reached_active_user_cap", 403)


def test_audited_app_per_app_active_creator_cap(p: Posting) -> None:
    key, names = p.new_app([{}, {}, {}], stage="audited")
    tokens = [p.token(key, name) for name in names]
    expect_ok(p.video_init(tokens[0], "PUBLIC_TO_EVERYONE"))
    expect_ok(p.video_init(tokens[1], "PUBLIC_TO_EVERYONE"))
    expect_ok(p.video_init(tokens[2], "PUBLIC_TO_EVERYONE"))  # no cap by default
    key2, names2 = p.new_app([{}, {}, {}], stage="audited", active_creator_cap=2)
    tokens2 = [p.token(key2, name) for name in names2]
    expect_ok(p.video_init(tokens2[0]))
    expect_ok(p.video_init(tokens2[1]))
    expect_error(p.video_init(tokens2[2]), "reached_active_user_cap", 403)
    expect_error(p.creator_info(tokens2[2]), "reached_active_user_cap", 200)
    # a cap set with PATCH on the first app bites its fourth creator...
    assert p.patch_app(key, active_creator_cap=3)["active_creator_cap"] == 3
    fourth = p.token(key, names2[2])
    expect_error(p.video_init(fourth), "reached_active_user_cap", 403)
    # ...until it is raised
    p.patch_app(key, active_creator_cap=4)
    expect_ok(p.video_init(fourth))


# -- spam_risk_too_many_posts (ref 15.2) ----------------------------------------------------


def test_daily_post_cap(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    p.patch_creator("ana_makes", daily_post_cap=2)
    expect_ok(p.video_init(token))
    expect_ok(p.photo_init(token, "DIRECT_POST"))  # photos count too
    expect_error(p.video_init(token), "spam_risk_too_many_posts", 403)
    expect_error(p.photo_init(token, "DIRECT_POST"), "spam_risk_too_many_posts", 403)
    expect_error(p.creator_info(token), "spam_risk_too_many_posts", 200)
    # the cap is on Direct Posts; the inbox flow is capped separately
    expect_ok(p.inbox_init(token))


def test_default_daily_post_cap_is_15(p: Posting) -> None:
    token = p.token(AUDITED, "eli.long")
    for _ in range(15):
        expect_ok(p.video_init(token))
        p.advance(60)  # stay under the per-minute rate limit
    expect_error(p.video_init(token), "spam_risk_too_many_posts", 403)


def test_posts_last_24h_set_by_control(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    p.patch_creator("ana_makes", posts_last_24h=15)
    expect_error(p.creator_info(token), "spam_risk_too_many_posts", 200)
    expect_error(p.video_init(token), "spam_risk_too_many_posts", 403)
    p.patch_creator("ana_makes", posts_last_24h=14)
    expect_ok(p.video_init(token))
    expect_error(p.video_init(token), "spam_risk_too_many_posts", 403)


def test_post_cap_window_is_rolling(p: Posting) -> None:
    p.patch_creator("ana_makes", daily_post_cap=2)

    def post() -> httpx.Response:
        return p.video_init(p.token(AUDITED, "ana_makes"))  # tokens last 2 h

    expect_ok(post())  # t = 0
    p.advance(12 * 3600)
    expect_ok(post())  # t = 12 h
    p.advance(12 * 3600 - 1)
    expect_error(post(), "spam_risk_too_many_posts", 403)  # t = 24 h - 1 s
    p.advance(1)
    expect_ok(post())  # t = 24 h: the first post left the window
    p.advance(6 * 3600)
    expect_error(post(), "spam_risk_too_many_posts", 403)  # t = 30 h
    p.advance(6 * 3600)
    expect_ok(post())  # t = 36 h


def test_post_cap_is_shared_across_apps(p: Posting) -> None:
    p.patch_creator("ben_private", daily_post_cap=2)
    audited = p.token(AUDITED, "ben_private")
    unaudited = p.token(UNAUDITED, "ben_private")
    expect_ok(p.video_init(audited))
    expect_ok(p.video_init(unaudited))
    expect_error(p.video_init(audited), "spam_risk_too_many_posts", 403)
    expect_error(p.video_init(unaudited), "spam_risk_too_many_posts", 403)


def test_posts_last_24h_frees_up_after_24h(p: Posting) -> None:
    p.patch_creator("ana_makes", posts_last_24h=15)
    p.advance(DAY - 1)
    token = p.token(AUDITED, "ana_makes")
    expect_error(p.video_init(token), "spam_risk_too_many_posts", 403)
    p.advance(1)
    expect_ok(p.video_init(token))


# -- spam_risk_user_banned_from_posting -----------------------------------------------------


def test_a_banned_creator_is_refused_everywhere(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    p.patch_creator("ana_makes", banned=True)
    expect_error(p.creator_info(token), "spam_risk_user_banned_from_posting", 200)
    expect_error(p.video_init(token), "spam_risk_user_banned_from_posting", 403)
    expect_error(p.inbox_init(token), "spam_risk_user_banned_from_posting", 403)
    expect_error(p.photo_init(token, "DIRECT_POST"), "spam_risk_user_banned_from_posting", 403)
    expect_error(
        p.photo_init(token, "MEDIA_UPLOAD", privacy_level=None),
        "spam_risk_user_banned_from_posting",
        403,
    )
    assert p.publishes(AUDITED) == []
    p.patch_creator("ana_makes", banned=False)
    expect_ok(p.video_init(token))


# -- spam_risk_too_many_pending_share (ref 8, 15.2) -----------------------------------------


def test_sixth_pending_inbox_share_is_refused(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    for _ in range(3):
        expect_ok(p.inbox_init(token))
    expect_ok(p.inbox_init(token, pull()))
    expect_ok(p.photo_init(token, "MEDIA_UPLOAD", privacy_level=None))
    expect_error(p.inbox_init(token), "spam_risk_too_many_pending_share", 403)
    p.advance(60)
    expect_error(p.photo_init(token, "MEDIA_UPLOAD"), "spam_risk_too_many_pending_share", 403)
    # Direct Post is not an inbox share
    expect_ok(p.video_init(token))
    # other creators have their own drafts
    expect_ok(p.inbox_init(p.token(AUDITED, "cora.cooks")))


def test_pending_shares_set_by_control(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    p.patch_creator("ana_makes", pending_shares=5)
    expect_error(p.inbox_init(token), "spam_risk_too_many_pending_share", 403)
    p.patch_creator("ana_makes", pending_shares=4)
    expect_ok(p.inbox_init(token))
    expect_error(p.inbox_init(token), "spam_risk_too_many_pending_share", 403)


def test_pending_shares_free_up_after_24h(p: Posting) -> None:
    p.patch_creator("ana_makes", pending_shares=5)
    p.advance(DAY - 1)
    token = p.token(AUDITED, "ana_makes")
    expect_error(p.inbox_init(token), "spam_risk_too_many_pending_share", 403)
    p.advance(1)
    expect_ok(p.inbox_init(token))


def test_caps_count_only_what_came_before_a_clock_set_back(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    for _ in range(5):
        expect_ok(p.inbox_init(token))
    expect_error(p.inbox_init(token), "spam_risk_too_many_pending_share", 403)
    key, names = p.new_app([{"account": "private"}] * 6, stage="unaudited")
    tokens = [p.token(key, name) for name in names]
    for each in tokens[:5]:
        expect_ok(p.video_init(each))
    expect_error(p.video_init(tokens[5]), "reached_active_user_cap", 403)
    # A test sets the clock a week back: those drafts and posts are not in the 24 h up to it.
    p.sandbox.clock.set(p.sandbox.clock.now() - 7 * DAY)
    expect_ok(p.inbox_init(p.token(AUDITED, "ana_makes")))
    expect_ok(p.video_init(p.token(key, names[5])))


# -- app_version_check_failed (ref 9) -------------------------------------------------------


def test_photo_media_upload_needs_app_version_31_8(p: Posting) -> None:
    token = p.token(AUDITED, "dev_quiet")  # app 30.2.0
    expect_error(
        p.photo_init(token, "MEDIA_UPLOAD", privacy_level=None),
        "app_version_check_failed",
        400,
        "31.8",
    )
    # Direct Post and the video inbox do not check the app version
    expect_ok(p.photo_init(token, "DIRECT_POST"))
    expect_ok(p.inbox_init(token))
    p.patch_creator("dev_quiet", app_version="31.7.9")
    expect_error(p.photo_init(token, "MEDIA_UPLOAD"), "app_version_check_failed", 400)
    p.patch_creator("dev_quiet", app_version="31.8")
    expect_ok(p.photo_init(token, "MEDIA_UPLOAD", privacy_level=None))
    p.patch_creator("dev_quiet", app_version="31.10.1")  # numeric, not string, comparison
    expect_ok(p.photo_init(token, "MEDIA_UPLOAD", privacy_level=None))


# -- url_ownership_unverified (ref 10.4) ----------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://media.acme.example/v.mp4",  # not https
        "https://evil.example/v.mp4",  # unverified domain
        "https://acme.example/v.mp4",  # the verified domain's parent
        "https://media.acme.example.evil.example/v.mp4",
        "https://media.acme.example@evil.example/v.mp4",
        "http://127.0.0.1:9000/elsewhere/v.mp4",  # loopback outside the prefix
        "http://127.0.0.1:9001/media/v.mp4",  # another port
        "http://localhost:9000/media/v.mp4",  # another host spelling
        "not a url",
        "",
    ],
)
def test_unverified_video_urls(p: Posting, url: str) -> None:
    token = p.token(AUDITED, "ana_makes")
    expect_error(p.video_init(token, source=pull(url)), "url_ownership_unverified", 403)
    p.advance(60)
    expect_error(p.inbox_init(token, pull(url)), "url_ownership_unverified", 403)


@pytest.mark.parametrize(
    "url",
    [
        ACME_MEDIA + "v.mp4",
        "https://cdn.media.acme.example/a/b/v.mp4",  # a subdomain of the verified domain
        LOOPBACK_MEDIA + "v.mp4",  # the loopback prefix, over http
        LOOPBACK_MEDIA + "deep/er/v.mp4",
    ],
)
def test_verified_video_urls(p: Posting, url: str) -> None:
    token = p.token(AUDITED, "ana_makes")
    publish_id = publish_id_of(p.video_init(token, source=pull(url)))
    assert p.publish(publish_id)["video_url"] == url
    expect_ok(p.inbox_init(token, pull(url)))


def test_a_photo_outside_the_verified_properties_refuses_the_post(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    images = [ACME_MEDIA + "1.jpg", "https://evil.example/2.jpg", ACME_MEDIA + "3.jpg"]
    expect_error(p.photo_init(token, images=images), "url_ownership_unverified", 403)
    images[1] = LOOPBACK_MEDIA + "2.jpg"
    expect_ok(p.photo_init(token, images=images))


def test_the_loopback_relaxation_needs_the_app_setting(p: Posting) -> None:
    key, names = p.new_app([{}], stage="audited", verified_domains=["media.acme.example"])
    token = p.token(key, names[0])
    url = LOOPBACK_MEDIA + "v.mp4"
    expect_error(p.video_init(token, source=pull(url)), "url_ownership_unverified", 403)
    # an http loopback prefix cannot even be declared without allow_loopback_http_media
    refused = p.http.patch(
        f"/_sandbox/apps/{key}", json={"verified_url_prefixes": [LOOPBACK_MEDIA]}
    )
    assert refused.status_code == 400
    p.patch_app(key, allow_loopback_http_media=True, verified_url_prefixes=[LOOPBACK_MEDIA])
    expect_ok(p.video_init(token, source=pull(url)))
    # the relaxation is for loopback hosts only: a verified domain still needs https
    expect_error(
        p.video_init(token, source=pull("http://media.acme.example/v.mp4")),
        "url_ownership_unverified",
        403,
    )


def test_an_ip_address_is_never_a_verified_domain(p: Posting) -> None:
    """ref 10.4: a Domain property is a domain; an IP host is only for loopback media prefixes.
    Declaring one is either refused by the control API or does not verify the URL."""
    token = p.token(AUDITED, "ana_makes")
    p.http.patch(f"/_sandbox/apps/{AUDITED}", json={"verified_domains": ["203.0.113.7"]})
    expect_error(
        p.video_init(token, source=pull("https://203.0.113.7/v.mp4")),
        "url_ownership_unverified",
        403,
    )


def test_a_host_starting_with_127_is_not_loopback(p: Posting) -> None:
    """`127.evil.example` is a DNS name, not a loopback address: no http for it."""
    token = p.token(AUDITED, "ana_makes")
    prefix = "http://127.evil.example/media/"
    p.http.patch(
        f"/_sandbox/apps/{AUDITED}", json={"verified_url_prefixes": [LOOPBACK_MEDIA, prefix]}
    )
    expect_error(
        p.video_init(token, source=pull(prefix + "v.mp4")), "url_ownership_unverified", 403
    )


def test_unaudited_and_sandbox_apps_need_verified_urls_too(p: Posting) -> None:
    for key in (UNAUDITED, SANDBOX_APP):
        token = p.token(key, "ben_private")
        expect_error(
            p.video_init(token, source=pull(ACME_MEDIA + "v.mp4")), "url_ownership_unverified", 403
        )
        expect_ok(p.video_init(token, source=pull()))


# -- chunk plans (ref 10.1) -----------------------------------------------------------------


def file_upload(video_size: Any, chunk_size: Any, count: Any) -> dict[str, Any]:
    return {
        "source": "FILE_UPLOAD",
        "video_size": video_size,
        "chunk_size": chunk_size,
        "total_chunk_count": count,
    }


@pytest.mark.parametrize(
    ("plan", "words"),
    [
        ((4 * MIB, 2 * MIB, 2), ("chunk size", "5 MB", "whole")),
        ((50 * MIB, 5 * MIB - 1, 10), ("chunk size", "5 MB")),
        ((200 * MIB, 64 * MIB + 1, 3), ("chunk size", "64 MB")),
        ((65 * MIB, 65 * MIB, 1), ("chunk size", "64 MB")),
        ((50_000_123, 10_000_000, 6), ("total chunk count", "floor")),
        ((50_000_123, 10_000_000, 4), ("total chunk count", "floor")),
        ((50 * MIB, 5 * MIB, 1001), ("total chunk count", "1000")),
        ((4 * 1024 * MIB + 1, 64 * MIB, 64), ("video size", "4 GB")),
        ((0, 0, 1), ("video_size",)),
        ((-1, 5 * MIB, 1), ("video_size",)),
        ((50 * MIB, -5 * MIB, 10), ("chunk_size",)),
        ((50 * MIB, 5 * MIB, 0), ("total_chunk_count",)),
        ((None, 5 * MIB, 10), ("video_size",)),
    ],
)
def test_broken_chunk_plans_name_the_rule(
    p: Posting, plan: tuple[Any, Any, Any], words: tuple[str, ...]
) -> None:
    token = p.token(AUDITED, "ana_makes")
    source = file_upload(*plan)
    expect_error(p.video_init(token, source=source), "invalid_params", 400, *words)
    expect_error(p.inbox_init(token, source), "invalid_params", 400, *words)
    assert p.publishes(AUDITED) == []


@pytest.mark.parametrize(
    "plan",
    [
        (50_000_123, 10_000_000, 5),
        (1, 1, 1),
        (4 * MIB, 4 * MIB, 1),
        (64 * MIB, 64 * MIB, 1),
        (4 * 1024 * MIB, 64 * MIB, 64),
    ],
)
def test_valid_chunk_plans_are_accepted(p: Posting, plan: tuple[int, int, int]) -> None:
    token = p.token(AUDITED, "ana_makes")
    publish_id = publish_id_of(p.video_init(token, source=file_upload(*plan)))
    publish = p.publish(publish_id)
    assert (publish["video_size"], publish["chunk_size"], publish["total_chunk_count"]) == plan


# -- post_info and photo rules (ref 7.1, 9) -------------------------------------------------


def test_branded_content_cannot_be_self_only(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    expect_error(
        p.video_init(token, "SELF_ONLY", brand_content_toggle=True),
        "invalid_params",
        400,
        "SELF_ONLY",
    )
    expect_error(
        p.photo_init(token, "DIRECT_POST", "SELF_ONLY", brand_content_toggle=True),
        "invalid_params",
        400,
    )
    expect_ok(p.video_init(token, "PUBLIC_TO_EVERYONE", brand_content_toggle=True))
    expect_ok(p.video_init(token, "SELF_ONLY", brand_organic_toggle=True))


def test_video_title_counts_utf16_units(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    expect_error(
        p.video_init(token, title="😀" * 1101), "invalid_params", 400, "title", "2202", "2200"
    )
    expect_error(p.video_init(token, title="a" * 2201), "invalid_params", 400, "title")
    publish_id = publish_id_of(p.video_init(token, title="😀" * 1100))
    assert p.publish(publish_id)["post_info"]["title"] == "😀" * 1100
    expect_ok(p.video_init(token, title="a" * 2200))


def test_photo_title_and_description_limits(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    expect_error(p.photo_init(token, title="t" * 91), "invalid_params", 400, "title", "90")
    expect_error(p.photo_init(token, title="😀" * 46), "invalid_params", 400, "title")
    expect_error(
        p.photo_init(token, description="d" * 4001), "invalid_params", 400, "description", "4000"
    )
    p.advance(60)
    expect_ok(p.photo_init(token, title="t" * 90, description="d" * 4000))
    expect_ok(p.photo_init(token, "MEDIA_UPLOAD", None, title="😀" * 45))
    expect_error(
        p.photo_init(token, "MEDIA_UPLOAD", None, description="😀" * 2001),
        "invalid_params",
        400,
        "description",
    )


def test_photo_count_limits(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    many = [f"{ACME_MEDIA}{i}.jpg" for i in range(36)]
    expect_error(p.photo_init(token, images=many), "invalid_params", 400, "35")
    expect_error(p.photo_init(token, images=[]), "invalid_params", 400, "photo_images")
    publish_id = publish_id_of(p.photo_init(token, images=many[:35], cover=34))
    assert len(p.publish(publish_id)["photo_images"]) == 35


@pytest.mark.parametrize("cover", [2, -1, 35, None])
def test_photo_cover_index_out_of_range(p: Posting, cover: int | None) -> None:
    token = p.token(AUDITED, "ana_makes")
    expect_error(
        p.photo_init(token, images=[ACME_MEDIA + "1.jpg", ACME_MEDIA + "2.jpg"], cover=cover),
        "invalid_params",
        400,
        "photo_cover_index",
    )


def photo_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "media_type": "PHOTO",
        "post_mode": "DIRECT_POST",
        "post_info": {"privacy_level": "SELF_ONLY"},
        "source_info": {
            "source": "PULL_FROM_URL",
            "photo_images": [ACME_MEDIA + "1.jpg"],
            "photo_cover_index": 0,
        },
    }
    return body | overrides


@pytest.mark.parametrize(
    ("overrides", "word"),
    [
        ({"media_type": "VIDEO"}, "media_type"),
        ({"media_type": None}, "media_type"),
        ({"post_mode": "DIRECT POST"}, "post_mode"),  # the doc table's typo
        ({"post_mode": "UPLOAD"}, "post_mode"),
        ({"post_mode": None}, "post_mode"),
        ({"post_info": None}, "post_info"),
        ({"source_info": {"source": "FILE_UPLOAD", "video_size": 10}}, "source"),
        ({"source_info": {"source": "PULL_FROM_URL", "photo_images": "x"}}, "photo_images"),
    ],
)
def test_photo_request_shape(p: Posting, overrides: dict[str, Any], word: str) -> None:
    token = p.token(AUDITED, "ana_makes")
    body = {k: v for k, v in photo_body(**overrides).items() if v is not None}
    expect_error(p.call(CONTENT_INIT_PATH, token, body), "invalid_params", 400, word)
    expect_ok(p.call(CONTENT_INIT_PATH, token, photo_body()))


# -- malformed requests: invalid_params, never a 500 (DESIGN principle 6) --------------------


@pytest.mark.parametrize("path", (*INIT_PATHS, STATUS_PATH, CANCEL_PATH))
@pytest.mark.parametrize(
    "raw",
    [
        b'{"post_info": {',
        b"[]",
        b'[{"publish_id": "x"}]',
        b'"just a string"',
        b"42",
        b"null",
        b"\xff\xfe\x00garbage",
        b"NaN",
    ],
)
def test_bodies_that_are_not_json_objects(p: Posting, path: str, raw: bytes) -> None:
    token = p.token(AUDITED, "ana_makes")
    response = p.call(path, token, content=raw, headers={"Content-Type": "application/json"})
    expect_error(response, "invalid_params", 400)


def test_deeply_nested_json_is_invalid_param_not_a_500(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    for raw in (b"[" * 100_000, b'{"a":' * 50_000):
        response = p.call(
            VIDEO_INIT_PATH, token, content=raw, headers={"Content-Type": "application/json"}
        )
        expect_error(response, "invalid_params", 400)
        p.advance(60)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_wrong_content_type(p: Posting, content_type: str) -> None:
    token = p.token(AUDITED, "ana_makes")
    raw = json.dumps({"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": CHUNKED})
    response = p.call(VIDEO_INIT_PATH, token, content=raw, headers={"Content-Type": content_type})
    expect_error(response, "invalid_params", 400, "Content-Type")
    ok = p.call(
        VIDEO_INIT_PATH,
        token,
        content=raw,
        headers={"Content-Type": "application/json; charset=UTF-8"},
    )
    expect_ok(ok)


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ({"post_info": "SELF_ONLY", "source_info": CHUNKED}, "post_info"),
        ({"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": "FILE"}, "source_info"),
        ({"post_info": {"privacy_level": "SELF_ONLY"}}, "source_info"),
        ({"post_info": {"privacy_level": 5}, "source_info": CHUNKED}, "privacy_level"),
        ({"post_info": {"privacy_level": ["SELF_ONLY"]}, "source_info": CHUNKED}, "privacy_level"),
        (
            {"post_info": {"privacy_level": "SELF_ONLY", "title": 12}, "source_info": CHUNKED},
            "title",
        ),
        (
            {
                "post_info": {"privacy_level": "SELF_ONLY", "disable_comment": "yes"},
                "source_info": CHUNKED,
            },
            "disable_comment",
        ),
        (
            {
                "post_info": {"privacy_level": "SELF_ONLY", "brand_content_toggle": 1},
                "source_info": CHUNKED,
            },
            "brand_content_toggle",
        ),
        (
            {
                "post_info": {"privacy_level": "SELF_ONLY", "video_cover_timestamp_ms": "1"},
                "source_info": CHUNKED,
            },
            "video_cover_timestamp_ms",
        ),
        (
            {
                "post_info": {"privacy_level": "SELF_ONLY", "video_cover_timestamp_ms": 2**40},
                "source_info": CHUNKED,
            },
            "video_cover_timestamp_ms",
        ),
        (
            {"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": {"source": "DISK"}},
            "source",
        ),
        (
            {"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": {"source": 1}},
            "source",
        ),
        (
            {"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": pull(None)},  # type: ignore[arg-type]
            "video_url",
        ),
        (
            {
                "post_info": {"privacy_level": "SELF_ONLY"},
                "source_info": {**CHUNKED, "video_size": "50000123"},
            },
            "video_size",
        ),
        (
            {
                "post_info": {"privacy_level": "SELF_ONLY"},
                "source_info": {**CHUNKED, "chunk_size": 10_000_000.5},
            },
            "chunk_size",
        ),
        (
            {
                "post_info": {"privacy_level": "SELF_ONLY"},
                "source_info": {**CHUNKED, "total_chunk_count": True},
            },
            "total_chunk_count",
        ),
    ],
)
def test_wrong_types_are_invalid_params(p: Posting, body: dict[str, Any], word: str) -> None:
    token = p.token(AUDITED, "ana_makes")
    expect_error(p.call(VIDEO_INIT_PATH, token, body), "invalid_params", 400, word)


@pytest.mark.parametrize(
    "size",
    [-1, -(2**63), 2**62, 2**63 - 1, 2**63, 2**64, 10**30, -(10**30), 1e300, -1e300],
)
def test_negative_and_huge_sizes_are_invalid_params(p: Posting, size: int | float) -> None:
    token = p.token(AUDITED, "ana_makes")
    for source in (
        file_upload(size, 10_000_000, 5),
        file_upload(50_000_123, size, 5),
        file_upload(50_000_123, 10_000_000, size),
    ):
        expect_error(p.video_init(token, source=source), "invalid_params", 400)
        p.advance(60)


@pytest.mark.parametrize(
    ("literal", "named"),
    [
        (b"1e999", "video_size"),  # a number, too large for the field that names itself
        (b"1" + b"0" * 30, "video_size"),
        (b"9" * 5000, "video_size"),
        (b"Infinity", "not valid JSON"),  # not JSON at all
        (b"-Infinity", "not valid JSON"),
        (b"NaN", "not valid JSON"),
    ],
)
def test_non_finite_sizes_are_invalid_params(p: Posting, literal: bytes, named: str) -> None:
    token = p.token(AUDITED, "ana_makes")
    raw = (
        b'{"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": {"source": "FILE_UPLOAD",'
        b' "video_size": ' + literal + b', "chunk_size": 10000000, "total_chunk_count": 5}}'
    )
    response = p.call(
        VIDEO_INIT_PATH, token, content=raw, headers={"Content-Type": "application/json"}
    )
    expect_error(response, "invalid_params", 400, named)
    assert p.publishes(AUDITED) == []


def test_status_and_cancel_need_a_string_publish_id(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    for path in (STATUS_PATH, CANCEL_PATH):
        expect_error(p.call(path, token, {}), "invalid_params", 400, "publish_id")
        expect_error(p.call(path, token, {"publish_id": 7}), "invalid_params", 400, "publish_id")


# -- creator_info (ref 6) -------------------------------------------------------------------


CREATOR_INFO_FIELDS = {
    "creator_avatar_url",
    "creator_username",
    "creator_nickname",
    "privacy_level_options",
    "comment_disabled",
    "duet_disabled",
    "stitch_disabled",
    "max_video_post_duration_sec",
}


@pytest.mark.parametrize(
    ("username", "nickname", "options", "flags", "max_seconds"),
    [
        ("ana_makes", "Ana Makes Things", PUBLIC_OPTIONS, (False, False, False), 600),
        ("ben_private", "Ben (private)", PRIVATE_OPTIONS, (False, True, True), 300),
        ("cora.cooks", "Cora Cooks", PUBLIC_OPTIONS, (False, False, True), 60),
        ("dev_quiet", "Dev Quiet", PRIVATE_OPTIONS, (True, True, True), 180),
        ("eli.long", "Eli Long Takes", PUBLIC_OPTIONS, (False, True, False), 3600),
    ],
)
def test_creator_info_fields(
    p: Posting,
    username: str,
    nickname: str,
    options: set[str],
    flags: tuple[bool, bool, bool],
    max_seconds: int,
) -> None:
    data = expect_ok(p.creator_info(p.token(AUDITED, username)))
    assert set(data) == CREATOR_INFO_FIELDS
    assert data["creator_username"] == username
    assert data["creator_nickname"] == nickname
    assert set(data["privacy_level_options"]) == options
    assert len(data["privacy_level_options"]) == 3
    assert (data["comment_disabled"], data["duet_disabled"], data["stitch_disabled"]) == flags
    assert data["max_video_post_duration_sec"] == max_seconds
    assert data["creator_avatar_url"].startswith(("http://", "https://"))


def test_creator_avatar_url_is_valid_for_two_hours(p: Posting) -> None:
    """ref 6: "valid (TTL) for 2 hours", on the sandbox clock; then 403, as TikTok's CDN."""
    token = p.token(AUDITED, "ana_makes")
    url = httpx.URL(expect_ok(p.creator_info(token))["creator_avatar_url"])
    assert url.params["x-expires"] == str(int(p.sandbox.clock.now()) + 7200)
    assert url.params["size"] == "168" and url.params["x-signature"]
    image = p.http.get(url)
    assert (image.status_code, image.headers["content-type"]) == (200, "image/svg+xml")
    p.advance(7199)
    assert p.http.get(url).status_code == 200
    p.advance(1)
    expired = p.http.get(url)
    assert expired.status_code == 403 and "expired" in expired.text
    # A fresh creator_info hands out a fresh URL; a tampered one is refused.
    token = p.token(AUDITED, "ana_makes")  # the 2 h access token lapsed with the URL
    fresh = httpx.URL(expect_ok(p.creator_info(token))["creator_avatar_url"])
    assert p.http.get(fresh).status_code == 200
    assert p.http.get(fresh.copy_merge_params({"size": "720"})).status_code == 403
    longer = fresh.copy_merge_params({"x-expires": str(int(p.sandbox.clock.now()) + 99999)})
    assert p.http.get(longer).status_code == 403


def test_creator_info_follows_control_changes(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    p.patch_creator("ana_makes", account="private", max_video_post_duration_sec=180)
    data = expect_ok(p.creator_info(token))
    assert set(data["privacy_level_options"]) == PRIVATE_OPTIONS
    assert (data["duet_disabled"], data["stitch_disabled"]) == (True, True)
    assert data["max_video_post_duration_sec"] == 180
    p.patch_creator("ana_makes", account="public", comment_disabled=True)
    data = expect_ok(p.creator_info(token))
    assert set(data["privacy_level_options"]) == PUBLIC_OPTIONS
    assert (data["comment_disabled"], data["duet_disabled"]) == (True, False)


def test_creator_info_ignores_a_body(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    expect_ok(p.call(CREATOR_INFO_PATH, token, {"anything": [1, 2]}))


def test_private_accounts_posts_get_duet_and_stitch_disabled(p: Posting) -> None:
    token = p.token(AUDITED, "ben_private")
    publish_id = publish_id_of(p.video_init(token, "FOLLOWER_OF_CREATOR"))
    info = p.publish(publish_id)["post_info"]
    assert (info["disable_duet"], info["disable_stitch"]) == (True, True)


# -- publish ids, upload URLs, the control view (ref 7.3, 8, 9) -----------------------------


def test_publish_id_shapes(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    shapes = [
        ("v_pub_file~v2-1.", p.video_init(token)),
        ("v_pub_url~v2.", p.video_init(token, source=pull())),
        ("v_inbox_file~v2.", p.inbox_init(token)),
        ("v_inbox_url~v2.", p.inbox_init(token, pull())),
        ("p_pub_url~v2.", p.photo_init(token, "DIRECT_POST")),
    ]
    p.advance(60)
    shapes.append(("p_pub_url~v2.", p.photo_init(token, "MEDIA_UPLOAD", None)))  # same shape
    ids = []
    for prefix, response in shapes:
        publish_id = publish_id_of(response)
        assert re.fullmatch(re.escape(prefix) + r"\d+", publish_id), publish_id
        assert len(publish_id) <= 64
        ids.append(publish_id)
    assert len(set(ids)) == len(ids)


def test_upload_url_only_for_file_upload(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    assert set(expect_ok(p.video_init(token))) == {"publish_id", "upload_url"}
    assert set(expect_ok(p.inbox_init(token))) == {"publish_id", "upload_url"}
    assert set(expect_ok(p.video_init(token, source=pull()))) == {"publish_id"}
    assert set(expect_ok(p.inbox_init(token, pull()))) == {"publish_id"}
    assert set(expect_ok(p.photo_init(token))) == {"publish_id"}


def test_upload_url_is_on_the_sandboxs_own_host_and_valid_1h() -> None:
    with Posting(base_url="http://sandbox.test:8123") as p:
        upload_url_checks(p)


def upload_url_checks(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    data = expect_ok(p.video_init(token))
    url = httpx.URL(data["upload_url"])
    assert (url.scheme, url.host, url.port) == ("http", "sandbox.test", 8123)
    assert len(data["upload_url"]) <= 256
    publish = p.publish(data["publish_id"])
    assert publish["upload_url"] == data["upload_url"]
    created = datetime.fromisoformat(publish["created_at"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(publish["upload_expires_at"].replace("Z", "+00:00"))
    assert (expires - created).total_seconds() == 3600
    # every init has its own upload URL
    other = expect_ok(p.inbox_init(token))["upload_url"]
    assert other != data["upload_url"]


def test_control_lists_publishes_with_their_effective_privacy(p: Posting) -> None:
    audited = p.token(AUDITED, "ana_makes")
    first = publish_id_of(p.video_init(audited, "MUTUAL_FOLLOW_FRIENDS"))
    second = publish_id_of(p.inbox_init(audited, pull()))
    listed = p.publishes(AUDITED)
    assert [item["publish_id"] for item in listed] == [second, first]  # newest first
    by_id = {item["publish_id"]: item for item in listed}
    expected_first = {
        "creator": "ana_makes",
        "mode": "DIRECT_POST",
        "media_type": "VIDEO",
        "source": "FILE_UPLOAD",
        "status": "PROCESSING_UPLOAD",
        "privacy_level": "MUTUAL_FOLLOW_FRIENDS",
    }
    assert {k: by_id[first][k] for k in expected_first} == expected_first
    assert by_id[second]["mode"] == "MEDIA_UPLOAD"
    assert by_id[second]["source"] == "PULL_FROM_URL"
    assert by_id[second]["status"] == "PROCESSING_DOWNLOAD"
    assert p.publishes(UNAUDITED) == []


# -- status/fetch (ref 11) ------------------------------------------------------------------


def test_status_of_a_file_upload(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    publish_id = publish_id_of(p.video_init(token))
    data = expect_ok(p.status(token, publish_id))
    assert data["status"] == "PROCESSING_UPLOAD"
    assert data["uploaded_bytes"] == 0
    assert data["publicaly_available_post_id"] == []
    assert "fail_reason" not in data


def test_status_of_a_pull(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    for response in (p.video_init(token, source=pull()), p.inbox_init(token, pull())):
        data = expect_ok(p.status(token, publish_id_of(response)))
        assert data["status"] == "PROCESSING_DOWNLOAD"
        assert data["downloaded_bytes"] == 0
        assert "fail_reason" not in data


def test_status_of_an_unknown_publish_id(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    for publish_id in ("v_pub_file~v2-1.7000000000000000000", "", "nope"):
        expect_error(p.status(token, publish_id), "invalid_publish_id", 400)
        expect_error(p.cancel(token, publish_id), "invalid_publish_id", 400)


def test_status_of_another_apps_publish(p: Posting) -> None:
    publish_id = publish_id_of(p.video_init(p.token(UNAUDITED, "ben_private"), source=pull()))
    same_creator_other_app = p.token(AUDITED, "ben_private")
    expect_error(
        p.status(same_creator_other_app, publish_id),
        "token_not_authorized_for_specified_publish_id",
        400,
    )
    expect_error(
        p.cancel(same_creator_other_app, publish_id),
        "token_not_authorized_for_specified_publish_id",
        400,
    )
    assert p.publish(publish_id)["status"] == "PROCESSING_DOWNLOAD"


def test_status_of_another_creators_publish(p: Posting) -> None:
    publish_id = publish_id_of(p.video_init(p.token(AUDITED, "ana_makes"), source=pull()))
    other_creator = p.token(AUDITED, "cora.cooks")
    expect_error(
        p.status(other_creator, publish_id), "token_not_authorized_for_specified_publish_id", 400
    )
    expect_error(
        p.cancel(other_creator, publish_id), "token_not_authorized_for_specified_publish_id", 400
    )
    # another token of the owner is fine
    expect_ok(p.status(p.token(AUDITED, "ana_makes"), publish_id))


# -- cancel (ref 12) ------------------------------------------------------------------------


def test_cancel_a_pull_from_url(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    publish_id = publish_id_of(p.video_init(token, source=pull()))
    response = p.cancel(token, publish_id)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"error"}  # ref 12: no `data`
    assert body["error"]["code"] == "ok" and body["error"]["message"] == ""
    assert LOG_ID.match(body["error"]["log_id"])
    data = expect_ok(p.status(token, publish_id))
    assert (data["status"], data["fail_reason"]) == ("FAILED", "publish_cancelled")
    assert p.publish(publish_id)["status"] == "FAILED"
    expect_error(p.cancel(token, publish_id), "publish_not_cancellable", 400)


def test_cancel_an_inbox_pull(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    publish_id = publish_id_of(p.inbox_init(token, pull()))
    assert set(p.cancel(token, publish_id).json()) == {"error"}
    assert expect_ok(p.status(token, publish_id))["fail_reason"] == "publish_cancelled"


def test_cancelling_a_pull_from_a_url_no_longer_verified_is_url_ownership_unverified(
    p: Posting,
) -> None:
    """ref 12 lists url_ownership_unverified (403) for cancel: a pull whose URL property the
    app removed after init."""
    token = p.token(AUDITED, "ana_makes")
    publish_id = publish_id_of(p.video_init(token, source=pull()))
    # The pull is under way (its worker checked the URL and is fetching) before the property goes.
    assert eventually(lambda: p.fetcher.requested)
    p.patch_app(AUDITED, verified_url_prefixes=[])
    expect_error(p.cancel(token, publish_id), "url_ownership_unverified", 403)
    assert p.journal()[0]["rule"] == "cancel_url_ownership"
    p.patch_app(AUDITED, verified_url_prefixes=[LOOPBACK_MEDIA])
    expect_ok(p.cancel(token, publish_id))
    assert expect_ok(p.status(token, publish_id))["fail_reason"] == "publish_cancelled"


def test_a_file_upload_is_not_cancellable(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    for response in (p.video_init(token), p.inbox_init(token)):
        publish_id = publish_id_of(response)
        expect_error(p.cancel(token, publish_id), "publish_not_cancellable", 400)
        assert expect_ok(p.status(token, publish_id))["status"] == "PROCESSING_UPLOAD"


# -- rate limits (ref 4.3) ------------------------------------------------------------------


def test_seventh_init_within_a_minute_is_rate_limited(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    for _ in range(6):
        expect_ok(p.video_init(token))
    expect_error(p.video_init(token), "rate_limit_exceeded", 429)
    assert len(p.publishes(AUDITED)) == 6
    p.advance(60)
    expect_ok(p.video_init(token))


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        (INBOX_INIT_PATH, 6),
        (CONTENT_INIT_PATH, 6),
        (CREATOR_INFO_PATH, 20),
        (STATUS_PATH, 30),
        (CANCEL_PATH, 30),  # not documented: the sandbox's choice (docs/fidelity.md)
    ],
)
def test_per_endpoint_limits(p: Posting, path: str, limit: int) -> None:
    token = p.token(AUDITED, "ana_makes")
    # bad requests count too: the limit is on requests, not on posts
    for _ in range(limit):
        response = p.call(path, token, {"publish_id": "nope"})
        assert response.status_code != 429
    expect_error(p.call(path, token, {"publish_id": "nope"}), "rate_limit_exceeded", 429)


def test_21st_creator_info_and_31st_status_fetch(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    publish_id = publish_id_of(p.video_init(token))
    for _ in range(20):
        expect_ok(p.creator_info(token))
    expect_error(p.creator_info(token), "rate_limit_exceeded", 429)
    for _ in range(30):
        expect_ok(p.status(token, publish_id))
    expect_error(p.status(token, publish_id), "rate_limit_exceeded", 429)


def test_rate_limits_are_per_token(p: Posting) -> None:
    first = p.token(AUDITED, "ana_makes")
    second = p.token(AUDITED, "ana_makes")  # the same creator, another token
    for _ in range(6):
        expect_ok(p.video_init(first))
    expect_error(p.video_init(first), "rate_limit_exceeded", 429)
    for _ in range(6):
        expect_ok(p.video_init(second))
    expect_error(p.video_init(second), "rate_limit_exceeded", 429)


def test_rate_limits_are_per_endpoint(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    for _ in range(6):
        expect_ok(p.video_init(token))
    expect_error(p.video_init(token), "rate_limit_exceeded", 429)
    expect_ok(p.inbox_init(token))
    expect_ok(p.photo_init(token))
    expect_ok(p.creator_info(token))
    for _ in range(20):
        p.creator_info(token)
    expect_error(p.creator_info(token), "rate_limit_exceeded", 429)
    expect_ok(p.inbox_init(token))


def test_the_window_slides_on_the_virtual_clock(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    for _ in range(3):
        expect_ok(p.video_init(token))  # t = 0
    p.advance(30)
    for _ in range(3):
        expect_ok(p.video_init(token))  # t = 30
    p.advance(29)
    expect_error(p.video_init(token), "rate_limit_exceeded", 429)  # t = 59
    p.advance(1)
    for _ in range(3):
        expect_ok(p.video_init(token))  # t = 60: the t = 0 requests left the window
    expect_error(p.video_init(token), "rate_limit_exceeded", 429)
    p.advance(29.5)
    expect_error(p.video_init(token), "rate_limit_exceeded", 429)  # t = 89.5
    p.advance(0.5)
    expect_ok(p.video_init(token))  # t = 90


def test_parallel_inits_admit_exactly_the_limit(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    body = {"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": CHUNKED}

    async def fire() -> list[httpx.Response]:
        async with p.sandbox.async_client() as client:
            headers = {"Authorization": f"Bearer {token}"}
            calls = [client.post(VIDEO_INIT_PATH, json=body, headers=headers) for _ in range(20)]
            return list(await asyncio.gather(*calls))

    responses = asyncio.run(fire())
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 6 + [429] * 14
    assert len(p.publishes(AUDITED)) == 6


@pytest.mark.server
def test_parallel_inits_on_a_real_server_admit_exactly_the_limit(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    body = {"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": CHUNKED}
    with p.sandbox.serve() as server, httpx.Client(base_url=server.url) as client:

        def one(_: int) -> int:
            headers = {"Authorization": f"Bearer {token}"}
            return client.post(VIDEO_INIT_PATH, json=body, headers=headers).status_code

        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = sorted(pool.map(one, range(20)))
    assert statuses == [200] * 6 + [429] * 14
    assert len(p.publishes(AUDITED)) == 6


# -- the journal says which rule decided (issue 3) ------------------------------------------


def test_the_journal_names_the_deciding_rule(p: Posting) -> None:
    unaudited_public = p.token(UNAUDITED, "ana_makes")
    unaudited_private = p.token(UNAUDITED, "ben_private")
    audited = p.token(AUDITED, "ana_makes")
    calls = [
        (p.video_init(audited, privacy_level=None), "privacy_level_option"),
        (p.video_init(unaudited_public), "unaudited_private_only"),
        (
            p.video_init(unaudited_private, "FOLLOWER_OF_CREATOR"),
            "accepted:privacy_forced_self_only",
        ),
        (p.video_init(unaudited_private, "SELF_ONLY"), "accepted"),
        (p.video_init(audited, "PUBLIC_TO_EVERYONE"), "accepted"),
        (
            p.video_init(audited, source=file_upload(50_000_123, 10_000_000, 6)),
            "chunk_count_mismatch",
        ),
        (p.video_init(audited, source=pull("https://evil.example/v.mp4")), "url_ownership"),
    ]
    p.patch_creator("cora.cooks", banned=True)
    calls.append((p.inbox_init(p.token(AUDITED, "cora.cooks")), "creator_banned"))
    entries = [e for e in p.journal() if e["path"] != CREATOR_INFO_PATH][: len(calls)]
    entries.reverse()  # oldest first, as the calls were made
    for (response, rule), entry in zip(calls, entries, strict=True):
        assert entry["rule"] == rule, (entry["rule"], rule)
        assert entry["status"] == response.status_code
        assert entry["error_code"] == response.json()["error"]["code"]
        assert entry["path"] in INIT_PATHS


def test_the_journal_names_the_cap_rules(p: Posting) -> None:
    token = p.token(AUDITED, "ana_makes")
    p.patch_creator("ana_makes", posts_last_24h=15, pending_shares=5)
    p.video_init(token)
    p.inbox_init(token)
    rules = [e["rule"] for e in p.journal(VIDEO_INIT_PATH)[:1] + p.journal(INBOX_INIT_PATH)[:1]]
    assert rules == ["creator_post_cap", "pending_share_cap"]


# -- the bad-input spelling (ref 4.2, OQ 13) ----------------------------------------------------


def test_posting_endpoints_answer_the_recorded_plural_by_default(p: Posting) -> None:
    """Recorded video/init answers (TikTok-LoginKit-PHP issue 11, post-for-me issue 327) carry
    `invalid_params`, not the posting pages' `invalid_param`."""
    token = p.token(AUDITED, "ana_makes")
    bad = dict(CHUNKED, total_chunk_count=4)
    expect_error(p.video_init(token, source=bad), "invalid_params", 400, "chunk")
    expect_error(p.call("/v2/post/publish/nothing/", token), "invalid_params", 404)
    assert p.journal()[0]["error_code"] == "invalid_params"


def test_the_singular_spelling_is_a_scenario_setting() -> None:
    scenario = default_with(posting={"bad_input_code": "invalid_param"})
    with Posting(scenario=scenario) as p:
        token = p.token(AUDITED, "ana_makes", [*POSTING_SCOPES, "user.info.basic"])
        bad = dict(CHUNKED, total_chunk_count=4)
        expect_error(p.video_init(token, source=bad), "invalid_param", 400, "chunk")
        expect_error(p.call(STATUS_PATH, token, {}), "invalid_param", 400, "publish_id")
        expect_error(p.call("/v2/post/publish/nothing/", token), "invalid_param", 404)
        # Display and user endpoints keep the plural whatever the posting spelling.
        missing = p.http.get("/v2/user/info/", headers={"Authorization": f"Bearer {token}"})
        expect_error(missing, "invalid_params", 400, "Fields")
        assert p.journal()[0]["error_code"] == "invalid_param"
