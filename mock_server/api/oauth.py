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
from mock_server.domain.models import Creator, Grant
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
            creator = _creator_of(state.world, form.get("client_key", ""), result)
    except OAuthError as exc:
        return oauth_error(request, exc)
    except InjectedFault as fault:
        return oauth_fault(request, fault.rule)
    note(request, error_code="ok", creator=creator.username if creator else None)
    return result


def _creator_of(world: World, client_key: str, result: Any) -> Creator | None:
    """Whose tokens were issued (by their open_id) or revoked (by the grant), for the journal."""
    if isinstance(result, Grant):
        return world.creator_by_uid(result.creator_uid)
    if isinstance(result, dict) and isinstance(result.get("open_id"), str):
        return world.creator_by_open_id(client_key, result["open_id"])
    return None


async def token(request: Request) -> Response:
    result = await _call(request, "token", oauth.token)
    return result if isinstance(result, Response) else JSONResponse(result)


async def revoke(request: Request) -> Response:
    result = await _call(request, "revoke", oauth.revoke)
    # ref 2.5: the success body is empty
    return result if isinstance(result, Response) else Response(status_code=200)
