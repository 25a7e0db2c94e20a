"""The data directory: the state document in SQLite (WAL, synchronous=FULL), under a lock.

Layout of DIR: `lock` (flock'ed by the running server, holds its pid), `state.sqlite3` (and
SQLite's `-wal` and `-shm` files), `spool/` (upload chunks). The document is split into rows:
one per entity of the large collections (so a commit writes only the entities that changed)
and one per other section. docs/design/state-store.md has the reasoning.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from mock_server.store.base import StoreError
from mock_server.store.codec import FORMAT, VERSION

DB_NAME = "state.sqlite3"
LOCK_NAME = "lock"
SPOOL_NAME = "spool"
KNOWN_NAMES = frozenset(
    {LOCK_NAME, SPOOL_NAME, DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal"}
)
# World fields kept one row per entry (dicts keyed by id, in insertion order).
WORLD_COLLECTIONS = (
    "apps",
    "creators",
    "codes",
    "grants",
    "access_tokens",
    "refresh_tokens",
    "client_tokens",
    "publishes",
    "uploads",
)
JOURNAL_ENTRIES = "journal.entries"
_SECTION = "doc"  # the kind of the rows that hold one section each
_SQLITE_HEADER = b"SQLite format 3\x00"

Rows = dict[str, dict[str, str]]  # kind -> key -> JSON text, in order


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def split(doc: dict[str, Any], texts: dict[int, tuple[object, str]] | None = None) -> Rows:
    """The rows of a document (see `assemble`). `texts` caches the JSON of journal entries by
    the identity of their encoded dict (the codec hands out the same dict for an entry)."""
    texts = {} if texts is None else texts

    def entry_text(entry: dict[str, Any]) -> str:
        known = texts.get(id(entry))
        if known is None or known[0] is not entry:
            known = (entry, _json(entry))
            texts[id(entry)] = known
        return known[1]

    rows: Rows = {_SECTION: {}}
    for name, value in doc.items():
        if name == "world":
            for field, section in value.items():
                if field in WORLD_COLLECTIONS:
                    rows[f"world.{field}"] = {k: _json(v) for k, v in section.items()}
                else:
                    rows[_SECTION][f"world.{field}"] = _json(section)
        elif name == "journal":
            rows[JOURNAL_ENTRIES] = {str(e["seq"]): entry_text(e) for e in value["entries"]}
            for field, section in value.items():
                if field != "entries":
                    rows[_SECTION][f"journal.{field}"] = _json(section)
        else:
            rows[_SECTION][name] = _json(value)
    return rows


def assemble(rows: Rows) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "world": {name: {} for name in WORLD_COLLECTIONS},
        "journal": {"entries": []},
    }
    for path, text in rows.get(_SECTION, {}).items():
        head, _, field = path.partition(".")
        if field and head in ("world", "journal"):
            doc[head][field] = json.loads(text)
        else:
            doc[path] = json.loads(text)
    for name in WORLD_COLLECTIONS:
        doc["world"][name] = {k: json.loads(v) for k, v in rows.get(f"world.{name}", {}).items()}
    doc["journal"]["entries"] = [json.loads(v) for v in rows.get(JOURNAL_ENTRIES, {}).values()]
    first = [k for k in ("format", "version", "written_by", "sandbox") if k in doc]
    return {k: doc[k] for k in [*first, *(k for k in doc if k not in first)]}


class SqliteStore:
    durable = True

    def __init__(self, directory: str | Path, *, fresh: bool = False) -> None:
        """Take DIR for this process, or raise StoreError without changing anything in it."""
        self.directory = Path(directory)
        self._lock_fd: int | None = None
        self._db: sqlite3.Connection | None = None
        self._rows: Rows = {}  # what the last commit left in the database
        self._texts: dict[int, tuple[object, str]] = {}  # see `split`
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
                self._check(db, where)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
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
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{where}: corrupt state ({exc})") from exc

    @staticmethod
    def _check(db: sqlite3.Connection, where: str) -> None:
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

    @staticmethod
    def _read(db: sqlite3.Connection) -> Rows:
        rows: Rows = {}
        for kind, key, doc in db.execute("SELECT kind, key, doc FROM rows ORDER BY rowid"):
            rows.setdefault(kind, {})[key] = doc
        return rows

    def load(self) -> dict[str, Any] | None:
        if not self._rows.get(_SECTION):
            return None
        try:
            return assemble(self._rows)
        except (ValueError, TypeError, AttributeError) as exc:
            raise StoreError(f"--data-dir {self.directory}: corrupt state ({exc})") from exc

    def commit(self, doc: dict[str, Any]) -> None:
        """Write the rows that changed since the last commit, in one fsynced transaction."""
        assert self._db is not None, "the store is closed"
        texts = self._texts
        new = split(doc, texts)
        live = {id(e) for e in doc["journal"]["entries"]}
        self._texts = {k: v for k, v in texts.items() if k in live}
        db = self._db
        with _transaction(db):
            for kind in self._rows.keys() - new.keys():
                db.execute("DELETE FROM rows WHERE kind = ?", (kind,))
            for kind, rows in new.items():
                _write_kind(db, kind, self._rows.get(kind, {}), rows)
        self._rows = new

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None


def _write_kind(
    db: sqlite3.Connection, kind: str, old: dict[str, str], new: dict[str, str]
) -> None:
    """Make `kind`'s rows `new`, keeping their order (rowid order), writing what changed."""
    if old == new and list(old) == list(new):
        return
    gone = [k for k in old if k not in new]
    kept = [k for k in old if k in new]
    if list(new)[: len(kept)] != kept:  # reordered: write the kind again, in order
        db.execute("DELETE FROM rows WHERE kind = ?", (kind,))
        db.executemany("INSERT INTO rows VALUES (?, ?, ?)", [(kind, k, v) for k, v in new.items()])
        return
    db.executemany("DELETE FROM rows WHERE kind = ? AND key = ?", [(kind, k) for k in gone])
    db.executemany(
        "INSERT INTO rows VALUES (?, ?, ?) ON CONFLICT(kind, key) DO UPDATE SET doc = excluded.doc",
        [(kind, k, v) for k, v in new.items() if old.get(k) != v],
    )


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
    if not rows.get(_SECTION):
        raise StoreError(f"{where}: no sandbox state there")
    try:
        return assemble(rows)
    except (ValueError, TypeError, AttributeError) as exc:
        raise StoreError(f"{where}: corrupt state ({exc})") from exc
