"""`tiktok-sandbox serve --data-dir` as a user runs it: the start-up summary says what it did,
a running server's directory can be exported, and a restart (or --fresh) does what it says."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.mock_server.lifecycle_kit import CHUNK, INBOX_INIT, content_range, plan
from tests.served import ROOT, _wait_for_url, environment

pytestmark = pytest.mark.server

APP, CREATOR = "awacmescheduler01", "ana_makes"
CREATOR_INFO = "/v2/post/publish/creator_info/query/"


@contextmanager
def serve(*args: str) -> Iterator[tuple[str, str]]:
    """A served sandbox (stopped with SIGTERM at the end): its URL and its start-up output."""
    command = [sys.executable, "-m", "mock_server", "serve", "--host", "127.0.0.1", "--port", "0"]
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [*command, *args],
            cwd=ROOT,
            env=environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            url = _wait_for_url(process, log)
            log.seek(0)
            yield url, log.read()
        finally:
            process.terminate()
            process.wait(10)


def state_line(output: str) -> str:
    found = re.search(r"^\s*state\s+(.*)$", output, re.MULTILINE)
    assert found, output
    return found[1]


def test_serve_keeps_state_says_so_and_exports_while_running(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serve("--data-dir", str(data)) as (url, output):
        assert state_line(output) == f"{data} (new)"
        with httpx.Client(base_url=url) as http:
            token = http.post(
                "/_sandbox/tokens",
                json={"client_key": APP, "username": CREATOR, "scopes": ["video.publish"]},
            ).json()["access_token"]
        # The directory of a running server can be exported: its last commit.
        exported = subprocess.run(
            [sys.executable, "-m", "mock_server", "export", "--data-dir", str(data)],
            cwd=ROOT,
            env=environment(),
            capture_output=True,
            text=True,
            check=True,
        )
        assert token in json.loads(exported.stdout)["world"]["access_tokens"]
    # Stopped by SIGTERM, it closed the directory: its log folded into the database, closed.
    assert sorted(p.name for p in data.iterdir()) == [
        "commits.lock",
        "lock",
        "spool",
        "state.sqlite3",
    ]

    with serve("--data-dir", str(data), "--fsync") as (url, output):
        assert state_line(output) == (
            f"{data} (resumed; every change waits for the disk (--fsync))"
        )
        with httpx.Client(base_url=url) as http:
            answer = http.post(CREATOR_INFO, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200, answer.text

    with serve("--data-dir", str(data), "--fresh") as (url, output):
        assert state_line(output) == f"{data} (new)"
        with httpx.Client(base_url=url) as http:
            answer = http.post(CREATOR_INFO, headers={"Authorization": f"Bearer {token}"})
            assert answer.json()["error"]["code"] == "access_token_invalid"


def test_fsync_without_a_data_directory_is_refused_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--fsync"],
        cwd=ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["tiktok-sandbox: --fsync: only with --data-dir"]


def test_an_upload_under_way_starts_again_from_its_first_chunk_after_an_import(
    tmp_path: Path,
) -> None:
    size = 3 * CHUNK

    def put(http: httpx.Client, url: str, first: int) -> int:
        last = first + CHUNK - 1
        headers = {"Content-Type": "video/mp4", "Content-Range": content_range(first, last, size)}
        return http.put(url, content=b"\0" * CHUNK, headers=headers).status_code

    with serve() as (url, _), httpx.Client(base_url=url) as http:
        token = http.post(
            "/_sandbox/tokens",
            json={"client_key": APP, "username": CREATOR, "scopes": ["video.upload"]},
        ).json()["access_token"]
        init = http.post(
            INBOX_INIT,
            headers={"Authorization": f"Bearer {token}"},
            json={"source_info": plan(size)},
        ).json()["data"]
        assert put(http, init["upload_url"], 0) == 206
        exported = subprocess.run(
            [sys.executable, "-m", "mock_server", "export", "--url", url, "-o", "snap.json"],
            cwd=tmp_path,
            env=environment(),
            capture_output=True,
            text=True,
            check=True,
        )
    assert "1 upload under way" in exported.stderr and "first chunk" in exported.stderr
    with serve("--import", str(tmp_path / "snap.json")) as (url, output):
        assert "1 upload under way starts again from the first chunk" in state_line(output)
        with httpx.Client(base_url=url) as http:
            publish = http.get(f"/_sandbox/publishes/{init['publish_id']}").json()
            assert publish["uploaded_bytes"] == 0
            assert put(http, publish["upload_url"], CHUNK) == 416  # not where it starts now
            assert put(http, publish["upload_url"], 0) == 206


def test_the_summary_names_the_scenario_and_seed_of_the_sandbox_that_saved_the_state(
    tmp_path: Path,
) -> None:
    data = str(tmp_path / "data")
    with serve("--data-dir", data, "--scenario", "multi-chunk-refused", "--seed", "7") as (_, out):
        assert "saved by" not in out  # a new directory
    with serve("--data-dir", data, "--scenario", "multi-chunk-refused", "--seed", "7") as (_, out):
        assert "saved by" not in out  # resumed as it was started
    with serve("--data-dir", data) as (url, output):
        assert (
            "saved by a sandbox started with multi-chunk-refused.yaml, seed 7; POST "
            "/_sandbox/reset now goes back to default.yaml, seed 0 (--scenario and --seed say "
            "which)"
        ) in " ".join(output.split())
        health = httpx.get(f"{url}/_sandbox/health").json()
        assert (health["scenario"], health["seed"]) == ("default", 0)
