"""The data directory: the state's rows (store.codec) in SQLite, in WAL mode, under a lock,
with a commit log in front of it (store.commitlog).

Layout of DIR: `lock` (flock'ed by the running server, holds its pid), `state.sqlite3` (and
SQLite's `-wal` and `-shm` files), `commits.log` (the commits since the last fold, and
`commits.folding.log` while one is folded), `commits.lock` (taken by readers of a running
server's directory while they read, by the server while it swaps logs), `spool/` (upload
chunks). A commit is one append of the rows a change touched (store.recorder) to the log; the
log is folded into the database in one transaction every few seconds (`checkpoint`, a served
sandbox's ticker) or once it is large, and at close. With `fsync=False` (the default) a commit
is in the operating system's hands when it returns: it survives the process being killed at any
moment, not a power loss; with `fsync=True` each append waits for the disk (fdatasync) and
SQLite runs with `synchronous=FULL`. docs/design/state-store.md has the reasoning.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from mock_server.store.base import StoreError
from mock_server.store.codec import FORMAT, READS, ROW_KINDS, SECTIONS, VERSION, Rows, assemble
from mock_server.store.commitlog import (
    LogCorrupt,
    LogRows,
    Replayed,
    commit_bytes,
    count,
    header,
    read_log,
)
from mock_server.store.recorder import Change

DB_NAME = "state.sqlite3"
LOCK_NAME = "lock"
SPOOL_NAME = "spool"
LOG_NAME = "commits.log"
FOLDING_NAME = "commits.folding.log"
LOGS_LOCK_NAME = "commits.lock"
DB_FILES = (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal")
KNOWN_NAMES = frozenset({LOCK_NAME, SPOOL_NAME, LOG_NAME, FOLDING_NAME, LOGS_LOCK_NAME, *DB_FILES})
AUTO_CHECKPOINT_PAGES = 10_000  # 40 MB of WAL at SQLite's 4 KiB pages
# The log is folded at once when it holds this many different rows (what the fold writes, and
# keeps in memory until then) or this many bytes (what a restart replays at most). In process
# there is no ticker to fold it every few seconds. Rows, not commits: a busy second commits
# each of a few thousand rate-limit keys and the journal's latest entries many times over, and
# the fold writes each once.
FOLD_ROWS = 20_000
FOLD_BYTES = 32 * 1024 * 1024
_SQLITE_HEADER = b"SQLite format 3\x00"
# The directory's format, in `meta.version`: its rows' (codec.VERSION, 1 and 2), and 3, which
# adds numbered commit logs. Versions before 3 cannot read those, so a directory of format 3
# tells them it was written by a newer tiktok-sandbox rather than look corrupt to them. Its
# rows are format 2: nothing in a format 2 directory needs writing anew.
DIRECTORY_VERSION = 3
DIRECTORY_READS = frozenset({*READS, DIRECTORY_VERSION})


class SqliteStore:
    def __init__(self, directory: str | Path, *, fresh: bool = False, fsync: bool = False) -> None:
        """Take DIR for this process, or raise StoreError without changing anything in it."""
        self.directory = Path(directory)
        self.fsync = fsync
        self.folds_on_tick = False  # StateStore: set while a served sandbox's ticker runs
        self._fold_due = False  # a commit found the log full, with folds left to the ticker
        self._lock_fd: int | None = None
        self._db: sqlite3.Connection | None = None
        # `_fold`: the database and the logs' files (a fold, a whole-state write, close);
        # `_use`: the active log and what it holds (`_pending`). Taken in that order.
        self._fold = threading.Lock()
        self._use = threading.Lock()
        self._log_fd: int | None = None
        self._logs_lock_fd: int | None = None
        # What the logs hold and the database does not (since the last fold).
        self._pending = LogRows()
        self._log_bytes = 0
        self._epoch = 0  # the database's: a whole-state write starts the next
        self._log_number = 0  # the active log's (commitlog: each log's is one more)
        self._unnumbered = False  # the last run's logs include format 2 ones (no number)
        self._version = DIRECTORY_VERSION  # the directory's format when opened
        self._started = False  # the first commit makes the directory this process's
        self._broken = ""  # why the last fold failed (until a whole-state write)
        self._rows: Rows = {}  # what the directory held when opened (until `load`)
        self.loaded_sections: dict[str, str] = {}  # their section rows (Recorder.adopt)
        where = f"--data-dir {directory}"
        self._take(where)
        try:
            self._open(where, fresh)
        except BaseException:
            self.close()
            raise

    def claim(self) -> None:
        """Write this process's pid into DIR/lock, once the directory is accepted (the state it
        holds restored): a refused start leaves the file as it was."""
        if self._lock_fd is not None:
            os.ftruncate(self._lock_fd, 0)
            os.pwrite(self._lock_fd, f"{os.getpid()}\n".encode(), 0)

    @property
    def spool(self) -> Path:
        return self.directory / SPOOL_NAME

    @property
    def older_format(self) -> bool:
        """The directory's rows are an older format (read as they are, written anew)."""
        return self._version < VERSION

    def _take(self, where: str) -> None:
        path = self.directory
        if path.exists() and not path.is_dir():
            raise StoreError(f"{where}: not a directory")
        if path.is_dir():
            foreign = sorted(n for n in os.listdir(path) if n not in KNOWN_NAMES)
            if foreign:
                raise StoreError(
                    f"{where}: not a sandbox data directory (it holds {foreign[0]}); "
                    "choose an empty or new directory"
                )
            _check_kinds(path, where)
        made = [p for p in (path, *path.parents) if not p.exists()]
        try:
            path.mkdir(parents=True, exist_ok=True)
            if self.fsync:  # the new directories' names, before a commit in them is kept
                for directory in reversed(made):
                    _fsync_directory(directory.parent)
            fd = os.open(path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(f"{where}: not writable ({exc.strerror or exc})") from exc
        if not os.access(path, os.W_OK):
            os.close(fd)
            raise StoreError(f"{where}: not writable (permission denied)")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise StoreError(f"{where}: in use by another sandbox (pid {holder})") from None
        self._lock_fd = fd

    def _open(self, where: str, fresh: bool) -> None:
        db_path = self.directory / DB_NAME
        # SQLite opens a database it cannot write read-only, and a chunk file or the spool is
        # written only when an upload comes: whatever the sandbox would write must be writable
        # now, or the start is refused rather than every change failing later.
        unwritable = _unwritable(self.directory)
        if unwritable is not None:
            raise StoreError(f"{where}: not writable ({unwritable}: permission denied)")
        if fresh:  # whatever the directory held (another version, corruption) goes
            for name in (LOG_NAME, FOLDING_NAME, *DB_FILES):  # its logs first (see below)
                (self.directory / name).unlink(missing_ok=True)
        existed = db_path.exists() and db_path.stat().st_size > 0
        if not existed:  # logs without their database (a --fresh cut short): never replayed
            for name in (LOG_NAME, FOLDING_NAME):
                (self.directory / name).unlink(missing_ok=True)
        if existed:
            with open(db_path, "rb") as f:
                if f.read(len(_SQLITE_HEADER)) != _SQLITE_HEADER:
                    raise StoreError(f"{where}: corrupt state (not an SQLite database)")
        try:
            db = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"{where}: not writable ({exc})") from exc
        self._db = db
        try:
            folded, logs = 0, []
            if existed:
                self._version, self._epoch, folded = self._check(db, where)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={'FULL' if self.fsync else 'NORMAL'}")
            # The WAL is copied back into the database after each fold, or by SQLite itself
            # once it holds this many pages.
            db.execute(f"PRAGMA wal_autocheckpoint={AUTO_CHECKPOINT_PAGES}")
            if not existed:
                with _transaction(db):
                    db.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                    db.execute(
                        "CREATE TABLE rows(kind TEXT NOT NULL, key TEXT NOT NULL,"
                        " doc TEXT NOT NULL, PRIMARY KEY(kind, key))"
                    )
                    db.executemany(
                        "INSERT INTO meta VALUES (?, ?)",
                        [("format", FORMAT), ("version", str(DIRECTORY_VERSION)), ("epoch", "0")],
                    )
            else:
                self._rows = self._read(db)
                # The commits since the last fold: read now, written by the first commit (so a
                # directory refused later, by the state it holds, is left as it was).
                try:
                    logs = _read_logs(self.directory)
                except LogCorrupt as exc:
                    raise StoreError(f"{where}: corrupt state ({exc})") from exc
                self._pending = _unfolded(logs, self._epoch, folded)
                self._unnumbered = any(
                    log.number is None and log.epoch == self._epoch for log in logs
                )
                self._pending.over(self._rows)
            # The next log's number follows every log's so far, folded or left behind.
            self._log_number = max([folded, *(log.number or 0 for log in logs)])
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{where}: corrupt state ({exc})") from exc

    @staticmethod
    def _check(db: sqlite3.Connection, where: str) -> tuple[int, int, int]:
        """The directory's format, epoch and the number of the last log folded into it, once
        SQLite finds its database sound; or StoreError."""
        try:
            problems = [r[0] for r in db.execute("PRAGMA quick_check")]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{where}: corrupt state ({exc})") from exc
        if problems != ["ok"]:
            raise StoreError(f"{where}: corrupt state ({problems[0]})")
        return SqliteStore._meta(db, where)

    @staticmethod
    def _meta(db: sqlite3.Connection, where: str) -> tuple[int, int, int]:
        """`_check` without SQLite's own check (a reader reads it again with the rows)."""
        try:
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{where}: corrupt state ({exc})") from exc
        if meta.get("format") != FORMAT:
            raise StoreError(f"{where}: corrupt state (not a tiktok-sandbox state database)")
        version = count(meta.get("version", ""))
        if version is None:
            raise StoreError(f"{where}: corrupt state (state format {meta.get('version')!r})")
        if version > DIRECTORY_VERSION:
            raise StoreError(
                f"{where}: written by a newer tiktok-sandbox (state format {version}, this one "
                f"reads up to {DIRECTORY_VERSION}); upgrade, or use --fresh"
            )
        if version not in DIRECTORY_READS:
            raise StoreError(f"{where}: corrupt state (state format {version})")
        numbers = []
        for name in ("epoch", "folded"):  # format 1 had no commit log, format 2 no numbers
            number = count(meta.get(name, "0"))
            if number is None:
                raise StoreError(f"{where}: corrupt state ({name} {meta.get(name)!r})")
            numbers.append(number)
        return version, numbers[0], numbers[1]

    @staticmethod
    def _read(db: sqlite3.Connection) -> Rows:
        rows: Rows = {}
        for kind, key, doc in db.execute("SELECT kind, key, doc FROM rows ORDER BY rowid"):
            rows.setdefault(kind, {})[key] = doc
        return rows

    def load(self) -> dict[str, Any] | None:
        """The document the directory holds (None: a new directory). Read once, at start."""
        rows, self._rows = self._rows, {}
        self.loaded_sections = rows.get(SECTIONS, {})
        if not rows.get(SECTIONS):
            return None
        try:
            return assemble(rows)
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:
            raise StoreError(f"--data-dir {self.directory}: corrupt state ({exc})") from exc

    # -- commits -----------------------------------------------------------------------------

    def apply(self, change: Change) -> None:
        """Keep `change`: on disk (see the module doc), all of it or none, when this returns."""
        if change.full is not None:
            self._write_whole(change.full)
        else:
            if not self._started:
                self._start()
            data = commit_bytes(change.upserts, change.deletes, change.born)
            with self._use:
                if self._db is None:  # closed: the sandbox stopped, its late work is dropped
                    return
                if self._log_fd is None or self._broken:
                    # A fold failed: what it took is only in its log. The caller's next commit
                    # writes the whole state (Recorder.forget), which starts the logs again.
                    raise StoreError(f"--data-dir {self.directory}: {self._broken or 'no log'}")
                self._append(self._log_fd, data)
                self._pending.add_change(change.deletes, change.upserts, change.born)
                self._log_bytes += len(data)
                full = len(self._pending) >= FOLD_ROWS or self._log_bytes >= FOLD_BYTES
            if full:
                if self.folds_on_tick:  # within a tick, on the ticker's thread
                    self._fold_due = True
                else:
                    self.checkpoint()
        if change.expected is not None:
            _verify(self._effective_rows(), change.expected, change.excused)

    def _append(self, fd: int, data: bytes) -> None:
        """One commit into the log. A write that fails part-way leaves a torn commit: the
        next commit is then a whole-state write (Recorder.forget), whose new epoch voids it."""
        _write_all(fd, data)
        if self.fsync:
            os.fdatasync(fd)

    def _start(self) -> None:
        """The first commit: what the logs of the last run hold goes into the database (with
        this version's format), and a new log starts. Readers are not waited for: one that
        read those logs finds their numbers folded when it reads the database. Logs of format 2
        have no number to say so: the fold starts a new epoch instead, which voids them."""
        with self._fold:
            db = self._db
            if self._started or db is None:
                return
            epoch = self._epoch + 1 if self._unnumbered else self._epoch
            with _transaction(db):
                _write_rows(db, self._pending)
                self._set_meta(db, epoch, folded=self._log_number)
            self._epoch, self._unnumbered = epoch, False
            self._restart_logs()

    def _write_whole(self, rows: Rows) -> None:
        """Every row (the first commit of a new directory, a reset, an import): a new epoch,
        which voids the logs (a crash before they are replaced leaves logs of the old one, and a
        reader that read them finds the new epoch when it reads the database)."""
        with self._fold:
            db = self._db
            if db is None:
                return
            with self._use:
                with _transaction(db):
                    db.execute("DELETE FROM rows")
                    for kind in (SECTIONS, *ROW_KINDS):
                        db.executemany(
                            "INSERT INTO rows VALUES (?, ?, ?)",
                            [(kind, k, v) for k, v in rows.get(kind, {}).items()],
                        )
                    self._set_meta(db, self._epoch + 1, folded=self._log_number)
                self._epoch += 1  # once it is the database's
                self._broken = ""
                self._unnumbered = False
                self._restart_logs()

    def _restart_logs(self) -> None:
        """The database holds everything: no log left, a new one for what comes."""
        self._logs_lock()  # there before any log a reader could read is swapped
        self._pending = LogRows()
        (self.directory / FOLDING_NAME).unlink(missing_ok=True)
        self._new_log()
        self._started = True

    def _set_meta(self, db: sqlite3.Connection, epoch: int, *, folded: int) -> None:
        """In the transaction that writes rows: the format, the epoch, and the number of the
        last log whose commits the database now holds."""
        db.executemany(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [("version", str(DIRECTORY_VERSION)), ("epoch", str(epoch)), ("folded", str(folded))],
        )

    def _new_log(self) -> None:
        """Start `commits.log` afresh for the current epoch (under `_use`, or before any commit):
        a new file, never the old one cut short, so a reader that has the old one open reads
        all of it rather than its start followed by the new one's middle."""
        if self._log_fd is not None:
            os.close(self._log_fd)
            self._log_fd = None
        (self.directory / LOG_NAME).unlink(missing_ok=True)
        fd = os.open(self.directory / LOG_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._log_number += 1
        _write_all(fd, header(self._epoch, self._log_number))
        if self.fsync:  # the file and its name, before a commit in it is acknowledged
            os.fsync(fd)
            _fsync_directory(self.directory)
        self._log_fd = fd
        self._log_bytes = 0

    def checkpoint_due(self) -> bool:
        return self._fold_due

    def checkpoint(self) -> None:
        """Fold the log into the database: one transaction of what it holds, each row once.
        Commits go on meanwhile, into a new log."""
        self._fold_due = False  # a commit that finds the log full again sets it again
        with self._fold:
            db = self._db
            if db is None or not self._started:
                return
            if self._broken:  # only a whole-state write mends it (apply says so)
                return
            lock = self._logs_lock_if_free()
            if lock is None:  # a reader is reading the logs (`export`): fold next time
                return
            try:
                with lock, self._use:
                    if not self._pending:
                        return
                    pending, self._pending = self._pending, LogRows()
                    folding = self._log_number
                    self._swap_logs()
                with _transaction(db):
                    _write_rows(db, pending)
                    # A crash before the folded log is deleted leaves it behind: its number
                    # says it is in the database (writing it again could reorder rows).
                    self._set_meta(db, self._epoch, folded=folding)
            except BaseException as exc:
                # What it took is in the logs on disk, not in memory any more: the next commit
                # is refused, and the one after writes the whole state.
                self._broken = f"folding the commit log failed ({exc})"
                raise
            # Without waiting for readers (a paused `export` must not stop the server): one
            # that reads this log meanwhile finds its number folded with the rows it reads.
            (self.directory / FOLDING_NAME).unlink(missing_ok=True)
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _swap_logs(self) -> None:
        """`commits.log` becomes the log being folded, and a new one starts (under `_use`;
        no folded log is left over: a fold that failed breaks the store until a whole-state
        write, which removes it)."""
        if self._log_fd is not None:
            os.close(self._log_fd)
            self._log_fd = None
        os.replace(self.directory / LOG_NAME, self.directory / FOLDING_NAME)
        self._new_log()

    def _logs_lock_if_free(self) -> _flocked | None:
        """The logs to swap, unchanged for readers (`read_directory`) until they are done: a
        reader that read `commits.folding.log` before a swap would otherwise read the new
        `commits.log` after it and miss the log in between. None when a reader holds them: a
        paused `export` must not stop the server, and the fold waits for the next tick. (Every
        other change to the logs' files leaves a reader either logs the database's number says
        are folded, or logs of an epoch the database says is over.)"""
        fd = self._logs_lock()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        return _flocked(fd, fcntl.LOCK_EX)

    def _logs_lock(self) -> int:
        """`commits.lock`, opened (and made) once."""
        if self._logs_lock_fd is None:
            self._logs_lock_fd = os.open(
                self.directory / LOGS_LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644
            )
        return self._logs_lock_fd

    def _effective_rows(self) -> Rows:
        """Every row as the directory holds it: the database, then the log (verification)."""
        with self._fold:
            if self._db is None:
                return {}
            rows = self._read(self._db)
            with self._use:
                self._pending.over(rows)
        return rows

    def close(self) -> None:
        """Fold what the log holds, then let the directory go."""
        try:
            if self._started:
                self.checkpoint()
        finally:
            with self._fold, self._use:  # never while a commit uses the database or the log
                if self._log_fd is not None and not self._pending:  # it holds no commit
                    (self.directory / LOG_NAME).unlink(missing_ok=True)
                self._close()

    def _close(self) -> None:
        if self._log_fd is not None:
            os.close(self._log_fd)
            self._log_fd = None
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._logs_lock_fd is not None:
            os.close(self._logs_lock_fd)
            self._logs_lock_fd = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _check_kinds(directory: Path, where: str) -> None:
    """Each of the sandbox's names in `directory` that exists is what the sandbox made there (a
    directory for `spool`, a file for the others), or the directory is corrupt state: nothing
    in it is read, written or removed (not even by `--fresh`)."""
    for name in sorted(KNOWN_NAMES):
        found = directory / name
        if name == SPOOL_NAME:
            wrong = found.exists() and not found.is_dir()
        else:
            wrong = found.exists() and not found.is_file()
        if wrong:
            kind = "a directory" if name == SPOOL_NAME else "a file"
            raise StoreError(f"{where}: corrupt state ({name} is not {kind})")


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_rows(db: sqlite3.Connection, rows: LogRows) -> None:
    gone = rows.deletes()
    if gone:
        db.executemany("DELETE FROM rows WHERE kind = ? AND key = ?", gone)
    db.executemany(
        "INSERT INTO rows VALUES (?, ?, ?) ON CONFLICT(kind, key) DO UPDATE SET doc = excluded.doc",
        rows.upserts(),
    )


def _unwritable(directory: Path) -> str | None:
    """The first of the sandbox's files in `directory` that this process cannot write."""
    for name in (*DB_FILES, LOG_NAME, FOLDING_NAME, LOGS_LOCK_NAME, SPOOL_NAME):
        if (directory / name).exists() and not os.access(directory / name, os.W_OK):
            return name
    spool = directory / SPOOL_NAME
    if spool.is_dir():
        with os.scandir(spool) as entries:
            for entry in entries:
                if not os.access(entry.path, os.W_OK):
                    return f"{SPOOL_NAME}/{entry.name}"
    return None


def _read_logs(directory: Path) -> list[Replayed]:
    """The directory's logs, oldest first: by number (unnumbered ones, of format 2: the log
    being folded first)."""
    logs = (read_log(directory / name) for name in (FOLDING_NAME, LOG_NAME))
    return sorted((log for log in logs if log is not None), key=lambda log: log.number or 0)


def _unfolded(logs: list[Replayed], epoch: int, folded: int) -> LogRows:
    """What the logs hold over a database of `epoch` into which the logs up to number `folded`
    were folded: a log of another epoch was voided by a whole-state write, and a folded one is
    there already (a crash came between its fold and its deletion). A log of an earlier version
    has no number: it is read, as that version did."""
    found = LogRows()
    for log in logs:
        if log.epoch == epoch and (log.number is None or log.number > folded):
            found.add(log.ops)
    return found


class _flocked:
    def __init__(self, fd: int, how: int) -> None:
        self.fd, self.how = fd, how

    def __enter__(self) -> None:
        fcntl.flock(self.fd, self.how)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)


# Kinds whose order means nothing (deliveries and journal entries are ordered by their seq
# when read).
_UNORDERED = frozenset({"world.outbox.deliveries", "world.limiter.hits", "journal.entries"})


def _verify(found: Rows, expected: Rows, excused: set[tuple[str, str]]) -> None:
    """Tests: the rows written by commits are the rows of the whole state, in order, but for
    the records other changes under way still hold (`excused`: their commits will write them)."""
    for kind in sorted(found.keys() | expected.keys()):
        have, want = found.get(kind, {}), expected.get(kind, {})
        for kept_kind, key in excused:
            if kept_kind == kind:
                have.pop(key, None)
                want.pop(key, None)
        ordered = kind not in _UNORDERED
        same = list(have.items()) == list(want.items()) if ordered else have == want
        if not same:
            wrong = [k for k in want if have.get(k) != want[k]] + [k for k in have if k not in want]
            detail = (
                f"{wrong[0]!r}: {have.get(wrong[0])!r} != {want.get(wrong[0])!r}"
                if wrong
                else f"order {list(have)[:5]} != {list(want)[:5]}"
            )
            raise AssertionError(f"data directory rows of {kind} differ from the state: {detail}")


class _transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def read_directory(directory: str | Path) -> dict[str, Any]:
    """The document a data directory holds, read without taking it (a server may be running
    on it: readers see its last commit). StoreError when there is none to read."""
    where = f"--data-dir {directory}"
    rows = read_rows(directory)
    if not rows.get(SECTIONS):
        raise StoreError(f"{where}: no sandbox state there")
    try:
        return assemble(rows)
    except (ValueError, TypeError, AttributeError, RecursionError) as exc:
        raise StoreError(f"{where}: corrupt state ({exc})") from exc


def read_rows(directory: str | Path) -> Rows:
    """Every row a data directory holds (its database, and the commits its logs hold), read
    without taking it. StoreError when there is no database to read."""
    where = f"--data-dir {directory}"
    directory = Path(directory)
    db_path = directory / DB_NAME
    if directory.is_dir():
        _check_kinds(directory, where)
    if not db_path.is_file():
        raise StoreError(f"{where}: no sandbox state there")
    db = _open_to_read(db_path, where)
    lock_fd = _open_logs_lock(directory)
    try:
        # The logs first, then the database with the number of the last log folded into it
        # and its epoch, read together: a fold that ends meanwhile has put into the database
        # what a log read holds, and its number says so; a whole-state write meanwhile voids
        # the logs read, and the database holds that state (docs/design/state-store.md).
        with _flocked(lock_fd, fcntl.LOCK_SH) if lock_fd is not None else nullcontext():
            SqliteStore._check(db, where)  # a clear error before reading any log
            logs = _read_logs(directory)
            db.execute("BEGIN")
            _, epoch, folded = SqliteStore._meta(db, where)
            rows = SqliteStore._read(db)
            db.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{where}: corrupt state ({exc})") from exc
    except LogCorrupt as exc:
        raise StoreError(f"{where}: corrupt state ({exc})") from exc
    finally:
        db.close()
        if lock_fd is not None:
            os.close(lock_fd)
    _unfolded(logs, epoch, folded).over(rows)
    return rows


def _open_to_read(db_path: Path, where: str) -> sqlite3.Connection:
    """The database, read-only. A reader of a database in WAL mode writes SQLite's `-shm`
    file beside it: where this user cannot, a database with no WAL (its server stopped, its
    log folded) is read as the immutable file it then is; one a server is writing cannot be
    read by this user, and says so rather than calling it corrupt."""
    uri = db_path.resolve().as_uri()
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True)
        try:
            db.execute("PRAGMA schema_version").fetchone()
        except sqlite3.OperationalError as exc:
            db.close()
            if "readonly" not in str(exc) and "unable to open" not in str(exc):
                raise
            wal = db_path.with_name(f"{db_path.name}-wal")
            if wal.exists() and wal.stat().st_size > 0:
                raise StoreError(
                    f"{where}: cannot read it as this user while a sandbox writes it (SQLite "
                    f"needs to write {db_path.name}-shm); export as the user the sandbox runs as"
                ) from exc
            db = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"{where}: cannot read it ({exc})") from exc
    return db


def _open_logs_lock(directory: Path) -> int | None:
    """`commits.lock`, made if need be: a reader that found none and read without it could
    miss a log a server starting meanwhile swapped. None where it cannot be made (a directory
    this user may not write to, which no server of theirs writes either)."""
    try:
        return os.open(directory / LOGS_LOCK_NAME, os.O_RDONLY | os.O_CREAT, 0o644)
    except PermissionError:
        pass
    except OSError as exc:
        if exc.errno != errno.EROFS:
            raise
    try:
        return os.open(directory / LOGS_LOCK_NAME, os.O_RDONLY)
    except FileNotFoundError:
        return None
