"""`GET /_sandbox/journal/export`: a run becomes a pytest file that replays it against a fresh
sandbox. The exported files are run for real, in one pytest subprocess for the whole module."""

from __future__ import annotations

import ast
import base64
import json
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mock_server import Clock, Sandbox
from mock_server.state import ServerOptions

JSON = {"Content-Type": "application/json"}

T0 = datetime(2026, 1, 1, tzinfo=UTC)
AUDITED, AUDITED_SECRET = "awacmescheduler01", "acmeSchedulerSecret0000000000001"
UNAUDITED, UNAUDITED_SECRET = "awindieposter0001", "indiePosterSecret000000000000001"
REDIRECT = "http://127.0.0.1:3000/callback/"
SCOPES = ["user.info.basic", "video.publish", "video.upload"]
CREATOR_INFO = "/v2/post/publish/creator_info/query/"
STATUS_FETCH = "/v2/post/publish/status/fetch/"
VIDEO = bytes(range(256)) * 8  # 2 KiB: goes up whole, and fails the media checks


def whole(size: int) -> dict[str, Any]:
    """ref 10.1: a video under 5 MB goes up in one chunk."""
    return {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": size,
        "total_chunk_count": 1,
    }


class Run:
    """A client session against one in-process sandbox on a frozen clock."""

    def __init__(self, scenario: str | Path = "default", **options: Any) -> None:
        self.sandbox = Sandbox(
            scenario,
            seed=5,
            clock=Clock.frozen_at(T0),
            options=ServerOptions(**options) if options else None,
        )
        self.http = self.sandbox.client()

    def close(self) -> None:
        self.http.close()
        self.sandbox.close()

    def sign_in(self, client_key: str, secret: str, username: str, scopes: list[str]) -> str:
        """Consent through the control API, then the code exchange (and a replay of it,
        which TikTok refuses): the access token."""
        body = {"client_key": client_key, "username": username, "scopes": scopes}
        code = self.http.post("/_sandbox/authorize", json=body).json()["code"]
        form = {
            "client_key": client_key,
            "client_secret": secret,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT,
        }
        token = self.http.post("/v2/oauth/token/", data=form)
        assert token.status_code == 200, token.text
        reused = self.http.post("/v2/oauth/token/", data=form)
        assert reused.json()["error"] == "invalid_grant"
        return str(token.json()["access_token"])

    def call(self, path: str, token: str, body: Any = None) -> httpx.Response:
        return self.http.post(path, headers={"Authorization": f"Bearer {token}"}, json=body)

    def advance(self, seconds: float) -> None:
        assert self.http.post("/_sandbox/clock", json={"advance_seconds": seconds}).is_success

    def export(self, client_key: str | None = None) -> str:
        params = {"client_key": client_key} if client_key else {}
        response = self.http.get("/_sandbox/journal/export", params=params)
        assert response.status_code == 200, response.text
        return response.text


@dataclass
class Recorded:
    """The realistic run: its exports and the tokens of its two apps."""

    everything: str
    audited_only: str
    audited_token: str
    unaudited_token: str


def realistic_run() -> Recorded:
    run = Run()
    try:
        ana = run.sign_in(AUDITED, AUDITED_SECRET, "ana_makes", SCOPES)
        run.advance(30)
        assert run.call(CREATOR_INFO, ana).status_code == 200
        fault = {"endpoint": "creator_info", "nth": 1, "status": 503}
        assert run.http.post("/_sandbox/faults", json=fault).status_code == 201
        assert run.call(CREATOR_INFO, ana).status_code == 503
        source = whole(len(VIDEO))
        init = run.call("/v2/post/publish/inbox/video/init/", ana, {"source_info": source})
        data = init.json()["data"]
        put = run.http.put(
            data["upload_url"],
            content=VIDEO,
            headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-2047/{len(VIDEO)}"},
        )
        assert put.status_code == 201, put.text
        run.advance(60)
        status = run.call(STATUS_FETCH, ana, {"publish_id": data["publish_id"]})
        assert status.json()["data"]["status"] == "FAILED"
        unknown = run.call(STATUS_FETCH, ana, {"publish_id": "v_inbox_file~v2-1.1"})
        assert unknown.status_code == 400
        ben = run.sign_in(UNAUDITED, UNAUDITED_SECRET, "ben_private", SCOPES)
        assert run.call(CREATOR_INFO, ben).status_code == 200
        headers = {"Authorization": f"Bearer {ana}"}
        no_fields = run.http.get("/v2/user/info/", headers=headers)
        assert no_fields.status_code == 400
        cut = {"endpoint": "user_info", "action": "truncate_body", "times": 1}
        assert run.http.post("/_sandbox/faults", json=cut).status_code == 201
        short = run.http.get("/v2/user/info/", params={"fields": "open_id"}, headers=headers)
        assert len(short.content) < int(short.headers["content-length"])
        return Recorded(run.export(), run.export(AUDITED), ana, ben)
    finally:
        run.close()


def scenario_file(tmp_path: Path, name: str = "lab", file_name: str = "lab.yaml") -> Path:
    """The default scenario under another name, with a seeded flaky user_info."""
    document = yaml.safe_load((resources.files("scenarios") / "default.yaml").read_text("utf-8"))
    document["name"] = name
    document["faults"] = [{"endpoint": "user_info", "probability": 0.5, "status": 503}]
    path = tmp_path / file_name
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), "utf-8")
    return path


def flaky_run(path: Path) -> str:
    run = Run(path)
    try:
        ana = run.sign_in(AUDITED, AUDITED_SECRET, "ana_makes", ["user.info.basic"])
        headers = {"Authorization": f"Bearer {ana}"}
        statuses = [
            run.http.get("/v2/user/info/", params={"fields": "open_id"}, headers=headers)
            for _ in range(8)
        ]
        assert {s.status_code for s in statuses} == {200, 503}
        return run.export()
    finally:
        run.close()


# -- reading and editing an exported file -----------------------------------------------------


def steps_of(text: str) -> list[Any]:
    """The STEPS of an exported module (executed, not run)."""
    namespace: dict[str, Any] = {}
    exec(compile(text, "exported", "exec"), namespace)
    return list(namespace["STEPS"])


def step_number(text: str, test: Callable[[Any], bool], occurrence: int = 1) -> int:
    """The 1-based number of the `occurrence`th step passing `test`, as failures name it."""
    numbers = [n for n, step in enumerate(steps_of(text), 1) if test(step)]
    return numbers[occurrence - 1]


def to(path: str, token: str | None = None) -> Callable[[Any], bool]:
    def test(step: Any) -> bool:
        mine = token is None or step.headers.get("authorization") == f"Bearer {token}"
        return bool(step.url.startswith(path) and mine)

    return test


def tamper(text: str, number: int, edit: Callable[[list[Any]], None]) -> str:
    """Change the recorded fields (at, method, url, headers, body, status, response,
    response_headers, checked) of step `number`, as if the run had answered otherwise."""
    lines = text.splitlines(keepends=True)
    at = [i for i, line in enumerate(lines) if line.startswith("    Step(")][number - 1]
    fields = list(ast.literal_eval(lines[at].strip().removeprefix("Step").removesuffix(",")))
    edit(fields)
    lines[at] = "    Step(" + ", ".join(repr(f) for f in fields) + "),\n"
    return "".join(lines)


def set_status(status: int) -> Callable[[list[Any]], None]:
    def edit(fields: list[Any]) -> None:
        fields[5] = status

    return edit


def set_json(change: Callable[[dict[str, Any]], None]) -> Callable[[list[Any]], None]:
    def edit(fields: list[Any]) -> None:
        body = json.loads(base64.b64decode(fields[6]))
        change(body)
        fields[6] = base64.b64encode(json.dumps(body).encode()).decode()

    return edit


# -- running exported files -------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    passed: bool
    failure: str


def run_pytest(folder: Path) -> dict[str, Outcome]:
    """Run every file in `folder` in one pytest subprocess; the outcome per module."""
    report = folder / "report.xml"
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml", report],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert report.is_file(), completed.stdout + completed.stderr
    outcomes = {}
    for case in ElementTree.parse(report).iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        text = "" if problem is None else (problem.get("message", "") + (problem.text or ""))
        outcomes[case.get("classname", "")] = Outcome(problem is None, text)
    return outcomes


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return realistic_run()


@pytest.fixture(scope="module")
def from_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    return flaky_run(scenario_file(tmp_path_factory.mktemp("scenario")))


@pytest.fixture(scope="module")
def replayed(
    recorded: Recorded, from_file: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Outcome]:
    """Each exported (or edited) file by module name, and how its run went."""
    everything = recorded.everything
    first_info = step_number(everything, to(CREATOR_INFO))
    fetched = step_number(everything, to(STATUS_FETCH))
    theirs = step_number(recorded.audited_only, to(CREATOR_INFO, recorded.unaudited_token))
    files = {
        "test_as_recorded": everything,
        "test_status_changed": tamper(everything, first_info, set_status(201)),
        "test_body_changed": tamper(
            everything,
            fetched,
            set_json(lambda body: body["data"].update(fail_reason="file_size_check_failed")),
        ),
        "test_other_app_changed": tamper(
            recorded.audited_only,
            theirs,
            set_json(lambda body: body["data"].update(creator_nickname="Someone else")),
        ),
        "test_from_scenario_file": from_file,
    }
    assert len(set(files.values())) == len(files)  # every edit changed something
    folder = tmp_path_factory.mktemp("replays")
    for name, text in files.items():
        (folder / f"{name}.py").write_text(text, encoding="utf-8")
    return run_pytest(folder)


# -- replaying for real -----------------------------------------------------------------------


def test_an_exported_run_replays_and_passes(replayed: dict[str, Outcome]) -> None:
    assert replayed["test_as_recorded"] == Outcome(True, "")


def test_a_changed_status_fails_naming_the_step(
    recorded: Recorded, replayed: dict[str, Outcome]
) -> None:
    outcome = replayed["test_status_changed"]
    number = step_number(recorded.everything, to(CREATOR_INFO))
    assert not outcome.passed
    assert f"step {number}: POST {CREATOR_INFO}" in outcome.failure
    assert "assert 200 == 201" in outcome.failure


def test_a_changed_body_fails_naming_the_step(
    recorded: Recorded, replayed: dict[str, Outcome]
) -> None:
    outcome = replayed["test_body_changed"]
    number = step_number(recorded.everything, to(STATUS_FETCH))
    assert not outcome.passed
    assert f"step {number}: POST {STATUS_FETCH}" in outcome.failure
    assert "file_format_check_failed" in outcome.failure  # what the sandbox said this time


def test_an_app_filtered_export_ignores_other_apps_answers(replayed: dict[str, Outcome]) -> None:
    assert replayed["test_other_app_changed"] == Outcome(True, "")


def test_a_scenario_file_is_embedded_and_replays(
    from_file: str, replayed: dict[str, Outcome]
) -> None:
    assert "SCENARIO_YAML = " in from_file
    assert "SCENARIO = " not in from_file
    assert "probability: 0.5" in from_file  # its faults come along
    assert replayed["test_from_scenario_file"] == Outcome(True, "")


# -- what an export contains ------------------------------------------------------------------


def test_every_request_is_replayed_and_tiktok_answers_are_checked(recorded: Recorded) -> None:
    steps = steps_of(recorded.everything)
    assert len(steps) == 19
    assert [s.url for s in steps if not s.checked] == [
        "/_sandbox/authorize",
        "/_sandbox/clock",
        "/_sandbox/faults",
        "/_sandbox/clock",
        "/_sandbox/authorize",
        "/_sandbox/faults",
    ]
    assert [s.status for s in steps if s.url.startswith(CREATOR_INFO)] == [200, 503, 200]
    [put] = [s for s in steps if s.method == "PUT"]
    assert base64.b64decode(put.body) == VIDEO
    assert put.response_headers == {"content-range": f"bytes 0-2047/{len(VIDEO)}"}


def test_an_app_filtered_export_checks_only_that_app(recorded: Recorded) -> None:
    everything, filtered = steps_of(recorded.everything), steps_of(recorded.audited_only)
    assert [s.url for s in filtered] == [s.url for s in everything]  # ids depend on them all
    ben = f"Bearer {recorded.unaudited_token}"
    checked = [s for s in filtered if s.checked]
    assert checked and all(s.headers.get("authorization") != ben for s in checked)
    assert any(s.headers.get("authorization") == ben for s in filtered if not s.checked)
    assert "checks the answers to app awacmescheduler01" in recorded.audited_only


def test_the_same_run_exports_the_same_file(recorded: Recorded) -> None:
    assert realistic_run().everything == recorded.everything


def test_a_built_in_scenario_is_named_not_embedded() -> None:
    run = Run()
    try:
        text = run.export()
    finally:
        run.close()
    assert "SCENARIO = 'default'" in text
    assert "SCENARIO_YAML" not in text
    assert "SEED = 5" in text


def test_a_scenario_file_named_like_a_built_in_is_embedded(tmp_path: Path) -> None:
    run = Run(scenario_file(tmp_path, name="mine", file_name="default.yaml"))
    try:
        text = run.export()
    finally:
        run.close()
    assert "SCENARIO_YAML = " in text


def test_the_download_is_named_after_the_scenario_and_app() -> None:
    run = Run()
    try:
        everything = run.http.get("/_sandbox/journal/export")
        one_app = run.http.get("/_sandbox/journal/export", params={"client_key": AUDITED})
        unknown = run.http.get("/_sandbox/journal/export", params={"client_key": "awnobody"})
    finally:
        run.close()
    assert everything.headers["content-type"].startswith("text/x-python")
    assert everything.headers["content-disposition"] == (
        'attachment; filename="test_replay_default_all.py"'
    )
    assert one_app.headers["content-disposition"] == (
        f'attachment; filename="test_replay_default_{AUDITED}.py"'
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")


def test_any_scenario_name_can_be_exported(tmp_path: Path) -> None:
    run = Run(scenario_file(tmp_path, name="café 名"))
    try:
        response = run.http.get("/_sandbox/journal/export")
    finally:
        run.close()
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].isascii()


# -- what cannot be replayed ------------------------------------------------------------------


def assert_not_replayable(response: httpx.Response, *words: str) -> None:
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "not_replayable"
    for word in words:
        assert word in error["message"]


def test_an_overflowed_journal_is_not_replayable() -> None:
    run = Run(journal_capacity=5)
    try:
        for _ in range(6):
            run.advance(1)
        response = run.http.get("/_sandbox/journal/export")
        assert_not_replayable(response, "last 5 entries", "journal_capacity")
        run.http.post("/_sandbox/reset")  # a fresh start exports again
        assert run.http.get("/_sandbox/journal/export").status_code == 200
    finally:
        run.close()


def test_a_full_journal_that_lost_nothing_is_replayable() -> None:
    run = Run(journal_capacity=5)
    try:
        for _ in range(5):
            run.advance(1)
        assert run.http.get("/_sandbox/journal/export").status_code == 200
    finally:
        run.close()


def test_a_request_body_over_16_kib_is_not_replayable() -> None:
    run = Run()
    try:
        ana = run.sign_in(AUDITED, AUDITED_SECRET, "ana_makes", ["video.upload"])
        size = 16 * 1024 + 1
        source = whole(size)
        init = run.call("/v2/post/publish/inbox/video/init/", ana, {"source_info": source})
        run.http.put(
            init.json()["data"]["upload_url"],
            content=bytes(size),
            headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{size - 1}/{size}"},
        )
        response = run.http.get("/_sandbox/journal/export")
        assert_not_replayable(response, "request #5 (PUT /upload/)", "16 KiB")
    finally:
        run.close()


def test_a_body_of_exactly_16_kib_is_replayable() -> None:
    run = Run()
    try:
        empty = len(json.dumps({"status": 500, "message": ""}))
        body = json.dumps({"status": 500, "message": "x" * (16 * 1024 - empty)})
        assert run.http.post("/_sandbox/faults", content=body, headers=JSON).status_code == 201
        [step] = steps_of(run.export())
        assert len(base64.b64decode(step.body)) == 16 * 1024
    finally:
        run.close()


# -- a run on a real server -------------------------------------------------------------------


@pytest.mark.server
def test_a_run_on_a_real_server_replays_with_its_base_url(tmp_path: Path) -> None:
    run = Run()
    try:
        with (
            run.sandbox.serve() as server,
            httpx.Client(base_url=server.url, timeout=10) as remote,
        ):
            run.http.close()
            run.http = remote  # the same calls, over the socket
            ana = run.sign_in(AUDITED, AUDITED_SECRET, "ana_makes", SCOPES)
            init = run.call("/v2/post/publish/inbox/video/init/", ana, {"source_info": whole(2)})
            upload_url = init.json()["data"]["upload_url"]
            assert upload_url.startswith(f"{server.url}/upload/")
            put = remote.put(
                upload_url,
                content=b"hi",
                headers={"Content-Type": "video/mp4", "Content-Range": "bytes 0-1/2"},
            )
            assert put.status_code == 201
            text = run.export()
    finally:
        run.close()
    assert f"BASE_URL = '{server.url}'" in text
    namespace: dict[str, Any] = {}
    exec(compile(text, "exported", "exec"), namespace)
    namespace["test_replay"](tmp_path)  # the exported test, in-process: raises on a difference


def test_an_export_after_the_journal_was_emptied_without_a_reset_is_refused() -> None:
    run = Run()
    try:
        ana = run.sign_in(AUDITED, AUDITED_SECRET, "ana_makes", SCOPES)
        assert run.http.delete("/_sandbox/journal").status_code == 200
        assert run.call(CREATOR_INFO, ana).status_code == 200  # its token is not in the journal
        response = run.http.get("/_sandbox/journal/export")
    finally:
        run.close()
    assert_not_replayable(response)
