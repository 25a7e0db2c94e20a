"""The data directory: the state's rows (store.codec) in SQLite, in WAL mode, under a lock.

Layout of DIR: `lock` (flock'ed by the running server, holds its pid), `state.sqlite3` (and
SQLite's `-wal` and `-shm` files), `spool/` (upload chunks). A commit is one transaction of the
rows a change touched (store.recorder). With `synchronous=NORMAL` (the default) a commit is in
the WAL file, in the operating system's hands, when it returns: it survives the process being
killed at any moment, not a power loss; with `fsync=True` (`synchronous=FULL`) it survives
that too. docs/design/state-store.md has the reasoning.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from mock_server.store.base import StoreError
from mock_server.store.codec import FORMAT, READS, ROW_KINDS, SECTIONS, VERSION, Rows, assemble
from mock_server.store.recorder import Change

DB_NAME = "state.sqlite3"
LOCK_NAME = "lock"
SPOOL_NAME = "spool"
KNOWN_NAMES = frozenset(
    {LOCK_NAME, SPOOL_NAME, DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal"}
)
AUTO_CHECKPOINT_PAGES = 10_000  # 40 MB of WAL at SQLite's 4 KiB pages
_SQLITE_HEADER = b"SQLite format 3\x00"


class SqliteStore:
    def __init__(self, directory: str | Path, *, fresh: bool = False, fsync: bool = False) -> None:
        """Take DIR for this process, or raise StoreError without changing anything in it."""
        self.directory = Path(directory)
        self.fsync = fsync
        self._lock_fd: int | None = None
        self._db: sqlite3.Connection | None = None
        self._use = threading.Lock()
        self._rows: Rows = {}  # what the database held when opened (until `load`)
        self.loaded_sections: dict[str, str] = {}  # their section rows (Recorder.adopt)
        where = f"--data-dir {directory}"
        self._take(where)
        try:
            self._open(where, fresh)
        except BaseException:
            self.close()
            raise

    @property
    def spool(self) -> Path:
        return self.directory / SPOOL_NAME

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
        try:
            path.mkdir(parents=True, exist_ok=True)
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
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)

    def _open(self, where: str, fresh: bool) -> None:
        db_path = self.directory / DB_NAME
        if fresh:  # whatever the database held (another version, corruption) goes
            for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal"):
                (self.directory / name).unlink(missing_ok=True)
        existed = db_path.exists() and db_path.stat().st_size > 0
        version = VERSION
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
            if existed:
                version = self._check(db, where)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={'FULL' if self.fsync else 'NORMAL'}")
            # The WAL is copied back into the database by `checkpoint` (a served sandbox's
            # ticker, once a second: each page once, however often it changed), or by SQLite
            # itself once it holds this many pages (in process, or a ticker falling behind).
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
                        [("format", FORMAT), ("version", str(VERSION))],
                    )
            else:
                self._rows = self._read(db)
                if version < VERSION:  # an older format, read as it is: from now on, this one
                    with _transaction(db):
                        db.execute(
                            "UPDATE meta SET value = ? WHERE key = 'version'", (str(VERSION),)
                        )
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{where}: corrupt state ({exc})") from exc

    @staticmethod
    def _check(db: sqlite3.Connection, where: str) -> int:
        """The directory's state format, or StoreError."""
        try:
            problems = [r[0] for r in db.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise StoreError(f"{where}: corrupt state ({problems[0]})")
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{where}: corrupt state ({exc})") from exc
        if meta.get("format") != FORMAT:
            raise StoreError(f"{where}: corrupt state (not a tiktok-sandbox state database)")
        version = meta.get("version", "")
        if not version.isdigit():
            raise StoreError(f"{where}: corrupt state (state format {version!r})")
        if int(version) > VERSION:
            raise StoreError(
                f"{where}: written by a newer tiktok-sandbox (state format {version}, this one "
                f"reads up to {VERSION}); upgrade, or use --fresh"
            )
        if int(version) not in READS:
            raise StoreError(f"{where}: corrupt state (state format {version})")
        return int(version)

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

    def apply(self, change: Change) -> None:
        """Write `change` in one transaction: on disk (see the module doc) when this returns."""
        with self._use:
            if self._db is not None:  # closed: the sandbox stopped, its late work is dropped
                self._apply(self._db, change)

    def _apply(self, db: sqlite3.Connection, change: Change) -> None:
        with _transaction(db):
            if change.full is not None:
                db.execute("DELETE FROM rows")
                for kind in (SECTIONS, *ROW_KINDS):
                    db.executemany(
                        "INSERT INTO rows VALUES (?, ?, ?)",
                        [(kind, k, v) for k, v in change.full.get(kind, {}).items()],
                    )
            if change.deletes:
                db.executemany("DELETE FROM rows WHERE kind = ? AND key = ?", change.deletes)
            if change.upserts:
                db.executemany(
                    "INSERT INTO rows VALUES (?, ?, ?)"
                    " ON CONFLICT(kind, key) DO UPDATE SET doc = excluded.doc",
                    change.upserts,
                )
        if change.expected is not None:
            _verify(self._read(db), change.expected, change.excused)

    def checkpoint(self) -> None:
        """Copy what the WAL holds back into the database file (without waiting for readers)."""
        with self._use:
            if self._db is not None:
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        with self._use:  # never while a commit uses the connection (from another thread)
            self._close()

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None


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
    db_path = Path(directory) / DB_NAME
    if not db_path.is_file():
        raise StoreError(f"{where}: no sandbox state there")
    try:
        db = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"{where}: cannot read it ({exc})") from exc
    try:
        SqliteStore._check(db, where)
        rows = SqliteStore._read(db)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{where}: corrupt state ({exc})") from exc
    finally:
        db.close()
    if not rows.get(SECTIONS):
        raise StoreError(f"{where}: no sandbox state there")
    try:
        return assemble(rows)
    except (ValueError, TypeError, AttributeError, RecursionError) as exc:
        raise StoreError(f"{where}: corrupt state ({exc})") from exc
