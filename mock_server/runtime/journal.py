"""The request journal: a bounded, newest-first record of what the sandbox was asked and said."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from mock_server.domain.changes import Changes
from mock_server.runtime.clock import format_instant

DEFAULT_CAPACITY = 1000
# Bodies are kept for reading, not for archiving: anything longer is cut (and said so).
BODY_PREVIEW_BYTES = 4096
# Bodies up to this size are also kept whole, so the entry can be replayed (journal export).
REPLAY_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class Exchange:
    """What a replay needs: the exact instant, the base URL, whole bodies (None when over
    REPLAY_BYTES) and the response headers a replay compares."""

    at: float
    base_url: str
    request_body: bytes | None
    response_body: bytes | None
    response_headers: dict[str, str]


@dataclass(slots=True)
class JournalEntry:
    seq: int
    time: str
    method: str
    path: str
    query: str
    status: int
    client_key: str | None = None
    creator: str | None = None  # the username the request acted for, once resolved
    error_code: str | None = None
    rule: str | None = None
    fault: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str = ""
    response_body: str = ""
    request_bytes: int = 0
    # What the sandbox found in the media this request completed (the last chunk of an
    # upload): the probed facts and the media check's verdict.
    media: dict[str, Any] | None = None
    exchange: Exchange | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        view = asdict(self)
        view.pop("exchange")
        return view


# Kept whole (tokens included): the journal is a local, loopback-only record for replaying.
# Origin, Referer and Sec-Fetch-* say whether a browser sent the request (the audit's
# "token endpoint called from front-end code").
KEPT_HEADERS = (
    "authorization",
    "content-type",
    "content-length",
    "content-range",
    "user-agent",
    "origin",
    "referer",
    "sec-fetch-site",
    "sec-fetch-mode",
)


@dataclass(slots=True)
class Recording:
    """A request as it went by, in the raw: the journal turns it into a `JournalEntry` only
    when someone reads it, so answering pays for a few references, not for previews, header
    decoding and timestamps nobody may ever look at."""

    at: float
    method: str
    path: str
    query: bytes
    status: int
    notes: dict[str, Any]  # what the handlers noted (client_key, creator, error_code...)
    headers: list[tuple[bytes, bytes]]  # the request's, as the server gave them
    request_head: bytes  # the body's first REPLAY_BYTES + 1 bytes
    request_size: int
    response_head: bytes
    response_headers: dict[str, str]  # the ones a replay compares
    scheme: str
    server: tuple[str, int | None] | None
    seq: int = 0  # set by Journal.record
    _entry: JournalEntry | None = field(default=None, repr=False)

    @property
    def client_key(self) -> str | None:
        value: str | None = self.notes.get("client_key")
        return value

    def entry(self) -> JournalEntry:
        if self._entry is None:
            self._entry = self._build()
        return self._entry

    def _build(self) -> JournalEntry:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in self.headers}
        notes = self.notes
        error_code = notes.get("error_code")
        if error_code is None:
            error_code = _code_from_body(self.response_head)
        host = headers.get("host", "")
        if not host and self.server:
            host = f"{self.server[0]}:{self.server[1]}"
        exchange = Exchange(
            at=self.at,
            base_url=f"{self.scheme}://{host}",
            request_body=self.request_head if self.request_size <= REPLAY_BYTES else None,
            response_body=self.response_head if len(self.response_head) <= REPLAY_BYTES else None,
            response_headers=self.response_headers,
        )
        return JournalEntry(
            seq=self.seq,
            time=format_instant(self.at),
            method=self.method,
            path=self.path,
            query=self.query.decode("latin-1"),
            status=self.status,
            client_key=notes.get("client_key"),
            creator=notes.get("creator"),
            error_code=error_code,
            rule=notes.get("rule"),
            fault=notes.get("fault"),
            request_headers={k: headers[k] for k in KEPT_HEADERS if k in headers},
            request_body=preview(self.request_head, self.request_size),
            response_body=preview(self.response_head),
            request_bytes=self.request_size,
            media=notes.get("media"),
            exchange=exchange,
        )


def _code_from_body(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            return error.get("code")
        if isinstance(error, str):
            return error
    return None


def preview(body: bytes, total: int | None = None) -> str:
    """A printable prefix of a body; binary and long bodies are summarised, not stored."""
    total = len(body) if total is None else total
    head = body[:BODY_PREVIEW_BYTES]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The cut may split the last character of a text body: that is still text.
        cut_inside_a_character = total > len(head) and exc.start >= len(head) - 3
        if not cut_inside_a_character or exc.reason != "unexpected end of data":
            return f"<{total} bytes of binary data>"
        head = head[: exc.start]
        text = head.decode("utf-8")
    if total > len(head):
        text += f"... <{total - len(head)} more bytes>"
    return text


class Journal:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._entries: deque[JournalEntry | Recording] = deque(maxlen=capacity)
        self._seq = 0
        self._cleared = False
        self._lock = threading.Lock()
        # With a data directory: where the entries added are noted (domain.changes).
        self.changes: Changes | None = None

    def next_seq(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def add(self, entry: JournalEntry) -> None:
        with self._lock:
            self._entries.append(entry)
            if self.changes is not None:
                self.changes.note(("journal", entry.seq), entry)

    def record(self, recording: Recording) -> None:
        """Add a request as it went by, numbered next; it becomes an entry when read."""
        with self._lock:
            self._seq += 1
            recording.seq = self._seq
            self._entries.append(recording)
            if self.changes is not None:  # kept by the commit of the request it records
                self.changes.note(("journal", recording.seq), recording)

    def clear(self, *, restart: bool = False) -> None:
        """Forget the entries. Only a sandbox reset restarts the numbering: after a plain
        clear, the journal knows it no longer holds the whole run (see `lost_entries`)."""
        with self._lock:
            self._entries.clear()
            if restart:
                self._seq = 0
                self._cleared = False
            else:
                self._cleared = self._seq > 0

    def span(self) -> tuple[int, int]:
        """The seq of the oldest entry held (the next one's, when it holds none) and of the
        last entry numbered."""
        with self._lock:
            first = self._entries[0].seq if self._entries else self._seq + 1
            return first, self._seq

    def lost_entries(self) -> bool:
        """Whether the journal misses part of the run since the last reset (pushed out by its
        capacity, or cleared without a reset)."""
        with self._lock:
            return self._cleared or (bool(self._entries) and self._entries[0].seq > 1)

    def entries(
        self,
        *,
        client_key: str | None = None,
        path: str | None = None,
        limit: int | None = None,
        before: int | None = None,
    ) -> list[JournalEntry]:
        """Newest first; `path` matches as a prefix; `before`: only entries numbered below it
        (the next page after the entry numbered `before`)."""
        with self._lock:
            items = list(reversed(self._entries))
        if before is not None:
            items = [e for e in items if e.seq < before]
        if client_key is not None:
            items = [e for e in items if e.client_key == client_key]
        if path is not None:
            items = [e for e in items if e.path.startswith(path)]
        if limit is not None:
            items = items[:limit]
        return [e.entry() if isinstance(e, Recording) else e for e in items]
