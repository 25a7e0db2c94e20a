"""The data directory's commit log: a commit is one append to `commits.log`, and the log is
folded into the database (store.sqlite) every few seconds.

A commit made as an SQLite transaction writes every page it touches into SQLite's WAL: an
answer's journal entry, its rate-limit key and two sections are about ten 4 KiB pages, most of
a served commit's cost. Appending the rows themselves is one write() of a few KB; the fold then
writes each row once however often it changed since the last fold (a busy second's rate-limit
keys and sections: once each).

Format (ASCII text). The first line is `tiktok-sandbox-commits EPOCH NUMBER`: the database
epoch the log continues (a write of the whole state starts a new epoch, which voids older logs)
and the log's number, one more than the last log's (the fold that writes a log into the database
records its number there, so a log left behind by a crash after its fold is not read back over
the database a second time; logs of earlier versions have no number). Then per
commit, a line per row, `KIND<TAB>KEY<TAB>DOC` for an upsert or `KIND<TAB>KEY` for a delete
(KEY the row key as a JSON string; DOC the row's JSON text, which has no tab or line break),
and a line `.` that ends the commit. A commit is whole only with its `.`: a process killed
while writing leaves a torn last commit, whose answer never left, and it is dropped. Anything
malformed before the last `.` is corruption.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

HEADER = "tiktok-sandbox-commits"
END = b".\n"


class LogCorrupt(ValueError):
    """A commit log this version cannot read (one line, for StoreError)."""


def _key(key: str) -> str:
    """A row key as a JSON string: a journal entry's number needs no escaping (and is new
    every time: no cache would hold it), the others are cached (records and rate-limit keys
    are written again and again)."""
    if key.isascii() and key.isdigit():
        return f'"{key}"'
    return _escaped(key)


@lru_cache(maxsize=16_384)
def _escaped(key: str) -> str:
    return json.dumps(key)


def count(text: str) -> int | None:
    """A count kept as text (an epoch, a log's number), or None when it is not one: decimal
    digits, within reason."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def header(epoch: int, number: int | None = None) -> bytes:
    """A log's first line (`number` None: unnumbered, as earlier versions wrote it)."""
    tail = "" if number is None else f" {number}"
    return f"{HEADER} {epoch}{tail}\n".encode("ascii")


def commit_bytes(
    upserts: Iterable[tuple[str, str, str]],
    deletes: Iterable[tuple[str, str]],
    born: Iterable[tuple[tuple[str, str], str]] = (),
) -> bytes:
    """One commit: its deletes, then its upserts, then the rows it writes that the store never
    held (`born`, as (row, doc): upserts too, to whoever reads the log back). A change never
    does two of these to one row."""
    parts = [f"{kind}\t{_key(key)}\n" for kind, key in deletes]
    parts += [f"{kind}\t{_key(key)}\t{doc}\n" for kind, key, doc in upserts]
    parts += [f"{kind}\t{_key(key)}\t{doc}\n" for (kind, key), doc in born]
    parts.append(".\n")
    return "".join(parts).encode("ascii")


Op = tuple[str, str, str | None]  # (kind, key, the row's text or None for a delete)


class LogRows:
    """What logs hold over the database: each row's last text (None: deleted), in the order
    the database would give the rows, and which were deleted then written again (such a row
    is new, so it comes last in its collection). Rows known to be new when first written here
    (`born`: a journal entry) and deleted since (pushed out of the journal) are left out
    altogether: the database never held them, so neither their text nor their delete need
    reach it. A busy second pushes out most of the entries it added."""

    __slots__ = ("born", "last", "moved")

    def __init__(self) -> None:
        self.last: dict[tuple[str, str], str | None] = {}
        self.moved: set[tuple[str, str]] = set()
        # The born rows still held (as keys: a dict, so a commit's are added in one step).
        self.born: dict[tuple[str, str], object] = {}

    def __len__(self) -> int:
        """How many rows it holds (written or deleted): what a fold writes."""
        return len(self.last)

    def add(self, ops: Iterable[Op]) -> None:
        """Commits' rows, in order, as a log read back gives them (which rows were new it
        cannot tell: they are upserts like the others)."""
        for kind, key, doc in ops:
            if doc is None:
                self.add_change(((kind, key),), ())
            else:
                self.add_change((), ((kind, key, doc),))

    def add_change(
        self,
        deletes: Iterable[tuple[str, str]],
        upserts: Iterable[tuple[str, str, str]],
        born: list[tuple[tuple[str, str], str]] | None = None,
    ) -> None:
        """One commit's rows, as `commit_bytes` writes them: its deletes, its upserts, then
        the rows it writes that the store never held (`born`, as (row, doc)). Those are not
        held here either (or they would not be new): they go last, in one step."""
        last, new = self.last, self.born
        for row in deletes:
            if row in new:  # written here first, as new: nothing to delete
                del new[row]
                last.pop(row, None)
                continue
            last.pop(row, None)  # a row written again after this comes last, as new
            last[row] = None
        for kind, key, doc in upserts:
            row = (kind, key)
            if row in last and last[row] is None:
                del last[row]
                self.moved.add(row)
            last[row] = doc
        if born:
            last.update(born)
            new.update(born)

    def deletes(self) -> list[tuple[str, str]]:
        """The rows to delete first: the deleted ones, and the ones written anew."""
        return [row for row, doc in self.last.items() if doc is None or row in self.moved]

    def upserts(self) -> list[tuple[str, str, str]]:
        return [(kind, key, doc) for (kind, key), doc in self.last.items() if doc is not None]

    def over(self, rows: dict[str, dict[str, str]]) -> None:
        """Write these rows over `rows` (kind -> key -> text, the database's)."""
        for kind, key in self.deletes():
            rows.get(kind, {}).pop(key, None)
        for kind, key, doc in self.upserts():
            rows.setdefault(kind, {})[key] = doc


@dataclass
class Replayed:
    """What a log holds: its epoch and number (None: a log of an earlier version), the rows of
    its whole commits in order, how many commits, and the length of the whole commits (a torn
    tail may follow)."""

    epoch: int
    number: int | None = None
    ops: list[Op] = field(default_factory=list)
    commits: int = 0
    length: int = 0


def read_log(path: Path) -> Replayed | None:
    """The whole commits of the log at `path` (None: there is none, or it has no header yet).
    Raises LogCorrupt when something other than a torn last commit is wrong."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    first = data.find(b"\n")
    if first < 0:  # killed while creating it: not a log yet
        return None
    head = data[:first].decode("ascii", "replace").split(" ")
    counts = [c for c in map(count, head[1:]) if c is not None]
    if len(head) not in (2, 3) or head[0] != HEADER or len(counts) != len(head) - 1:
        raise LogCorrupt(f"{path.name}: not a commit log")
    number = counts[1] if len(counts) == 2 else None
    replayed = Replayed(epoch=counts[0], number=number, length=first + 1)
    last = data.rfind(b"\n" + END, first)  # the line break before the last whole commit's end
    if last < 0:
        return replayed
    end = last + 1 + len(END)
    try:
        text = data[first + 1 : end].decode("ascii")
    except UnicodeDecodeError as exc:
        raise LogCorrupt(f"{path.name}: not ASCII at byte {first + 1 + exc.start}") from None
    commit: list[Op] = []
    for number, line in enumerate(text.split("\n")[:-1], start=2):
        if line == ".":
            replayed.ops.extend(commit)
            replayed.commits += 1
            commit = []
            continue
        parts = line.split("\t", 2)
        try:
            key = json.loads(parts[1]) if len(parts) > 1 else None
        except ValueError:
            key = None
        if not isinstance(key, str) or not parts[0]:
            raise LogCorrupt(f"{path.name}: line {number} is not a row")
        commit.append((parts[0], key, parts[2] if len(parts) == 3 else None))
    replayed.length = end
    return replayed
