"""What every TikTok endpoint shares: body reading with a limit, bearer tokens, the `{data,
error}` envelope, the flat OAuth error, and notes for the journal."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import anyio
from starlette.datastructures import URL
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mock_server.api import jsontext
from mock_server.domain.endpoints import READS_ONLY, family_of
from mock_server.domain.errors import (
    API_ERRORS,
    MALFORMED_PARAMETERS,
    OAUTH_ERRORS,
    ApiError,
    OAuthError,
)
from mock_server.domain.faults import UPLOAD_ACTIONS, FaultRule, fire
from mock_server.domain.hosts import upload_origin
from mock_server.domain.oauth import Session, require_scope, resolve_access_token, token_holder
from mock_server.domain.ratelimit import check_rate
from mock_server.domain.scopes import ENDPOINT_SCOPES
from mock_server.domain.text import plain_decimal
from mock_server.logs import AnswerCutShort
from mock_server.middleware import STATE_KEY
from mock_server.responses import JSONResponse, LoggedJSON
from mock_server.state import SandboxState


class BodyTooLarge(Exception):
    pass


def sandbox(request: Request) -> SandboxState:
    state: SandboxState | None = request.scope.get(STATE_KEY)
    if state is None:  # not through the sandbox's middleware
        state = request.app.state.sandbox
    return state


def note(request: Request, **fields: object) -> None:
    """Tell the journal about this request (client_key, creator, error_code, rule, media)."""
    notes = request.scope.setdefault("sandbox_notes", {})
    for key, value in fields.items():
        if value is not None:
            notes[key] = value


async def authorized(request: Request, endpoint: str) -> Session:
    """Who is calling `endpoint`: the token, then the endpoint's scope, then its rate limit
    (DESIGN: request flow), then the fault rules that fire on the request."""
    state = sandbox(request)
    with state.lock:
        now = state.now()
        session = session_for(request, state, now)
        if endpoint not in READS_ONLY:  # its handler may change them (domain.changes)
            state.world.note_session(session)
        require_scope(session, ENDPOINT_SCOPES[endpoint], rule=f"{endpoint}_scope")
        check_rate(state.world.limiter, endpoint, session.token, now)
        faults = bool(state.world.faults)
    if faults:  # most sandboxes have no fault rule most of the time
        await apply_faults(request, endpoint, session.app.client_key, session.creator.uid)
    return session


def base_url(request: Request) -> str:
    configured = sandbox(request).options.public_base_url
    if configured:
        return configured.rstrip("/")
    scope = request.scope
    host = _raw_header(scope, b"host")
    root = scope.get("app_root_path", scope.get("root_path", ""))
    server = scope.get("server")
    return _origin(scope.get("scheme", "http"), host, tuple(server) if server else None, root)


@functools.lru_cache(maxsize=256)
def _origin(scheme: str, host: bytes | None, server: tuple[str, int] | None, root_path: str) -> str:
    """`request.base_url` without its last `/`, worked out once per distinct Host header
    (Starlette's own rules: a malformed Host falls back to the server's address)."""
    headers = [] if host is None else [(b"host", host)]
    path = root_path if root_path.endswith("/") else root_path + "/"
    scope = {"scheme": scheme, "server": server, "path": path, "headers": headers}
    return str(URL(scope=scope)).rstrip("/")


def upload_base_url(request: Request) -> str:
    """Where `upload_url` points: TikTok's upload host when the app called one of TikTok's
    names (proxy or name-resolution mode), the sandbox's base URL otherwise."""
    url = request.url
    return upload_origin(url.scheme, url.hostname, url.port) or base_url(request)


def header(request: Request, name: bytes) -> str:
    """The first header `name` (lower-case) as `request.headers.get(name, "")` finds it (ASGI
    header names are lower-case), without building the whole Headers view for one name."""
    raw = _raw_header(request.scope, name)
    return "" if raw is None else raw.decode("latin-1")


def _raw_header(scope: Scope, name: bytes) -> bytes | None:
    raw: bytes
    for key, raw in scope["headers"]:
        if key == name:
            return raw
    return None


async def read_body(request: Request, limit: int) -> bytes:
    """Read the body, refusing more than `limit` bytes without buffering them. Reads the ASGI
    messages as `request.stream()` does (a disconnect is ClientDisconnect), without an async
    generator around them: the body is read once, here."""
    declared = plain_decimal(header(request, b"content-length"))
    if declared is not None and declared > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    receive = request.receive
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.disconnect":
            raise ClientDisconnect
        if kind != "http.request":
            continue
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def bearer_token(request: Request) -> str | None:
    scheme, _, value = header(request, b"authorization").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def session_for(request: Request, state: SandboxState, now: float) -> Session:
    """Resolve the bearer token (`access_token_invalid` when it does not work). The journal
    learns whose token it is even when it is refused (expired, revoked), so an app's calls
    with a dead token are its own."""
    value = bearer_token(request)
    try:
        session = resolve_access_token(state.world, value, now)
    except ApiError:
        holder = token_holder(state.world, value)
        if holder is not None:
            note(request, client_key=holder[0].client_key, creator=holder[1].username)
        raise
    # A live token's holder is the session's app and creator (token_holder would find them).
    note(request, client_key=session.app.client_key, creator=session.creator.username)
    return session


def new_log_id(request: Request) -> str:
    state = sandbox(request)
    with state.lock:
        return state.world.ids.log_id(state.now())


def _json(body: dict[str, Any], status: int, log_id: str) -> JSONResponse:
    return LoggedJSON(body, status, log_id)


def envelope(request: Request, data: dict[str, Any] | None, *, with_data: bool = True) -> Response:
    """A success in TikTok's envelope (ref 4.1); cancel answers without `data` (ref 12)."""
    log_id = new_log_id(request)
    note(request, error_code="ok")
    body: dict[str, Any] = {"data": data or {}} if with_data else {}
    body["error"] = {"code": "ok", "message": "", "log_id": log_id}
    return _json(body, 200, log_id)


BAD_INPUT = "invalid_params"  # what the sandbox raises for a bad field; spelled per family


def spelled(request: Request, code: str) -> str:
    """The bad-input code as this endpoint family answers it: `invalid_params` on Display and
    user endpoints; on the posting endpoints the scenario's `posting.bad_input_code`
    (`invalid_params`, as recorded answers carry it, by default; ref 4.2, OQ 13)."""
    if code not in ("invalid_params", "invalid_param"):
        return code
    if family_of(request.url.path) == "posting":
        return sandbox(request).scenario.posting_bad_input_code
    return "invalid_params"


def api_error(request: Request, error: ApiError) -> Response:
    """A failure in the envelope, with `data: {}` as recorded responses carry it."""
    log_id = new_log_id(request)
    code = spelled(request, error.code)
    note(request, error_code=code, rule=error.rule)
    body = {"data": {}, "error": {"code": code, "message": error.message, "log_id": log_id}}
    return _json(body, error.http_status, log_id)


def oauth_status(error: str, mode: str) -> int:
    """ref 2.6: the status of OAuth errors is undocumented; 200 is what was observed."""
    if mode == "observed":
        return 200
    return {"invalid_client": 401, "server_error": 500, "temporarily_unavailable": 503}.get(
        error, 400
    )


def oauth_error(request: Request, error: OAuthError, status: int | None = None) -> Response:
    log_id = new_log_id(request)
    note(request, error_code=error.error, rule=error.rule)
    if status is None:
        status = oauth_status(error.error, sandbox(request).scenario.oauth_error_status)
    body = {"error": error.error, "error_description": error.description, "log_id": log_id}
    return _json(body, status, log_id)


Handler = Callable[[Request], Awaitable[Response]]


def tiktok_endpoint(handler: Handler) -> Handler:
    """Wrap an envelope endpoint: domain errors and oversized bodies become TikTok errors, the
    bad-input code spelled as the endpoint's family answers it (`spelled`)."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return api_error(request, exc)
        except InjectedFault as fault:
            return envelope_fault(request, fault.rule)
        except BodyTooLarge:
            return api_error(
                request,
                ApiError(
                    BAD_INPUT,
                    "The request body is too large.",
                    rule="body_too_large",
                    http_status=413,
                ),
            )

    return endpoint


FORM_TYPE = "application/x-www-form-urlencoded"


async def read_form(request: Request) -> Form:
    """ref 2.4: OAuth endpoints take a form body; the first value of a repeated key wins."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("", FORM_TYPE):
        raise OAuthError("invalid_request", MALFORMED_PARAMETERS, rule="oauth_content_type")
    try:
        body = await read_body(request, sandbox(request).options.max_body_bytes)
    except BodyTooLarge as exc:
        raise OAuthError("invalid_request", MALFORMED_PARAMETERS, rule="body_too_large") from exc
    try:
        return parse_form(body)
    except ValueError as exc:
        raise OAuthError(
            "invalid_request", MALFORMED_PARAMETERS, rule="oauth_form_encoding"
        ) from exc


class Form(dict[str, str]):
    """A parsed form: the first value of each key, and every value through `getlist`."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__()
        self._pairs = pairs
        for key, value in pairs:
            self.setdefault(key, value)

    def getlist(self, key: str) -> list[str]:
        return [v for k, v in self._pairs if k == key]


def parse_form(body: bytes) -> Form:
    """Parse `application/x-www-form-urlencoded`; ValueError when it is not UTF-8."""
    try:
        return Form(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError as exc:
        raise ValueError("the form body is not UTF-8") from exc


async def read_json_object(request: Request, limit: int) -> dict[str, Any]:
    """A JSON object body for the control API; ValueError says what is wrong."""
    body = await read_body(request, limit)
    if not body.strip():
        return {}
    data = jsontext.parse(body)  # JsonProblem is a ValueError
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


# -- injected faults --------------------------------------------------------------------------


class InjectedFault(Exception):
    """A fault rule decided this request's answer; `tiktok_endpoint` and the OAuth and upload
    handlers render it in their family's shape."""

    def __init__(self, rule: FaultRule, upload_rules: list[FaultRule] | None = None) -> None:
        super().__init__(rule.rule_id)
        self.rule = rule
        # Upload rules that fired on the same request still change the upload's state.
        self.upload_rules = upload_rules or []


class ConnectionCutShort(AnswerCutShort):
    """Raised after a broken answer was sent: the server must close the connection, and
    nothing else (no 500, no log id drawn) may happen; `middleware.SandboxMiddleware` logs it."""


async def apply_faults(
    request: Request, endpoint: str, client_key: str | None, creator_uid: str | None
) -> list[FaultRule]:
    """Fire the fault rules for this request: sleep any injected latency, raise
    InjectedFault for a rule that answers in the server's place, and return the upload rules
    (chunk rejections and the like) for the upload handler to act out."""
    state = sandbox(request)
    with state.lock:
        hits = fire(state.world.faults, state.world.fault_rng, endpoint, client_key, creator_uid)
    if not hits:
        return []
    note(request, fault=",".join(h.rule.rule_id for h in hits))
    delay = sum(h.latency_seconds for h in hits)
    if delay:
        await anyio.sleep(delay)  # injected latency is real time by design: it is what is tested
    upload_rules = [h.rule for h in hits if h.rule.action in UPLOAD_ACTIONS]
    for hit in hits:
        if hit.rule.action in ("error", "drop_connection", "truncate_body"):
            raise InjectedFault(hit.rule, upload_rules)
    return upload_rules


class TruncatedResponse(Response):
    """Announces the whole body, sends only `keep` bytes and ends: on a real server the
    client sees the connection close early (a dropped connection when `keep` is 0)."""

    def __init__(
        self,
        content: bytes,
        keep: int,
        status_code: int = 200,
        media_type: str = "application/json",
        why: str = "a broken answer",
    ) -> None:
        super().__init__(content, status_code=status_code, media_type=media_type)
        self.keep = keep
        self.why = why

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        try:
            await send({"type": "http.response.body", "body": self.body[: self.keep]})
        except Exception as exc:
            # The server refusing to end a response shorter than announced: it will close the
            # connection, which is the fault. In process, the short body simply arrives.
            raise ConnectionCutShort(
                f"{self.why}: closed the connection after {self.keep} of {len(self.body)} "
                "bytes of the answer"
            ) from exc


def broken_answer(rule: FaultRule, body: bytes) -> Response:
    body = body or b'{"error":{"code":"ok","message":"","log_id":""}}'
    keep = 0 if rule.action == "drop_connection" else len(body) // 2
    return TruncatedResponse(body, keep, why=f"injected fault {rule.rule_id} ({rule.action})")


def envelope_fault(request: Request, rule: FaultRule) -> Response:
    """An injected failure on a `{data, error}` endpoint."""
    if rule.action != "error":
        body = json.dumps({"data": {}, "error": {"code": "ok", "message": "", "log_id": ""}})
        return broken_answer(rule, body.encode())
    status = rule.status or 500
    code = rule.error_code if rule.error_code in API_ERRORS else _code_for(status)
    return api_error(
        request, ApiError(code, rule.message, rule=f"fault:{rule.rule_id}", http_status=status)
    )


def _code_for(status: int) -> str:
    if status == 429:
        return "rate_limit_exceeded"
    if status == 401:
        return "access_token_invalid"
    if 400 <= status < 500:
        return BAD_INPUT
    return "internal_error"


def oauth_fault(request: Request, rule: FaultRule) -> Response:
    if rule.action != "error":
        return broken_answer(rule, b'{"access_token": "", "expires_in": 0}')
    status = rule.status or 500
    error = (
        rule.error_code
        if rule.error_code in OAUTH_ERRORS
        else (
            "server_error"
            if status == 500
            else "temporarily_unavailable"
            if status >= 500
            else "invalid_request"
        )
    )
    return oauth_error(
        request,
        OAuthError(error, rule.message or "Injected fault.", rule=f"fault:{rule.rule_id}"),
        status=status,
    )
