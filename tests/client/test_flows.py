"""The shared core's policies, through the sync client: chunk retries and resumes, polling,
rate limits, and which failures are posted again (ref 4.3, 10.3, 11)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from client import PostInfo
from client.errors import (
    PublishWaitTimeout,
    RangeNotSatisfiable,
    UploadError,
    UploadNotFound,
)
from client.policy import POLL, RATE_LIMITED, TRANSIENT, TRANSIENT_ATTEMPTS
from tests.client.conftest import APP, INIT_PATHS, MEDIA, Made, MiB, VirtualTime, publish_view

PUBLIC = PostInfo(privacy_level="PUBLIC_TO_EVERYONE", title="policies")
STATUS = "/v2/post/publish/status/fetch/"


def ranges(made: Made) -> list[str]:
    return [r.headers["content-range"] for r in made.log.requests if r.method == "PUT"]


def inits(made: Made) -> int:
    return sum(1 for p in made.log.paths() if p in INIT_PATHS)


def add_outcome(control: httpx.Client, fail_reason: str, count: int = 1) -> None:
    body = {"fail_reason": fail_reason, "client_key": APP, "count": count}
    control.post("/_sandbox/outcomes", json=body).raise_for_status()


# -- uploads (ref 10.3) -----------------------------------------------------------------------


def test_a_chunk_that_gets_a_503_is_sent_again(
    make_client: Any, big_video: Path, vtime: VirtualTime, control: httpx.Client
) -> None:
    made: Made = make_client()
    failed: list[int] = []

    def fail_second_put_once(request: httpx.Request, nth: int) -> httpx.Response | None:
        if request.method == "PUT" and nth == 1 and not failed:
            failed.append(nth)
            return httpx.Response(503)
        return None

    made.log.fault = fail_second_put_once
    publish = made.client.post_video(big_video, PUBLIC)
    size = big_video.stat().st_size
    second = f"bytes {5 * MiB}-{10 * MiB - 1}/{size}"
    assert ranges(made)[1:3] == [second, second]
    assert made.log.statuses_of("PUT") == [206, 503, 206, 201]
    assert vtime.sleeps == [TRANSIENT.delay(0)]
    assert publish_view(control, publish.publish_id)["uploaded_bytes"] == size


def test_after_a_lost_chunk_the_416_progress_header_resumes_the_upload(
    make_client: Any, big_video: Path
) -> None:
    made: Made = make_client()

    def drop_second_chunk(request: httpx.Request, nth: int) -> httpx.Response | None:
        if request.method == "PUT" and nth == 1:
            return httpx.Response(206)  # as if accepted, but it never reached the server
        return None

    made.log.fault = drop_second_chunk
    progress: list[int] = []
    publish = made.client.post_video(big_video, PUBLIC, progress=lambda a, b: progress.append(a))
    size = big_video.stat().st_size
    c0, c1, c2 = (
        f"bytes 0-{5 * MiB - 1}/{size}",
        f"bytes {5 * MiB}-{10 * MiB - 1}/{size}",
        f"bytes {10 * MiB}-{size - 1}/{size}",
    )
    assert ranges(made) == [c0, c1, c2, c1, c2]
    assert made.log.statuses_of("PUT") == [206, 206, 416, 206, 201]
    assert progress == [0, 5 * MiB, 10 * MiB, 5 * MiB, 10 * MiB, size]  # the 416 set it back
    assert made.client.wait_for_publish(publish).status == "PUBLISH_COMPLETE"


def test_a_416_whose_progress_is_not_a_chunk_boundary_cannot_be_resumed(
    make_client: Any, big_video: Path
) -> None:
    made: Made = make_client()
    size = big_video.stat().st_size

    def odd_progress(request: httpx.Request, nth: int) -> httpx.Response | None:
        if request.method == "PUT" and nth == 1:
            return httpx.Response(416, headers={"Content-Range": f"bytes 0-99/{size}"})
        return None

    made.log.fault = odd_progress
    with pytest.raises(RangeNotSatisfiable) as caught:
        made.client.post_video(big_video, PUBLIC)
    assert caught.value.http_status == 416 and "holds 100" in str(caught.value)


def test_a_chunk_failing_every_time_gives_up_after_the_retries(
    make_client: Any, video: Path, vtime: VirtualTime
) -> None:
    made: Made = make_client()
    made.log.fault = lambda r, n: httpx.Response(502) if r.method == "PUT" else None
    with pytest.raises(UploadError) as caught:
        made.client.post_video(video, PUBLIC)
    assert caught.value.http_status == 502
    assert made.log.count("PUT") == TRANSIENT_ATTEMPTS + 1
    assert vtime.sleeps == [TRANSIENT.delay(i) for i in range(TRANSIENT_ATTEMPTS)]


def test_an_unknown_upload_url_is_upload_not_found(make_client: Any, video: Path) -> None:
    client = make_client().client
    with pytest.raises(UploadNotFound) as caught:
        client.upload("http://sandbox.test/upload/?upload_id=1&upload_token=x", video)
    assert caught.value.http_status == 404


# -- waiting (ref 11) -------------------------------------------------------------------------


def test_status_fetches_over_30_a_minute_are_waited_out_without_sleeping(
    make_client: Any, video: Path, vtime: VirtualTime
) -> None:
    made: Made = make_client()
    publish = made.client.post_video(video, PUBLIC)
    for _ in range(30):  # ref 4.3: the whole minute's allowance, at one instant
        made.client.fetch_status(publish.publish_id)
    result = made.client.wait_for_publish(publish)
    assert result.status == "PUBLISH_COMPLETE"
    # 429 at +0 s, +10 s and +30 s (waits of 10, 20, 40 s); the window has room at +70 s.
    assert vtime.sleeps[:3] == [RATE_LIMITED.delay(i) for i in range(3)] == [10.0, 20.0, 40.0]
    assert made.log.statuses.count(429) == 3


def test_polling_slows_down_and_stays_under_30_a_minute(
    make_client: Any, control: httpx.Client, vtime: VirtualTime
) -> None:
    made: Made = make_client()
    token = made.store.load()
    assert token is not None
    # An inbox upload whose bytes never come: it stays PROCESSING_UPLOAD.
    answer = control.post(
        "/v2/post/publish/inbox/video/init/",
        headers={"Authorization": f"Bearer {token.access_token}"},
        json={
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": 1000,
                "chunk_size": 1000,
                "total_chunk_count": 1,
            }
        },
    )
    publish_id = answer.json()["data"]["publish_id"]
    seen: list[str] = []
    with pytest.raises(PublishWaitTimeout) as caught:
        made.client.wait_for_publish(
            publish_id, timeout=120, on_status=lambda s: seen.append(s.status)
        )
    assert caught.value.last is not None and caught.value.last.status == "PROCESSING_UPLOAD"
    assert seen == ["PROCESSING_UPLOAD"]  # reported once, not at every poll
    assert vtime.sleeps == [POLL.delay(i) for i in range(len(vtime.sleeps))]
    assert vtime.sleeps[0] == 2.0 and sum(vtime.sleeps) <= 120
    assert 429 not in made.log.statuses


def test_wait_for_public_post_returns_a_completed_private_post_at_the_timeout(
    make_client: Any, video: Path
) -> None:
    made: Made = make_client()
    publish = made.client.post_video(video, PostInfo(privacy_level="SELF_ONLY"))
    result = made.client.wait_for_publish(publish, wait_for_public_post=True, timeout=60)
    assert (result.status, result.post_ids) == ("PUBLISH_COMPLETE", ())  # never public


@pytest.mark.parametrize(
    "fail_reason",
    [
        "auth_removed",
        "spam_risk",
        "spam_risk_text",
        "spam_risk_too_many_posts",
        "spam_risk_user_banned_from_posting",
        "publish_cancelled",
        "file_format_check_failed",
    ],
)
def test_failures_the_reference_says_not_to_retry_are_final(
    make_client: Any, video: Path, control: httpx.Client, fail_reason: str
) -> None:
    made: Made = make_client()
    add_outcome(control, fail_reason)
    publish = made.client.post_video(video, PUBLIC)
    result = made.client.wait_for_publish(publish, retries=3)
    assert (result.status, result.fail_reason, result.attempts) == ("FAILED", fail_reason, 1)
    assert result.publish_id == publish.publish_id and not result.ok
    assert inits(made) == 1


def test_an_internal_failure_is_posted_again(
    make_client: Any, video: Path, control: httpx.Client
) -> None:
    made: Made = make_client()
    add_outcome(control, "internal")  # ref 11: "retryable"
    publish = made.client.post_video(video, PUBLIC)
    result = made.client.wait_for_publish(publish)
    assert (result.status, result.attempts) == ("PUBLISH_COMPLETE", 2)
    assert result.publish_id != publish.publish_id
    assert publish_view(control, publish.publish_id)["fail_reason"] == "internal"
    assert inits(made) == 2 and made.log.count("PUT") == 2
    # The repost is a new Direct Post: creator_info is read fresh again (ref 15.4).
    assert made.log.paths().count("/v2/post/publish/creator_info/query/") == 2


def test_reposting_is_bounded_by_retries(
    make_client: Any, video: Path, control: httpx.Client
) -> None:
    made: Made = make_client()
    add_outcome(control, "internal", count=5)
    publish = made.client.post_video(video, PUBLIC)
    assert made.client.wait_for_publish(publish, retries=0).attempts == 1
    assert inits(made) == 1
    publish = made.client.post_video(video, PUBLIC)
    result = made.client.wait_for_publish(publish, retries=2)
    assert (result.status, result.fail_reason, result.attempts) == ("FAILED", "internal", 3)


def test_a_failed_pull_is_posted_again_once(make_client: Any) -> None:
    made: Made = make_client()
    publish = made.client.post_video(f"{MEDIA}/missing.mp4", PUBLIC)  # the host answers 404
    result = made.client.wait_for_publish(publish)
    assert (result.status, result.fail_reason, result.attempts) == (
        "FAILED",
        "video_pull_failed",
        2,
    )


def test_a_bare_publish_id_is_never_reposted(
    make_client: Any, video: Path, control: httpx.Client
) -> None:
    made: Made = make_client()
    add_outcome(control, "internal")
    publish = made.client.post_video(video, PUBLIC)
    result = made.client.wait_for_publish(publish.publish_id)
    assert (result.status, result.fail_reason, result.attempts) == ("FAILED", "internal", 1)
    assert STATUS in made.log.paths()


def test_a_bare_429_counts_as_rate_limited_and_retry_after_is_honoured(
    make_client: Any, video: Path, vtime: VirtualTime
) -> None:
    made: Made = make_client()
    publish = made.client.post_video(video, PUBLIC)
    answers = iter(
        [httpx.Response(429, text="slow down"), httpx.Response(429, headers={"Retry-After": "7"})]
    )

    def limited(request: httpx.Request, nth: int) -> httpx.Response | None:
        return next(answers, None) if request.url.path == STATUS else None

    made.log.fault = limited
    assert made.client.wait_for_publish(publish).status == "PUBLISH_COMPLETE"
    assert vtime.sleeps[:2] == [RATE_LIMITED.delay(0), 7.0]
