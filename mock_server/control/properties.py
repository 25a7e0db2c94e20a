"""`/_sandbox/apps/{client_key}/url_properties`: an app's URL properties (ref 10.4), the
sandbox's version of TikTok's "URL properties" page (docs/control-api.md).

    GET    .../url_properties                  the app's properties, verified or not
    POST   .../url_properties                  {"type": "domain" | "url_prefix", "value": ...}
    POST   .../url_properties/{id}/verify      fetch the signature file, or {"dns_txt": [...]}
    DELETE .../url_properties/{id}

The add and verify calls also take the dashboard's forms, answered with a redirect back.
"""

from __future__ import annotations

import io
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.api.http import note, sandbox
from mock_server.control.flash import back_to_dashboard
from mock_server.control.routes import (
    ControlError,
    Handler,
    body_or_dashboard_form,
    control,
    find_app,
    keys,
)
from mock_server.domain import properties
from mock_server.domain.properties import (
    DOMAIN_KIND,
    MAX_SIGNATURE_FILE_BYTES,
    PropertyProblem,
    UrlProperty,
)
from mock_server.responses import JSONResponse
from mock_server.runtime.fetcher import FetchError, TooLarge
from mock_server.state import SandboxState

BASE = "/_sandbox/apps/{client_key}/url_properties"


def _problem(exc: PropertyProblem) -> ControlError:
    return ControlError(exc.status, exc.code, str(exc))


def _back_to_dashboard(state: SandboxState, back: object, kind: str, text: str) -> Response:
    return back_to_dashboard(state.form_tokens, back, kind, text, "/_sandbox/#url-properties")


async def list_properties(request: Request) -> dict[str, Any]:
    state = sandbox(request)
    with state.lock:
        app = find_app(state, request.path_params["client_key"])
        return {"url_properties": properties.views(app)}


async def add_property(request: Request) -> Response:
    state = sandbox(request)
    data, from_form = await body_or_dashboard_form(request)
    back = data.pop("back", None) if from_form else None
    try:
        return _add(request, state, data, from_form, back)
    except ControlError as exc:  # e.g. the app went with a reset since the page was shown
        if not from_form:
            raise
        note(request, error_code=exc.code)
        return _back_to_dashboard(state, back, "error", f"Not added: {exc.message}")


def _add(
    request: Request, state: SandboxState, data: dict[str, Any], from_form: bool, back: object
) -> Response:
    keys(data, ("type", "value"))
    with state.lock, state.all_or_nothing():
        app = find_app(state, request.path_params["client_key"])
        note(request, client_key=app.client_key)
        try:
            prop = properties.add(
                app,
                data.get("type"),
                data.get("value"),
                state.world.ids.verification_token(),
                state.now(),
            )
        except PropertyProblem as exc:
            if not from_form:
                raise _problem(exc) from exc
            note(request, error_code=exc.code)
            return _back_to_dashboard(state, back, "error", f"Not added: {exc}")
        view = properties.view(app, prop)
    if from_form:
        done = f"Added {prop.kind.replace('_', ' ')} {prop.value} to {app.name}; verify it next."
        return _back_to_dashboard(state, back, "ok", done)
    return JSONResponse(view, status_code=201)


async def delete_property(request: Request) -> dict[str, Any]:
    state = sandbox(request)
    with state.lock:
        app = find_app(state, request.path_params["client_key"])
        note(request, client_key=app.client_key)
        try:
            properties.remove(app, request.path_params["property_id"])
        except PropertyProblem as exc:
            raise _problem(exc) from exc
        return {"url_properties": properties.views(app)}


def _pending(state: SandboxState, request: Request) -> UrlProperty:
    app = find_app(state, request.path_params["client_key"])
    prop = properties.find(app, request.path_params["property_id"])
    if prop is None:
        pid = request.path_params["property_id"]
        raise ControlError(
            404, "not_found", f"no URL property {pid!r} added to {app.client_key} to verify"
        )
    return prop


async def verify_property(request: Request) -> Response:
    """A URL prefix: GET `<prefix>tiktok<token>.txt` (no redirects) and find the signature
    line. A domain: the TXT records the body states (`dns_txt`) must include the signature,
    since the sandbox cannot look them up offline."""
    state = sandbox(request)
    data, from_form = await body_or_dashboard_form(request)
    back = data.pop("back", None) if from_form else None
    try:
        return await _verify(request, state, data, from_form, back)
    except ControlError as exc:  # e.g. the property went with a reset since the page was shown
        if not from_form:
            raise
        note(request, error_code=exc.code)
        return _back_to_dashboard(state, back, "error", f"Not verified: {exc.message}")


async def _verify(
    request: Request, state: SandboxState, data: dict[str, Any], from_form: bool, back: object
) -> Response:
    keys(data, ("dns_txt",))
    with state.lock:
        prop = _pending(state, request)
        note(request, client_key=request.path_params["client_key"])
    if prop.kind == DOMAIN_KIND:
        problem = properties.txt_proves(prop, _txt_records(data.get("dns_txt")))
    else:
        problem = await anyio.to_thread.run_sync(_fetch_and_check, state, prop)
    with state.lock:
        app = find_app(state, request.path_params["client_key"])
        if problem is None and properties.find(app, prop.property_id) is prop:
            properties.mark_verified(app, prop, state.now())
        view = properties.view(app, prop)
    if from_form:
        if problem is not None:
            note(request, error_code="verification_failed")
            return _back_to_dashboard(state, back, "error", f"Not verified: {problem}")
        return _back_to_dashboard(state, back, "ok", f"Verified {prop.value}.")
    if problem is not None:
        note(request, error_code="verification_failed")
        body = {"error": {"code": "verification_failed", "message": problem}, "property": view}
        return JSONResponse(body, status_code=422)
    return JSONResponse(view)


def _txt_records(value: object) -> list[str]:
    """`dns_txt`: a list of strings, or one string (a form's text box: one record a line)."""
    if isinstance(value, str):
        return [line for line in value.splitlines() if line.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ControlError(
        400,
        "invalid_request",
        "dns_txt: the TXT records the domain serves, as a list of strings (the sandbox "
        'cannot query DNS offline), e.g. ["tiktok-developers-site-verification=..."]',
    )


def _fetch_and_check(state: SandboxState, prop: UrlProperty) -> str | None:
    """Fetch the prefix's signature file with the sandbox's URL fetcher (the same rules as
    pulls: no redirects, loopback only when the environment says so)."""
    url = properties.signature_file_url(prop)
    sink = io.BytesIO()
    try:
        state.fetcher.fetch(url, sink, MAX_SIGNATURE_FILE_BYTES, lambda received: None)
    except TooLarge:
        return f"{url} is larger than a signature file ({MAX_SIGNATURE_FILE_BYTES} bytes)"
    except FetchError as exc:
        return f"could not fetch the signature file: {exc}"
    return properties.file_proves(prop, sink.getvalue())


def routes() -> list[Route]:
    def r(path: str, handler: Handler, methods: list[str]) -> Route:
        return Route(BASE + path, control(handler), methods=methods)

    return [
        r("", list_properties, ["GET"]),
        r("", add_property, ["POST"]),
        r("/{property_id}", delete_property, ["DELETE"]),
        r("/{property_id}/verify", verify_property, ["POST"]),
    ]
