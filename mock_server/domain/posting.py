"""Content Posting rules: creator_info, the three init endpoints, status and cancel (ref 6-12, 15).

An init request is parsed into an `InitRequest` by the API layer; `init_publish` then runs
`INIT_RULES` in order (the first to object decides) and records a `Publish`. Each rule is a
named function, so the journal can say which one decided.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from mock_server.domain.caps import DAY_SECONDS, effective_active_creator_cap, in_window
from mock_server.domain.changes import peek
from mock_server.domain.errors import ApiError
from mock_server.domain.lifecycle import downloaded_bytes, fail, pull_started, upload_started
from mock_server.domain.models import App, Creator
from mock_server.domain.oauth import Session, require_scope
from mock_server.domain.outcomes import take_injected
from mock_server.domain.publishing import (
    DIRECT_POST,
    FAILED,
    FILE_UPLOAD,
    MEDIA_UPLOAD,
    PHOTO,
    PRIVACY_OPTIONS,
    PROCESSING_DOWNLOAD,
    PROCESSING_UPLOAD,
    PULL_FROM_URL,
    UPLOAD_URL_SECONDS,
    VIDEO,
    Publish,
    publish_id_prefix,
)
from mock_server.domain.redirects import is_loopback_host
from mock_server.domain.scopes import ENDPOINT_SCOPES
from mock_server.domain.world import World

MB = 1024 * 1024  # ref 10.1: "MB" is binary (the doc's 4 MB example is 4,194,304 bytes)
MIN_CHUNK = 5 * MB
MAX_CHUNK = 64 * MB
MAX_FINAL_CHUNK = 128 * MB
MAX_CHUNKS = 1000
MAX_VIDEO_BYTES = 4 * 1024 * MB  # ref 13: 4 GB
VIDEO_TITLE_MAX = 2200  # ref 7.1, UTF-16 code units
PHOTO_TITLE_MAX = 90  # ref 9
PHOTO_DESCRIPTION_MAX = 4000
MAX_PHOTOS = 35
PENDING_SHARE_CAP = 5  # ref 8, 15.2: at most 5 pending shares within 24 h
MEDIA_UPLOAD_MIN_APP_VERSION = (31, 8)  # ref 9


def utf16_units(text: str) -> int:
    """Length as TikTok counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def privacy_level_options(creator: Creator) -> list[str]:
    """ref 6: computed from the account's privacy now, never cached."""
    return list(PRIVACY_OPTIONS[creator.account])


# -- requests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostInfo:
    privacy_level: str | None = None
    title: str | None = None
    description: str | None = None
    disable_duet: bool = False
    disable_stitch: bool = False
    disable_comment: bool = False
    video_cover_timestamp_ms: int | None = None
    brand_content_toggle: bool = False
    brand_organic_toggle: bool = False
    is_aigc: bool = False
    auto_add_music: bool = False


@dataclass(frozen=True)
class SourceInfo:
    source: str
    video_url: str | None = None
    video_size: int | None = None
    chunk_size: int | None = None
    total_chunk_count: int | None = None
    photo_images: tuple[str, ...] = ()
    photo_cover_index: int | None = None


@dataclass(frozen=True)
class InitRequest:
    endpoint: str  # video_init | inbox_video_init | content_init
    mode: str  # DIRECT_POST | MEDIA_UPLOAD
    media_type: str  # VIDEO | PHOTO
    source_info: SourceInfo
    post_info: PostInfo = field(default_factory=PostInfo)


@dataclass
class InitContext:
    world: World
    session: Session
    request: InitRequest
    now: float

    @property
    def app(self) -> App:
        return self.session.app

    @property
    def creator(self) -> Creator:
        return self.session.creator

    @property
    def direct(self) -> bool:
        return self.request.mode == DIRECT_POST


def invalid(message: str, rule: str) -> ApiError:
    """A bad field: `invalid_params` (the API layer spells it as the scenario says)."""
    return ApiError("invalid_params", message, rule=rule)


# -- the rules, in the order TikTok is taken to apply them --------------------------------


def mode_scope(ctx: InitContext) -> None:
    """ref 3, 9: photo DIRECT_POST needs video.publish, MEDIA_UPLOAD video.upload."""
    if ctx.request.endpoint == "content_init":
        key = "content_init_direct" if ctx.direct else "content_init_upload"
        require_scope(ctx.session, ENDPOINT_SCOPES[key], rule=f"{key}_scope")


def direct_post_enabled(ctx: InitContext) -> None:
    """ref 3: Direct Post needs the app's Direct Post configuration as well as the scope."""
    if ctx.direct and not ctx.app.direct_post_enabled:
        raise ApiError(
            "scope_not_authorized",
            "Direct Post is not enabled for this app's Content Posting API configuration.",
            rule="direct_post_not_enabled",
        )


def caption_lengths(ctx: InitContext) -> None:
    """ref 7.1, 9: titles and descriptions are measured in UTF-16 code units."""
    info = ctx.request.post_info
    if ctx.request.media_type == VIDEO:
        limits = [("title", info.title, VIDEO_TITLE_MAX)]
    else:
        limits = [
            ("title", info.title, PHOTO_TITLE_MAX),
            ("description", info.description, PHOTO_DESCRIPTION_MAX),
        ]
    for name, text, limit in limits:
        if text is not None and utf16_units(text) > limit:
            raise invalid(
                f"post_info.{name} is {utf16_units(text)} UTF-16 code units; the maximum is "
                f"{limit}.",
                rule=f"{name}_too_long",
            )


def photo_list(ctx: InitContext) -> None:
    """ref 9: 1 to 35 photo URLs and a cover index inside the list."""
    if ctx.request.media_type != PHOTO:
        return
    images = ctx.request.source_info.photo_images
    if not 1 <= len(images) <= MAX_PHOTOS:
        raise invalid(
            f"source_info.photo_images must hold 1 to {MAX_PHOTOS} URLs.", rule="photo_count"
        )
    index = ctx.request.source_info.photo_cover_index
    if index is None or not 0 <= index < len(images):
        raise invalid(
            f"source_info.photo_cover_index must be between 0 and {len(images) - 1}.",
            rule="photo_cover_index",
        )


def app_version(ctx: InitContext) -> None:
    """ref 9: photo MEDIA_UPLOAD needs the creator's TikTok app at version 31.8 or later."""
    if ctx.request.media_type != PHOTO or ctx.request.mode != MEDIA_UPLOAD:
        return
    version = tuple(int(p) for p in ctx.creator.app_version.split("."))
    if version < MEDIA_UPLOAD_MIN_APP_VERSION:
        raise ApiError("app_version_check_failed", rule="app_version_below_31_8")


def creator_banned(ctx: InitContext) -> None:
    if ctx.creator.banned:
        raise ApiError("spam_risk_user_banned_from_posting", rule="creator_banned")


def unaudited_private_only(ctx: InitContext) -> None:
    """ref 15.1, 15.3, 7.4 (3p): before audit, Direct Post needs a private account, whatever
    privacy_level says."""
    if ctx.direct and ctx.app.stage != "audited" and ctx.creator.account != "private":
        raise ApiError(
            "unaudited_client_can_only_post_to_private_accounts", rule="unaudited_private_only"
        )


def active_creator_cap(ctx: InitContext) -> None:
    """ref 15.1, 15.2: the app's 24 h cap of distinct posting creators (5 before audit)."""
    cap = effective_active_creator_cap(ctx.app.stage, ctx.app.active_creator_cap)
    if ctx.direct and not ctx.app.active_creators.admits(ctx.creator.uid, ctx.now, cap):
        raise ApiError("reached_active_user_cap", rule="active_creator_cap")


def creator_post_cap(ctx: InitContext) -> None:
    """ref 15.2: per-creator Direct Post cap over a rolling 24 h, shared by all apps."""
    if ctx.direct and posts_in_window(ctx.creator, ctx.now) >= ctx.creator.daily_post_cap:
        raise ApiError("spam_risk_too_many_posts", rule="creator_post_cap")


def pending_share_cap(ctx: InitContext) -> None:
    """ref 8: at most 5 pending (not yet posted) inbox shares within 24 h."""
    if not ctx.direct and pending_shares(ctx.world, ctx.creator, ctx.now) >= PENDING_SHARE_CAP:
        raise ApiError("spam_risk_too_many_pending_share", rule="pending_share_cap")


def privacy_option(ctx: InitContext) -> None:
    """ref 7.1, 7.4: privacy_level is required for Direct Post and must be one of the
    creator's current options."""
    if not ctx.direct:
        return
    level = ctx.request.post_info.privacy_level
    options = privacy_level_options(ctx.creator)
    if level not in options:
        detail = "is missing" if level is None else f"{level!r} is not one of {options}"
        raise ApiError(
            "privacy_level_option_mismatch",
            f"post_info.privacy_level {detail}.",
            rule="privacy_level_option",
        )


def branded_content_not_private(ctx: InitContext) -> None:
    """ref 7.1: branded content can only be public or friends, never SELF_ONLY (the API's
    answer is a guess: the bad-input code, see docs/fidelity.md)."""
    info = ctx.request.post_info
    if ctx.direct and info.brand_content_toggle and info.privacy_level == "SELF_ONLY":
        raise invalid(
            "Branded content (brand_content_toggle) cannot be posted with privacy_level SELF_ONLY.",
            rule="branded_content_self_only",
        )


# What TikTok answered every multi-chunk init from about 2026-08-09 (post-for-me issue 327).
CHUNK_SIZE_INVALID = "The chunk size is invalid"


def chunk_plan(ctx: InitContext) -> None:
    """ref 10.1: the FILE_UPLOAD plan; with the scenario's `multi_chunk_init: refuse`, a valid
    plan of more than one chunk is refused too, as TikTok did from about 2026-08-09."""
    source = ctx.request.source_info
    if source.source != FILE_UPLOAD:
        return
    problem = chunk_plan_problem(source.video_size, source.chunk_size, source.total_chunk_count)
    if problem is not None:
        message, rule = problem
        raise invalid(message, rule=rule)
    if ctx.world.multi_chunk_init == "refuse" and (source.total_chunk_count or 0) > 1:
        raise invalid(CHUNK_SIZE_INVALID, rule="multi_chunk_refused")


def url_ownership(ctx: InitContext) -> None:
    source = ctx.request.source_info
    if source.source != PULL_FROM_URL:
        return
    urls = list(source.photo_images) if ctx.request.media_type == PHOTO else [source.video_url]
    for url in urls:
        if url is None or not url_is_verified(ctx.app, url):
            raise ApiError("url_ownership_unverified", rule="url_ownership")


InitRule = Callable[[InitContext], None]

INIT_RULES: tuple[InitRule, ...] = (
    mode_scope,
    direct_post_enabled,
    caption_lengths,
    photo_list,
    app_version,
    creator_banned,
    unaudited_private_only,
    active_creator_cap,
    creator_post_cap,
    pending_share_cap,
    privacy_option,
    branded_content_not_private,
    chunk_plan,
    url_ownership,
)


# -- the rules' arithmetic ----------------------------------------------------------------


def chunk_plan_problem(
    video_size: int | None, chunk_size: int | None, total_chunk_count: int | None
) -> tuple[str, str] | None:
    """ref 10.1: why a FILE_UPLOAD chunk plan is invalid (message, rule), or None."""
    for name, value in (
        ("video_size", video_size),
        ("chunk_size", chunk_size),
        ("total_chunk_count", total_chunk_count),
    ):
        if value is None:
            return f"source_info.{name} is required for FILE_UPLOAD.", f"{name}_missing"
        if value <= 0:
            return f"source_info.{name} must be positive.", f"{name}_not_positive"
    assert video_size is not None and chunk_size is not None and total_chunk_count is not None
    if video_size > MAX_VIDEO_BYTES:
        return (
            f"The video size is invalid: {video_size} bytes is over the 4 GB maximum.",
            "video_too_large",
        )
    if not 1 <= total_chunk_count <= MAX_CHUNKS:
        return (
            f"The total chunk count is invalid: it must be between 1 and {MAX_CHUNKS}.",
            "chunk_count_range",
        )
    if video_size < MIN_CHUNK:
        if chunk_size != video_size or total_chunk_count != 1:
            return (
                "The chunk size is invalid: a video under 5 MB is uploaded whole, with "
                "chunk_size equal to video_size and total_chunk_count 1.",
                "small_video_whole",
            )
        return None
    if chunk_size < MIN_CHUNK:
        return (
            f"The chunk size is invalid: chunks are at least 5 MB ({MIN_CHUNK} bytes).",
            "chunk_too_small",
        )
    if chunk_size > MAX_CHUNK:
        return (
            f"The chunk size is invalid: chunks are at most 64 MB ({MAX_CHUNK} bytes); a "
            "video over 64 MB must be chunked.",
            "chunk_too_large",
        )
    if chunk_size > video_size:
        return "The chunk size is invalid: it is larger than video_size.", "chunk_over_size"
    if video_size > MAX_CHUNK and total_chunk_count < 2:
        return (
            "The total chunk count is invalid: a video over 64 MB must be uploaded in chunks.",
            "large_video_not_chunked",
        )
    expected = video_size // chunk_size
    if total_chunk_count != expected:
        return (
            f"The total chunk count is invalid: floor(video_size / chunk_size) is {expected}, "
            f"not {total_chunk_count}.",
            "chunk_count_mismatch",
        )
    # The final chunk holds chunk_size plus the remainder, always under 2 x 64 MB = 128 MB.
    return None


def url_is_verified(app: App, url: str) -> bool:
    """ref 10.4: https, under a verified domain (or its subdomains) or an exact URL prefix.

    With `allow_loopback_http_media`, URL prefixes on loopback hosts may be http and hold an
    IP address: the sandbox's way to serve media from a local server.
    """
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if not host or parts.username or parts.password or _has_dot_segment(parts.path):
        return False
    loopback = app.allow_loopback_http_media and is_loopback_host(host)
    if parts.scheme.lower() != "https" and not (loopback and parts.scheme.lower() == "http"):
        return False
    normalized = _scheme_and_host_lowered(url)
    if any(normalized.startswith(_scheme_and_host_lowered(p)) for p in app.verified_url_prefixes):
        return True
    if _is_ip(host):
        return False  # ref 10.4: properties are domains; an IP host only matches a URL prefix
    domains = [d.lower().rstrip(".") for d in app.verified_domains]
    return parts.scheme == "https" and any(host == d or host.endswith("." + d) for d in domains)


def _has_dot_segment(path: str) -> bool:
    """`.` and `..` segments (also percent-encoded) would let a URL leave its prefix once a
    client normalises it, so such URLs never count as verified."""
    segments = unquote(path).replace("\\", "/").split("/")
    return any(segment in (".", "..") for segment in segments)


def _scheme_and_host_lowered(url: str) -> str:
    """Scheme and host are case-insensitive; the path is compared as written."""
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}{sep}{host.lower()}{slash}{path}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def posts_in_window(creator: Creator, now: float) -> int:
    """Direct Posts in the rolling 24 h up to `now` (`post_times` is kept sorted: two
    binary searches, however long the history)."""
    times = creator.post_times
    return bisect.bisect_right(times, now) - bisect.bisect_right(times, now - DAY_SECONDS)


def record_post(creator: Creator, now: float) -> None:
    """A Direct Post counts toward the creator's rolling 24 h (ref 15.2); older ones no longer
    matter and are let go, so the history stays as short as the cap."""
    times = creator.post_times
    del times[: bisect.bisect_right(times, now - DAY_SECONDS)]
    bisect.insort(times, now)


def pending_shares(world: World, creator: Creator, now: float) -> int:
    """Inbox drafts from the last 24 h the creator has not posted (real and set by control)."""
    drafts = world.drafts_by_creator.get(creator.uid, [])
    # Drafts posted, failed or forgotten can never count again: let go, the list stays short.
    pending = [p for i in drafts if (p := world.publishes.get(i)) is not None and p.pending_share]
    drafts[:] = [p.publish_id for p in pending]
    real = sum(1 for p in pending if in_window(p.created_at, now, DAY_SECONDS))
    declared = sum(1 for t in creator.pending_share_times if in_window(t, now, DAY_SECONDS))
    return real + declared


def creator_info(world: World, session: Session, now: float, avatar_url: str) -> dict[str, object]:
    """ref 6: the creator's posting settings now; cap and ban errors are raised with HTTP 200."""
    creator, app = session.creator, session.app
    if creator.banned:
        raise ApiError("spam_risk_user_banned_from_posting", rule="creator_banned", http_status=200)
    cap = effective_active_creator_cap(app.stage, app.active_creator_cap)
    if not app.active_creators.admits(creator.uid, now, cap):
        raise ApiError("reached_active_user_cap", rule="active_creator_cap", http_status=200)
    if posts_in_window(creator, now) >= creator.daily_post_cap:
        raise ApiError("spam_risk_too_many_posts", rule="creator_post_cap", http_status=200)
    private = creator.account == "private"
    return {
        "creator_avatar_url": avatar_url,
        "creator_username": creator.username,
        "creator_nickname": creator.nickname,
        "privacy_level_options": privacy_level_options(creator),
        "comment_disabled": creator.comment_disabled,
        "duet_disabled": private or creator.duet_disabled,
        "stitch_disabled": private or creator.stitch_disabled,
        "max_video_post_duration_sec": creator.max_video_post_duration_sec,
    }


# -- init -----------------------------------------------------------------------------------


def effective_post_info(ctx: InitContext) -> tuple[str | None, dict[str, object]]:
    """The privacy and interaction settings the post really gets (ref 7.1, 15.1)."""
    info, creator = ctx.request.post_info, ctx.creator
    if ctx.request.endpoint == "inbox_video_init":
        return None, {}  # ref 8: the creator sets everything in the app
    privacy = info.privacy_level if ctx.direct else None
    if ctx.direct and ctx.app.stage != "audited":
        privacy = "SELF_ONLY"  # ref 15.1: everything an unaudited client posts is private
    private = creator.account == "private"
    effective: dict[str, object] = {
        "title": info.title,
        "disable_comment": info.disable_comment or creator.comment_disabled,
        "brand_content_toggle": info.brand_content_toggle,
        "brand_organic_toggle": info.brand_organic_toggle,
    }
    if ctx.request.media_type == VIDEO:
        effective |= {
            "disable_duet": info.disable_duet or private or creator.duet_disabled,
            "disable_stitch": info.disable_stitch or private or creator.stitch_disabled,
            "video_cover_timestamp_ms": info.video_cover_timestamp_ms,
            "is_aigc": info.is_aigc,
        }
    else:
        effective |= {"description": info.description, "auto_add_music": info.auto_add_music}
    return privacy, effective


def init_publish(world: World, session: Session, request: InitRequest, now: float) -> Publish:
    """Run the init rules and record the publish; the first rule to object raises."""
    ctx = InitContext(world, session, request, now)
    for rule in INIT_RULES:
        rule(ctx)
    source = request.source_info
    privacy, effective = effective_post_info(ctx)
    publish = Publish(
        publish_id=publish_id_prefix(request.media_type, request.mode, source.source)
        + world.ids.numeric_id(),
        client_key=session.app.client_key,
        creator_uid=session.creator.uid,
        mode=request.mode,
        media_type=request.media_type,
        source=source.source,
        created_at=now,
        post_info=effective,
        requested_privacy_level=request.post_info.privacy_level if ctx.direct else None,
        privacy_level=privacy,
        video_size=source.video_size,
        chunk_size=source.chunk_size,
        total_chunk_count=source.total_chunk_count,
        video_url=source.video_url,
        photo_images=source.photo_images,
        photo_cover_index=source.photo_cover_index,
        decided_by="accepted"
        + (
            ":privacy_forced_self_only"
            if privacy == "SELF_ONLY"
            and request.post_info.privacy_level != "SELF_ONLY"
            and ctx.direct
            else ""
        ),
    )
    publish.injected_fail_reason = take_injected(
        world.injections, session.app.client_key, session.creator.uid
    )
    if source.source == FILE_UPLOAD:
        publish.upload_id = world.ids.numeric_id()
        publish.upload_token = world.ids.upload_token()
        publish.upload_expires_at = now + UPLOAD_URL_SECONDS
        publish.media_bytes = source.video_size or 0
        world.uploads[publish.upload_id] = publish.publish_id
        publish.move_to(PROCESSING_UPLOAD, now)
        upload_started(world, publish)
    else:
        publish.move_to(PROCESSING_DOWNLOAD, now)
        pull_started(world, publish, now)
    if ctx.direct:
        session.app.active_creators.record(session.creator.uid, now)
        record_post(session.creator, now)
    elif publish.pending_share:
        world.drafts_by_creator.setdefault(publish.creator_uid, []).append(publish.publish_id)
    world.add_publish(publish)
    world.forget_old_publishes()
    return publish


# -- status and cancel ----------------------------------------------------------------------


def owned_publish(
    world: World, session: Session, publish_id: str, *, noted: bool = True
) -> Publish:
    """ref 11, 12: unknown ids and other apps' or other creators' publishes are refused.
    `noted=False`: only to read it (domain.changes)."""
    publish = world.publishes.get(publish_id) if noted else peek(world.publishes, publish_id)
    if publish is None:
        raise ApiError("invalid_publish_id", rule="publish_unknown")
    if publish.client_key != session.app.client_key or publish.creator_uid != session.creator.uid:
        raise ApiError("token_not_authorized_for_specified_publish_id", rule="publish_not_owned")
    return publish


def status_view(world: World, publish: Publish, now: float) -> dict[str, object]:
    """ref 11: `status`, `fail_reason`, `publicaly_available_post_id` and byte progress.

    Post ids are listed only while the post is publicly available.
    """
    view: dict[str, object] = {"status": publish.status}
    if publish.status == FAILED:
        view["fail_reason"] = publish.fail_reason
    view["publicaly_available_post_id"] = (
        [int(p) for p in publish.post_ids] if publish.public else []
    )
    if publish.source == FILE_UPLOAD:
        view["uploaded_bytes"] = publish.uploaded_bytes
    else:
        view["downloaded_bytes"] = downloaded_bytes(world, publish, now)
    return view


def cancel(world: World, session: Session, publish_id: str, now: float) -> Publish:
    """ref 12: only a PULL_FROM_URL download still under way on the sandbox clock can be
    cancelled; once the media is in (processing), it is too late. A pull from URLs the app no
    longer owns (its URL property was removed since init) is `url_ownership_unverified`."""
    publish = owned_publish(world, session, publish_id)
    if publish.source != PULL_FROM_URL:
        raise ApiError("publish_not_cancellable", rule="publish_not_cancellable")
    urls = publish.photo_images if publish.media_type == PHOTO else [publish.video_url or ""]
    if not all(url_is_verified(session.app, url) for url in urls):
        raise ApiError("url_ownership_unverified", rule="cancel_url_ownership")
    if publish.status != PROCESSING_DOWNLOAD or publish.arrived_at is not None:
        raise ApiError("publish_not_cancellable", rule="publish_not_cancellable")
    fail(world, publish, "publish_cancelled", now)
    return publish
