"""Request bodies are read from the ASGI messages with a limit (api.http.read_body)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import pytest
from starlette.requests import ClientDisconnect, Request

from mock_server.api.http import BodyTooLarge, header, read_body


def request(messages: Iterable[dict[str, Any]], headers: dict[str, str] | None = None) -> Request:
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        return pending.pop(0)

    raw = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request({"type": "http", "method": "POST", "headers": raw}, receive)


def part(body: bytes, more: bool) -> dict[str, Any]:
    return {"type": "http.request", "body": body, "more_body": more}


def read(req: Request, limit: int = 100) -> bytes:
    return asyncio.run(read_body(req, limit))


def test_a_body_in_parts_is_read_whole() -> None:
    assert read(request([part(b"ab", True), part(b"", True), part(b"cd", False)])) == b"abcd"
    assert read(request([part(b"", False)])) == b""
    assert read(request([{"type": "http.request"}])) == b""  # body and more_body are optional


def test_other_messages_are_skipped_and_a_disconnect_ends_the_read() -> None:
    assert read(request([{"type": "http.other"}, part(b"x", False)])) == b"x"
    with pytest.raises(ClientDisconnect):
        read(request([part(b"ab", True), {"type": "http.disconnect"}]))


def test_more_than_the_limit_is_refused_declared_or_not() -> None:
    with pytest.raises(BodyTooLarge):  # declared: refused before reading
        read(request([], {"content-length": "101"}))
    with pytest.raises(BodyTooLarge):  # undeclared: refused once past the limit
        read(request([part(b"x" * 60, True), part(b"x" * 41, False)]))
    assert read(request([part(b"x" * 100, False)], {"content-length": "100"})) == b"x" * 100


def test_a_header_is_the_first_of_its_name_as_starlette_finds_it() -> None:
    req = request([], {"content-type": "application/json"})
    req.scope["headers"].append((b"content-type", b"text/plain"))
    assert header(req, b"content-type") == req.headers.get("content-type") == "application/json"
    assert header(req, b"authorization") == req.headers.get("authorization", "") == ""
