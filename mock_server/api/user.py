"""`GET /v2/user/info/` (ref 5)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_server.api.http import (
    apply_faults,
    base_url,
    bearer_token,
    envelope,
    note,
    sandbox,
    tiktok_endpoint,
)
from mock_server.domain.fields import parse_fields
from mock_server.domain.oauth import require_scope, resolve_access_token
from mock_server.domain.ratelimit import check_rate
from mock_server.domain.scopes import ENDPOINT_SCOPES, USER_INFO_FIELDS
from mock_server.domain.users import user_info


@tiktok_endpoint
async def info(request: Request) -> Response:
    state = sandbox(request)
    with state.lock:
        now = state.now()
        session = resolve_access_token(state.world, bearer_token(request), now)
        note(request, client_key=session.app.client_key, creator=session.creator.username)
        require_scope(session, ENDPOINT_SCOPES["user_info"], rule="user_info_scope")
        check_rate(state.world.limiter, "user_info", session.token, now)
    await apply_faults(request, "user_info", session.app.client_key, session.creator.uid)
    scenario = state.scenario
    fields = parse_fields(
        request.query_params.get("fields"), USER_INFO_FIELDS, scenario.display_unknown_fields
    )
    user = user_info(
        session.app,
        session.creator,
        session.scopes,
        fields,
        base_url(request),
        scenario.display_unscoped_fields,
    )
    return envelope(request, {"user": user})
