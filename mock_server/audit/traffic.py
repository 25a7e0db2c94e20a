"""The journal as the audit reads it: one app's requests, oldest first, bodies parsed.

A `Call` is one journal entry with what the checks ask of it (its TikTok endpoint, JSON or form
body, answer, bearer token, instant); `Traffic` is the app's calls up to the end of the window,
the ones before the window kept as context (the creator_info answer an init relied on may come
just before it), and whether the journal dropped entries the window needed.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from mock_server.domain.endpoints import endpoint_of
from mock_server.runtime.clock import parse_instant
from mock_server.runtime.journal import JournalEntry

# ref 6: creator_info's intentional-200 answers: the creator cannot post right now.
CANNOT_POST_NOW = frozenset(
    {"spam_risk_too_many_posts", "spam_risk_user_banned_from_posting", "reached_active_user_cap"}
)
INIT_ENDPOINTS = ("video_init", "inbox_video_init", "content_init")
TOO_LARGE = "the request body is not in the journal (it keeps bodies up to 16 KiB whole)"
DIRECT_POST = "DIRECT_POST"


@dataclass(frozen=True)
class AppFacts:
    """What the audit reads from the app's registration (the journal does not carry it)."""

    client_key: str
    name: str
    stage: str
    platform: str


def _json_object(raw: bytes | str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None  # not JSON, a preview cut short, or nested past what Python parses
    return value if isinstance(value, dict) else None


def _text(raw: bytes | None, preview: str) -> str:
    if raw is None:
        return preview
    return raw.decode("utf-8", "replace")


def short(token: str | None) -> str:
    """A token as a report shows it: enough to tell tokens apart, not enough to use one."""
    if not token:
        return "(none)"
    return token[:12] + "…" if len(token) > 12 else token


@dataclass(frozen=True)
class Call:
    """One request of the app, as the journal recorded it."""

    entry: JournalEntry

    @property
    def seq(self) -> int:
        return self.entry.seq

    @property
    def creator(self) -> str | None:
        return self.entry.creator

    @property
    def status(self) -> int:
        return self.entry.status

    @property
    def code(self) -> str | None:
        return self.entry.error_code

    @property
    def rule(self) -> str | None:
        return self.entry.rule

    @property
    def ok(self) -> bool:
        return self.entry.error_code == "ok"

    @cached_property
    def at(self) -> float:
        exchange = self.entry.exchange
        return exchange.at if exchange is not None else parse_instant(self.entry.time)

    @cached_property
    def endpoint(self) -> str | None:
        return endpoint_of(self.entry.path)

    @property
    def unread(self) -> bool:
        """The sandbox answered before reading the body (a dead token, a rate limit): the
        journal has none, and TikTok did not look at it either."""
        declared = self.header("content-length")
        return self.entry.request_bytes == 0 and declared not in (None, "", "0")

    @cached_property
    def body(self) -> dict[str, Any] | None:
        """The request's JSON object (`{}` for no body, as the API reads it), when the journal
        kept it whole; None otherwise (see `unread`)."""
        exchange = self.entry.exchange
        raw = exchange.request_body if exchange is not None else None
        text = raw if raw is not None else self.entry.request_body
        if not text and not self.unread:
            return {}
        return _json_object(text)

    @property
    def no_body(self) -> str:
        """Why `body` is None: the journal did not keep it whole, or it is not a JSON object."""
        exchange = self.entry.exchange
        if exchange is not None and exchange.request_body is None:
            return TOO_LARGE
        return "the request body is not a JSON object"

    @cached_property
    def answer(self) -> dict[str, Any] | None:
        """The response's JSON object, when it was kept whole."""
        exchange = self.entry.exchange
        raw = exchange.response_body if exchange is not None else None
        return _json_object(raw if raw is not None else self.entry.response_body)

    @cached_property
    def data(self) -> dict[str, Any]:
        """The envelope's `data` (empty when there is none)."""
        data = (self.answer or {}).get("data")
        return data if isinstance(data, dict) else {}

    @cached_property
    def form(self) -> dict[str, str]:
        """A form body (the OAuth endpoints), first value of each key."""
        exchange = self.entry.exchange
        raw = exchange.request_body if exchange is not None else None
        text = _text(raw, self.entry.request_body)
        result: dict[str, str] = {}
        for key, value in parse_qsl(text, keep_blank_values=True):
            result.setdefault(key, value)
        return result

    @cached_property
    def params(self) -> dict[str, str]:
        """The query string, first value of each key."""
        result: dict[str, str] = {}
        for key, value in parse_qsl(self.entry.query, keep_blank_values=True):
            result.setdefault(key, value)
        return result

    def header(self, name: str) -> str | None:
        return self.entry.request_headers.get(name)

    @cached_property
    def bearer(self) -> str | None:
        scheme, _, value = (self.header("authorization") or "").strip().partition(" ")
        return value.strip() or None if scheme.lower() == "bearer" else None

    def post_info(self) -> dict[str, Any] | None:
        info = (self.body or {}).get("post_info")
        return info if isinstance(info, dict) else None

    def source_info(self) -> dict[str, Any] | None:
        info = (self.body or {}).get("source_info")
        return info if isinstance(info, dict) else None

    @property
    def is_init(self) -> bool:
        return self.endpoint in INIT_ENDPOINTS

    @property
    def is_direct_post(self) -> bool:
        """A Direct Post init: video/init, or content/init with post_mode DIRECT_POST."""
        if self.endpoint == "video_init":
            return True
        return self.endpoint == "content_init" and (self.body or {}).get("post_mode") == DIRECT_POST

    @property
    def is_photo(self) -> bool:
        return self.endpoint == "content_init"


@dataclass(frozen=True)
class Traffic:
    """The app's calls up to the window's end, oldest first; `since` opens the window."""

    app: AppFacts
    calls: tuple[Call, ...]
    since: float | None = None
    lost: bool = False  # the journal dropped entries that fall in, or before, the window

    @classmethod
    def of(
        cls,
        app: AppFacts,
        entries: Iterable[JournalEntry],
        *,
        since: float | None = None,
        until: float | None = None,
        lost: bool = False,
    ) -> Traffic:
        calls = sorted(
            (
                Call(e)
                for e in entries
                if e.client_key == app.client_key and not e.path.startswith("/_sandbox")
            ),
            key=lambda c: c.seq,
        )
        kept = tuple(c for c in calls if until is None or c.at <= until)
        return cls(app, kept, since, lost)

    def in_window(self, call: Call) -> bool:
        return self.since is None or call.at >= self.since

    def judged(self, *endpoints: str) -> Iterator[Call]:
        """The calls in the window (to any of `endpoints`, or to any endpoint)."""
        for call in self.calls:
            if self.in_window(call) and (not endpoints or call.endpoint in endpoints):
                yield call

    def window_calls(self) -> list[Call]:
        return list(self.judged())

    @cached_property
    def _creator_infos(self) -> dict[str, list[Call]]:
        """creator -> their creator_info calls, oldest first (an index: inits look back)."""
        index: dict[str, list[Call]] = {}
        for call in self.calls:
            if call.endpoint == "creator_info" and call.creator:
                index.setdefault(call.creator, []).append(call)
        return index

    def _creator_infos_before(self, call: Call) -> Iterator[Call]:
        """`call`'s creator's creator_info calls sent before it, newest first."""
        calls = self._creator_infos.get(call.creator or "", [])
        end = bisect_left(calls, call.seq, key=lambda c: c.seq)
        return (calls[i] for i in range(end - 1, -1, -1))

    @cached_property
    def uploads(self) -> dict[str, Call]:
        """upload_id -> the accepted FILE_UPLOAD init whose upload_url carries it."""
        found: dict[str, Call] = {}
        for init in self.calls:
            url = init.data.get("upload_url") if init.is_init and init.ok else None
            if isinstance(url, str):
                query = dict(parse_qsl(urlsplit(url).query))
                if "upload_id" in query:
                    found[query["upload_id"]] = init
        return found

    # -- what the creator looked like to the app ------------------------------------------

    def creator_info_before(self, call: Call) -> CreatorInfoSeen | None:
        """The last creator_info answer for `call`'s creator before it: the creator's posting
        settings as the app saw them (`ok` false for a "cannot post now" answer)."""
        for other in self._creator_infos_before(call):
            if other.ok and other.data:
                return CreatorInfoSeen(other, other.data)
            if other.code in CANNOT_POST_NOW:
                return CreatorInfoSeen(other, {})
        return None

    def settings_before(self, call: Call) -> CreatorInfoSeen | None:
        """The last successful creator_info answer for `call`'s creator before it."""
        for other in self._creator_infos_before(call):
            if other.ok and other.data:
                return CreatorInfoSeen(other, other.data)
        return None


@dataclass(frozen=True)
class CreatorInfoSeen:
    """A creator_info answer the app received."""

    call: Call
    data: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.call.ok

    @property
    def privacy_level_options(self) -> tuple[str, ...]:
        options = self.data.get("privacy_level_options")
        return tuple(o for o in options if isinstance(o, str)) if isinstance(options, list) else ()

    def disabled(self, interaction: str) -> bool:
        return self.data.get(f"{interaction}_disabled") is True

    @property
    def max_video_post_duration_sec(self) -> int | None:
        value = self.data.get("max_video_post_duration_sec")
        return value if type(value) is int else None
