"""What a commit writes: the rows a change touched, not the whole state.

A World kept in a data directory notes what each change touches (domain.changes): records of
its collections by key, webhook deliveries and rate-limit keys by their own bookkeeping. A
commit encodes those records and the sections whose value moved, with the codec's functions, so
a row's text is the same whether it was written by a commit or by `codec.full_rows`. The whole
state is written only when the World itself is new (the first commit, a reset, an import).

Sections are cheap to compare except a few (random generators' states, the schedule's heap):
those are compared by a fingerprint and encoded only when it moved.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mock_server.domain.changes import COLLECTIONS, GONE, Touched, peek, uncommitted
from mock_server.domain.world import World
from mock_server.store import codec

if TYPE_CHECKING:
    from mock_server.state import SandboxState


# How many records' last written values are remembered (a few MB: a record is a few hundred
# bytes of text, its encoded value a few times that).
WRITTEN_REMEMBERED = 16_384


@dataclass
class Change:
    """Rows to write in one transaction: every row (`full`), or these upserts and deletes."""

    full: codec.Rows | None = None
    upserts: list[tuple[str, str, str]] = field(default_factory=list)
    deletes: list[tuple[str, str]] = field(default_factory=list)
    # Rows the store has never held (a new journal entry, one an answer), written after the
    # upserts: deleted before the log is folded, they need not reach the database at all
    # (commitlog.LogRows), and being new they are added to it in one step.
    born: list[tuple[tuple[str, str], str]] = field(default_factory=list)
    # With `verify`: every row as it should be once this change is written (tests), but for
    # the records changes still under way hold (their own commits write them).
    expected: codec.Rows | None = None
    excused: set[tuple[str, str]] = field(default_factory=set)

    def __bool__(self) -> bool:
        return self.full is not None or bool(self.upserts or self.deletes or self.born)


class Recorder:
    def __init__(self, *, verify: bool = False) -> None:
        self.verify = verify
        self._world: World | None = None
        self._texts: dict[str, str] = {}  # section path -> the text last written
        self._prints: dict[str, object] = {}  # section path -> its fingerprint then
        self._values: dict[str, object] = {}  # section path -> its encoded value then
        # (kind, key) -> the encoded value last written, for the records written most lately.
        self._written: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._journal_first = 1  # the journal's oldest entry when last committed
        self._journal_last = 0  # the newest journal entry written (entries above it are new)
        # What the sections with `made_of` are made of, read at once, when last compared; each
        # such section with where its parts lie in that tuple.
        parts = [name for row in codec.section_rows() for name in row.made_of or ()]
        self._quiet_read = operator.attrgetter(*parts)
        self._quiet: tuple[object, ...] | None = None
        self._plain_rows: list[tuple[codec.Section, int, int]] = []
        start = 0
        for row in codec.section_rows():
            if row.made_of is not None:
                self._plain_rows.append((row, start, start + len(row.made_of)))
                start += len(row.made_of)
        # The others: compared by their fingerprint, or their value, every commit.
        self._other_rows = [row for row in codec.section_rows() if row.made_of is None]
        self._encoders = {
            name: codec.encoder(codec._hints(World)[name].__args__[1]) for name in COLLECTIONS
        }

    def take(self, state: SandboxState, touched: Touched | None = None) -> Change:
        """The rows to write for what changed since the last `take` (and what `touched`, one
        change's own records, holds). Call under `state.lock`, in commit order."""
        world = state.world
        if world is not self._world or world.changes is None:
            if touched:
                touched.clear()
            change = self._everything(state)
        else:
            keys = world.changes.take_loose()
            if touched:
                keys.update(touched)
                touched.clear()
            change = Change()
            try:
                self._records(state, keys, change)
                self._sections(state, change)
            except BaseException:
                self.forget()  # what these keys held is not written: the next writes all
                raise
        if self.verify:
            change.expected = codec.full_rows(state)
            change.excused = {_row(kind, key) for kind, key in uncommitted()}
        return change

    def forget(self) -> None:
        """A write failed: the next `take` writes the whole state again."""
        self._world = None
        self._written.clear()
        self._quiet = None

    def adopt(self, state: SandboxState, sections: dict[str, str]) -> None:
        """The store already holds `state` (just read from it; its sections' texts are
        `sections`): the next commit writes only what moves from here. Under `state.lock`."""
        world = self._world = state.world
        state.journal.changes = world.track()
        self._texts = dict(sections)
        self._prints, self._values = {}, {}  # the next commit compares every section's text
        self._quiet = None
        self._journal_first, self._journal_last = state.journal.span()

    # -- everything --------------------------------------------------------------------------

    def _everything(self, state: SandboxState) -> Change:
        world = self._world = state.world
        changes = world.track()
        changes.take_loose()
        state.journal.changes = changes
        rows = codec.full_rows(state)
        self._texts = dict(rows[codec.SECTIONS])
        self._prints, self._values = {}, {}
        self._quiet = None
        self._written.clear()
        self._journal_first, self._journal_last = state.journal.span()
        return Change(full=rows)

    # -- records -----------------------------------------------------------------------------

    def _records(self, state: SandboxState, keys: Touched, change: Change) -> None:
        world = state.world
        upserts, deletes, born = change.upserts, change.deletes, change.born
        written = self._written
        journal_first, _ = state.journal.span()
        for (name, key), value in keys.items():
            if name == "journal":  # one a request, by far the most common
                if key >= journal_first:  # not pushed out of the journal meanwhile
                    text = codec.text(codec.journal_entry(value))
                    if key > self._journal_last:  # numbered after every entry written
                        self._journal_last = key
                        born.append(((codec.JOURNAL_ENTRIES, str(key)), text))
                    else:
                        upserts.append((codec.JOURNAL_ENTRIES, str(key), text))
                continue
            if name == "limiter":
                hits = world.limiter._hits.get(key)
                row = codec.limiter_key(key)
                if hits is None:
                    deletes.append((codec.LIMITER_HITS, row))
                else:
                    upserts.append((codec.LIMITER_HITS, row, codec.hits_text(hits)))
                continue
            if name == "outbox":
                if value is GONE:
                    deletes.append((codec.OUTBOX_DELIVERIES, key))
                else:
                    upserts.append(
                        (codec.OUTBOX_DELIVERIES, key, codec.text(codec.delivery_out(value)))
                    )
                continue
            record = peek(getattr(world, name), key)
            kind = f"world.{name}"
            if record is None:
                written.pop((kind, key), None)
                deletes.append((kind, key))
                continue
            value = self._encoders[name](record)
            # Most records a change touches it only read (the app, the creator, the token of
            # a request): the ones written lately are remembered as their encoded values, and
            # not written unchanged. Comparing values costs a fraction of making the text (a
            # record's floats above all). The codec's values share nothing mutable with the
            # record. Equal values of two types (1 and 1.0) would compare equal: a field
            # keeps its type (decode gives back what was written), and the store's own
            # verification (TIKTOK_SANDBOX_VERIFY_STORE, on in the tests) compares texts.
            if written.get((kind, key)) == value:
                written.move_to_end((kind, key))
                continue
            written[kind, key] = value
            if len(written) > WRITTEN_REMEMBERED:
                written.popitem(last=False)
            upserts.append((kind, key, codec.text(value)))
        # Entries pushed out of the journal (by its capacity, or a clear) since the last commit.
        for seq in range(self._journal_first, journal_first):
            deletes.append((codec.JOURNAL_ENTRIES, str(seq)))
        self._journal_first = journal_first

    # -- sections ----------------------------------------------------------------------------

    def _sections(self, state: SandboxState, change: Change) -> None:
        """Write the sections whose value moved: compared as encoded values (no JSON text
        unless one moved), the costly ones first by a fingerprint, the plain ones (`made_of`)
        only when their own parts moved (all parts read at once: most commits move none)."""
        quiet = self._quiet_read(state)
        before = self._quiet
        if quiet != before:
            for row, start, end in self._plain_rows:  # those whose parts moved (or all, anew)
                if before is None or quiet[start:end] != before[start:end]:
                    self._section(row, row.value(state), change)
            self._quiet = quiet
        prints = self._prints
        for row in self._other_rows:
            fingerprint = row.fingerprint
            if fingerprint is not None:
                now = fingerprint(state)
                if now == prints.get(row.path):
                    continue
                prints[row.path] = now
            self._section(row, row.value(state), change)

    def _section(self, row: codec.Section, value: object, change: Change) -> None:
        path = row.path
        values = self._values
        if path in values and values[path] == value:
            return
        values[path] = value
        # A count (the journal's, the log ids'), moved by nearly every answer: its JSON as is.
        text = str(value) if type(value) is int else codec.text(value)
        if self._texts.get(path) != text:
            self._texts[path] = text
            change.upserts.append((codec.SECTIONS, path, text))


def _row(name: str, key: Any) -> tuple[str, str]:
    """The row (kind, key) of a touched key."""
    if name == "outbox":
        return codec.OUTBOX_DELIVERIES, key
    if name == "limiter":
        return codec.LIMITER_HITS, codec.limiter_key(key)
    if name == "journal":
        return codec.JOURNAL_ENTRIES, str(key)
    return f"world.{name}", key
