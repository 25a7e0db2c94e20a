"""Steps the scripted boundary checks share: send a valid request, demand its answer, move the
target's clock and read what a publish became.

    data = accepted(calls.post(http, "video_init", token, body), "video_init", "FILE_UPLOAD")
    refused(calls.call(http, "creator_info", token), "creator_info", "rate_limit_exceeded")
    status = final_status(http, controller, token, data["publish_id"])

Where the reference puts an edge at an instant (a window's end, a lifetime's last second), the
checks probe one second on either side of it: a target that keeps time in whole seconds is on
the right side of both, and the instant itself, which the reference leaves open, is not judged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx

from conformance import calls, checks
from conformance.calls import Actor
from conformance.controller import Controller

EDGE = 1  # seconds either side of a documented instant
FINAL = frozenset({"PUBLISH_COMPLETE", "FAILED", "SEND_TO_USER_INBOX"})


def accepted(response: httpx.Response, endpoint: str, source: str | None = None) -> dict[str, Any]:
    """The answer is a success in the documented shape; its `data`."""
    answer = checks.envelope(response, endpoint, source=source)
    assert answer.ok, f"{endpoint}: expected ok, got {answer}"
    return answer.data or {}


def refused(response: httpx.Response, endpoint: str, codes: str | Iterable[str], why: str) -> str:
    """The answer is one of the documented errors `codes` (with its documented status)."""
    wanted = {codes} if isinstance(codes, str) else set(codes)
    answer = checks.envelope(response, endpoint)
    assert answer.code in wanted, (
        f"{endpoint}: expected {' or '.join(sorted(wanted))} ({why}), got {answer}"
    )
    return answer.code


def reauthorize(
    controller: Controller, actor: Actor, scopes: tuple[str, ...] | None = None
) -> Actor:
    """The same creator authorizes the same app again: a fresh token (after the clock moved
    past the last one's lifetime)."""
    scopes = scopes or tuple(str(actor.tokens["scope"]).split(","))
    return Actor(
        actor.app, actor.username, controller.tokens(actor.app.client_key, actor.username, scopes)
    )


def put_whole(http: httpx.Client, upload_url: str, content: bytes) -> httpx.Response:
    """ref 10.2: the whole file in one PUT (files under 5 MB go up whole, ref 10.1)."""
    size = len(content)
    headers = {"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{size - 1}/{size}"}
    return http.put(upload_url, content=content, headers=headers)


def uploaded_drafts(http: httpx.Client, actor: Actor, video: bytes, count: int) -> list[str]:
    """`count` inbox shares of `video`, each uploaded whole (ref 8, 10): their publish ids."""
    body = {"source_info": calls.file_upload(len(video))}
    drafts = []
    for _ in range(count):
        made = calls.post(http, "inbox_video_init", actor.access_token, body)
        draft = accepted(made, "inbox_video_init", "FILE_UPLOAD")
        assert put_whole(http, draft["upload_url"], video).status_code == 201
        drafts.append(str(draft["publish_id"]))
    return drafts


def status(http: httpx.Client, token: str, publish_id: str) -> dict[str, Any]:
    response = calls.post(http, "status_fetch", token, {"publish_id": publish_id})
    return accepted(response, "status_fetch")


def final_status(
    http: httpx.Client,
    controller: Controller,
    token: str,
    publish_id: str,
    *,
    until: frozenset[str] = FINAL,
    step: float = 61,
    steps: int = 10,
) -> dict[str, Any]:
    """Let pulls finish and the target's clock run (a minute at a time: no rate limit is met)
    until status/fetch answers one of `until`; its `data`."""
    data: dict[str, Any] = {}
    for _ in range(steps):
        controller.settle()
        data = status(http, token, publish_id)
        if data["status"] in until:
            return data
        controller.advance_clock(step)
    raise AssertionError(
        f"{publish_id} is still {data.get('status')} after {steps * step:.0f} s (ref 11)"
    )


def until_delivered(controller: Controller, publish_ids: list[str]) -> float:
    """Move the target's clock a second at a time until every inbox share is
    SEND_TO_USER_INBOX (ref 8, 11) in the target's own record (status/fetch would meet its
    rate limit); the seconds it took."""
    elapsed = 0.0
    seen: list[str] = []
    for _ in range(120):
        controller.settle()
        seen = [str(controller.publish(p)["status"]) for p in publish_ids]
        if all(s == "SEND_TO_USER_INBOX" for s in seen):
            return elapsed
        controller.advance_clock(1)
        elapsed += 1
    raise AssertionError(f"not all delivered to the inbox after {elapsed:.0f} s: {seen} (ref 8)")
