"""Injected faults through HTTP: each action as a client meets it, in-process and (for broken
connections) on a real server, armed from a scenario, the control API or the Python API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mock_server import Clock, Sandbox, ScenarioError
from tests.mock_server.api.conftest import assert_envelope_error, assert_oauth_error

T0 = datetime(2026, 1, 1, tzinfo=UTC)
AUDITED = "awacmescheduler01"
AUDITED_SECRET = "acmeSchedulerSecret0000000000001"
UNAUDITED = "awindieposter0001"
SCOPES = ["user.info.basic", "video.publish", "video.upload"]
CREATOR_INFO = "/v2/post/publish/creator_info/query/"
VIDEO_INIT = "/v2/post/publish/video/init/"
USER_INFO = "/v2/user/info/"
TOKEN = "/v2/oauth/token/"
REVOKE = "/v2/oauth/revoke/"
MiB = 1024 * 1024
CHUNK = 5 * MiB  # ref 10.1: the smallest chunk_size
TOTAL = 3 * CHUNK
INIT = {
    "post_info": {"privacy_level": "SELF_ONLY"},
    "source_info": {
        "source": "FILE_UPLOAD",
        "video_size": TOTAL,
        "chunk_size": CHUNK,
        "total_chunk_count": 3,
    },
}


class Lab:
    """The default scenario on a frozen clock, ana_makes signed in to the audited app."""

    def __init__(self, seed: int = 3, scenario: str | Path = "default") -> None:
        self.sandbox = Sandbox(scenario, seed=seed, clock=Clock.frozen_at(T0))
        self.http = self.sandbox.client()
        self.token = self.access_token(AUDITED, "ana_makes")

    def access_token(self, client_key: str, username: str) -> str:
        return str(self.sandbox.issue_tokens(client_key, username, SCOPES)["access_token"])

    def close(self) -> None:
        self.http.close()
        self.sandbox.close()

    def post(self, path: str, body: Any = None, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return self.http.post(path, headers=headers, json=body)

    def creator_info(self, token: str | None = None) -> httpx.Response:
        return self.post(CREATOR_INFO, token=token)

    def user_info(self) -> httpx.Response:
        return self.http.get(
            USER_INFO,
            params={"fields": "open_id"},
            headers={"Authorization": f"Bearer {self.token}"},
        )

    def client_token(self) -> httpx.Response:
        form = {
            "client_key": AUDITED,
            "client_secret": AUDITED_SECRET,
            "grant_type": "client_credentials",
        }
        return self.http.post(TOKEN, data=form)

    def start_upload(self) -> str:
        """A FILE_UPLOAD publish in three 5 MiB chunks; its upload_url."""
        response = self.post(VIDEO_INIT, INIT)
        assert response.status_code == 200, response.text
        return str(response.json()["data"]["upload_url"])

    def put(self, url: str, index: int) -> httpx.Response:
        first = index * CHUNK
        last = first + CHUNK - 1
        headers = {"Content-Type": "video/mp4", "Content-Range": f"bytes {first}-{last}/{TOTAL}"}
        return self.http.put(url, content=bytes(CHUNK), headers=headers)

    def faults(self) -> list[dict[str, Any]]:
        response = self.http.get("/_sandbox/faults")
        assert response.status_code == 200, response.text
        faults: list[dict[str, Any]] = response.json()["faults"]
        return faults

    def journal(self, path: str) -> list[dict[str, Any]]:
        """Oldest first."""
        entries = self.http.get("/_sandbox/journal", params={"path": path}).json()["entries"]
        return list(reversed(entries))


@pytest.fixture
def lab() -> Iterator[Lab]:
    made = Lab()
    yield made
    made.close()


def progress(received: int) -> str:
    """ref 10.3: `bytes 0-{last byte received}/{total}`; `bytes */{total}` before any byte."""
    return f"bytes */{TOTAL}" if received == 0 else f"bytes 0-{received - 1}/{TOTAL}"


def assert_upload_error(response: httpx.Response, status: int, received: int) -> dict[str, Any]:
    """A refused PUT: TikTok's error object, and the progress so far in Content-Range."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "invalid_file_upload"
    assert response.headers["x-tt-logid"] == body["error"]["log_id"]
    assert response.headers["content-range"] == progress(received)
    return body


# -- error: each family's shape ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "internal_error"),
        (503, "internal_error"),
        (429, "rate_limit_exceeded"),
        (401, "access_token_invalid"),
        (400, "invalid_params"),  # the posting endpoints' bad-input code
    ],
)
def test_an_error_fault_answers_in_the_envelope(lab: Lab, status: int, code: str) -> None:
    lab.http.post("/_sandbox/faults", json={"endpoint": "creator_info", "status": status})
    assert_envelope_error(lab.creator_info(), code, status)


def test_an_error_fault_on_user_info_uses_that_family_s_bad_input_code(lab: Lab) -> None:
    lab.sandbox.add_fault(endpoint="user_info", status=400)
    assert_envelope_error(lab.user_info(), "invalid_params", 400)


def test_an_error_fault_carries_the_given_code_and_message(lab: Lab) -> None:
    lab.sandbox.add_fault(
        endpoint="video_init",
        status=403,
        error_code="spam_risk_too_many_posts",
        message="Come back tomorrow.",
    )
    body = assert_envelope_error(lab.post(VIDEO_INIT, {}), "spam_risk_too_many_posts", 403)
    assert body["error"]["message"] == "Come back tomorrow."


def test_without_a_message_the_code_s_own_message_is_used(lab: Lab) -> None:
    lab.sandbox.add_fault(endpoint="creator_info", status=500)
    body = assert_envelope_error(lab.creator_info(), "internal_error", 500)
    assert body["error"]["message"] == "Something went wrong. Please try again later."


def test_an_oauth_code_on_an_envelope_endpoint_falls_back_to_the_status_s_code(lab: Lab) -> None:
    lab.sandbox.add_fault(endpoint="creator_info", status=503, error_code="server_error")
    assert_envelope_error(lab.creator_info(), "internal_error", 503)


def test_the_fault_answers_before_the_request_is_acted_on(lab: Lab) -> None:
    """An error or a broken answer stands in for the server's work: no publish is made."""
    lab.sandbox.add_fault(endpoint="video_init", status=500, times=1)
    assert_envelope_error(lab.post(VIDEO_INIT, INIT), "internal_error", 500)
    lab.sandbox.add_fault(endpoint="video_init", action="truncate_body", times=1)
    lab.post(VIDEO_INIT, INIT)
    assert lab.http.get("/_sandbox/publishes").json()["publishes"] == []
    lab.start_upload()
    assert len(lab.http.get("/_sandbox/publishes").json()["publishes"]) == 1


def test_nth_fails_only_the_nth_request(lab: Lab) -> None:
    lab.http.post("/_sandbox/faults", json={"endpoint": "creator_info", "nth": 2, "status": 503})
    assert [lab.creator_info().status_code for _ in range(4)] == [200, 503, 200, 200]


def test_a_fault_counts_only_authenticated_requests(lab: Lab) -> None:
    """Token, scope and rate limit are checked first: a bad token is not a matching request."""
    lab.sandbox.add_fault(endpoint="creator_info", nth=1, status=503)
    assert_envelope_error(lab.creator_info(token="act.nope"), "access_token_invalid", 401)
    assert lab.creator_info().status_code == 503


@pytest.mark.parametrize(
    ("rule", "error", "status"),
    [
        ({"status": 500}, "server_error", 500),
        ({"status": 503}, "temporarily_unavailable", 503),
        ({"status": 400}, "invalid_request", 400),
        ({"status": 401, "error_code": "invalid_client"}, "invalid_client", 401),
        ({"status": 500, "error_code": "internal_error"}, "server_error", 500),
    ],
)
def test_an_error_fault_on_the_token_endpoint_is_a_flat_oauth_error(
    lab: Lab, rule: dict[str, Any], error: str, status: int
) -> None:
    lab.sandbox.add_fault(endpoint="token", **rule)
    body = assert_oauth_error(lab.client_token(), error, status)
    assert body["error_description"] == "Injected fault."


def test_an_error_fault_on_revoke_keeps_the_token_alive(lab: Lab) -> None:
    lab.sandbox.add_fault(endpoint="revoke", status=503, message="Try later.", times=1)
    form = {"client_key": AUDITED, "client_secret": AUDITED_SECRET, "token": lab.token}
    body = assert_oauth_error(lab.http.post(REVOKE, data=form), "temporarily_unavailable", 503)
    assert body["error_description"] == "Try later."
    assert lab.creator_info().status_code == 200
    assert lab.http.post(REVOKE, data=form).status_code == 200


def test_an_oauth_fault_matches_the_app_of_the_form(lab: Lab) -> None:
    lab.sandbox.add_fault(endpoint="token", client_key=UNAUDITED, status=500)
    assert lab.client_token().status_code == 200


# -- matching through HTTP --------------------------------------------------------------------


def test_a_fault_matches_only_its_app(lab: Lab) -> None:
    other = lab.access_token(UNAUDITED, "ben_private")
    lab.sandbox.add_fault(client_key=UNAUDITED, status=503)
    assert lab.creator_info().status_code == 200
    assert lab.creator_info(token=other).status_code == 503


def test_a_fault_matches_only_its_creator(lab: Lab) -> None:
    ben = lab.access_token(AUDITED, "ben_private")
    lab.sandbox.add_fault(creator="ben_private", status=429)
    assert lab.creator_info().status_code == 200
    assert_envelope_error(lab.creator_info(token=ben), "rate_limit_exceeded", 429)


def test_a_fault_matches_only_its_endpoint(lab: Lab) -> None:
    lab.sandbox.add_fault(endpoint="user_info", status=500)
    assert lab.creator_info().status_code == 200
    assert lab.user_info().status_code == 500


# -- uploads ----------------------------------------------------------------------------------


def test_an_error_fault_on_a_put_is_the_upload_error_with_the_progress(lab: Lab) -> None:
    url = lab.start_upload()
    assert lab.put(url, 0).status_code == 206
    lab.sandbox.add_fault(endpoint="upload", status=500, message="Storage hiccup.", times=1)
    body = assert_upload_error(lab.put(url, 1), 500, CHUNK)
    assert body["error"]["message"] == "Storage hiccup."
    assert lab.put(url, 1).status_code == 206


def test_a_rejected_chunk_leaves_the_progress_and_its_retry_succeeds(lab: Lab) -> None:
    url = lab.start_upload()
    assert lab.put(url, 0).status_code == 206
    lab.sandbox.add_fault(action="chunk_5xx", times=1)
    assert_upload_error(lab.put(url, 1), 503, CHUNK)
    retried = lab.put(url, 1)
    assert retried.status_code == 206
    assert retried.headers["content-range"] == progress(2 * CHUNK)
    assert lab.put(url, 2).status_code == 201


def test_a_chunk_rejection_can_be_any_5xx(lab: Lab) -> None:
    url = lab.start_upload()
    lab.sandbox.add_fault(action="chunk_5xx", status=502, times=1)
    assert_upload_error(lab.put(url, 0), 502, 0)


def test_lost_progress_is_a_416_with_the_earlier_progress_and_resumes(lab: Lab) -> None:
    url = lab.start_upload()
    assert [lab.put(url, i).status_code for i in (0, 1)] == [206, 206]
    lab.sandbox.add_fault(action="lose_progress", times=1)
    lost = assert_upload_error(lab.put(url, 2), 416, CHUNK)
    assert f"starts at byte {CHUNK}" in lost["error"]["message"]
    # The client resumes from the progress the 416 gave.
    assert lab.put(url, 1).headers["content-range"] == progress(2 * CHUNK)
    finished = lab.put(url, 2)
    assert finished.status_code == 201
    assert finished.headers["content-range"] == progress(TOTAL)


def test_an_early_expiry_is_a_403_from_then_on(lab: Lab) -> None:
    url = lab.start_upload()
    assert lab.put(url, 0).status_code == 206
    lab.sandbox.add_fault(action="expire_upload_url", times=1)
    assert_upload_error(lab.put(url, 1), 403, CHUNK)
    assert_upload_error(lab.put(url, 1), 403, CHUNK)  # the rule is spent; the URL stays dead


def test_upload_faults_are_counted_on_puts_only(lab: Lab) -> None:
    lab.sandbox.add_fault(action="chunk_5xx", nth=1)
    assert lab.creator_info().status_code == 200
    url = lab.start_upload()
    assert lab.put(url, 0).status_code == 503


# -- latency ----------------------------------------------------------------------------------


def test_latency_delays_the_answer(lab: Lab) -> None:
    lab.sandbox.add_fault(endpoint="creator_info", latency_ms=60, times=1)
    started = time.monotonic()
    response = lab.creator_info()
    assert time.monotonic() - started >= 0.06
    assert response.status_code == 200


def test_latency_then_an_error(lab: Lab) -> None:
    lab.sandbox.add_fault(endpoint="creator_info", status=503, latency={"ms": 40}, times=1)
    started = time.monotonic()
    response = lab.creator_info()
    assert time.monotonic() - started >= 0.04
    assert response.status_code == 503


def test_latencies_of_rules_firing_together_add_up(lab: Lab) -> None:
    lab.sandbox.add_fault(endpoint="user_info", latency_ms=30, times=1)
    lab.sandbox.add_fault(latency_ms=30, times=1)
    started = time.monotonic()
    assert lab.user_info().status_code == 200
    assert time.monotonic() - started >= 0.06


def test_a_drawn_latency_delays_then_answers_normally(lab: Lab) -> None:
    lab.sandbox.add_fault(
        endpoint="creator_info",
        latency={"distribution": "uniform", "min_ms": 20, "max_ms": 30},
        times=1,
    )
    started = time.monotonic()
    response = lab.creator_info()
    assert time.monotonic() - started >= 0.02
    assert response.status_code == 200


def test_latency_does_not_move_the_sandbox_clock(lab: Lab) -> None:
    lab.sandbox.add_fault(latency_ms=20, times=1)
    lab.creator_info()
    assert lab.sandbox.clock.now() == T0.timestamp()


# -- broken answers ---------------------------------------------------------------------------


def test_in_process_a_truncated_body_is_short_of_its_content_length(lab: Lab) -> None:
    lab.sandbox.add_fault(endpoint="user_info", action="truncate_body", times=1)
    response = lab.user_info()
    declared = int(response.headers["content-length"])
    assert 0 < len(response.content) < declared
    with pytest.raises(ValueError):
        response.json()
    assert lab.user_info().json()["error"]["code"] == "ok"


def test_in_process_a_dropped_connection_is_an_empty_body(lab: Lab) -> None:
    lab.sandbox.add_fault(endpoint="token", action="drop_connection", times=1)
    response = lab.client_token()
    assert response.content == b""
    assert int(response.headers["content-length"]) > 0
    assert "access_token" in lab.client_token().json()


@pytest.mark.server
def test_on_a_real_server_broken_answers_are_protocol_errors(lab: Lab) -> None:
    with lab.sandbox.serve() as server, httpx.Client(base_url=server.url, timeout=2) as remote:
        headers = {"Authorization": f"Bearer {lab.token}"}
        url = lab.start_upload().replace("http://127.0.0.1:8080", server.url)
        lab.sandbox.add_fault(endpoint="user_info", action="truncate_body", times=1)
        with pytest.raises(httpx.RemoteProtocolError):
            remote.get(USER_INFO, params={"fields": "open_id"}, headers=headers)
        lab.sandbox.add_fault(endpoint="creator_info", action="drop_connection", times=1)
        with pytest.raises(httpx.RemoteProtocolError):
            remote.post(CREATOR_INFO, headers=headers)
        lab.sandbox.add_fault(endpoint="upload", action="drop_connection", times=1)
        chunk = {"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{CHUNK - 1}/{TOTAL}"}
        with pytest.raises(httpx.RemoteProtocolError):
            remote.put(url, content=bytes(CHUNK), headers=chunk)
        # The server keeps serving, and the dropped chunk was not kept.
        assert remote.post(CREATOR_INFO, headers=headers).status_code == 200
        assert remote.put(url, content=bytes(CHUNK), headers=chunk).status_code == 206


# -- what the sandbox records -----------------------------------------------------------------


def test_fault_hits_are_in_the_journal(lab: Lab) -> None:
    slow = lab.sandbox.add_fault(endpoint="creator_info", latency_ms=1, nth=2)
    fail = lab.sandbox.add_fault(endpoint="creator_info", status=503, nth=2)
    for _ in range(3):
        lab.creator_info()
    entries = lab.journal(CREATOR_INFO)
    assert [(e["status"], e["fault"]) for e in entries] == [
        (200, None),
        (503, f"{slow},{fail}"),
        (200, None),
    ]
    assert entries[1]["rule"] == f"fault:{fail}"
    assert entries[1]["error_code"] == "internal_error"


def test_upload_fault_hits_are_in_the_journal(lab: Lab) -> None:
    url = lab.start_upload()
    lab.put(url, 0)
    lost = lab.sandbox.add_fault(action="lose_progress", times=1)
    lab.put(url, 1)
    last = lab.journal("/upload/")[-1]
    assert (last["status"], last["fault"], last["rule"]) == (416, lost, "range_not_next")


def test_the_fault_list_counts_seen_and_fired(lab: Lab) -> None:
    created = lab.http.post(
        "/_sandbox/faults",
        json={"endpoint": "creator_info", "probability": 0.5, "status": 503, "times": 3},
    )
    assert created.status_code == 201
    rule = created.json()
    assert (rule["seen"], rule["fired"], rule["times"]) == (0, 0, 3)
    statuses = [lab.creator_info().status_code for _ in range(30)]
    lab.user_info()  # another endpoint: not seen
    [listed] = lab.faults()
    assert listed["fired"] == statuses.count(503) == 3
    third_hit = [i for i, status in enumerate(statuses) if status == 503][2]
    assert listed["seen"] == third_hit + 1  # spent after its third hit: no longer counting


# -- scenarios --------------------------------------------------------------------------------


def default_scenario_with(tmp_path: Path, faults: list[dict[str, Any]]) -> Path:
    text = (resources.files("scenarios") / "default.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    document.update(name="flaky", faults=faults)
    path = tmp_path / "flaky.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def test_scenario_faults_are_armed_at_load_and_re_armed_by_reset(tmp_path: Path) -> None:
    path = default_scenario_with(
        tmp_path,
        [
            {"endpoint": "creator_info", "nth": 1, "status": 503},
            {"endpoint": "user_info", "creator": "ben_private", "status": 429},
        ],
    )
    lab = Lab(scenario=path)
    try:
        listed = lab.faults()
        assert [(f["id"], f["endpoint"], f["creator"]) for f in listed] == [
            ("fault-1", "creator_info", None),
            ("fault-2", "user_info", "ben_private"),
        ]
        assert [lab.creator_info().status_code for _ in range(2)] == [503, 200]
        lab.sandbox.add_fault(endpoint="creator_info", status=500)  # runtime: gone on reset
        assert lab.http.post("/_sandbox/reset").status_code == 200
        assert [f["fired"] for f in lab.faults()] == [0, 0]
        lab.token = lab.access_token(AUDITED, "ana_makes")
        assert [lab.creator_info().status_code for _ in range(2)] == [503, 200]
        assert lab.user_info().status_code == 200  # ana is not ben
    finally:
        lab.close()


def test_a_bad_scenario_fault_is_refused_naming_the_file_and_field(tmp_path: Path) -> None:
    path = default_scenario_with(tmp_path, [{"status": 500}, {"endpoint": "feed", "status": 500}])
    with pytest.raises(ScenarioError, match=r"^flaky\.yaml: faults\[1\]\.endpoint: expected"):
        Sandbox(path)


# -- determinism ------------------------------------------------------------------------------


def flaky_statuses(seed: int, count: int = 40) -> list[int]:
    lab = Lab(seed=seed)
    try:
        lab.sandbox.add_fault(endpoint="creator_info", probability=0.5, status=503)
        lab.sandbox.add_fault(endpoint="user_info", probability=0.3, status=429)
        statuses = []
        for _ in range(count):
            statuses.append(lab.creator_info().status_code)
            statuses.append(lab.user_info().status_code)
        return statuses
    finally:
        lab.close()


def test_the_same_seed_gives_the_same_faults() -> None:
    first = flaky_statuses(seed=11)
    assert {200, 503, 429} <= set(first)
    assert flaky_statuses(seed=11) == first
    assert flaky_statuses(seed=12) != first


def test_a_reset_replays_the_same_faults(lab: Lab) -> None:
    rule = {"endpoint": "creator_info", "probability": 0.5, "status": 503}

    def run() -> list[int]:
        lab.http.post("/_sandbox/faults", json=rule)
        return [lab.creator_info().status_code for _ in range(30)]

    first = run()
    lab.http.post("/_sandbox/reset")
    lab.token = lab.access_token(AUDITED, "ana_makes")
    assert run() == first


# -- control API ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"endpoint": "feed", "status": 500}, "fault.endpoint"),
        ({"status": 500, "colour": "red"}, "fault.colour"),
        ({"action": "explode"}, "fault.action"),
        ({"status": 500, "nth": 0}, "fault.nth"),
        ({"status": 500, "probability": 2}, "fault.probability"),
        ({"status": 500, "client_key": "awnobody"}, "fault.client_key"),
        ({"status": 500, "creator": "nobody"}, "fault.creator"),
        ({"action": "chunk_5xx", "status": 404}, "fault.status"),
        ({"latency": {"distribution": "uniform", "min_ms": 3}}, "fault.latency.max_ms"),
    ],
)
def test_the_control_api_refuses_a_bad_rule_naming_the_field(
    lab: Lab, body: dict[str, Any], field: str
) -> None:
    response = lab.http.post("/_sandbox/faults", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(f"{field}: expected ")
    assert lab.faults() == []


def test_the_control_api_refuses_a_body_that_is_not_an_object(lab: Lab) -> None:
    response = lab.http.post("/_sandbox/faults", json=[{"status": 500}])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_the_control_api_adds_lists_and_deletes_rules(lab: Lab) -> None:
    first = lab.http.post("/_sandbox/faults", json={"endpoint": "user_info", "status": 500})
    second = lab.http.post(
        "/_sandbox/faults", json={"creator": "ana_makes", "action": "chunk_5xx", "nth": 2}
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == {
        "id": second.json()["id"],
        "action": "chunk_5xx",
        "endpoint": "upload",
        "client_key": None,
        "creator": "ana_makes",
        "nth": 2,
        "probability": None,
        "times": 1,
        "status": 503,
        "error_code": None,
        "message": None,
        "latency": {},
        "seen": 0,
        "fired": 0,
    }
    first_id, second_id = first.json()["id"], second.json()["id"]
    assert [f["id"] for f in lab.faults()] == [first_id, second_id]

    deleted = lab.http.delete(f"/_sandbox/faults/{first_id}")
    assert deleted.status_code == 200
    assert [f["id"] for f in deleted.json()["faults"]] == [second_id]
    assert lab.user_info().status_code == 200

    missing = lab.http.delete(f"/_sandbox/faults/{first_id}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"

    cleared = lab.http.delete("/_sandbox/faults")
    assert (cleared.status_code, cleared.json()) == (200, {"faults": []})


def test_rule_ids_are_not_reused_after_a_delete(lab: Lab) -> None:
    first = lab.sandbox.add_fault(status=500)
    lab.sandbox.remove_fault(first)
    assert lab.sandbox.add_fault(status=500) != first


# -- Python API -------------------------------------------------------------------------------


def test_the_python_api_adds_removes_and_clears_rules(lab: Lab) -> None:
    failing_id = lab.sandbox.add_fault(endpoint="creator_info", status=503)
    other_id = lab.sandbox.add_fault(endpoint="user_info", status=500)
    assert lab.creator_info().status_code == 503
    lab.sandbox.remove_fault(failing_id)
    assert lab.creator_info().status_code == 200
    assert [f["id"] for f in lab.faults()] == [other_id]
    lab.sandbox.clear_faults()
    assert lab.faults() == []
    assert lab.user_info().status_code == 200


def test_the_python_api_refuses_a_bad_rule_with_a_value_error(lab: Lab) -> None:
    with pytest.raises(ValueError, match=r"^fault\.endpoint: expected one of token, "):
        lab.sandbox.add_fault(endpoint="feed", status=500)
    with pytest.raises(ValueError, match=r"^fault\.times: expected a positive integer"):
        lab.sandbox.add_fault(status=500, times=0)
    assert lab.faults() == []


def test_faults_live_in_one_sandbox_only() -> None:
    one, two = Lab(), Lab()
    try:
        one.sandbox.add_fault(status=503)
        assert one.creator_info().status_code == 503
        assert two.creator_info().status_code == 200
    finally:
        one.close()
        two.close()


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ({"action": "chunk_5xx"}, 503),
        ({"status": 500}, 500),
    ],
)
def test_an_upload_rule_firing_with_an_answering_rule_still_takes_effect(
    lab: Lab, answer: dict[str, Any], status: int
) -> None:
    url = lab.start_upload()
    assert [lab.put(url, i).status_code for i in (0, 1)] == [206, 206]
    lab.sandbox.add_fault(endpoint="upload", times=1, **answer)
    lab.sandbox.add_fault(action="lose_progress", times=1)
    assert lab.put(url, 2).status_code == status
    assert [f["fired"] for f in lab.faults()] == [1, 1]
    # The lost progress shows on the next chunk.
    assert_upload_error(lab.put(url, 2), 416, CHUNK)


@pytest.mark.server
def test_a_broken_answer_on_a_real_server_draws_no_ids() -> None:
    def second_token(served: bool) -> str:
        lab = Lab()
        try:
            lab.sandbox.add_fault(endpoint="token", action="drop_connection", times=1)
            if not served:
                lab.client_token()
                return str(lab.client_token().json()["access_token"])
            with lab.sandbox.serve() as server:
                lab.http.close()
                lab.http = httpx.Client(base_url=server.url, timeout=2)
                with pytest.raises(httpx.RemoteProtocolError):
                    lab.client_token()
                return str(lab.client_token().json()["access_token"])
        finally:
            lab.close()

    assert second_token(served=True) == second_token(served=False)
