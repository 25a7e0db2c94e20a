"""A reader of a data directory (`read_rows`, `export --data-dir`) while its server changes it
(only a swap of the logs waits for readers): it finds a whole state as of some commit, with
every commit acknowledged when it started, and never calls a healthy directory corrupt. Each
test drives the reader's steps and the store's by hand, in one thread, to one interleaving."""

from __future__ import annotations

import os
import pathlib
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mock_server.store import sqlite as store_sqlite
from mock_server.store.commitlog import Replayed, commit_bytes, header
from mock_server.store.recorder import Change
from tests.mock_server.store.test_crash_points import ROWS, full, ordered

Rows = list[tuple[str, str]]


def as_format_2(directory: Path, logs: dict[str, bytes]) -> None:
    """The directory as format 2 left it: no `meta.folded`, unnumbered logs (`logs`: name ->
    the commits after the header) of the database's epoch."""
    db = sqlite3.connect(directory / "state.sqlite3")
    with db:
        db.execute("UPDATE meta SET value = '2' WHERE key = 'version'")
        db.execute("DELETE FROM meta WHERE key = 'folded'")
        epoch = int(db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0])
    db.close()
    for name, commits in logs.items():
        (directory / name).write_bytes(header(epoch) + commits)


def reading(
    monkeypatch: pytest.MonkeyPatch, directory: Path, after: str, server: Callable[[], None]
) -> Callable[[], Rows]:
    """`read_rows`, with the server doing `server` right after the reader read the log `after`
    (commits.folding.log is read first, then commits.log)."""
    real = store_sqlite.read_log
    done: list[bool] = []

    def read_log(path: Path) -> Replayed | None:
        log = real(path)
        if path.name == after and not done:
            done.append(True)
            server()
        return log

    monkeypatch.setattr(store_sqlite, "read_log", read_log)
    return lambda: ordered(store_sqlite.read_rows(directory))


def test_a_format_2_folding_log_read_before_the_first_commit_is_not_applied_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A format 2 directory left by a crash during a fold: `commits.folding.log` sets b to 1,
    the later `commits.log` sets it to 5 (both acknowledged). An `export` holding
    `commits.lock` reads the folding log; the new run's first commit (which no longer waits for
    it) writes both logs into the database with `folded` 0 (unnumbered logs have no number to
    record) and starts log 1; the reader reads log 1, then the database (b=5, folded 0) and
    writes the unnumbered folding log over it again: b=1, the acknowledged b=5 is lost."""
    directory = tmp_path / "data"
    store = store_sqlite.SqliteStore(directory)
    store.apply(full({"a": "0", "b": "0"}))
    store.close()
    as_format_2(
        directory,
        {
            "commits.folding.log": commit_bytes([(ROWS, "b", "1")], []),
            "commits.log": commit_bytes([(ROWS, "b", "5")], []),
        },
    )
    assert (directory / "commits.lock").exists()  # the reader takes it
    again = store_sqlite.SqliteStore(directory)
    read = reading(
        monkeypatch,
        directory,
        "commits.folding.log",
        lambda: again.apply(Change(upserts=[(ROWS, "c", "1")])),  # the run's first commit
    )
    found = read()
    monkeypatch.undo()
    again.close()
    assert found in ([("a", "0"), ("b", "5")], [("a", "0"), ("b", "5"), ("c", "1")])


def test_a_format_2_log_read_before_the_first_commit_does_not_move_a_row_written_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A format 2 directory with its log unfolded: x deleted and written again (so it comes
    last), then w. The reader reads the log, the first commit folds it with `folded` 0, the
    reader writes the unnumbered log over the database again and x moves behind w."""
    directory = tmp_path / "data"
    store = store_sqlite.SqliteStore(directory)
    store.apply(full({"a": "0", "x": "0"}))
    store.close()
    commits = commit_bytes([], [(ROWS, "x")]) + commit_bytes([(ROWS, "x", "1")], [])
    as_format_2(directory, {"commits.log": commits + commit_bytes([(ROWS, "w", "1")], [])})
    again = store_sqlite.SqliteStore(directory)
    read = reading(
        monkeypatch,
        directory,
        "commits.log",
        lambda: again.apply(Change(upserts=[(ROWS, "v", "1")])),
    )
    found = read()
    monkeypatch.undo()
    again.close()
    assert found == [("a", "0"), ("x", "1"), ("w", "1")]


def test_a_reader_that_started_before_commits_lock_existed_does_not_miss_a_swapped_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new directory (or one of format 1): the server has opened it, `commits.lock` is not
    there yet, so an `export` starting now reads with no lock. It reads
    `commits.folding.log` (none); the server makes its first (whole-state) commit, commits b
    into log 1, a fold swaps log 1 out (nothing holds it off) and, while its transaction runs,
    c goes into log 2; the reader reads log 2 and the database (not folded yet): it finds c
    without b, a state the server was never in."""
    directory = tmp_path / "data"
    store = store_sqlite.SqliteStore(directory)
    assert not (directory / "commits.lock").exists()
    go = threading.Event()
    real_write = store_sqlite._write_rows

    def write_rows(db: sqlite3.Connection, rows: Any) -> None:
        assert go.wait(10)
        real_write(db, rows)

    fold = threading.Thread(target=store.checkpoint)

    def server() -> None:
        store.apply(full({"a": "0"}))
        store.apply(Change(upserts=[(ROWS, "b", "1")]))
        monkeypatch.setattr(store_sqlite, "_write_rows", write_rows)
        fold.start()
        for _ in range(200):  # the swap, unless the reader holds the logs (then no fold)
            if (directory / "commits.folding.log").exists() or not fold.is_alive():
                break
            threading.Event().wait(0.005)
        store.apply(Change(upserts=[(ROWS, "c", "1")]))  # into log 2, while log 1 folds

    read = reading(monkeypatch, directory, "commits.folding.log", server)
    try:
        found = read()
    finally:
        go.set()
        fold.join(10)
        monkeypatch.undo()
        store.close()
    assert found in (
        [],
        [("a", "0")],
        [("a", "0"), ("b", "1")],
        [("a", "0"), ("b", "1"), ("c", "1")],
    )


def test_a_read_of_commits_log_torn_by_a_reset_is_not_called_corrupt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader holds `commits.lock` and reads `commits.log`; its read() returns short (the
    reset's O_TRUNC of the same file raced the copy: the first page only), the reset (which no
    longer waits for the reader) restarts the log in place and commits fill it past that page
    before the reader's next read(), which returns the new log's bytes from there. The reader
    gets the old log's first page followed by the middle of the new log, and calls a healthy
    directory corrupt state (the docs' way out of that, deleting both logs, loses commits)."""
    directory = tmp_path / "data"
    store = store_sqlite.SqliteStore(directory)
    store.apply(full({"a": "0"}))
    line = f'{ROWS}\t"p"\t'.encode()
    size = (directory / "commits.log").stat().st_size
    doc = "p" * (4096 - size - len(line) - 1)  # that commit's row line ends at byte 4096
    store.apply(Change(upserts=[(ROWS, "p", doc)]))
    assert (directory / "commits.log").read_bytes()[4095:4097] == b"\n."
    real_read_bytes = pathlib.Path.read_bytes
    torn: list[bool] = []

    def read_bytes(self: Path) -> bytes:
        if self.name != "commits.log" or torn:
            return real_read_bytes(self)
        torn.append(True)
        fd = os.open(self, os.O_RDONLY)
        try:
            data = os.read(fd, 4096)  # a short read: the page copied before the truncation
            store.apply(full({"z": "9"}))  # a reset, while the reader holds commits.lock
            store.apply(Change(upserts=[(ROWS, "y", "y" * 9000)]))
            while chunk := os.read(fd, 65536):
                data += chunk
        finally:
            os.close(fd)
        return data

    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
    try:
        found = ordered(store_sqlite.read_rows(directory))
    finally:
        monkeypatch.undo()
        store.close()
    assert found in ([("a", "0"), ("p", doc)], [("z", "9")], [("z", "9"), ("y", "y" * 9000)])
