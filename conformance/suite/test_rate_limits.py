"""Rate limits at their edges (ref 4.3): the Nth request of a minute is admitted and the N+1th
refused with 429 `rate_limit_exceeded`, per user access token and per endpoint, on a one-minute
window that slides on the target's clock.

What the reference leaves open is never judged: whether a refused request counts toward the
window (each check sends at most one request the limit refuses, last), the instant exactly 60 s
after a request (probed one second either side, `steps.EDGE`), whether two tokens of one user
share a budget (each check's tokens belong to different creators), the limit of cancel (not
documented) and the unit of the 600/min limit (a fresh app and creator agree with every reading).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from conformance import calls, spec, steps
from conformance.calls import Actor
from conformance.controller import Controller
from conformance.library import MediaLibrary, MediaServer
from conformance.report import example
from conformance.steps import EDGE

WINDOW = 60  # ref 4.3: a one-minute sliding window
LIMITED = "rate_limit_exceeded"


@dataclass
class Budget:
    """One token spending one endpoint's budget: `send()` makes one valid request."""

    http: httpx.Client
    endpoint: str
    actor: Actor
    send: Callable[[], httpx.Response]

    def admitted(self, count: int, why: str) -> None:
        for n in range(1, count + 1):
            answer = self.send()
            assert answer.status_code != 429, (
                f"{self.endpoint}: request {n} of {count} refused ({why}): {answer.text[:300]}"
            )
            steps.accepted(answer, self.endpoint, source="FILE_UPLOAD")

    def refused(self, why: str) -> None:
        steps.refused(self.send(), self.endpoint, LIMITED, why)


Spend = Callable[..., Budget]


@pytest.fixture
def budget(
    http: httpx.Client,
    controller: Controller,
    media: MediaLibrary,
    media_server: MediaServer,
) -> Spend:
    """`budget(endpoint, actor=None)`: a valid request on `endpoint` with the token of `actor`
    (default: a fresh creator in an audited app).

    Creators may post a thousand times a day here, so that no cap stands in for the limit.
    """
    app = calls.media_app(controller, media_server.prefix)
    photo = media_server.url(media.image(width=720, height=1280).name)

    def make(endpoint: str, actor: Actor | None = None) -> Budget:
        actor = actor or calls.arrange(controller, app=app, daily_post_cap=1000)
        token = actor.access_token
        body = {
            "video_init": calls.video_init(calls.file_upload()),
            "content_init": calls.photo_init([photo]),
            "status_fetch": {"publish_id": inbox_publish(http, actor)},
        }.get(endpoint)
        return Budget(http, endpoint, actor, lambda: calls.call(http, endpoint, token, body))

    return make


def filled(budget: Spend, endpoint: str) -> tuple[Budget, int]:
    """A fresh token that has just spent `endpoint`'s whole minute (ref 4.3): N requests."""
    limit = spec.RATE_LIMITS[endpoint]
    spending = budget(endpoint)
    spending.admitted(limit, f"ref 4.3: {limit} requests a minute")
    return spending, limit


def inbox_publish(http: httpx.Client, actor: Actor) -> str:
    body = {"source_info": calls.file_upload()}
    made = calls.post(http, "inbox_video_init", actor.access_token, body)
    return str(steps.accepted(made, "inbox_video_init", "FILE_UPLOAD")["publish_id"])


PER_TOKEN = ("video_init", "content_init", "creator_info", "status_fetch")


@pytest.mark.behaviour("rate_limit_values", "4.3")
@pytest.mark.parametrize("endpoint", [*PER_TOKEN, "user_info"])
def test_the_nth_request_of_a_minute_is_admitted_and_the_next_refused(
    controller: Controller, budget: Spend, endpoint: str
) -> None:
    """N requests at one instant are all answered; the N+1th is 429 rate_limit_exceeded."""
    example("rate_limit_values")
    spending, limit = filled(budget, endpoint)
    spending.refused(f"ref 4.3: request {limit + 1} within a minute")
    controller.settle()


@pytest.mark.behaviour("rate_limit_values", "4.3")
def test_inbox_init_admits_six_a_minute(
    http: httpx.Client, controller: Controller, media: MediaLibrary
) -> None:
    """ref 4.3, 8: six inbox inits in a minute, the seventh 429. The pending-share cap (5, ref
    8) would refuse the sixth first, so the creator posts the first drafts from the app."""
    example("rate_limit_values")
    video = media.video().read_bytes()
    actor = calls.arrange(controller)
    body = {"source_info": calls.file_upload(len(video))}
    drafts = steps.uploaded_drafts(http, actor, video, spec.PENDING_SHARE_CAP)
    steps.until_delivered(controller, drafts)  # processing takes a moment (ref 11)
    for publish_id in drafts:
        controller.publish_action(publish_id, "post_draft")
    spending = Budget(
        http,
        "inbox_video_init",
        actor,
        lambda: calls.post(http, "inbox_video_init", actor.access_token, body),
    )
    spending.admitted(1, "ref 4.3: the sixth request of the minute (the drafts were posted)")
    spending.refused("ref 4.3: the seventh inbox init within a minute")


@pytest.mark.behaviour("rate_limit_windows", "4.3")
@pytest.mark.parametrize("endpoint", ["video_init", "creator_info", "status_fetch"])
def test_a_full_window_stays_full_to_its_last_second(
    controller: Controller, budget: Spend, endpoint: str
) -> None:
    """N requests, then one a second before the minute is over: still 429."""
    example("rate_limit_windows")
    spending, limit = filled(budget, endpoint)
    controller.advance_clock(WINDOW - EDGE)
    spending.refused(f"ref 4.3: {limit} requests {WINDOW - EDGE} s ago are still in the window")


@pytest.mark.behaviour("rate_limit_windows", "4.3")
@pytest.mark.parametrize("endpoint", ["video_init", "creator_info", "status_fetch"])
def test_a_window_empties_a_minute_after_its_requests(
    controller: Controller, budget: Spend, endpoint: str
) -> None:
    """N requests, then a second after the minute: N more are admitted, the next refused."""
    example("rate_limit_windows")
    spending, limit = filled(budget, endpoint)
    controller.advance_clock(WINDOW + EDGE)
    spending.admitted(limit, f"ref 4.3: the requests of {WINDOW + EDGE} s ago left the window")
    spending.refused(f"ref 4.3: {limit} requests in the new minute")


@pytest.mark.behaviour("rate_limit_windows", "4.3")
@pytest.mark.parametrize("endpoint", ["video_init", "creator_info", "status_fetch"])
def test_the_window_slides_request_by_request(
    controller: Controller, budget: Spend, endpoint: str
) -> None:
    """N requests spread over 50 s; a second after the first one's minute, exactly one slot is
    free: a sliding window, not a counter reset every minute."""
    example("rate_limit_windows")
    limit = spec.RATE_LIMITS[endpoint]
    spending = budget(endpoint)
    gap = 50 / (limit - 1)
    for n in range(limit):
        if n:
            controller.advance_clock(gap)
        spending.admitted(1, f"ref 4.3: request {n + 1} of {limit}, {gap:.2f} s apart")
    controller.advance_clock(WINDOW + EDGE - 50)
    spending.admitted(1, "ref 4.3: the first request left the window")
    spending.refused(f"ref 4.3: the other {limit - 1} requests are still in the window")


@pytest.mark.behaviour("rate_limit_scope", "4.3")
def test_limits_are_per_token_and_per_endpoint(
    controller: Controller, budget: Spend, http: httpx.Client
) -> None:
    """A token at its video/init limit still gets its other endpoints' budgets, and another
    creator's token in the same app its own (ref 4.3: "per user access_token", "set per API")."""
    example("rate_limit_scope")
    spending, limit = filled(budget, "video_init")
    spending.refused("ref 4.3: the limit is reached")
    budget("video_init").admitted(limit, "ref 4.3: another creator's token has its own budget")
    for endpoint in ("creator_info", "status_fetch", "content_init", "user_info"):
        budget(endpoint, spending.actor).admitted(1, "ref 4.3: each endpoint has its own limit")
    controller.settle()
