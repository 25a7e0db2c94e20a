"""`/_sandbox/...`: the control API (documented in docs/control-api.md).

Handlers parse JSON, call the same domain and population functions the scenarios use, and
answer JSON. Errors are `{"error": {"code", "message"}}` with a 4xx status.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.api.http import (
    FORM_TYPE,
    BodyTooLarge,
    base_url,
    note,
    parse_form,
    read_body,
    read_json_object,
    sandbox,
)
from mock_server.control.dashboard import DASHBOARD_FORMS
from mock_server.control.dashboard_data import publish_label
from mock_server.control.flash import back_to_dashboard
from mock_server.control.paging import PageRequestError, next_link, paged
from mock_server.control.render import (
    app_json,
    creator_json,
    delivery_json,
    fault_json,
    grant_json,
    injection_json,
    publish_json,
)
from mock_server.domain import lifecycle, oauth
from mock_server.domain.errors import OAuthError
from mock_server.domain.models import Creator
from mock_server.domain.oauth import AuthorizeError
from mock_server.domain.outcomes import FAIL_REASONS
from mock_server.domain.publishing import STATUSES, Publish
from mock_server.domain.scopes import parse_scope_list
from mock_server.domain.settings import SettingError
from mock_server.domain.text import plain_decimal, quoted
from mock_server.forms import FIELD
from mock_server.openapi import openapi_document
from mock_server.population import (
    add_app,
    add_creator,
    add_fault,
    injection_from,
    update_app,
    update_creator,
)
from mock_server.responses import JSONResponse
from mock_server.runtime import replay
from mock_server.runtime.clock import parse_instant
from mock_server.scenario import ScenarioError, builtin_names, load_scenario, resolve_confined
from mock_server.state import SandboxState

T = TypeVar("T")


class ControlError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_json(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


Handler = Callable[[Request], Awaitable[Any]]


def control(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Adapt a handler returning JSON-able data; map the sandbox's errors to 4xx answers."""

    async def endpoint(request: Request) -> Response:
        try:
            result = await handler(request)
        except ControlError as exc:
            note(request, error_code=exc.code)
            return error_json(exc.status, exc.code, exc.message)
        except BodyTooLarge:
            note(request, error_code="body_too_large")
            return error_json(413, "body_too_large", "the request body is over the size limit")
        except (SettingError, ScenarioError, ValueError) as exc:
            note(request, error_code="invalid_request")
            return error_json(400, "invalid_request", str(exc))
        return result if isinstance(result, Response) else JSONResponse(result)

    return endpoint


async def body(request: Request) -> dict[str, Any]:
    return await read_json_object(request, sandbox(request).options.max_body_bytes)


async def body_or_dashboard_form(request: Request) -> tuple[dict[str, Any], bool]:
    """A JSON body, or a dashboard form (whose form token must be the dashboard's); and
    whether it was the form (then the answer is a redirect back to the dashboard)."""
    state = sandbox(request)
    if not request.headers.get("content-type", "").startswith(FORM_TYPE):
        return await body(request), False
    data: dict[str, Any] = dict(parse_form(await read_body(request, state.options.max_body_bytes)))
    if not state.form_tokens.valid(data.pop(FIELD, None), DASHBOARD_FORMS):
        raise ControlError(
            403,
            "csrf_token_invalid",
            "this form did not come from the dashboard (or the sandbox restarted since it "
            "was loaded): reload the dashboard and try again",
        )
    return data, True


def keys(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    extra = sorted(set(data) - set(allowed))
    if extra:
        raise ControlError(
            400,
            "invalid_request",
            f"unknown field(s) {', '.join(extra)}; expected {', '.join(allowed)}",
        )


def find_app(state: SandboxState, client_key: str) -> Any:
    app = state.world.apps.get(client_key)
    if app is None:
        raise ControlError(404, "not_found", f"no app with client_key {quoted(client_key)}")
    return app


def _creator(state: SandboxState, username: str) -> Creator:
    creator = state.world.creators.get(username)
    if creator is None:
        raise ControlError(404, "not_found", f"no creator with username {quoted(username)}")
    return creator


def _client_key_param(state: SandboxState, request: Request) -> str | None:
    key = request.query_params.get("client_key")
    if key is not None:
        find_app(state, key)
    return key


# -- health, reset, seed, scenarios ---------------------------------------------------------


async def health(request: Request) -> dict[str, Any]:
    return _health(sandbox(request))


def _health(state: SandboxState) -> dict[str, Any]:
    return {
        "status": "ok",
        "scenario": state.scenario.name,
        "seed": state.seed,
        "now": state.clock.isoformat(),
        "frozen": state.clock.frozen,
    }


async def openapi(request: Request) -> dict[str, Any]:
    """The OpenAPI 3.1 document of TikTok's endpoints, served from this base URL."""
    return openapi_document(base_url(request))


async def reset(request: Request) -> dict[str, Any]:
    return _reset(request, await body(request))


def _reset(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    state = sandbox(request)
    keys(data, ("scenario", "seed"))
    seed = data.get("seed")
    if seed is not None and (type(seed) is not int or seed < 0):
        raise ControlError(
            400, "invalid_request", f"seed: expected a non-negative integer, got {quoted(seed)}"
        )
    scenario = data.get("scenario")
    if scenario is not None and not isinstance(scenario, str):
        raise ControlError(
            400, "invalid_request", f"scenario: expected a name or path, got {quoted(scenario)}"
        )
    try:
        # Over HTTP only built-in names and files under the server's scenario directories load,
        # and what went wrong is told without quoting the file.
        loaded = (
            load_scenario(resolve_confined(scenario, state.options.scenario_dirs))
            if scenario
            else None
        )
        state.reset(scenario=loaded, seed=seed)
    except ScenarioError as exc:
        raise ControlError(400, "invalid_request", exc.redacted) from exc
    return _health(state)


async def seed(request: Request) -> dict[str, Any]:
    data = await body(request)
    keys(data, ("seed",))
    if "seed" not in data:
        raise ControlError(400, "invalid_request", "seed: required")
    return _reset(request, data)


async def scenarios(request: Request) -> dict[str, Any]:
    items = []
    for name in builtin_names():
        s = load_scenario(name)
        items.append({"name": name, "description": s.description, "reproduces": s.reproduces})
    return {"scenarios": items}


# -- apps and creators ----------------------------------------------------------------------


def _page(
    request: Request,
    items: Iterable[T],
    key: Callable[[T], str],
    render: Callable[[T], dict[str, Any]],
    field: str,
    keep: Callable[[T], bool] | None = None,
) -> dict[str, Any]:
    """A listing's page (control/paging.py); a bad `limit` or `cursor` is a 400."""
    try:
        return paged(request, items, key, render, field, keep)
    except PageRequestError as exc:
        raise ControlError(400, "invalid_request", str(exc)) from exc


async def list_apps(request: Request) -> dict[str, Any]:
    state = sandbox(request)
    with state.lock:
        now = state.now()
        return _page(
            request,
            state.world.apps.values(),
            lambda a: a.client_key,
            lambda a: app_json(a, now),
            "apps",
        )


async def create_app(request: Request) -> Response:
    """Create an app, and optionally new creators with it, all or nothing."""
    state = sandbox(request)
    data = await body(request)
    creators = data.pop("creators", [])
    if not isinstance(creators, list):
        raise ControlError(400, "invalid_request", "creators: expected a list of creator settings")
    with state.lock, state.all_or_nothing():
        now = state.now()
        world = state.world
        added: list[Creator] = []
        try:
            for i, settings in enumerate(creators):
                added.append(add_creator(world, state.faker, settings, f"creators[{i}]", now))
            app = add_app(world, data, "app")
        except Exception:
            for creator in added:
                world.remove_creator(creator.username)
            raise
        payload = {
            "app": app_json(app, now),
            "creators": [creator_json(world, c, app.client_key, now) for c in added],
        }
    return JSONResponse(payload, status_code=201)


async def get_app(request: Request) -> dict[str, Any]:
    state = sandbox(request)
    with state.lock:
        return app_json(find_app(state, request.path_params["client_key"]), state.now())


async def patch_app(request: Request) -> dict[str, Any]:
    state = sandbox(request)
    data = await body(request)
    with state.lock:
        app = find_app(state, request.path_params["client_key"])
        update_app(state.world, app, data, "app")
        return app_json(app, state.now())


async def list_creators(request: Request) -> dict[str, Any]:
    state = sandbox(request)
    with state.lock:
        key = _client_key_param(state, request)
        now = state.now()
        world = state.world
        return _page(
            request,
            world.creators.values(),
            lambda c: c.username,
            lambda c: creator_json(world, c, key, now),
            "creators",
        )


async def create_creator(request: Request) -> Response:
    state = sandbox(request)
    data = await body(request)
    with state.lock, state.all_or_nothing():
        now = state.now()
        creator = add_creator(state.world, state.faker, data, "creator", now)
        return JSONResponse(creator_json(state.world, creator, None, now), status_code=201)


async def get_creator(request: Request) -> dict[str, Any]:
    state = sandbox(request)
    with state.lock:
        key = _client_key_param(state, request)
        creator = _creator(state, request.path_params["username"])
        return creator_json(state.world, creator, key, state.now())


async def patch_creator(request: Request) -> dict[str, Any]:
    state = sandbox(request)
    data = await body(request)
    with state.lock:
        creator = _creator(state, request.path_params["username"])
        now = state.now()
        update_creator(creator, data, "creator", now)
        return creator_json(state.world, creator, None, now)


async def list_grants(request: Request) -> dict[str, Any]:
    state = sandbox(request)
    with state.lock:
        key = _client_key_param(state, request)
        now = state.now()
        return _page(
            request,
            state.world.grants.values(),
            lambda g: g.grant_id,
            lambda g: grant_json(state.world, g, now),
            "grants",
            None if key is None else lambda g: g.client_key == key,
        )


async def list_publishes(request: Request) -> dict[str, Any]:
    """Newest first; filter by `client_key`, `creator` (username) and `status`."""
    state = sandbox(request)
    with state.lock:
        key = _client_key_param(state, request)
        creator = request.query_params.get("creator")
        uid = _creator(state, creator).uid if creator else None
        status = request.query_params.get("status")
        if status is not None and status not in STATUSES:
            raise ControlError(
                400,
                "invalid_request",
                f"status: expected one of {', '.join(STATUSES)}, got {quoted(status)}",
            )
        world = state.world
        base = base_url(request)
        return _page(
            request,
            world.iter_publishes(uid, newest_first=True),
            lambda p: p.publish_id,
            lambda p: publish_json(world, p, base),
            "publishes",
            lambda p: (
                (key is None or p.client_key == key) and (status is None or p.status == status)
            ),
        )


async def get_publish(request: Request) -> dict[str, Any]:
    state = sandbox(request)
    publish_id = request.path_params["publish_id"]
    with state.lock:
        publish = state.world.publishes.get(publish_id)
        if publish is None:
            raise ControlError(404, "not_found", f"no publish with publish_id {quoted(publish_id)}")
        return publish_json(state.world, publish, base_url(request))


_ACTIONS = ("post_draft", "discard_draft", "take_down", "restore", "revoke_app", "fail")


def _apply_action(state: SandboxState, publish: Publish, data: dict[str, Any]) -> None:
    """Creator-side events and injected outcomes (issue-fixed: action names)."""
    world, now = state.world, state.now()
    action = data.get("action")
    if action == "post_draft":
        level = data.get("privacy_level")
        if level is not None and not isinstance(level, str):
            raise ControlError(400, "invalid_request", "privacy_level: expected a string")
        lifecycle.post_draft(world, publish, level, now)
    elif action == "discard_draft":
        lifecycle.discard_draft(publish, now)
    elif action == "take_down":
        lifecycle.take_down(world, publish, now)
    elif action == "restore":
        lifecycle.restore(world, publish, now)
    elif action == "revoke_app":
        # ref 14.3: reason 1, the user disconnected the app in the TikTok app.
        oauth.revoke_grants_of(world, publish.client_key, publish.creator_uid, now)
        lifecycle.auth_removed(world, publish.client_key, publish.creator_uid, 1, now)
    elif action == "fail":
        reason = data.get("fail_reason")
        if reason not in FAIL_REASONS:
            raise ControlError(
                400, "invalid_request", "fail_reason: expected one of " + ", ".join(FAIL_REASONS)
            )
        lifecycle.fail(world, publish, reason, now)
    else:
        raise ControlError(400, "invalid_request", "action: expected one of " + ", ".join(_ACTIONS))


def _action_done(state: SandboxState, publish: Publish, action: str) -> str:
    """What the dashboard says an action did, in a sentence."""
    creator = state.world.creator_by_uid(publish.creator_uid)
    who = f"@{creator.username}" if creator else "the creator"
    what = f"{publish_label(publish)} ({publish.publish_id})"
    if action == "post_draft":
        return f"{who} posted the draft {what} as {publish.privacy_level}: {publish.status}."
    if action == "discard_draft":
        return f"{who} discarded the draft {what}: it left the inbox and can no longer be posted."
    if action == "take_down":
        return f"{what} was taken down: it is no longer publicly available."
    if action == "restore":
        return f"{what} is public again (post ids {', '.join(publish.post_ids)})."
    if action == "revoke_app":
        app = state.world.apps.get(publish.client_key)
        name = app.name if app else publish.client_key
        return f"{who} disconnected {name}: its grants are revoked; {what} is {publish.status}."
    return f"{what} is {publish.status} ({publish.fail_reason})."


def _act(request: Request, state: SandboxState, data: dict[str, Any]) -> Publish:
    keys(data, ("action", "fail_reason", "privacy_level"))
    publish_id = request.path_params["publish_id"]
    publish = state.world.publishes.get(publish_id)
    if publish is None:
        raise ControlError(404, "not_found", f"no publish with publish_id {quoted(publish_id)}")
    note(request, client_key=publish.client_key, rule=str(data.get("action")))
    try:
        _apply_action(state, publish, data)
    except lifecycle.IllegalTransition as exc:
        raise ControlError(409, "conflict", str(exc)) from exc
    return publish


async def publish_action(request: Request) -> Any:
    """`POST /_sandbox/publishes/{publish_id}/actions`; a form post (the dashboard's buttons)
    is answered with a redirect back to the dashboard saying what happened."""
    state = sandbox(request)
    data, from_form = await body_or_dashboard_form(request)
    back = data.pop("back", None) if from_form else None
    with state.lock:
        if not from_form:
            return publish_json(state.world, _act(request, state, data), base_url(request))
        try:
            publish = _act(request, state, data)
        except ControlError as exc:
            note(request, error_code=exc.code)
            return back_to_dashboard(state.form_tokens, back, "error", exc.message)
        done = _action_done(state, publish, str(data["action"]))
    return back_to_dashboard(state.form_tokens, back, "ok", done)


async def webhooks(request: Request) -> dict[str, Any]:
    """The delivery log: every attempt with its answer, newest delivery first."""
    state = sandbox(request)
    with state.lock:
        key = _client_key_param(state, request)
        event = request.query_params.get("event")
        return _page(
            request,
            reversed(state.world.outbox.in_order(key)),
            lambda d: d.delivery_id,
            delivery_json,
            "deliveries",
            None if event is None else lambda d: d.event == event,
        )


async def dispatch(request: Request) -> dict[str, Any]:
    """Send the deliveries due now (a server also does this on its own every moment)."""
    state = sandbox(request)
    attempted = await anyio.to_thread.run_sync(state.dispatch_webhooks)
    return {"attempted": attempted}


async def outcomes(request: Request) -> Any:
    """Injected processing outcomes: the next (or every) matching publish fails so."""
    state = sandbox(request)
    if request.method == "GET":
        with state.lock:
            return {"outcomes": [injection_json(state.world, i) for i in state.world.injections]}
    if request.method == "DELETE":
        with state.lock:
            state.world.injections.clear()
        return {"outcomes": []}
    data = await body(request)
    with state.lock:
        injection = injection_from(data, state.world, "outcome")
        state.world.injections.append(injection)
        return JSONResponse(injection_json(state.world, injection), status_code=201)


async def settle(request: Request) -> dict[str, Any]:
    """Wait until every pull under way has finished for real (bounded), then run due steps."""
    state = sandbox(request)
    data = await body(request)
    keys(data, ("timeout_seconds",))
    timeout = data.get("timeout_seconds", 30)
    if type(timeout) not in (int, float) or not 0 <= timeout <= 600:
        raise ControlError(400, "invalid_request", "timeout_seconds: expected 0 to 600")
    settled = await anyio.to_thread.run_sync(state.downloads.settle, float(timeout))
    state.tick()
    return {"settled": settled, "in_flight": state.downloads.in_flight}


async def faults(request: Request) -> Any:
    """Fault rules: list, add (201), or remove all."""
    state = sandbox(request)
    if request.method == "POST":
        data = await body(request)
        with state.lock:
            rule = add_fault(state.world, data, "fault")
            return JSONResponse(fault_json(state.world, rule), status_code=201)
    with state.lock:
        if request.method == "DELETE":
            state.world.faults.clear()
        return {"faults": [fault_json(state.world, r) for r in state.world.faults]}


async def delete_fault(request: Request) -> dict[str, Any]:
    state = sandbox(request)
    rule_id = request.path_params["fault_id"]
    with state.lock:
        kept = [r for r in state.world.faults if r.rule_id != rule_id]
        if len(kept) == len(state.world.faults):
            raise ControlError(404, "not_found", f"no fault rule {quoted(rule_id)}")
        state.world.faults[:] = kept
        return {"faults": [fault_json(state.world, r) for r in kept]}


# -- clock ----------------------------------------------------------------------------------


def clock_json(state: SandboxState) -> dict[str, Any]:
    return {"now": state.clock.isoformat(), "frozen": state.clock.frozen}


async def get_clock(request: Request) -> dict[str, Any]:
    return clock_json(sandbox(request))


async def post_clock(request: Request) -> dict[str, Any]:
    """Apply `set`, then `freeze`, then `advance_seconds`, whichever are given."""
    state = sandbox(request)
    data = await body(request)
    keys(data, ("advance_seconds", "set", "freeze"))
    advance = data.get("advance_seconds")
    if advance is not None and (
        type(advance) not in (int, float) or advance < 0 or advance != advance
    ):
        raise ControlError(
            400,
            "invalid_request",
            f"advance_seconds: expected a non-negative number, got {quoted(advance)}",
        )
    freeze = data.get("freeze")
    if freeze is not None and type(freeze) is not bool:
        raise ControlError(
            400, "invalid_request", f"freeze: expected true or false, got {quoted(freeze)}"
        )
    target = None
    if data.get("set") is not None:
        if not isinstance(data["set"], str):
            raise ControlError(400, "invalid_request", "set: expected an ISO 8601 string")
        target = parse_instant(data["set"])
    with state.lock:
        if freeze is True:  # before `set`: frozen at the instant set, not the µs after it
            state.clock.freeze()
        if target is not None:
            state.clock.set(target)
        if freeze is False:
            state.clock.unfreeze()
        if advance:
            state.clock.advance(advance)
        return clock_json(state)


# -- journal --------------------------------------------------------------------------------


async def journal(request: Request) -> Any:
    state = sandbox(request)
    if request.method == "DELETE":
        state.journal.clear()
        return {"entries": []}
    params = request.query_params
    limit_text = params.get("limit", "100")
    limit = plain_decimal(limit_text)
    if limit is None:
        raise ControlError(
            400, "invalid_request", f"limit: expected a whole number, got {quoted(limit_text)}"
        )
    # Pages as the other listings' (control/paging.py), the cursor an entry's number: the
    # next page is what the journal still holds below it, whatever was pushed out meanwhile.
    cursor_text = params.get("cursor")
    cursor = None if cursor_text is None else plain_decimal(cursor_text)
    if cursor_text is not None and cursor is None:
        raise ControlError(
            400,
            "invalid_request",
            f"cursor: expected the cursor of a journal page's next link, got {quoted(cursor_text)}",
        )
    entries = state.journal.entries(
        client_key=params.get("client_key"),
        path=params.get("path"),
        limit=limit + 1,
        before=cursor,
    )
    answer: dict[str, Any] = {
        "entries": [e.to_json() for e in entries[:limit]],
        "capacity": state.journal.capacity,
    }
    if limit and len(entries) > limit:
        answer["next"] = next_link(request, str(entries[limit - 1].seq))
    return answer


async def journal_export(request: Request) -> Response:
    """The journal as a pytest file replaying this run against a fresh sandbox."""
    state = sandbox(request)
    with state.lock:
        key = _client_key_param(state, request)
        try:
            text = replay.export(state, key)
        except replay.NotReplayable as exc:
            raise ControlError(409, "not_replayable", str(exc)) from exc
    stem = re.sub(r"[^A-Za-z0-9]+", "_", f"{state.scenario.name}_{key or 'all'}").strip("_")
    name = f"test_replay_{stem or 'journal'}.py"
    return Response(
        text,
        media_type="text/x-python",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- authorization without a browser --------------------------------------------------------

_AUTHORIZE_FIELDS = (
    "client_key",
    "username",
    "open_id",
    "scopes",
    "redirect_uri",
    "code_challenge",
    "state",
)


def _authorize(state: SandboxState, data: dict[str, Any], *, exchange: bool = False) -> Any:
    """Issue the code the consent page would issue for (app, creator, scopes); with
    `exchange`, exchange it too (PKCE done on the app's behalf) and return the token grant."""
    keys(data, _AUTHORIZE_FIELDS)
    for key in ("client_key", "username", "open_id", "redirect_uri", "code_challenge", "state"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ControlError(400, "invalid_request", f"{key}: expected a string")
    scopes = data.get("scopes")
    if isinstance(scopes, str):
        scopes = parse_scope_list(scopes)
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ControlError(400, "invalid_request", "scopes: expected a list of scope names")
    app = find_app(state, data.get("client_key") or "")
    if data.get("username"):
        creator = _creator(state, data["username"])
    elif data.get("open_id"):
        found = state.world.creator_by_open_id(app.client_key, data["open_id"])
        if found is None:
            message = f"no creator with open_id {quoted(data['open_id'])}"
            raise ControlError(404, "not_found", message)
        creator = found
    else:
        raise ControlError(400, "invalid_request", "username or open_id: one is required")
    where = {"redirect_uri": data.get("redirect_uri") or None, "state": data.get("state")}
    try:
        if exchange:
            return oauth.tokens_headless(state.world, app, creator, scopes, state.now(), **where)
        return oauth.authorize_headless(
            state.world,
            app,
            creator,
            scopes,
            state.now(),
            code_challenge=data.get("code_challenge"),
            **where,
        )
    except AuthorizeError as exc:
        status = 403 if exc.error == "access_denied" else 400
        err = {"code": exc.error, "message": exc.description, "rule": exc.rule}
        if exc.error_type:
            err["error_type"] = exc.error_type
        raise _Refused(status, err) from exc


class _Refused(ControlError):
    def __init__(self, status: int, error: dict[str, str]) -> None:
        super().__init__(status, error["code"], error["message"])
        self.error = error


async def authorize(request: Request) -> Any:
    state = sandbox(request)
    data = await body(request)
    if isinstance(data.get("client_key"), str):
        note(request, client_key=data["client_key"])
    try:
        with state.lock:
            checked, code = _authorize(state, data)
    except _Refused as exc:
        note(request, error_code=exc.code, rule=exc.error["rule"])
        return JSONResponse({"error": exc.error}, status_code=exc.status)
    note(request, client_key=checked.app.client_key)
    return {
        "code": code.code,
        "redirect_uri": checked.redirect_uri,
        "scopes": list(code.scopes),
        "state": checked.state,
    }


async def tokens(request: Request) -> Any:
    """The token pair the app would get by exchanging the code (same rules, one call)."""
    state = sandbox(request)
    data = await body(request)
    if data.get("code_challenge"):
        raise ControlError(
            400,
            "invalid_request",
            "code_challenge: not used here (the sandbox does PKCE itself for apps that need it)",
        )
    try:
        with state.lock:
            checked, pair = _authorize(state, data, exchange=True)
            result = pair.body(state.now())
    except _Refused as exc:
        note(request, error_code=exc.code, rule=exc.error["rule"])
        return JSONResponse({"error": exc.error}, status_code=exc.status)
    except OAuthError as exc:  # pragma: no cover - a fresh code always exchanges
        raise ControlError(500, exc.error, exc.description) from exc
    note(request, client_key=checked.app.client_key)
    return result


def routes() -> list[Route]:
    def r(path: str, handler: Handler, methods: list[str]) -> Route:
        return Route(path, control(handler), methods=methods)

    return [
        r("/_sandbox/health", health, ["GET"]),
        r("/_sandbox/openapi.json", openapi, ["GET"]),
        r("/_sandbox/reset", reset, ["POST"]),
        r("/_sandbox/seed", seed, ["POST"]),
        r("/_sandbox/scenarios", scenarios, ["GET"]),
        r("/_sandbox/apps", list_apps, ["GET"]),
        r("/_sandbox/apps", create_app, ["POST"]),
        r("/_sandbox/apps/{client_key}", get_app, ["GET"]),
        r("/_sandbox/apps/{client_key}", patch_app, ["PATCH"]),
        r("/_sandbox/creators", list_creators, ["GET"]),
        r("/_sandbox/creators", create_creator, ["POST"]),
        r("/_sandbox/creators/{username}", get_creator, ["GET"]),
        r("/_sandbox/creators/{username}", patch_creator, ["PATCH"]),
        r("/_sandbox/grants", list_grants, ["GET"]),
        r("/_sandbox/publishes", list_publishes, ["GET"]),
        r("/_sandbox/publishes/{publish_id}", get_publish, ["GET"]),
        r("/_sandbox/publishes/{publish_id}/actions", publish_action, ["POST"]),
        r("/_sandbox/webhooks", webhooks, ["GET"]),
        r("/_sandbox/webhooks/dispatch", dispatch, ["POST"]),
        r("/_sandbox/outcomes", outcomes, ["GET", "POST", "DELETE"]),
        r("/_sandbox/settle", settle, ["POST"]),
        r("/_sandbox/faults", faults, ["GET", "POST", "DELETE"]),
        r("/_sandbox/faults/{fault_id}", delete_fault, ["DELETE"]),
        r("/_sandbox/clock", get_clock, ["GET"]),
        r("/_sandbox/clock", post_clock, ["POST"]),
        r("/_sandbox/journal", journal, ["GET", "DELETE"]),
        r("/_sandbox/journal/export", journal_export, ["GET"]),
        r("/_sandbox/authorize", authorize, ["POST"]),
        r("/_sandbox/tokens", tokens, ["POST"]),
    ]
