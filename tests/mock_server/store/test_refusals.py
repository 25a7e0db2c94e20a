"""A data directory the sandbox cannot use is refused at start-up in one line, changing nothing
in it; `export` fails in one line too; and what the Python API changed is kept at close."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from mock_server.cli import main
from mock_server.sandbox import Sandbox
from mock_server.store import StoreError, read_snapshot
from mock_server.store import sqlite as store_sqlite


def made(directory: Path) -> Path:
    sandbox = Sandbox("default", seed=1, data_dir=directory)
    with sandbox.client() as http:
        assert http.patch("/_sandbox/creators/ana_makes", json={"nickname": "Kept"}).is_success
    sandbox.close()
    return directory


def digests(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


def test_a_damaged_database_is_refused_in_one_line_and_nothing_in_it_changes(
    tmp_path: Path,
) -> None:
    directory = made(tmp_path / "data")
    db = directory / "state.sqlite3"
    damaged = bytearray(db.read_bytes())
    damaged[8192 : 8192 + 3000] = b"\xab" * 3000  # page 3: SQLite reports it on two lines
    db.write_bytes(bytes(damaged))
    (directory / "lock").write_text("4242\n")  # the pid of the server that last ran
    before = digests(directory)
    with pytest.raises(StoreError, match="corrupt state") as refused:
        Sandbox("default", data_dir=directory)
    assert "\n" not in str(refused.value)
    assert digests(directory) == before  # the lock file keeps its pid too


def test_a_refusal_keeps_the_spaces_of_the_path_it_names(tmp_path: Path) -> None:
    directory = tmp_path / "two  spaces"
    directory.write_text("a file, not a directory")
    with pytest.raises(StoreError) as refused:
        Sandbox("default", data_dir=directory)
    assert str(refused.value) == f"--data-dir {directory}: not a directory"


def test_a_database_this_user_cannot_write_is_refused_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = made(tmp_path / "data")
    if os.geteuid() == 0:  # root writes whatever the modes say: the check is what is tested
        real = os.access
        monkeypatch.setattr(
            store_sqlite.os,
            "access",
            lambda path, mode: real(path, mode) and not str(path).endswith("state.sqlite3"),
        )
    else:
        (directory / "state.sqlite3").chmod(0o444)
    before = digests(directory)
    with pytest.raises(StoreError, match=r"not writable \(state\.sqlite3: permission denied\)"):
        Sandbox("default", data_dir=directory)
    assert digests(directory) == before


def test_export_to_a_place_that_does_not_exist_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = made(tmp_path / "data")
    target = tmp_path / "missing" / "snap.json"
    assert main(["export", "--data-dir", str(directory), "-o", str(target)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"tiktok-sandbox: --output {target}: No such file or directory")


def test_export_of_a_directory_this_user_cannot_read_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = made(tmp_path / "data")
    if os.geteuid() == 0:  # root reads whatever the modes say: a refusal as the OS gives it
        denied = PermissionError(13, "Permission denied", str(directory / "commits.lock"))

        def read_directory(_: object) -> None:
            raise denied

        monkeypatch.setattr("mock_server.store.commands.read_directory", read_directory)
    else:
        directory.chmod(0o300)
    try:
        assert main(["export", "--data-dir", str(directory)]) == 2
    finally:
        directory.chmod(0o700)
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "cannot read it (Permission denied" in line


def test_the_clock_set_through_the_python_api_is_kept_at_close(tmp_path: Path) -> None:
    sandbox = Sandbox("default", data_dir=tmp_path / "data")
    sandbox.clock.advance(3600)
    sandbox.clock.freeze()
    at = sandbox.clock.now()
    sandbox.close()
    again = Sandbox("default", data_dir=tmp_path / "data")
    assert again.clock.frozen and again.clock.now() == at
    assert at - time.time() > 3500
    again.close()


@pytest.mark.parametrize(
    ("version", "said"),
    [(True, "state format true: not a format number"), ("2", 'state format "2": not a')],
)
def test_a_snapshot_version_that_is_not_a_number_is_refused(
    tmp_path: Path, version: object, said: str
) -> None:
    sandbox = Sandbox("default", seed=1)
    with sandbox.client() as http:
        snapshot = http.get("/_sandbox/export").json()
    sandbox.close()
    snapshot["version"] = version
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(snapshot))
    with pytest.raises(StoreError, match=said):
        read_snapshot(path)


def test_a_state_that_does_not_decode_is_refused_and_the_lock_keeps_its_pid(
    tmp_path: Path,
) -> None:
    directory = made(tmp_path / "data")
    with sqlite3.connect(directory / "state.sqlite3") as db:
        db.execute("UPDATE rows SET doc = '[]' WHERE kind = 'world.apps'")
    db.close()
    (directory / "lock").write_text("4242\n")
    before = digests(directory)
    with pytest.raises(StoreError, match="corrupt state"):
        Sandbox("default", data_dir=directory)
    assert digests(directory) == before
    sandbox = Sandbox("default", data_dir=directory, fresh=True)  # taken: now it says whose
    assert (directory / "lock").read_text() == f"{os.getpid()}\n"
    sandbox.close()


def test_export_from_a_url_that_does_not_answer_a_sandbox_state_fails_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for answer in ([], {"format": "something else"}):
        monkeypatch.setattr(
            httpx, "get", lambda *_, answer=answer, **__: httpx.Response(200, json=answer)
        )
        assert main(["export", "--url", "http://127.0.0.1:9"]) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert "did not answer a sandbox's state" in line


def test_only_an_upload_whose_media_did_not_arrive_whole_starts_again(tmp_path: Path) -> None:
    from mock_server.domain.upload import start_upload_again
    from tests.mock_server.lifecycle_kit import ANA, AUDITED, INBOX_INIT, content_range, plan

    sandbox = Sandbox("default", seed=1)
    token = sandbox.issue_tokens(AUDITED, ANA, ["video.upload"])["access_token"]
    size = 1000
    with sandbox.client() as http:
        init = http.post(
            INBOX_INIT,
            headers={"Authorization": f"Bearer {token}"},
            json={"source_info": plan(size)},
        ).json()["data"]
        headers = {"Content-Type": "video/mp4", "Content-Range": content_range(0, size - 1, size)}
        assert http.put(init["upload_url"], content=b"\0" * size, headers=headers).is_success
    publish = sandbox.state.world.publishes[init["publish_id"]]
    assert publish.arrived_at is not None and not start_upload_again(publish)
    publish.status, publish.arrived_at = "PROCESSING_UPLOAD", None  # its check still running
    assert start_upload_again(publish)
    assert (publish.chunks, publish.uploaded_bytes) == ([], 0)
    sandbox.close()


def test_a_snapshot_or_directory_missing_records_others_refer_to_is_refused(
    tmp_path: Path,
) -> None:
    sandbox = Sandbox("default", seed=1, data_dir=tmp_path / "data")
    sandbox.issue_tokens("awacmescheduler01", "ana_makes", ["video.publish"])
    with sandbox.client() as http:
        snapshot = http.get("/_sandbox/export").json()
    sandbox.close()
    cut = {**snapshot, "world": {k: v for k, v in snapshot["world"].items() if k != "grants"}}
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(cut))
    with pytest.raises(StoreError, match=r"access_tokens\[.*\]: grant .* is not in grants"):
        read_snapshot(path)
    with sqlite3.connect(tmp_path / "data" / "state.sqlite3") as db:
        db.execute("DELETE FROM rows WHERE kind = 'world.grants'")
    db.close()
    with pytest.raises(StoreError, match=r"corrupt state \(world\.access_tokens\["):
        Sandbox("default", data_dir=tmp_path / "data")
