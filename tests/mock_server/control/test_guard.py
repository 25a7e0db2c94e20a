"""Who may use `/_sandbox/`: loopback tools and the sandbox's own pages, never another web page
(Host for DNS rebinding, Origin and Sec-Fetch-Site for cross-site requests, JSON only)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from mock_server import Clock, Sandbox
from mock_server.control.guard import ControlPolicy, split_host
from mock_server.state import ServerOptions
from tests.forms import form_token
from tests.mock_server.control.views import control_state

T0 = datetime(2026, 1, 1, tzinfo=UTC)
JSON = {"Content-Type": "application/json"}
AUDITED = "awacmescheduler01"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    sandbox = Sandbox("default", seed=0, clock=Clock.frozen_at(T0))
    yield sandbox
    sandbox.close()


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with sandbox.client() as client:
        yield client


def refused(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    message: str = error["message"]
    return message


# -- Host: DNS rebinding ------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "localhost.evil.example"],
)
def test_a_foreign_host_can_neither_read_nor_change_the_sandbox(
    http: httpx.Client, host: str
) -> None:
    before = control_state(http)
    answer = http.get("/_sandbox/apps", headers={"Host": host})
    message = refused(answer, 403, "host_not_allowed")
    assert "Secret" not in answer.text and "--allowed-host" in message
    refused(http.get("/_sandbox/", headers={"Host": host}), 403, "host_not_allowed")
    for path, body in [("/_sandbox/clock", {"advance_seconds": 60}), ("/_sandbox/reset", {})]:
        refused(http.post(path, json=body, headers={"Host": host}), 403, "host_not_allowed")
    assert control_state(http) == before


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:8080", "localhost", "LOCALHOST:1", "127.9.9.9", "[::1]:8080", "app.localhost:80"],
)
def test_loopback_names_are_answered(http: httpx.Client, host: str) -> None:
    assert http.get("/_sandbox/health", headers={"Host": host}).status_code == 200


def test_allowed_hosts_and_the_public_url_host_are_answered() -> None:
    options = ServerOptions(
        allowed_hosts=("sandbox.internal",), public_base_url="https://tt.example.dev:8443"
    )
    with Sandbox("default", options=options).client() as http:
        for host in ("sandbox.internal", "SANDBOX.internal:9000", "tt.example.dev"):
            assert http.get("/_sandbox/health", headers={"Host": host}).status_code == 200
        refused(
            http.get("/_sandbox/health", headers={"Host": "other.dev"}), 403, "host_not_allowed"
        )


def test_tiktok_paths_answer_under_any_host(http: httpx.Client) -> None:
    # TikTok's own hosts (the proxy and name-resolution modes) and any name the app uses.
    page = http.get(
        "/v2/auth/authorize/",
        params={
            "client_key": AUDITED,
            "scope": "user.info.basic",
            "redirect_uri": "http://127.0.0.1:3000/callback/",
            "response_type": "code",
        },
        headers={"Host": "www.tiktok.com"},
    )
    assert page.status_code == 200
    info = http.get("/v2/user/info/", headers={"Host": "open.tiktokapis.com"})
    assert info.status_code == 401 and info.json()["error"]["code"] == "access_token_invalid"
    avatar = http.get("/_sandbox/avatars/1.svg", headers={"Host": "evil.example"})
    assert avatar.status_code == 404  # public images: not the guard's business


def test_the_admin_token_passes_host_and_origin_checks() -> None:
    sandbox = Sandbox("default", options=ServerOptions(admin_token="t0ken"))
    with sandbox.client() as http:
        headers = {"X-Sandbox-Admin-Token": "t0ken", "Host": "ci.example", "Origin": "http://x"}
        assert http.post("/_sandbox/reset", headers=headers).status_code == 200
        headers["X-Sandbox-Admin-Token"] = "wrong"
        refused(http.post("/_sandbox/reset", headers=headers), 403, "host_not_allowed")


# -- cross-site requests --------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://127.0.0.1:3000"},  # another loopback origin is another origin
        {"Origin": "https://127.0.0.1:8080"},  # another scheme too
        {"Origin": "null"},  # sandboxed frames, data: URLs
        {"Origin": "not a url"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_writes_from_other_pages_are_refused(http: httpx.Client, headers: dict[str, str]) -> None:
    before = control_state(http)
    for path, body in [
        ("/_sandbox/clock", {"advance_seconds": 60}),
        ("/_sandbox/reset", {}),
        ("/_sandbox/tokens", {"client_key": AUDITED, "username": "ana_makes", "scopes": []}),
    ]:
        answer = http.post(path, json=body, headers=headers)
        refused(answer, 403, "cross_origin_request")
    assert control_state(http) == before


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://127.0.0.1:8080"},
        {"Origin": "http://127.0.0.1"},  # no port given: the request's Host has none either
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:8080"},
        {"Sec-Fetch-Site": "none"},  # typed into the address bar
    ],
)
def test_writes_from_the_sandboxs_own_origin_pass(
    http: httpx.Client, headers: dict[str, str]
) -> None:
    if headers.get("Origin") == "http://127.0.0.1":
        headers = {**headers, "Host": "127.0.0.1"}
    answer = http.post("/_sandbox/clock", json={"advance_seconds": 60}, headers=headers)
    assert answer.status_code == 200, answer.text


def test_reads_from_other_sites_are_refused_but_links_still_open_the_dashboard(
    http: httpx.Client,
) -> None:
    cross = {"Sec-Fetch-Site": "cross-site"}
    refused(
        http.get("/_sandbox/apps", headers=cross | {"Sec-Fetch-Mode": "cors"}),
        403,
        "cross_origin_request",
    )
    framed = cross | {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"}
    refused(http.get("/_sandbox/", headers=framed), 403, "cross_origin_request")
    link = cross | {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    page = http.get("/_sandbox/", headers=link)
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"


# -- content types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "multipart/form-data; boundary=x",
        "application/xml",
    ],
)
def test_control_writes_need_json(http: httpx.Client, content_type: str) -> None:
    before = control_state(http)
    answer = http.post(
        "/_sandbox/clock",
        content=b'{"advance_seconds": 60}',
        headers={"Content-Type": content_type},
    )
    refused(answer, 415, "unsupported_media_type")
    assert control_state(http) == before


def test_a_body_without_a_content_type_is_refused_and_no_body_is_fine(http: httpx.Client) -> None:
    refused(
        http.post("/_sandbox/clock", content=b'{"advance_seconds": 60}'),
        415,
        "unsupported_media_type",
    )
    assert http.post("/_sandbox/reset").status_code == 200  # curl -X POST .../reset
    assert http.delete("/_sandbox/faults").status_code == 200
    vendor = {"Content-Type": "application/vnd.api+json; charset=utf-8"}
    assert http.post("/_sandbox/clock", content=b"{}", headers=vendor).status_code == 200


# -- the dashboard's forms --------------------------------------------------------------------


def upload_publish(sandbox: Sandbox, http: httpx.Client) -> str:
    token = sandbox.issue_tokens(AUDITED, "ana_makes", ["video.publish"])["access_token"]
    answer = http.post(
        "/v2/post/publish/video/init/",
        headers={"Authorization": f"Bearer {token}", **JSON},
        json={
            "post_info": {"privacy_level": "SELF_ONLY"},
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": 1000,
                "chunk_size": 1000,
                "total_chunk_count": 1,
            },
        },
    )
    publish_id: str = answer.json()["data"]["publish_id"]
    return publish_id


def test_dashboard_buttons_work_with_their_form_token_and_not_without(
    sandbox: Sandbox, http: httpx.Client
) -> None:
    publish_id = upload_publish(sandbox, http)
    path = f"/_sandbox/publishes/{publish_id}/actions"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for body in ("action=revoke_app", "action=revoke_app&csrf_token=0123abcd"):
        message = refused(http.post(path, content=body, headers=form), 403, "csrf_token_invalid")
        assert "reload the dashboard" in message
    assert http.get(f"/_sandbox/publishes/{publish_id}").json()["status"] == "PROCESSING_UPLOAD"
    token = form_token(http.get("/_sandbox/").text)
    clicked = http.post(path, content=f"action=revoke_app&csrf_token={token}", headers=form)
    assert clicked.status_code == 303 and clicked.headers["location"] == "/_sandbox/"
    assert http.get(f"/_sandbox/publishes/{publish_id}").json()["fail_reason"] == "auth_removed"


def test_another_sandboxs_form_token_is_refused(sandbox: Sandbox, http: httpx.Client) -> None:
    other_sandbox = Sandbox("default", seed=0, clock=Clock.frozen_at(T0))
    with other_sandbox.client() as other:
        upload_publish(other_sandbox, other)
        stranger = form_token(other.get("/_sandbox/").text)
    publish_id = upload_publish(sandbox, http)
    assert stranger != form_token(http.get("/_sandbox/").text)  # per-sandbox random key
    answer = http.post(
        f"/_sandbox/publishes/{publish_id}/actions",
        content=f"action=revoke_app&csrf_token={stranger}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    refused(answer, 403, "csrf_token_invalid")


# -- peers ----------------------------------------------------------------------------------


def peer_get(sandbox: Sandbox, peer: str) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=sandbox.app, client=(peer, 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as c:
            return await c.get("/_sandbox/health")

    return asyncio.run(call())


def test_ipv4_mapped_loopback_peers_are_loopback(sandbox: Sandbox) -> None:
    # What a dual-stack socket (`--host ::`) reports for an IPv4 client on 127.0.0.1.
    assert peer_get(sandbox, "::ffff:127.0.0.1").status_code == 200
    refused(peer_get(sandbox, "::ffff:10.0.0.1"), 403, "forbidden")


# -- the policy as data -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "host"),
    [
        ("127.0.0.1:8080", "127.0.0.1"),
        ("[::1]:8080", "::1"),
        ("[::1]", "::1"),
        ("Example.COM", "example.com"),
        ("example.com.:80", "example.com."),
        ("::1", "::1"),  # not valid in a Host header, but never mistaken for host "::" port 1
    ],
)
def test_split_host(value: str, host: str) -> None:
    assert split_host(value) == host


def test_a_policy_without_a_host_header_answers_local_tools() -> None:
    policy = ControlPolicy(admin_token=None, public_base_url=None)
    assert policy.host_allowed(None)
    assert not policy.host_allowed("evil.example")
    assert (
        policy.check(
            method="GET", path="/_sandbox/health", scheme="http", peer="127.0.0.1", headers={}
        )
        is None
    )
