"""`GET /v2/user/info/` (ref 5)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_server.api.http import (
    apply_faults,
    base_url,
    envelope,
    sandbox,
    session_for,
    tiktok_endpoint,
)
from mock_server.domain.oauth import require_scope
from mock_server.domain.ratelimit import check_rate
from mock_server.domain.scopes import ENDPOINT_SCOPES
from mock_server.domain.users import parse_fields, user_info


@tiktok_endpoint(invalid_code="invalid_params")
async def info(request: Request) -> Response:
    state = sandbox(request)
    with state.lock:
        now = state.now()
        session = session_for(request, state, now)
        require_scope(session, ENDPOINT_SCOPES["user_info"], rule="user_info_scope")
        check_rate(state.world.limiter, "user_info", session.token, now)
    await apply_faults(request, "user_info", session.app.client_key, session.creator.uid)
    fields = parse_fields(request.query_params.get("fields"))
    user = user_info(session.app, session.creator, session.scopes, fields, base_url(request))
    return envelope(request, {"user": user})
