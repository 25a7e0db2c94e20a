"""A sandbox in a data directory: it resumes after a restart, and refuses directories it
cannot use with one line, changing nothing in them."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest

from mock_server.cli import main
from mock_server.runtime.fetcher import StaticFetcher
from mock_server.runtime.journal import JournalEntry, Recording
from mock_server.runtime.webhooks import RecordingWebhookSender
from mock_server.sandbox import Sandbox
from mock_server.store import StoreError
from mock_server.store import sqlite as store_sqlite
from mock_server.store.codec import (
    VERSION,
    encode,
    hits_in,
    journal_entry_in,
    state_to_doc,
    text,
)
from tests.mock_server.lifecycle_kit import AUDITED, CHUNK, chunk_ranges, content_range, plan
from tests.mock_server.store.workload import STEPS, Facts, check, step


def sandbox_in(directory: Path, *, fresh: bool = False) -> Sandbox:
    return Sandbox(
        "default",
        data_dir=directory,
        fresh=fresh,
        fetcher=StaticFetcher({}),
        webhook_sender=RecordingWebhookSender(),
    )


def run(sandbox: Sandbox, steps: list[str], facts: Facts, seed: int = 5) -> None:
    rng = random.Random(seed)
    with sandbox.client() as http:
        for name in steps:
            step(http, name, facts, rng)


def files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def test_a_restart_keeps_tokens_publishes_and_control_changes(tmp_path: Path) -> None:
    facts = Facts()
    first = sandbox_in(tmp_path / "data")
    assert not first.state.resumed
    run(
        first,
        ["tokens", "webhook_url", "fault", "init", "put", "advance", "refresh", "init"],
        facts,
    )
    before = state_to_doc(first.state)
    first.close()

    second = sandbox_in(tmp_path / "data")
    assert second.state.resumed
    assert state_to_doc(second.state)["world"] == before["world"]
    with second.client() as http:
        check(http, facts)
        # The refresh token the app stored still refreshes.
        step(http, "refresh", facts, random.Random(1))
        # The journal goes on numbering where it was.
        assert http.get("/_sandbox/journal").json()["entries"][0]["seq"] > len(
            before["journal"]["entries"]
        )
    second.close()


def put_chunk(http: httpx.Client, url: str, data: bytes, first: int, last: int) -> int:
    headers = {"Content-Type": "video/mp4", "Content-Range": content_range(first, last, len(data))}
    return http.put(url, content=data[first : last + 1], headers=headers).status_code


def test_an_upload_continues_at_the_next_chunk_after_a_restart(tmp_path: Path) -> None:
    size = 2 * CHUNK + 100
    data = random.Random(3).randbytes(size)
    first = sandbox_in(tmp_path / "data")
    scopes = ["video.publish", "video.upload"]
    token = first.issue_tokens(AUDITED, "ana_makes", scopes)["access_token"]
    ranges = chunk_ranges(size)
    with first.client() as http:
        init = http.post(
            "/v2/post/publish/inbox/video/init/",
            headers={"Authorization": f"Bearer {token}"},
            json={"source_info": plan(size)},
        )
        publish_id, url = init.json()["data"]["publish_id"], init.json()["data"]["upload_url"]
        assert put_chunk(http, url, data, *ranges[0]) == 206
    first.close()

    # The chunk sent before the restart is on disk, byte for byte.
    (spooled,) = (tmp_path / "data" / "spool").iterdir()
    assert spooled.read_bytes() == data[: ranges[0][1] + 1]
    second = sandbox_in(tmp_path / "data")
    with second.client() as http:
        assert [put_chunk(http, url, data, *r) for r in ranges[1:]] == [201]  # the last of two
        status = http.post(
            "/v2/post/publish/status/fetch/",
            headers={"Authorization": f"Bearer {token}"},
            json={"publish_id": publish_id},
        )
    assert status.json()["data"]["uploaded_bytes"] == size
    assert second.state.world.publishes[publish_id].chunks == [
        (first, last, hashlib.sha256(data[first : last + 1]).hexdigest()) for first, last in ranges
    ]
    second.close()


def test_a_chunk_in_flight_at_the_crash_is_taken_again(tmp_path: Path) -> None:
    """A commit made while another request's chunk was streaming in holds `chunk_in_flight`;
    after a crash that chunk never finished, so the restarted sandbox takes it again."""
    from mock_server.store.codec import restore_state
    from mock_server.store.sqlite import read_directory

    data = random.Random(4).randbytes(3000)
    live = sandbox_in(tmp_path / "data")
    token = live.issue_tokens(AUDITED, "ana_makes", ["video.publish", "video.upload"])
    with live.client() as http:
        init = http.post(
            "/v2/post/publish/inbox/video/init/",
            headers={"Authorization": f"Bearer {token['access_token']}"},
            json={"source_info": plan(len(data))},
        )
    publish_id, url = init.json()["data"]["publish_id"], init.json()["data"]["upload_url"]
    live.state.world.publishes[publish_id].chunk_in_flight = True
    live.state.commit()
    crashed = read_directory(tmp_path / "data")
    live.close()

    again = Sandbox("default", webhook_sender=RecordingWebhookSender())
    restore_state(again.state, crashed)
    with again.client() as http:
        assert put_chunk(http, url, data, 0, len(data) - 1) == 201
    again.close()


def test_fresh_starts_from_the_scenario(tmp_path: Path) -> None:
    facts = Facts()
    first = sandbox_in(tmp_path / "data")
    run(first, ["tokens"], facts)
    first.close()
    again = sandbox_in(tmp_path / "data", fresh=True)
    assert not again.state.resumed
    with again.client() as http:
        answer = http.post(
            "/v2/post/publish/creator_info/query/",
            headers={"Authorization": f"Bearer {facts.access_tokens[-1]}"},
        )
    assert answer.json()["error"]["code"] == "access_token_invalid"
    again.close()


def test_a_second_sandbox_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    first = sandbox_in(tmp_path / "data")
    with pytest.raises(StoreError, match=rf"in use by another sandbox \(pid {os.getpid()}\)"):
        sandbox_in(tmp_path / "data")
    first.close()
    sandbox_in(tmp_path / "data").close()  # released with the first


def test_a_newer_version_is_refused_and_left_alone(tmp_path: Path) -> None:
    sandbox_in(tmp_path / "data").close()
    db = sqlite3.connect(tmp_path / "data" / "state.sqlite3")
    newer = store_sqlite.DIRECTORY_VERSION + 1
    db.execute("UPDATE meta SET value = ? WHERE key = 'version'", (str(newer),))
    db.commit()
    db.close()
    before = files(tmp_path / "data")
    with pytest.raises(StoreError, match=f"newer tiktok-sandbox \\(state format {newer}"):
        sandbox_in(tmp_path / "data")
    after = files(tmp_path / "data")
    after.pop("lock"), before.pop("lock")
    assert after == before


@pytest.mark.parametrize(
    "name", ["spool", "state.sqlite3", "commits.log", "commits.folding.log", "lock"]
)
def test_a_name_of_the_wrong_kind_is_corrupt_state_and_left_alone(
    tmp_path: Path, name: str
) -> None:
    """A directory where the sandbox keeps a file (or a file where it keeps its spool): refused
    in one line by a start, a `--fresh` start and a reader, and nothing in it is touched."""
    directory = tmp_path / "data"
    sandbox = sandbox_in(directory)
    run(sandbox, ["tokens"], Facts())
    sandbox.close()
    wrong = directory / name
    if wrong.is_dir():
        shutil.rmtree(wrong)
        wrong.write_bytes(b"")
    else:
        wrong.unlink(missing_ok=True)
        wrong.mkdir()
        (wrong / "inside").write_bytes(b"x")
    before = files(directory)
    message = rf"corrupt state \({re.escape(name)} is not a"
    for start in (lambda: sandbox_in(directory), lambda: sandbox_in(directory, fresh=True)):
        with pytest.raises(StoreError, match=message):
            start()
    with pytest.raises(StoreError, match=message):
        store_sqlite.read_rows(directory)
    assert files(directory) == before
    assert wrong.is_dir() == (name != "spool")


def test_a_directory_of_format_2_resumes_with_its_unnumbered_log(tmp_path: Path) -> None:
    """Format 2 had the same rows, and logs without numbers: its log is read back, and its
    first commit folds it into a new epoch (a reader that read the unnumbered log could not
    tell it was folded; the epoch voids it), then logs are numbered."""
    from mock_server.store.commitlog import header, read_log

    directory = tmp_path / "data"
    first = sandbox_in(directory)
    facts = Facts()
    run(first, ["tokens", "init", "put"], facts)
    crashed = tmp_path / "crashed"  # killed with its log unfolded, as format 2 wrote it
    shutil.copytree(directory, crashed, ignore=shutil.ignore_patterns("lock"))
    first.close()
    log = crashed / "commits.log"
    old = read_log(log)
    assert old is not None and old.number is not None and old.commits > 0
    text = log.read_bytes()
    log.write_bytes(header(old.epoch) + text[text.index(b"\n") + 1 :])
    db = sqlite3.connect(crashed / "state.sqlite3")
    with db:
        db.execute("UPDATE meta SET value = '2' WHERE key = 'version'")
        db.execute("DELETE FROM meta WHERE key = 'folded'")
    db.close()
    again = sandbox_in(crashed)
    assert not again.state.store.older_format
    with again.client() as http:
        check(http, facts)
    run(again, ["status"], facts)
    db = sqlite3.connect(crashed / "state.sqlite3")
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    db.close()
    assert meta["version"] == str(store_sqlite.DIRECTORY_VERSION)
    assert meta["epoch"] == str(old.epoch + 1)
    now = read_log(crashed / "commits.log")
    assert now is not None and now.number is not None and now.number > int(meta["folded"])
    again.close()


def test_a_directory_of_format_1_resumes_and_is_this_format_from_then_on(tmp_path: Path) -> None:
    """Format 1 kept each journal entry built, and rate-limit hits as numbers."""
    first = sandbox_in(tmp_path / "data")
    facts = Facts()
    run(first, ["tokens", "init", "put", "status", "creator_info"], facts)
    entries = first.journal()
    first.close()
    db = sqlite3.connect(tmp_path / "data" / "state.sqlite3")
    rows = db.execute("SELECT key, doc FROM rows WHERE kind = 'journal.entries'").fetchall()
    assert rows and all("recording" in json.loads(doc) for _, doc in rows)
    with db:
        for key, doc in rows:
            recording = journal_entry_in(json.loads(doc))
            assert isinstance(recording, Recording)
            built = text(encode(recording.entry(), JournalEntry))
            db.execute(
                "UPDATE rows SET doc = ? WHERE kind = 'journal.entries' AND key = ?", (built, key)
            )
        limited = db.execute("SELECT key, doc FROM rows WHERE kind = 'world.limiter.hits'")
        for key, doc in limited.fetchall():  # format 1 kept the instants as numbers
            numbers = text(hits_in(json.loads(doc)))
            db.execute(
                "UPDATE rows SET doc = ? WHERE kind = 'world.limiter.hits' AND key = ?",
                (numbers, key),
            )
        db.execute("UPDATE meta SET value = '1' WHERE key = 'version'")
    db.close()

    again = sandbox_in(tmp_path / "data")
    assert again.journal() == entries
    with again.client() as http:
        check(http, facts)
    again.close()
    db = sqlite3.connect(tmp_path / "data" / "state.sqlite3")
    version = str(store_sqlite.DIRECTORY_VERSION)
    assert db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone() == (version,)
    kept = db.execute("SELECT kind, doc FROM rows").fetchall()
    db.close()
    limited = [json.loads(doc) for kind, doc in kept if kind == "world.limiter.hits"]
    assert limited and all(isinstance(doc, str) for doc in limited)  # written anew: packed


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_bytes(b"not a database at all"), id="not-sqlite"),
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[:100] + b"\0" * 4000), id="truncated"),
    ],
)
def test_a_corrupt_directory_is_refused_and_left_alone(tmp_path: Path, damage: object) -> None:
    first = sandbox_in(tmp_path / "data")
    first.close()
    damage(tmp_path / "data" / "state.sqlite3")  # type: ignore[operator]
    before = files(tmp_path / "data")
    with pytest.raises(StoreError, match="corrupt state"):
        sandbox_in(tmp_path / "data")
    after = files(tmp_path / "data")
    after.pop("lock"), before.pop("lock")
    assert after == before


def test_a_document_that_does_not_decode_is_corrupt(tmp_path: Path) -> None:
    sandbox_in(tmp_path / "data").close()
    db = sqlite3.connect(tmp_path / "data" / "state.sqlite3")
    db.execute("UPDATE rows SET doc = '{\"stage\": 5}' WHERE kind = 'world.apps'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="corrupt state"):
        sandbox_in(tmp_path / "data")


def test_a_directory_of_other_files_or_not_writable_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match=r"not a sandbox data directory \(it holds notes\.txt\)"):
        sandbox_in(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    with pytest.raises(StoreError, match="not a directory"):
        sandbox_in(tmp_path / "notes.txt")
    # /proc refuses new entries even to root.
    with pytest.raises(StoreError, match="not writable"):
        sandbox_in(Path("/proc/tiktok-sandbox-data"))


def test_cli_refuses_a_locked_directory_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    holder = sandbox_in(tmp_path / "data")
    assert main(["serve", "--port", "0", "--data-dir", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "in use by another sandbox" in err
    holder.close()


def test_export_and_import_carry_the_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facts = Facts()
    first = sandbox_in(tmp_path / "data")
    run(first, ["tokens", "webhook_url", "init", "put"], facts)
    expected = state_to_doc(first.state)
    # A data directory in use can be exported (readers see the last commit).
    assert (
        main(["export", "--data-dir", str(tmp_path / "data"), "-o", str(tmp_path / "s.json")]) == 0
    )
    first.close()
    snapshot = json.loads((tmp_path / "s.json").read_text())
    assert snapshot == json.loads(json.dumps(expected))
    assert snapshot["version"] == VERSION

    import argparse

    from mock_server.store import read_snapshot
    from mock_server.store.commands import attach

    other = Sandbox("default", fetcher=StaticFetcher({}), webhook_sender=RecordingWebhookSender())
    args = argparse.Namespace(import_file=str(tmp_path / "s.json"), data_dir=None, fresh=False)
    assert "in memory" in (attach(other.state, args) or "")
    with other.client() as http:
        check(http, facts)
    other.close()

    snapshot["version"] = VERSION + 1
    (tmp_path / "new.json").write_text(json.dumps(snapshot))
    with pytest.raises(StoreError, match=f"state format {VERSION + 1}, this tiktok-sandbox reads"):
        read_snapshot(tmp_path / "new.json")
    assert main(["export", "--data-dir", str(tmp_path / "nowhere")]) == 2
    assert "no sandbox state there" in capsys.readouterr().err


def test_every_step_of_the_workload_is_kept_before_its_answer(tmp_path: Path) -> None:
    """After any step, the directory (read while the sandbox still runs, as after a crash)
    holds everything the sandbox has told."""
    from mock_server.store.codec import restore_state
    from mock_server.store.sqlite import read_directory

    live = sandbox_in(tmp_path / "data")
    rng = random.Random(9)
    facts = Facts()
    with live.client() as http:
        for name in ["tokens", *STEPS, *STEPS]:
            step(http, name, facts, rng)
            copy = Sandbox("default", webhook_sender=RecordingWebhookSender())
            restore_state(copy.state, read_directory(tmp_path / "data"))
            with copy.client() as copied:
                check(copied, facts)
            copy.close()
    live.close()
