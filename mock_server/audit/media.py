"""Audit checks of the media an app sends: duration against the creator's limit, TikTok's media
checks, FILE_UPLOAD chunk plans and PULL_FROM_URL sources (ref 6, 10, 11, 13)."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from mock_server.audit.traffic import Call, Traffic
from mock_server.audit.verdicts import Findings
from mock_server.domain.media_rules import (
    DURATION_CHECK_FAILED,
    FILE_FORMAT_CHECK_FAILED,
    FRAME_RATE_CHECK_FAILED,
    MAX_API_VIDEO_SECONDS,
    PICTURE_SIZE_CHECK_FAILED,
)
from mock_server.domain.posting import chunk_plan_problem
from mock_server.domain.redirects import is_loopback_host

MEDIA_FAIL_REASONS = frozenset(
    {
        FILE_FORMAT_CHECK_FAILED,
        DURATION_CHECK_FAILED,
        FRAME_RATE_CHECK_FAILED,
        PICTURE_SIZE_CHECK_FAILED,
    }
)
# The media check that finds a video longer than allowed (mock_server.domain.media_rules): it
# is duration_enforced_before_upload's finding, not media_passes_checks'.
TOO_LONG = "video_short_enough"
# PUT refusals that mean the chunks did not follow the plan sent at init (ref 10.1, 10.2).
OFF_PLAN = {
    "chunk_size_off_plan": "a chunk of another size than the plan's",
    "content_range_total": "a Content-Range total other than the video_size sent at init",
    "range_not_next": "a chunk out of order (chunks go up one after the other)",
    "chunk_in_flight": "a chunk while another was still being received (chunks go up in turn)",
}
INBOX_INIT = "inbox_video_init"


def _completed_uploads(
    traffic: Traffic, *, window: bool = True
) -> list[tuple[Call, dict[str, Any], Call | None]]:
    """(the PUT that completed an upload, what the media check found, the init), in the
    window (or in all the traffic)."""
    uploads = traffic.uploads
    puts = (
        traffic.judged("upload") if window else (c for c in traffic.calls if c.endpoint == "upload")
    )
    return [
        (put, put.entry.media, uploads.get(put.params.get("upload_id", "")))
        for put in puts
        if put.entry.media
    ]


def _describe(media: dict[str, Any]) -> str:
    parts = [str(media.get("container") or "unreadable"), str(media.get("codec") or "?")]
    if media.get("width") and media.get("height"):
        parts.append(f"{media['width']}x{media['height']}")
    if media.get("fps") is not None:
        parts.append(f"{media['fps']:g} fps")
    if media.get("duration_s") is not None:
        parts.append(f"{media['duration_s']:.1f} s")
    return ", ".join(parts)


def duration_enforced_before_upload(traffic: Traffic) -> Findings:
    """ref 6, 13, 15.4: a video is no longer than the creator's max_video_post_duration_sec
    (Direct Post) and never over 600 s; the app checks before uploading it."""
    found = Findings("completed uploads", "no FILE_UPLOAD upload completed in the window")
    for put, media, init in _completed_uploads(traffic):
        duration = media.get("duration_s")
        if not isinstance(duration, int | float):
            found.unknown(put, "the video's duration could not be read")
            continue
        limit, said, related = _duration_limit(traffic, media, init)
        if duration > limit:
            found.fail(
                put,
                f"uploaded a {duration:.1f} s video; {said} at most {limit} s",
                *related,
            )
        else:
            found.ok(put, f"{duration:.1f} s, within the {limit} s {said}", *related)
    return found


def _duration_limit(
    traffic: Traffic, media: dict[str, Any], init: Call | None
) -> tuple[int, str, list[tuple[Call, str]]]:
    """The longest video allowed, what says so, and the entries that show it."""
    if init is not None and init.endpoint == INBOX_INIT:
        return MAX_API_VIDEO_SECONDS, "the API takes", [(init, "an inbox upload")]
    seen = traffic.settings_before(init) if init is not None else None
    creator_max = seen.max_video_post_duration_sec if seen is not None else None
    if seen is not None and init is not None and creator_max is not None:
        return (
            min(creator_max, MAX_API_VIDEO_SECONDS),
            f"creator_info #{seen.call.seq} said {init.creator} can post",
            [(init, "the init"), (seen.call, "the creator_info answer the app had")],
        )
    applied = media.get("max_duration_s")
    limit = applied if isinstance(applied, int) else MAX_API_VIDEO_SECONDS
    related = [(init, "the init")] if init is not None else []
    return limit, "TikTok's check allowed", related


def media_passes_checks(traffic: Traffic) -> Findings:
    """ref 11, 13: uploaded and pulled media pass TikTok's checks (format, codec, picture size,
    duration, frame rate). A video over the creator's limit is duration_enforced_before_upload's
    finding, not this one's."""
    found = Findings("files TikTok checked", "no media check result in the window")
    # An uploaded file is judged by its last PUT; a later failure of a file that passed was
    # injected by the sandbox, not caused by the media.
    judged_ids = {
        str(init.data.get("publish_id"))
        for _, _, init in _completed_uploads(traffic, window=False)
        if init is not None
    }
    for put, media, _ in _completed_uploads(traffic):
        reason = media.get("fail_reason")
        if media.get("check") == TOO_LONG:
            continue
        if reason is None:
            found.ok(put, f"passed TikTok's media checks ({_describe(media)})")
        else:
            found.fail(put, f"{reason} ({_describe(media)}, rule {media.get('check')})")
    for status in traffic.judged("status_fetch"):
        publish_id = str((status.body or {}).get("publish_id", ""))
        if not status.ok or not publish_id or publish_id in judged_ids:
            continue
        reason = status.data.get("fail_reason")
        state = status.data.get("status")
        if state == "FAILED" and reason in MEDIA_FAIL_REASONS:
            judged_ids.add(publish_id)
            found.fail(status, f"{reason} for {publish_id} (the media TikTok pulled)")
        elif state in ("SEND_TO_USER_INBOX", "PUBLISH_COMPLETE"):
            judged_ids.add(publish_id)
            found.ok(status, f"{publish_id}: the media TikTok pulled passed its checks")
    return found


def chunk_plan_valid(traffic: Traffic) -> Findings:
    """ref 10.1-10.2: a FILE_UPLOAD init's chunk plan is valid the first time it is sent, and the
    PUTs follow it, in order."""
    found = Findings("chunk plans and chunk PUTs", "no FILE_UPLOAD init in the window")
    for init in traffic.judged("video_init", INBOX_INIT):
        source = init.source_info()
        if init.body is None:
            if not init.unread:
                found.unknown(init, init.no_body)
            continue
        if source is None or source.get("source") != "FILE_UPLOAD":
            continue
        sizes = [source.get(k) for k in ("video_size", "chunk_size", "total_chunk_count")]
        if not all(v is None or type(v) is int for v in sizes):
            found.fail(init, "video_size, chunk_size and total_chunk_count must be integers")
            continue
        video_size, chunk_size, count = sizes
        problem = chunk_plan_problem(video_size, chunk_size, count)
        plan = f"video_size {video_size}, chunk_size {chunk_size}, total_chunk_count {count}"
        if problem is not None:
            found.fail(init, f"{problem[0]} ({plan})")
        else:
            found.ok(init, f"a valid plan: {plan}")
    for put in traffic.judged("upload"):
        if put.rule in OFF_PLAN and not put.entry.fault:
            found.fail(put, f"refused: {OFF_PLAN[put.rule]}")
    return found


def pull_from_url_verified(traffic: Traffic) -> Findings:
    """ref 10.4: PULL_FROM_URL media comes from https URLs under a verified domain or URL
    prefix; the sandbox's loopback relaxation (http, IP addresses) is not TikTok's."""
    found = Findings("PULL_FROM_URL inits", "no PULL_FROM_URL init in the window")
    for init in traffic.judged("video_init", INBOX_INIT, "content_init"):
        source = init.source_info()
        if source is None or source.get("source") != "PULL_FROM_URL":
            continue
        listed = source.get("photo_images") if init.is_photo else [source.get("video_url")]
        urls = [u for u in listed if isinstance(u, str)] if isinstance(listed, list) else []
        problems = [f"{url}: {why}" for url in urls if (why := url_problem(url))]
        if init.code == "url_ownership_unverified":
            found.fail(
                init,
                "TikTok refused the URL: it is not under a verified domain or URL prefix"
                + (f" ({problems[0]})" if problems else ""),
            )
        elif problems:
            found.warn(init, f"accepted by the sandbox only: {problems[0]}")
        elif urls:
            found.ok(init, f"https on a domain: {urls[0]}")
    return found


def url_problem(url: str) -> str | None:
    """Why TikTok would not pull `url` whatever the app verified (ref 10.4), or None."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "not a URL"
    if host and is_loopback_host(host):
        return "a loopback address TikTok cannot reach"
    if parts.scheme.lower() != "https":
        return f"{parts.scheme or 'no'} scheme: TikTok pulls only https URLs"
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return "an IP address: TikTok verifies domains and URL prefixes on domains"
