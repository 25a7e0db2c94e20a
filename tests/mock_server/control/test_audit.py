"""`GET /_sandbox/audit` and the dashboard's audit page: the report over HTTP, the control API's
error answers for a bad query, and a page that shows every check with its evidence."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from mock_server import Clock, Sandbox

ACME = "awacmescheduler01"
SCOPES = ["user.info.basic", "video.publish", "video.upload"]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox("default", clock=Clock.frozen_at(datetime(2026, 1, 1, tzinfo=UTC))) as made:
        yield made


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with sandbox.client() as client:
        yield client


def privacy_mismatch(sandbox: Sandbox, http: httpx.Client) -> None:
    """A Direct Post with a privacy level the public creator does not have."""
    token = sandbox.issue_tokens(ACME, "ana_makes", SCOPES)["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    http.post("/v2/post/publish/creator_info/query/", headers=auth)
    http.post(
        "/v2/post/publish/video/init/",
        headers=auth,
        json={
            "post_info": {"privacy_level": "FOLLOWER_OF_CREATOR"},
            "source_info": {"source": "PULL_FROM_URL", "video_url": "https://media.acme.example/v"},
        },
    )


def test_the_report_as_json(sandbox: Sandbox, http: httpx.Client) -> None:
    privacy_mismatch(sandbox, http)
    answer = http.get("/_sandbox/audit", params={"client_key": ACME})
    assert answer.status_code == 200
    body = answer.json()
    assert body["client_key"] == ACME and body["ready"] is False
    (failed,) = [c for c in body["checks"] if c["verdict"] == "fail"]
    assert failed["id"] == "privacy_level_in_options"
    evidence = failed["evidence"][0]
    assert set(evidence) == {
        "seq",
        "time",
        "method",
        "path",
        "status",
        "error_code",
        "rule",
        "note",
    }
    assert (evidence["path"], evidence["status"], evidence["error_code"]) == (
        "/v2/post/publish/video/init/",
        403,
        "privacy_level_option_mismatch",
    )
    assert evidence["time"] == "2026-01-01T00:00:00Z"
    assert body == sandbox.audit(ACME).to_json()
    # Reading the report is not the app's traffic: the journal does not record it.
    assert all(e.path != "/_sandbox/audit" for e in sandbox.journal())


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({}, 400, "client_key: required"),
        ({"client_key": "nope"}, 404, "no app with client_key 'nope'"),
        ({"client_key": ACME, "since": "monday"}, 400, "since: not an ISO 8601 instant"),
        (
            {"client_key": ACME, "since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
            400,
            "until: must not be before since",
        ),
    ],
)
def test_a_bad_query_is_a_control_error(
    http: httpx.Client, params: dict[str, str], status: int, message: str
) -> None:
    answer = http.get("/_sandbox/audit", params=params)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == ("not_found" if status == 404 else "invalid_request")
    assert message in error["message"]


def test_only_loopback_host_names_get_the_report(sandbox: Sandbox) -> None:
    with sandbox.client(base_url="http://open.tiktokapis.com") as http:
        answer = http.get("/_sandbox/audit", params={"client_key": ACME})
    assert answer.status_code == 403


def test_the_page_shows_every_check_and_its_evidence(sandbox: Sandbox, http: httpx.Client) -> None:
    privacy_mismatch(sandbox, http)
    page = http.get("/_sandbox/audit.html", params={"client_key": ACME})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "Audit readiness: awacmescheduler01" in html and "Not ready" in html
    for check in sandbox.audit(ACME).checks:
        assert f"<code>{check.id}</code>" in html
    assert "<details open><summary><span class='v fail'>fail</span> <code>privacy_level" in html
    assert "POST /v2/post/publish/video/init/" in html and "privacy_level_option_mismatch" in html
    assert "Music Usage Confirmation" in html  # what the traffic cannot show
    assert "href='/_sandbox/audit?client_key=awacmescheduler01'" in html


def test_the_page_lists_the_apps_and_says_what_is_wrong(http: httpx.Client) -> None:
    index = http.get("/_sandbox/audit.html")
    assert index.status_code == 200
    assert "href='/_sandbox/audit.html?client_key=awacmescheduler01'" in index.text
    unknown = http.get("/_sandbox/audit.html", params={"client_key": "<nope>"})
    assert unknown.status_code == 404
    assert "no app with client_key &#39;&lt;nope&gt;&#39;" in unknown.text
    bad = http.get("/_sandbox/audit.html", params={"client_key": ACME, "until": "soon"})
    assert bad.status_code == 400 and "until: not an ISO 8601 instant" in bad.text


def test_the_dashboard_links_to_the_page(http: httpx.Client) -> None:
    assert "<a href='/_sandbox/audit.html'>" in http.get("/_sandbox/").text
