"""The scenario sweep: every scenario the target offers is loaded (`POST /_sandbox/reset
{"scenario": name}`) and the failure its `reproduces` line names is met through the reference
client, the controller and, where the client refuses to send it, a raw request as a careless
client would send it.

`REPRODUCTIONS` maps each scenario name to the codes or fail_reasons its `reproduces` line must
name and a short function meeting them. A scenario the target offers without an entry fails
the sweep: the suite cannot say it reproduces. The target's scenario is restored afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from client import PhotoPostInfo, PostInfo, TikTokClient, TikTokError
from client.errors import (
    CreatorCannotPostNow,
    DurationOverCreatorMax,
    InteractionDisabledByCreator,
    InvalidGrant,
    PrivacyLevelNotAllowed,
)
from conformance import calls, checks, spec
from conformance.controller import AppInfo, Controller, ControllerError
from conformance.driver import ClientSession, TargetTime, drive
from conformance.library import MediaLibrary, MediaServer
from conformance.report import example
from conformance.target import Target

POSTING = ("user.info.basic", "video.upload", "video.publish")
DAY = spec.DAY
MEDIA = "https://media.acme.example/"  # a verified domain of the scenarios that post photos


@dataclass
class Scene:
    """A loaded scenario, and reference clients for its apps sharing one view of its clock."""

    target: Target
    controller: Controller
    http: httpx.Client
    media: MediaLibrary
    media_server: MediaServer
    time: TargetTime
    sessions: list[ClientSession] = field(default_factory=list)

    def app(self, client_key: str | None = None) -> AppInfo:
        apps = self.controller.apps()
        if client_key is None:
            assert len(apps) == 1, f"name the app: the scenario has {len(apps)}"
            return apps[0]
        (app,) = (a for a in apps if a.client_key == client_key)
        return app

    def tokens(
        self, user: str, scopes: tuple[str, ...] = POSTING, app: AppInfo | None = None
    ) -> dict[str, Any]:
        return self.controller.tokens((app or self.app()).client_key, user, scopes)

    def client(
        self, user: str, scopes: tuple[str, ...] = POSTING, app: AppInfo | None = None
    ) -> TikTokClient:
        return self.session(user, scopes, app).tiktok

    def session(
        self, user: str, scopes: tuple[str, ...] = POSTING, app: AppInfo | None = None
    ) -> ClientSession:
        app = app or self.app()
        tokens = self.tokens(user, scopes, app)
        self.sessions.append(drive(self.target, self.controller, app, tokens, self.time))
        return self.sessions[-1]

    def clip(self, **kwargs: Any) -> Path:
        return self.media.video(**kwargs)

    def advance(self, seconds: float) -> None:
        self.time.sleep(seconds)

    def raw_init(
        self, user: str, privacy: str, *, clip: Path | None = None, **post: Any
    ) -> checks.Answer:
        """A Direct Post init of a whole file as a careless client sends it; the answer."""
        size = (clip or self.clip()).stat().st_size
        body = {
            "post_info": {"privacy_level": privacy, **post},
            "source_info": calls.file_upload(size),
        }
        token = self.tokens(user)["access_token"]
        response = calls.post(self.http, "video_init", token, body)
        return checks.envelope(response, "video_init", source="FILE_UPLOAD")

    def close(self) -> None:
        for session in self.sessions:
            session.close()


def refused(call: Callable[[], object], code: str, status: int, *also: str) -> TikTokError:
    """The call fails with `code` and `status`, or with one of the `also` answers the
    reference equally allows ("code status", e.g. "scope_permission_missed 400")."""
    with pytest.raises(TikTokError) as info:
        call()
    answer = (info.value.code, info.value.http_status)
    allowed = {(code, status)} | {(a.split()[0], int(a.split()[1])) for a in also}
    assert answer in allowed, info.value
    return info.value


def nothing_sent(session: ClientSession, call: Callable[[], object], refusal: type) -> None:
    """The client refuses locally, before any init or upload."""
    with pytest.raises(refusal):
        call()
    assert session.sent("video_init", "inbox_video_init", "content_init", "upload") == 0


# -- one reproduction per scenario ---------------------------------------------------------------


def audited_happy_path(s: Scene) -> None:
    tiktok = s.client("hana_happy")
    publish = tiktok.post_video(s.clip(), PostInfo(privacy_level="PUBLIC_TO_EVERYONE"))
    result = tiktok.wait_for_publish(publish, wait_for_public_post=True)
    assert result.status == "PUBLISH_COMPLETE" and result.post_ids
    assert tiktok.wait_for_publish(tiktok.upload_video_to_inbox(s.clip())).ok


def banned_creator(s: Scene) -> None:
    session = s.session("ben_banned")
    tiktok = session.tiktok
    refused(tiktok.creator_info, "spam_risk_user_banned_from_posting", 200)  # ref 6
    nothing_sent(
        session,
        lambda: tiktok.post_video(s.clip(), PostInfo(privacy_level="SELF_ONLY")),
        CreatorCannotPostNow,
    )
    answer = s.raw_init("ben_banned", "SELF_ONLY")
    assert (answer.status, answer.code) == (403, "spam_risk_user_banned_from_posting")
    refused(lambda: tiktok.upload_video_to_inbox(s.clip()), answer.code, 403)


def daily_post_cap_reached(s: Scene) -> None:
    carla = s.client("cap_carla")
    refused(carla.creator_info, "spam_risk_too_many_posts", 200)
    answer = s.raw_init("cap_carla", "SELF_ONLY")
    assert (answer.status, answer.code) == (403, "spam_risk_too_many_posts")
    dax = s.client("dax_almost")
    assert dax.post_video(s.clip(), PostInfo(privacy_level="SELF_ONLY")).publish_id
    refused(dax.creator_info, "spam_risk_too_many_posts", 200)
    s.advance(DAY)  # ref 15.2: a rolling 24 h window
    assert carla.creator_info().privacy_level_options


def default(s: Scene) -> None:
    audited = next(a for a in s.controller.apps() if a.stage == "audited")
    tiktok = s.client("ana_makes", app=audited)
    publish = tiktok.post_video(s.clip(), PostInfo(privacy_level="SELF_ONLY"))
    assert tiktok.wait_for_publish(publish).status == "PUBLISH_COMPLETE"


def direct_post_disabled(s: Scene) -> None:
    tiktok = s.client("dora_direct")
    assert tiktok.creator_info().creator_username == "dora_direct"
    post = PostInfo(privacy_level="SELF_ONLY")
    refused(lambda: tiktok.post_video(s.clip(), post), "scope_not_authorized", 401)
    photos = PhotoPostInfo(privacy_level="SELF_ONLY")
    refused(lambda: tiktok.post_photos([MEDIA + "p.jpg"], photos), "scope_not_authorized", 401)
    assert tiktok.wait_for_publish(tiktok.upload_video_to_inbox(s.clip())).ok


def interactions_off(s: Scene) -> None:
    session = s.session("ivy_quiet")
    info = session.tiktok.creator_info()
    assert (info.comment_disabled, info.duet_disabled, info.stitch_disabled) == (True,) * 3
    cal = s.client("cal_nocomments").creator_info()
    assert (cal.comment_disabled, cal.duet_disabled, cal.stitch_disabled) == (True, False, False)
    post = PostInfo(privacy_level="SELF_ONLY", disable_comment=False)
    nothing_sent(
        session, lambda: session.tiktok.post_video(s.clip(), post), InteractionDisabledByCreator
    )
    # ref 7.1: TikTok itself turns them off rather than refusing the post.
    allowed = s.raw_init(
        "ivy_quiet",
        "PUBLIC_TO_EVERYONE",
        disable_comment=False,
        disable_duet=False,
        disable_stitch=False,
    )
    assert allowed.code == "ok"


def media_check_failures(s: Scene) -> None:
    failing = {
        "fay_format": "file_format_check_failed",
        "dan_duration": "duration_check_failed",
        "fred_framerate": "frame_rate_check_failed",
        "pete_picturesize": "picture_size_check_failed",
    }
    for user, reason in failing.items():
        tiktok = s.client(user)
        result = tiktok.wait_for_publish(
            tiktok.post_video(s.clip(), PostInfo(privacy_level="SELF_ONLY"))
        )
        assert (result.status, result.fail_reason) == ("FAILED", reason)
    mia = s.client("mia_media")  # real media the client cannot judge: 2 s, under the minimum
    short = mia.post_video(s.clip(seconds=2), PostInfo(privacy_level="SELF_ONLY"))
    result = mia.wait_for_publish(short)
    assert (result.status, result.fail_reason) == ("FAILED", "duration_check_failed")


def multi_chunk_refused(s: Scene) -> None:
    """A valid plan of several chunks (ref 10.1) refused as "The chunk size is invalid"; the
    same kind of post sent whole still goes through."""
    token = s.tokens("mia_chunks")["access_token"]
    plan = calls.file_upload(3 * spec.MIN_CHUNK + 12345, spec.MIN_CHUNK)
    assert spec.chunk_plan_ok(**{k: v for k, v in plan.items() if k != "source"})
    body = {"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": plan}
    response = calls.post(s.http, "video_init", token, body)
    answer = checks.envelope(response, "video_init", source="FILE_UPLOAD")
    assert answer.status == 400 and answer.code in spec.BAD_INPUT_CODES["posting"], answer
    assert answer.message.startswith("The chunk size is invalid"), answer
    tiktok = s.client("mia_chunks")  # the clip is under 5 MB: one whole chunk
    publish = tiktok.post_video(s.clip(), PostInfo(privacy_level="PUBLIC_TO_EVERYONE"))
    assert tiktok.wait_for_publish(publish).status == "PUBLISH_COMPLETE"


def old_app_version(s: Scene) -> None:
    olly = s.client("olly_old")
    post = PhotoPostInfo(title="draft")
    draft = lambda: olly.post_photos([MEDIA + "p.jpg"], post, mode="MEDIA_UPLOAD")  # noqa: E731
    refused(draft, "app_version_check_failed", 400)
    # nell_new, on 35.1, sends the same draft (from the suite's own verified media server).
    app = s.app()
    s.controller.set_app(
        app.client_key,
        verified_url_prefixes=[s.media_server.prefix],
        allow_loopback_http_media=True,
    )
    url = s.media_server.url(s.media.image(width=720, height=1280).name)
    nell = s.client("nell_new")
    result = nell.wait_for_publish(nell.post_photos([url], post, mode="MEDIA_UPLOAD"))
    assert result.status == "SEND_TO_USER_INBOX"


def partial_consent(s: Scene) -> None:
    granted = ("user.info.basic", "user.info.profile", "video.upload")
    tiktok = s.client("paz_partial", granted)
    refused(tiktok.creator_info, "scope_not_authorized", 401)
    post = PostInfo(privacy_level="SELF_ONLY")
    refused(lambda: tiktok.post_video(s.clip(), post), "scope_not_authorized", 401)
    # ref 5: scope_permission_missed (the reference's reading) or scope_not_authorized (the
    # recorded answer to a field whose scope was not granted).
    refused(
        lambda: tiktok.user_info(["follower_count"]),
        "scope_permission_missed",
        400,
        "scope_not_authorized 401",
    )
    assert tiktok.user_info(["username"]).username == "paz_partial"
    assert tiktok.wait_for_publish(tiktok.upload_video_to_inbox(s.clip())).ok


def pending_inbox_full(s: Scene) -> None:
    tiktok = s.client("ines_inbox")
    code = "spam_risk_too_many_pending_share"
    refused(lambda: tiktok.upload_video_to_inbox(s.clip()), code, 403)
    draft = lambda: tiktok.post_photos([MEDIA + "p.jpg"], PhotoPostInfo(), mode="MEDIA_UPLOAD")  # noqa: E731
    refused(draft, code, 403)
    assert tiktok.post_video(s.clip(), PostInfo(privacy_level="SELF_ONLY")).publish_id


def private_account_creator(s: Scene) -> None:
    session = s.session("priya_private")
    info = session.tiktok.creator_info()
    assert set(info.privacy_level_options) == spec.PRIVACY_OPTIONS["private"]
    assert info.duet_disabled and info.stitch_disabled
    post = PostInfo(privacy_level="PUBLIC_TO_EVERYONE")
    nothing_sent(session, lambda: session.tiktok.post_video(s.clip(), post), PrivacyLevelNotAllowed)
    answer = s.raw_init("priya_private", "PUBLIC_TO_EVERYONE")
    assert (answer.status, answer.code) == (403, "privacy_level_option_mismatch")


def rate_limit_burst(s: Scene) -> None:
    token = s.tokens("rex_bursts")["access_token"]
    body = calls.video_init(calls.file_upload())
    answers = [
        checks.envelope(calls.post(s.http, "video_init", token, body), "video_init")
        for _ in range(7)
    ]
    codes = [answer.code for answer in answers]
    assert codes == ["ok"] * 6 + ["rate_limit_exceeded"], codes  # ref 4.3: 6 per minute
    s.advance(60)  # a sliding one-minute window
    answer = checks.envelope(calls.post(s.http, "video_init", token, body), "video_init")
    assert answer.code == "ok"
    tiktok = s.client("rex_bursts")  # polls through the injected 429s
    publish = tiktok.post_video(s.clip(), PostInfo(privacy_level="SELF_ONLY"))
    statuses = [
        checks.envelope(
            calls.post(s.http, "status_fetch", token, {"publish_id": publish.publish_id}),
            "status_fetch",
        )
        for _ in range(20)
    ]
    assert any(a.code == "rate_limit_exceeded" for a in statuses)
    assert tiktok.wait_for_publish(publish).status == "PUBLISH_COMPLETE"


def refresh_token_expiring(s: Scene) -> None:
    tiktok = s.client("rita_refresh")
    s.advance(180 * DAY - 60)
    token = tiktok.refresh()
    assert token.refresh_expires_at is not None
    assert 0 < token.refresh_expires_at - s.time.now() <= 60
    s.advance(60)
    with pytest.raises(InvalidGrant) as info:
        tiktok.refresh()
    assert info.value.error == "invalid_grant"


def sandbox_target_users(s: Scene) -> None:
    app = s.app()
    with pytest.raises(ControllerError, match="non_sandbox_target") as info:
        s.controller.authorize(app.client_key, "nina_outsider", POSTING)
    assert "access_denied" in str(info.value)  # ref 2.2, 15.3
    tiktok = s.client("tara_target")
    publish = tiktok.post_video(s.clip(), PostInfo(privacy_level="SELF_ONLY"))
    assert tiktok.wait_for_publish(publish).status == "PUBLISH_COMPLETE"


def scope_not_approved(s: Scene) -> None:
    app = s.app()
    with pytest.raises(ControllerError, match="invalid_scope"):
        s.controller.authorize(app.client_key, "sam_scopes", ("user.info.basic", "video.publish"))
    tiktok = s.client("sam_scopes", ("user.info.basic", "video.upload"))
    auth = tiktok.authorize_url(
        app.redirect_uri, ["user.info.basic", "video.publish"], authorize_base=s.target.base_url
    )
    page = s.http.get(auth.url)  # ref 2.1: refused on TikTok's own page, not redirected
    assert page.status_code == 400 and "location" not in page.headers
    assert "invalid_scope" in page.text


def short_max_duration(s: Scene) -> None:
    session = s.session("sol_short")
    tiktok = session.tiktok
    assert tiktok.creator_info().max_video_post_duration_sec == 60
    long_clip = s.clip(seconds=61, fps=23, width=360, height=360)
    post = PostInfo(privacy_level="SELF_ONLY")
    nothing_sent(session, lambda: tiktok.post_video(long_clip, post), DurationOverCreatorMax)
    init = s.raw_init("sol_short", "SELF_ONLY", clip=long_clip)  # init cannot see the duration
    tiktok.upload((init.data or {})["upload_url"], long_clip)
    result = tiktok.wait_for_publish((init.data or {})["publish_id"])
    assert (result.status, result.fail_reason) == ("FAILED", "duration_check_failed")


def slow_moderation(s: Scene) -> None:
    tiktok = s.client("mo_waits")
    started = s.time.now()
    publish = tiktok.post_video(s.clip(), PostInfo(privacy_level="PUBLIC_TO_EVERYONE"))
    result = tiktok.wait_for_publish(publish)
    assert (result.status, result.post_ids) == ("PUBLISH_COMPLETE", ())
    s.advance(3 * 3600 - 120 - (s.time.now() - started))
    assert tiktok.fetch_status(publish.publish_id).post_ids == ()
    result = tiktok.wait_for_publish(publish, wait_for_public_post=True)
    assert result.post_ids and s.time.now() - started >= 3 * 3600 - 120


def token_legacy_profile(s: Scene) -> None:
    legacy = s.app("awlegacytokens001")
    current = s.app("awcurrenttokens01")
    legacy_token = s.tokens("tom_tokens", app=legacy)
    current_token = s.tokens("tom_tokens", app=current)
    assert (legacy_token["expires_in"], current_token["expires_in"]) == (86_400, 7_200)

    def user_info(token: dict[str, Any]) -> str:
        answer = calls.user_info(s.http, token["access_token"], "open_id")
        return checks.envelope(answer, "user_info").code

    s.advance(2 * 3600)
    assert (user_info(current_token), user_info(legacy_token)) == ("access_token_invalid", "ok")
    s.advance(22 * 3600)
    assert user_info(legacy_token) == "access_token_invalid"


def unaudited_app(s: Scene) -> None:
    clip, post = s.clip(), PostInfo(privacy_level="SELF_ONLY")
    paul = s.client("pub_paul")
    code = "unaudited_client_can_only_post_to_private_accounts"
    refused(lambda: paul.post_video(clip, post), code, 403)
    for n in range(1, 6):
        pia = s.client(f"pia_private{n}")
        publish = pia.post_video(clip, PostInfo(privacy_level="FOLLOWER_OF_CREATOR"))
        result = pia.wait_for_publish(publish)
        assert (result.status, result.post_ids) == ("PUBLISH_COMPLETE", ())  # ref 15.1: private
    sixth = s.client("pia_private6")
    refused(sixth.creator_info, "reached_active_user_cap", 200)
    with pytest.raises(CreatorCannotPostNow):
        sixth.post_video(clip, post)


def unverified_media_domain(s: Scene) -> None:
    tiktok = s.client("uma_urls")
    url = "https://cdn.other.example/v.mp4"
    post = PostInfo(privacy_level="SELF_ONLY")
    refused(lambda: tiktok.post_video(url, post), "url_ownership_unverified", 403)
    refused(lambda: tiktok.upload_video_to_inbox(url), "url_ownership_unverified", 403)


class Receiver:
    """A webhook callback on 127.0.0.1 that answers 500 to the first `failures` deliveries."""

    def __init__(self, failures: int) -> None:
        self.deliveries: list[tuple[bytes, str, int]] = []
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.changed:
                    status = 500 if len(receiver.deliveries) < failures else 200
                    signature = self.headers.get("TikTok-Signature", "")
                    receiver.deliveries.append((body, signature, status))
                    receiver.changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tiktok/webhook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, count: int, timeout: float) -> None:
        """Until `count` deliveries came in (a served target sends on its own thread)."""
        with self.changed:
            self.changed.wait_for(lambda: len(self.deliveries) >= count, timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def webhook_recovers(s: Scene) -> None:
    app = s.app()
    receiver = Receiver(failures=2)
    try:
        s.controller.set_app(app.client_key, webhook_url=receiver.url)
        tiktok = s.client("wes_webhooks")
        publish = tiktok.post_video(s.clip(), PostInfo(privacy_level="SELF_ONLY"))
        assert tiktok.wait_for_publish(publish).status == "PUBLISH_COMPLETE"
        patience = 0.0 if s.target.transport is not None else 2.0  # in process: synchronous
        for _ in range(40):  # ref 14.1: retried with backoff until one gets HTTP 200
            if any(status == 200 for *_, status in receiver.deliveries):
                break
            s.advance(30)
            receiver.wait(len(receiver.deliveries) + 1, patience)
    finally:
        receiver.close()
    complete = [
        (body, signature, status)
        for body, signature, status in receiver.deliveries
        if json.loads(body)["event"] == "post.publish.complete"
    ]
    assert [status for *_, status in complete] == [500, 500, 200], receiver.deliveries
    assert len({body for body, *_ in complete}) == 1  # every retry carries the same body
    for body, signature, _ in complete:  # ref 14.4: HMAC-SHA256(client_secret, "t." + body)
        parts = dict(part.split("=", 1) for part in signature.split(","))
        signed = parts["t"].encode() + b"." + body
        digest = hmac.new(app.client_secret.encode(), signed, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(digest, parts["s"])
        assert json.loads(json.loads(body)["content"])["publish_id"] == publish.publish_id


@dataclass(frozen=True)
class Reproduction:
    names: tuple[str, ...]  # codes, fail_reasons or statuses its `reproduces` line names
    run: Callable[[Scene], None]


REPRODUCTIONS = {
    "audited-happy-path": Reproduction(("PUBLISH_COMPLETE",), audited_happy_path),
    "banned-creator": Reproduction(("spam_risk_user_banned_from_posting",), banned_creator),
    "daily-post-cap-reached": Reproduction(("spam_risk_too_many_posts",), daily_post_cap_reached),
    "default": Reproduction((), default),
    "direct-post-disabled": Reproduction(("scope_not_authorized",), direct_post_disabled),
    "interactions-off": Reproduction(("comment_disabled", "duet_disabled"), interactions_off),
    "media-check-failures": Reproduction(
        (
            "file_format_check_failed",
            "duration_check_failed",
            "frame_rate_check_failed",
            "picture_size_check_failed",
        ),
        media_check_failures,
    ),
    "multi-chunk-refused": Reproduction(("invalid_params",), multi_chunk_refused),
    "old-app-version": Reproduction(("app_version_check_failed",), old_app_version),
    "partial-consent": Reproduction(
        ("scope_not_authorized", "scope_permission_missed"), partial_consent
    ),
    "pending-inbox-full": Reproduction(("spam_risk_too_many_pending_share",), pending_inbox_full),
    "private-account-creator": Reproduction(
        ("privacy_level_option_mismatch",), private_account_creator
    ),
    "rate-limit-burst": Reproduction(("rate_limit_exceeded",), rate_limit_burst),
    "refresh-token-expiring": Reproduction(("invalid_grant",), refresh_token_expiring),
    "sandbox-target-users": Reproduction(
        ("access_denied", "non_sandbox_target"), sandbox_target_users
    ),
    "scope-not-approved": Reproduction(("invalid_scope",), scope_not_approved),
    "short-max-duration": Reproduction(("duration_check_failed",), short_max_duration),
    "slow-moderation": Reproduction(
        ("PUBLISH_COMPLETE", "publicaly_available_post_id"), slow_moderation
    ),
    "token-legacy-profile": Reproduction(("access_token_invalid",), token_legacy_profile),
    "unaudited-app": Reproduction(
        ("unaudited_client_can_only_post_to_private_accounts", "reached_active_user_cap"),
        unaudited_app,
    ),
    "unverified-media-domain": Reproduction(("url_ownership_unverified",), unverified_media_domain),
    "webhook-recovers": Reproduction(("post.publish.complete",), webhook_recovers),
}


# -- the sweep ---------------------------------------------------------------------------------


@pytest.fixture
def offered(controller: Controller) -> Iterator[dict[str, dict[str, str]]]:
    """The target's scenarios by name; its own scenario is loaded back afterwards."""
    listing = getattr(controller, "scenarios", None)  # optional for other controllers
    scenarios = {s["name"]: s for s in listing()} if listing else {}
    if not scenarios:
        pytest.skip("the target offers no scenarios")
    original = controller.current_scenario()
    yield scenarios
    controller.load_scenario(original)


@pytest.mark.behaviour("scenario_reproduces_its_failure", "15")
@pytest.mark.parametrize("name", sorted(REPRODUCTIONS))
def test_the_scenario_reproduces_its_documented_failure(
    name: str,
    offered: dict[str, dict[str, str]],
    target: Target,
    controller: Controller,
    http: httpx.Client,
    media: MediaLibrary,
    media_server: MediaServer,
) -> None:
    if name not in offered:
        pytest.skip(f"the target does not offer scenario {name}")
    reproduction = REPRODUCTIONS[name]
    reproduces = offered[name].get("reproduces", "")
    for word in reproduction.names:
        assert word in reproduces, f"{name}'s reproduces line does not name {word}: {reproduces}"
    example("scenario_reproduces_its_failure")
    controller.load_scenario(name)
    scene = Scene(target, controller, http, media, media_server, TargetTime(controller))
    try:
        reproduction.run(scene)
    finally:
        scene.close()


@pytest.mark.behaviour("every_scenario_has_a_reproduction", "15")
def test_every_offered_scenario_has_a_reproduction(
    offered: dict[str, dict[str, str]],
) -> None:
    example("every_scenario_has_a_reproduction")
    unknown = sorted(set(offered) - set(REPRODUCTIONS))
    assert not unknown, f"scenarios without a reproduction in the sweep: {unknown}"
    assert all(s.get("reproduces") for s in offered.values()), "a scenario without `reproduces`"
