"""PULL_FROM_URL downloads against real (local) media servers that stall: a cancel or a
failure stops the download at once, and one app's stalled servers never hold up another's."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

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


def test_an_abort_cuts_a_stalled_https_download_too() -> None:
    # Starting TLS takes the TCP socket over: the abort must reach the TLS socket.
    import io

    from mock_server.frontdoor.ca import LocalCA
    from mock_server.frontdoor.tls import server_context
    from mock_server.runtime.downloads import Abort
    from mock_server.runtime.fetcher import HttpxFetcher

    ca = LocalCA.load_or_create()
    context = server_context(ca)
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        conn, _ = listener.accept()
        held.append(context.wrap_socket(conn, server_side=True))  # handshake, then silence

    threading.Thread(target=serve, daemon=True).start()
    abort, failed = Abort(), threading.Event()

    class Progress:
        on_abort = abort.on_abort

        def __call__(self, received: int) -> None:
            pass

    def fetch() -> None:
        fetcher = HttpxFetcher(timeout_seconds=30)
        fetcher_url = f"https://localhost:{listener.getsockname()[1]}/v.mp4"
        try:
            with httpx_verify(str(ca.cert_path)):
                fetcher.fetch(fetcher_url, io.BytesIO(), 10**9, Progress())
        except Exception:
            failed.set()

    thread = threading.Thread(target=fetch, daemon=True)
    thread.start()
    assert eventually(lambda: held)
    assert not failed.wait(0.5), "the TLS connection did not come up: the test proves nothing"
    abort.fire()
    assert failed.wait(3), "the download waited for its read timeout"
    listener.close()


def httpx_verify(cafile: str) -> Any:
    """httpx (through ssl's defaults) trusts `cafile` while the block runs."""
    import contextlib
    import os

    @contextlib.contextmanager
    def trusting() -> Iterator[None]:
        before = os.environ.get("SSL_CERT_FILE")
        os.environ["SSL_CERT_FILE"] = cafile
        try:
            yield
        finally:
            if before is None:
                del os.environ["SSL_CERT_FILE"]
            else:
                os.environ["SSL_CERT_FILE"] = before

    return trusting()


def test_a_pull_of_the_world_before_a_reset_leaves_the_new_worlds_media_alone(
    tmp_path: Any,
) -> None:
    # After a reset the same seed gives the same publish ids; the old pull, ending late, must
    # not delete the file the new pull of the same id spooled.
    from conformance.media import make_video

    video = make_video(tmp_path / "v.mp4").read_bytes()
    old_waiting, old_go, new_written, new_go = (threading.Event() for _ in range(4))
    calls: list[int] = []

    class Fetcher:
        def fetch(self, url: str, dest: Any, max_bytes: int, progress: Any) -> int:
            calls.append(1)
            if len(calls) == 1:  # the pull of the World before the reset
                dest.write(b"x" * 10)
                old_waiting.set()
                old_go.wait(5)
                progress(10)  # raises: that publish is gone
            dest.write(video)
            new_written.set()
            new_go.wait(5)
            progress(len(video))
            return len(video)

    sandbox = Sandbox(clock=Clock.frozen_at(datetime(2026, 1, 1, tzinfo=UTC)), fetcher=Fetcher())
    try:
        with sandbox.client() as http:

            def inbox_pull() -> str:
                token = sandbox.issue_tokens("awacmescheduler01", "ana_makes", ["video.upload"])
                answer = http.post(
                    "/v2/post/publish/inbox/video/init/",
                    headers={"Authorization": f"Bearer {token['access_token']}", **JSON},
                    json={
                        "source_info": {
                            "source": "PULL_FROM_URL",
                            "video_url": "http://127.0.0.1:9000/media/clip.mp4",
                        }
                    },
                )
                publish_id: str = answer.json()["data"]["publish_id"]
                return publish_id

            first = inbox_pull()
            assert old_waiting.wait(5)
            sandbox.reset()
            second = inbox_pull()
            assert first == second and new_written.wait(5)
            old_go.set()
            assert eventually(lambda: sandbox.state.downloads.in_flight == 1)
            new_go.set()
            assert sandbox.settle(5)
            sandbox.advance(600)
            assert sandbox.publish(second).status == "SEND_TO_USER_INBOX"
    finally:
        old_go.set()
        new_go.set()
        sandbox.close()
