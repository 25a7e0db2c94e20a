"""A request whose client went away before its answer is journaled with status 499, in
process (the client cancels it) and served (the connection closes), and the sandbox goes on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from mock_server import Sandbox
from tests.mock_server.lifecycle_kit import ANA, AUDITED, CHUNK, INBOX_INIT, content_range, plan

APP, CREATOR = AUDITED, ANA


async def _stalled() -> AsyncIterator[bytes]:
    yield b'{"publish_id":'
    await asyncio.sleep(30)
    yield b'"x"}'


def test_a_request_the_in_process_client_gives_up_on_is_journaled_499() -> None:
    sandbox = Sandbox("default", seed=3)
    token = sandbox.issue_tokens(APP, CREATOR, ["video.publish"])["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def give_up(path: str) -> None:
        async with sandbox.async_client() as http:
            try:
                await asyncio.wait_for(http.post(path, content=_stalled(), headers=headers), 0.2)
            except TimeoutError:
                pass
            else:
                raise AssertionError("the stalled request was answered")

    for path in ("/v2/post/publish/status/fetch/", "/_sandbox/creators"):
        asyncio.run(give_up(path))
        last = sandbox.journal()[-1]
        assert (last.path, last.status, last.error_code) == (path, 499, None)
    with sandbox.client() as http:  # later requests are answered as usual
        answer = http.post("/v2/post/publish/creator_info/query/", headers=headers)
        assert answer.status_code == 200
    sandbox.close()


def test_a_chunk_cut_short_by_its_client_is_journaled_499_and_can_be_sent_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="tiktok_sandbox")
    sandbox = Sandbox("default", seed=3)
    token = sandbox.issue_tokens(APP, CREATOR, ["video.upload"])["access_token"]
    size = 2 * CHUNK
    with sandbox.serve() as running, sandbox.client() as http:
        init = http.post(
            INBOX_INIT,
            headers={"Authorization": f"Bearer {token}"},
            json={"source_info": plan(size)},
        )
        upload_url = init.json()["data"]["upload_url"]
        target = urlsplit(upload_url)
        port = urlsplit(running.url).port
        head = (
            f"PUT {target.path}?{target.query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: video/mp4\r\nContent-Range: bytes 0-{CHUNK - 1}/{size}\r\n"
            f"Content-Length: {CHUNK}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(head.encode() + b"\0" * (CHUNK // 4))
        deadline = time.monotonic() + 10
        while not any(e.path == "/upload/" for e in sandbox.journal()):
            assert time.monotonic() < deadline, "the cut chunk was never journaled"
            time.sleep(0.02)
        (cut,) = [e for e in sandbox.journal() if e.path == "/upload/"]
        assert (cut.status, cut.error_code, cut.rule) == (499, None, "client_disconnected")
        (line,) = [r.getMessage() for r in caplog.records if "disconnected" in r.getMessage()]
        assert line == (
            f"tiktok-sandbox: the client disconnected during PUT /upload/ "
            f"(bytes 0-{CHUNK - 1}/{size} not kept)"
        )
        resent = {"Content-Type": "video/mp4", "Content-Range": content_range(0, CHUNK - 1, size)}
        again = http.put(upload_url, content=b"\0" * CHUNK, headers=resent)
        assert again.status_code == 206, again.text
    sandbox.close()


def test_a_request_cut_by_the_server_stopping_is_journaled_as_the_500_it_was_sent() -> None:
    sandbox = Sandbox("default", seed=3)
    with sandbox.serve() as running:
        port = urlsplit(running.url).port
        head = (
            f"PATCH /_sandbox/creators/ana_makes HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        )
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(head.encode() + b'{"nick')  # and the rest never comes
        time.sleep(0.2)
    # Leaving the block stopped the server, which cut the request after its graceful wait.
    sock.settimeout(5)
    answer = sock.recv(4096)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 500 "), answer
    (cut,) = [e for e in sandbox.journal() if e.path == "/_sandbox/creators/ana_makes"]
    assert (cut.status, cut.rule) == (500, "server_stopping")

    async def give_up() -> None:  # the server is gone: a cancel is the client's again
        async with sandbox.async_client() as http:
            with contextlib.suppress(TimeoutError):
                json_body = {"Content-Type": "application/json"}
                stalled = http.post("/_sandbox/creators", content=_stalled(), headers=json_body)
                await asyncio.wait_for(stalled, 0.2)

    asyncio.run(give_up())
    last = sandbox.journal()[-1]
    assert (last.path, last.status, last.rule) == ("/_sandbox/creators", 499, None)
    sandbox.close()
