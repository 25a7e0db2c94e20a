"""The Content Posting endpoints (ref 6-12): parse TikTok's JSON, call the domain, answer in
the envelope. Request-shape problems are `invalid_params`, spelled as the scenario says when
the envelope is rendered (`http.spelled`; ref 4.2, OQ 13)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_server.api.bodies import (
    bad,
    json_body,
    read_bool,
    read_int,
    read_object,
    read_string,
)
from mock_server.api.http import (
    Handler,
    authorized,
    base_url,
    envelope,
    note,
    sandbox,
    tiktok_endpoint,
    upload_base_url,
)
from mock_server.domain import posting
from mock_server.domain.oauth import Session
from mock_server.domain.posting import InitRequest, PostInfo, SourceInfo
from mock_server.domain.publishing import (
    DIRECT_POST,
    FILE_UPLOAD,
    MEDIA_UPLOAD,
    PHOTO,
    PRIVACY_LEVELS,
    PULL_FROM_URL,
    VIDEO,
    Publish,
)
from mock_server.domain.users import creator_avatar_url
from mock_server.state import SandboxState


def _enum(data: dict[str, Any], key: str, where: str, allowed: tuple[str, ...]) -> str:
    value = read_string(data, key, where, required=True)
    if value not in allowed:
        raise bad(f"{where}{key} must be one of {', '.join(allowed)}.")
    return _constant(value, allowed)


def _constant(value: str, known: tuple[str, ...]) -> str:
    """The constant equal to `value`, if any, not the request's copy: each publish keeps it for
    as long as it is kept."""
    return known[known.index(value)] if value in known else value


def parse_post_info(data: dict[str, Any] | None) -> PostInfo:
    if data is None:
        return PostInfo()
    w = "post_info."
    privacy_level = read_string(data, "privacy_level", w)
    return PostInfo(
        privacy_level=None if privacy_level is None else _constant(privacy_level, PRIVACY_LEVELS),
        title=read_string(data, "title", w),
        description=read_string(data, "description", w),
        disable_duet=read_bool(data, "disable_duet", w),
        disable_stitch=read_bool(data, "disable_stitch", w),
        disable_comment=read_bool(data, "disable_comment", w),
        video_cover_timestamp_ms=read_int(data, "video_cover_timestamp_ms", w, 2**31 - 1),
        brand_content_toggle=read_bool(data, "brand_content_toggle", w),
        brand_organic_toggle=read_bool(data, "brand_organic_toggle", w),
        is_aigc=read_bool(data, "is_aigc", w),
        auto_add_music=read_bool(data, "auto_add_music", w),
    )


def parse_video_source(data: dict[str, Any]) -> SourceInfo:
    info = read_object(data, "source_info", "", required=True)
    assert info is not None
    w = "source_info."
    source = _enum(info, "source", w, (FILE_UPLOAD, PULL_FROM_URL))
    if source == PULL_FROM_URL:
        return SourceInfo(source, video_url=read_string(info, "video_url", w, required=True))
    return SourceInfo(
        source,
        video_size=read_int(info, "video_size", w),
        chunk_size=read_int(info, "chunk_size", w),
        total_chunk_count=read_int(info, "total_chunk_count", w),
    )


def parse_photo_source(data: dict[str, Any]) -> SourceInfo:
    info = read_object(data, "source_info", "", required=True)
    assert info is not None
    w = "source_info."
    source = _enum(info, "source", w, (PULL_FROM_URL,))
    images = info.get("photo_images")
    if not isinstance(images, list) or not all(isinstance(u, str) for u in images):
        raise bad("source_info.photo_images must be a list of URLs.")
    cover = read_int(info, "photo_cover_index", w, 2**31 - 1)
    if cover is None:
        raise bad("source_info.photo_cover_index is required.")
    return SourceInfo(source, photo_images=tuple(images), photo_cover_index=cover)


def parse_video_init(data: dict[str, Any]) -> InitRequest:
    """ref 7: `post_info` and `source_info`; unknown fields are ignored."""
    post_info = parse_post_info(read_object(data, "post_info", "", required=False))
    return InitRequest("video_init", DIRECT_POST, VIDEO, parse_video_source(data), post_info)


def parse_inbox_video_init(data: dict[str, Any]) -> InitRequest:
    """ref 8: only `source_info` (a `post_info` sent anyway is ignored)."""
    return InitRequest("inbox_video_init", MEDIA_UPLOAD, VIDEO, parse_video_source(data))


def parse_content_init(data: dict[str, Any]) -> InitRequest:
    """ref 9: photos, `post_mode` DIRECT_POST or MEDIA_UPLOAD, PULL_FROM_URL only."""
    _enum(data, "media_type", "", (PHOTO,))
    mode = _enum(data, "post_mode", "", (DIRECT_POST, MEDIA_UPLOAD))
    post_info = parse_post_info(read_object(data, "post_info", "", required=True))
    return InitRequest("content_init", mode, PHOTO, parse_photo_source(data), post_info)


# -- handlers ---------------------------------------------------------------------------


@tiktok_endpoint
async def creator_info(request: Request) -> Response:
    state = sandbox(request)
    session = await authorized(request, "creator_info")
    with state.lock:
        now = state.now()
        key = state.world.ids.url_key
        avatar = creator_avatar_url(key, base_url(request), session.creator, now)
        data = posting.creator_info(state.world, session, now, avatar)
    return envelope(request, data)


def _init_response(request: Request, publish: Publish) -> Response:
    note(request, rule=publish.decided_by)
    if publish.source == PULL_FROM_URL:
        sandbox(request).downloads.start(publish.publish_id, publish.client_key)
    data: dict[str, Any] = {"publish_id": publish.publish_id}
    if publish.source == FILE_UPLOAD:
        data["upload_url"] = upload_base_url(request) + publish.upload_path
    return envelope(request, data)


def _init_endpoint(endpoint: str, parse: Callable[[dict[str, Any]], InitRequest]) -> Handler:
    """The three init endpoints differ only in their name (scope, rate limit) and parser."""

    @tiktok_endpoint
    async def init(request: Request) -> Response:
        state = sandbox(request)
        session = await authorized(request, endpoint)
        request_model = parse(await json_body(request, state))
        with state.lock:
            publish = posting.init_publish(state.world, session, request_model, state.now())
        return _init_response(request, publish)

    init.__name__ = init.__qualname__ = endpoint
    return init


video_init = _init_endpoint("video_init", parse_video_init)  # ref 7
inbox_video_init = _init_endpoint("inbox_video_init", parse_inbox_video_init)  # ref 8
content_init = _init_endpoint("content_init", parse_content_init)  # ref 9


def _publish_id(data: dict[str, Any]) -> str:
    value = read_string(data, "publish_id", "", required=True)
    assert value is not None
    return value


async def _publish_request(request: Request, endpoint: str) -> tuple[SandboxState, Session, str]:
    """Token, scope and rate limit, then the `publish_id` of the body (ref 11, 12)."""
    state = sandbox(request)
    session = await authorized(request, endpoint)
    return state, session, _publish_id(await json_body(request, state))


@tiktok_endpoint
async def status_fetch(request: Request) -> Response:
    state, session, publish_id = await _publish_request(request, "status_fetch")
    with state.lock:
        # Only read (endpoints.READS_ONLY): not noted as changed.
        publish = posting.owned_publish(state.world, session, publish_id, noted=False)
        view = posting.status_view(state.world, publish, state.now())
    return envelope(request, view)


@tiktok_endpoint
async def cancel(request: Request) -> Response:
    state, session, publish_id = await _publish_request(request, "cancel")
    with state.lock:
        posting.cancel(state.world, session, publish_id, state.now())
    return envelope(request, None, with_data=False)  # ref 12: only `error`
