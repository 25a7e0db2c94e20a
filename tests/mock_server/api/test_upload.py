"""`PUT {upload_url}` (ref 10.1-10.3): every answer the chunked upload gives, end to end through
the in-process transport on a frozen clock, with real (padded) MP4s."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conformance.media import make_video
from mock_server.testvideo import pad_mp4
from tests.mock_server.lifecycle_kit import (
    CHUNK,
    PROCESSING_UPLOAD,
    PUBLISH_COMPLETE,
    MiB,
    Studio,
    chunk_ranges,
    plan,
    studio,
)

# ref 10.1: 15 MiB + 123 bytes with chunk_size 5 MiB is 3 chunks, the last 5 MiB + 123 bytes.
PADDED_SIZE = 15 * MiB + 123
RANGES = [(0, CHUNK - 1), (CHUNK, 2 * CHUNK - 1), (2 * CHUNK, PADDED_SIZE - 1)]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real 3.5 s H.264 MP4 (a few dozen kB): goes up whole."""
    return make_video(tmp_path_factory.mktemp("upload") / "clip.mp4").read_bytes()


@pytest.fixture(scope="module")
def padded(clip: bytes) -> bytes:
    return pad_mp4(clip, PADDED_SIZE)


@pytest.fixture
def st() -> Iterator[Studio]:
    with studio() as made:
        yield made


def chunk(data: bytes, index: int) -> tuple[bytes, int, int, int]:
    first, last = RANGES[index]
    return data[first : last + 1], first, last, len(data)


def progress(last_byte: int | None, total: int) -> str:
    """ref 10.3: `bytes 0-{last byte received}/{total}`; `bytes */{total}` before any byte."""
    return f"bytes */{total}" if last_byte is None else f"bytes 0-{last_byte}/{total}"


def assert_refused(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] != "ok"
    assert body["error"]["message"]


def test_the_plan_helper_follows_the_reference_example() -> None:
    # ref 10.1's own example, so the tests' plan arithmetic is right before it judges anything.
    example = plan(50_000_123, 10_000_000)
    assert example["total_chunk_count"] == 5
    assert chunk_ranges(50_000_123, 10_000_000)[-1] == (40_000_000, 50_000_122)
    assert chunk_ranges(PADDED_SIZE) == RANGES


# -- 206, 201 and the progress header -----------------------------------------------------------


def test_multi_chunk_upload_answers_206_then_201_with_progress(st: Studio, padded: bytes) -> None:
    token = st.token()
    publish_id, url = st.start_upload(token, PADDED_SIZE)
    assert st.state(publish_id, token)["uploaded_bytes"] == 0

    seen = []
    for index, expected in enumerate((206, 206, 201)):
        response = st.put(url, *chunk(padded, index))
        assert response.status_code == expected, response.text
        last = RANGES[index][1]
        assert response.headers["content-range"] == progress(last, PADDED_SIZE)
        seen.append(st.state(publish_id, token)["uploaded_bytes"])
    # status/fetch follows the upload chunk by chunk (ref 11: uploaded_bytes).
    assert seen == [CHUNK, 2 * CHUNK, PADDED_SIZE]

    data = st.state(publish_id, token)
    assert data["status"] == PROCESSING_UPLOAD  # posting starts on the sandbox clock
    st.advance(2)
    data = st.state(publish_id, token)
    # The padded file is still a real video: it passes every media check.
    assert data["status"] == PUBLISH_COMPLETE, data
    assert "fail_reason" not in data
    assert data["uploaded_bytes"] == PADDED_SIZE
    view = st.publish(publish_id)
    assert view["check_result"] is None
    assert view["media_bytes"] == PADDED_SIZE


def test_a_small_file_goes_up_whole_and_answers_201(st: Studio, clip: bytes) -> None:
    publish_id, url = st.start_upload(st.token(), len(clip))
    response = st.put(url, clip, 0, len(clip) - 1, len(clip))
    assert response.status_code == 201, response.text
    assert response.content == b""
    assert response.headers["content-range"] == progress(len(clip) - 1, len(clip))
    st.advance(2)
    assert st.state(publish_id)["status"] == PUBLISH_COMPLETE


@pytest.mark.parametrize("content_type", ["video/mp4", "video/quicktime", "video/webm"])
def test_every_documented_content_type_is_accepted(
    st: Studio, clip: bytes, content_type: str
) -> None:
    _, url = st.start_upload(st.token(), len(clip))
    response = st.put(url, clip, 0, len(clip) - 1, len(clip), content_type=content_type)
    assert response.status_code == 201, response.text


# -- 400 -----------------------------------------------------------------------------------------


def headers_for(n: int) -> dict[str, str]:
    return {
        "Content-Type": "video/mp4",
        "Content-Range": f"bytes 0-{n - 1}/{n}",
        "Content-Length": str(n),
    }


BAD_HEADERS: dict[str, Any] = {
    "no Content-Range": lambda n: {"Content-Range": None},
    "empty Content-Range": lambda n: {"Content-Range": ""},
    "Content-Range with =": lambda n: {"Content-Range": f"bytes=0-{n - 1}/{n}"},
    "Content-Range without unit": lambda n: {"Content-Range": f"0-{n - 1}/{n}"},
    "Content-Range without last byte": lambda n: {"Content-Range": f"bytes 0-/{n}"},
    "Content-Range with a star total": lambda n: {"Content-Range": f"bytes 0-{n - 1}/*"},
    "Content-Range ending before it starts": lambda n: {"Content-Range": f"bytes {n - 1}-0/{n}"},
    "Content-Range in words": lambda n: {"Content-Range": "bytes zero-ten/eleven"},
    "Content-Length one short of the range": lambda n: {"Content-Length": str(n - 1)},
    "Content-Length one over the range": lambda n: {"Content-Length": str(n + 1)},
    "no Content-Type": lambda n: {"Content-Type": None},
    "image Content-Type": lambda n: {"Content-Type": "image/jpeg"},
    "octet-stream Content-Type": lambda n: {"Content-Type": "application/octet-stream"},
    "total other than video_size": lambda n: {"Content-Range": f"bytes 0-{n - 1}/{n + 1}"},
}


@pytest.mark.parametrize("case", list(BAD_HEADERS))
def test_malformed_or_inconsistent_headers_are_400(st: Studio, clip: bytes, case: str) -> None:
    n = len(clip)
    publish_id, url = st.start_upload(st.token(), n)
    headers: dict[str, Any] = headers_for(n) | BAD_HEADERS[case](n)
    sent = {k: v for k, v in headers.items() if v is not None}
    response = st.http.put(url, content=clip, headers=sent)
    if case == "no Content-Type":
        assert "content-type" not in {k.lower() for k in response.request.headers}
    assert_refused(response, 400)
    assert response.headers["content-range"] == progress(None, n)
    assert st.state(publish_id)["uploaded_bytes"] == 0
    # Nothing was kept: the right request still goes through.
    assert st.put(url, clip, 0, n - 1, n).status_code == 201


@pytest.mark.parametrize("delta", [-1, -1000, 1, 4096])
def test_a_body_shorter_or_longer_than_content_length_is_400(
    st: Studio, clip: bytes, delta: int
) -> None:
    n = len(clip)
    publish_id, url = st.start_upload(st.token(), n)
    body = clip[:delta] if delta < 0 else clip + bytes(delta)
    # The headers are consistent with the range; the body lies about its length.
    response = st.http.put(url, content=body, headers=headers_for(n))
    assert response.request.headers["content-length"] == str(n)
    assert_refused(response, 400)
    assert response.headers["content-range"] == progress(None, n)
    assert st.state(publish_id)["uploaded_bytes"] == 0
    # The truncated bytes were not kept: the real video goes up and passes its checks.
    assert st.put(url, clip, 0, n - 1, n).status_code == 201
    st.advance(2)
    assert st.state(publish_id)["status"] == PUBLISH_COMPLETE


def test_a_lying_body_on_a_later_chunk_keeps_the_progress(st: Studio, padded: bytes) -> None:
    publish_id, url = st.start_upload(st.token(), PADDED_SIZE)
    assert st.put(url, *chunk(padded, 0)).status_code == 206
    body, first, last, total = chunk(padded, 1)
    response = st.http.put(
        url,
        content=body[:-7],
        headers={
            "Content-Type": "video/mp4",
            "Content-Range": f"bytes {first}-{last}/{total}",
            "Content-Length": str(len(body)),
        },
    )
    assert_refused(response, 400)
    assert response.headers["content-range"] == progress(CHUNK - 1, PADDED_SIZE)
    assert st.state(publish_id)["uploaded_bytes"] == CHUNK
    assert [st.put(url, *chunk(padded, i)).status_code for i in (1, 2)] == [206, 201]
    st.advance(2)
    assert st.state(publish_id)["status"] == PUBLISH_COMPLETE


@pytest.mark.parametrize(
    "first, last",
    [
        (0, 4 * MiB - 1),  # a first chunk smaller than chunk_size
        (0, CHUNK),  # a first chunk one byte over chunk_size
        (0, PADDED_SIZE - 1),  # the whole file in one request against a 3-chunk plan
    ],
)
def test_a_chunk_off_the_plan_is_400(st: Studio, padded: bytes, first: int, last: int) -> None:
    publish_id, url = st.start_upload(st.token(), PADDED_SIZE)
    response = st.put(url, padded[first : last + 1], first, last, PADDED_SIZE)
    assert_refused(response, 400)
    assert response.headers["content-range"] == progress(None, PADDED_SIZE)
    assert st.state(publish_id)["uploaded_bytes"] == 0


def test_a_last_chunk_without_the_remainder_is_400(st: Studio, padded: bytes) -> None:
    publish_id, url = st.start_upload(st.token(), PADDED_SIZE)
    for index in (0, 1):
        assert st.put(url, *chunk(padded, index)).status_code == 206
    # The last chunk must absorb the trailing 123 bytes (ref 10.1); chunk_size alone is short.
    first = 2 * CHUNK
    last = first + CHUNK - 1
    response = st.put(url, padded[first : last + 1], first, last, PADDED_SIZE)
    assert_refused(response, 400)
    assert response.headers["content-range"] == progress(2 * CHUNK - 1, PADDED_SIZE)
    assert st.state(publish_id)["uploaded_bytes"] == 2 * CHUNK


# -- 403 -----------------------------------------------------------------------------------------


def test_the_upload_url_expires_after_one_hour(st: Studio, padded: bytes) -> None:
    publish_id, url = st.start_upload(st.token(), PADDED_SIZE)
    st.advance(3599)
    assert st.put(url, *chunk(padded, 0)).status_code == 206  # still valid
    st.advance(2)
    response = st.put(url, *chunk(padded, 1))
    assert_refused(response, 403)
    assert response.headers["content-range"] == progress(CHUNK - 1, PADDED_SIZE)
    assert st.state(publish_id)["uploaded_bytes"] == CHUNK


def test_the_upload_url_is_expired_from_the_instant_issue_plus_3600_s(
    st: Studio, clip: bytes
) -> None:
    """docs/fidelity.md: "a PUT at issue + 3600 s or later gets 403"."""
    _, url = st.start_upload(st.token(), len(clip))
    st.advance(3599.999)
    last_moment = st.put(url, clip, 0, len(clip) - 1, len(clip))
    assert last_moment.status_code == 201
    _, url = st.start_upload(st.token(), len(clip))
    st.advance(3600)
    assert_refused(st.put(url, clip, 0, len(clip) - 1, len(clip)), 403)


def test_a_whole_file_after_one_hour_is_403(st: Studio, clip: bytes) -> None:
    _, url = st.start_upload(st.token(), len(clip))
    st.advance(3601)
    assert_refused(st.put(url, clip, 0, len(clip) - 1, len(clip)), 403)


# -- 404 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("tamper", ["upload_id", "upload_token", "both", "no query"])
def test_an_unknown_upload_is_404(st: Studio, clip: bytes, tamper: str) -> None:
    n = len(clip)
    publish_id, url = st.start_upload(st.token(), n)
    path, _, query = url.partition("?")
    params = dict(part.split("=", 1) for part in query.split("&"))
    if tamper in ("upload_id", "both"):
        params["upload_id"] = "1" + params["upload_id"][1:] + "9"
    if tamper in ("upload_token", "both"):
        params["upload_token"] = params["upload_token"][::-1]
    wrong = (
        path
        if tamper == "no query"
        else path + "?" + "&".join(f"{k}={v}" for k, v in params.items())
    )
    response = st.put(wrong, clip, 0, n - 1, n)
    assert_refused(response, 404)
    assert "content-range" not in response.headers
    assert st.state(publish_id)["uploaded_bytes"] == 0


def test_the_upload_url_of_one_publish_does_not_take_another_ones_token(
    st: Studio, clip: bytes
) -> None:
    token = st.token()
    _, first_url = st.start_upload(token, len(clip))
    _, second_url = st.start_upload(token, len(clip))
    first_id = first_url.split("upload_id=")[1].split("&")[0]
    second_token = second_url.split("upload_token=")[1]
    crossed = f"/upload/?upload_id={first_id}&upload_token={second_token}"
    assert_refused(st.put(crossed, clip, 0, len(clip) - 1, len(clip)), 404)


# -- 416 -----------------------------------------------------------------------------------------


def test_a_chunk_out_of_order_is_416(st: Studio, padded: bytes) -> None:
    publish_id, url = st.start_upload(st.token(), PADDED_SIZE)
    response = st.put(url, *chunk(padded, 1))
    assert_refused(response, 416)
    assert response.headers["content-range"] == progress(None, PADDED_SIZE)
    response = st.put(url, *chunk(padded, 2))
    assert_refused(response, 416)
    assert st.state(publish_id)["uploaded_bytes"] == 0


def test_a_gap_is_416(st: Studio, padded: bytes) -> None:
    publish_id, url = st.start_upload(st.token(), PADDED_SIZE)
    assert st.put(url, *chunk(padded, 0)).status_code == 206
    response = st.put(url, *chunk(padded, 2))
    assert_refused(response, 416)
    assert response.headers["content-range"] == progress(CHUNK - 1, PADDED_SIZE)
    assert st.state(publish_id)["uploaded_bytes"] == CHUNK


@pytest.mark.parametrize("back", [1, 100, CHUNK - 1])
def test_an_overlapping_chunk_is_416(st: Studio, padded: bytes, back: int) -> None:
    publish_id, url = st.start_upload(st.token(), PADDED_SIZE)
    assert st.put(url, *chunk(padded, 0)).status_code == 206
    first = CHUNK - back
    last = first + CHUNK - 1
    response = st.put(url, padded[first : last + 1], first, last, PADDED_SIZE)
    assert_refused(response, 416)
    assert response.headers["content-range"] == progress(CHUNK - 1, PADDED_SIZE)
    assert st.state(publish_id)["uploaded_bytes"] == CHUNK


def test_a_range_beyond_the_total_is_416(st: Studio, clip: bytes, padded: bytes) -> None:
    n = len(clip)
    publish_id, url = st.start_upload(st.token(), n)
    response = st.put(url, clip + b"\0", 0, n, n)
    assert_refused(response, 416)
    assert st.state(publish_id)["uploaded_bytes"] == 0

    big_id, big_url = st.start_upload(st.token(), PADDED_SIZE)
    for index in (0, 1):
        assert st.put(big_url, *chunk(padded, index)).status_code == 206
    first = 2 * CHUNK
    last = PADDED_SIZE  # one byte past the end
    response = st.put(big_url, padded[first:] + b"\0", first, last, PADDED_SIZE)
    assert_refused(response, 416)
    assert st.state(big_id)["uploaded_bytes"] == 2 * CHUNK


def test_a_new_range_after_completion_is_416(st: Studio, clip: bytes) -> None:
    n = len(clip)
    publish_id, url = st.start_upload(st.token(), n)
    assert st.put(url, clip, 0, n - 1, n).status_code == 201
    response = st.put(url, clip[:100], 0, 99, n)
    assert_refused(response, 416)
    assert response.headers["content-range"] == progress(n - 1, n)
    st.advance(2)
    assert st.state(publish_id)["status"] == PUBLISH_COMPLETE
    assert_refused(st.put(url, clip[:100], 0, 99, n), 416)


# -- a chunk sent again -------------------------------------------------------------------------


def test_an_identical_repeated_chunk_is_answered_as_before(st: Studio, padded: bytes) -> None:
    token = st.token()
    publish_id, url = st.start_upload(token, PADDED_SIZE)
    first = st.put(url, *chunk(padded, 0))
    again = st.put(url, *chunk(padded, 0))
    assert (
        (again.status_code, again.headers["content-range"])
        == (
            first.status_code,
            first.headers["content-range"],
        )
        == (206, progress(CHUNK - 1, PADDED_SIZE))
    )
    assert st.state(publish_id, token)["uploaded_bytes"] == CHUNK

    assert st.put(url, *chunk(padded, 1)).status_code == 206
    # An older chunk sent again changes nothing: the progress stays at two chunks.
    older = st.put(url, *chunk(padded, 0))
    assert older.status_code == 206
    assert older.headers["content-range"] == progress(2 * CHUNK - 1, PADDED_SIZE)
    assert st.state(publish_id, token)["uploaded_bytes"] == 2 * CHUNK

    last = st.put(url, *chunk(padded, 2))
    last_again = st.put(url, *chunk(padded, 2))
    assert last.status_code == last_again.status_code == 201
    assert last_again.headers["content-range"] == progress(PADDED_SIZE - 1, PADDED_SIZE)
    st.advance(2)
    assert st.state(publish_id, token)["status"] == PUBLISH_COMPLETE
    # Posting started once: one PUBLISH_COMPLETE in the timeline.
    assert st.timeline(publish_id) == [PROCESSING_UPLOAD, PUBLISH_COMPLETE]


def test_a_whole_file_sent_again_is_201_again(st: Studio, clip: bytes) -> None:
    n = len(clip)
    publish_id, url = st.start_upload(st.token(), n)
    assert st.put(url, clip, 0, n - 1, n).status_code == 201
    assert st.put(url, clip, 0, n - 1, n).status_code == 201
    st.advance(2)
    assert st.timeline(publish_id) == [PROCESSING_UPLOAD, PUBLISH_COMPLETE]
    # ...also once it is posted.
    assert st.put(url, clip, 0, n - 1, n).status_code == 201
    assert st.timeline(publish_id) == [PROCESSING_UPLOAD, PUBLISH_COMPLETE]


def test_different_bytes_for_a_received_range_are_416(st: Studio, padded: bytes) -> None:
    token = st.token()
    publish_id, url = st.start_upload(token, PADDED_SIZE)
    body, first, last, total = chunk(padded, 0)
    assert st.put(url, body, first, last, total).status_code == 206
    # Same range, other bytes: garbage where the MP4 header was.
    response = st.put(url, bytes(len(body)), first, last, total)
    assert_refused(response, 416)
    assert response.headers["content-range"] == progress(CHUNK - 1, PADDED_SIZE)
    assert st.state(publish_id, token)["uploaded_bytes"] == CHUNK
    # The first bytes were kept: the upload finishes as a valid video.
    assert [st.put(url, *chunk(padded, i)).status_code for i in (1, 2)] == [206, 201]
    st.advance(2)
    assert st.state(publish_id, token)["status"] == PUBLISH_COMPLETE


def test_different_bytes_for_the_whole_file_after_completion_are_416(
    st: Studio, clip: bytes
) -> None:
    n = len(clip)
    publish_id, url = st.start_upload(st.token(), n)
    assert st.put(url, clip, 0, n - 1, n).status_code == 201
    assert_refused(st.put(url, bytes(n), 0, n - 1, n), 416)
    st.advance(2)
    assert st.state(publish_id)["status"] == PUBLISH_COMPLETE


def test_a_put_cancelled_mid_body_leaves_the_upload_open_for_a_retry() -> None:
    # A client that gives up on a PUT (a timeout in process, a task cancelled) must not wedge
    # the upload: the next PUT is judged as if the first never came, and the hour still ends it.
    import asyncio
    from datetime import UTC, datetime

    from mock_server import Clock, Sandbox

    sandbox = Sandbox(clock=Clock.frozen_at(datetime(2026, 1, 1, tzinfo=UTC)))
    token = sandbox.issue_tokens("awacmescheduler01", "ana_makes", ["video.upload"])
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    source = {
        "source": "FILE_UPLOAD",
        "video_size": 1000,
        "chunk_size": 1000,
        "total_chunk_count": 1,
    }
    headers = {
        "Content-Type": "video/mp4",
        "Content-Range": "bytes 0-999/1000",
        "Content-Length": "1000",
    }

    async def run() -> tuple[int, str]:
        async with sandbox.async_client() as http:
            init = await http.post(
                "/v2/post/publish/inbox/video/init/", headers=auth, json={"source_info": source}
            )
            data = init.json()["data"]

            async def slow() -> Any:
                yield b"x" * 10
                await asyncio.sleep(10)
                yield b"x" * 990

            with pytest.raises(TimeoutError):
                await asyncio.wait_for(
                    http.put(data["upload_url"], content=slow(), headers=headers), 0.3
                )
            retry = await http.put(data["upload_url"], content=b"x" * 1000, headers=headers)
            return retry.status_code, data["publish_id"]

    status, publish_id = asyncio.run(run())
    assert status == 201
    assert sandbox.publish(publish_id).uploaded_bytes == 1000
    sandbox.close()
