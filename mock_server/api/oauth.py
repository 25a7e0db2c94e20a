"""`POST /v2/oauth/token/` and `POST /v2/oauth/revoke/` (ref 2.4-2.6): flat JSON both ways."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_server.api.http import note, oauth_error, read_form, sandbox
from mock_server.domain import oauth
from mock_server.domain.errors import OAuthError


async def token(request: Request) -> Response:
    state = sandbox(request)
    try:
        form = await read_form(request)
        note(request, client_key=form.get("client_key"))
        with state.lock:
            body = oauth.token(state.world, form, state.now())
    except OAuthError as exc:
        return oauth_error(request, exc)
    note(request, error_code="ok")
    return JSONResponse(body)


async def revoke(request: Request) -> Response:
    state = sandbox(request)
    try:
        form = await read_form(request)
        note(request, client_key=form.get("client_key"))
        with state.lock:
            oauth.revoke(state.world, form, state.now())
    except OAuthError as exc:
        return oauth_error(request, exc)
    note(request, error_code="ok")
    return Response(status_code=200)  # ref 2.5: the success body is empty
