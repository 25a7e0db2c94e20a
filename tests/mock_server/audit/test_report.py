"""The report itself: the same journal gives the same report; a time window judges only its
requests (earlier ones still serve as context); a journal that dropped entries says so and
does not guess; the Python API works as a pytest assertion; the `tiktok-sandbox audit` command
prints text, Markdown or JSON and exits 1 when a check fails."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mock_server.audit import CHECKS, AuditReport, audit_entries
from mock_server.audit.traffic import AppFacts
from mock_server.cli import main
from mock_server.runtime.clock import format_instant
from mock_server.state import ServerOptions
from tests.mock_server.audit.kit import Driver, verdicts
from tests.scenarios.stage import T0, Stage

ACME = "awacmescheduler01"
ANA = "ana_makes"
FIXED_IDS = {
    "creator_info_before_post",
    "privacy_level_in_options",
    "interaction_settings_respected",
    "duration_enforced_before_upload",
    "branded_content_not_private",
    "chunk_plan_valid",
    "token_refreshed_in_time",
    "rotated_refresh_token_not_reused",
    "rate_limits_respected",
    "status_polling_within_limit",
    "redirect_uri_accepted_by_tiktok",
}


def cached_creator_info_run(s: Stage, clip: bytes) -> None:
    """A run with findings: two posts on one creator_info answer, then a status poll."""
    app = Driver(s, ACME)
    token, info = app.open_post_page(ANA)
    app.post_video(token, clip, fetch_creator_info=False, info=info)
    s.advance(30)
    publish_id = app.post_video(token, clip, fetch_creator_info=False, info=info)
    app.status(token, publish_id)


def test_the_report_names_every_check_with_its_fields(stage: Callable[..., Stage]) -> None:
    report = stage().sandbox.audit(ACME).to_json()
    assert report["client_key"] == ACME
    ids = [c["id"] for c in report["checks"]]
    assert ids == [c.id for c in CHECKS] and len(set(ids)) == len(ids)
    assert set(ids) >= FIXED_IDS
    for check in report["checks"]:
        assert {"id", "title", "verdict", "evidence", "doc", "fix"} <= set(check)
        assert check["verdict"] == "not_observed"  # nothing happened yet
        assert check["doc"].startswith("https://developers.tiktok.com/")
    assert {n["id"] for n in report["not_shown_by_traffic"]} >= {
        "creator_identity_shown",
        "privacy_without_default",
        "commercial_disclosure_ui",
        "consent_declarations",
        "content_preview",
    }
    assert report["window"]["lost_entries"] is False


def test_the_same_run_gives_the_same_report(stage: Callable[..., Stage], clip: bytes) -> None:
    reports = []
    for _ in range(2):
        s = stage()
        cached_creator_info_run(s, clip)
        reports.append(json.dumps(s.sandbox.audit(ACME).to_json(), sort_keys=True))
    assert reports[0] == reports[1]
    report = AuditReport.from_json(json.loads(reports[0]))
    assert report.check("creator_info_before_post").verdict == "fail"
    assert json.dumps(report.to_json(), sort_keys=True) == reports[0]  # JSON both ways


def test_the_same_entries_give_the_same_report(stage: Callable[..., Stage], clip: bytes) -> None:
    s = stage()
    cached_creator_info_run(s, clip)
    entries = s.sandbox.state.journal.entries()
    app = AppFacts(ACME, "Acme Scheduler", "audited", "web")
    first = audit_entries(app, entries).to_json()
    assert audit_entries(app, list(reversed(entries))).to_json() == first  # order-independent
    assert first == s.sandbox.audit(ACME).to_json() | {"window": first["window"]}


def test_a_window_judges_its_requests_with_earlier_ones_as_context(
    stage: Callable[..., Stage], clip: bytes
) -> None:
    s = stage()
    app = Driver(s, ACME)
    token, info = app.open_post_page(ANA)
    s.advance(60)
    opened = s.now()
    app.post_video(token, clip, fetch_creator_info=False, info=info)  # its creator_info: before
    s.advance(60)
    app.post_video(token, clip, fetch_creator_info=False, info=info)  # cached
    second = s.now()

    first_post = s.sandbox.audit(ACME, since=format_instant(opened), until=opened)
    assert first_post.window.since == format_instant(opened)
    assert verdicts(first_post)["creator_info_before_post"] == "pass"
    assert verdicts(first_post)["token_endpoint_server_side"] == "not_observed"  # before it
    second_post = s.sandbox.audit(ACME, since=datetime.fromtimestamp(second, tz=UTC))
    assert verdicts(second_post)["creator_info_before_post"] == "fail"
    assert second_post.window.entries == 2  # the init and its upload
    assert verdicts(s.sandbox.audit(ACME, until=T0))["creator_info_before_post"] == "not_observed"


def test_a_journal_that_dropped_entries_says_so_and_does_not_guess(
    stage: Callable[..., Stage], clip: bytes
) -> None:
    s = stage(options=ServerOptions(journal_capacity=6))
    app = Driver(s, ACME)
    token, info = app.open_post_page(ANA)  # authorize GET and POST, token, creator_info
    for _ in range(4):
        s.http.get("/v2/user/info/", params={"fields": "open_id"})  # someone else's requests
    s.advance(60)
    app.post_video(token, clip, fetch_creator_info=False, info=info)
    report = s.sandbox.audit(ACME)
    assert report.window.lost_entries and report.window.capacity == 6
    assert "dropped older requests" in report.window.note
    # The creator_info this post relied on was pushed out: not a failure, not observed.
    check = report.check("creator_info_before_post")
    assert check.verdict == "not_observed"
    assert "in what the journal still holds" in check.summary
    # A window opening after the oldest entry still held is whole.
    assert not s.sandbox.audit(ACME, since=s.now()).window.lost_entries


def test_the_report_as_a_pytest_assertion(stage: Callable[..., Stage], clip: bytes) -> None:
    s = stage()
    cached_creator_info_run(s, clip)
    report = s.sandbox.audit(ACME)
    assert not report.ready
    assert repr(report.failures) == (
        "[CheckResult('creator_info_before_post', 'fail', '1 of 2 Direct Post inits fail: "
        "reused the creator_info answer #4, already used for the post at #5: a cached "
        "answer')]"
    )
    with pytest.raises(AssertionError) as raised:
        report.assert_ready()
    message = str(raised.value)
    assert message.startswith(f"the app {ACME} is not audit-ready:\nFAIL creator_info_before_post")
    assert "#7 2026-01-01T00:00:30Z POST /v2/post/publish/video/init/ -> 200 ok" in message
    assert "fix: Call POST /v2/post/publish/creator_info/query/" in message
    with pytest.raises(KeyError, match="no app with client_key 'nope'"):
        s.sandbox.audit("nope")
    with pytest.raises(ValueError, match="since: not an ISO 8601 instant"):
        s.sandbox.audit(ACME, since="yesterday")
    with pytest.raises(KeyError, match="no audit check"):
        report.check("nope")


def test_warnings_fail_the_assertion_only_when_asked(stage: Callable[..., Stage]) -> None:
    s = stage()
    Driver(s, ACME).login(ANA, redirect_uri="http://127.0.0.1:3000/callback/")
    report = s.sandbox.audit(ACME)
    assert report.ready and [c.id for c in report.warnings] == ["redirect_uri_accepted_by_tiktok"]
    report.assert_ready()
    with pytest.raises(AssertionError, match="WARN redirect_uri_accepted_by_tiktok"):
        report.assert_ready(allow_warnings=False)


# -- tiktok-sandbox audit ----------------------------------------------------------------------


@pytest.mark.server
def test_the_command_prints_the_report_and_exits_1_on_a_failure(
    stage: Callable[..., Stage],
    clip: bytes,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    s = stage()
    with s.sandbox.serve() as server:
        assert main(["audit", "--url", server.url, "--client-key", ACME]) == 0
        clean = capsys.readouterr().out
        assert "Audit readiness of awacmescheduler01 (Acme Scheduler, audited web app)" in clean
        assert "Result: 0 fail, 0 warn, 0 pass, 17 not observed" in clean

        cached_creator_info_run(s, clip)
        assert main(["audit", "--url", server.url, "--client-key", ACME]) == 1
        text = capsys.readouterr().out
        assert "FAIL          creator_info_before_post" in text
        assert "NOT READY" in text

        out = tmp_path / "audit.md"
        argv = ["audit", "--url", server.url, "--client-key", ACME, "--format", "markdown"]
        assert main([*argv, "--output", str(out)]) == 1
        markdown = out.read_text()
        assert markdown.startswith("# Audit readiness: `awacmescheduler01`")
        assert "| FAIL | [`creator_info_before_post`](https://developers.tiktok.com/" in markdown
        assert "## Not shown by the traffic" in markdown

        argv = ["audit", "--url", server.url, "--client-key", ACME, "--format", "json"]
        assert main([*argv, "--until", "2026-01-01T00:00:00Z"]) == 0  # before the second post
        body = json.loads(capsys.readouterr().out)
        assert body["window"]["until"] == "2026-01-01T00:00:00Z"

        assert main(["audit", "--url", server.url, "--client-key", "nope"]) == 2
        assert "404: no app with client_key 'nope'" in capsys.readouterr().err
        assert main(["audit", "--url", server.url, "--client-key", ACME, "--since", "x"]) == 2
        assert "400: since: not an ISO 8601 instant" in capsys.readouterr().err


@pytest.mark.server
def test_the_command_can_fail_on_warnings(
    stage: Callable[..., Stage], capsys: pytest.CaptureFixture[str]
) -> None:
    s = stage()
    Driver(s, ACME).login(ANA, redirect_uri="http://localhost:3000/callback/")
    with s.sandbox.serve() as server:
        argv = ["audit", "--url", server.url, "--client-key", ACME]
        assert main(argv) == 0
        assert main([*argv, "--fail-on", "warn"]) == 1
    capsys.readouterr()


def test_the_command_says_when_the_sandbox_is_unreachable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.test_cli import free_port

    url = f"http://127.0.0.1:{free_port()}"
    assert main(["audit", "--url", url, "--client-key", ACME]) == 2
    assert f"cannot reach {url}" in capsys.readouterr().err
