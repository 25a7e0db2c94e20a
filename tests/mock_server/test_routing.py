"""The router's shortcuts take a request where Starlette's own loop over the routes would:
the candidate index (`IndexedRouter.candidates`) and the endpoints the sandbox's middleware
calls directly (`IndexedRouter.direct`)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Match, Mount, Route

from mock_server import Sandbox
from mock_server.middleware import SandboxMiddleware
from mock_server.routing import IndexedRouter
from mock_server.runtime.clock import Clock


def starlettes_choice(routes: list[Any], path: str, method: str) -> Any:
    """The route Starlette's Router.app hands a request to: the first full match in order."""
    scope = {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    return None


async def one(request: Request) -> Response:
    return PlainTextResponse("one")


async def two(request: Request) -> Response:
    return PlainTextResponse("two")


def sync_endpoint(request: Request) -> Response:
    return PlainTextResponse("sync")


class Tag:
    """A route middleware: the direct call would skip it, so its route is not direct."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def test_every_direct_endpoint_of_the_sandbox_is_the_one_starlette_would_call() -> None:
    router = Sandbox().app.router
    assert isinstance(router, IndexedRouter)
    # TikTok's endpoints are all there, both methods of a GET route included.
    assert router.direct["/v2/post/publish/creator_info/query/", "POST"].name == "creator_info"
    assert ("/v2/user/info/", "HEAD") in router.direct
    assert ("/upload/", "PUT") in router.direct
    for (path, method), route in router.direct.items():
        assert starlettes_choice(router.routes, path, method) is route, (path, method)


def test_what_is_not_certain_from_path_and_method_is_left_to_the_router() -> None:
    routes = [
        Route("/a/{name}/", one, methods=["POST"]),  # matches /a/b/ too, and comes first
        Route("/a/b/", two, methods=["POST", "PUT"]),
        Route("/tagged/", one, methods=["POST"], middleware=[Middleware(Tag)]),
        Route("/sync/", sync_endpoint, methods=["POST"]),
        Route("/plain/", two, methods=["GET"]),
        Mount("/m", routes=[Route("/x/", one, methods=["POST"])]),
        Route("/m/x/", two, methods=["POST"]),  # behind a mount, which may take any path
    ]
    router = IndexedRouter(routes, redirect_slashes=False)
    direct = router.direct
    assert ("/a/b/", "POST") not in direct  # the parameter route takes it
    assert direct["/a/b/", "PUT"] is routes[1]
    assert ("/tagged/", "POST") not in direct
    assert ("/sync/", "POST") not in direct
    assert ("/m/x/", "POST") not in direct
    assert direct["/plain/", "GET"] is routes[4]
    assert direct["/plain/", "HEAD"] is routes[4]
    for (path, method), route in direct.items():
        assert starlettes_choice(routes, path, method) is route


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(clock=Clock.frozen_at(1_767_225_600))


def sandbox_middleware(sandbox: Sandbox) -> SandboxMiddleware:
    with sandbox.client() as http:
        http.get("/_sandbox/health")  # Starlette builds its middleware on the first request
    layer: Any = sandbox.app.middleware_stack
    while not isinstance(layer, SandboxMiddleware):
        layer = layer.app
    return layer


def test_a_direct_answer_is_the_routers_answer(sandbox: Sandbox) -> None:
    """The same requests, once through the direct call and once through Starlette's router
    (the direct table emptied), get the same answers but for their log ids."""
    token = sandbox.issue_tokens(
        "awacmescheduler01", "ana_makes", ["user.info.basic", "video.publish"]
    )["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    middleware = sandbox_middleware(sandbox)
    assert middleware.direct
    answers = []
    for direct in (middleware.direct, {}):
        saved, middleware.direct = middleware.direct, direct
        try:
            with sandbox.client() as http:
                answer = http.post("/v2/post/publish/creator_info/query/", headers=headers)
                head = http.head("/v2/user/info/", headers=headers)
        finally:
            middleware.direct = saved
        body = answer.json()
        body["error"].pop("log_id")
        answers.append(
            (
                answer.status_code,
                [k for k, _ in answer.headers.items()],
                body,
                head.status_code,
                head.content,
            )
        )
    assert answers[0] == answers[1]
    assert answers[0][0] == 200
    assert answers[0][1] == ["x-tt-logid", "content-length", "content-type"]


@pytest.mark.parametrize("status", [404, 418, 204])
def test_an_http_exception_from_a_direct_endpoint_is_answered_as_starlettes_layers_would(
    sandbox: Sandbox, status: int
) -> None:
    """No endpoint raises one today; if one did, the direct call answers as the exception
    middleware it skips: the app's handler for the status (404 and 405: the family's error
    shape), else the detail as plain text."""

    async def raising(request: Request) -> Response:
        raise HTTPException(status, "no tea here")

    middleware = sandbox_middleware(sandbox)
    saved = middleware.direct
    middleware.direct = {**saved, ("/_sandbox/health", "GET"): Route("/_sandbox/health", raising)}
    try:
        with sandbox.client() as http:
            answer = http.get("/_sandbox/health")
            unknown = http.get("/_sandbox/no-such-thing")  # the router's own 404
    finally:
        middleware.direct = saved
    assert answer.status_code == status
    if status == 404:
        assert answer.headers["content-type"] == unknown.headers["content-type"]
        assert answer.json().keys() == unknown.json().keys()
        assert answer.json()["error"]["code"] == unknown.json()["error"]["code"]
    elif status == 418:
        assert answer.text == "no tea here"
        assert answer.headers["content-type"].startswith("text/plain")
    else:
        assert answer.content == b""
