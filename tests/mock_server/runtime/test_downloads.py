"""PULL_FROM_URL downloads against real (local) media servers that stall: a cancel or a
failure stops the download at once, and one app's stalled servers never hold up another's."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from mock_server import Clock, Sandbox
from mock_server.runtime.downloads import PER_APP
from tests.polling import eventually

JSON = {"Content-Type": "application/json"}


class StallingServer:
    """Accepts connections, reads the request, never answers; records when each closes."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.closed_at: list[float] = []
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                self._conns.append(conn)
            threading.Thread(target=self._wait_close, args=(conn,), daemon=True).start()

    def _wait_close(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        try:
            while conn.recv(4096):
                pass  # the request; then nothing more comes until the peer closes
        except OSError:
            pass
        with self._lock:
            self.closed_at.append(time.monotonic())

    def close(self) -> None:
        self.sock.close()
        with self._lock:
            for conn in self._conns:
                conn.close()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    sandbox = Sandbox("default", clock=Clock.frozen_at(datetime(2026, 1, 1, tzinfo=UTC)))
    yield sandbox
    sandbox.close()


def app_pulling_from(http: httpx.Client, port: int, name: str) -> str:
    answer = http.post(
        "/_sandbox/apps",
        json={
            "name": name,
            "verified_url_prefixes": [f"http://127.0.0.1:{port}/media/"],
            "allow_loopback_http_media": True,
        },
    )
    assert answer.status_code == 201, answer.text
    client_key: str = answer.json()["app"]["client_key"]
    return client_key


def pull(
    sandbox: Sandbox, http: httpx.Client, client_key: str, port: int, n: int = 0
) -> tuple[str, str]:
    """A Direct Post pulled from the local server (inbox drafts would meet the pending cap)."""
    token = sandbox.issue_tokens(client_key, "ana_makes", ["video.publish"])["access_token"]
    answer = http.post(
        "/v2/post/publish/video/init/",
        headers={"Authorization": f"Bearer {token}", **JSON},
        json={
            "post_info": {"privacy_level": "SELF_ONLY"},
            "source_info": {
                "source": "PULL_FROM_URL",
                "video_url": f"http://127.0.0.1:{port}/media/{n}.mp4",
            },
        },
    )
    assert answer.status_code == 200, answer.text
    publish_id: str = answer.json()["data"]["publish_id"]
    return token, publish_id


def test_a_cancel_cuts_a_download_stalled_before_any_answer(sandbox: Sandbox) -> None:
    server = StallingServer()
    try:
        with sandbox.client() as http:
            key = app_pulling_from(http, server.port, "Stalled")
            token, publish_id = pull(sandbox, http, key, server.port)
            assert eventually(lambda: server.accepted == 1)
            cancel = http.post(
                "/v2/post/publish/cancel/",
                headers={"Authorization": f"Bearer {token}", **JSON},
                json={"publish_id": publish_id},
            )
            cancelled_at = time.monotonic()
            assert cancel.json()["error"]["code"] == "ok"
            assert eventually(lambda: server.closed_at, 5), "the download kept its connection"
            assert server.closed_at[0] - cancelled_at < 2  # at once, not at a timeout
            assert sandbox.settle(5)
            status = http.get(f"/_sandbox/publishes/{publish_id}").json()
            assert (status["status"], status["fail_reason"]) == ("FAILED", "publish_cancelled")
    finally:
        server.close()


def test_one_apps_stalled_servers_do_not_hold_up_another_apps_pull(sandbox: Sandbox) -> None:
    stalled, fast = StallingServer(), StallingServer()
    try:
        with sandbox.client() as http:
            slow_key = app_pulling_from(http, stalled.port, "Slow media")
            fast_key = app_pulling_from(http, fast.port, "Other app")
            for n in range(PER_APP + 3):
                pull(sandbox, http, slow_key, stalled.port, n)
            pull(sandbox, http, fast_key, fast.port)
            # The other app's pull reaches its server although the first app has more pulls
            # waiting than it may run at once.
            assert eventually(lambda: fast.accepted == 1)
            # Its own pulls connect on their threads: wait for them, and never more than its share.
            assert eventually(lambda: stalled.accepted == PER_APP)
            time.sleep(0.2)
            assert stalled.accepted == PER_APP
    finally:
        sandbox.close()  # aborts every download under way
        stalled.close()
        fast.close()
