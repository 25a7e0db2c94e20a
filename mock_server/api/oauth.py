"""`POST /v2/oauth/token/` and `POST /v2/oauth/revoke/` (ref 2.4-2.6): flat JSON both ways."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_server.api.http import (
    InjectedFault,
    apply_faults,
    note,
    oauth_error,
    oauth_fault,
    read_form,
    sandbox,
)
from mock_server.domain import oauth
from mock_server.domain.errors import OAuthError
from mock_server.domain.world import World
from mock_server.responses import JSONResponse


async def _call(
    request: Request, endpoint: str, operation: Callable[[World, Mapping[str, str], float], Any]
) -> Any | Response:
    """Read the form and run the domain operation; an OAuthError becomes the flat error."""
    state = sandbox(request)
    try:
        form = await read_form(request)
        note(request, client_key=form.get("client_key"))
        await apply_faults(request, endpoint, form.get("client_key"), None)
        with state.lock:
            result = operation(state.world, form, state.now())
    except OAuthError as exc:
        return oauth_error(request, exc)
    except InjectedFault as fault:
        return oauth_fault(request, fault.rule)
    note(request, error_code="ok")
    return result


async def token(request: Request) -> Response:
    result = await _call(request, "token", oauth.token)
    return result if isinstance(result, Response) else JSONResponse(result)


async def revoke(request: Request) -> Response:
    result = await _call(request, "revoke", oauth.revoke)
    # ref 2.5: the success body is empty
    return result if isinstance(result, Response) else Response(status_code=200)
