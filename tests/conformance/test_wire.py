"""The in-process target refuses what no HTTP/1.1 client can send, as a socket does."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from conformance.target import Target, in_process_sandbox


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with in_process_sandbox() as local:
        yield local


@pytest.mark.parametrize(
    "value", [" bytes 0-9/10", "bytes 0-9/10 ", " ", "bytes\t0-9/10\t", "a\x00b", "a\nb"]
)
def test_a_header_value_h11_refuses_is_refused_in_process(target: Target, value: str) -> None:
    with target.client() as http, pytest.raises(httpx.LocalProtocolError, match=r"HTTP/1\.1"):
        http.put("/upload/?upload_id=1&upload_token=x", headers={"Content-Range": value})


def test_a_content_length_the_body_does_not_match_is_refused_in_process(target: Target) -> None:
    with target.client() as http:
        for length in ("5", "20"):
            with pytest.raises(httpx.LocalProtocolError, match="Content-Length"):
                http.put("/upload/", content=b"0123456789", headers={"Content-Length": length})


def test_what_a_socket_carries_reaches_the_app(target: Target) -> None:
    with target.client() as http:
        answer = http.put(
            "/upload/?upload_id=1&upload_token=x",
            content=b"0123456789",
            headers={"Content-Range": "", "Content-Type": "video/mp4"},
        )
        assert answer.status_code == 404
        assert http.get("/v2/user/info/", params={"fields": "open_id"}).status_code == 401
