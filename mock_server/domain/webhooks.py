"""Webhook events, TikTok's signature, and the retry schedule (ref 14).

The domain decides what is sent, when, and with which body; `runtime.webhooks` does the
sending. A delivery's body is fixed when the event happens, so every retry (and every
duplicate) carries the identical bytes; only the signature's timestamp changes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from mock_server.domain.changes import GONE, Changes

# ref 14.1: retried with exponential backoff for up to 72 hours, then dropped.
RETRY_WINDOW_SECONDS = 72 * 3600
FIRST_RETRY_SECONDS = 30.0
MAX_RETRY_INTERVAL_SECONDS = 6 * 3600.0
# Finished deliveries kept per app, newest first (a delivery with its body and attempts is close
# to a kilobyte; the log is for looking at what was sent lately, the journal's size for them).
DELIVERY_LOG_SIZE = 200
# A receiver that never answers 200 must not make the sandbox keep every event for 72 h: past
# this many pending deliveries per app, the oldest is given up (and says so in the log).
MAX_PENDING_PER_APP = 500

PENDING, DELIVERED, DROPPED = "pending", "delivered", "dropped"

# ref 14.3: `publish_type` is INBOX_SHARE for uploads; the Direct Post value is a guess.
PUBLISH_TYPES = {"MEDIA_UPLOAD": "INBOX_SHARE", "DIRECT_POST": "DIRECT_PUBLISH"}


@dataclass(slots=True)
class Attempt:
    at: float
    signature: str
    status_code: int | None = None
    error: str | None = None
    response_body: str = ""


@dataclass(slots=True)
class Delivery:
    delivery_id: str
    client_key: str
    event: str
    url: str
    body: bytes
    created_at: float
    next_attempt_at: float | None
    status: str = PENDING
    # A tuple, like the other records' logs: most deliveries make one attempt, and a sandbox
    # keeps thousands of them.
    attempts: tuple[Attempt, ...] = ()
    # Waiting for a worker (a served sandbox's background delivery), and being sent.
    queued: bool = False
    in_flight: bool = False
    # Why a delivery was given up: "retry_window" (72 h of failures) or "pending_cap".
    dropped_reason: str | None = None
    # Its place among every app's deliveries, in the order the outbox took them.
    seq: int = 0


def event_body(
    client_key: str, event: str, user_openid: str, content: dict[str, Any], now: float
) -> bytes:
    """ref 14.2: the envelope; `content` is JSON serialised as a string."""
    envelope = {
        "client_key": client_key,
        "event": event,
        "create_time": int(now),
        "user_openid": user_openid,
        "content": json.dumps(content, separators=(",", ":")),
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


def signature_header(client_secret: str, timestamp: int, body: bytes) -> str:
    """ref 14.4: `t=<unix>,s=<hex HMAC-SHA256(client_secret, "<t>.<body>")>`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(client_secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},s={digest}"


def retry_delay(attempts_made: int) -> float:
    """Exponential backoff: 30 s, 60 s, 2 min ... capped at 6 h between attempts."""
    return min(FIRST_RETRY_SECONDS * 2.0 ** (attempts_made - 1), MAX_RETRY_INTERVAL_SECONDS)


def record_attempt(delivery: Delivery, attempt: Attempt) -> None:
    """ref 14.1: only HTTP 200 counts as delivered; otherwise retry until 72 h have passed."""
    delivery.attempts += (attempt,)
    delivery.in_flight = delivery.queued = False
    if attempt.status_code == 200:
        delivery.status, delivery.next_attempt_at = DELIVERED, None
        return
    next_at = attempt.at + retry_delay(len(delivery.attempts))
    if next_at > delivery.created_at + RETRY_WINDOW_SECONDS:
        give_up(delivery, "retry_window")
    else:
        delivery.next_attempt_at = next_at


def give_up(delivery: Delivery, reason: str) -> None:
    """A delivery not being sent right now can be given up (one waiting for a worker too: the
    worker then skips it)."""
    delivery.status, delivery.next_attempt_at, delivery.dropped_reason = DROPPED, None, reason


@dataclass
class Outbox:
    """Every app's deliveries, newest last, bounded per app."""

    by_app: dict[str, deque[Delivery]] = field(default_factory=dict)
    added: int = 0
    # With a data directory (World.track): where the deliveries a change touches are noted.
    changes: Changes | None = None

    def note(self, delivery: Delivery, gone: bool = False) -> None:
        """A delivery was added, changed or removed: kept in a data directory by the commit of
        the change that did it (domain.changes)."""
        if self.changes is not None:
            self.changes.note(("outbox", delivery.delivery_id), GONE if gone else delivery)

    def add(self, delivery: Delivery) -> None:
        """Keep the newest DELIVERY_LOG_SIZE finished deliveries per app, and every one still
        pending (at-least-once delivery outranks the log's size); past MAX_PENDING_PER_APP
        pending ones, give up the oldest that is not being sent (it stays in the log)."""
        self.added += 1
        delivery.seq = self.added
        log = self.by_app.setdefault(delivery.client_key, deque())
        log.append(delivery)
        self.note(delivery)
        pending = [d for d in log if d.status == PENDING]
        excess = len(pending) - MAX_PENDING_PER_APP
        for old in (d for d in pending if not d.in_flight):
            if excess <= 0:
                break
            give_up(old, "pending_cap")
            self.note(old)
            excess -= 1
        if len(log) > DELIVERY_LOG_SIZE:
            finished = [d for d in log if d.status != PENDING and not (d.queued or d.in_flight)]
            excess = len(finished) - DELIVERY_LOG_SIZE
            for old in finished[: max(0, excess)]:
                log.remove(old)
                self.note(old, gone=True)

    def in_order(self, client_key: str | None = None) -> list[Delivery]:
        """The deliveries (of one app, or of every app) oldest first: by when they were made,
        then in the order the outbox took them."""
        return sorted(self.all(client_key), key=lambda d: (d.created_at, d.seq))

    def all(self, client_key: str | None = None) -> list[Delivery]:
        if client_key is not None:
            return list(self.by_app.get(client_key, ()))
        return [d for log in self.by_app.values() for d in log]

    def due(self, now: float, per_app: int | None = None) -> list[Delivery]:
        """Pending deliveries due by `now`, oldest due first; with `per_app`, no more for an
        app than make `per_app` of its deliveries waiting for a worker or being sent."""
        busy: dict[str, int] = {}
        ready = []
        for d in self.all():
            if d.queued or d.in_flight:  # given up or not: a worker holds it
                busy[d.client_key] = busy.get(d.client_key, 0) + 1
            elif d.status == PENDING and d.next_attempt_at is not None and d.next_attempt_at <= now:
                ready.append(d)
        ready.sort(key=lambda d: (d.next_attempt_at or 0.0, d.delivery_id))
        if per_app is None:
            return ready
        taken = []
        for d in ready:
            if busy.get(d.client_key, 0) < per_app:
                busy[d.client_key] = busy.get(d.client_key, 0) + 1
                taken.append(d)
        return taken

    def has_due(self, now: float) -> bool:
        """Whether `due(now)` would find a delivery (cheaper: stops at the first)."""
        return any(
            d.status == PENDING
            and d.next_attempt_at is not None
            and d.next_attempt_at <= now
            and not (d.queued or d.in_flight)
            for log in self.by_app.values()
            for d in log
        )

    def next_due_at(self) -> float | None:
        times = [
            d.next_attempt_at
            for d in self.all()
            if d.status == PENDING and d.next_attempt_at is not None
        ]
        return min(times, default=None)
