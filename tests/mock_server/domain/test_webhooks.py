"""Webhook events, signature and retry schedule (ref 14), as pure functions: the envelope, the
`TikTok-Signature` header checked independently, exponential backoff, only HTTP 200 delivering,
dropping after 72 h, and the outbox's due list."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json

import pytest

from mock_server.domain.webhooks import (
    DELIVERED,
    DELIVERY_LOG_SIZE,
    DROPPED,
    MAX_PENDING_PER_APP,
    PENDING,
    Attempt,
    Delivery,
    Outbox,
    event_body,
    record_attempt,
    retry_delay,
    signature_header,
)

T = 1_767_225_600.0  # 2026-01-01T00:00:00Z
HOURS_72 = 72 * 3600
SECRET = "acmeSchedulerSecret0000000000001"


def independent_signature(secret: str, t: str, body: bytes) -> str:
    """ref 14.4, from the reference: HMAC-SHA256(client_secret, t + "." + raw body), hex."""
    return hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()


def delivery(created_at: float = T, key: str = "awacmescheduler01", n: int = 0) -> Delivery:
    body = event_body(key, "post.publish.complete", "act.x", {"publish_id": f"p{n}"}, created_at)
    return Delivery(
        f"d{n:04}", key, "post.publish.complete", "https://h/", body, created_at, created_at
    )


# -- envelope ------------------------------------------------------------------------------------


def test_the_envelope_has_tiktoks_keys_and_content_as_a_json_string() -> None:
    body = event_body(
        "awacmescheduler01", "authorization.removed", "open-id-1", {"reason": 1}, T + 0.75
    )
    envelope = json.loads(body)
    assert list(envelope) == ["client_key", "event", "create_time", "user_openid", "content"]
    assert envelope["client_key"] == "awacmescheduler01"
    assert envelope["event"] == "authorization.removed"
    assert envelope["create_time"] == int(T)  # UTC epoch seconds, an integer
    assert type(envelope["create_time"]) is int
    assert envelope["user_openid"] == "open-id-1"
    assert isinstance(envelope["content"], str)  # parsed twice (ref 14.2)
    assert json.loads(envelope["content"]) == {"reason": 1}


def test_the_envelope_is_the_same_bytes_for_the_same_event() -> None:
    args = ("k", "post.publish.failed", "o", {"publish_id": "p", "reason": "internal"}, T)
    assert event_body(*args) == event_body(*args)


# -- signature -----------------------------------------------------------------------------------


def test_the_signature_header_verifies_independently() -> None:
    body = event_body("k", "post.publish.complete", "o", {"publish_id": "p"}, T)
    header = signature_header(SECRET, 1633174587, body)
    parts = dict(part.split("=", 1) for part in header.split(","))
    assert list(parts) == ["t", "s"]
    assert parts["t"] == "1633174587"
    assert len(parts["s"]) == 64 and parts["s"] == parts["s"].lower()
    assert parts["s"] == independent_signature(SECRET, parts["t"], body)


@pytest.mark.parametrize(
    "secret, t, body",
    [
        ("anotherSecret000000000000000001", 1633174587, b"{}"),
        (SECRET, 1633174588, b"{}"),
        (SECRET, 1633174587, b"{} "),
    ],
)
def test_the_signature_depends_on_secret_time_and_body(secret: str, t: int, body: bytes) -> None:
    reference = signature_header(SECRET, 1633174587, b"{}")
    assert signature_header(secret, t, body).split(",s=")[1] != reference.split(",s=")[1]


# -- retries -------------------------------------------------------------------------------------


def test_retries_back_off_exponentially_from_30_seconds() -> None:
    delays = [retry_delay(n) for n in range(1, 8)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920]


@pytest.mark.parametrize("status", [None, 201, 202, 204, 301, 400, 404, 429, 500, 503])
def test_only_http_200_delivers(status: int | None) -> None:
    d = delivery()
    error = None if status else "ConnectError: refused"
    record_attempt(d, Attempt(T, "t=1,s=x", status, error))
    assert d.status == PENDING
    assert d.next_attempt_at == T + 30
    assert not d.in_flight
    record_attempt(d, Attempt(T + 30, "t=2,s=y", 200))
    assert d.status == DELIVERED
    assert d.next_attempt_at is None
    assert [a.status_code for a in d.attempts] == [status, 200]


def test_a_delivery_is_dropped_after_72_hours() -> None:
    d = delivery()
    now = T
    while d.status == PENDING:
        assert d.next_attempt_at is not None
        now = d.next_attempt_at
        record_attempt(d, Attempt(now, "sig", 500))
    assert d.status == DROPPED
    assert d.next_attempt_at is None
    times = [a.at for a in d.attempts]
    assert times[0] == T
    assert times[-1] <= T + HOURS_72
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[:4] == [30, 60, 120, 240]
    assert gaps == sorted(gaps)  # the backoff never shrinks
    assert len(d.attempts) >= 10  # 72 h of exponential backoff is more than a handful


def test_a_late_answer_still_counts_when_inside_the_window() -> None:
    d = delivery()
    record_attempt(d, Attempt(T + HOURS_72 - 31, "sig", 500))
    assert d.status == PENDING  # a retry at 72 h - 1 s is still inside the window
    record_attempt(d, Attempt(T + HOURS_72 - 1, "sig", 500))
    assert d.status == DROPPED


# -- the outbox ----------------------------------------------------------------------------------


def test_the_outbox_lists_due_deliveries_oldest_first() -> None:
    box = Outbox()
    late, early, other_app = delivery(T + 10, n=1), delivery(T, n=2), delivery(T + 5, "k2", n=3)
    for d in (late, early, other_app):
        box.add(d)
    assert box.due(T - 1) == []
    assert box.due(T) == [early]
    assert box.due(T + 10) == [early, other_app, late]
    assert box.next_due_at() == T
    assert box.all("k2") == [other_app]
    assert box.all("nobody") == []

    early.in_flight = True  # being sent right now: not handed out twice
    assert box.due(T + 10) == [other_app, late]
    record_attempt(early, Attempt(T, "sig", 200))
    record_attempt(other_app, Attempt(T + 5, "sig", 500))
    assert box.due(T + 10) == [late]
    assert box.due(T + 35) == [late, other_app]
    assert box.next_due_at() == T + 10


def test_the_outbox_keeps_a_bounded_log_per_app() -> None:
    box = Outbox()
    for n in range(DELIVERY_LOG_SIZE + 5):
        d = delivery(T + n, n=n)
        box.add(d)
        record_attempt(d, Attempt(T + n, "sig", 200))
    for n in range(DELIVERY_LOG_SIZE + 5, DELIVERY_LOG_SIZE + 8):
        box.add(delivery(T + n, n=n))
    box.add(delivery(T, "k2", n=99999))
    kept = box.all("awacmescheduler01")
    # The newest finished deliveries, and every pending one besides.
    assert len(kept) == DELIVERY_LOG_SIZE + 3
    assert kept[0].delivery_id == "d0005"  # the oldest finished deliveries went first
    assert [d.status for d in kept[-3:]] == [PENDING] * 3
    assert len(box.all("k2")) == 1


def test_pending_deliveries_past_the_log_size_forget_no_finished_one() -> None:
    # Fewer finished deliveries than the log keeps, and pending ones besides: all stay.
    box = Outbox()
    finished = DELIVERY_LOG_SIZE - 50
    for n in range(finished):
        d = delivery(T + n, n=n)
        box.add(d)
        record_attempt(d, Attempt(T + n, "sig", 200))
    for n in range(finished, DELIVERY_LOG_SIZE + 60):
        box.add(delivery(T + n, n=n))
    kept = box.all("awacmescheduler01")
    assert len(kept) == DELIVERY_LOG_SIZE + 60
    assert sum(d.status == DELIVERED for d in kept) == finished


def test_pending_deliveries_are_capped_per_app_and_the_given_up_ones_say_so() -> None:
    # ref 14.1 is at least once, but a receiver that never answers must not make the sandbox
    # keep every event: past the cap the oldest pending one is given up, visibly.
    box = Outbox()
    total = MAX_PENDING_PER_APP + 7
    for n in range(total):
        box.add(delivery(T + n, n=n))
    box.add(delivery(T, "k2", n=99999))
    kept = box.all("awacmescheduler01")
    pending = [d for d in kept if d.status == PENDING]
    assert len(pending) == MAX_PENDING_PER_APP
    assert pending[0].delivery_id == f"d{7:04d}"  # the newest ones are still to be sent
    given_up = [d for d in kept if d.status == DROPPED]
    assert [d.delivery_id for d in given_up] == [f"d{n:04d}" for n in range(7)]
    assert {d.dropped_reason for d in given_up} == {"pending_cap"}
    assert len(box.due(T + total)) == MAX_PENDING_PER_APP + 1  # and k2's one
    assert [d.status for d in box.all("k2")] == [PENDING]  # another app's cap is its own


def test_a_delivery_being_sent_is_not_given_up_under_the_cap() -> None:
    box = Outbox()
    first = delivery(T, n=0)
    box.add(first)
    first.in_flight = True
    for n in range(1, MAX_PENDING_PER_APP + 1):
        box.add(delivery(T + n, n=n))
    assert first.status == PENDING
    assert box.all("awacmescheduler01")[1].dropped_reason == "pending_cap"
