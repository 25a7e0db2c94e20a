"""Numbered commit logs under crashes: a copy of the data directory taken before and after
every file operation of a commit, a fold, a first commit and a whole-state write, and what a
reader and a restart find in it; damaged numbers; a reader racing a fold."""

from __future__ import annotations

import fcntl
import os
import pathlib
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from mock_server.store import StoreError
from mock_server.store import sqlite as store_sqlite
from mock_server.store.codec import SECTIONS
from mock_server.store.recorder import Change
from tests.mock_server.store.test_commitlog import database_rows

ROWS = "world.creators"
Model = dict[str, str]


class Crashes:
    """Copies of the directory as a process killed before or after each file operation of the
    store would leave it."""

    def __init__(self, directory: Path, root: Path) -> None:
        self.directory, self.root = directory, root
        self.copies: list[tuple[str, Path]] = []
        self._busy = False

    def snap(self, where: str) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            copy = self.root / f"crash-{len(self.copies)}"
            shutil.copytree(self.directory, copy, ignore=shutil.ignore_patterns("lock"))
            self.copies.append((where, copy))
        finally:
            self._busy = False

    def around(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.snap(f"before {name}{args[:1]}")
            result = fn(*args, **kwargs)
            self.snap(f"after {name}{args[:1]}")
            return result

        return wrapped


@contextmanager
def crashing(directory: Path, root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Crashes]:
    crashes = Crashes(directory, root)
    with monkeypatch.context() as m:
        real_os = os

        class Os:
            def __getattr__(self, name: str) -> Any:
                value = getattr(real_os, name)
                if name in ("replace", "open", "fdatasync", "fsync"):
                    return crashes.around(name, value)
                return value

        m.setattr(store_sqlite, "os", Os())
        m.setattr(store_sqlite, "_write_all", crashes.around("write", store_sqlite._write_all))
        real_unlink = pathlib.Path.unlink

        def unlink(self: Path, missing_ok: bool = False) -> None:
            crashes.snap(f"before unlink {self.name}")
            real_unlink(self, missing_ok=missing_ok)
            crashes.snap(f"after unlink {self.name}")

        m.setattr(pathlib.Path, "unlink", unlink)
        real_exit = store_sqlite._transaction.__exit__

        def exit_(self: Any, *exc: Any) -> None:
            crashes.snap("before COMMIT")
            real_exit(self, *exc)
            crashes.snap("after COMMIT")

        m.setattr(store_sqlite._transaction, "__exit__", exit_)
        yield crashes


def ordered(rows: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
    return list(rows.get(ROWS, {}).items())


def check_recovered(copy: Path, allowed: list[list[tuple[str, str]]], where: str) -> None:
    """A reader, a restart and the restart's first commit (which folds the logs) all find one
    of the `allowed` states, in order; the logs numbered on from there."""
    found = ordered(store_sqlite.read_rows(copy))
    assert found in allowed, f"{where}: reader found {found}"
    again = store_sqlite.SqliteStore(copy)
    try:
        assert ordered(again._effective_rows()) == found, f"{where}: restart"
        again.apply(Change(upserts=[(ROWS, "zz", "9")]))
        again.checkpoint()
        again.apply(Change(upserts=[(ROWS, "zy", "9")]))
    finally:
        again.close()
    assert database_rows(copy) == [*found, ("zz", "9"), ("zy", "9")], f"{where}: after restart"
    assert ordered(store_sqlite.read_rows(copy)) == [*found, ("zz", "9"), ("zy", "9")]


def apply_model(model: Model, change: Change) -> Model:
    if change.full is not None:
        return dict(change.full.get(ROWS, {}))
    out = dict(model)
    for _, key in change.deletes:
        out.pop(key, None)
    for _, key, doc in change.upserts:
        out[key] = doc
    return out


def full(rows: Model) -> Change:
    return Change(full={SECTIONS: {"s": "1"}, ROWS: dict(rows)})


STEPS: list[Change | str] = [
    Change(deletes=[(ROWS, "x")]),
    Change(upserts=[(ROWS, "x", "1")]),  # deleted and written again: last now
    Change(upserts=[(ROWS, "w", "1")]),
    "checkpoint",
    Change(deletes=[(ROWS, "a")]),
    Change(upserts=[(ROWS, "a", "2")]),
    "checkpoint",
    Change(upserts=[(ROWS, "b", "3")]),
    full({"q": "1", "x": "5"}),  # a reset
    Change(deletes=[(ROWS, "q")]),
    Change(upserts=[(ROWS, "q", "2")]),
    "checkpoint",
    Change(upserts=[(ROWS, "r", "1")]),
    "close",
]


@pytest.mark.parametrize("fsync", [False, True])
def test_a_crash_at_any_file_operation_loses_no_answer_and_reorders_no_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsync: bool
) -> None:
    directory = tmp_path / "data"
    store = store_sqlite.SqliteStore(directory, fsync=fsync)
    model: Model = {"a": "0", "x": "0", "y": "0"}
    store.apply(full(model))
    store.close()
    store = store_sqlite.SqliteStore(directory, fsync=fsync)  # a second run: its first commit folds
    checked = 0
    for index, step in enumerate(STEPS):
        before = list(model.items())
        if isinstance(step, Change):
            model = apply_model(model, step)
        after = list(model.items())
        with crashing(directory, tmp_path / f"step-{index}", monkeypatch) as crashes:
            if step == "checkpoint":
                store.checkpoint()
            elif step == "close":
                store.close()
            else:
                assert isinstance(step, Change)
                store.apply(step)
        for where, copy in crashes.copies:
            check_recovered(copy, [before, after], f"step {index} {step!r}, {where}")
            checked += 1
    assert checked > 40


def test_a_crash_during_the_first_commit_after_a_crash_during_a_fold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed during a fold (both logs on disk), then again during the next run's first
    commit, which folds them: every point of each."""
    directory = tmp_path / "data"
    store = store_sqlite.SqliteStore(directory)
    model: Model = {"a": "0", "x": "0", "y": "0"}
    store.apply(full(model))
    for step in STEPS[:3]:
        assert isinstance(step, Change)
        store.apply(step)
        model = apply_model(model, step)
    folded = list(model.items())
    with crashing(directory, tmp_path / "fold", monkeypatch) as crashes:
        store.checkpoint()
    store.close()
    nested = 0
    for where, copy in crashes.copies:
        again = store_sqlite.SqliteStore(copy)
        assert ordered(again._effective_rows()) == folded, where
        with crashing(copy, tmp_path / f"again-{copy.name}", monkeypatch) as inner:
            again.apply(Change(deletes=[(ROWS, "y")]))
        again.close()
        after = [row for row in folded if row[0] != "y"]
        for inner_where, inner_copy in inner.copies:
            check_recovered(inner_copy, [folded, after], f"{where}, then {inner_where}")
            nested += 1
    assert nested > 50


# -- corrupt numbers ---------------------------------------------------------------------------


def stopped_directory(tmp_path: Path) -> Path:
    """A directory killed with a commit in its log (logs numbered, meta.folded written)."""
    directory = tmp_path / "data"
    store = store_sqlite.SqliteStore(directory)
    store.apply(full({"a": "0"}))
    store.apply(Change(upserts=[(ROWS, "b", "1")]))
    store.checkpoint()
    store.apply(Change(upserts=[(ROWS, "c", "1")]))
    copy = tmp_path / "copy"
    shutil.copytree(directory, copy, ignore=shutil.ignore_patterns("lock"))
    store.close()
    return copy


def set_meta(directory: Path, key: str, value: str) -> None:
    db = sqlite3.connect(directory / "state.sqlite3")
    with db:
        db.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key))
    db.close()


@pytest.mark.parametrize("value", ["x", "-1", "1.5", "\u0661", "", "9" * 5000])
def test_a_corrupt_folded_number_is_corrupt_state_for_a_restart_and_a_reader(
    tmp_path: Path, value: str
) -> None:
    """`meta.folded` damaged: the one-line error, never an exception of another kind (the
    CLI turns StoreError into its message; anything else is a stack trace). A number past
    Python's 4,300-digit limit for int() raises ValueError."""
    copy = stopped_directory(tmp_path)
    set_meta(copy, "folded", value)
    with pytest.raises(StoreError, match=r"corrupt state \(folded"):
        store_sqlite.read_rows(copy)
    with pytest.raises(StoreError, match=r"corrupt state \(folded"):
        store_sqlite.SqliteStore(copy)


def test_a_log_number_too_long_for_int_is_corrupt_state(tmp_path: Path) -> None:
    copy = stopped_directory(tmp_path)
    log = copy / "commits.log"
    head, _, body = log.read_bytes().partition(b"\n")
    epoch = head.split(b" ")[1]
    log.write_bytes(b"tiktok-sandbox-commits " + epoch + b" " + b"7" * 5000 + b"\n" + body)
    with pytest.raises(StoreError, match=r"corrupt state \(commits\.log"):
        store_sqlite.read_rows(copy)
    with pytest.raises(StoreError, match=r"corrupt state \(commits\.log"):
        store_sqlite.SqliteStore(copy)


# -- a reader and a fold ------------------------------------------------------------------------


def test_a_reader_that_reads_the_logs_before_a_fold_commits_and_the_database_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`export --data-dir` reads the logs (both: the one being folded and the new one), the
    fold's transaction commits, then the reader reads the database: the folded log's number
    is in it, so the log is not written over the rows a second time."""
    directory = tmp_path / "data"
    store = store_sqlite.SqliteStore(directory)
    store.apply(full({"a": "0", "x": "0"}))
    store.apply(Change(deletes=[(ROWS, "x")]))
    store.apply(Change(upserts=[(ROWS, "x", "1")]))
    store.apply(Change(upserts=[(ROWS, "w", "1")]))
    go, committed = threading.Event(), threading.Event()
    real_write, real_exit = store_sqlite._write_rows, store_sqlite._transaction.__exit__
    real_read_logs = store_sqlite._read_logs

    def write_rows(db: sqlite3.Connection, rows: Any) -> None:
        assert go.wait(10)
        real_write(db, rows)

    def exit_(self: Any, *exc: Any) -> None:
        real_exit(self, *exc)
        committed.set()

    def read_logs(path: Path) -> Any:
        logs = real_read_logs(path)
        assert [log.number for log in logs] == [1, 2]  # the one being folded, the new one
        go.set()
        assert committed.wait(10)  # the fold is in the database; its log is not deleted yet
        return logs

    monkeypatch.setattr(store_sqlite, "_write_rows", write_rows)
    monkeypatch.setattr(store_sqlite._transaction, "__exit__", exit_)
    fold = threading.Thread(target=store.checkpoint)
    fold.start()
    while not (directory / "commits.folding.log").exists():
        time.sleep(0.001)
    store.apply(Change(upserts=[(ROWS, "a", "2")]))  # into the new log, while it folds
    monkeypatch.setattr(store_sqlite, "_read_logs", read_logs)
    found = ordered(store_sqlite.read_rows(directory))
    fold.join(10)
    monkeypatch.undo()
    assert found == [("a", "2"), ("x", "1"), ("w", "1")]
    store.close()


def test_a_reader_paused_during_a_fold_does_not_stop_the_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that takes `commits.lock` while a fold's transaction runs, and is paused: the
    fold deletes its log without waiting for it, so the next commit that fills the log (and,
    served, every commit after it: one writer thread makes them) does not wait either."""
    directory = tmp_path / "data"
    store = store_sqlite.SqliteStore(directory)
    store.apply(full({"a": "0"}))
    store.apply(Change(upserts=[(ROWS, "b", "1")]))
    reader = os.open(directory / "commits.lock", os.O_RDONLY)
    real_write = store_sqlite._write_rows

    def write_rows(db: sqlite3.Connection, rows: Any) -> None:
        fcntl.flock(reader, fcntl.LOCK_SH)  # `export` starts now, and is paused (^Z)
        real_write(db, rows)

    monkeypatch.setattr(store_sqlite, "_write_rows", write_rows)
    ticker = threading.Thread(target=store.checkpoint, daemon=True)
    ticker.start()
    ticker.join(2)
    monkeypatch.setattr(store_sqlite, "_write_rows", real_write)
    monkeypatch.setattr(store_sqlite, "FOLD_ROWS", 2)
    commit = threading.Thread(
        target=store.apply,
        args=(Change(upserts=[(ROWS, "c", "1"), (ROWS, "d", "1")]),),
        daemon=True,
    )
    commit.start()
    commit.join(5)
    stuck = commit.is_alive()
    os.close(reader)  # the reader goes: the fold and the commit finish
    commit.join(10)
    ticker.join(10)
    store.close()
    assert not stuck, "a commit waited for a paused reader"


def test_a_paused_reader_stops_neither_a_reset_nor_the_first_commit_of_a_run(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "data"
    store = store_sqlite.SqliteStore(directory)
    store.apply(full({"a": "0"}))
    store.apply(Change(upserts=[(ROWS, "b", "1")]))  # in the log when the process dies
    crashed = tmp_path / "crashed"
    shutil.copytree(directory, crashed, ignore=shutil.ignore_patterns("lock"))
    store.close()
    again = store_sqlite.SqliteStore(crashed)
    reader = os.open(crashed / "commits.lock", os.O_RDONLY)
    fcntl.flock(reader, fcntl.LOCK_SH)  # an `export` paused (^Z) while it reads
    try:
        for change in (
            Change(upserts=[(ROWS, "c", "1")]),  # the run's first commit folds the last run's
            full({"z": "9"}),  # a reset
        ):
            commit = threading.Thread(target=again.apply, args=(change,), daemon=True)
            commit.start()
            commit.join(10)
            assert not commit.is_alive(), f"{change} waited for a paused reader"
    finally:
        os.close(reader)
    again.close()
    assert database_rows(crashed) == [("z", "9")]


def read_in_two_steps(directory: Path, between: Callable[[], None]) -> list[tuple[str, str]]:
    """What `read_rows` finds when the server does `between` after it read the logs and before
    it read the database (nothing holds a reader off but a swap of the logs)."""
    logs = store_sqlite._read_logs(directory)
    between()
    db = sqlite3.connect(directory / "state.sqlite3")
    try:
        _, epoch, folded = store_sqlite.SqliteStore._meta(db, "test")
        rows = store_sqlite.SqliteStore._read(db)
    finally:
        db.close()
    store_sqlite._unfolded(logs, epoch, folded).over(rows)
    return list(rows.get(ROWS, {}).items())


def test_a_reader_between_the_logs_and_the_database_finds_a_whole_state(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    store = store_sqlite.SqliteStore(directory)
    store.apply(full({"a": "0", "x": "0"}))
    store.apply(Change(deletes=[(ROWS, "x")]))
    store.apply(Change(upserts=[(ROWS, "x", "1")]))
    store.apply(Change(upserts=[(ROWS, "w", "1")]))  # in the log when the process dies
    crashed = tmp_path / "crashed"
    shutil.copytree(directory, crashed, ignore=shutil.ignore_patterns("lock"))
    store.close()
    again = store_sqlite.SqliteStore(crashed)
    before = [("a", "0"), ("x", "1"), ("w", "1")]
    # The run's first commit folds the last run's log into the database and starts the next.
    first = read_in_two_steps(crashed, lambda: again.apply(Change(upserts=[(ROWS, "v", "1")])))
    assert first == before  # the log read is folded now: skipped, x keeps its place
    assert read_in_two_steps(crashed, lambda: None) == [*before, ("v", "1")]
    # A reset: the logs read are of the epoch it ended.
    reset = read_in_two_steps(crashed, lambda: again.apply(full({"z": "9"})))
    assert reset == [("z", "9")]
    again.close()
