"""`POST /v2/video/list/` and `POST /v2/video/query/` (ref 5.1): the Display API's videos.

Token, then the `video.list` scope, then the rate limit (600 a minute, ref 4.3), then the
`fields` query parameter, then the JSON body. Bad input is `invalid_params` (the Display
spelling, ref 4.2).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_server.api.bodies import bad, json_body, read_int, read_object
from mock_server.api.http import (
    authorized,
    base_url,
    envelope,
    sandbox,
    tiktok_endpoint,
)
from mock_server.domain import videos
from mock_server.domain.fields import parse_fields
from mock_server.domain.oauth import Session
from mock_server.domain.scopes import VIDEO_FIELDS
from mock_server.state import SandboxState

INT32_MAX = 2**31 - 1


async def _begin(request: Request, endpoint: str) -> tuple[SandboxState, Session, list[str]]:
    """Token, scope, rate limit, faults, then `fields`."""
    state = sandbox(request)
    session = await authorized(request, endpoint)
    fields = parse_fields(
        request.query_params.get("fields"), VIDEO_FIELDS, state.scenario.display_unknown_fields
    )
    return state, session, fields


def _answer(
    request: Request, state: SandboxState, session: Session, page: videos.Page, fields: list[str]
) -> Response:
    with state.lock:
        now, key = state.now(), state.world.ids.url_key
        items = [
            videos.video_object(
                p,
                session.creator,
                session.app,
                fields,
                key=key,
                base_url=base_url(request),
                now=now,
            )
            for p in page.videos
        ]
    data: dict[str, Any] = {"videos": items, "cursor": page.cursor, "has_more": page.has_more}
    return envelope(request, data)


@tiktok_endpoint
async def video_list(request: Request) -> Response:
    """ref 5.1: `cursor` (ms timestamp) and `max_count` (1-20, default 10)."""
    state, session, fields = await _begin(request, "video_list")
    body = await json_body(request, state)
    cursor = videos.check_cursor(read_int(body, "cursor", ""))
    max_count = videos.check_max_count(read_int(body, "max_count", "", INT32_MAX))
    with state.lock:
        page = videos.list_page(state.world, session.creator.uid, cursor, max_count)
    return _answer(request, state, session, page, fields)


@tiktok_endpoint
async def video_query(request: Request) -> Response:
    """ref 5.1: `filters.video_ids`, 1 to 20 ids."""
    state, session, fields = await _begin(request, "video_query")
    body = await json_body(request, state)
    filters = read_object(body, "filters", "", required=True)
    assert filters is not None
    ids = filters.get("video_ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise bad("filters.video_ids must be a list of video ids (strings).")
    checked = videos.check_video_ids(ids)
    with state.lock:
        page = videos.query(state.world, session.creator.uid, checked)
    return _answer(request, state, session, page, fields)
