"""Every audit check, met by a scripted app that breaks exactly its rule: that check (and no
other) fails or warns, with the journal entries that show it as evidence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conformance.media import make_video
from mock_server.audit import AuditReport
from tests.mock_server.audit.kit import (
    INBOX_INIT,
    VERIFIER,
    Driver,
    assert_only,
    challenge,
    verdicts,
    whole_file,
)
from tests.scenarios.stage import DAY, Stage

ACME = "awacmescheduler01"  # default scenario: audited web app
INDIE = "awindieposter0001"  # unaudited web app
DESKTOP = "sbawacmesandbox01"  # sandbox-stage desktop app, redirect http://127.0.0.1:*/callback/
ANA, BEN = "ana_makes", "ben_private"  # public and private accounts


def audit(s: Stage, client_key: str = ACME) -> AuditReport:
    return s.sandbox.audit(client_key)


def evidence_seqs(report: AuditReport, check_id: str) -> list[int]:
    return [e.seq for e in report.check(check_id).evidence]


def seq_of(s: Stage, path: str, index: int = -1) -> int:
    """The journal seq of the `index`-th request to `path` (oldest first)."""
    return int(list(reversed(s.journal(path)))[index]["seq"])


# -- creator_info_before_post ---------------------------------------------------------------


def test_a_careful_post_passes_every_check_that_applies(
    stage: Callable[..., Stage], clip: bytes
) -> None:
    s = stage()
    app = Driver(s, ACME)
    tokens = app.login(ANA)
    publish_id = app.post_video(tokens.access_token, clip, privacy="PUBLIC_TO_EVERYONE")
    s.advance(2)
    assert app.status(tokens.access_token, publish_id).json()["error"]["code"] == "ok"
    report = audit(s)
    assert report.failures == [] and report.warnings == []
    assert verdicts(report)["creator_info_before_post"] == "pass"
    assert verdicts(report)["token_endpoint_server_side"] == "pass"


def test_a_cached_creator_info_fails(stage: Callable[..., Stage], clip: bytes) -> None:
    s = stage()
    app = Driver(s, ACME)
    token, info = app.open_post_page(ANA)
    app.post_video(token, clip, fetch_creator_info=False, info=info)
    app.post_video(token, clip, fetch_creator_info=False, info=info)  # the same answer again
    report = audit(s)
    assert_only(report, "creator_info_before_post")
    check = report.check("creator_info_before_post")
    second_init = seq_of(s, "/v2/post/publish/video/init/")
    assert evidence_seqs(report, "creator_info_before_post") == [
        second_init,
        seq_of(s, "/v2/post/publish/creator_info/query/"),
        seq_of(s, "/v2/post/publish/video/init/", 0),
    ]
    assert "cached" in check.summary and check.summary.startswith("1 of 2 Direct Post inits")


def test_posting_with_no_creator_info_fails(stage: Callable[..., Stage], clip: bytes) -> None:
    s = stage()
    app = Driver(s, ACME)
    token = app.login(ANA).access_token
    info = {"privacy_level_options": ["PUBLIC_TO_EVERYONE"]}
    app.post_video(token, clip, fetch_creator_info=False, info=info)
    report = audit(s)
    assert report.check("creator_info_before_post").verdict == "fail"
    assert "without a creator_info" in report.check("creator_info_before_post").summary
    # Nothing to compare privacy and interactions with: not observed, not guessed.
    assert verdicts(report)["privacy_level_in_options"] == "not_observed"
    assert report.failures == [report.check("creator_info_before_post")]


def test_posting_after_creator_info_said_stop_fails(stage: Callable[..., Stage]) -> None:
    s = stage("daily-post-cap-reached")
    app = Driver(s, "awdailypostcap001")
    token = app.login("cap_carla", redirect_uri="http://127.0.0.1:3000/callback/").access_token
    stop = app.creator_info(token)
    assert stop.status_code == 200 and stop.json()["error"]["code"] == "spam_risk_too_many_posts"
    body = {"privacy_level": "SELF_ONLY", "disable_comment": True, "disable_duet": True}
    refused = app.init_video(token, body | {"disable_stitch": True}, whole_file(1000))
    assert refused.status_code == 403
    report = audit(s, "awdailypostcap001")
    assert report.check("creator_info_before_post").verdict == "fail"
    assert "cannot post now" in report.check("creator_info_before_post").summary
    # (The app's only redirect URI is http on loopback: a warning of its own.)
    assert {c.id for c in report.failures} == {"creator_info_before_post"}
    assert verdicts(report)["cap_errors_not_retried"] == "pass"


def test_a_stale_creator_info_warns(stage: Callable[..., Stage], clip: bytes) -> None:
    s = stage()
    app = Driver(s, ACME)
    token, info = app.open_post_page(ANA)
    s.advance(11 * 60)  # the post page stayed open for eleven minutes
    app.post_video(token, clip, fetch_creator_info=False, info=info)
    report = audit(s)
    assert_only(report, "creator_info_before_post", "warn")
    assert "11 min 0 s old" in report.check("creator_info_before_post").summary


# -- privacy_level_in_options ---------------------------------------------------------------


def test_a_privacy_level_outside_the_options_fails(stage: Callable[..., Stage]) -> None:
    s = stage()
    app = Driver(s, ACME)
    token, info = app.open_post_page(ANA)
    body = app.careful_post_info(info, "FOLLOWER_OF_CREATOR")  # a private account's option
    refused = app.init_video(token, body, whole_file(1000))
    assert refused.json()["error"]["code"] == "privacy_level_option_mismatch"
    report = audit(s)
    assert_only(report, "privacy_level_in_options")
    assert evidence_seqs(report, "privacy_level_in_options")[0] == seq_of(
        s, "/v2/post/publish/video/init/"
    )


def test_one_level_for_creators_with_different_options_warns(
    stage: Callable[..., Stage], clip: bytes
) -> None:
    s = stage()
    app = Driver(s, ACME)
    for username in (ANA, BEN):  # a public and a private account: their options differ
        app.post_video(app.login(username).access_token, clip, privacy="SELF_ONLY")
    report = audit(s)
    assert_only(report, "privacy_level_in_options", "warn")
    assert "every post used SELF_ONLY" in report.check("privacy_level_in_options").summary

    # A level picked from each creator's own options is no default.
    s = stage()
    app = Driver(s, ACME)
    app.post_video(app.login(ANA).access_token, clip, privacy="PUBLIC_TO_EVERYONE")
    app.post_video(app.login(BEN).access_token, clip, privacy="FOLLOWER_OF_CREATOR")
    assert verdicts(audit(s))["privacy_level_in_options"] == "pass"


# -- interaction_settings_respected --------------------------------------------------------


def test_turning_on_an_interaction_the_creator_turned_off_fails(
    stage: Callable[..., Stage], clip: bytes
) -> None:
    s = stage("interactions-off")
    app = Driver(s, "awinteractoff0001")
    token = app.login("ivy_quiet", redirect_uri="http://127.0.0.1:3000/callback/").access_token
    app.post_video(token, clip, privacy="PUBLIC_TO_EVERYONE", disable_duet=False)
    report = audit(s, "awinteractoff0001")
    check = report.check("interaction_settings_respected")
    assert check.verdict == "fail"
    assert "turned duet off, and the post sent disable_duet=false" in check.summary
    assert {c.id for c in report.failures} == {"interaction_settings_respected"}


def test_leaving_out_a_disabled_interaction_warns(stage: Callable[..., Stage], clip: bytes) -> None:
    s = stage()
    app = Driver(s, ACME)
    token, info = app.open_post_page("cora.cooks")  # stitch off
    body = {k: v for k, v in app.careful_post_info(info).items() if k != "disable_stitch"}
    init = app.init_video(token, body, whole_file(len(clip)))
    app.upload(init.json()["data"]["upload_url"], clip)
    report = audit(s)
    assert_only(report, "interaction_settings_respected", "warn")


# -- branded_content_not_private ------------------------------------------------------------


def test_branded_content_posted_self_only_fails(stage: Callable[..., Stage]) -> None:
    s = stage()
    app = Driver(s, ACME)
    token, info = app.open_post_page(ANA)
    body = app.careful_post_info(info, "SELF_ONLY") | {"brand_content_toggle": True}
    assert app.init_video(token, body, whole_file(1000)).status_code == 400
    report = audit(s)
    assert_only(report, "branded_content_not_private")


def test_branded_content_posted_publicly_passes(stage: Callable[..., Stage], clip: bytes) -> None:
    s = stage()
    app = Driver(s, ACME)
    token = app.login(ANA).access_token
    app.post_video(token, clip, privacy="PUBLIC_TO_EVERYONE", brand_content_toggle=True)
    assert verdicts(audit(s))["branded_content_not_private"] == "pass"


# -- unaudited_self_only_surfaced ----------------------------------------------------------


def _unaudited(s: Stage) -> Driver:
    """The unaudited app of the default scenario, with an https redirect URI TikTok takes."""
    s.http.patch(
        f"/_sandbox/apps/{INDIE}",
        json={"redirect_uris": ["https://indie.example/callback"]},
    ).raise_for_status()
    return Driver(s, INDIE)


def test_retrying_after_the_unaudited_refusal_fails(stage: Callable[..., Stage]) -> None:
    s = stage()
    app = _unaudited(s)
    token, info = app.open_post_page(ANA, redirect_uri="https://indie.example/callback")
    body = app.careful_post_info(info, "SELF_ONLY")
    for _ in range(2):  # the same post again, refused the same way
        refused = app.init_video(token, body, whole_file(1000))
        assert (
            refused.json()["error"]["code"] == "unaudited_client_can_only_post_to_private_accounts"
        )
    report = audit(s, INDIE)
    assert_only(report, "unaudited_self_only_surfaced")
    first, second = (seq_of(s, "/v2/post/publish/video/init/", i) for i in (0, 1))
    assert evidence_seqs(report, "unaudited_self_only_surfaced") == [second, first]


def test_asking_for_a_wider_audience_before_the_audit_warns(
    stage: Callable[..., Stage], clip: bytes
) -> None:
    s = stage()
    app = _unaudited(s)
    token = app.login(BEN, redirect_uri="https://indie.example/callback").access_token
    app.post_video(token, clip, privacy="FOLLOWER_OF_CREATOR")  # posted, but as SELF_ONLY
    report = audit(s, INDIE)
    assert_only(report, "unaudited_self_only_surfaced", "warn")

    s = stage()
    app = _unaudited(s)
    token = app.login(BEN, redirect_uri="https://indie.example/callback").access_token
    app.post_video(token, clip, privacy="SELF_ONLY")
    assert verdicts(audit(s, INDIE))["unaudited_self_only_surfaced"] == "pass"


# -- duration_enforced_before_upload and media_passes_checks --------------------------------


def test_uploading_a_video_over_the_creators_limit_fails(
    stage: Callable[..., Stage], media: Path
) -> None:
    long_clip = make_video(media / "61s.mp4", seconds=61, fps=23, width=360, height=360)
    s = stage("short-max-duration")
    app = Driver(s, "awshortmaxdur0001")
    token = app.login("sol_short", redirect_uri="http://127.0.0.1:3000/callback/").access_token
    app.post_video(token, long_clip.read_bytes(), privacy="SELF_ONLY")
    report = audit(s, "awshortmaxdur0001")
    check = report.check("duration_enforced_before_upload")
    assert check.verdict == "fail"
    assert (
        "uploaded a 61.0 s video; creator_info" in check.summary and "at most 60 s" in check.summary
    )
    # The media check's duration failure is this check's finding, not media_passes_checks'.
    assert verdicts(report)["media_passes_checks"] == "not_observed"
    assert {c.id for c in report.failures} == {"duration_enforced_before_upload"}


def test_media_failing_tiktoks_checks_fails(stage: Callable[..., Stage], media: Path) -> None:
    slow = make_video(media / "15fps.mp4", fps=15)
    s = stage()
    app = Driver(s, ACME)
    token = app.login(ANA).access_token
    app.post_video(token, slow.read_bytes(), privacy="SELF_ONLY")
    report = audit(s)
    assert_only(report, "media_passes_checks")
    assert "frame_rate_check_failed" in report.check("media_passes_checks").summary
    assert verdicts(report)["duration_enforced_before_upload"] == "pass"


def test_an_outcome_the_sandbox_injected_is_not_the_media_s_finding(
    stage: Callable[..., Stage], clip: bytes
) -> None:
    s = stage()
    injected = {"fail_reason": "frame_rate_check_failed", "client_key": ACME}
    assert s.http.post("/_sandbox/outcomes", json=injected).status_code == 201
    app = Driver(s, ACME)
    token = app.login(ANA).access_token
    publish_id = app.post_video(token, clip, privacy="SELF_ONLY")  # a good file
    s.advance(5)
    assert app.status(token, publish_id).json()["data"]["fail_reason"] == "frame_rate_check_failed"
    report = audit(s)
    assert verdicts(report)["media_passes_checks"] == "pass"
    assert report.failures == [] and report.warnings == []


def test_pulled_media_failing_tiktoks_checks_fails(
    stage: Callable[..., Stage], media: Path
) -> None:
    url = "https://media.acme.example/small.mp4"
    small = make_video(media / "320x240.mp4", width=320, height=240).read_bytes()
    s = stage(files={url: small})
    app = Driver(s, ACME)
    token, info = app.open_post_page(ANA)
    init = app.init_video(
        token, app.careful_post_info(info), {"source": "PULL_FROM_URL", "video_url": url}
    )
    s.settle()
    s.advance(5)
    state = app.status(token, init.json()["data"]["publish_id"]).json()["data"]
    assert (state["status"], state["fail_reason"]) == ("FAILED", "picture_size_check_failed")
    report = audit(s)
    assert_only(report, "media_passes_checks")
    assert verdicts(report)["pull_from_url_verified"] == "pass"


# -- chunk_plan_valid ----------------------------------------------------------------------


def test_an_invalid_chunk_plan_fails_even_when_fixed_on_the_retry(
    stage: Callable[..., Stage], clip: bytes
) -> None:
    s = stage()
    app = Driver(s, ACME)
    token, info = app.open_post_page(ANA)
    wrong = whole_file(len(clip)) | {"total_chunk_count": 2}
    refused = app.init_video(token, app.careful_post_info(info), wrong)
    assert refused.json()["error"]["code"] in ("invalid_params", "invalid_param")
    app.post_video(token, clip, fetch_creator_info=False, info=info)  # fixed: accepted
    report = audit(s)
    assert_only(report, "chunk_plan_valid")
    assert evidence_seqs(report, "chunk_plan_valid") == [
        seq_of(s, "/v2/post/publish/video/init/", 0)
    ]


# -- pull_from_url_verified -----------------------------------------------------------------


def test_pulling_from_an_unverified_domain_fails(stage: Callable[..., Stage]) -> None:
    s = stage()
    app = Driver(s, ACME)
    token, info = app.open_post_page(ANA)
    source = {"source": "PULL_FROM_URL", "video_url": "https://cdn.elsewhere.example/v.mp4"}
    refused = app.init_video(token, app.careful_post_info(info), source)
    assert refused.json()["error"]["code"] == "url_ownership_unverified"
    assert_only(audit(s), "pull_from_url_verified")


def test_pulling_over_http_from_loopback_warns(stage: Callable[..., Stage]) -> None:
    s = stage()
    app = Driver(s, ACME)
    token, info = app.open_post_page(ANA)
    # A verified prefix the sandbox accepts over http on loopback; TikTok could not pull it.
    source = {"source": "PULL_FROM_URL", "video_url": "http://127.0.0.1:9000/media/v.mp4"}
    assert app.init_video(token, app.careful_post_info(info), source).status_code == 200
    report = audit(s)
    assert_only(report, "pull_from_url_verified", "warn")
    assert "loopback address" in report.check("pull_from_url_verified").summary


# -- tokens ----------------------------------------------------------------------------------


def test_calling_with_an_expired_token_fails(stage: Callable[..., Stage]) -> None:
    s = stage()
    app = Driver(s, ACME)
    tokens = app.login(ANA)
    assert app.creator_info(tokens.access_token).status_code == 200
    s.advance(2 * 3600 + 1)  # the access token lasts 2 hours
    expired = app.creator_info(tokens.access_token)
    assert expired.status_code == 401
    fresh = app.refresh(tokens.refresh_token).json()
    assert app.creator_info(fresh["access_token"]).status_code == 200
    report = audit(s)
    assert_only(report, "token_refreshed_in_time")
    assert evidence_seqs(report, "token_refreshed_in_time") == [
        seq_of(s, "/v2/post/publish/creator_info/query/", 1),
        seq_of(s, "/v2/oauth/token/", 0),  # the exchange that issued it
    ]
    assert verdicts(report)["invalid_token_not_reused"] == "pass"  # not sent a third time


def test_reusing_a_token_after_revoking_it_fails(stage: Callable[..., Stage]) -> None:
    s = stage()
    app = Driver(s, ACME)
    tokens = app.login(ANA)
    assert app.revoke(tokens.access_token).status_code == 200
    assert app.creator_info(tokens.access_token).status_code == 401
    report = audit(s)
    assert_only(report, "invalid_token_not_reused")
    assert "after the app revoked it" in report.check("invalid_token_not_reused").summary


def test_repeating_a_call_the_token_was_refused_for_fails(
    stage: Callable[..., Stage], clip: bytes
) -> None:
    s = stage()
    app = Driver(s, ACME)
    token = app.login(ANA).access_token
    publish_id = app.post_video(token, clip, privacy="SELF_ONLY")
    # The person disconnects the app in TikTok: every token of theirs stops working.
    s.http.post(f"/_sandbox/publishes/{publish_id}/actions", json={"action": "revoke_app"})
    assert app.status(token, publish_id).status_code == 401
    assert app.status(token, publish_id).status_code == 401  # the same dead token again
    report = audit(s)
    assert_only(report, "invalid_token_not_reused")
    assert "TikTok refused it (token_revoked)" in report.check("invalid_token_not_reused").summary


def test_a_rotated_refresh_token_sent_again_fails(stage: Callable[..., Stage]) -> None:
    s = stage()
    app = Driver(s, ACME)
    tokens = app.login(ANA)
    assert "access_token" in app.refresh(tokens.refresh_token).json()
    again = app.refresh(tokens.refresh_token).json()
    assert again["error"] == "invalid_grant"
    report = audit(s)
    assert_only(report, "rotated_refresh_token_not_reused")
    assert evidence_seqs(report, "rotated_refresh_token_not_reused") == [
        seq_of(s, "/v2/oauth/token/", 2),
        seq_of(s, "/v2/oauth/token/", 1),
    ]


def test_the_token_endpoint_called_from_a_browser_fails(stage: Callable[..., Stage]) -> None:
    s = stage()
    app = Driver(s, ACME)
    browser = {"Origin": "https://app.acme.example", "Sec-Fetch-Site": "cross-site"}
    app.login(ANA, token_headers=browser)
    report = audit(s)
    assert_only(report, "token_endpoint_server_side")
    assert "origin: https://app.acme.example" in report.check("token_endpoint_server_side").summary


def test_an_http_loopback_redirect_uri_warns_for_a_web_app(stage: Callable[..., Stage]) -> None:
    s = stage()
    app = Driver(s, ACME)
    app.login(ANA, redirect_uri="http://localhost:3000/callback/")
    report = audit(s)
    assert_only(report, "redirect_uri_accepted_by_tiktok", "warn")
    summary = report.check("redirect_uri_accepted_by_tiktok").summary
    assert "a web app's redirect URI must be https and on a real host" in summary


def test_a_base64url_challenge_warns_for_a_desktop_app(stage: Callable[..., Stage]) -> None:
    s = stage()
    # By default the exchange itself refuses it, as TikTok does; with the lenient setting the
    # flow goes through, and the audit still says what TikTok would do.
    lenient = s.http.patch(f"/_sandbox/apps/{DESKTOP}", json={"pkce_challenge": "either"})
    assert lenient.status_code == 200, lenient.text
    app = Driver(s, DESKTOP)
    app.login(ANA, redirect_uri="http://127.0.0.1:4321/callback/", pkce="base64url")
    report = audit(s, DESKTOP)
    assert_only(report, "redirect_uri_accepted_by_tiktok", "warn")
    assert "base64url" in report.check("redirect_uri_accepted_by_tiktok").summary

    s = stage()
    Driver(s, DESKTOP).login(ANA, redirect_uri="http://127.0.0.1:4321/callback/", pkce="hex")
    assert verdicts(audit(s, DESKTOP))["redirect_uri_accepted_by_tiktok"] == "pass"
    assert challenge(VERIFIER, "hex") != challenge(VERIFIER, "base64url")


def test_an_unregistered_redirect_uri_fails(stage: Callable[..., Stage]) -> None:
    s = stage()
    page = s.http.get(
        "/v2/auth/authorize/",
        params={
            "client_key": ACME,
            "scope": "user.info.basic",
            "redirect_uri": "https://app.acme.example/elsewhere",
            "response_type": "code",
        },
    )
    assert page.status_code == 400
    report = audit(s)
    assert_only(report, "redirect_uri_accepted_by_tiktok")


# -- limits ----------------------------------------------------------------------------------


def test_retrying_at_once_after_a_429_fails(stage: Callable[..., Stage]) -> None:
    s = stage()
    app = Driver(s, ACME)
    token = app.login(ANA).access_token
    codes = [app.creator_info(token).status_code for _ in range(22)]
    assert codes == [200] * 20 + [429, 429]  # ref 4.3: 20 a minute
    report = audit(s)
    assert_only(report, "rate_limits_respected")
    assert "no backoff" in report.check("rate_limits_respected").summary


def test_backing_off_after_a_429_passes(stage: Callable[..., Stage]) -> None:
    s = stage()
    app = Driver(s, ACME)
    token = app.login(ANA).access_token
    for _ in range(21):
        app.creator_info(token)
    s.advance(60)
    assert app.creator_info(token).status_code == 200
    report = audit(s)
    assert verdicts(report)["rate_limits_respected"] == "pass"
    assert report.failures == [] and report.warnings == []


def test_a_retry_storm_of_429s_fails(stage: Callable[..., Stage]) -> None:
    s = stage()
    app = Driver(s, ACME)
    token = app.login(ANA).access_token
    for _ in range(20):
        app.creator_info(token)
    for _ in range(6):  # retried every 2 s: each wait is a "backoff", but it never stops
        assert app.creator_info(token).status_code == 429
        s.advance(2)
    report = audit(s)
    assert_only(report, "rate_limits_respected")
    assert "retry storm" in report.check("rate_limits_respected").summary


def test_polling_status_over_30_a_minute_fails(stage: Callable[..., Stage], clip: bytes) -> None:
    s = stage()
    app = Driver(s, ACME)
    token = app.login(ANA).access_token
    publish_id = app.post_video(token, clip, privacy="SELF_ONLY")
    answers = []
    for _ in range(31):
        answers.append(app.status(token, publish_id).status_code)
        s.advance(1.5)
    assert answers == [200] * 30 + [429]
    report = audit(s)
    assert_only(report, "status_polling_within_limit")
    assert verdicts(report)["rate_limits_respected"] == "pass"  # the 429 was not retried


def test_retrying_a_capped_upload_fails(stage: Callable[..., Stage]) -> None:
    s = stage("pending-inbox-full")
    app = Driver(s, "awpendinginbox001")
    token = app.login("ines_inbox", redirect_uri="http://127.0.0.1:3000/callback/").access_token
    for _ in range(2):
        refused = s.raw(INBOX_INIT, token, {"source_info": whole_file(1000)})
        assert refused.json()["error"]["code"] == "spam_risk_too_many_pending_share"
    report = audit(s, "awpendinginbox001")
    assert report.check("cap_errors_not_retried").verdict == "fail"
    assert {c.id for c in report.failures} == {"cap_errors_not_retried"}
    assert "again after" in report.check("cap_errors_not_retried").summary


def test_a_cap_refusal_not_retried_passes(stage: Callable[..., Stage]) -> None:
    s = stage("pending-inbox-full")
    app = Driver(s, "awpendinginbox001")
    token = app.login("ines_inbox", redirect_uri="http://127.0.0.1:3000/callback/").access_token
    assert s.raw(INBOX_INIT, token, {"source_info": whole_file(1000)}).status_code == 403
    s.advance(DAY)  # a day later: a refusal then is a first one again
    fresh = app.refresh(
        app.login("ines_inbox", redirect_uri="http://127.0.0.1:3000/callback/").refresh_token
    )
    s.raw(INBOX_INIT, fresh.json()["access_token"], {"source_info": whole_file(1000)})
    assert verdicts(audit(s, "awpendinginbox001"))["cap_errors_not_retried"] == "pass"


def test_a_body_the_journal_did_not_keep_whole_is_not_guessed(stage: Callable[..., Stage]) -> None:
    s = stage()
    app = Driver(s, ACME)
    token, info = app.open_post_page(ANA)
    body = app.careful_post_info(info) | {"notes": "x" * 20_000}  # an unknown field: ignored
    assert app.init_video(token, body, whole_file(1000)).json()["error"]["code"] == "ok"
    report = audit(s)
    check = report.check("privacy_level_in_options")
    assert check.verdict == "not_observed"
    assert "keeps bodies up to 16 KiB whole" in check.summary
    assert verdicts(report)["creator_info_before_post"] == "pass"  # needs no body
