"""`tiktok-sandbox ca`, `hosts`, and `serve --https/--proxy` run as users run them: bad input at
the front door gets a clear refusal or a clean close, one log line, no traceback, and the
server keeps serving."""

from __future__ import annotations

import re
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mock_server.frontdoor import LocalCA
from tests.test_cli import STARTUP_DEADLINE, STOP_TIMEOUT, command, free_port

EMULATED = "open.tiktokapis.com www.tiktok.com open-upload.tiktokapis.com"
LOG_DEADLINE = 15.0  # seconds to wait for a log line the server writes after answering


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args), capture_output=True, text=True, timeout=STOP_TIMEOUT, check=False
    )


def test_ca_path_prints_the_pem_path_and_nothing_else(sandbox_home: Path) -> None:
    first, second = cli("ca", "--path"), cli("ca", "--path")
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"{sandbox_home / 'ca.pem'}\n"
    assert second.stdout == first.stdout  # made once
    assert Path(first.stdout.strip()).read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")


def test_ca_prints_the_lines_that_trust_it_in_each_language(sandbox_home: Path) -> None:
    result = cli("ca")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    cert, bundle = sandbox_home / "ca.pem", sandbox_home / "bundle.pem"
    assert bundle.exists()
    ca = LocalCA.load_or_create()
    for line in (
        f"export SSL_CERT_FILE={bundle} REQUESTS_CA_BUNDLE={bundle}",  # Python
        f"export NODE_EXTRA_CA_CERTS={cert}",  # Node
        f"curl --cacert {cert}",  # curl
        f"--ignore-certificate-errors-spki-list={ca.spki_sha256()}",  # Chromium
        "HTTPS_PROXY=http://127.0.0.1:8080",
        "tiktok-sandbox hosts",
    ):
        assert line in out, line
    assert re.search(rf"Go\s+export SSL_CERT_FILE={re.escape(str(bundle))}", out)
    assert "nothing is added to the system's trust store" in out


def test_hosts_prints_hosts_file_lines_and_docker_flags() -> None:
    lines = cli("hosts").stdout.splitlines()
    assert f"127.0.0.1 {EMULATED}" in lines
    assert all(line.startswith("#") for line in lines if line != f"127.0.0.1 {EMULATED}")
    assert any("--add-host open.tiktokapis.com:host-gateway" in line for line in lines)

    other = cli("hosts", "--address", "10.0.0.5").stdout
    assert f"10.0.0.5 {EMULATED}" in other.splitlines()
    docker = cli("hosts", "--docker", "--address", "host-gateway").stdout.split()
    assert docker == [
        "--add-host", "open.tiktokapis.com:host-gateway",
        "--add-host", "www.tiktok.com:host-gateway",
        "--add-host", "open-upload.tiktokapis.com:host-gateway",
    ]  # fmt: skip


# -- a served sandbox and its log --------------------------------------------------------------


@dataclass
class Served:
    proc: subprocess.Popen[str]
    port: int
    log: Path
    summary: str
    ca: LocalCA

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines()

    def new_lines(self, since: int) -> list[str]:
        """The log lines written after the first `since`, once at least one is there."""
        deadline = time.monotonic() + LOG_DEADLINE
        while time.monotonic() < deadline:
            lines = self.lines()[since:]
            if lines:
                return lines
            time.sleep(0.05)
        return []

    def proxied(self) -> httpx.Client:
        verify = ssl.create_default_context(cafile=str(self.ca.cert_path))
        return httpx.Client(proxy=f"http://127.0.0.1:{self.port}", verify=verify, timeout=30)

    def still_serving(self) -> None:
        with self.proxied() as client:
            answer = client.post("https://open.tiktokapis.com/v2/post/publish/creator_info/query/")
        assert answer.status_code == 401, answer.text  # no token: TikTok's answer, served
        assert answer.json()["error"]["code"] == "access_token_invalid"


def serve(tmp_path: Path, *flags: str) -> Iterator[Served]:
    """`tiktok-sandbox serve FLAGS` on a free loopback port, its stderr in a file; stopped with
    SIGTERM at the end, which must exit 0 with no traceback anywhere in its log."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(
            command("serve", "--port", str(port), *flags),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    try:
        summary = _summary(proc, port)
        served = Served(proc, port, log, summary, LocalCA.load_or_create())
        yield served
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=STOP_TIMEOUT)
        assert proc.returncode == 0, log.read_text()
        assert "Traceback" not in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=STOP_TIMEOUT)


def _summary(proc: subprocess.Popen[str], port: int) -> str:
    """The start-up summary, read up to its creators table, once the port accepts."""
    assert proc.stdout is not None
    deadline = time.monotonic() + STARTUP_DEADLINE
    text = ""
    while "creator " not in text and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"the sandbox exited with {proc.wait()} during start-up")
        text += line
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return text
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"the sandbox did not listen within {STARTUP_DEADLINE} s")


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("both"), "--https", "--proxy")


@pytest.fixture(scope="module")
def https_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("https"), "--https")


def raw(served: Served, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_the_summary_says_how_to_run_an_unmodified_app(both: Served) -> None:
    out, ca = both.summary, both.ca
    assert f"https://127.0.0.1:{both.port}" in out
    assert f"export HTTPS_PROXY=http://127.0.0.1:{both.port}" in out
    for line in (
        f"SSL_CERT_FILE={ca.bundle_path}",
        f"REQUESTS_CA_BUNDLE={ca.bundle_path}",
        f"NODE_EXTRA_CA_CERTS={ca.cert_path}",
        "NODE_USE_ENV_PROXY=1",
        f"curl --proxy http://127.0.0.1:{both.port} --cacert {ca.cert_path}",
        f"--proxy-server=http://127.0.0.1:{both.port}",
        "tiktok-sandbox hosts",
        f"unmodified apps need --port 443, not {both.port}",
    ):
        assert line in out, line


def test_a_refused_connect_is_one_log_line(both: Served) -> None:
    since = len(both.lines())
    answer = raw(both, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    assert b"never forwards" in answer
    both.still_serving()
    lines = both.new_lines(since)
    assert len(lines) == 1, lines
    assert "CONNECT example.com:443 from 127.0.0.1:" in lines[0] and "refused (403)" in lines[0]


@pytest.mark.parametrize(
    ("request_head", "says"),
    [
        (b"CONNECT example.com HTTP/1.1\r\n\r\n", "has no port"),
        (b"CONNECT open.tiktokapis.com:443 SPDY/3\r\n\r\n", "is not HTTP/1.0 or HTTP/1.1"),
        (b"CONNECT open.tiktokapis.com:443 HTTP/1.1\r\nno colon\r\n\r\n", "malformed"),
    ],
)
def test_a_malformed_proxy_request_is_refused_with_one_log_line(
    both: Served, request_head: bytes, says: str
) -> None:
    since = len(both.lines())
    answer = raw(both, request_head)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer
    assert says.encode() in answer
    both.still_serving()
    lines = both.new_lines(since)
    assert len(lines) == 1, lines
    assert "malformed CONNECT" in lines[0] and says in lines[0]


@pytest.mark.parametrize("through_proxy", [False, True], ids=["direct", "tunnel"])
def test_a_client_that_does_not_trust_the_ca_gets_a_clean_close_and_one_log_line(
    both: Served, through_proxy: bool
) -> None:
    since = len(both.lines())
    untrusting = ssl.create_default_context()  # the public CAs only
    proxy = f"http://127.0.0.1:{both.port}" if through_proxy else None
    url = "https://open.tiktokapis.com/" if through_proxy else f"https://127.0.0.1:{both.port}/"
    with (
        httpx.Client(proxy=proxy, verify=untrusting, timeout=30) as client,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        client.get(url)
    both.still_serving()
    lines = both.new_lines(since)
    assert len(lines) == 1, lines
    assert "TLS handshake with 127.0.0.1:" in lines[0]
    assert "does not trust the sandbox's certificate" in lines[0]
    assert "tiktok-sandbox ca" in lines[0]


def test_a_client_saying_nothing_useful_in_the_tunnel_is_closed(both: Served) -> None:
    since = len(both.lines())
    answer = raw(
        both,
        b"CONNECT open.tiktokapis.com:443 HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    assert answer == b"HTTP/1.1 200 Connection established\r\n\r\n"  # then a clean close
    both.still_serving()
    lines = both.new_lines(since)
    assert len(lines) == 1, lines
    assert "did not start TLS" in lines[0]


def test_plain_http_on_the_tls_port_is_refused_with_a_hint(https_only: Served) -> None:
    since = len(https_only.lines())
    plain = httpx.get(f"http://127.0.0.1:{https_only.port}/_sandbox/health", timeout=30)
    assert plain.status_code == 400
    assert "speaks HTTPS only" in plain.text
    assert f"https://127.0.0.1:{https_only.port}/" in plain.text
    verify = ssl.create_default_context(cafile=str(https_only.ca.cert_path))
    health = httpx.get(f"https://127.0.0.1:{https_only.port}/_sandbox/health", verify=verify)
    assert health.json()["status"] == "ok"  # the dashboard's API stays at the loopback URL
    lines = https_only.new_lines(since)
    assert len(lines) == 1, lines
    assert "GET '/_sandbox/health' from 127.0.0.1:" in lines[0] and "refused (400)" in lines[0]


def test_a_tls_only_port_is_not_a_proxy(https_only: Served) -> None:
    since = len(https_only.lines())
    answer = raw(https_only, b"CONNECT open.tiktokapis.com:443 HTTP/1.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer
    assert b"not a proxy; start the sandbox with --proxy" in answer
    assert len(https_only.new_lines(since)) == 1
