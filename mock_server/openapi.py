"""The OpenAPI 3.1 document of the emulated API, built from the tables the server routes with:
paths from `domain.endpoints.ENDPOINTS`, methods from `app.HANDLERS`, bodies and answers from
`domain.schemas.ENDPOINT_SCHEMAS`, scopes, rate limits and error codes from their own tables.
Served at `GET /_sandbox/openapi.json` (docs/control-api.md).

    document = openapi_document("http://127.0.0.1:8080")
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from mock_server.domain.endpoints import ENDPOINTS
from mock_server.domain.errors import API_ERRORS
from mock_server.domain.ratelimit import RATE_LIMITS
from mock_server.domain.schemas import (
    ENDPOINT_SCHEMAS,
    JSON,
    POSTING_INVALID,
    Endpoint,
    JsonSchema,
    obj,
)
from mock_server.domain.scopes import ENDPOINT_SCOPES

# ref 4.1: the error object of the envelope. `log_id` is 34 characters (the doc's example).
LOG_ID: JsonSchema = {"type": "string", "minLength": 1}
ENVELOPE_LOG_ID: JsonSchema = {"type": "string", "minLength": 34, "maxLength": 34}
# Every envelope endpoint may answer these (ref 4.2): the token, and a server failure.
SHARED_ERRORS = ("access_token_invalid", "scope_not_authorized", "internal_error")
BODY_TOO_LARGE = 413  # the sandbox's limit on request bodies (docs/fidelity.md)
HTML = {"text/html": {"schema": {"type": "string"}}}


class UndocumentedEndpoint(LookupError):
    """A routed endpoint has no entry in `domain.schemas.ENDPOINT_SCHEMAS`."""


def routes() -> dict[str, list[str]]:
    """endpoint name -> HTTP methods, as the server routes them."""
    from mock_server.app import HANDLERS  # the app imports the control API, which imports this

    return {name: methods for name, (_, methods) in HANDLERS.items()}


def openapi_document(base_url: str) -> dict[str, Any]:
    """The whole document, with `base_url` as its server (where the API answers)."""
    from mock_server import __version__

    paths: dict[str, dict[str, Any]] = {}
    for name, methods in routes().items():
        endpoint = ENDPOINT_SCHEMAS.get(name)
        if endpoint is None:
            raise UndocumentedEndpoint(f"{name} ({ENDPOINTS[name]}) has no ENDPOINT_SCHEMAS entry")
        for method in methods:
            operation_id = name if len(methods) == 1 else f"{name}_{method.lower()}"
            paths.setdefault(ENDPOINTS[name], {})[method.lower()] = operation(
                name, endpoint, method, operation_id
            )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "TikTok Login Kit, user info and Content Posting API (tiktok-sandbox)",
            "version": __version__,
            "description": "The API tiktok-sandbox emulates, as TikTok documents it: use it in "
            "place of https://open.tiktokapis.com. Error codes are those each endpoint answers; "
            "faults injected through the control API (docs/faults.md) may answer others.",
        },
        "servers": [{"url": base_url.rstrip("/")}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A user access token (act.…) from POST /v2/oauth/token/",
                }
            }
        },
    }


def operation(name: str, endpoint: Endpoint, method: str, operation_id: str) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": operation_id,
        "summary": endpoint.summary,
        "tags": [endpoint.shape],
        "externalDocs": {"url": endpoint.doc},
        "responses": RESPONSES[endpoint.shape](name, endpoint),
    }
    if endpoint.description:
        op["description"] = endpoint.description
    params = [p for p in endpoint.params if method == "GET" or endpoint.shape != "page"]
    if params:
        op["parameters"] = [
            {"name": p.name, "in": p.where, "required": p.required, "schema": p.schema}
            | ({"description": p.description} if p.description else {})
            | ({"example": p.example} if p.example is not None else {})
            for p in params
        ]
    if endpoint.body_types and method != "GET":
        example = {} if endpoint.example is None else {"example": endpoint.example}
        op["requestBody"] = {
            "required": True,
            "content": {
                media: {"schema": endpoint.body, **example} for media in endpoint.body_types
            },
        }
    if endpoint.shape == "envelope":
        op["security"] = [{"bearer": []}]
        op["x-scopes"] = sorted(ENDPOINT_SCOPES.get(name, ()))
        if name in RATE_LIMITS:
            op["x-rate-limit-per-minute"] = RATE_LIMITS[name]
    return op


# -- answers, by shape ---------------------------------------------------------------------------


def envelope_error(codes: list[str]) -> JsonSchema:
    error = obj(
        {
            "code": {"type": "string", "enum": codes},
            "message": {"type": "string"},
            "log_id": ENVELOPE_LOG_ID,
        },
        "code",
        "message",
        "log_id",
    )
    return obj({"data": {"type": "object"}, "error": error}, "error")


def envelope_success(endpoint: Endpoint) -> JsonSchema:
    ok = obj(
        {"code": {"const": "ok"}, "message": {"type": "string"}, "log_id": ENVELOPE_LOG_ID},
        "code",
        "message",
        "log_id",
    )
    if endpoint.data is None:  # ref 12: cancel answers the error object only
        return obj({"data": {"type": "object"}, "error": ok}, "error")
    return obj({"data": endpoint.data, "error": ok}, "data", "error")


def envelope_responses(name: str, endpoint: Endpoint) -> dict[str, Any]:
    codes = [*endpoint.errors, *SHARED_ERRORS]
    if name in RATE_LIMITS:
        codes.append("rate_limit_exceeded")
    by_status: dict[int, list[str]] = defaultdict(list)
    for code in dict.fromkeys(codes):
        if code not in endpoint.answered_200:
            by_status[API_ERRORS[code].http_status].append(code)
    if endpoint.body_types:  # a body over the size limit: the family's bad-input code
        invalid = [c for c in endpoint.errors if c in POSTING_INVALID] or ["invalid_params"]
        by_status[BODY_TOO_LARGE].extend(invalid)
    success = envelope_success(endpoint)
    if endpoint.answered_200:
        success = {"anyOf": [success, envelope_error(list(endpoint.answered_200))]}
    ok: dict[str, Any] = {
        "description": "ok (error.code is `ok`)",
        "content": {JSON: {"schema": success}},
    }
    if endpoint.answered_200:
        ok["description"] += ", or one of the errors answered with 200 on purpose (ref 6)"
    if endpoint.publishes:
        ok["links"] = {
            target: {
                "operationId": target,
                "requestBody": {"publish_id": "$response.body#/data/publish_id"},
            }
            for target in ("status_fetch", "cancel")
        }
    responses: dict[str, Any] = {"200": ok}
    for status in sorted(by_status):
        responses[str(status)] = {
            "description": ", ".join(by_status[status]),
            "content": {JSON: {"schema": envelope_error(by_status[status])}},
        }
    return responses


def oauth_error(errors: tuple[str, ...]) -> JsonSchema:
    """ref 2.6: flat `{error, error_description, log_id}`."""
    return obj(
        {
            "error": {"type": "string", "enum": list(errors)},
            "error_description": {"type": "string"},
            "log_id": LOG_ID,
        },
        "error",
        "error_description",
        "log_id",
    )


def oauth_responses(name: str, endpoint: Endpoint) -> dict[str, Any]:
    error = oauth_error(endpoint.errors)
    if endpoint.data is None:  # ref 2.5: revoke's success is an empty 200
        ok: dict[str, Any] = {
            "description": "done (an empty body), or an error: its HTTP status is not "
            "documented, and 200 has been seen (ref 2.6)",
            "content": {JSON: {"schema": error}},
        }
    else:
        ok = {
            "description": "the tokens, or an error (200 has been seen for errors, ref 2.6)",
            "content": {JSON: {"schema": {"anyOf": [endpoint.data, error]}}},
        }
    failed = {"description": "a flat OAuth error (ref 2.6)", "content": {JSON: {"schema": error}}}
    return {"200": ok} | {status: failed for status in ("400", "401", "500", "503")}


def upload_responses(name: str, endpoint: Endpoint) -> dict[str, Any]:
    progress = {
        "Content-Range": {
            "description": "bytes 0-{last byte received}/{total}",
            "schema": {"type": "string"},
        }
    }
    error = obj(
        {
            "error": obj(
                {
                    "code": {"type": "string", "enum": [*endpoint.errors, "internal_error"]},
                    "message": {"type": "string"},
                    "log_id": LOG_ID,
                },
                "code",
                "message",
                "log_id",
            ),
            "data": {"type": "object"},
        },
        "error",
    )
    why = {
        "400": "malformed headers, or a body that does not match them",
        "403": "the upload_url expired (valid 1 hour)",
        "404": "no upload for this upload_url",
        "416": "Content-Range does not follow the upload's progress",
        "500": "a server failure: send the chunk again",
    }
    return {
        "201": {"description": "every byte received; processing starts", "headers": progress},
        "206": {"description": "chunk received; more expected", "headers": progress},
    } | {
        status: {"description": text, "content": {JSON: {"schema": error}}}
        for status, text in why.items()
    }


def page_responses(name: str, endpoint: Endpoint) -> dict[str, Any]:
    return {
        "200": {"description": "the consent page", "content": HTML},
        "302": {
            "description": "back to redirect_uri with code, scopes and state, or error",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        "400": {"description": "a bad authorize request, shown on the page", "content": HTML},
        "403": {"description": "a consent form that did not come from the page", "content": HTML},
    }


RESPONSES = {
    "envelope": envelope_responses,
    "oauth": oauth_responses,
    "upload": upload_responses,
    "page": page_responses,
}
