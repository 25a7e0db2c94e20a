"""Unmodified apps reach the sandbox through their environment alone: TLS with the local CA,
the proxy for TikTok's hosts (curl, Python requests and httpx, Node's fetch), refusals of
everything else, and name resolution in a private namespace. Every server is started on
127.0.0.1 by the test and stopped by it; nothing is forwarded anywhere."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.media import make_video
from mock_server.frontdoor import LocalCA
from mock_server.runtime.fetcher import StaticFetcher
from mock_server.runtime.webhooks import RecordingWebhookSender
from mock_server.sandbox import RunningServer
from tests.mock_server.lifecycle_kit import AUDITED, STATUS, Studio, plan

pytestmark = pytest.mark.server

REPO = Path(__file__).resolve().parents[1]
API = "https://open.tiktokapis.com"
CREATOR_INFO = "/v2/post/publish/creator_info/query/"
UPLOAD_PREFIX = "https://open-upload.tiktokapis.com/upload/?upload_id="
EMULATED = ("open.tiktokapis.com", "www.tiktok.com", "open-upload.tiktokapis.com")
TIMEOUT = 60  # seconds, for child processes: generous, a slow CI machine still passes
# What an app's environment may carry that would change where its requests go.
_ROUTING = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "node_use_env_proxy")
_TRUST = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def app_env(**settings: str) -> dict[str, str]:
    """This process's environment without proxy or trust settings, plus `settings`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in _ROUTING and k not in (*_TRUST, "NODE_EXTRA_CA_CERTS")
    }
    env.update(settings)
    return env


def run(args: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False, **kwargs
    )


@pytest.fixture(scope="module")
def ca() -> LocalCA:
    ca = LocalCA.load_or_create()
    ca.write_bundle()
    return ca


@pytest.fixture
def studio() -> Iterator[Studio]:
    st = Studio(fetcher=StaticFetcher({}), sender=RecordingWebhookSender())
    yield st
    st.close()


@pytest.fixture
def served(studio: Studio) -> Iterator[RunningServer]:
    """The sandbox on a free loopback port speaking TLS and acting as a proxy."""
    with studio.sandbox.serve(https=True, proxy=True) as running:
        yield running


def proxied(running: RunningServer, ca: LocalCA) -> httpx.Client:
    assert running.proxy_url
    verify = ssl.create_default_context(cafile=str(ca.cert_path))
    return httpx.Client(proxy=running.proxy_url, verify=verify, timeout=30)


def curl(running: RunningServer, ca: LocalCA, *args: str) -> dict[str, Any]:
    """curl through the proxy, trusting the CA; the JSON answer and its status."""
    assert running.proxy_url
    result = run(
        [
            "curl",
            "-sS",
            "--proxy",
            running.proxy_url,
            "--cacert",
            str(ca.cert_path),
            "-w",
            "\n%{http_code}",
            *args,
        ],
        app_env(),
    )
    assert result.returncode == 0, result.stderr
    body, _, status = result.stdout.rpartition("\n")
    return {"status": int(status), "json": json.loads(body) if body else None}


def curl_post(running: RunningServer, ca: LocalCA, token: str, path: str, body: Any) -> Any:
    """POST a JSON body to TikTok's API through the proxy with curl."""
    answer = curl(
        running, ca, "-X", "POST", "-H", f"Authorization: Bearer {token}",
        "-H", "Content-Type: application/json", "--data", json.dumps(body), API + path,
    )  # fmt: skip
    assert answer["status"] == 200, answer
    return answer["json"]["data"]


# -- curl, end to end ---------------------------------------------------------------------------


def test_curl_posts_a_video_through_the_proxy(
    served: RunningServer, studio: Studio, ca: LocalCA, tmp_path: Path
) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    video = make_video(tmp_path / "clip.mp4")
    size = video.stat().st_size
    token = studio.token(AUDITED)
    bearer = f"Authorization: Bearer {token}"

    info = curl(served, ca, "-X", "POST", "-H", bearer, API + CREATOR_INFO)
    assert info["status"] == 200, info
    assert "SELF_ONLY" in info["json"]["data"]["privacy_level_options"]

    body = {
        "post_info": {"privacy_level": "SELF_ONLY", "title": "through the proxy"},
        "source_info": plan(size),
    }
    init = curl_post(served, ca, token, "/v2/post/publish/video/init/", body)
    upload_url, publish_id = init["upload_url"], init["publish_id"]
    assert upload_url.startswith(UPLOAD_PREFIX)  # TikTok's upload host: through the proxy too

    put = curl(
        served,
        ca,
        "-X",
        "PUT",
        "--data-binary",
        f"@{video}",
        "-H",
        "Content-Type: video/mp4",
        "-H",
        f"Content-Range: bytes 0-{size - 1}/{size}",
        upload_url,
    )
    assert put["status"] == 201, put

    studio.advance(60)
    status = curl_post(served, ca, token, STATUS, {"publish_id": publish_id})
    assert status["status"] == "PUBLISH_COMPLETE", status
    assert status["uploaded_bytes"] == size

    # The journal (read at the loopback address, as the dashboard is) saw it all.
    with httpx.Client(base_url=served.proxy_url or "", timeout=10) as local:
        entries = local.get("/_sandbox/journal").json()["entries"]
        assert local.get("/_sandbox/").status_code == 200
    paths = [(e["method"], e["path"], e["status"]) for e in entries]
    assert ("PUT", "/upload/", 201) in paths
    assert ("POST", CREATOR_INFO, 200) in paths


def through_proxy(running: RunningServer, studio: Studio, **trust: str) -> dict[str, str]:
    """An app's environment that sends it through the proxy, with a token to call with."""
    assert running.proxy_url
    return app_env(
        HTTPS_PROXY=running.proxy_url,
        NO_PROXY="localhost,127.0.0.1,::1",
        SANDBOX_TOKEN=studio.token(AUDITED),
        **trust,
    )


# -- Python requests and httpx, unmodified, environment only ------------------------------------

UNMODIFIED_PYTHON = textwrap.dedent(
    """
    import json, os, sys
    import {library}
    token = os.environ["SANDBOX_TOKEN"]
    response = {library}.post(
        "https://open.tiktokapis.com/v2/post/publish/creator_info/query/",
        headers={{"Authorization": "Bearer " + token}},
    )
    print(json.dumps({{"status": response.status_code, "body": response.json()}}))
    """
)


@pytest.mark.parametrize("library", ["requests", "httpx"])
def test_python_clients_use_the_sandbox_from_their_environment_alone(
    served: RunningServer, studio: Studio, ca: LocalCA, library: str
) -> None:
    env = through_proxy(
        served,
        studio,
        SSL_CERT_FILE=str(ca.bundle_path),
        REQUESTS_CA_BUNDLE=str(ca.bundle_path),
    )
    result = run([sys.executable, "-c", UNMODIFIED_PYTHON.format(library=library)], env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["status"] == 200, answer
    assert answer["body"]["error"]["code"] == "ok"
    assert answer["body"]["data"]["creator_username"] == "ana_makes"


def test_without_the_ca_in_its_environment_a_client_refuses_the_sandbox(
    served: RunningServer, studio: Studio
) -> None:
    assert served.proxy_url
    env = app_env(HTTPS_PROXY=served.proxy_url, SANDBOX_TOKEN=studio.token(AUDITED))
    result = run([sys.executable, "-c", UNMODIFIED_PYTHON.format(library="httpx")], env)
    assert result.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr
    with proxied(served, LocalCA.load_or_create()) as client:  # the server kept serving
        assert client.post(API + CREATOR_INFO).status_code == 401


# -- Node's fetch --------------------------------------------------------------------------------

NODE_DEPS = Path(os.environ.get("TIKTOK_SANDBOX_NODE_DEPS", Path(sys.prefix) / "node-deps"))
REQUIRE_NODE = os.environ.get("TIKTOK_SANDBOX_REQUIRE_NODE") == "1"
UNMODIFIED_NODE = textwrap.dedent(
    """
    if (!process.env.NODE_USE_ENV_PROXY) {
      // Node before 24 has no NODE_USE_ENV_PROXY: undici's agent reads the same variables.
      const { EnvHttpProxyAgent, setGlobalDispatcher } = require("undici");
      setGlobalDispatcher(new EnvHttpProxyAgent());
    }
    (async () => {
      const response = await fetch(
        "https://open.tiktokapis.com/v2/post/publish/creator_info/query/",
        { method: "POST", headers: { Authorization: "Bearer " + process.env.SANDBOX_TOKEN } },
      );
      console.log(JSON.stringify({ status: response.status, body: await response.json() }));
    })().catch((error) => { console.error(error, error.cause); process.exit(1); });
    """
)


def node_major() -> int:
    node = shutil.which("node")
    if node is None:
        message = "node is not installed (scripts/test installs it)"
        if REQUIRE_NODE:
            pytest.fail(message + " and TIKTOK_SANDBOX_REQUIRE_NODE=1")
        pytest.skip(message)
    version = run([node, "--version"], app_env()).stdout.strip()
    return int(version.lstrip("v").split(".")[0])


def node_proxy_env() -> dict[str, str]:
    """How this Node takes its proxy from the environment: NODE_USE_ENV_PROXY from Node 24,
    else undici's EnvHttpProxyAgent, installed into NODE_DEPS by scripts/node-deps."""
    if node_major() >= 24:
        return {"NODE_USE_ENV_PROXY": "1"}
    if not (NODE_DEPS / "node_modules" / "undici" / "package.json").exists():
        installed = subprocess.run(
            ["bash", str(REPO / "scripts" / "node-deps"), str(NODE_DEPS)],
            capture_output=True,
            text=True,
            timeout=600,  # the npm registry can be slow
            check=False,
        )
        if installed.returncode != 0:
            message = f"cannot install undici into {NODE_DEPS}: {installed.stderr.strip()}"
            if REQUIRE_NODE:
                pytest.fail(message)
            pytest.skip(message)
    return {"NODE_PATH": str(NODE_DEPS / "node_modules")}


def test_node_fetch_uses_the_sandbox_from_its_environment(
    served: RunningServer, studio: Studio, ca: LocalCA
) -> None:
    env = through_proxy(served, studio, NODE_EXTRA_CA_CERTS=str(ca.cert_path), **node_proxy_env())
    result = run(["node", "-e", UNMODIFIED_NODE], env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["status"] == 200, answer
    assert answer["body"]["data"]["creator_username"] == "ana_makes"


# -- refusals: nothing is forwarded ---------------------------------------------------------------


def exchange(running: RunningServer, data: bytes) -> bytes:
    """Send raw bytes to the sandbox's port; everything it answers until it closes."""
    with socket.create_connection((running.host, running.port), timeout=30) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.fixture
def upstream() -> Iterator[socket.socket]:
    """A listener on loopback standing for a host the proxy must never connect to."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        yield listener


def never_connected(listener: socket.socket) -> bool:
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


@pytest.mark.parametrize("via", ["CONNECT", "absolute-form"])
def test_another_host_is_refused_and_never_connected_to(
    served: RunningServer, upstream: socket.socket, via: str
) -> None:
    port = upstream.getsockname()[1]
    if via == "CONNECT":
        request = f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    else:
        request = f"GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    answer = exchange(served, request.encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403"), answer
    text = body.decode()
    assert f"127.0.0.1:{port}" in text and "never forwards" in text
    for host in EMULATED:
        assert host in text
    # A forwarding proxy connects before it answers; the answer came and nothing connected.
    assert never_connected(upstream)


def test_curl_to_another_host_through_the_proxy_fails_with_the_refusal(
    served: RunningServer, ca: LocalCA
) -> None:
    assert served.proxy_url
    result = run(
        [
            "curl",
            "-sS",
            "-v",
            "--proxy",
            served.proxy_url,
            "--cacert",
            str(ca.cert_path),
            "https://example.com/",
        ],
        app_env(),
    )
    assert result.returncode == 56  # curl: CONNECT tunnel failed
    assert "403" in result.stderr
    with proxied(served, ca) as client:
        assert client.post(API + CREATOR_INFO).status_code == 401  # still serving


def test_plain_absolute_form_requests_for_tiktoks_hosts_are_served(
    served: RunningServer, studio: Studio
) -> None:
    assert served.proxy_url
    token = studio.token(AUDITED)
    with httpx.Client(proxy=served.proxy_url, timeout=30) as client:
        info = client.post(
            "http://open.tiktokapis.com" + CREATOR_INFO,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert info.status_code == 200, info.text
        assert info.json()["data"]["creator_username"] == "ana_makes"
        refused = client.get("http://example.com/")
        assert refused.status_code == 403
        assert "never forwards" in refused.text


# -- faults and the journal through TLS ----------------------------------------------------------


@pytest.mark.parametrize("action", ["drop_connection", "truncate_body"])
def test_broken_answers_break_the_connection_through_tls_too(
    served: RunningServer, studio: Studio, ca: LocalCA, action: str
) -> None:
    studio.sandbox.add_fault(endpoint="creator_info", action=action, times=1)
    headers = {"Authorization": f"Bearer {studio.token(AUDITED)}"}
    with proxied(served, ca) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(API + CREATOR_INFO, headers=headers)
        again = client.post(API + CREATOR_INFO, headers=headers)
        assert again.status_code == 200, again.text


def test_direct_tls_gives_the_sandboxs_own_upload_address(
    served: RunningServer, studio: Studio, ca: LocalCA
) -> None:
    """Apps that take a base URL keep using the sandbox's address, TLS or not."""
    verify = ssl.create_default_context(cafile=str(ca.cert_path))
    with httpx.Client(base_url=served.url, verify=verify, timeout=30) as client:
        init = client.post(
            "/v2/post/publish/inbox/video/init/",
            headers={"Authorization": f"Bearer {studio.token(AUDITED)}"},
            json={"source_info": plan(1000)},
        )
    assert init.status_code == 200, init.text
    assert init.json()["data"]["upload_url"].startswith(served.url + "/upload/?upload_id=")


# -- name-resolution mode --------------------------------------------------------------------------

NAME_RESOLUTION_CHILD = textwrap.dedent(
    """
    import json, ssl, sys
    import httpx
    from mock_server import Sandbox

    sandbox = Sandbox("default", seed=5)
    token = sandbox.issue_tokens(
        "awacmescheduler01", "ana_makes", ["user.info.basic", "video.publish"]
    )["access_token"]
    headers = {"Authorization": "Bearer " + token}
    verify = ssl.create_default_context(cafile=sys.argv[1])
    # An explicit transport: httpx then ignores HTTPS_PROXY (set to a dead port by the test).
    transport = httpx.HTTPTransport(verify=verify)
    with sandbox.serve(host="127.0.0.1", port=443, https=True), httpx.Client(
        transport=transport, timeout=30
    ) as client:
        info = client.post(
            "https://open.tiktokapis.com/v2/post/publish/creator_info/query/", headers=headers
        )
        init = client.post(
            "https://open.tiktokapis.com/v2/post/publish/video/init/",
            headers=headers,
            json={
                "post_info": {"privacy_level": "SELF_ONLY"},
                "source_info": {"source": "FILE_UPLOAD", "video_size": 1000,
                                "chunk_size": 1000, "total_chunk_count": 1},
            },
        )
        upload_url = init.json()["data"]["upload_url"]
        put = client.put(
            upload_url,
            content=b"x" * 1000,
            headers={"Content-Type": "video/mp4", "Content-Range": "bytes 0-999/1000"},
        )
    print(json.dumps({"info": info.json(), "upload_url": upload_url, "put": put.status_code}))
    """
)


def test_name_resolution_mode_serves_tiktoks_names_on_port_443(ca: LocalCA, tmp_path: Path) -> None:
    """TikTok's names resolve to loopback in a private mount and network namespace only
    (`unshare -mn`, its own /etc/hosts bind-mounted): this machine's /etc/hosts never changes."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs root for a private mount and network namespace (unshare -mn)")
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs unshare (util-linux) and ip (iproute2)")
    probe = run(["unshare", "-mn", "true"], app_env())
    if probe.returncode != 0:
        pytest.skip(f"cannot make private namespaces here: {probe.stderr.strip()}")

    lines = run([sys.executable, "-m", "mock_server", "hosts"], app_env())
    assert lines.returncode == 0, lines.stderr
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n::1 localhost\n" + lines.stdout)
    before = Path("/etc/hosts").read_bytes()
    script = tmp_path / "child.py"
    script.write_text(NAME_RESOLUTION_CHILD)
    inside = 'ip link set lo up && mount --bind "$1" /etc/hosts && exec "$2" "$3" "$4"'
    result = run(
        [
            "unshare",
            "-mn",
            "sh",
            "-c",
            inside,
            "sh",
            str(hosts),
            sys.executable,
            str(script),
            str(ca.cert_path),
        ],
        app_env(HTTPS_PROXY="http://127.0.0.1:9", PYTHONPATH=str(REPO)),
    )
    assert Path("/etc/hosts").read_bytes() == before
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["info"]["data"]["creator_username"] == "ana_makes"
    assert answer["upload_url"].startswith(UPLOAD_PREFIX)  # port 443: no port in the URL
    assert answer["put"] == 201
