"""Interception: httpx (sync and async) and requests calls to TikTok's hosts reach the sandbox
in-process; other hosts are left alone, or refused when asked."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from starlette.types import ASGIApp, Receive, Scope, Send

from conformance.media import make_video
from mock_server import TIKTOK_HOSTS, Clock, HostRefused, Interceptor, Sandbox
from mock_server.intercept import HostSet
from mock_server.state import ServerOptions
from tests.netguard import refuse_remote_hosts

API = "https://open.tiktokapis.com"
A = "awacmescheduler01"
SCOPES = ["user.info.basic", "video.publish", "video.upload"]


def reached_sandbox(response: httpx.Response | requests.Response) -> bool:
    """The sandbox's own answer to a call without a token (the control API is not reachable
    under TikTok's names: issue 10)."""
    body = response.json()
    return response.status_code == 401 and body["error"]["code"] == "access_token_invalid"


@pytest.fixture(autouse=True)
def _no_remote_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_remote_hosts(monkeypatch)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox("default", clock=Clock.frozen_at(datetime(2026, 1, 1, tzinfo=UTC))) as sandbox:
        yield sandbox


@pytest.fixture
def auth(sandbox: Sandbox) -> dict[str, str]:
    token = sandbox.issue_tokens(A, "ana_makes", SCOPES)["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("media") / "clip.mp4")


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"not tiktok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def other_host() -> Iterator[str]:
    """A local server that is not TikTok, started and stopped here."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def init_file_upload(size: int) -> dict[str, Any]:
    return {
        "post_info": {"privacy_level": "SELF_ONLY", "title": "hello"},
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": size,
            "chunk_size": size,
            "total_chunk_count": 1,
        },
    }


def test_requests_posts_a_video_with_a_file_body(
    sandbox: Sandbox, auth: dict[str, str], clip: Path
) -> None:
    size = clip.stat().st_size
    with sandbox.intercept():
        init = requests.post(
            f"{API}/v2/post/publish/video/init/", headers=auth, json=init_file_upload(size)
        )
        upload_url = init.json()["data"]["upload_url"]
        with clip.open("rb") as body:
            put = requests.put(
                upload_url,
                data=body,
                headers={
                    "Content-Type": "video/mp4",
                    "Content-Range": f"bytes 0-{size - 1}/{size}",
                },
            )
    # The sandbox hands out an upload_url on the host the init came for: intercepted too.
    # TikTok's upload host (issue 11), itself intercepted.
    assert upload_url.startswith("https://open-upload.tiktokapis.com/upload/?upload_id=")
    assert (put.status_code, put.headers["Content-Range"]) == (201, f"bytes 0-{size - 1}/{size}")
    (record,) = sandbox.journal(endpoint="upload")
    assert (record.request_bytes, record.creator) == (size, "ana_makes")
    sandbox.advance(1)
    assert sandbox.publishes()[0].status == "PUBLISH_COMPLETE"


def test_a_streamed_requests_body_is_read_whole_and_sent_as_on_the_wire(
    sandbox: Sandbox, auth: dict[str, str], clip: Path
) -> None:
    data = clip.read_bytes()
    size = len(data)
    headers = {"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{size - 1}/{size}"}

    def pieces() -> Iterator[bytes]:
        for start in range(0, size, 4096):
            yield data[start : start + 4096]

    with sandbox.intercept():
        init = requests.post(
            f"{API}/v2/post/publish/video/init/", headers=auth, json=init_file_upload(size)
        )
        url = init.json()["data"]["upload_url"]
        # A generator goes up chunked, without Content-Length: TikTok requires one.
        chunked = requests.put(url, data=pieces(), headers=headers)
        sized = requests.put(url, data=pieces(), headers={**headers, "Content-Length": str(size)})
    assert (chunked.status_code, chunked.json()["error"]["code"]) == (400, "invalid_file_upload")
    assert sized.status_code == 201
    first, second = sandbox.journal(endpoint="upload")
    assert first.rule == "content_length_missing"
    assert (second.rule, second.request_bytes) == ("chunk_201", size)


def test_httpx_sync_reaches_the_sandbox(sandbox: Sandbox, auth: dict[str, str]) -> None:
    with sandbox.intercept(), httpx.Client(base_url=API) as http:
        r = http.get("/v2/user/info/", params={"fields": "display_name"}, headers=auth)
    assert r.json()["data"]["user"]["display_name"] == "Ana Makes Things"


def test_async_httpx_awaits_the_app_on_the_callers_loop_and_thread(
    sandbox: Sandbox, auth: dict[str, str]
) -> None:
    seen: list[tuple[int, asyncio.AbstractEventLoop]] = []

    def recording(app: ASGIApp) -> ASGIApp:
        async def recorder(scope: Scope, receive: Receive, send: Send) -> None:
            seen.append((threading.get_ident(), asyncio.get_running_loop()))
            await app(scope, receive, send)

        return recorder

    async def fetch() -> tuple[httpx.Response, asyncio.AbstractEventLoop]:
        async with httpx.AsyncClient() as http:
            r = await http.get(f"{API}/v2/user/info/", params={"fields": "open_id"}, headers=auth)
        return r, asyncio.get_running_loop()

    with Interceptor(recording(sandbox.app)):
        response, loop = asyncio.run(fetch())
    assert response.status_code == 200
    assert seen == [(threading.get_ident(), loop)]


def test_other_hosts_pass_through_untouched(sandbox: Sandbox, other_host: str) -> None:
    async def fetch_async() -> str:
        async with httpx.AsyncClient() as http:
            return (await http.get(other_host)).text

    with sandbox.intercept():
        assert requests.get(other_host).text == "not tiktok"
        assert httpx.get(other_host).text == "not tiktok"
        assert asyncio.run(fetch_async()) == "not tiktok"
        assert reached_sandbox(httpx.get(f"{API}/v2/user/info/"))


def test_other_hosts_are_refused_when_asked(sandbox: Sandbox, other_host: str) -> None:
    async def fetch_async() -> None:
        async with httpx.AsyncClient() as http:
            await http.get(other_host)

    with sandbox.intercept(other_hosts="refuse"):
        with pytest.raises(HostRefused, match=r"refused GET http://127\.0\.0\.1:\d+/.*'refuse'"):
            requests.get(other_host)
        with pytest.raises(HostRefused, match=r"open\.tiktokapis\.com"):
            httpx.get(other_host)
        with pytest.raises(HostRefused):
            asyncio.run(fetch_async())
        assert reached_sandbox(requests.get(f"{API}/v2/user/info/"))
    assert requests.get(other_host).text == "not tiktok"  # interception is over


def test_intercept_decorates_sync_and_async_functions(sandbox: Sandbox, other_host: str) -> None:
    @sandbox.intercept(other_hosts="refuse")
    def sync_call() -> int:
        with pytest.raises(HostRefused):
            requests.get(other_host)
        return requests.get(f"{API}/v2/user/info/").status_code

    @sandbox.intercept(other_hosts="refuse")
    async def async_call() -> int:
        async with httpx.AsyncClient() as http:
            with pytest.raises(HostRefused):
                await http.get(other_host)
            return (await http.get(f"{API}/v2/user/info/")).status_code

    assert sync_call() == 401  # the sandbox's answer to a call without a token
    assert asyncio.run(async_call()) == 401
    assert requests.get(other_host).text == "not tiktok"


def test_one_interception_at_a_time(sandbox: Sandbox) -> None:
    with sandbox.intercept():
        with pytest.raises(RuntimeError, match="already active"), sandbox.intercept():
            pass
        assert reached_sandbox(requests.get(f"{API}/v2/user/info/"))
    with Sandbox("default") as other, other.intercept():
        assert reached_sandbox(requests.get(f"{API}/v2/user/info/"))


def test_extra_hosts_and_the_public_url_reach_the_sandbox(other_host: str) -> None:
    options = ServerOptions(public_base_url="http://127.0.0.1:1")
    with (
        Sandbox("default", options=options) as sandbox,
        sandbox.intercept(hosts=["api.internal.example"]),
    ):
        assert reached_sandbox(requests.get("http://api.internal.example/v2/user/info/"))
        assert reached_sandbox(httpx.get("http://127.0.0.1:1/v2/user/info/"))
        # The same address on another port is another host.
        assert httpx.get(other_host).text == "not tiktok"


def test_missing_libraries_name_the_extra(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "mock_server.intercept.httpx_hook", raising=False)
    monkeypatch.setitem(sys.modules, "respx", None)
    with (
        pytest.raises(
            ImportError, match=r"respx is missing.*pip install 'tiktok-sandbox\[pytest\]'"
        ),
        sandbox.intercept(),
    ):
        pass


def test_bad_arguments_are_refused(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="other_hosts: expected 'passthrough' or 'refuse'"):
        sandbox.intercept(other_hosts="block")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="invalid port"):
        sandbox.intercept(hosts=["h.example:port"])


@pytest.mark.parametrize(
    ("url", "claimed"),
    [
        ("https://open.tiktokapis.com/v2/user/info/", True),
        ("https://OPEN.TIKTOKAPIS.COM/v2/user/info/", True),
        ("http://www.tiktok.com:8080/v2/auth/authorize/", True),
        ("https://open-upload.tiktokapis.com/upload/?upload_id=1", True),
        ("https://tiktokapis.com/", False),
        ("http://127.0.0.1:8080/x", True),
        ("http://127.0.0.1:8081/x", False),
        ("https://api.example/x", True),
        ("http://api.example/x", False),
    ],
)
def test_which_requests_are_claimed(url: str, claimed: bool) -> None:
    hosts = HostSet.parse([*TIKTOK_HOSTS, "127.0.0.1:8080", "https://api.example"])
    assert (url in hosts) is claimed
