"""The commit log in front of the database: what it holds is read back exactly, in the
database's order, after a crash at any point of a commit or a fold."""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.sandbox import Sandbox
from mock_server.store import StoreError
from mock_server.store import sqlite as store_sqlite
from mock_server.store.codec import SECTIONS, full_rows
from mock_server.store.commitlog import LogRows, Op, commit_bytes, header, read_log
from mock_server.store.recorder import Change
from tests.mock_server.store.test_incremental import comparable, rows_on_disk, sandbox_in
from tests.mock_server.store.workload import Facts, check, step

ROWS = "world.creators"
CREATOR_INFO = "/v2/post/publish/creator_info/query/"


def drive(sandbox: Sandbox, steps: list[str], facts: Facts, seed: int = 3) -> None:
    rng = random.Random(seed)
    with sandbox.client() as http:
        for name in steps:
            step(http, name, facts, rng)
            sandbox.pump()


def crashed_copy(directory: Path, tmp_path: Path) -> Path:
    """The directory's files as a process killed now would leave them."""
    copy = tmp_path / "after-crash"
    shutil.copytree(directory, copy, ignore=shutil.ignore_patterns("lock"))
    return copy


# -- the order of rows ------------------------------------------------------------------------

ops_strategy = st.lists(
    st.lists(
        st.tuples(st.sampled_from("abcdef"), st.one_of(st.none(), st.sampled_from(["1", "2"]))),
        max_size=5,
    ),
    max_size=8,
)


def folded(base: list[str], pending: LogRows) -> list[tuple[str, str]]:
    """The rows, in order, of a database holding `base` (each as "0") once `pending` is folded
    into it."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE rows(kind TEXT, key TEXT, doc TEXT, PRIMARY KEY(kind, key))")
    db.executemany("INSERT INTO rows VALUES (?, ?, '0')", [(ROWS, key) for key in base])
    store_sqlite._write_rows(db, pending)
    return db.execute("SELECT key, doc FROM rows ORDER BY rowid").fetchall()


@settings(max_examples=150, deadline=None)
@given(base=st.lists(st.sampled_from("abcdef"), unique=True), commits=ops_strategy)
def test_a_log_folds_to_the_rows_and_order_the_commits_made_one_by_one(
    base: list[str], commits: list[list[tuple[str, str | None]]]
) -> None:
    # What a database would hold with each commit written on its own: a delete removes the
    # row, a write keeps a row's place or puts a new one last.
    expected = {key: "0" for key in base}
    for commit in commits:
        for key, doc in commit:
            if doc is None:
                expected.pop(key, None)
            else:
                expected[key] = doc
    pending = LogRows()
    for commit in commits:
        ops: list[Op] = [(ROWS, key, doc) for key, doc in commit]
        pending.add(ops)
    # Read back over the database's rows (a restart, a reader)...
    rows = {ROWS: {key: "0" for key in base}}
    pending.over(rows)
    assert list(rows[ROWS].items()) == list(expected.items())
    # ...and folded into the database itself.
    assert folded(base, pending) == list(expected.items())


@settings(max_examples=150, deadline=None)
@given(base=st.lists(st.sampled_from("abc"), unique=True), commits=ops_strategy)
def test_rows_written_as_new_and_deleted_before_the_fold_never_reach_the_database(
    base: list[str], commits: list[list[tuple[str, str | None]]]
) -> None:
    # A commit's writes of rows the store never held (not in the database, not written
    # before: a new journal entry) are `born`; the fold then makes the same database, and
    # neither writes nor deletes those of them deleted meanwhile.
    expected = {key: "0" for key in base}
    seen = set(base)
    pending = LogRows()
    gone_new: set[str] = set()
    for commit in commits:
        commit = list({key: doc for key, doc in commit}.items())  # a row once per commit
        new = {key for key, doc in commit if doc is not None and key not in seen}
        # As a commit writes them: its deletes, its other writes, then its new rows.
        commit.sort(key=lambda op: (op[1] is not None) + (op[0] in new))
        for key, doc in commit:
            if doc is None:
                expected.pop(key, None)
                if (ROWS, key) in pending.born:
                    gone_new.add(key)
                    continue
            else:
                expected[key] = doc
            gone_new.discard(key)  # asked for again since
        seen.update(key for key, _ in commit)
        pending.add_change(
            [(ROWS, key) for key, doc in commit if doc is None],
            [(ROWS, key, doc) for key, doc in commit if doc is not None and key not in new],
            [((ROWS, key), doc) for key, doc in commit if key in new and doc is not None],
        )
    asked = {key for _, key in pending.deletes()} | {key for _, key, _ in pending.upserts()}
    assert not asked & gone_new
    assert folded(base, pending) == list(expected.items())


@settings(max_examples=150, deadline=None)
@given(base=st.lists(st.sampled_from("abc"), unique=True), commits=ops_strategy)
def test_a_commit_read_back_from_its_log_holds_what_it_held_when_made(
    tmp_path_factory: pytest.TempPathFactory,
    base: list[str],
    commits: list[list[tuple[str, str | None]]],
) -> None:
    # Made, a commit's new rows (`born`, a new journal entry) go to the fold's bookkeeping in
    # one step after its upserts; the log says them as upserts, in that same place. A restart
    # that reads the log back (which cannot know which rows were new) folds to the same rows.
    log = tmp_path_factory.mktemp("log") / "commits.log"
    data = header(1, 1)
    seen = set(base)
    made = LogRows()
    for commit in commits:
        ops = {key: doc for key, doc in commit}  # a row once per commit
        deletes = [(ROWS, key) for key, doc in ops.items() if doc is None]
        upserts = [(ROWS, key, doc) for key, doc in ops.items() if doc is not None and key in seen]
        born = [
            ((ROWS, key), doc) for key, doc in ops.items() if doc is not None and key not in seen
        ]
        seen.update(ops)
        made.add_change(deletes, upserts, born)
        data += commit_bytes(upserts, deletes, born)
    log.write_bytes(data)
    replayed = read_log(log)
    assert replayed is not None and replayed.commits == len(commits)
    read_back = LogRows()
    read_back.add(replayed.ops)
    rows_made: dict[str, dict[str, str]] = {ROWS: {key: "0" for key in base}}
    rows_read: dict[str, dict[str, str]] = {ROWS: {key: "0" for key in base}}
    made.over(rows_made)
    read_back.over(rows_read)
    assert list(rows_made[ROWS].items()) == list(rows_read[ROWS].items())
    assert folded(base, made) == folded(base, read_back)


# -- the file ---------------------------------------------------------------------------------


def test_a_log_says_its_epoch_and_number_and_one_of_an_earlier_version_its_epoch(
    tmp_path: Path,
) -> None:
    log = tmp_path / "commits.log"
    log.write_bytes(header(3, 12) + commit_bytes([("k", "a", "1")], []))
    replayed = read_log(log)
    assert replayed is not None and (replayed.epoch, replayed.number) == (3, 12)
    log.write_bytes(header(3) + commit_bytes([("k", "a", "1")], []))
    replayed = read_log(log)
    assert replayed is not None and (replayed.epoch, replayed.number) == (3, None)
    assert replayed.ops == [("k", "a", "1")]


def test_a_torn_last_commit_is_not_one(tmp_path: Path) -> None:
    log = tmp_path / "commits.log"
    whole = commit_bytes([("k", "a\tb\n\u00e9", '{"x":1}')], [("k", "gone")])
    log.write_bytes(header(3) + whole + whole[:-3])
    replayed = read_log(log)
    assert replayed is not None and replayed.epoch == 3 and replayed.commits == 1
    assert replayed.ops == [("k", "gone", None), ("k", "a\tb\n\u00e9", '{"x":1}')]
    assert replayed.length == len(header(3) + whole)
    log.write_bytes(header(3)[:-1])  # killed while writing its first line
    assert read_log(log) is None


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda log: b"garbage\n" + log, id="not a log"),
        pytest.param(lambda log: log.replace(b'"gone"', b"gone"), id="a key not JSON"),
        pytest.param(lambda log: log.replace(b"k\t", b"\t", 1), id="no kind"),
        pytest.param(lambda log: log.replace(b"gone", b"g\xffe"), id="not ASCII"),
    ],
)
def test_a_damaged_log_is_corrupt_state_and_left_alone(tmp_path: Path, damage: object) -> None:
    directory = tmp_path / "data"
    sandbox = sandbox_in(directory)
    drive(sandbox, ["tokens", "creator_info"], Facts())
    whole = commit_bytes([("k", "x", "1")], [("k", "gone")])
    copy = crashed_copy(directory, tmp_path)
    sandbox.close()
    log = copy / "commits.log"
    log.write_bytes(damage(log.read_bytes() + whole + whole))  # type: ignore[operator]
    before = kept(copy)
    with pytest.raises(StoreError, match=r"corrupt state \(commits\.log"):
        sandbox_in(copy)
    assert kept(copy) == before


def kept(directory: Path) -> tuple[bytes, object]:
    """The log's bytes and the database's rows (SQLite may finish its own recovery of the WAL
    on opening a directory a killed process left: that changes files, not content)."""
    db = sqlite3.connect(directory / "state.sqlite3")
    try:
        rows = db.execute("SELECT kind, key, doc FROM rows ORDER BY rowid").fetchall()
    finally:
        db.close()
    return (directory / "commits.log").read_bytes(), rows


# -- crashes ----------------------------------------------------------------------------------


def test_what_the_log_holds_is_there_after_a_crash_and_for_a_reader(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    sandbox = sandbox_in(directory)
    facts = Facts()
    drive(sandbox, ["tokens", "init", "put", "status", "creator_info", "refresh"], facts)
    assert (directory / "commits.log").stat().st_size > 100, "in process, nothing folded yet"
    with sandbox.state.lock:
        expected = full_rows(sandbox.state)
    assert comparable(rows_on_disk(directory)) == comparable(expected)  # a reader's view
    copy = crashed_copy(directory, tmp_path)
    sandbox.close()
    again = sandbox_in(copy)
    with again.state.lock:
        assert comparable(full_rows(again.state)) == comparable(expected)
    with again.client() as http:
        check(http, facts)
    again.close()
    assert not (copy / "commits.log").exists()  # folded at close
    assert comparable(rows_on_disk(copy))


def test_a_fold_that_fails_loses_nothing_then_or_after_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "data"
    sandbox = sandbox_in(directory)
    facts = Facts()
    drive(sandbox, ["tokens", "init", "put"], facts)
    with sandbox.state.lock:
        acknowledged = comparable(full_rows(sandbox.state))

    def disk_full(*args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store_sqlite, "_write_rows", disk_full)
    with pytest.raises(sqlite3.OperationalError):
        sandbox.state.store.checkpoint()  # after the logs were swapped
    monkeypatch.undo()
    assert (directory / "commits.folding.log").exists()
    assert comparable(rows_on_disk(directory)) == acknowledged
    crashed = crashed_copy(directory, tmp_path)  # killed now: the folding log is read back

    # Its commits are no longer in memory: the next answer is refused, not acknowledged and
    # then lost, and the one after writes the whole state.
    token = facts.access_tokens[-1]
    with sandbox.client() as http:
        answer = http.post(CREATOR_INFO, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 500, answer.text
    drive(sandbox, ["status", "creator_info", "refresh"], facts, seed=4)
    assert not (directory / "commits.folding.log").exists()
    with sandbox.state.lock:
        expected = comparable(full_rows(sandbox.state))
    assert comparable(rows_on_disk(directory)) == expected
    sandbox.close()
    for kept, rows in ((directory, expected), (crashed, acknowledged)):
        again = sandbox_in(kept)
        with again.state.lock:
            assert comparable(full_rows(again.state)) == rows
        with again.client() as http:  # a change: its commit folds what the logs held
            http.post(CREATOR_INFO, headers={"Authorization": f"Bearer {facts.access_tokens[0]}"})
        again.close()
        assert sorted(p.name for p in kept.iterdir()) == [
            "commits.lock",
            "lock",
            "spool",
            "state.sqlite3",
        ]


def test_logs_of_an_earlier_epoch_are_void(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    sandbox = sandbox_in(directory)
    drive(sandbox, ["tokens", "init", "put", "creator_info"], Facts())
    stale = (directory / "commits.log").read_bytes()
    sandbox.reset()  # the whole state again: a new epoch
    drive(sandbox, ["tokens"], Facts())  # into its log (no publish this time)
    with sandbox.state.lock:
        expected = full_rows(sandbox.state)
    copy = crashed_copy(directory, tmp_path)
    sandbox.close()
    (copy / "commits.folding.log").write_bytes(stale)  # as if the crash came before the swap
    again = sandbox_in(copy)
    with again.state.lock:
        assert comparable(full_rows(again.state)) == comparable(expected)
    again.close()


def test_logs_without_their_database_are_never_read_back(tmp_path: Path) -> None:
    """A `--fresh` cut short after removing the database, before its logs."""
    directory = tmp_path / "data"
    sandbox = sandbox_in(directory)
    drive(sandbox, ["tokens", "init", "put"], Facts())
    copy = crashed_copy(directory, tmp_path)
    sandbox.close()
    for name in ("state.sqlite3", "state.sqlite3-wal", "state.sqlite3-shm"):
        (copy / name).unlink(missing_ok=True)
    again = sandbox_in(copy)
    assert again.state.resumed is False
    assert not again.state.world.publishes and not again.state.world.access_tokens
    assert not (copy / "commits.folding.log").exists()
    again.close()


def database_rows(directory: Path, kind: str = ROWS) -> list[tuple[str, str]]:
    db = sqlite3.connect(directory / "state.sqlite3")
    try:
        return db.execute(
            "SELECT key, doc FROM rows WHERE kind = ? ORDER BY rowid", (kind,)
        ).fetchall()
    finally:
        db.close()


def test_a_log_left_behind_after_its_fold_is_not_read_back_over_the_database(
    tmp_path: Path,
) -> None:
    """A crash between a fold's transaction and the deletion of the log it folded leaves that
    log behind. Written over the database a second time, a row the log deleted and wrote anew
    would move behind the rows written after it."""
    directory = tmp_path / "data"
    store = store_sqlite.SqliteStore(directory)
    store.apply(Change(full={SECTIONS: {"s": "1"}, ROWS: {"a": "0", "x": "0"}}))
    store.apply(Change(deletes=[(ROWS, "x")]))  # a creator removed...
    store.apply(Change(upserts=[(ROWS, "x", "1")]))  # ...and added again: now the last one
    store.apply(Change(upserts=[(ROWS, "w", "1")]))  # a new one after it
    folded = (directory / "commits.log").read_bytes()
    store.checkpoint()
    expected = [("a", "0"), ("x", "1"), ("w", "1")]
    assert database_rows(directory) == expected
    store.apply(Change(upserts=[(ROWS, "a", "2")]))  # in the next log, not folded
    crashed = crashed_copy(directory, tmp_path)
    (crashed / "commits.folding.log").write_bytes(folded)  # killed before deleting it
    store.close()
    expected[0] = ("a", "2")
    # What a reader (`export --data-dir`) and a restart find...
    assert list(store_sqlite.read_rows(crashed)[ROWS].items()) == expected
    again = store_sqlite.SqliteStore(crashed)
    assert list(again._effective_rows()[ROWS].items()) == expected
    # ...and what its first commit folds into the database, logs numbered on from there.
    again.apply(Change(upserts=[(ROWS, "v", "1")]))
    assert database_rows(crashed) == expected
    assert not (crashed / "commits.folding.log").exists()
    log = read_log(crashed / "commits.log")
    assert log is not None and log.number is not None and log.number > 2
    again.close()
    assert database_rows(crashed) == [*expected, ("v", "1")]


def test_a_log_of_an_earlier_version_without_a_number_is_read_back(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    store = store_sqlite.SqliteStore(directory)
    store.apply(Change(full={SECTIONS: {"s": "1"}, ROWS: {"a": "0"}}))
    store.apply(Change(upserts=[(ROWS, "b", "1")]))
    store.checkpoint()  # the database says a log numbered 1 was folded
    crashed = crashed_copy(directory, tmp_path)
    store.close()
    log = read_log(crashed / "commits.log")
    assert log is not None
    (crashed / "commits.log").write_bytes(header(log.epoch) + commit_bytes([(ROWS, "c", "1")], []))
    assert list(store_sqlite.read_rows(crashed)[ROWS].items()) == [
        ("a", "0"),
        ("b", "1"),
        ("c", "1"),
    ]


def test_with_its_logs_deleted_a_directory_starts_from_its_last_fold(tmp_path: Path) -> None:
    """The way out of a damaged log that docs/data-dir.md gives: delete both logs."""
    directory = tmp_path / "data"
    sandbox = sandbox_in(directory)
    facts = Facts()
    drive(sandbox, ["tokens", "init"], facts)
    sandbox.state.store.checkpoint()
    with sandbox.state.lock:
        folded = comparable(full_rows(sandbox.state))
    drive(sandbox, ["put", "creator_info"], facts, seed=4)  # only in the log
    copy = crashed_copy(directory, tmp_path)
    sandbox.close()
    log = copy / "commits.log"
    log.write_bytes(log.read_bytes().replace(b"\t", b"\x00", 1))  # a power cut's zeros
    with pytest.raises(StoreError, match=r"corrupt state \(commits\.log"):
        sandbox_in(copy)
    for name in ("commits.log", "commits.folding.log"):
        (copy / name).unlink(missing_ok=True)
    again = sandbox_in(copy)
    with again.state.lock:
        assert comparable(full_rows(again.state)) == folded
    again.close()
