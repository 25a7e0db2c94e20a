"""Lifetimes at their last second (ref 2.2, 2.4, 7.3, 8, 10.3): an upload_url, an access token,
a refresh token and an authorization code each work one second before their end and are refused
one second after it. The instant itself is left open (whether `issued + lifetime` is still valid
is not documented): it may go either way, and is checked only to be one of the two.

Token lifetimes are read from the token answer (`expires_in`, `refresh_expires_in`: ref 2.4,
doc-2026 says they are the remaining lifetime; the older and newer docs disagree on the values).
"""

from __future__ import annotations

import httpx
import pytest

from conformance import calls, checks, steps
from conformance.calls import Actor
from conformance.controller import AppInfo, Controller, ControllerError
from conformance.report import example
from conformance.steps import EDGE

UPLOAD_URL_SECONDS = 3600  # ref 7.3, 8: valid 1 hour after issue
CODE_SURELY_EXPIRED = 3600  # ref 2.2: "expires within seconds to minutes"


@pytest.mark.behaviour("upload_url_lifetime", "7.3, 8, 10.3")
@pytest.mark.parametrize("endpoint", ["video_init", "inbox_video_init"])
def test_an_upload_url_takes_bytes_until_its_hour_is_over(
    http: httpx.Client, controller: Controller, endpoint: str
) -> None:
    """Three upload_urls issued together: a PUT a second before the hour is taken (201), one
    at the hour may go either way (201 or 403), one a second after is 403 (ref 10.3)."""
    example("upload_url_lifetime")
    actor = calls.arrange(controller)
    source = calls.file_upload()
    body = calls.video_init(source) if endpoint == "video_init" else {"source_info": source}
    urls = [
        steps.accepted(
            calls.post(http, endpoint, actor.access_token, body), endpoint, "FILE_UPLOAD"
        )["upload_url"]
        for _ in range(3)
    ]
    content = bytes(range(256)) * (source["video_size"] // 256) + bytes(source["video_size"] % 256)
    expected = ({201}, {201, 403}, {403})
    controller.advance_clock(UPLOAD_URL_SECONDS - EDGE)
    for url, allowed, age in zip(urls, expected, (-EDGE, 0, EDGE), strict=True):
        answer = steps.put_whole(http, url, content)
        assert answer.status_code in allowed, (
            f"PUT {age:+d} s from the upload_url's hour: expected HTTP {sorted(allowed)} (ref 7.3, "
            f"10.3: valid 1 hour, 403 once expired), got {answer.status_code} {answer.text[:200]}"
        )
        controller.advance_clock(EDGE)


def user_info_code(http: httpx.Client, token: str) -> str:
    return checks.envelope(calls.user_info(http, token, "open_id"), "user_info").code


@pytest.mark.behaviour("token_lifetimes", "2.4")
def test_an_access_token_works_to_its_last_second(
    http: httpx.Client, controller: Controller
) -> None:
    """Two tokens issued together, `expires_in` s long: one answers a second before, the other
    is refused a second after; at the instant itself either answer is allowed."""
    example("token_lifetimes")
    first = calls.arrange(controller)
    second = steps.reauthorize(controller, first)
    lifetime = int(first.tokens["expires_in"])
    assert int(second.tokens["expires_in"]) == lifetime, (first.tokens, second.tokens)
    controller.advance_clock(lifetime - EDGE)
    assert user_info_code(http, first.access_token) == "ok", f"ref 2.4: {lifetime - EDGE} s old"
    controller.advance_clock(EDGE)
    assert user_info_code(http, second.access_token) in ("ok", "access_token_invalid")
    controller.advance_clock(EDGE)
    code = user_info_code(http, first.access_token)
    assert code == "access_token_invalid", f"ref 2.4, 4.2: {lifetime + EDGE} s old, got {code}"


def refresh(http: httpx.Client, actor: Actor) -> httpx.Response:
    return calls.form(http, "token", calls.refresh(actor.app, str(actor.tokens["refresh_token"])))


@pytest.mark.behaviour("token_lifetimes", "2.4")
def test_a_refresh_token_works_to_its_last_second(
    http: httpx.Client, controller: Controller
) -> None:
    """Two grants made together: one refreshes a second before `refresh_expires_in` is over,
    the other is invalid_grant a second after (ref 2.4, 2.6)."""
    example("token_lifetimes")
    first = calls.arrange(controller)
    second = steps.reauthorize(controller, first)
    lifetime = int(first.tokens["refresh_expires_in"])
    controller.advance_clock(lifetime - EDGE)
    checks.token_success(refresh(http, first))
    controller.advance_clock(2 * EDGE)
    response = refresh(http, second)
    checks.no_tokens(response, f"ref 2.4: a refresh token {lifetime + EDGE} s old still worked")
    error = checks.oauth_error(response)
    assert error == "invalid_grant", f"ref 2.6: an expired refresh token, got {error}"


def exchange(http: httpx.Client, app: AppInfo, code: dict[str, str]) -> httpx.Response:
    return calls.form(http, "token", calls.code_exchange(app, code))


@pytest.mark.behaviour("auth_code_lifetime", "2.2, 2.6")
def test_a_code_is_short_lived(http: httpx.Client, controller: Controller) -> None:
    """ref 2.2: a code works at once and "expires within seconds to minutes": an hour later
    it is invalid_grant."""
    example("auth_code_lifetime")
    app = controller.create_app()
    user = controller.create_creator()
    scopes = ("user.info.basic",)
    fresh, stale = (controller.authorize(app.client_key, user, scopes) for _ in range(2))
    checks.token_success(exchange(http, app, fresh))
    controller.advance_clock(CODE_SURELY_EXPIRED)
    response = exchange(http, app, stale)
    checks.no_tokens(response, "ref 2.2: a code an hour old was exchanged")
    error = checks.oauth_error(response)
    assert error == "invalid_grant", f"ref 2.2, 2.6: a code an hour old, got {error}"


@pytest.mark.behaviour("auth_code_lifetime", "2.2, 2.6")
@pytest.mark.parametrize("lifetime", [30, 600])
def test_a_code_lives_as_long_as_the_app_says_to_its_last_second(
    http: httpx.Client, controller: Controller, lifetime: int
) -> None:
    """An app whose codes live `lifetime` s (the controller's `auth_code_ttl_seconds`, for the
    lifetimes the reference's "seconds to minutes" allows): a code exchanged a second before
    works, one exchanged a second after is invalid_grant."""
    example("auth_code_lifetime")
    try:
        app = controller.create_app(auth_code_ttl_seconds=lifetime)
    except ControllerError as refused:
        pytest.skip(f"the controller cannot set a code lifetime: {refused}")
    user = controller.create_creator()
    scopes = ("user.info.basic",)
    early, late = (controller.authorize(app.client_key, user, scopes) for _ in range(2))
    controller.advance_clock(lifetime - EDGE)
    checks.token_success(exchange(http, app, early))
    controller.advance_clock(2 * EDGE)
    response = exchange(http, app, late)
    checks.no_tokens(response, f"ref 2.2: a code {lifetime + EDGE} s old was exchanged")
    error = checks.oauth_error(response)
    assert error == "invalid_grant", f"ref 2.2, 2.6: {lifetime + EDGE} s old, got {error}"
