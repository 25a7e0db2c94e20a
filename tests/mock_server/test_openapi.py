"""The OpenAPI 3.1 document of the emulated API (`GET /_sandbox/openapi.json`): valid, built from
the routing tables so that it cannot drift, and matching what the sandbox answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from mock_server import app as app_module
from mock_server.domain import endpoints, schemas
from mock_server.domain.errors import API_ERRORS
from mock_server.domain.ratelimit import RATE_LIMITS
from mock_server.domain.scopes import ENDPOINT_SCOPES
from mock_server.openapi import UndocumentedEndpoint, openapi_document
from mock_server.sandbox import Sandbox
from tests.mock_server.sandboxes import ALL_SCOPES, WEB, WEB_SECRET, make_sandbox

BASE = "http://127.0.0.1:8080"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_document(BASE)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with make_sandbox() as box:
        yield box


def test_every_routed_endpoint_has_its_schema_entry() -> None:
    assert set(app_module.HANDLERS) == set(schemas.ENDPOINT_SCHEMAS) == set(endpoints.ENDPOINTS)


def test_a_routed_endpoint_without_a_schema_cannot_be_documented(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(endpoints.ENDPOINTS, "video_archive", "/v2/video/archive/")
    handler = app_module.HANDLERS["user_info"][0]
    monkeypatch.setitem(app_module.HANDLERS, "video_archive", (handler, ["POST"]))
    with pytest.raises(UndocumentedEndpoint, match="video_archive"):
        openapi_document(BASE)


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": BASE}]


def test_paths_methods_scopes_and_limits_come_from_the_routing_tables(
    document: dict[str, Any],
) -> None:
    for name, (_, methods) in app_module.HANDLERS.items():
        path = document["paths"][endpoints.ENDPOINTS[name]]
        assert sorted(path) == sorted(m.lower() for m in methods), name
        for operation in path.values():
            if name in ENDPOINT_SCOPES:
                assert operation["x-scopes"] == sorted(ENDPOINT_SCOPES[name])
                assert operation["security"] == [{"bearer": []}]
            assert operation.get("x-rate-limit-per-minute") == RATE_LIMITS.get(name)


def error_codes(response: dict[str, Any]) -> set[str]:
    schema = response["content"]["application/json"]["schema"]
    return set(schema["properties"]["error"]["properties"]["code"]["enum"])


def test_each_documented_error_code_is_under_its_status(document: dict[str, Any]) -> None:
    """ref 4.2: the table's status for each code; 413 is the body limit; creator_info answers
    its cap and ban errors with 200 (ref 6)."""
    for name, endpoint in schemas.ENDPOINT_SCHEMAS.items():
        if endpoint.shape != "envelope":
            continue
        (operation,) = document["paths"][endpoints.ENDPOINTS[name]].values()
        for status, response in operation["responses"].items():
            if status in ("200", "413"):
                continue
            assert all(API_ERRORS[c].http_status == int(status) for c in error_codes(response))
        documented = set().union(
            *(error_codes(r) for s, r in operation["responses"].items() if s != "200")
        )
        assert set(endpoint.errors) - set(endpoint.answered_200) <= documented, name
        assert "access_token_invalid" in documented and "internal_error" in documented
        assert ("rate_limit_exceeded" in documented) == (name in RATE_LIMITS), name


def test_inits_link_their_publish_id_to_status_and_cancel(document: dict[str, Any]) -> None:
    for path in ("/v2/post/publish/video/init/", "/v2/post/publish/content/init/"):
        links = document["paths"][path]["post"]["responses"]["200"]["links"]
        assert {link["operationId"] for link in links.values()} == {"status_fetch", "cancel"}


def test_the_sandbox_serves_it_with_its_own_base_url(sandbox: Sandbox) -> None:
    with sandbox.client(base_url="http://127.0.0.1:9999") as http:
        served = http.get("/_sandbox/openapi.json")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/json")
    assert served.json() == openapi_document("http://127.0.0.1:9999")


def answer_schema(document: dict[str, Any], path: str, method: str, status: int) -> Any:
    response = document["paths"][path][method]["responses"][str(status)]
    return response["content"]["application/json"]["schema"]


def check(document: dict[str, Any], answer: httpx.Response) -> None:
    """The answer is one the document gives for its path, method and status."""
    request = answer.request
    schema = answer_schema(document, request.url.path, request.method.lower(), answer.status_code)
    Draft202012Validator(schema).validate(answer.json())


def test_what_the_sandbox_answers_is_what_the_document_says(
    sandbox: Sandbox, document: dict[str, Any]
) -> None:
    tokens = sandbox.issue_tokens(WEB, "ana", ALL_SCOPES)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    whole = schemas.WHOLE_FILE
    with sandbox.client() as http:
        made = http.post(
            "/v2/post/publish/video/init/",
            json={"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": whole},
            headers=bearer,
        )
        publish = {"publish_id": made.json()["data"]["publish_id"]}
        answers = [
            made,
            http.get("/v2/user/info/", params={"fields": "open_id,username"}, headers=bearer),
            http.get("/v2/user/info/", params={"fields": "nothing"}, headers=bearer),
            http.get("/v2/user/info/", params={"fields": "open_id"}),
            http.post("/v2/post/publish/creator_info/query/", headers=bearer),
            http.post("/v2/post/publish/status/fetch/", json=publish, headers=bearer),
            http.post("/v2/post/publish/cancel/", json=publish, headers=bearer),
            http.post("/v2/post/publish/video/init/", json={}, headers=bearer),
            http.post(
                "/v2/oauth/token/",
                data={
                    "client_key": WEB,
                    "client_secret": WEB_SECRET,
                    "grant_type": "refresh_token",
                    "refresh_token": tokens["refresh_token"],
                },
            ),
            http.post("/v2/oauth/token/", data={"client_key": WEB}),
            http.put("/upload/?upload_id=1&upload_token=x", content=b"x"),
        ]
    assert sorted({a.status_code for a in answers}) == [200, 400, 401, 404]
    for answer in answers:
        check(document, answer)
