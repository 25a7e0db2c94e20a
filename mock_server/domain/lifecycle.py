"""The life of a publish on the sandbox clock (ref 10-14).

    init ─► PROCESSING_UPLOAD ───(bytes in, processed)──► PUBLISH_COMPLETE   (Direct Post)
         └► PROCESSING_DOWNLOAD ─(pulled, processed)──► SEND_TO_USER_INBOX  (inbox)
                                                              └─(creator posts)─► PUBLISH_COMPLETE
    any non-final status ─(check fails, cancel, auth removed, injected)─► FAILED

A completed public post becomes publicly available once moderation passes, and can be taken
down and restored. Timed steps are scheduled events run by `run_due` in time order, so state
only moves when the sandbox clock says so.
"""

from __future__ import annotations

from mock_server.domain.ids import open_id
from mock_server.domain.media_rules import (
    FILE_FORMAT_CHECK_FAILED,
    MAX_API_VIDEO_SECONDS,
    VideoFacts,
    duration_limit,
)
from mock_server.domain.publishing import (
    DIRECT_POST,
    FAILED,
    PHOTO,
    PRIVACY_OPTIONS,
    PROCESSING_DOWNLOAD,
    PROCESSING_UPLOAD,
    PUBLISH_COMPLETE,
    SEND_TO_USER_INBOX,
    Publish,
)
from mock_server.domain.webhooks import PUBLISH_TYPES, Delivery, event_body
from mock_server.domain.world import World

# event -> {from status: to status}. Anything not listed is refused.
TRANSITIONS: dict[str, dict[str, str]] = {
    "processed_direct": {
        PROCESSING_UPLOAD: PUBLISH_COMPLETE,
        PROCESSING_DOWNLOAD: PUBLISH_COMPLETE,
    },
    "processed_inbox": {
        PROCESSING_UPLOAD: SEND_TO_USER_INBOX,
        PROCESSING_DOWNLOAD: SEND_TO_USER_INBOX,
    },
    "creator_posted": {SEND_TO_USER_INBOX: PUBLISH_COMPLETE},
    "failed": {
        PROCESSING_UPLOAD: FAILED,
        PROCESSING_DOWNLOAD: FAILED,
        SEND_TO_USER_INBOX: FAILED,
    },
}

# Fail reasons by what failed (ref 11).
PULL_FAILED = {"VIDEO": "video_pull_failed", PHOTO: "photo_pull_failed"}
PUBLIC = "PUBLIC_TO_EVERYONE"


class IllegalTransition(ValueError):
    """A control action that the publish's current status does not allow."""


# -- webhooks ---------------------------------------------------------------------------


def emit(
    world: World,
    client_key: str,
    creator_uid: str,
    event: str,
    content: dict[str, object],
    at: float,
) -> None:
    """Queue a webhook event for the app, if it has a callback URL (ref 14.1)."""
    app = world.apps.get(client_key)
    if app is None or not app.webhook_url:
        return
    body = event_body(client_key, event, open_id(client_key, creator_uid), content, at)
    world.outbox.add(
        Delivery(
            world.ids.token_hex(16),
            client_key,
            event,
            app.webhook_url,
            body,
            created_at=at,
            next_attempt_at=at,
        )
    )


def _publish_event(world: World, publish: Publish, event: str, at: float, **extra: object) -> None:
    content: dict[str, object] = {"publish_id": publish.publish_id, **extra}
    content["publish_type"] = PUBLISH_TYPES[publish.mode]
    emit(world, publish.client_key, publish.creator_uid, event, content, at)


# -- transitions ------------------------------------------------------------------------


def transition(
    world: World, publish: Publish, event: str, at: float, fail_reason: str | None = None
) -> None:
    target = TRANSITIONS[event].get(publish.status)
    if target is None:
        raise IllegalTransition(f"{event} is not possible from {publish.status}")
    if target == FAILED and publish.status == PROCESSING_DOWNLOAD and publish.arrived_at is None:
        publish.download_stopped_at = at  # progress stops where the download was cut off
    publish.move_to(target, at, fail_reason)
    world.touch("publishes", publish.publish_id)
    if publish.final:
        world.finished.append(publish.publish_id)
    if target == FAILED:
        world.released.append(publish.publish_id)  # stop its download, drop its bytes
        _publish_event(world, publish, "post.publish.failed", at, reason=fail_reason)
    elif target == SEND_TO_USER_INBOX:
        _publish_event(world, publish, "post.publish.inbox_delivered", at)
    elif target == PUBLISH_COMPLETE:
        publish.posted_ms = _post_instant(world, publish, at)
        _publish_event(world, publish, "post.publish.complete", at)
        if publish.privacy_level == PUBLIC:
            world.schedule.add(
                publish.publish_id, "moderated", at + world.timing.moderation_seconds
            )


def _post_instant(world: World, publish: Publish, at: float) -> int:
    """When the post was made, in ms: its `create_time` and the Display API's cursor, a
    timestamp (ref 5.1). Two posts of one creator never share a millisecond (on a frozen clock
    they would), so paging by cursor never skips or repeats one."""
    instant = int(at * 1000)
    creator = world.creator_by_uid(publish.creator_uid)
    if creator is not None:
        instant = max(instant, creator.last_post_ms + 1)
        creator.last_post_ms = instant
    return instant


def fail(world: World, publish: Publish, reason: str, at: float) -> None:
    transition(world, publish, "failed", at, fail_reason=reason)


# -- media arriving -----------------------------------------------------------------------


def upload_complete(
    world: World,
    publish: Publish,
    check_result: str | None,
    now: float,
    facts: VideoFacts | None = None,
) -> None:
    """The last chunk arrived (ref 10.3: 201, "posting starts"); process on the clock."""
    publish.check_result = check_result
    publish.video_facts = facts
    publish.arrived_at = now
    world.schedule.add(
        publish.publish_id, "processed", now + world.timing.processing_seconds(publish.media_bytes)
    )


def download_complete(
    world: World,
    publish: Publish,
    size: int,
    check_result: str | None,
    now: float,
    facts: VideoFacts | None = None,
) -> None:
    """The pull finished for real; on the sandbox clock it ends at 100 Mbps (ref 10.4)."""
    publish.media_bytes = size
    publish.check_result = check_result
    publish.video_facts = facts
    done = max(now, publish.created_at + world.timing.download_seconds(size))
    world.schedule.add(publish.publish_id, "downloaded", done)


def pull_started(world: World, publish: Publish, now: float) -> None:
    """ref 10.4: a pull that is not done an hour (the profile's timeout) after it starts fails."""
    world.schedule.add(
        publish.publish_id, "pull_timeout", now + world.timing.download_timeout_seconds
    )


def download_failed(world: World, publish: Publish, now: float) -> None:
    """ref 10.4, 11: connection errors, redirects and timeouts are `*_pull_failed`."""
    if publish.status == PROCESSING_DOWNLOAD:
        fail(world, publish, PULL_FAILED[publish.media_type], now)


def downloaded_bytes(world: World, publish: Publish, now: float) -> int:
    """Progress as the sandbox clock sees it: never ahead of the real bytes received."""
    if publish.arrived_at is not None:
        return publish.media_bytes
    rate = world.timing.download_bytes_per_second
    if rate <= 0:
        return publish.received_bytes
    until = now if publish.download_stopped_at is None else min(now, publish.download_stopped_at)
    return min(publish.received_bytes, int(rate * max(0.0, until - publish.created_at)))


# -- scheduled steps ----------------------------------------------------------------------


def _downloaded(world: World, publish: Publish, at: float) -> None:
    if publish.status != PROCESSING_DOWNLOAD:
        return  # cancelled or failed meanwhile
    publish.arrived_at = at
    world.schedule.add(
        publish.publish_id, "processed", at + world.timing.processing_seconds(publish.media_bytes)
    )


def _processed(world: World, publish: Publish, at: float) -> None:
    if publish.final or publish.status == SEND_TO_USER_INBOX:
        return
    reason = publish.injected_fail_reason or publish.check_result
    if reason is not None:
        fail(world, publish, reason, at)
    elif publish.mode == DIRECT_POST:
        transition(world, publish, "processed_direct", at)
    else:
        transition(world, publish, "processed_inbox", at)


def _moderated(world: World, publish: Publish, at: float) -> None:
    if (
        publish.status == PUBLISH_COMPLETE
        and not publish.public
        and publish.privacy_level == PUBLIC
    ):
        make_public(world, publish, at)


def _pull_timeout(world: World, publish: Publish, at: float) -> None:
    if publish.status == PROCESSING_DOWNLOAD and publish.arrived_at is None:
        download_failed(world, publish, at)


# How long after its upload_url expired an upload still receiving a chunk is looked at again.
UPLOAD_EXPIRY_RECHECK_SECONDS = 1.0


def upload_started(world: World, publish: Publish) -> None:
    """ref 7.3: the upload_url works for an hour; an upload not complete by then ends."""
    if publish.upload_expires_at is not None:
        world.schedule.add(publish.publish_id, "upload_expired", publish.upload_expires_at)


def _upload_expired(world: World, publish: Publish, at: float) -> None:
    """The upload_url expired before the last byte came: nothing more can arrive, so the
    publish fails as its incomplete file would (docs/fidelity.md). A chunk that started in
    time is let finish first."""
    if publish.status != PROCESSING_UPLOAD or publish.arrived_at is not None:
        return
    if publish.video_size and publish.uploaded_bytes == publish.video_size:
        return  # every byte is in: the media is being checked, then processing starts
    if publish.chunk_in_flight:
        world.schedule.add(publish.publish_id, "upload_expired", at + UPLOAD_EXPIRY_RECHECK_SECONDS)
        return
    fail(world, publish, FILE_FORMAT_CHECK_FAILED, at)


STEPS = {
    "downloaded": _downloaded,
    "processed": _processed,
    "moderated": _moderated,
    "pull_timeout": _pull_timeout,
    "upload_expired": _upload_expired,
}


def run_due(world: World, now: float) -> int:
    """Run every scheduled step due by `now`, oldest first; returns how many ran."""
    ran = 0
    while (due := world.schedule.pop_due(now)) is not None:
        publish = world.publishes.get(due.publish_id)
        if publish is not None:
            STEPS[due.step](world, publish, due.at)
        ran += 1
    return ran


# -- visibility and creator-side actions ------------------------------------------------------


def make_public(world: World, publish: Publish, at: float) -> None:
    """ref 11, 14.3: public posts get 19-digit post ids once moderation passes."""
    if not publish.post_ids:
        publish.post_ids = (world.ids.numeric_id(),)
        world.note_post_ids(publish)
    publish.public = True
    publish.privacy_level = PUBLIC
    for post_id in publish.post_ids:
        _publish_event(world, publish, "post.publish.publicly_available", at, post_id=post_id)


def take_down(world: World, publish: Publish, at: float) -> None:
    if not publish.public:
        raise IllegalTransition("only a publicly available post can be taken down")
    publish.public = False
    for post_id in publish.post_ids:
        _publish_event(
            world, publish, "post.publish.no_longer_publicaly_available", at, post_id=post_id
        )


def restore(world: World, publish: Publish, at: float) -> None:
    """The creator makes the post public (again); ref 14.3: non-public posts fire
    publicly_available only when made public."""
    if publish.status != PUBLISH_COMPLETE or publish.public:
        raise IllegalTransition("only a completed post that is not public can be made public")
    creator = world.creator_by_uid(publish.creator_uid)
    if creator is None or creator.account != "public":
        # ref 15.1: the owner first sets the account public, then the post to "Everyone".
        raise IllegalTransition("the creator's account is private: make it public first")
    make_public(world, publish, at)


def post_draft(world: World, publish: Publish, privacy_level: str | None, at: float) -> None:
    """The creator posts the inbox draft from the TikTok app (ref 8)."""
    if publish.status != SEND_TO_USER_INBOX:
        raise IllegalTransition(f"no draft in the inbox: the publish is {publish.status}")
    if publish.discarded_at is not None:
        raise IllegalTransition("the creator discarded this draft: it can no longer be posted")
    creator = world.creator_by_uid(publish.creator_uid)
    options = PRIVACY_OPTIONS[creator.account if creator else "public"]
    level = privacy_level or options[0]
    if level not in options:
        raise IllegalTransition(f"privacy_level {level!r} is not one of the creator's {options}")
    publish.privacy_level = level
    transition(world, publish, "creator_posted", at)


def discard_draft(publish: Publish, at: float) -> None:
    """The creator deletes the inbox draft in the TikTok app. No status or webhook says so
    (ref 11, 14.1 have none): status/fetch keeps answering SEND_TO_USER_INBOX, but the draft
    can no longer be posted and stops counting as a pending share (docs/fidelity.md)."""
    if publish.status != SEND_TO_USER_INBOX or publish.discarded_at is not None:
        raise IllegalTransition(f"no draft in the inbox: the publish is {publish.status}")
    publish.discarded_at = at


def auth_removed(world: World, client_key: str, creator_uid: str, reason: int, at: float) -> None:
    """The creator's authorization of the app ended: in-flight publishes fail with
    `auth_removed` (ref 11) and `authorization.removed` is sent (ref 14.3)."""
    for publish in list(world.iter_publishes(creator_uid, client_key=client_key)):
        if not publish.final:
            fail(world, publish, "auth_removed", at)
    emit(world, client_key, creator_uid, "authorization.removed", {"reason": reason}, at)


def video_duration_limit(world: World, publish: Publish) -> int:
    """The longest video this publish may carry (media_rules.duration_limit for its mode and
    its creator's maximum)."""
    creator = world.creator_by_uid(publish.creator_uid)
    creator_max = creator.max_video_post_duration_sec if creator else MAX_API_VIDEO_SECONDS
    return duration_limit(publish.mode == DIRECT_POST, creator_max)
