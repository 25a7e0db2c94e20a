"""Starlette's router, with the routes that could answer each fixed path looked up once.

Starlette tries every route in order for every request; the sandbox has dozens, and the ones
apps call most (TikTok's endpoints) are plain paths. `IndexedRouter` keeps, for each plain
path, the routes (in their order) whose pattern matches it, and tries only those: the first
full match is the one Starlette's loop would find. Anything else (no full match among them, a
path with parameters, a root path) goes through Starlette's loop unchanged, so 404s, 405s and
path parameters behave exactly as before.

`IndexedRouter.direct` goes one step further, for the sandbox's middleware: the endpoint
function that a plain path and a method lead to, which the middleware calls itself, as
Starlette's `request_response` would, without the layers between (the exception middleware,
the router, the route, each wrapping `send` again). Those layers only act on
`HTTPException`, which the sandbox's endpoints do not raise (an unknown path or a wrong method
never reaches an endpoint); should one, the middleware answers it as they would. Any other
exception goes on to the outermost handler (`app.internal_error`) as before.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route, Router, request_response
from starlette.types import Receive, Scope, Send


class IndexedRouter(Router):
    def __init__(self, routes: Sequence[BaseRoute], *, redirect_slashes: bool) -> None:
        super().__init__(routes=list(routes), redirect_slashes=redirect_slashes)
        self.candidates = {
            path: tuple(self.routes[i] for i in positions)
            for path, positions in _index(self.routes).items()
        }
        self.direct = _direct(self.candidates)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            for route in self.candidates.get(scope["path"], ()):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)


def _direct(candidates: dict[str, tuple[BaseRoute, ...]]) -> dict[tuple[str, str], Route]:
    """(plain path, method) -> the route that takes such a request, when that is certain from
    the path and method alone and the route's app is Starlette's plain wrapper of an async
    function (no route middleware)."""
    found: dict[tuple[str, str], Route] = {}
    for path, routes in candidates.items():
        taken: set[str] = set()  # methods an earlier route matches fully
        for route in routes:
            if not isinstance(route, Route) or route.methods is None:
                break  # whether it matches depends on more than the path and method
            plain = (
                not route.param_convertors
                and route.path == path
                and inspect.iscoroutinefunction(route.endpoint)
                and getattr(route.app, "__qualname__", None) == _PLAIN_APP
            )
            for method in route.methods - taken:
                taken.add(method)
                if plain:
                    found[path, method] = route
    return found


async def _probe(request: Request) -> Response:  # pragma: no cover - never called
    raise NotImplementedError


# What Starlette's `request_response` makes of an endpoint function.
_PLAIN_APP = request_response(_probe).__qualname__


# route shape (kind and path of each route, in order) -> plain path -> positions of the routes
# that may match it. Every app of the sandbox has routes of the same shape, so this is worked
# out once, not for each Sandbox().
_INDEXES: dict[tuple[tuple[type, str | None], ...], dict[str, tuple[int, ...]]] = {}


def _index(routes: Sequence[BaseRoute]) -> dict[str, tuple[int, ...]]:
    shape = tuple((type(r), getattr(r, "path", None)) for r in routes)
    index = _INDEXES.get(shape)
    if index is None:
        index = {}
        plain = [r.path for r in routes if isinstance(r, Route) and not r.param_convertors]
        for path in plain:
            if path not in index:
                index[path] = tuple(i for i, r in enumerate(routes) if _may_match(r, path))
        if len(_INDEXES) >= 16:  # a handful of shapes in practice; never grow without bound
            _INDEXES.clear()
        _INDEXES[shape] = index
    return index


def _may_match(route: BaseRoute, path: str) -> bool:
    """Whether `route` could take a request for `path` (any route whose match does not depend
    on the path alone is kept, and asked at request time)."""
    if isinstance(route, Route):
        return route.path_regex.match(path) is not None
    return True
