"""Background webhook delivery on a served sandbox: the pending cap gives up the oldest, the
pool holds a bounded number of jobs per app, and a reset drops the previous World's queue."""

from __future__ import annotations

import threading
from collections.abc import Mapping

import pytest

from mock_server import Sandbox
from mock_server.domain.webhooks import DROPPED, MAX_PENDING_PER_APP, PENDING, Delivery
from mock_server.state import (
    WEBHOOK_QUEUE_PER_APP,
    WEBHOOKS_PER_APP,
    SandboxState,
    ServerOptions,
)
from tests.polling import eventually


class Hanging:
    """A receiver that never answers until released; counts what reached it."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        with self._lock:
            self.bodies.append(body)
        self.release.wait(30)
        return 200, ""


def add(state: SandboxState, n: int, body: bytes = b"{}") -> None:
    now = state.now()
    delivery = Delivery(f"d{n:05d}", "appA", "e", "http://127.0.0.1:9/h", body, now, now)
    state.world.outbox.add(delivery)


def test_the_pending_cap_gives_up_the_oldest_and_the_pool_stays_small() -> None:
    receiver = Hanging()
    state = SandboxState(webhook_sender=receiver)
    try:
        for n in range(3 * MAX_PENDING_PER_APP):
            add(state, n)
            if n % 10 == 0:
                state.dispatch_webhooks(background=True)  # what the ticker does
        log = state.world.outbox.all("appA")
        pending = [d.delivery_id for d in log if d.status == PENDING]
        assert len(pending) == MAX_PENDING_PER_APP
        # The newest are kept (those a hung worker holds aside): nothing new is dropped unsent.
        assert pending[-1] == f"d{3 * MAX_PENDING_PER_APP - 1:05d}"
        dropped = [d for d in log if d.status == DROPPED]
        assert dropped and all(d.dropped_reason == "pending_cap" for d in dropped)
        assert max(d.delivery_id for d in dropped) < pending[WEBHOOKS_PER_APP]
        assert state._webhook_pool.pending <= WEBHOOK_QUEUE_PER_APP
    finally:
        receiver.release.set()
        state.close()


def test_a_reset_drops_what_the_previous_world_had_queued() -> None:
    receiver = Hanging()
    state = SandboxState(webhook_sender=receiver)
    try:
        for n in range(WEBHOOK_QUEUE_PER_APP):
            add(state, n, b'{"world": "old"}')
        state.dispatch_webhooks(background=True)
        assert eventually(lambda: len(receiver.bodies) == WEBHOOKS_PER_APP)  # the rest wait
        state.reset()
        receiver.release.set()
        assert state._webhook_pool.wait_idle(5)
        # Only those already being sent when the reset came went out.
        assert len(receiver.bodies) == WEBHOOKS_PER_APP
    finally:
        receiver.release.set()
        state.close()


def test_max_publishes_bounds_what_a_sandbox_keeps() -> None:
    with pytest.raises(ValueError, match="max_publishes"):
        ServerOptions(max_publishes=0)
    sandbox = Sandbox("default", seed=4, options=ServerOptions(max_publishes=3))
    token = sandbox.issue_tokens("awacmescheduler01", "ana_makes", ["video.upload"])
    body = {
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": 1000,
            "chunk_size": 1000,
            "total_chunk_count": 1,
        }
    }
    made = []
    with sandbox.client(headers={"Authorization": f"Bearer {token['access_token']}"}) as http:
        for _ in range(5):
            answer = http.post("/v2/post/publish/inbox/video/init/", json=body)
            if answer.json()["error"]["code"] == "spam_risk_too_many_pending_share":
                break
            made.append(answer.json()["data"]["publish_id"])
        kept = [p["publish_id"] for p in http.get("/_sandbox/publishes").json()["publishes"]]
    assert len(made) > 3
    assert kept == made[::-1][:3]  # the newest three; the oldest were forgotten
    sandbox.close()
