"""The browser consent flow at `/v2/auth/authorize/` (ref 2.1-2.2).

GET shows the consent page (or TikTok's error page for a bad request); POST carries the
person's decision and redirects back to the app with `code`, `scopes` and `state`, or with
`error=access_denied`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mock_server.api.http import BodyTooLarge, Form, note, parse_form, read_body, sandbox
from mock_server.control.guard import policy_for, split_host
from mock_server.domain import oauth
from mock_server.domain.hosts import is_tiktok_host
from mock_server.domain.oauth import AuthorizeError, AuthorizeRequest
from mock_server.forms import FIELD
from mock_server.pages import authorize_error_page, consent_page
from mock_server.responses import HTMLResponse
from mock_server.state import SandboxState

# The request parameters the consent form carries through to its POST.
CARRIED = (
    "client_key",
    "scope",
    "redirect_uri",
    "state",
    "response_type",
    "code_challenge",
    "code_challenge_method",
    "disable_auto_auth",
)


def redirect_back(redirect_uri: str, params: dict[str, str | None]) -> Response:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{redirect_uri}?{query}", status_code=302)


def error_redirect(request: AuthorizeRequest, error: AuthorizeError) -> Response:
    return redirect_back(
        request.redirect_uri,
        {
            "error": error.error,
            "error_type": error.error_type,
            "error_description": error.description,
            "state": request.state,
        },
    )


def error_page(request: Request, error: AuthorizeError, status: int = 400) -> Response:
    note(request, error_code=error.error, rule=error.rule)
    return HTMLResponse(
        authorize_error_page(error.error, error.error_type, error.description), status_code=status
    )


# A consent post under a host name that is neither the sandbox's nor TikTok's: what a page
# on another origin can send after re-pointing its own name at 127.0.0.1 (DNS rebinding), and
# then read the form token from the page. Refused, never redirected.
FOREIGN_HOST = AuthorizeError(
    "invalid_request",
    "The consent form was sent to a host name this sandbox does not answer consent for. Open "
    "the authorize URL at the sandbox's address (or www.tiktok.com through its proxy).",
    redirectable=False,
    rule="consent_foreign_host",
)

# A consent post whose form token is missing or not the page's: refused, never redirected.
STALE_FORM = AuthorizeError(
    "invalid_request",
    "The consent form is out of date or was not sent from the consent page. Open the "
    "authorize URL again.",
    redirectable=False,
    rule="consent_form_token",
)


def _carried(params: dict[str, str]) -> list[str]:
    return [params.get(k, "") for k in CARRIED]


def form_token(state: SandboxState, params: dict[str, str]) -> str:
    """The consent form's token, bound to every parameter the form carries."""
    return state.form_tokens.issue("consent", *_carried(params))


async def authorize(request: Request) -> Response:
    state = sandbox(request)
    form = Form([])
    if request.method == "POST":
        try:
            form = parse_form(await read_body(request, state.options.max_body_bytes))
        except (BodyTooLarge, ValueError):
            return error_page(
                request,
                AuthorizeError(
                    "invalid_request",
                    "The consent form could not be read.",
                    redirectable=False,
                    rule="consent_form_malformed",
                ),
            )
    params = {k: request.query_params[k] for k in CARRIED if k in request.query_params}
    params.update({k: v for k, v in form.items() if k in CARRIED})
    note(request, client_key=params.get("client_key"))
    with state.lock:
        try:
            checked = oauth.check_authorize(state.world, params)
        except AuthorizeError as exc:
            return error_page(request, exc)
        creators = list(state.world.creators.values())
        token = form_token(state, params)
        if request.method != "POST":
            note(request, rule="consent_shown")
            return HTMLResponse(
                consent_page(checked.app, checked.scopes, creators, params, form_token=token)
            )
        host = request.headers.get("host")
        if not (
            policy_for(state.options).host_allowed(host) or is_tiktok_host(split_host(host or ""))
        ):
            return error_page(request, FOREIGN_HOST, status=403)
        if not state.form_tokens.valid(form.get(FIELD), "consent", *_carried(params)):
            return error_page(request, STALE_FORM, status=403)
        if form.get("decision") != "approve":
            denied = oauth.deny()
            note(request, error_code=denied.error, rule=denied.rule)
            return error_redirect(checked, denied)
        creator = state.world.creators.get(form.get("creator", ""))
        if creator is None:
            page = consent_page(
                checked.app,
                checked.scopes,
                creators,
                params,
                form_token=token,
                message="Choose the account to log in with.",
            )
            return HTMLResponse(page, status_code=400)
        granted = [s for s in form.getlist("granted") if s in checked.scopes]
        try:
            code = oauth.approve(state.world, checked, creator, granted, state.now())
        except AuthorizeError as exc:
            note(request, error_code=exc.error, rule=exc.rule)
            return error_redirect(checked, exc) if exc.redirectable else error_page(request, exc)
    note(request, error_code="ok", rule="consent_approved")
    return redirect_back(
        checked.redirect_uri,
        {"code": code.code, "scopes": ",".join(code.scopes), "state": checked.state},
    )
