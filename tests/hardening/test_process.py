"""A served sandbox as a process (issue 10): SIGTERM stops it whatever is in flight, a client
that goes away (or an injected broken answer) costs one log line, a killed server's spool files
go when the next one starts, the Host flags admit what they name, and IPv4 clients of a server
bound to an IPv6 socket count as loopback.

`tiktok-sandbox serve` runs as a subprocess on a free loopback port (the helpers of
tests/test_cli.py); the peers it talks to are loopback servers run by the test.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mock_server import Clock, Sandbox
from tests.hardening.kit import (
    ANA,
    AUDITED,
    SCOPES,
    SMALL_UPLOAD,
    HangingReceiver,
    StallingMedia,
    bearer,
    control_error,
)
from tests.mock_server.lifecycle_kit import CHUNK, T0, content_range
from tests.test_cli import STOP_TIMEOUT, command, free_port, wait_for_health

pytestmark = pytest.mark.server

VIDEO_INIT = "/v2/post/publish/video/init/"
WAIT = 10.0


class Served:
    """A `tiktok-sandbox serve` subprocess and a client for it."""

    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self._reader: threading.Thread | None = None
        self.proc, self.port = proc, port
        self.base = f"http://127.0.0.1:{port}"
        wait_for_health(proc, self.base)
        self.http = httpx.Client(base_url=self.base, timeout=30)
        # stderr is read as it comes, so a test can wait for a log line.
        self.logged: list[str] = []
        self._more = threading.Condition()
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()

    def stop(self) -> None:
        """Kill the server if it still runs and let go of its pipes."""
        self.http.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(STOP_TIMEOUT)
        if self._reader is not None:
            self._reader.join(STOP_TIMEOUT)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._more:
                self.logged.append(line)
                self._more.notify_all()

    def wait_for_log(self) -> None:
        """Wait (bounded) until the server has logged something on stderr."""
        with self._more:
            if not self._more.wait_for(lambda: self.logged, WAIT):
                pytest.fail(f"nothing was logged within {WAIT} s")

    def token(self) -> str:
        body = {"client_key": AUDITED, "username": ANA, "scopes": SCOPES}
        response = self.http.post("/_sandbox/tokens", json=body)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def init(self, token: str, source: dict[str, Any]) -> dict[str, Any]:
        body = {"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": source}
        response = self.http.post(VIDEO_INIT, headers=bearer(token), json=body)
        assert response.json()["error"]["code"] == "ok", response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def patch_app(self, **fields: Any) -> None:
        response = self.http.patch(f"/_sandbox/apps/{AUDITED}", json=fields)
        assert response.status_code == 200, response.text

    def terminate(self) -> tuple[str, str]:
        """SIGTERM, wait for the exit (bounded); returns stdout and stderr."""
        self.http.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the server was still running {WAIT} s after SIGTERM")
        assert self._reader is not None
        self._reader.join(WAIT)
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        err = "".join(self.logged)
        assert self.proc.returncode == 0, err
        return out, err


@contextmanager
def serving(*flags: str) -> Iterator[Served]:
    """`tiktok-sandbox serve --seed 0` on a free port; always stopped when the block ends."""
    port = free_port()
    proc = subprocess.Popen(
        command("serve", "--port", str(port), "--seed", "0", *flags),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        served = Served(proc, port)
    except BaseException:
        proc.kill()
        proc.communicate(timeout=STOP_TIMEOUT)
        raise
    try:
        yield served
    finally:
        served.stop()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def served() -> Iterator[Served]:
    with serving() as running:
        yield running


def put_head(path: str, port: int, first: int, last: int, total: int) -> bytes:
    return (
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: video/mp4\r\n"
        f"Content-Range: {content_range(first, last, total)}\r\n"
        f"Content-Length: {last - first + 1}\r\n\r\n"
    ).encode()


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


# -- SIGTERM --------------------------------------------------------------------------------


def test_sigterm_stops_a_server_with_a_stalled_pull_and_a_hanging_webhook(served: Served) -> None:
    with StallingMedia() as media, HangingReceiver() as hanging:
        served.patch_app(verified_url_prefixes=[f"{media.url}/media/"], webhook_url=hanging.url)
        token = served.token()
        served.init(token, {"source": "PULL_FROM_URL", "video_url": f"{media.url}/media/a.mp4"})
        assert media.started.wait(WAIT), "the pull is under way"
        publish_id = served.init(token, SMALL_UPLOAD)["publish_id"]
        failed = served.http.post(
            f"/_sandbox/publishes/{publish_id}/actions",
            json={"action": "fail", "fail_reason": "internal"},
        )
        assert failed.status_code == 200, failed.text
        assert hanging.server.wait_for(1, WAIT), "a webhook delivery is hanging"

        _, err = served.terminate()  # exit code 0 within the bound
    assert "Traceback" not in err


def test_sigterm_with_a_request_still_waiting_for_its_body_logs_one_line_for_it(
    served: Served,
) -> None:
    head = (
        f"PATCH /_sandbox/creators/ana_makes HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        sock.sendall(head.encode() + b'{"nick')  # and the rest never comes
        time.sleep(0.3)
        _, err = served.terminate()  # uvicorn cancels it once its graceful wait is over
    assert "Traceback" not in err, err
    cancelled = [line for line in err.splitlines() if "was cancelled before its answer" in line]
    assert len(cancelled) == 1, err
    assert "PATCH /_sandbox/creators/ana_makes" in cancelled[0]


# -- one line per client that went away -----------------------------------------------------


def _disconnect_mid_upload(served: Served) -> None:
    size = 2 * CHUNK
    data = served.init(
        served.token(),
        {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": CHUNK, "total_chunk_count": 2},
    )
    path = path_of(data["upload_url"])
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        sock.sendall(put_head(path, served.port, 0, CHUNK - 1, size) + b"\0" * (CHUNK // 2))


def _disconnect_mid_json_body(served: Served) -> None:
    head = (
        f"POST /v2/post/publish/status/fetch/ HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
        f"Authorization: Bearer {served.token()}\r\nContent-Type: application/json\r\n"
        "Content-Length: 100\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        sock.sendall(head.encode() + b'{"publish_id": "v_pub')


def _broken_answer(served: Served) -> None:
    fault = {"endpoint": "user_info", "action": "truncate_body", "times": 1}
    assert served.http.post("/_sandbox/faults", json=fault).status_code == 201
    with pytest.raises(httpx.HTTPError):
        served.http.get(
            "/v2/user/info/", params={"fields": "open_id"}, headers=bearer(served.token())
        )


def _malformed_chunked_body(served: Served) -> None:
    # The HTTP server refuses the body with its own 400 while the endpoint (which answers before
    # reading a body: no token) is still answering.
    head = (
        "POST /v2/post/publish/creator_info/query/ HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{served.port}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        sock.sendall(head.encode() + b"zz\r\nhello\r\n0\r\n\r\n")
        sock.settimeout(5)
        assert sock.recv(64).startswith(b"HTTP/1.1 400")


@pytest.mark.parametrize(
    "cut",
    [_disconnect_mid_upload, _disconnect_mid_json_body, _broken_answer, _malformed_chunked_body],
    ids=["upload", "json-body", "injected-broken-answer", "malformed-chunked-body"],
)
def test_a_connection_cut_short_logs_exactly_one_line_and_no_traceback(
    served: Served, cut: Any
) -> None:
    cut(served)
    served.wait_for_log()
    assert served.http.get("/_sandbox/health").status_code == 200  # still serving
    _, err = served.terminate()
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one log line, got {len(lines)}:\n{err}"


# -- access logs ----------------------------------------------------------------------------


def test_the_access_log_redacts_bearer_and_upload_tokens() -> None:
    with serving("--access-log", "--log-level", "info") as served:
        token = served.token()
        upload_url = served.init(token, SMALL_UPLOAD)["upload_url"]
        upload_token = parse_qs(urlsplit(upload_url).query)["upload_token"][0]
        put = served.http.put(
            upload_url,
            content=b"\0" * 1000,
            headers={"Content-Type": "video/mp4", "Content-Range": "bytes 0-999/1000"},
        )
        assert put.status_code == 201, put.text
        info = served.http.get(
            "/v2/user/info/", params={"fields": "open_id"}, headers=bearer(token)
        )
        assert info.status_code == 200, info.text
        out, err = served.terminate()
    logged = out + err
    assert "/upload/" in logged and "/v2/user/info/" in logged, "the requests were logged"
    assert upload_token not in logged
    assert token not in logged


# -- spool files of a server that no longer runs --------------------------------------------


def test_spool_files_of_a_killed_server_are_removed_when_the_next_one_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))  # both servers inherit it; only theirs are here
    size = 3 * CHUNK
    with serving() as first:
        port = first.port
        source = {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": CHUNK}
        upload_url = first.init(first.token(), {**source, "total_chunk_count": 3})["upload_url"]
        put = first.http.put(
            upload_url,
            content=b"\0" * CHUNK,
            headers={
                "Content-Type": "video/mp4",
                "Content-Range": content_range(0, CHUNK - 1, size),
            },
        )
        assert put.status_code == 206, put.text
        with socket.create_connection(("127.0.0.1", port)) as sock:  # a chunk half sent
            sock.sendall(put_head(path_of(upload_url), port, CHUNK, 2 * CHUNK - 1, size))
            sock.sendall(b"\0" * (CHUNK // 2))
            first.http.get("/_sandbox/health")
            left = {p for p in temp.rglob("*") if p.is_file()}
            assert left, "the server spooled the chunks under TMPDIR"
            first.stop()  # SIGKILL
    assert all(p.exists() for p in left), "a killed server leaves its files behind"

    with serving() as second:
        remaining = sorted(str(p.relative_to(temp)) for p in left if p.exists())
        assert remaining == [], "the dead server's spool files are still there"
        second.terminate()


# -- the Host flags of `tiktok-sandbox serve` -----------------------------------------------


def test_allowed_host_and_public_url_flags_admit_their_hosts() -> None:
    flags = ["--allowed-host", "sandbox.test", "--public-url", "https://tunnel.example.com"]
    with serving(*flags) as served:
        for host in ("sandbox.test", "sandbox.test:8080", "tunnel.example.com"):
            response = served.http.get("/_sandbox/apps", headers={"Host": host})
            assert response.status_code == 200, f"{host}: {response.text}"
        refused = served.http.get("/_sandbox/apps", headers={"Host": "evil.example"})
        control_error(refused, 403, "host_not_allowed")
        served.terminate()


# -- IPv4 clients of an IPv6 socket ---------------------------------------------------------


def test_an_ipv4_mapped_loopback_peer_counts_as_loopback() -> None:
    """`--host ::` sees IPv4 clients as `::ffff:127.0.0.1`. Binding the IPv4-mapped loopback
    address itself gives the same peers without listening beyond this machine."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::ffff:127.0.0.1", 0))
    except OSError as exc:
        pytest.skip(f"no dual-stack IPv6 socket on this machine: {exc}")
    sandbox = Sandbox("default", clock=Clock.frozen_at(T0))
    with (
        sandbox.serve(host="::ffff:127.0.0.1") as server,
        httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as http,
    ):
        health = http.get("/_sandbox/health")
        assert health.status_code == 200, health.text
        moved = http.post("/_sandbox/clock", json={"advance_seconds": 60})
        assert moved.status_code == 200, moved.text
        mapped_host = {"Host": f"[::ffff:127.0.0.1]:{server.port}"}
        assert http.get("/_sandbox/apps", headers=mapped_host).status_code == 200
    sandbox.close()
