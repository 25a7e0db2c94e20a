"""Shared pieces of the "safe to leave running" tests (issue 10).

- `snapshot`: everything the control API shows of a sandbox's state (apps, creators, grants,
  publishes, faults, outcomes, clock, webhooks; not the journal, which records every request),
  to compare before and after a request that was refused.
- Answer shapes: the control API's `{"error": {"code", "message"}}`, TikTok's envelope and its
  flat OAuth error.
- `page_forms`: the forms of an HTML page (the consent page, the dashboard) with their fields,
  so a test posts what the page would post, CSRF token included, without knowing its name.
- `raw_request`: one HTTP/1.1 exchange on a plain socket, for bytes httpx refuses to send.
- `StallingMedia` and `HangingReceiver`: loopback peers that never finish (a media server that
  stalls mid-body, a webhook receiver that never answers) until the test releases them.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import select
import socket
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Self
from urllib.parse import urlencode

import httpx

from tests.listings import whole
from tests.mock_server.api.conftest import LOG_ID
from tests.mock_server.lifecycle_kit import LoopbackServer, answer

# The default scenario (scenarios/default.yaml).
AUDITED = "awacmescheduler01"
UNAUDITED = "awindieposter0001"
SANDBOX_APP = "sbawacmesandbox01"  # desktop, registers http://127.0.0.1:*/callback/
SECRETS = {
    AUDITED: "acmeSchedulerSecret0000000000001",
    UNAUDITED: "indiePosterSecret000000000000001",
    SANDBOX_APP: "acmeSandboxSecret000000000000001",
}
AUDITED_REDIRECT = "http://127.0.0.1:3000/callback/"
ANA = "ana_makes"  # public, a target user of the sandbox app
BEN = "ben_private"  # private
SCOPES = ["user.info.basic", "user.info.profile", "video.publish", "video.upload"]

# The control API's views of state. The journal is left out on purpose: it records every
# request, refused ones included.
SNAPSHOT_VIEWS = (
    "/_sandbox/apps",
    "/_sandbox/creators",
    "/_sandbox/grants",
    "/_sandbox/publishes",
    "/_sandbox/faults",
    "/_sandbox/outcomes",
    "/_sandbox/clock",
    "/_sandbox/webhooks",
)

SMALL_UPLOAD = {
    "source": "FILE_UPLOAD",
    "video_size": 1000,
    "chunk_size": 1000,
    "total_chunk_count": 1,
}


def snapshot(http: httpx.Client) -> dict[str, Any]:
    """What the control API shows of the sandbox now; every view must answer 200."""
    views: dict[str, Any] = {}
    for path in SNAPSHOT_VIEWS:
        views[path] = whole(http, path)
    return views


def control_error(
    response: httpx.Response, status: int | None = None, code: str | None = None
) -> dict[str, Any]:
    """A refusal in the control API's shape: a JSON 4xx `{"error": {"code", "message"}}`."""
    if status is not None:
        assert response.status_code == status, response.text
    assert 400 <= response.status_code < 500, response.text
    assert response.headers.get("content-type", "").startswith("application/json"), response.text
    error = response.json()["error"]
    assert isinstance(error, dict), response.text
    assert isinstance(error.get("code"), str) and error["code"], response.text
    assert isinstance(error.get("message"), str) and error["message"], response.text
    if code is not None:
        assert error["code"] == code, response.text
    return error


def envelope_error(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """ref 4.1: `{"data": {}, "error": {"code", "message", "log_id"}}`, code not `ok`."""
    if status is not None:
        assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) <= {"data", "error"} and "error" in body, response.text
    error = body["error"]
    assert set(error) == {"code", "message", "log_id"}, response.text
    assert isinstance(error["code"], str) and error["code"] not in ("", "ok"), response.text
    assert isinstance(error["message"], str), response.text
    assert LOG_ID.match(error["log_id"]), response.text
    return body


def oauth_error(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """ref 2.6: the flat `{"error", "error_description", "log_id"}`."""
    if status is not None:
        assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "error_description", "log_id"}, response.text
    assert isinstance(body["error"], str) and body["error"], response.text
    assert isinstance(body["error_description"], str), response.text
    assert LOG_ID.match(body["log_id"]), response.text
    return body


def raw_json(http: httpx.Client, method: str, path: str, text: str | bytes, **kw: Any) -> Any:
    """Send `text` as the JSON body exactly as written (e.g. with `\\udfff` in it)."""
    body = text.encode() if isinstance(text, str) else text
    headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
    return http.request(method, path, content=body, headers=headers, **kw)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# A PKCE challenge in TikTok's form (hex SHA-256 of the verifier), which desktop apps must send.
CODE_VERIFIER = "v" * 43
CODE_CHALLENGE = hashlib.sha256(CODE_VERIFIER.encode()).hexdigest()


def authorize_query(
    client_key: str, redirect_uri: str, scopes: list[str] | None = None, state: str = "st-1"
) -> str:
    return urlencode(
        {
            "client_key": client_key,
            "scope": ",".join(scopes or ["user.info.basic"]),
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
            "code_challenge": CODE_CHALLENGE,
            "code_challenge_method": "S256",
        }
    )


# -- forms of a page ------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # hidden and checked inputs
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (name, value) of submits

    def submit(self, *extra: tuple[str, str], drop: tuple[str, ...] = ()) -> list[tuple[str, str]]:
        """The pairs a browser would post, plus `extra`, without the fields named in `drop`."""
        return [(k, v) for k, v in self.fields if k not in drop] + list(extra)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = Form(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._current)
        elif self._current is not None and tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if "disabled" in a:
                return
            self._current.fields.append((a["name"], a.get("value", "")))
        elif self._current is not None and tag == "button" and a.get("name"):
            self._current.buttons.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def page_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def consent_form(html: str) -> Form:
    forms = [f for f in page_forms(html) if f.action.endswith("/v2/auth/authorize/")]
    assert len(forms) == 1, f"expected one consent form, found {len(forms)}"
    return forms[0]


def form_body(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "content": urlencode(pairs),
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
    }


# -- raw HTTP -------------------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def raw_request(
    port: int, data: bytes, host: str = "127.0.0.1", timeout: float = 30
) -> RawResponse:
    """Send `data` (a whole HTTP/1.1 request) and read one answer."""
    method = data.split(b" ", 1)[0].decode("ascii")
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        body = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return RawResponse(response.status, headers, body)


# -- peers that never finish ----------------------------------------------------------------


class _Peer:
    """A loopback server run by the test whose answers wait for `release()` (always called on
    exit, so nothing it holds outlives the test)."""

    def __init__(self) -> None:
        self._release = threading.Event()
        self.server = LoopbackServer(self._handle)

    def _handle(self, request: Any, body: bytes) -> None:
        raise NotImplementedError

    def release(self) -> None:
        self._release.set()

    def __enter__(self) -> Self:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self.server.__exit__(*exc)


class StallingMedia(_Peer):
    """A media server whose GET answers 200, announces `size` bytes, sends the first 64 KiB and
    then stalls, watching its connection: `closed` is set when the client hangs up. `release()`
    ends the answer early, so no download outlives the test."""

    def __init__(self, size: int = 50 * 1024 * 1024) -> None:
        super().__init__()
        self.size = size
        self.started = threading.Event()
        self.closed = threading.Event()
        self.url = self.server.url

    def _handle(self, request: Any, body: bytes) -> None:
        request.close_connection = True
        try:
            request.send_response(200)
            request.send_header("Content-Type", "video/mp4")
            request.send_header("Content-Length", str(self.size))
            request.end_headers()
            request.wfile.write(b"\0" * 65536)
            request.wfile.flush()
        except OSError:
            self.closed.set()
            return
        self.started.set()
        conn = request.connection
        while not self._release.is_set():
            readable, _, _ = select.select([conn], [], [], 0.05)
            if readable:
                try:
                    data = conn.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    self.closed.set()
                    return


class HangingReceiver(_Peer):
    """A webhook receiver that takes each request and never answers until `release()`."""

    def __init__(self) -> None:
        super().__init__()
        self.url = self.server.url + "/hook"

    def _handle(self, request: Any, body: bytes) -> None:
        self._release.wait(120)
        with contextlib.suppress(OSError):  # the sandbox gave up on us: its business
            answer(request, 200)
