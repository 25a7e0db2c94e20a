"""The requests side of interception: a `responses` mock whose one registered response claims
the sandbox's hosts (any method, any path) and answers from the sandbox.

Streamed and file bodies are read whole and forwarded with the headers requests sent, so the
sandbox sees what it would see on the wire. Other hosts pass through, or meet a catch-all that
refuses them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import responses
from requests import PreparedRequest

if TYPE_CHECKING:
    from mock_server.intercept import Interceptor

_ANY_URL = re.compile(".*")


class _Claimed(responses.CallbackResponse):
    """Matches every request the interceptor claims, whatever its method."""

    def __init__(self, interceptor: Interceptor) -> None:
        super().__init__("GET", _ANY_URL, self._answer, content_type=None)
        self._interceptor = interceptor

    def matches(self, request: PreparedRequest) -> tuple[bool, str]:
        if self._interceptor.claims(request.url or ""):
            return True, ""
        return False, "not a host of the sandbox"

    def _answer(self, request: PreparedRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        url = request.url or ""
        headers = httpx.Headers(list(request.headers.items()))
        headers.setdefault("Host", urlsplit(url).netloc)  # what http.client adds when sending
        forwarded = httpx.Request(
            request.method or "GET",
            url,
            headers=headers,
            stream=httpx.ByteStream(whole_body(request.body)),
        )
        response = self._interceptor.send(forwarded)
        return response.status_code, response.headers.multi_items(), response.content


class _Refused(responses.CallbackResponse):
    """Matches every request the interceptor does not claim, and refuses it."""

    def __init__(self, interceptor: Interceptor) -> None:
        super().__init__("GET", _ANY_URL, self._refuse, content_type=None)
        self._interceptor = interceptor

    def matches(self, request: PreparedRequest) -> tuple[bool, str]:
        return not self._interceptor.claims(request.url or ""), ""

    def _refuse(self, request: PreparedRequest) -> Exception:
        return self._interceptor.refusal(request.method or "GET", request.url or "")


def whole_body(body: Any) -> bytes:
    """A request body as bytes, as urllib3 would send it: text as UTF-8, files and iterables
    (requests' streamed bodies) read to the end."""
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if hasattr(body, "read"):
        return _chunk_bytes(body.read())
    if isinstance(body, Iterable):
        return b"".join(_chunk_bytes(chunk) for chunk in body)
    raise TypeError(f"a request body must be bytes, text, a file or an iterable, not {body!r}")


def _chunk_bytes(chunk: Any) -> bytes:
    return chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)


class RequestsHook:
    def __init__(self, interceptor: Interceptor) -> None:
        self._mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        self._mock.add(_Claimed(interceptor))
        if interceptor.other_hosts == "refuse":
            self._mock.add(_Refused(interceptor))
        else:
            self._mock.add_passthru(_ANY_URL)

    def start(self) -> None:
        self._mock.start()

    def stop(self) -> None:
        self._mock.stop(allow_assert=False)
        self._mock.reset()
