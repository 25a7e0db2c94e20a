"""`GET /_sandbox/`: the dashboard (docs/dashboard.md). Apps with their caps and rate-limit
windows, creators as the TikTok app shows them (profile grid, inbox with Post and Discard),
publishes as timelines, the journal with filters, webhook deliveries and URL properties.

The page polls `GET /_sandbox/dashboard/live` (same filters, plus the version it shows), which
answers the clock and, when anything shown changed, the new HTML of the live part: no open
connection is held, so a served sandbox stops at once and the in-process transport never waits.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.api.http import base_url, sandbox
from mock_server.control.dashboard_data import (
    PRIVACY_NAMES,
    BadFilter,
    Filters,
    board,
)
from mock_server.control.flash import clear_flash, read_flash
from mock_server.domain.endpoints import ENDPOINTS
from mock_server.domain.signed_urls import UrlCheck, check
from mock_server.domain.text import plain_decimal
from mock_server.domain.videos import find_cover
from mock_server.pages import avatar_svg
from mock_server.responses import HTMLResponse, JSONResponse
from mock_server.state import SandboxState
from mock_server.templating import render

# The purpose the dashboard's form tokens are issued for (checked by the actions endpoint).
DASHBOARD_FORMS = "dashboard"
LIVE_PATH = "/_sandbox/dashboard/live"
ACTION_NAMES = {
    "post_draft": "Post",
    "discard_draft": "Discard",
    "take_down": "Take down",
    "restore": "Make public",
    "revoke_app": "Disconnect app",
}
_STATIC_TYPES = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}
_STATIC = {
    name: (resources.files("mock_server") / "static" / name).read_bytes() for name in _STATIC_TYPES
}


def _live(state: SandboxState, request: Request) -> tuple[str, dict[str, Any]]:
    """The live part's HTML and the page's context; BadFilter for a query naming nothing."""
    form_token = state.form_tokens.issue(DASHBOARD_FORMS)
    journal = state.journal.entries()
    with state.lock:
        world, now = state.world, state.now()
        filters = Filters.parse(request.query_params, world)
        data = board(world, now, filters, state.covers, journal)
        apps = [(a.client_key, a.name) for a in world.apps.values()]
        first = next(iter(world.apps.values()), None)
    html = render(
        "live.html",
        board=data,
        filters=filters,
        form_token=form_token,
        endpoints=[*ENDPOINTS, "control"],
        apps=apps,
        privacy_names=PRIVACY_NAMES,
        action_names=ACTION_NAMES,
    )
    example = ""
    if first is not None and first.redirect_uris and ":*" not in first.redirect_uris[0]:
        example = (
            f"{base_url(request)}/v2/auth/authorize/?client_key={first.client_key}"
            f"&scope=user.info.basic&redirect_uri={first.redirect_uris[0]}"
            "&state=demo&response_type=code"
        )
    return html, {"filters": filters, "example": example}


def _version(html: str) -> str:
    return hashlib.sha256(html.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _bad_filter_page(exc: BadFilter) -> Response:
    page = render("error.html", title="Dashboard", message=str(exc), back="/_sandbox/")
    return HTMLResponse(page, status_code=400)


async def dashboard(request: Request) -> Response:
    state = sandbox(request)
    try:
        live, context = _live(state, request)
    except BadFilter as exc:
        return _bad_filter_page(exc)
    flash = read_flash(request, state.form_tokens)
    query = request.url.query
    page = render(
        "dashboard.html",
        live=Markup(live),
        version=_version(live),
        live_url=LIVE_PATH + (f"?{query}" if query else ""),
        flash=flash,
        scenario=state.scenario.name,
        seed=state.seed,
        clock=state.clock.isoformat(),
        frozen=state.clock.frozen,
        base=base_url(request),
        **context,
    )
    response = HTMLResponse(page, headers={"cache-control": "no-store"})
    if request.cookies.get("sandbox_flash") is not None:
        clear_flash(response)
    return response


async def dashboard_live(request: Request) -> Response:
    """`GET /_sandbox/dashboard/live?<filters>&version=V`: the clock, and the live part's HTML
    when it is no longer version V (null when it is)."""
    state = sandbox(request)
    try:
        live, _ = _live(state, request)
    except BadFilter as exc:
        body = {"error": {"code": "invalid_request", "message": str(exc)}}
        return JSONResponse(body, status_code=400)
    version = _version(live)
    same = request.query_params.get("version") == version
    return JSONResponse(
        {
            "version": version,
            "clock": state.clock.isoformat(),
            "frozen": state.clock.frozen,
            "html": None if same else live,
        },
        headers={"cache-control": "no-store"},
    )


async def static(request: Request) -> Response:
    """The dashboard's stylesheet and script, served by the sandbox itself (it is offline)."""
    name = request.path_params["name"]
    if name not in _STATIC:
        body = {"error": {"code": "not_found", "message": f"no static file {name!r}"}}
        return JSONResponse(body, status_code=404)
    return Response(
        _STATIC[name], media_type=_STATIC_TYPES[name], headers={"cache-control": "no-cache"}
    )


async def dashboard_cover(request: Request) -> Response:
    """A publish's cover frame for the dashboard: any received video, public or not (the
    Display API's `cover_image_url` shows public ones only)."""
    jpeg = sandbox(request).covers.get(request.path_params["publish_id"])
    if jpeg is None:
        return Response("no such cover", status_code=404, media_type="text/plain")
    return Response(jpeg, media_type="image/jpeg", headers={"cache-control": "max-age=3600"})


def refused_image(verdict: UrlCheck) -> Response:
    """What a CDN answers an expired or forged signed URL: 403 (TikTok's `x-expires` URLs)."""
    expired = verdict is UrlCheck.EXPIRED
    why = "has expired" if expired else "carries a signature that does not match"
    return Response(f"403 Forbidden: this URL {why}", status_code=403, media_type="text/plain")


async def avatar(request: Request) -> Response:
    """An avatar image; a signed URL (`creator_avatar_url`) only until it expires."""
    state = sandbox(request)
    uid = request.path_params["uid"]
    with state.lock:
        verdict = check(
            state.world.ids.url_key, request.url.path, dict(request.query_params), state.now()
        )
    if verdict in (UrlCheck.EXPIRED, UrlCheck.BAD_SIGNATURE):
        return refused_image(verdict)
    size_text = request.query_params.get("size", "")
    # Any size that is not 1-2048 in ASCII digits ("²" is a digit to str.isdigit) is the default.
    asked = plain_decimal(size_text, max_digits=4)
    size = asked if asked is not None and 0 < asked <= 2048 else 168
    with state.lock:
        creator = state.world.creator_by_uid(uid)
    if creator is None:
        return Response("no such avatar", status_code=404, media_type="text/plain")
    return Response(avatar_svg(creator, size), media_type="image/svg+xml")


async def cover(request: Request) -> Response:
    """A video's cover frame (`cover_image_url`, ref 5.1): only under a live signed URL."""
    state = sandbox(request)
    with state.lock:
        verdict = check(
            state.world.ids.url_key, request.url.path, dict(request.query_params), state.now()
        )
        video = find_cover(state.world, request.path_params["video_id"])
    if verdict is not UrlCheck.OK:
        return refused_image(UrlCheck.BAD_SIGNATURE if verdict is UrlCheck.UNSIGNED else verdict)
    jpeg = state.covers.get(video.publish_id) if video is not None else None
    if jpeg is None:
        return Response("no such cover", status_code=404, media_type="text/plain")
    return Response(jpeg, media_type="image/jpeg")


def routes() -> list[Route]:
    return [
        Route("/_sandbox", dashboard, methods=["GET"]),
        Route("/_sandbox/", dashboard, methods=["GET"]),
        Route("/_sandbox/dashboard", dashboard, methods=["GET"]),
        Route(LIVE_PATH, dashboard_live, methods=["GET"]),
        Route("/_sandbox/static/{name}", static, methods=["GET"]),
        Route("/_sandbox/dashboard/covers/{publish_id}.jpeg", dashboard_cover, methods=["GET"]),
        Route("/_sandbox/avatars/{uid}.svg", avatar, methods=["GET"]),
        Route("/_sandbox/covers/{video_id}.jpeg", cover, methods=["GET"]),
    ]
