"""`GET /_sandbox/audit?client_key=K` (JSON) and `GET /_sandbox/audit.html?client_key=K` (the
dashboard's page): the audit-readiness report of one app (docs/audit.md)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.api.http import sandbox
from mock_server.audit import AuditReport, audit_state
from mock_server.audit.run import instant
from mock_server.control.routes import ControlError, _client_key_param, control
from mock_server.domain.text import quoted
from mock_server.responses import HTMLResponse
from mock_server.state import SandboxState
from mock_server.templating import render

AUDIT_PAGE = "/_sandbox/audit.html"


def _report(state: SandboxState, request: Request) -> AuditReport:
    """The report the query asks for; ControlError (400, 404) for a bad query."""
    if not request.query_params.get("client_key"):
        raise ControlError(400, "invalid_request", "client_key: required")
    with state.lock:
        key = _client_key_param(state, request)
    assert key is not None
    since = instant(request.query_params.get("since") or None, "since")
    until = instant(request.query_params.get("until") or None, "until")
    if since is not None and until is not None and until < since:
        raise ControlError(400, "invalid_request", "until: must not be before since")
    try:
        return audit_state(state, key, since=since, until=until)
    except KeyError as exc:  # the app went away with a reset since the check above
        raise ControlError(404, "not_found", f"no app with client_key {quoted(key)}") from exc


async def audit_json(request: Request) -> dict[str, Any]:
    return _report(sandbox(request), request).to_json()


# -- the page -------------------------------------------------------------------------------

LABELS = {"fail": "fail", "warn": "warn", "pass": "pass", "not_observed": "not observed"}


def _query(report: AuditReport) -> dict[str, str]:
    bounds = {"since": report.window.since, "until": report.window.until}
    return {"client_key": report.client_key} | {k: v for k, v in bounds.items() if v}


def report_page(report: AuditReport) -> str:
    return render(
        "audit.html",
        report=report,
        counts=report.counts(),
        labels=LABELS,
        query=urlencode(_query(report)),
    )


def _index(state: SandboxState, message: str = "") -> str:
    with state.lock:
        apps = [(a.client_key, a.name, a.stage) for a in state.world.apps.values()]
    return render("audit_index.html", apps=apps, message=message)


async def audit_page(request: Request) -> Response:
    state = sandbox(request)
    if not request.query_params.get("client_key"):
        return HTMLResponse(_index(state))
    try:
        report = _report(state, request)
    except (ControlError, ValueError) as exc:
        status = exc.status if isinstance(exc, ControlError) else 400
        message = exc.message if isinstance(exc, ControlError) else str(exc)
        return HTMLResponse(_index(state, message), status_code=status)
    return HTMLResponse(report_page(report))


def audit_routes() -> list[Route]:
    return [
        Route("/_sandbox/audit", control(audit_json), methods=["GET"]),
        Route(AUDIT_PAGE, audit_page, methods=["GET"]),
    ]
