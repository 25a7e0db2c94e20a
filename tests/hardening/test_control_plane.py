"""The control plane is safe from browsers (issue 10): Host, Origin and Content-Type checks on
`/_sandbox/...`, scenarios over HTTP, and CSRF tokens on the dashboard's and consent page's forms.

Driven in-process (`Sandbox.client()` presents itself as a loopback client at 127.0.0.1:8080):
each request states the headers a browser on another origin, or after DNS rebinding, would send.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from mock_server import Clock, Sandbox
from mock_server.state import ServerOptions
from tests.hardening.kit import (
    ANA,
    AUDITED,
    AUDITED_REDIRECT,
    SECRETS,
    SMALL_UPLOAD,
    authorize_query,
    bearer,
    consent_form,
    control_error,
    form_body,
    oauth_error,
    page_forms,
    raw_request,
    snapshot,
)
from tests.mock_server.lifecycle_kit import T0

OWN_ORIGIN = "http://127.0.0.1:8080"  # the in-process client's base URL
ADVANCE = {"advance_seconds": 3600}


def make(**options: Any) -> Sandbox:
    return Sandbox("default", clock=Clock.frozen_at(T0), options=ServerOptions(**options))


# The three writes a hostile page tries first: move the clock, reset, mint tokens.
WRITES: dict[str, dict[str, Any]] = {
    "/_sandbox/clock": ADVANCE,
    "/_sandbox/reset": {"seed": 99},
    "/_sandbox/tokens": {"client_key": AUDITED, "username": ANA, "scopes": ["user.info.basic"]},
}


def refused_without_change(
    http: httpx.Client, path: str, status: int, code: str, **request: Any
) -> None:
    before = snapshot(http)
    control_error(http.post(path, **request), status, code)
    assert snapshot(http) == before
    assert http.get("/_sandbox/health").json()["seed"] == 0  # no reset either


# -- Host -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["evil.example", "127.0.0.1.evil.example", "localhost.evil.example:8080"]
)
def test_dns_rebinding_read_of_the_apps_is_refused_without_secrets(
    http: httpx.Client, host: str
) -> None:
    response = http.get("/_sandbox/apps", headers={"Host": host})
    control_error(response, 403, "host_not_allowed")
    for secret in SECRETS.values():
        assert secret not in response.text
    control_error(http.get("/_sandbox/", headers={"Host": host}), 403, "host_not_allowed")
    control_error(http.get("/_sandbox/journal", headers={"Host": host}), 403, "host_not_allowed")


@pytest.mark.parametrize("path", list(WRITES))
def test_control_write_with_a_foreign_host_is_refused_and_changes_nothing(
    http: httpx.Client, path: str
) -> None:
    refused_without_change(
        http, path, 403, "host_not_allowed", json=WRITES[path], headers={"Host": "evil.example"}
    )


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8080", "localhost:8080", "localhost", "127.9.8.7", "[::1]:8080"]
)
def test_loopback_host_names_are_allowed(http: httpx.Client, host: str) -> None:
    assert http.get("/_sandbox/apps", headers={"Host": host}).status_code == 200
    assert http.post("/_sandbox/clock", json=ADVANCE, headers={"Host": host}).status_code == 200


def test_an_allowed_host_is_admitted_and_others_are_not() -> None:
    sandbox = make(allowed_hosts=("sandbox.test",))
    with sandbox.client() as http:
        assert http.get("/_sandbox/apps", headers={"Host": "sandbox.test"}).status_code == 200
        assert http.get("/_sandbox/apps", headers={"Host": "sandbox.test:9000"}).status_code == 200
        response = http.post("/_sandbox/clock", json=ADVANCE, headers={"Host": "sandbox.test"})
        assert response.status_code == 200, response.text
        control_error(
            http.get("/_sandbox/apps", headers={"Host": "other.test"}), 403, "host_not_allowed"
        )
    sandbox.close()


def test_the_public_url_host_and_origin_are_admitted() -> None:
    sandbox = make(public_base_url="https://tunnel.example.com")
    with sandbox.client() as http:
        tunnel = {"Host": "tunnel.example.com"}
        assert http.get("/_sandbox/apps", headers=tunnel).status_code == 200
        response = http.post(
            "/_sandbox/clock",
            json=ADVANCE,
            headers={**tunnel, "Origin": "https://tunnel.example.com"},
        )
        assert response.status_code == 200, response.text
        control_error(
            http.get("/_sandbox/apps", headers={"Host": "evil.example"}), 403, "host_not_allowed"
        )
    sandbox.close()


def test_tiktok_paths_stay_reachable_under_tiktok_hosts(http: httpx.Client) -> None:
    """A proxy or /etc/hosts entry sends TikTok's own host names: those paths must answer."""
    page = http.get(
        f"/v2/auth/authorize/?{authorize_query(AUDITED, AUDITED_REDIRECT)}",
        headers={"Host": "www.tiktok.com"},
    )
    assert page.status_code == 200, page.text
    assert "Acme Scheduler" in page.text
    token = http.post(
        "/v2/oauth/token/",
        data={"client_key": AUDITED, "client_secret": SECRETS[AUDITED], "grant_type": "nope"},
        headers={"Host": "open.tiktokapis.com"},
    )
    assert token.status_code != 403, token.text
    oauth_error(token)


def test_admin_token_passes_the_host_and_origin_checks() -> None:
    sandbox = make(admin_token="s3cret-admin")
    with sandbox.client() as http:
        foreign = {"Host": "sandbox.corp.example", "Origin": "https://ci.corp.example"}
        control_error(http.post("/_sandbox/clock", json=ADVANCE, headers=foreign), 403)
        response = http.post(
            "/_sandbox/clock",
            json=ADVANCE,
            headers={**foreign, "X-Sandbox-Admin-Token": "s3cret-admin"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["now"] == "2026-01-01T01:00:00Z"
    sandbox.close()


def test_a_request_without_a_host_header_is_allowed() -> None:
    """Not a browser: e.g. an HTTP/1.0 client on the machine."""
    sandbox = make()
    with sandbox.serve() as server:
        answer = raw_request(server.port, b"GET /_sandbox/health HTTP/1.0\r\n\r\n")
    sandbox.close()
    assert answer.status == 200, answer.text


# -- Origin and Sec-Fetch-Site --------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://127.0.0.1:3000"},  # another loopback port is another origin
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
    ids=["foreign", "other-port", "null", "cross-site", "same-site"],
)
def test_cross_origin_clock_changes_are_refused(
    http: httpx.Client, headers: dict[str, str]
) -> None:
    refused_without_change(
        http, "/_sandbox/clock", 403, "cross_origin_request", json=ADVANCE, headers=headers
    )


@pytest.mark.parametrize("path", ["/_sandbox/reset", "/_sandbox/tokens"])
def test_cross_origin_resets_and_token_mints_are_refused(http: httpx.Client, path: str) -> None:
    headers = {"Origin": "http://127.0.0.1:3000", "Sec-Fetch-Site": "same-site"}
    refused_without_change(
        http, path, 403, "cross_origin_request", json=WRITES[path], headers=headers
    )


@pytest.mark.parametrize(
    "headers",
    [{}, {"Origin": OWN_ORIGIN}, {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}],
    ids=["no-origin", "own-origin", "same-origin", "none"],
)
def test_same_origin_writes_pass(http: httpx.Client, headers: dict[str, str]) -> None:
    response = http.post("/_sandbox/clock", json=ADVANCE, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["now"] == "2026-01-01T01:00:00Z"


def test_cross_site_reads_are_refused_unless_a_navigation(http: httpx.Client) -> None:
    for site in ("cross-site", "same-site"):
        fetched = http.get(
            "/_sandbox/apps", headers={"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "cors"}
        )
        control_error(fetched, 403, "cross_origin_request")
        assert SECRETS[AUDITED] not in fetched.text
        opened = http.get(
            "/_sandbox/", headers={"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "navigate"}
        )
        assert opened.status_code == 200, opened.text  # a link to the dashboard still opens it
    same = http.get("/_sandbox/apps", headers={"Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200


# -- Content-Type ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/_sandbox/clock", "text/plain"),
        ("/_sandbox/clock", "application/x-www-form-urlencoded"),
        ("/_sandbox/clock", "multipart/form-data; boundary=x"),
        ("/_sandbox/clock", None),
        ("/_sandbox/reset", "text/plain;charset=UTF-8"),
        ("/_sandbox/tokens", "text/plain"),
    ],
)
def test_a_control_write_that_is_not_json_is_refused(
    http: httpx.Client, path: str, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    refused_without_change(
        http,
        path,
        415,
        "unsupported_media_type",
        content=json.dumps(WRITES[path]).encode(),
        headers=headers,
    )


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/merge-patch+json"],
)
def test_json_content_types_are_accepted(http: httpx.Client, content_type: str) -> None:
    response = http.post(
        "/_sandbox/clock",
        content=b'{"advance_seconds": 3600}',
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 200, response.text
    patched = http.patch(
        f"/_sandbox/creators/{ANA}",
        content=b'{"nickname": "Ana Again"}',
        headers={"Content-Type": content_type},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["nickname"] == "Ana Again"


def test_body_less_control_posts_still_work(http: httpx.Client) -> None:
    """`curl -X POST .../_sandbox/reset`: no body, no Content-Type."""
    http.post("/_sandbox/clock", json=ADVANCE)
    reset = http.post("/_sandbox/reset")
    assert reset.status_code == 200, reset.text
    assert reset.json()["now"] == "2026-01-01T00:00:00Z"
    assert http.post("/_sandbox/webhooks/dispatch").status_code == 200


# -- scenarios over HTTP --------------------------------------------------------------------

SECRET_LINE = "name: TOPSECRET-first-line-5f2c9e"


def _quotes_nothing(response: httpx.Response, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in response.text, f"the answer quotes the file: {response.text}"


@pytest.mark.parametrize("system_file", ["/etc/shadow", "/etc/passwd"])
def test_reset_to_a_system_file_is_refused_without_its_content(
    http: httpx.Client, system_file: str
) -> None:
    before = snapshot(http)
    response = http.post("/_sandbox/reset", json={"scenario": system_file})
    control_error(response, 400, "invalid_request")
    try:
        first = Path(system_file).read_text(errors="replace").splitlines()[0].strip()
    except (OSError, IndexError):
        first = ""
    if first:
        _quotes_nothing(response, first, first[:12])
    assert snapshot(http) == before


def test_reset_to_a_file_outside_the_scenario_dirs_is_refused_without_its_content(
    tmp_path: Path,
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.yaml"
    secret.write_text(f"{SECRET_LINE}\nseed: 1\n")
    sandbox = make(scenario_dirs=(str(allowed),))
    with sandbox.client() as http:
        before = snapshot(http)
        for given in (str(secret), str(allowed / ".." / "outside" / "secret.yaml")):
            response = http.post("/_sandbox/reset", json={"scenario": given})
            control_error(response, 400, "invalid_request")
            _quotes_nothing(response, "TOPSECRET")
        assert snapshot(http) == before
        assert http.get("/_sandbox/health").json()["scenario"] == "default"
    sandbox.close()


@pytest.mark.parametrize(
    "text",
    [
        "name: TOPSECRET-yaml-8d1 [unclosed\n  - : :\n",
        "name: ok\nseed: TOPSECRET-seed-4a7\n",
        "name: ok\napps: TOPSECRET-apps-19c\n",
        "name: ok\napps:\n  - {name: A, stage: TOPSECRET-stage-77e}\n",
    ],
    ids=["yaml-syntax", "seed-type", "apps-type", "stage-value"],
)
def test_a_malformed_scenario_in_a_scenario_dir_is_refused_without_its_content(
    tmp_path: Path, text: str
) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    sandbox = make(scenario_dirs=(str(tmp_path),))
    with sandbox.client() as http:
        before = snapshot(http)
        response = http.post("/_sandbox/reset", json={"scenario": str(tmp_path / "bad.yaml")})
        control_error(response, 400, "invalid_request")
        _quotes_nothing(response, "TOPSECRET")
        assert snapshot(http) == before
    sandbox.close()


def test_a_scenario_in_a_scenario_dir_and_a_builtin_name_load(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "name: mine\nseed: 4\napps:\n  - {name: Mine, client_key: awmineapp0001}\n"
    )
    sandbox = make(scenario_dirs=(str(tmp_path),))
    with sandbox.client() as http:
        response = http.post("/_sandbox/reset", json={"scenario": str(tmp_path / "mine.yaml")})
        assert response.status_code == 200, response.text
        assert response.json()["scenario"] == "mine"
        assert [a["client_key"] for a in http.get("/_sandbox/apps").json()["apps"]] == [
            "awmineapp0001"
        ]
        back = http.post("/_sandbox/reset", json={"scenario": "default"})
        assert back.status_code == 200, back.text
        assert back.json()["scenario"] == "default"
    sandbox.close()


# -- CSRF: the dashboard's forms ------------------------------------------------------------


def _publish(sandbox: Sandbox, http: httpx.Client) -> str:
    token = sandbox.issue_tokens(AUDITED, ANA, ["video.publish", "video.upload"])["access_token"]
    response = http.post(
        "/v2/post/publish/video/init/",
        headers=bearer(token),
        json={"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": SMALL_UPLOAD},
    )
    assert response.json()["error"]["code"] == "ok", response.text
    publish_id: str = response.json()["data"]["publish_id"]
    return publish_id


def test_a_dashboard_form_post_needs_the_dashboards_csrf_token(
    sandbox: Sandbox, http: httpx.Client
) -> None:
    publish_id = _publish(sandbox, http)
    path = f"/_sandbox/publishes/{publish_id}/actions"
    before = snapshot(http)
    for pairs in ([("action", "revoke_app")], [("action", "revoke_app"), ("csrf_token", "forged")]):
        refused = http.post(path, **form_body(pairs))
        control_error(refused, 403, "csrf_token_invalid")
        assert snapshot(http) == before

    dashboard = http.get("/_sandbox/")
    forms = [f for f in page_forms(dashboard.text) if f.action.endswith(path)]
    assert forms, "the dashboard shows an action form for the publish"
    form = next(f for f in forms if ("action", "revoke_app") in f.buttons)
    posted = http.post(path, **form_body(form.submit(("action", "revoke_app"))))
    assert posted.status_code == 303, posted.text
    assert http.get(f"/_sandbox/publishes/{publish_id}").json()["fail_reason"] == "auth_removed"


def test_a_json_action_needs_no_csrf_token(sandbox: Sandbox, http: httpx.Client) -> None:
    publish_id = _publish(sandbox, http)
    response = http.post(
        f"/_sandbox/publishes/{publish_id}/actions",
        json={"action": "fail", "fail_reason": "internal"},
    )
    assert response.status_code == 200, response.text


# -- CSRF: the consent form -----------------------------------------------------------------


def test_the_consent_post_needs_the_pages_csrf_token(http: httpx.Client) -> None:
    query = authorize_query(AUDITED, AUDITED_REDIRECT, state="st-csrf")
    page = http.get(f"/v2/auth/authorize/?{query}")
    assert page.status_code == 200, page.text
    form = consent_form(page.text)
    approve = (("decision", "approve"), ("creator", ANA))
    bound = {"client_key", "scope", "redirect_uri", "state", "response_type"}
    token_fields = [k for k, _ in form.fields if k not in bound and k != "granted"]
    assert token_fields, "the consent form carries a hidden CSRF field"

    forged = http.post(
        "/v2/auth/authorize/", **form_body(form.submit(*approve, drop=tuple(token_fields)))
    )
    assert forged.status_code == 403, forged.text
    assert "location" not in forged.headers
    assert forged.headers["content-type"].startswith("text/html")

    # A token of another authorize request (another state) does not fit this one.
    other = consent_form(
        http.get(
            f"/v2/auth/authorize/?{authorize_query(AUDITED, AUDITED_REDIRECT, state='x')}"
        ).text
    )
    other_tokens = [(k, v) for k, v in other.fields if k in token_fields]
    swapped = form.submit(*approve, *other_tokens, drop=tuple(token_fields))
    refused = http.post("/v2/auth/authorize/", **form_body(swapped))
    assert refused.status_code == 403, refused.text
    assert "location" not in refused.headers

    accepted = http.post("/v2/auth/authorize/", **form_body(form.submit(*approve)))
    assert accepted.status_code == 302, accepted.text
    target = urlsplit(accepted.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == AUDITED_REDIRECT
    assert "code=" in target.query and "state=st-csrf" in target.query
