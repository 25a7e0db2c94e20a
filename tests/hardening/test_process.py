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
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
from tests.test_cli import free_port, running, wait_for_health

pytestmark = pytest.mark.server

VIDEO_INIT = "/v2/post/publish/video/init/"
WAIT = 10.0


class Served:
    """A `tiktok-sandbox serve` subprocess and a client for it."""

    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc, self.port = proc, port
        self.base = f"http://127.0.0.1:{port}"
        wait_for_health(proc, self.base)
        self.http = httpx.Client(base_url=self.base, timeout=30)

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

    def journaled(self, path: str, count: int = 1) -> None:
        """Wait (bounded) until `count` requests to `path` have finished: the journal records
        a request once it is over, disconnected or not."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            entries = self.http.get("/_sandbox/journal", params={"path": path}).json()["entries"]
            if len(entries) >= count:
                return
            time.sleep(0.05)
        pytest.fail(f"{path} was not journaled within {WAIT} s")

    def terminate(self) -> str:
        """SIGTERM, wait for the exit (bounded), and return stderr."""
        self.http.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the server was still running {WAIT} s after SIGTERM")
        assert self.proc.returncode == 0, err
        return err


@pytest.fixture
def served() -> Iterator[Served]:
    port = free_port()
    with running("serve", "--port", str(port), "--seed", "0") as proc:
        yield Served(proc, port)


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

        err = served.terminate()  # exit code 0 within the bound
    assert "Traceback" not in err


# -- one line per client that went away -----------------------------------------------------


def _disconnect_mid_upload(served: Served) -> str:
    size = 2 * CHUNK
    data = served.init(
        served.token(),
        {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": CHUNK, "total_chunk_count": 2},
    )
    path = path_of(data["upload_url"])
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        sock.sendall(put_head(path, served.port, 0, CHUNK - 1, size) + b"\0" * (CHUNK // 2))
    return "/upload/"


def _disconnect_mid_json_body(served: Served) -> str:
    head = (
        f"POST /v2/post/publish/status/fetch/ HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
        f"Authorization: Bearer {served.token()}\r\nContent-Type: application/json\r\n"
        "Content-Length: 100\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        sock.sendall(head.encode() + b'{"publish_id": "v_pub')
    return "/v2/post/publish/status/fetch/"


def _broken_answer(served: Served) -> str:
    fault = {"endpoint": "user_info", "action": "truncate_body", "times": 1}
    assert served.http.post("/_sandbox/faults", json=fault).status_code == 201
    with pytest.raises(httpx.HTTPError):
        served.http.get(
            "/v2/user/info/", params={"fields": "open_id"}, headers=bearer(served.token())
        )
    return "/v2/user/info/"


@pytest.mark.parametrize(
    "cut",
    [_disconnect_mid_upload, _disconnect_mid_json_body, _broken_answer],
    ids=["upload", "json-body", "injected-broken-answer"],
)
def test_a_connection_cut_short_logs_exactly_one_line_and_no_traceback(
    served: Served, cut: Any
) -> None:
    path = cut(served)
    served.journaled(path)
    assert served.http.get("/_sandbox/health").status_code == 200  # still serving
    err = served.terminate()
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one log line, got {len(lines)}:\n{err}"


# -- spool files of a server that no longer runs --------------------------------------------


def test_spool_files_of_a_killed_server_are_removed_when_the_next_one_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))  # both servers inherit it; only theirs are here
    size = 3 * CHUNK
    port = free_port()
    with running("serve", "--port", str(port), "--seed", "0") as proc:
        first = Served(proc, port)
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
            first.http.close()
            proc.kill()
            proc.wait(WAIT)
    assert all(p.exists() for p in left), "a killed server leaves its files behind"

    port = free_port()
    with running("serve", "--port", str(port), "--seed", "0") as proc:
        second = Served(proc, port)
        remaining = sorted(str(p.relative_to(temp)) for p in left if p.exists())
        assert remaining == [], "the dead server's spool files are still there"
        second.terminate()


# -- the Host flags of `tiktok-sandbox serve` -----------------------------------------------


def test_allowed_host_and_public_url_flags_admit_their_hosts() -> None:
    port = free_port()
    flags = ["--allowed-host", "sandbox.test", "--public-url", "https://tunnel.example.com"]
    with running("serve", "--port", str(port), "--seed", "0", *flags) as proc:
        served = Served(proc, port)
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
