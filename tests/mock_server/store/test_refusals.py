"""A data directory the sandbox cannot use is refused at start-up in one line, changing nothing
in it; `export` fails in one line too; and what the Python API changed is kept at close."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

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
