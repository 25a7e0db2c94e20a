"""`GET /_sandbox/audit?client_key=K` (JSON) and `GET /_sandbox/audit.html?client_key=K` (the
dashboard's page): the audit-readiness report of one app (docs/audit.md)."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.api.http import sandbox
from mock_server.audit import AuditReport, CheckResult, audit_state
from mock_server.audit.run import instant
from mock_server.control.routes import ControlError, _client_key_param, control
from mock_server.pages import Markup, layout, table
from mock_server.responses import HTMLResponse
from mock_server.state import SandboxState

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
        raise ControlError(404, "not_found", f"no app with client_key {key!r}") from exc


async def audit_json(request: Request) -> dict[str, Any]:
    return _report(sandbox(request), request).to_json()


# -- the page -------------------------------------------------------------------------------

_STYLE = (
    "<style>.v{font-weight:600;border-radius:4px;padding:1px 6px}.fail{background:#ffd6dc}"
    ".warn{background:#fff0c2}.pass{background:#d8f5e3}.not_observed{background:#eee}"
    "details{margin:6px 0}summary{cursor:pointer}</style>"
)
LABELS = {"fail": "fail", "warn": "warn", "pass": "pass", "not_observed": "not observed"}


def _verdict(verdict: str) -> Markup:
    return Markup(
        f"<span class='v {escape(verdict)}'>{escape(LABELS.get(verdict, verdict))}</span>"
    )


def _check_details(check: CheckResult) -> str:
    evidence = table(
        ["#", "time", "request", "status", "code", "rule", "what it shows"],
        [
            [
                e.seq,
                e.time,
                f"{e.method} {e.path}",
                e.status,
                e.error_code or "",
                e.rule or "",
                e.note,
            ]
            for e in check.evidence
        ],
    )
    more = f"<p class=muted>and {check.evidence_omitted} more</p>" if check.evidence_omitted else ""
    return (
        f"<details{' open' if check.verdict in ('fail', 'warn') else ''}>"
        f"<summary>{_verdict(check.verdict)} <code>{escape(check.id)}</code>: "
        f"{escape(check.title)}</summary><p>{escape(check.summary)}</p>"
        f"<p class=muted>TikTok ({escape(check.section)}): {escape(check.rule)} "
        f"<a href='{escape(check.doc)}'>{escape(check.doc)}</a></p>"
        f"{evidence if check.evidence else ''}{more}<p><b>Fix:</b> {escape(check.fix)}</p>"
        "</details>"
    )


def _query(report: AuditReport) -> dict[str, str]:
    bounds = {"since": report.window.since, "until": report.window.until}
    return {"client_key": report.client_key} | {k: v for k, v in bounds.items() if v}


def report_page(report: AuditReport) -> str:
    counts = report.counts()
    overview = table(
        ["verdict", "check", "summary"],
        [[_verdict(c.verdict), c.id, c.summary] for c in report.checks],
    )
    not_shown = "".join(
        f"<li><a href='{escape(n.doc)}'>{escape(n.title)}</a>: {escape(n.why)}</li>"
        for n in report.not_shown_by_traffic
    )
    app = report.app
    body = (
        f"{_STYLE}<p><a href='/_sandbox/'>&larr; dashboard</a> &middot; "
        f"<a href='/_sandbox/audit?{escape(urlencode(_query(report)))}'>"
        "JSON</a></p>"
        f"<h1>Audit readiness: {escape(report.client_key)}</h1>"
        f"<p class=muted>{escape(app.get('name', ''))}, {escape(app.get('stage', ''))} "
        f"{escape(app.get('platform', ''))} app. Window: {escape(report.window.note)}.</p>"
        f"<p><b>{'Ready' if report.ready else 'Not ready'}</b>: "
        + ", ".join(f"{counts[v]} {LABELS[v]}" for v in counts)
        + f"</p>{overview}<h2>Checks</h2>"
        + "".join(_check_details(c) for c in report.checks)
        + "<h2>Not shown by the traffic</h2><p class=muted>Audit criteria that live in the "
        f"app's UI and content; check them yourself.</p><ul>{not_shown}</ul>"
    )
    return layout(f"audit readiness: {report.client_key}", body)


def _index(state: SandboxState) -> str:
    with state.lock:
        apps = [(a.client_key, a.name, a.stage) for a in state.world.apps.values()]
    rows = "".join(
        f"<li><a href='{AUDIT_PAGE}?{escape(urlencode({'client_key': key}))}'>{escape(key)}</a> "
        f"({escape(name)}, {escape(stage)})</li>"
        for key, name, stage in apps
    )
    body = (
        "<p><a href='/_sandbox/'>&larr; dashboard</a></p><h1>Audit readiness</h1>"
        f"<p>Pick an app to see what TikTok's review and runtime would reject in its traffic."
        f"</p><ul>{rows}</ul>"
    )
    return layout("audit readiness", body)


async def audit_page(request: Request) -> Response:
    state = sandbox(request)
    if not request.query_params.get("client_key"):
        return HTMLResponse(_index(state))
    try:
        report = _report(state, request)
    except (ControlError, ValueError) as exc:
        status = exc.status if isinstance(exc, ControlError) else 400
        message = exc.message if isinstance(exc, ControlError) else str(exc)
        page = layout("audit readiness", f"<h1>Audit readiness</h1><p>{escape(message)}</p>")
        return HTMLResponse(page, status_code=status)
    return HTMLResponse(report_page(report))


def audit_routes() -> list[Route]:
    return [
        Route("/_sandbox/audit", control(audit_json), methods=["GET"]),
        Route(AUDIT_PAGE, audit_page, methods=["GET"]),
    ]
