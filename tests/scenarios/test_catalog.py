"""Every built-in scenario reproduces the failure its `reproduces:` line names.

Each test loads its scenario on a frozen clock and meets the failure through the reference
client (`client.TikTokClient` on the in-process transport), checking TikTok's exact error code
or fail_reason. Where the reference client refuses the request itself (a privacy level the
creator does not offer, a video over the creator's limit...), the test shows that refusal and
then sends the request as a careless client would, to meet the sandbox's answer.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from client import PhotoPostInfo, PostInfo, TikTokError, parse_redirect
from client.errors import (
    AccessDenied,
    CreatorCannotPostNow,
    DurationOverCreatorMax,
    InteractionDisabledByCreator,
    InvalidGrant,
    PrivacyLevelNotAllowed,
)
from client.webhooks import verify_signature
from conformance.media import make_image, make_video
from mock_server.cli import main
from mock_server.domain.webhooks import retry_delay
from mock_server.runtime.clock import parse_instant
from mock_server.runtime.webhooks import SentWebhook
from mock_server.scenario import builtin_names, load_scenario
from tests.scenarios.stage import (
    CONTENT_INIT,
    DAY,
    STATUS,
    T0,
    VIDEO_INIT,
    Stage,
    redirect_location,
)

MEDIA = "https://media.acme.example/"  # the verified domain of the scenarios that pull media
REDIRECT = "http://127.0.0.1:3000/callback/"  # every scenario app's redirect URI
PRIVATE_OPTIONS = {"FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"}  # ref 6
PUBLIC_OPTIONS = {"PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"}


@pytest.fixture
def stage() -> Iterator[Callable[..., Stage]]:
    """Open a scenario's Stage; every one opened is closed after the test."""
    opened: list[Stage] = []

    def open_stage(name: str, **kwargs: Any) -> Stage:
        opened.append(Stage(name, **kwargs))
        return opened[-1]

    yield open_stage
    for each in opened:
        each.close()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def clip(media: Path) -> Path:
    """A valid video: 3.5 s of 640x360 H.264 MP4 at 30 fps."""
    return make_video(media / "clip.mp4")


@pytest.fixture(scope="module")
def photo(media: Path) -> bytes:
    return make_image(media / "photo.jpg", width=720, height=1280).read_bytes()


def refused(call: Callable[[], object]) -> TikTokError:
    with pytest.raises(TikTokError) as info:
        call()
    return info.value


def body_error(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


def init_direct(
    stage: Stage, access_token: str, size: int, privacy: str, **post: Any
) -> httpx.Response:
    """A Direct Post video init of a file sent whole (ref 10.1), as a careless client sends it."""
    source = {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": size}
    source["total_chunk_count"] = 1
    body = {"post_info": {"privacy_level": privacy, **post}, "source_info": source}
    return stage.raw(VIDEO_INIT, access_token, body)


# -- one test per scenario ---------------------------------------------------------------------


def test_default(stage: Callable[..., Stage], clip: Path) -> None:
    s = stage("default")
    tiktok = s.tiktok("ana_makes", client_key="awacmescheduler01")
    publish = tiktok.post_video(clip, PostInfo(privacy_level="PUBLIC_TO_EVERYONE"))
    result = tiktok.wait_for_publish(publish, wait_for_public_post=True)
    assert result.status == "PUBLISH_COMPLETE" and result.post_ids


def test_sandbox_target_users(stage: Callable[..., Stage], clip: Path) -> None:
    s = stage("sandbox-target-users")
    tiktok = s.tiktok()
    scopes = ["user.info.basic", "video.publish"]
    auth = tiktok.authorize_url(REDIRECT, scopes, authorize_base=str(s.http.base_url))

    # ref 2.2, 15.3: the outsider's approval comes back as an error, not a code.
    location = redirect_location(s.consent(auth.url, "nina_outsider", scopes))
    assert location.startswith(REDIRECT)
    with pytest.raises(AccessDenied) as info:
        parse_redirect(location, expected_state=auth.state)
    assert info.value.error == "access_denied"
    assert info.value.error_type == "non_sandbox_target"
    headless = s.http.post(
        "/_sandbox/authorize",
        json={"client_key": s.app().client_key, "username": "nina_outsider", "scopes": scopes},
    )
    assert headless.status_code == 403
    assert headless.json()["error"]["error_type"] == "non_sandbox_target"

    # The target user gets a code, and a token for the scopes asked.
    location = redirect_location(s.consent(auth.url, "tara_target", scopes))
    code = parse_redirect(location, expected_state=auth.state)
    token = tiktok.exchange_code(code.code, auth.redirect_uri, auth.code_verifier)
    assert set(token.scope) == set(scopes)
    assert s.app().client_key.startswith("sb")
    # ref 15.3 (3p): a sandbox app's Direct Post works for a private target account.
    publish = tiktok.post_video(clip, PostInfo(privacy_level="SELF_ONLY"))
    assert tiktok.wait_for_publish(publish).status == "PUBLISH_COMPLETE"


def test_unaudited_app(stage: Callable[..., Stage], clip: Path) -> None:
    s = stage("unaudited-app")

    # ref 15.1, 7.4: a public account is refused at init, even asking for SELF_ONLY.
    paul = s.tiktok("pub_paul")
    for privacy in ("PUBLIC_TO_EVERYONE", "SELF_ONLY"):
        error = refused(lambda p=privacy: paul.post_video(clip, PostInfo(privacy_level=p)))
        assert error.code == "unaudited_client_can_only_post_to_private_accounts"
        assert error.http_status == 403

    # Private accounts may post, but whatever they ask for, the post is SELF_ONLY.
    for n in range(1, 6):
        pia = s.tiktok(f"pia_private{n}")
        publish = pia.post_video(clip, PostInfo(privacy_level="FOLLOWER_OF_CREATOR"))
        assert pia.wait_for_publish(publish).status == "PUBLISH_COMPLETE"
        view = s.publish(publish.publish_id)
        assert view["requested_privacy_level"] == "FOLLOWER_OF_CREATOR"
        assert view["privacy_level"] == "SELF_ONLY"
        assert view["post_ids"] == []

    # The sixth distinct creator within 24 h: creator_info says so with HTTP 200, init with 403.
    sixth = s.tiktok("pia_private6")
    error = refused(sixth.creator_info)
    assert (error.code, error.http_status) == ("reached_active_user_cap", 200)
    with pytest.raises(CreatorCannotPostNow) as info:
        sixth.post_video(clip, PostInfo(privacy_level="SELF_ONLY"))
    assert info.value.reason.code == "reached_active_user_cap"
    access = s.tokens("pia_private6")["access_token"]
    response = init_direct(s, access, clip.stat().st_size, "SELF_ONLY")
    assert (response.status_code, body_error(response)) == (403, "reached_active_user_cap")

    # Creators who already posted today still can; the window rolls after 24 h.
    again = s.tiktok("pia_private1")
    assert again.post_video(clip, PostInfo(privacy_level="SELF_ONLY")).publish_id
    s.advance(DAY)
    assert sixth.creator_info().privacy_level_options


def test_audited_happy_path(stage: Callable[..., Stage], clip: Path) -> None:
    s = stage("audited-happy-path")
    tiktok = s.tiktok("hana_happy")
    assert set(tiktok.creator_info().privacy_level_options) == PUBLIC_OPTIONS
    seen: list[str] = []
    publish = tiktok.post_video(clip, PostInfo(privacy_level="PUBLIC_TO_EVERYONE", title="hi"))
    result = tiktok.wait_for_publish(
        publish, wait_for_public_post=True, on_status=lambda st: seen.append(st.status)
    )
    assert result.status == "PUBLISH_COMPLETE"
    assert len(result.post_ids) == 1 and len(result.post_ids[0]) == 19
    assert seen[0] == "PROCESSING_UPLOAD" and seen[-1] == "PUBLISH_COMPLETE"
    assert s.publish(publish.publish_id)["privacy_level"] == "PUBLIC_TO_EVERYONE"

    draft = tiktok.upload_video_to_inbox(clip)
    assert tiktok.wait_for_publish(draft).status == "SEND_TO_USER_INBOX"


def test_scope_not_approved(stage: Callable[..., Stage]) -> None:
    s = stage("scope-not-approved")
    tiktok = s.tiktok()
    base = str(s.http.base_url)
    for scope in ("video.publish", "user.info.stats"):
        auth = tiktok.authorize_url(REDIRECT, ["user.info.basic", scope], authorize_base=base)
        page = s.http.get(auth.url)
        # ref 2.1: refused on TikTok's own page; nothing goes back to the redirect URI.
        assert page.status_code == 400
        assert "location" not in page.headers
        assert ">invalid_scope<" in page.text and ">scope<" in page.text
    headless = s.http.post(
        "/_sandbox/authorize",
        json={
            "client_key": s.app().client_key,
            "username": "sam_scopes",
            "scopes": ["user.info.basic", "video.publish"],
        },
    )
    assert headless.status_code == 400
    assert headless.json()["error"]["code"] == "invalid_scope"

    # The approved scopes go through.
    approved = ["user.info.basic", "video.upload"]
    auth = tiktok.authorize_url(REDIRECT, approved, authorize_base=base)
    code = parse_redirect(
        redirect_location(s.consent(auth.url, "sam_scopes", approved)), auth.state
    )
    assert set(tiktok.exchange_code(code.code, REDIRECT, auth.code_verifier).scope) == set(approved)


def test_partial_consent(stage: Callable[..., Stage], clip: Path) -> None:
    s = stage("partial-consent")
    tiktok = s.tiktok()
    asked = ["user.info.basic", "user.info.profile", "user.info.stats", "video.upload"]
    asked.append("video.publish")
    granted = ["user.info.basic", "user.info.profile", "video.upload"]
    auth = tiktok.authorize_url(REDIRECT, asked, authorize_base=str(s.http.base_url))
    code = parse_redirect(
        redirect_location(s.consent(auth.url, "paz_partial", granted)), auth.state
    )
    assert list(code.scopes) == granted  # ref 2.2: `scopes` is what the user granted
    token = tiktok.exchange_code(code.code, REDIRECT, auth.code_verifier)
    assert list(token.scope) == granted

    # video.publish was not granted: the endpoints that need it answer 401.
    error = refused(tiktok.creator_info)
    assert (error.code, error.http_status) == ("scope_not_authorized", 401)
    error = refused(lambda: tiktok.post_video(clip, PostInfo(privacy_level="SELF_ONLY")))
    assert error.code == "scope_not_authorized"
    response = init_direct(s, token.access_token, clip.stat().st_size, "SELF_ONLY")
    assert (response.status_code, body_error(response)) == (401, "scope_not_authorized")
    # user.info.stats was not granted: asking for one of its fields refuses the whole request,
    # as recorded (SocialiteProviders/Providers issue 1198).
    error = refused(lambda: tiktok.user_info(["display_name", "follower_count"]))
    assert (error.code, error.http_status) == ("scope_not_authorized", 401)
    assert "user.info.stats" in error.message

    # What was granted works.
    assert tiktok.user_info(["display_name", "username"]).username == "paz_partial"
    draft = tiktok.upload_video_to_inbox(clip)
    assert tiktok.wait_for_publish(draft).status == "SEND_TO_USER_INBOX"


def test_direct_post_disabled(stage: Callable[..., Stage], clip: Path, photo: bytes) -> None:
    s = stage("direct-post-disabled", files={MEDIA + "p.jpg": photo})
    tiktok = s.tiktok("dora_direct")
    assert "video.publish" in tiktok.token.scope  # type: ignore[union-attr]
    assert tiktok.creator_info().creator_username == "dora_direct"

    error = refused(lambda: tiktok.post_video(clip, PostInfo(privacy_level="SELF_ONLY")))
    assert (error.code, error.http_status) == ("scope_not_authorized", 401)
    error = refused(
        lambda: tiktok.post_photos([MEDIA + "p.jpg"], PhotoPostInfo(privacy_level="SELF_ONLY"))
    )
    assert (error.code, error.http_status) == ("scope_not_authorized", 401)
    rules = {e["rule"] for e in s.journal(VIDEO_INIT) + s.journal(CONTENT_INIT)}
    assert rules == {"direct_post_not_enabled"}  # not a missing scope: the app's configuration

    draft = tiktok.upload_video_to_inbox(clip)
    assert tiktok.wait_for_publish(draft).status == "SEND_TO_USER_INBOX"


def test_private_account_creator(stage: Callable[..., Stage], clip: Path) -> None:
    s = stage("private-account-creator")
    tiktok = s.tiktok("priya_private")
    info = tiktok.creator_info()
    assert set(info.privacy_level_options) == PRIVATE_OPTIONS
    assert info.duet_disabled and info.stitch_disabled  # the account is private (ref 6)

    # The reference client refuses PUBLIC_TO_EVERYONE before any init...
    with pytest.raises(PrivacyLevelNotAllowed):
        tiktok.post_video(clip, PostInfo(privacy_level="PUBLIC_TO_EVERYONE"))
    assert s.journal(VIDEO_INIT) == []
    # ...a client that hard-codes it meets TikTok's answer (ref 7.4).
    access = s.tokens("priya_private")["access_token"]
    response = init_direct(s, access, clip.stat().st_size, "PUBLIC_TO_EVERYONE")
    assert (response.status_code, body_error(response)) == (403, "privacy_level_option_mismatch")

    publish = tiktok.post_video(clip, PostInfo(privacy_level="FOLLOWER_OF_CREATOR"))
    assert tiktok.wait_for_publish(publish).status == "PUBLISH_COMPLETE"
    view = s.publish(publish.publish_id)
    assert view["privacy_level"] == "FOLLOWER_OF_CREATOR"
    assert view["post_info"]["disable_duet"] and view["post_info"]["disable_stitch"]


def test_interactions_off(stage: Callable[..., Stage], clip: Path) -> None:
    s = stage("interactions-off")
    ivy = s.tiktok("ivy_quiet")
    info = ivy.creator_info()
    assert (info.comment_disabled, info.duet_disabled, info.stitch_disabled) == (True, True, True)
    cal = s.tiktok("cal_nocomments").creator_info()
    assert (cal.comment_disabled, cal.duet_disabled, cal.stitch_disabled) == (True, False, False)

    # The reference client keeps greyed-out boxes off (ref 15.4)...
    with pytest.raises(InteractionDisabledByCreator):
        ivy.post_video(clip, PostInfo(privacy_level="SELF_ONLY", disable_comment=False))
    # ...and the server turns them off whatever post_info asks for (ref 7.1).
    access = s.tokens("ivy_quiet")["access_token"]
    allow = {"disable_comment": False, "disable_duet": False, "disable_stitch": False}
    response = init_direct(s, access, clip.stat().st_size, "PUBLIC_TO_EVERYONE", **allow)
    assert body_error(response) == "ok"
    post_info = s.publish(response.json()["data"]["publish_id"])["post_info"]
    assert (post_info["disable_comment"], post_info["disable_duet"]) == (True, True)
    assert post_info["disable_stitch"] is True

    access = s.tokens("cal_nocomments")["access_token"]
    response = init_direct(s, access, clip.stat().st_size, "PUBLIC_TO_EVERYONE", **allow)
    post_info = s.publish(response.json()["data"]["publish_id"])["post_info"]
    assert (post_info["disable_comment"], post_info["disable_duet"]) == (True, False)
    assert post_info["disable_stitch"] is False


def test_short_max_duration(stage: Callable[..., Stage], media: Path, clip: Path) -> None:
    s = stage("short-max-duration")
    tiktok = s.tiktok("sol_short")
    assert tiktok.creator_info().max_video_post_duration_sec == 60
    # 61 s at the lowest frame rate and size TikTok takes: quick to encode, fails only on length.
    long_clip = make_video(media / "61s.mp4", seconds=61, fps=23, width=360, height=360)

    with pytest.raises(DurationOverCreatorMax):
        tiktok.post_video(long_clip, PostInfo(privacy_level="SELF_ONLY"))
    # Init cannot see the duration: it accepts, and processing fails (ref 11, 13).
    access = s.tokens("sol_short")["access_token"]
    response = init_direct(s, access, long_clip.stat().st_size, "SELF_ONLY")
    data = response.json()["data"]
    tiktok.upload(data["upload_url"], long_clip)
    result = tiktok.wait_for_publish(data["publish_id"])
    assert (result.status, result.fail_reason) == ("FAILED", "duration_check_failed")

    short = tiktok.post_video(clip, PostInfo(privacy_level="SELF_ONLY"))
    assert tiktok.wait_for_publish(short).status == "PUBLISH_COMPLETE"


def test_daily_post_cap_reached(stage: Callable[..., Stage], clip: Path) -> None:
    s = stage("daily-post-cap-reached")
    carla = s.tiktok("cap_carla")
    # ref 6: creator_info reports the cap with HTTP 200; the client must read error.code.
    error = refused(carla.creator_info)
    assert (error.code, error.http_status) == ("spam_risk_too_many_posts", 200)
    with pytest.raises(CreatorCannotPostNow) as info:
        carla.post_video(clip, PostInfo(privacy_level="SELF_ONLY"))
    assert info.value.reason.code == "spam_risk_too_many_posts"
    access = s.tokens("cap_carla")["access_token"]
    response = init_direct(s, access, clip.stat().st_size, "SELF_ONLY")
    assert (response.status_code, body_error(response)) == (403, "spam_risk_too_many_posts")

    dax = s.tiktok("dax_almost")
    assert dax.post_video(clip, PostInfo(privacy_level="SELF_ONLY")).publish_id
    assert refused(dax.creator_info).code == "spam_risk_too_many_posts"

    s.advance(DAY)  # ref 15.2: a rolling 24 h window
    assert carla.post_video(clip, PostInfo(privacy_level="SELF_ONLY")).publish_id


def test_pending_inbox_full(stage: Callable[..., Stage], clip: Path, photo: bytes) -> None:
    s = stage("pending-inbox-full", files={MEDIA + "p.jpg": photo})
    tiktok = s.tiktok("ines_inbox")
    error = refused(lambda: tiktok.upload_video_to_inbox(clip))
    assert (error.code, error.http_status) == ("spam_risk_too_many_pending_share", 403)
    error = refused(
        lambda: tiktok.post_photos([MEDIA + "p.jpg"], PhotoPostInfo(), mode="MEDIA_UPLOAD")
    )
    assert (error.code, error.http_status) == ("spam_risk_too_many_pending_share", 403)

    # Direct Post is not an inbox share.
    assert tiktok.post_video(clip, PostInfo(privacy_level="SELF_ONLY")).publish_id
    s.advance(DAY)  # the declared drafts leave the 24 h window
    assert tiktok.wait_for_publish(tiktok.upload_video_to_inbox(clip)).ok


def test_banned_creator(stage: Callable[..., Stage], clip: Path) -> None:
    s = stage("banned-creator")
    tiktok = s.tiktok("ben_banned")
    error = refused(tiktok.creator_info)
    assert (error.code, error.http_status) == ("spam_risk_user_banned_from_posting", 200)
    with pytest.raises(CreatorCannotPostNow) as info:
        tiktok.post_video(clip, PostInfo(privacy_level="SELF_ONLY"))
    assert info.value.reason.code == "spam_risk_user_banned_from_posting"
    access = s.tokens("ben_banned")["access_token"]
    response = init_direct(s, access, clip.stat().st_size, "SELF_ONLY")
    assert (response.status_code, body_error(response)) == (
        403,
        "spam_risk_user_banned_from_posting",
    )
    error = refused(lambda: tiktok.upload_video_to_inbox(clip))
    assert (error.code, error.http_status) == ("spam_risk_user_banned_from_posting", 403)
    assert tiktok.user_info(["display_name"]).display_name == "Ben Banned"


def test_old_app_version(stage: Callable[..., Stage], photo: bytes) -> None:
    s = stage("old-app-version", files={MEDIA + "p.jpg": photo})
    photos = [MEDIA + "p.jpg"]
    olly = s.tiktok("olly_old")
    error = refused(lambda: olly.post_photos(photos, PhotoPostInfo(), mode="MEDIA_UPLOAD"))
    assert (error.code, error.http_status) == ("app_version_check_failed", 400)
    # Photo Direct Post does not depend on the app version.
    direct = olly.post_photos(photos, PhotoPostInfo(privacy_level="SELF_ONLY"))
    s.settle()
    assert olly.wait_for_publish(direct).status == "PUBLISH_COMPLETE"

    nell = s.tiktok("nell_new")
    draft = nell.post_photos(photos, PhotoPostInfo(title="t"), mode="MEDIA_UPLOAD")
    s.settle()
    assert nell.wait_for_publish(draft).status == "SEND_TO_USER_INBOX"


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.other.example/v.mp4",  # another domain
        "https://acme.example/v.mp4",  # the parent of the verified domain
        "https://cdn.partner.example/other/v.mp4",  # outside the verified URL prefix
        "http://media.acme.example/v.mp4",  # ref 10.4: https only
    ],
)
def test_unverified_media_domain(stage: Callable[..., Stage], url: str) -> None:
    s = stage("unverified-media-domain")
    tiktok = s.tiktok("uma_urls")
    error = refused(lambda: tiktok.post_video(url, PostInfo(privacy_level="SELF_ONLY")))
    assert (error.code, error.http_status) == ("url_ownership_unverified", 403)
    error = refused(lambda: tiktok.upload_video_to_inbox(url))
    assert (error.code, error.http_status) == ("url_ownership_unverified", 403)
    assert s.fetcher.requested == []  # refused at init: nothing was downloaded


@pytest.mark.parametrize(
    "url",
    [
        "https://media.acme.example/v.mp4",
        "https://video.media.acme.example/v.mp4",  # a subdomain of the verified domain
        "https://cdn.partner.example/acme/2026/v.mp4",  # under the verified URL prefix
    ],
)
def test_unverified_media_domain_verified_urls_pull(
    stage: Callable[..., Stage], clip: Path, url: str
) -> None:
    s = stage("unverified-media-domain", files={url: clip.read_bytes()})
    tiktok = s.tiktok("uma_urls")
    publish = tiktok.post_video(url, PostInfo(privacy_level="SELF_ONLY"))
    s.settle()
    assert tiktok.wait_for_publish(publish).status == "PUBLISH_COMPLETE"


@pytest.mark.parametrize(
    ("video", "fail_reason"),
    [
        ({"codec": "mpeg4"}, "file_format_check_failed"),  # MPEG-4 Part 2 in an MP4
        ({"width": 320, "height": 240}, "picture_size_check_failed"),
        ({"seconds": 2}, "duration_check_failed"),  # under the 3 s minimum
        ({"fps": 15}, "frame_rate_check_failed"),
    ],
)
def test_media_check_failures(
    stage: Callable[..., Stage], media: Path, video: dict[str, Any], fail_reason: str
) -> None:
    s = stage("media-check-failures")
    bad = make_video(media / f"{fail_reason}.mp4", **video)
    tiktok = s.tiktok("mia_media")
    access = s.tokens("mia_media")["access_token"]
    # The reference client would refuse most of these files itself: send them as they are.
    response = init_direct(s, access, bad.stat().st_size, "SELF_ONLY")
    data = response.json()["data"]
    tiktok.upload(data["upload_url"], bad)
    result = tiktok.wait_for_publish(data["publish_id"])
    assert (result.status, result.fail_reason) == ("FAILED", fail_reason)


@pytest.mark.parametrize(
    ("image", "fail_reason"),
    [
        ({"fmt": "PNG", "width": 720, "height": 1280}, "file_format_check_failed"),
        ({"width": 1440, "height": 2560}, "picture_size_check_failed"),  # over 1080p
    ],
)
def test_media_check_failures_photos(
    stage: Callable[..., Stage], media: Path, image: dict[str, Any], fail_reason: str
) -> None:
    data = make_image(media / f"{fail_reason}.img", **image).read_bytes()
    s = stage("media-check-failures", files={MEDIA + "bad": data})
    tiktok = s.tiktok("mia_media")
    publish = tiktok.post_photos([MEDIA + "bad"], PhotoPostInfo(privacy_level="SELF_ONLY"))
    s.settle()
    result = tiktok.wait_for_publish(publish)
    assert (result.status, result.fail_reason) == ("FAILED", fail_reason)


@pytest.mark.parametrize(
    ("username", "fail_reason"),
    [
        ("fay_format", "file_format_check_failed"),
        ("dan_duration", "duration_check_failed"),
        ("fred_framerate", "frame_rate_check_failed"),
        ("pete_picturesize", "picture_size_check_failed"),
    ],
)
def test_media_check_failures_injected(
    stage: Callable[..., Stage], clip: Path, username: str, fail_reason: str
) -> None:
    s = stage("media-check-failures")
    tiktok = s.tiktok(username)
    for _ in range(2):  # every publish, not only the first (count: null)
        publish = tiktok.post_video(clip, PostInfo(privacy_level="SELF_ONLY"))
        result = tiktok.wait_for_publish(publish)
        assert (result.status, result.fail_reason) == ("FAILED", fail_reason)


def test_slow_moderation(stage: Callable[..., Stage], clip: Path) -> None:
    s = stage("slow-moderation")
    tiktok = s.tiktok("mo_waits")
    posted_at = s.now()
    publish = tiktok.post_video(clip, PostInfo(privacy_level="PUBLIC_TO_EVERYONE"))
    result = tiktok.wait_for_publish(publish)
    assert (result.status, result.post_ids) == ("PUBLISH_COMPLETE", ())
    assert s.now() - posted_at < 60  # complete within seconds...

    s.advance(3 * 3600 - 60 - (s.now() - posted_at))  # ...and still not public 3 h later
    status = tiktok.fetch_status(publish.publish_id)
    assert (status.status, status.post_ids) == ("PUBLISH_COMPLETE", ())
    result = tiktok.wait_for_publish(publish, wait_for_public_post=True)
    assert result.post_ids and s.now() - posted_at >= 3 * 3600


def test_token_legacy_profile(stage: Callable[..., Stage]) -> None:
    s = stage("token-legacy-profile")
    legacy = s.tokens("tom_tokens", client_key="awlegacytokens001")
    current = s.tokens("tom_tokens", client_key="awcurrenttokens01")
    assert (legacy["expires_in"], legacy["refresh_expires_in"]) == (86_400, 31_536_000)
    assert (current["expires_in"], current["refresh_expires_in"]) == (7_200, 15_552_000)
    legacy_client = s.bare_tiktok(legacy["access_token"], client_key="awlegacytokens001")
    current_client = s.bare_tiktok(current["access_token"], client_key="awcurrenttokens01")

    s.advance(2 * 3600)
    error = refused(lambda: current_client.user_info(["open_id"]))
    assert (error.code, error.http_status) == ("access_token_invalid", 401)
    assert legacy_client.user_info(["open_id"]).open_id == legacy["open_id"]

    s.advance(22 * 3600)
    error = refused(lambda: legacy_client.user_info(["open_id"]))
    assert (error.code, error.http_status) == ("access_token_invalid", 401)


def test_refresh_token_expiring(stage: Callable[..., Stage]) -> None:
    s = stage("refresh-token-expiring")
    assert s.sandbox.clock.isoformat() == "2026-01-01T00:00:00Z"  # the scenario's clock
    assert s.sandbox.clock.frozen
    tiktok = s.tiktok("rita_refresh")

    s.advance(180 * DAY - 60)
    token = tiktok.refresh()  # still allowed, but the grant ends in a minute
    assert token.refresh_expires_at is not None
    assert token.refresh_expires_at - s.now() == 60

    s.advance(60)
    with pytest.raises(InvalidGrant) as info:
        tiktok.refresh()
    assert info.value.error == "invalid_grant"
    assert info.value.http_status == 200  # oauth.error_status: observed (ref 2.6)
    assert info.value.error_description == "Refresh token is invalid or expired."


def test_rate_limit_burst(stage: Callable[..., Stage], clip: Path) -> None:
    s = stage("rate-limit-burst")
    access = s.tokens("rex_bursts")["access_token"]
    size = clip.stat().st_size
    codes = [body_error(init_direct(s, access, size, "SELF_ONLY")) for _ in range(7)]
    assert codes == ["ok"] * 6 + ["rate_limit_exceeded"]
    response = init_direct(s, access, size, "SELF_ONLY")
    assert response.status_code == 429
    s.advance(60)  # ref 4.3: a sliding one-minute window
    assert body_error(init_direct(s, access, size, "SELF_ONLY")) == "ok"

    # The reference client waits a 429 out instead of failing.
    tiktok = s.tiktok("rex_bursts")
    started = s.now()
    posted = [tiktok.post_video(clip, PostInfo(privacy_level="SELF_ONLY")) for _ in range(7)]
    assert len({p.publish_id for p in posted}) == 7
    limited = [e for e in s.journal(VIDEO_INIT) if e["status"] == 429]
    assert len(limited) >= 2  # the raw burst's and the client's
    assert s.now() - started >= 60 - 1  # waited until the window let the seventh in


def test_rate_limit_burst_status_fault(stage: Callable[..., Stage], clip: Path) -> None:
    def statuses(s: Stage) -> list[int]:
        tiktok = s.tiktok("rex_bursts")
        publish = tiktok.post_video(clip, PostInfo(privacy_level="SELF_ONLY"))
        access = tiktok.token.access_token  # type: ignore[union-attr]
        answers = [s.raw(STATUS, access, {"publish_id": publish.publish_id}) for _ in range(20)]
        limited = [a for a in answers if a.status_code == 429]
        assert {body_error(a) for a in limited} == {"rate_limit_exceeded"}
        return [a.status_code for a in answers]

    first = statuses(stage("rate-limit-burst"))
    assert 0 < first.count(429) < 20  # well under the documented 30/min
    assert statuses(stage("rate-limit-burst")) == first  # seeded: the same calls fail


def test_webhook_recovers(stage: Callable[..., Stage], clip: Path) -> None:
    def receiver(sent: SentWebhook) -> int:
        """The app's callback: down (HTTP 500) for the first five minutes, then fine."""
        return 200 if s.now() >= T0.timestamp() + 300 else 500

    s = stage("webhook-recovers", webhook_statuses=receiver)
    app = s.app()
    assert app.webhook_url == "http://127.0.0.1:9555/tiktok/webhook"
    tiktok = s.tiktok("wes_webhooks")
    publish = tiktok.post_video(clip, PostInfo(privacy_level="SELF_ONLY"))
    assert tiktok.wait_for_publish(publish).status == "PUBLISH_COMPLETE"
    for _ in range(60):  # ten minutes in 10 s steps
        s.advance(10)

    deliveries = s.http.get("/_sandbox/webhooks", params={"event": "post.publish.complete"})
    (delivery,) = deliveries.json()["deliveries"]
    assert delivery["status"] == "delivered"
    attempts = delivery["attempts"]
    codes = [a["status_code"] for a in attempts]
    assert codes[-1] == 200 and set(codes[:-1]) == {500} and len(codes) >= 3
    sent = [w for w in s.sender.sent if json.loads(w.body)["event"] == "post.publish.complete"]
    assert len(sent) == len(attempts)
    assert {w.body for w in sent} == {sent[0].body}  # every retry carries the same body
    # ...each with a valid signature made when it was sent (ref 14.4).
    times = [parse_instant(a["at"]) for a in attempts]
    for w, at in zip(sent, times, strict=True):
        header = w.headers["TikTok-Signature"]
        assert verify_signature(header, w.body, app.client_secret, now=lambda t=at: t) == int(at)
    # ref 14.1: exponential backoff, 30 s, 1 min, 2 min ... (seen within a 10 s step).
    for n, (a, b) in enumerate(itertools.pairwise(times), start=1):
        assert retry_delay(n) <= b - a < retry_delay(n) + 10


def test_multi_chunk_refused(stage: Callable[..., Stage], media: Path) -> None:
    """post-for-me issue 327: from about 2026-08-09, multi-chunk inits are refused."""
    s = stage("multi-chunk-refused")
    big = make_video(media / "chunky.mp4")
    size = 15 * 1024 * 1024 + 12345  # 3 chunks of 5 MiB at the client's default chunk size
    with big.open("ab") as f:  # a trailing MP4 `free` box: still the same real video
        pad = size - big.stat().st_size
        f.write(pad.to_bytes(4, "big") + b"free" + bytes(pad - 8))
    post = PostInfo(privacy_level="PUBLIC_TO_EVERYONE", title="chunky")

    error = refused(lambda: s.tiktok("mia_chunks").post_video(big, post))
    assert (error.code, error.http_status) == ("invalid_params", 400)
    assert error.message == "The chunk size is invalid"
    (entry, *_) = s.journal(VIDEO_INIT)
    assert entry["rule"] == "multi_chunk_refused"
    token = s.tokens("mia_chunks")["access_token"]
    chunked = {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": 5 * 1024 * 1024}
    chunked["total_chunk_count"] = 3
    inbox = s.raw("/v2/post/publish/inbox/video/init/", token, {"source_info": chunked})
    assert (inbox.status_code, body_error(inbox)) == (400, "invalid_params")

    # The workaround: the same file sent whole (chunk_size = video_size, at most 64 MB).
    whole = s.tiktok("mia_chunks", chunk_size=64 * 1024 * 1024)
    result = whole.wait_for_publish(whole.post_video(big, post), wait_for_public_post=True)
    assert result.status == "PUBLISH_COMPLETE" and result.post_ids
    assert [e["status"] for e in s.journal("/upload/")] == [201]  # one PUT: the whole file


# -- the catalog as a whole --------------------------------------------------------------------

NAMES = builtin_names()


@pytest.mark.parametrize("name", NAMES)
def test_scenario_is_documented_and_loads(stage: Callable[..., Stage], name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name  # named by its file stem
    assert scenario.description.strip() and scenario.reproduces.strip()
    assert stage(name).sandbox.state.world.apps
    # Every scenario has its reproduction above.
    assert callable(globals().get("test_" + name.replace("-", "_"))), name


def test_cli_lists_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert listed == set(NAMES)
    assert len(NAMES) >= 21


def test_http_lists_every_scenario(stage: Callable[..., Stage]) -> None:
    answer = stage("default").http.get("/_sandbox/scenarios").json()["scenarios"]
    assert [s["name"] for s in answer] == NAMES
    assert all(s["reproduces"] for s in answer)
