"""The reference client's flows pass every audit check that applies: the whole Login Kit and
posting life of an app, sync and async, with no failure and no warning; and the client in the
scenarios that provoke TikTok's limits (429s, interactions off, caps) fails nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from client import (
    AsyncTikTokClient,
    PhotoPostInfo,
    PostInfo,
    TikTokClient,
    authorize_url,
    parse_redirect,
)
from client.errors import CreatorCannotPostNow, DurationOverCreatorMax
from conformance.media import make_image, make_video
from mock_server.audit import AuditReport
from mock_server.sandbox import IN_PROCESS_URL
from tests.mock_server.audit.kit import WEB_REDIRECT, verdicts
from tests.scenarios.stage import POSTING_SCOPES, Stage, redirect_location

ACME = "awacmescheduler01"
MEDIA = "https://media.acme.example/"  # the audited app's verified domain
# Checks the full flow exercises: each must pass, not merely be "not observed".
EXERCISED = {
    "creator_info_before_post",
    "privacy_level_in_options",
    "interaction_settings_respected",
    "duration_enforced_before_upload",
    "media_passes_checks",
    "chunk_plan_valid",
    "pull_from_url_verified",
    "token_refreshed_in_time",
    "invalid_token_not_reused",
    "rotated_refresh_token_not_reused",
    "token_endpoint_server_side",
    "redirect_uri_accepted_by_tiktok",
    "rate_limits_respected",
    "status_polling_within_limit",
}


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("photos") / "p.jpg"
    return make_image(path, width=720, height=1280).read_bytes()


def full_flow_stage(stage: Callable[..., Stage], clip: bytes, photo: bytes) -> Stage:
    return stage(files={MEDIA + "clip.mp4": clip, MEDIA + "p.jpg": photo})


def login(s: Stage, username: str) -> tuple[str, str, str | None]:
    """The person consents in the browser; returns (code, redirect_uri, code_verifier)."""
    auth = authorize_url(ACME, WEB_REDIRECT, POSTING_SCOPES, base_url=IN_PROCESS_URL)
    answer = s.consent(auth.url, username, POSTING_SCOPES)
    code = parse_redirect(redirect_location(answer), expected_state=auth.state)
    return code.code, auth.redirect_uri, auth.code_verifier


def sync_client(s: Stage) -> TikTokClient:
    """The reference client for the audited app, sleeping on (and reading) the sandbox clock."""
    secret = s.app(ACME).client_secret
    return TikTokClient(
        ACME,
        secret,
        base_url=IN_PROCESS_URL,
        transport=s.sandbox.transport(),
        sleep=s.advance,
        now=s.now,
    )


def async_client(s: Stage) -> AsyncTikTokClient:
    async def sleep(seconds: float) -> None:
        s.advance(seconds)

    secret = s.app(ACME).client_secret
    return AsyncTikTokClient(
        ACME,
        secret,
        base_url=IN_PROCESS_URL,
        transport=s.sandbox.async_transport(),
        sleep=sleep,
        now=s.now,
    )


def assert_clean(report: AuditReport) -> None:
    assert report.failures == [] and report.warnings == []
    assert report.ready
    passed = {k for k, v in verdicts(report).items() if v == "pass"}
    assert passed >= EXERCISED, sorted(EXERCISED - passed)


def test_the_sync_client_s_full_flow_passes_every_check(
    stage: Callable[..., Stage], clip_path: Path, clip: bytes, photo: bytes
) -> None:
    s = full_flow_stage(stage, clip, photo)
    ana = sync_client(s)
    code, redirect_uri, verifier = login(s, "ana_makes")
    ana.exchange_code(code, redirect_uri, code_verifier=verifier)

    video = ana.post_video(clip_path, PostInfo(privacy_level="PUBLIC_TO_EVERYONE", title="a"))
    assert ana.wait_for_publish(video, wait_for_public_post=True).status == "PUBLISH_COMPLETE"
    pulled = ana.post_video(MEDIA + "clip.mp4", PostInfo(privacy_level="MUTUAL_FOLLOW_FRIENDS"))
    s.settle()
    assert ana.wait_for_publish(pulled).status == "PUBLISH_COMPLETE"
    photos = ana.post_photos([MEDIA + "p.jpg"], PhotoPostInfo(privacy_level="SELF_ONLY"))
    s.settle()
    assert ana.wait_for_publish(photos).status == "PUBLISH_COMPLETE"
    draft = ana.upload_video_to_inbox(clip_path)
    assert ana.wait_for_publish(draft).status == "SEND_TO_USER_INBOX"

    s.advance(3 * 3600)  # the access token lapsed: the client refreshes before the next call
    again = ana.post_video(clip_path, PostInfo(privacy_level="SELF_ONLY"))
    assert ana.wait_for_publish(again).status == "PUBLISH_COMPLETE"

    cora = sync_client(s)
    code, redirect_uri, verifier = login(s, "cora.cooks")  # stitch off
    cora.exchange_code(code, redirect_uri, code_verifier=verifier)
    cora.post_video(clip_path, PostInfo(privacy_level="PUBLIC_TO_EVERYONE"))
    cora.revoke()
    for client in (ana, cora):
        client.close()

    assert_clean(s.sandbox.audit(ACME))


def test_the_async_client_s_full_flow_passes_every_check(
    stage: Callable[..., Stage], clip_path: Path, clip: bytes, photo: bytes
) -> None:
    s = full_flow_stage(stage, clip, photo)

    async def run() -> None:
        async with async_client(s) as ana, async_client(s) as cora:
            code, redirect_uri, verifier = login(s, "ana_makes")
            await ana.exchange_code(code, redirect_uri, code_verifier=verifier)
            video = await ana.post_video(clip_path, PostInfo(privacy_level="PUBLIC_TO_EVERYONE"))
            result = await ana.wait_for_publish(video, wait_for_public_post=True)
            assert result.status == "PUBLISH_COMPLETE"
            pulled = await ana.post_video(
                MEDIA + "clip.mp4", PostInfo(privacy_level="MUTUAL_FOLLOW_FRIENDS")
            )
            s.settle()
            assert (await ana.wait_for_publish(pulled)).status == "PUBLISH_COMPLETE"
            s.advance(3 * 3600)
            again = await ana.post_video(clip_path, PostInfo(privacy_level="SELF_ONLY"))
            assert (await ana.wait_for_publish(again)).status == "PUBLISH_COMPLETE"
            code, redirect_uri, verifier = login(s, "cora.cooks")
            await cora.exchange_code(code, redirect_uri, code_verifier=verifier)
            await cora.post_video(clip_path, PostInfo(privacy_level="PUBLIC_TO_EVERYONE"))
            await cora.revoke()

    asyncio.run(run())
    assert_clean(s.sandbox.audit(ACME))


def test_the_client_waiting_out_429s_fails_nothing(
    stage: Callable[..., Stage], clip_path: Path
) -> None:
    s = stage("rate-limit-burst")
    tiktok = s.tiktok("rex_bursts")
    for _ in range(7):  # the seventh init meets the 6-a-minute limit and waits it out
        tiktok.post_video(clip_path, PostInfo(privacy_level="SELF_ONLY"))
    report = s.sandbox.audit(s.app().client_key)
    assert report.failures == []
    assert any(e.status == 429 for e in report.check("rate_limits_respected").evidence)


def test_the_client_in_the_limit_scenarios_fails_nothing(
    stage: Callable[..., Stage], clip_path: Path
) -> None:
    s = stage("interactions-off")
    ivy = s.tiktok("ivy_quiet")
    ivy.post_video(clip_path, PostInfo(privacy_level="PUBLIC_TO_EVERYONE"))
    report = s.sandbox.audit(s.app().client_key)
    assert report.failures == []
    assert report.check("interaction_settings_respected").verdict == "pass"

    s = stage("daily-post-cap-reached")
    carla = s.tiktok("cap_carla")
    for _ in range(2):  # the person tries twice; creator_info stops the client each time
        with pytest.raises(CreatorCannotPostNow):
            carla.post_video(clip_path, PostInfo(privacy_level="SELF_ONLY"))
    assert s.sandbox.audit(s.app().client_key).failures == []


def test_the_client_before_the_audit_and_for_private_accounts_fails_nothing(
    stage: Callable[..., Stage], clip_path: Path, media: Path
) -> None:
    s = stage("unaudited-app")
    pia = s.tiktok("pia_private1")
    assert pia.wait_for_publish(pia.post_video(clip_path, PostInfo(privacy_level="SELF_ONLY")))
    report = s.sandbox.audit(s.app().client_key)
    assert report.failures == [] and report.check("unaudited_self_only_surfaced").verdict == "pass"

    s = stage("private-account-creator")
    priya = s.tiktok("priya_private")  # duets and stitches are off for a private account
    priya.post_video(clip_path, PostInfo(privacy_level="FOLLOWER_OF_CREATOR"))
    report = s.sandbox.audit(s.app().client_key)
    assert report.failures == []
    assert report.check("interaction_settings_respected").verdict == "pass"

    s = stage("short-max-duration")
    sol = s.tiktok("sol_short")
    long_clip = make_video(media / "61s-client.mp4", seconds=61, fps=23, width=360, height=360)
    with pytest.raises(DurationOverCreatorMax):  # refused before any upload
        sol.post_video(long_clip, PostInfo(privacy_level="SELF_ONLY"))
    sol.post_video(clip_path, PostInfo(privacy_level="SELF_ONLY"))
    report = s.sandbox.audit(s.app().client_key)
    assert report.failures == []
    assert report.check("duration_enforced_before_upload").verdict == "pass"
