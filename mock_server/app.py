"""The ASGI application: TikTok's paths, the control API, and errors in TikTok's shapes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.api import authorize, oauth, posting, upload, user, videos
from mock_server.api.http import api_error, oauth_error
from mock_server.control import dashboard, properties
from mock_server.control.audit import audit_routes
from mock_server.control.routes import error_json
from mock_server.control.routes import routes as control_routes
from mock_server.domain.endpoints import ENDPOINTS, family_of
from mock_server.domain.errors import ApiError, OAuthError
from mock_server.logs import AnswerCutShort, install_filters
from mock_server.middleware import SandboxMiddleware
from mock_server.routing import IndexedRouter
from mock_server.runtime.clock import Clock
from mock_server.scenario import Scenario
from mock_server.state import SandboxState, ServerOptions
from mock_server.store.commands import routes as store_routes

# endpoint name -> (handler, methods); the paths come from domain.endpoints.
HANDLERS: dict[str, tuple[Callable[[Request], Awaitable[Response]], list[str]]] = {
    "authorize": (authorize.authorize, ["GET", "POST"]),
    "token": (oauth.token, ["POST"]),
    "revoke": (oauth.revoke, ["POST"]),
    "user_info": (user.info, ["GET"]),
    "video_list": (videos.video_list, ["POST"]),
    "video_query": (videos.video_query, ["POST"]),
    "creator_info": (posting.creator_info, ["POST"]),
    "video_init": (posting.video_init, ["POST"]),
    "inbox_video_init": (posting.inbox_video_init, ["POST"]),
    "content_init": (posting.content_init, ["POST"]),
    "status_fetch": (posting.status_fetch, ["POST"]),
    "cancel": (posting.cancel, ["POST"]),
    "upload": (upload.put_chunk, ["PUT"]),
}


def tiktok_routes() -> list[Route]:
    return [
        Route(ENDPOINTS[name], handler, methods=methods)
        for name, (handler, methods) in HANDLERS.items()
    ]


async def http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths (404) and wrong methods (405), each in its family's error shape."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    family = family_of(request.url.path)
    what = (
        f"{request.method} is not allowed on {request.url.path}"
        if status == 405
        else f"no endpoint at {request.url.path}"
    )
    if family == "control":
        return error_json(status, "not_found" if status == 404 else "method_not_allowed", what)
    if family == "oauth":
        return oauth_error(
            request, OAuthError("invalid_request", what, rule=f"http_{status}"), status=status
        )
    # The family's bad-input spelling is chosen when the envelope is rendered (api_error).
    return api_error(
        request, ApiError("invalid_params", what, rule=f"http_{status}", http_status=status)
    )


async def internal_error(request: Request, exc: Exception) -> Response:
    """A bug in the sandbox: the family's 500 shape, never a stack trace."""
    if isinstance(exc, AnswerCutShort):
        return Response(status_code=500)  # never sent: the answer was broken on purpose
    family = family_of(request.url.path)
    if family == "control":
        return error_json(500, "internal_error", "the sandbox failed; see its log")
    if family == "oauth":
        return oauth_error(
            request, OAuthError("server_error", "Internal error.", rule="sandbox_bug"), status=500
        )
    return api_error(request, ApiError("internal_error", rule="sandbox_bug"))


def build_app(state: SandboxState) -> Starlette:
    routes = [
        *tiktok_routes(),
        *control_routes(),
        *audit_routes(),
        *properties.routes(),
        *dashboard.routes(),
        *store_routes(),
    ]
    # ref 1: TikTok's paths end with `/`; one without it is an unknown path (404 in the
    # family's shape, docs/fidelity.md), never a redirect built from the request's Host.
    router = IndexedRouter(routes, redirect_slashes=False)
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SandboxMiddleware, state=state, router=router)],
        exception_handlers={404: http_error, 405: http_error, Exception: internal_error},
    )
    app.router = router
    install_filters()
    app.state.sandbox = state
    return app


def create_app(
    scenario: Scenario | str = "default",
    seed: int | None = None,
    clock: Clock | None = None,
    options: ServerOptions | None = None,
) -> Starlette:
    """The public factory: an ASGI app emulating TikTok, with its own fresh state."""
    return build_app(SandboxState(scenario, seed=seed, clock=clock, options=options))
