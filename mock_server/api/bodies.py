"""JSON request bodies of the envelope endpoints (ref 5.1, 7-12): the body as a JSON object,
and typed readers that name the field they refuse. Every refusal is the bad-input code, spelled
as the endpoint's family answers it (`http.spelled`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from mock_server.api import jsontext
from mock_server.api.http import BAD_INPUT, header, read_body
from mock_server.domain.errors import ApiError
from mock_server.state import SandboxState

JSON_TYPES = ("", "application/json", "text/json")


def bad(message: str, rule: str = "request_shape") -> ApiError:
    return ApiError(BAD_INPUT, message, rule=rule)


async def json_body(request: Request, state: SandboxState) -> dict[str, Any]:
    """ref 5.1, 7: `Content-Type: application/json; charset=UTF-8`; an empty body is `{}`."""
    content_type = header(request, b"content-type").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise bad(f"Content-Type must be application/json, not {content_type}.", "content_type")
    raw = await read_body(request, state.options.max_body_bytes)
    if not raw.strip():
        return {}
    try:
        data = jsontext.parse(raw, strict=False)
    except jsontext.JsonProblem as exc:
        raise bad(f"The request body is not valid JSON: {exc}", "body_not_json") from exc
    if not isinstance(data, dict):
        raise bad("The request body must be a JSON object.", "body_not_object")
    return data


# -- typed field readers: each names the field it refuses --------------------------------


def read_object(
    data: dict[str, Any], key: str, where: str, required: bool
) -> dict[str, Any] | None:
    value = data.get(key)
    if value is None:
        if required:
            raise bad(f"{where}{key} is required.")
        return None
    if not isinstance(value, dict):
        raise bad(f"{where}{key} must be an object.")
    return value


def read_string(data: dict[str, Any], key: str, where: str, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise bad(f"{where}{key} is required.")
        return None
    if not isinstance(value, str):
        raise bad(f"{where}{key} must be a string.")
    return value


def read_bool(data: dict[str, Any], key: str, where: str) -> bool:
    value = data.get(key)
    if value is None:
        return False
    if type(value) is not bool:
        raise bad(f"{where}{key} must be a boolean.")
    return value


INT64_MAX = 2**63 - 1


def read_int(data: dict[str, Any], key: str, where: str, maximum: int = INT64_MAX) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int:
        raise bad(f"{where}{key} must be an integer.")
    if not -maximum - 1 <= value <= maximum:
        raise bad(f"{where}{key} is out of range (at most {maximum}).")
    return value
