"""`GET /v2/user/info/` (ref 5)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_server.api.http import (
    authorized,
    base_url,
    envelope,
    sandbox,
    tiktok_endpoint,
)
from mock_server.domain.fields import parse_fields
from mock_server.domain.scopes import USER_INFO_FIELDS
from mock_server.domain.users import user_info


@tiktok_endpoint
async def info(request: Request) -> Response:
    state = sandbox(request)
    session = await authorized(request, "user_info")
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
