"""A chunked upload over a real socket (ref 10.1-10.3): a served sandbox, httpx as the client."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from conformance.media import make_video
from mock_server.runtime.fetcher import StaticFetcher
from mock_server.runtime.webhooks import RecordingWebhookSender
from mock_server.sandbox import RunningServer
from mock_server.testvideo import pad_mp4
from tests.mock_server.lifecycle_kit import (
    AUDITED,
    CHUNK,
    MiB,
    Studio,
    chunk_ranges,
    content_range,
    plan,
)

pytestmark = pytest.mark.server

SIZE = 15 * MiB + 123  # 3 chunks of 5 MiB, the last one 5 MiB + 123 bytes (ref 10.1)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_video(tmp_path_factory.mktemp("server-upload") / "clip.mp4").read_bytes()


@pytest.fixture
def served() -> Iterator[tuple[Studio, RunningServer, httpx.Client]]:
    st = Studio(fetcher=StaticFetcher({}), sender=RecordingWebhookSender())
    with st.sandbox.serve() as server, httpx.Client(base_url=server.url, timeout=30) as remote:
        yield st, server, remote
    st.close()


def init(remote: httpx.Client, token: str, size: int) -> tuple[str, str]:
    response = remote.post(
        "/v2/post/publish/video/init/",
        headers={"Authorization": f"Bearer {token}"},
        json={"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": plan(size)},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    return data["publish_id"], data["upload_url"]


def status(remote: httpx.Client, token: str, publish_id: str) -> dict[str, object]:
    response = remote.post(
        "/v2/post/publish/status/fetch/",
        headers={"Authorization": f"Bearer {token}"},
        json={"publish_id": publish_id},
    )
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()["data"]
    return data


def test_a_multi_chunk_video_goes_up_over_a_socket(
    served: tuple[Studio, RunningServer, httpx.Client], clip: bytes
) -> None:
    st, server, remote = served
    video = pad_mp4(clip, SIZE)
    token = st.token(AUDITED)
    publish_id, upload_url = init(remote, token, SIZE)
    assert upload_url.startswith(server.url + "/")  # the URL points at this server

    ranges = chunk_ranges(SIZE)
    assert [last - first + 1 for first, last in ranges] == [CHUNK, CHUNK, CHUNK + 123]
    answers = []
    for first, last in ranges:
        response = remote.put(
            upload_url,
            content=video[first : last + 1],
            headers={
                "Content-Type": "video/mp4",
                "Content-Range": content_range(first, last, SIZE),
            },
        )
        answers.append((response.status_code, response.headers["content-range"]))
        assert status(remote, token, publish_id)["uploaded_bytes"] == last + 1
    assert answers == [
        (206, f"bytes 0-{CHUNK - 1}/{SIZE}"),
        (206, f"bytes 0-{2 * CHUNK - 1}/{SIZE}"),
        (201, f"bytes 0-{SIZE - 1}/{SIZE}"),
    ]
    assert status(remote, token, publish_id)["status"] == "PROCESSING_UPLOAD"

    st.sandbox.clock.advance(2)
    data = status(remote, token, publish_id)
    assert data["status"] == "PUBLISH_COMPLETE", data
    assert data["uploaded_bytes"] == SIZE


def test_a_chunk_without_content_length_is_400_over_a_socket(
    served: tuple[Studio, RunningServer, httpx.Client], clip: bytes
) -> None:
    st, _, remote = served
    token = st.token(AUDITED)
    publish_id, upload_url = init(remote, token, len(clip))

    def stream() -> Iterator[bytes]:
        yield clip  # a generator body goes out with Transfer-Encoding: chunked

    response = remote.put(
        upload_url,
        content=stream(),
        headers={
            "Content-Type": "video/mp4",
            "Content-Range": content_range(0, len(clip) - 1, len(clip)),
        },
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 400, response.text
    assert response.headers["content-range"] == f"bytes */{len(clip)}"
    assert status(remote, token, publish_id)["uploaded_bytes"] == 0


def test_a_chunk_cut_off_by_the_client_can_be_sent_again(
    served: tuple[Studio, RunningServer, httpx.Client], clip: bytes
) -> None:
    """A connection that drops mid-chunk (ref 10.3: retry the chunk) leaves nothing behind:
    the same chunk goes up again afterwards."""
    st, server, remote = served
    n = len(clip)
    token = st.token(AUDITED)
    publish_id, upload_url = init(remote, token, n)
    url = urlsplit(upload_url)
    head = (
        f"PUT {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Content-Type: video/mp4\r\nContent-Range: bytes 0-{n - 1}/{n}\r\n"
        f"Content-Length: {n}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(head + clip[: n // 2])
        sock.shutdown(socket.SHUT_WR)  # the rest never comes
        while sock.recv(65536):
            pass
    assert status(remote, token, publish_id)["uploaded_bytes"] == 0

    retry = remote.put(
        upload_url,
        content=clip,
        headers={"Content-Type": "video/mp4", "Content-Range": content_range(0, n - 1, n)},
    )
    assert retry.status_code == 201, retry.text
    st.sandbox.clock.advance(2)
    assert status(remote, token, publish_id)["status"] == "PUBLISH_COMPLETE"
