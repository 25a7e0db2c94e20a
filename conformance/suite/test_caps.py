"""The 24-hour caps at their edges (ref 8, 15.1, 15.2): how many, what counts, and over which
window, checked in both directions: the last allowed post is taken, the next refused, and what
the reference does not count never takes a slot.

- A creator's Direct Posts (ref 15.2): the creator's cap over a rolling 24 h, shared by every
  app; inbox uploads and refused inits are not posts. `spam_risk_too_many_posts`, 403 at init
  and 200 from creator_info (ref 6).
- A creator's pending shares (ref 8): at most 5 inbox shares not yet posted; a posted draft is
  no longer pending, and a Direct Post never is. `spam_risk_too_many_pending_share`.
- An app's active creators (ref 15.1, 15.2): at most 5 distinct creators Direct Post through an
  unaudited app in 24 h, or the app's own cap; a creator who already posted is not a new one.
  `reached_active_user_cap`.

Left open, so not judged: the exact instant 24 h after a post (probed a second either side),
whether shares over 24 h old or failed ones still count as pending (ref 8, open question 8), and
whether pending shares are counted per app.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance import calls, checks, spec, steps
from conformance.calls import Actor
from conformance.controller import AppInfo, Controller
from conformance.library import MediaLibrary, MediaServer
from conformance.report import example
from conformance.steps import EDGE

DAY = spec.DAY
HOUR = 3600
POSTS = "spam_risk_too_many_posts"
PENDING = "spam_risk_too_many_pending_share"
ACTIVE = "reached_active_user_cap"


def direct_post(http: httpx.Client, actor: Actor) -> httpx.Response:
    """A Direct Post init (FILE_UPLOAD, SELF_ONLY: every account and stage allows it)."""
    return calls.post(http, "video_init", actor.access_token, calls.video_init(calls.file_upload()))


def inbox_share(http: httpx.Client, actor: Actor) -> httpx.Response:
    body = {"source_info": calls.file_upload()}
    return calls.post(http, "inbox_video_init", actor.access_token, body)


def posted(http: httpx.Client, actor: Actor, why: str) -> dict[str, Any]:
    response = direct_post(http, actor)
    assert response.status_code != 403, f"video_init refused ({why}): {response.text[:300]}"
    return steps.accepted(response, "video_init", "FILE_UPLOAD")


def shared(http: httpx.Client, actor: Actor, why: str) -> dict[str, Any]:
    response = inbox_share(http, actor)
    assert response.status_code != 403, f"inbox init refused ({why}): {response.text[:300]}"
    return steps.accepted(response, "inbox_video_init", "FILE_UPLOAD")


def creator_info_code(http: httpx.Client, actor: Actor) -> str:
    """ref 6: the cap and ban errors come back with HTTP 200 (the envelope check knows)."""
    response = calls.call(http, "creator_info", actor.access_token)
    answer = checks.envelope(response, "creator_info")
    return answer.code


# -- a creator's Direct Posts (ref 15.2) ----------------------------------------------------


@pytest.mark.behaviour("daily_post_cap_edges", "15.2, 6")
@pytest.mark.parametrize("cap", [1, 3])
def test_the_last_post_under_the_cap_is_taken_and_the_next_refused(
    http: httpx.Client, controller: Controller, cap: int
) -> None:
    example("daily_post_cap_edges")
    actor = calls.arrange(controller, daily_post_cap=cap)
    for n in range(cap):
        assert creator_info_code(http, actor) == "ok", f"post {n + 1} of {cap} is allowed"
        posted(http, actor, f"ref 15.2: post {n + 1} of a cap of {cap}")
    steps.refused(direct_post(http, actor), "video_init", POSTS, f"ref 15.2: post {cap + 1}")
    assert creator_info_code(http, actor) == POSTS, "ref 6: creator_info says the cap is reached"


@pytest.mark.behaviour("daily_post_cap_edges", "15.2")
def test_the_daily_cap_is_a_rolling_24_hours(http: httpx.Client, controller: Controller) -> None:
    """Posts at 0 h and 1 h under a cap of 2: refused until a second before 24 h, one slot free
    a second after 24 h, the next a second after 25 h."""
    example("daily_post_cap_edges")
    actor = calls.arrange(controller, daily_post_cap=2)
    posted(http, actor, "ref 15.2: the first post")
    controller.advance_clock(HOUR)
    posted(http, actor, "ref 15.2: the second post")
    controller.advance_clock(DAY - HOUR - EDGE)
    actor = steps.reauthorize(controller, actor)  # the earlier token has expired (ref 2.4)
    steps.refused(direct_post(http, actor), "video_init", POSTS, "ref 15.2: 2 posts in 24 h")
    controller.advance_clock(2 * EDGE)
    actor = steps.reauthorize(controller, actor)
    posted(http, actor, "ref 15.2: the first post is over 24 h old")
    steps.refused(direct_post(http, actor), "video_init", POSTS, "ref 15.2: the 1 h post counts")
    controller.advance_clock(HOUR)
    actor = steps.reauthorize(controller, actor)
    posted(http, actor, "ref 15.2: the 1 h post is over 24 h old")


@pytest.mark.behaviour("daily_post_cap_counts", "15.2")
def test_the_daily_cap_is_the_creators_across_apps_and_counts_posts_only(
    http: httpx.Client, controller: Controller
) -> None:
    """ref 15.2: the cap is "shared across all API clients": posts through one app fill it for
    another. Inbox uploads and refused inits are not Direct Posts; another creator's posts are
    not this creator's."""
    example("daily_post_cap_counts")
    actor = calls.arrange(controller, daily_post_cap=2)
    neighbour = calls.arrange(controller, app=actor.app, daily_post_cap=2)
    for _ in range(3):
        shared(http, actor, "ref 8: an inbox upload is not a Direct Post")
    posted(http, actor, "ref 15.2: the first Direct Post (inbox uploads do not count)")
    mismatch = calls.video_init(calls.file_upload(), privacy_level="NOT_A_LEVEL")
    steps.refused(
        calls.post(http, "video_init", actor.access_token, mismatch),
        "video_init",
        {*spec.POSTING_INVALID, "privacy_level_option_mismatch"},
        "ref 7.4: an unknown privacy_level",
    )
    posted(http, neighbour, "ref 15.2: another creator's cap")
    other = calls.arrange(controller, daily_post_cap=2)  # a second app, another creator
    elsewhere = Actor(
        other.app,
        actor.username,
        controller.tokens(other.app.client_key, actor.username, calls.ALL_SCOPES),
    )
    posted(
        http, elsewhere, "ref 15.2: the second post, through another app (refusals do not count)"
    )
    steps.refused(direct_post(http, actor), "video_init", POSTS, "ref 15.2: across apps")
    steps.refused(direct_post(http, elsewhere), "video_init", POSTS, "ref 15.2: across apps")
    posted(http, neighbour, "ref 15.2: the neighbour's second post")


# -- pending shares (ref 8) -----------------------------------------------------------------


@pytest.mark.behaviour("pending_share_cap_edges", "8, 9")
def test_the_fifth_pending_share_is_taken_and_the_sixth_refused(
    http: httpx.Client, controller: Controller, media: MediaLibrary, media_server: MediaServer
) -> None:
    """Five inbox shares; then a sixth video and a photo MEDIA_UPLOAD are refused (ref 8, 9),
    while a Direct Post is not a share (ref 8) and is still taken."""
    example("pending_share_cap_edges")
    app = calls.media_app(controller, media_server.prefix)
    actor = calls.arrange(controller, app=app, daily_post_cap=100, app_version="35.1.0")
    for n in range(spec.PENDING_SHARE_CAP):
        shared(http, actor, f"ref 8: share {n + 1} of {spec.PENDING_SHARE_CAP}")
    steps.refused(inbox_share(http, actor), "inbox_video_init", PENDING, "ref 8: a sixth")
    photo = media_server.url(media.image(width=720, height=1280).name)
    body = calls.photo_init([photo], mode="MEDIA_UPLOAD")
    answer = calls.post(http, "content_init", actor.access_token, body)
    steps.refused(answer, "content_init", PENDING, "ref 9: MEDIA_UPLOAD is a share too")
    posted(http, actor, "ref 8: a Direct Post is not held by the pending-share cap")
    controller.settle()


@pytest.mark.behaviour("pending_share_cap_counts", "8")
def test_direct_posts_are_never_pending_and_a_posted_draft_frees_its_slot(
    http: httpx.Client, controller: Controller, media: MediaLibrary
) -> None:
    """Direct Posts first, then five shares; the creator posts one draft from the app, and a
    sixth share is taken ("pending (not yet posted)", ref 8); a seventh is refused again."""
    example("pending_share_cap_counts")
    actor = calls.arrange(controller, daily_post_cap=100)
    for _ in range(3):
        posted(http, actor, "ref 15.2: under the daily cap")
    video = media.video().read_bytes()
    body = {"source_info": calls.file_upload(len(video))}
    drafts = []
    for n in range(spec.PENDING_SHARE_CAP):
        made = calls.post(http, "inbox_video_init", actor.access_token, body)
        assert made.status_code != 403, f"share {n + 1}: Direct Posts are not pending (ref 8)"
        drafts.append(steps.accepted(made, "inbox_video_init", "FILE_UPLOAD"))
    steps.refused(inbox_share(http, actor), "inbox_video_init", PENDING, "ref 8: five pending")
    first = drafts[0]
    assert steps.put_whole(http, first["upload_url"], video).status_code == 201
    steps.final_status(http, controller, actor.access_token, first["publish_id"], step=1)
    controller.publish_action(first["publish_id"], "post_draft")
    controller.advance_clock(60 + EDGE)  # six inits this minute: the rate limit's (ref 4.3)
    shared(http, actor, "ref 8: the posted draft is no longer pending")
    steps.refused(inbox_share(http, actor), "inbox_video_init", PENDING, "ref 8: five again")


@pytest.mark.behaviour("pending_share_cap_counts", "8")
def test_pending_shares_count_for_a_whole_day(
    http: httpx.Client, controller: Controller, media: MediaLibrary
) -> None:
    """Five drafts delivered to the inbox and never posted still hold the cap a second before
    24 h (ref 8: "within any 24-hour period"; whether they still count after that is open,
    question 8, and so is whether a share that failed counts: these are all delivered)."""
    example("pending_share_cap_counts")
    actor = calls.arrange(controller)
    drafts = steps.uploaded_drafts(http, actor, media.video().read_bytes(), spec.PENDING_SHARE_CAP)
    elapsed = steps.until_delivered(controller, drafts)
    controller.advance_clock(DAY - EDGE - elapsed)
    actor = steps.reauthorize(controller, actor)
    steps.refused(inbox_share(http, actor), "inbox_video_init", PENDING, "ref 8: within 24 h")


# -- an app's active creators (ref 15.1, 15.2) ----------------------------------------------


def creators(controller: Controller, app: AppInfo, count: int) -> list[Actor]:
    """`count` new private creators signed in to `app` (private: unaudited apps allow them)."""
    return [
        calls.arrange(controller, app=app, account="private", daily_post_cap=100)
        for _ in range(count)
    ]


@pytest.mark.behaviour("active_creator_cap_edges", "15.1, 15.2, 6")
@pytest.mark.parametrize(
    ("stage", "configured", "cap"),
    [("unaudited", None, 5), ("unaudited", 10, 5), ("audited", 2, 2)],
    ids=["unaudited", "unaudited-configured-above-5", "audited-configured"],
)
def test_the_last_new_creator_under_the_cap_posts_and_the_next_is_refused(
    http: httpx.Client, controller: Controller, stage: str, configured: int | None, cap: int
) -> None:
    """`cap` creators Direct Post; the next creator's post is refused (and creator_info says so
    with HTTP 200, ref 6) while those who posted may post again and anyone may still upload to
    the inbox (ref 8 lists no such error). Before audit the cap is 5 whatever the app asks for
    (ref 15.1)."""
    example("active_creator_cap_edges")
    settings: dict[str, Any] = {} if configured is None else {"active_creator_cap": configured}
    app = controller.create_app(stage=stage, **settings)
    cast = creators(controller, app, cap + 1)
    for n, actor in enumerate(cast[:cap]):
        posted(http, actor, f"ref 15.1, 15.2: creator {n + 1} of {cap}")
    late = cast[cap]
    why = f"ref 15.1, 15.2: creator {cap + 1} of a cap of {cap}"
    steps.refused(direct_post(http, late), "video_init", ACTIVE, why)
    assert creator_info_code(http, late) == ACTIVE, "ref 6: creator_info says so"
    posted(http, cast[0], "ref 15.1: a creator who already posted is not a new one")
    shared(http, late, "ref 8: the inbox has no active-creator cap")


@pytest.mark.behaviour("active_creator_cap_edges", "15.1")
def test_active_creators_are_counted_over_a_rolling_24_hours(
    http: httpx.Client, controller: Controller
) -> None:
    """Five creators post through an unaudited app; a sixth is refused a second before 24 h and
    taken a second after."""
    example("active_creator_cap_edges")
    app = controller.create_app(stage="unaudited")
    cast = creators(controller, app, spec.UNAUDITED_CREATOR_CAP + 1)
    for actor in cast[:-1]:
        posted(http, actor, "ref 15.1: five creators")
    controller.advance_clock(DAY - EDGE)
    late = steps.reauthorize(controller, cast[-1])
    steps.refused(direct_post(http, late), "video_init", ACTIVE, "ref 15.1: five in 24 h")
    controller.advance_clock(2 * EDGE)
    late = steps.reauthorize(controller, late)
    posted(http, late, "ref 15.1: the five posted over 24 h ago")
