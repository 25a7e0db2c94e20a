"""A tiny sandbox on a frozen clock and an httpx client on its in-process transport."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

import httpx
import pytest

from mock_server.runtime.clock import Clock
from mock_server.runtime.fetcher import FetchError, Progress
from mock_server.sandbox import Sandbox
from mock_server.scenario import Scenario, load_scenario, parse_scenario
from mock_server.state import ServerOptions
from tests.mock_server.sandboxes import WEB, WEB_REDIRECT, WEB_SECRET, make_sandbox

# ref 4.1: UTC YYYYMMDDHHMMSS then 20 upper-case hex digits.
LOG_ID = re.compile(r"^\d{14}[0-9A-F]{20}$")
USER_TOKEN_FIELDS = {
    "access_token",
    "expires_in",
    "open_id",
    "refresh_expires_in",
    "refresh_token",
    "scope",
    "token_type",
}


@pytest.fixture
def sandbox() -> Sandbox:
    return make_sandbox()


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with sandbox.client() as client:
        yield client


def exchange(
    http: httpx.Client,
    code: str,
    *,
    client_key: str = WEB,
    client_secret: str = WEB_SECRET,
    redirect_uri: str = WEB_REDIRECT,
    **extra: str,
) -> httpx.Response:
    form = {
        "client_key": client_key,
        "client_secret": client_secret,
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": redirect_uri,
        **extra,
    }
    return http.post("/v2/oauth/token/", data=form)


def user_tokens(
    sandbox: Sandbox, http: httpx.Client, scopes: list[str], username: str = "ana"
) -> dict[str, Any]:
    """A fresh token pair for `username` on the web app, through POST /v2/oauth/token/."""
    response = exchange(http, sandbox.issue_code(WEB, username, scopes, WEB_REDIRECT))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_oauth_error(response: httpx.Response, error: str, status: int = 200) -> dict[str, Any]:
    """ref 2.6: flat `{error, error_description, log_id}`, nothing else."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "error_description", "log_id"}
    assert body["error"] == error
    assert isinstance(body["error_description"], str) and body["error_description"]
    assert LOG_ID.match(body["log_id"])
    return body


def assert_envelope_error(response: httpx.Response, code: str, status: int) -> dict[str, Any]:
    """ref 4.1: `{data: {}, error: {code, message, log_id}}` with x-tt-logid echoing log_id."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"data", "error"}
    assert body["data"] == {}
    assert set(body["error"]) == {"code", "message", "log_id"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert LOG_ID.match(body["error"]["log_id"])
    assert response.headers["x-tt-logid"] == body["error"]["log_id"]
    return body


# -- posting (issue 3): the default scenario on a frozen clock, one call per endpoint ---------

POSTING_T0 = datetime(2026, 1, 1, tzinfo=UTC)
AUDITED = "awacmescheduler01"
UNAUDITED = "awindieposter0001"
SANDBOX_APP = "sbawacmesandbox01"
POSTING_SCOPES = ["video.publish", "video.upload"]
SANDBOX_REDIRECT = "http://127.0.0.1:4321/callback/"
# Verified for the audited app (domain) and, over http, for all three apps (loopback prefix).
ACME_MEDIA = "https://media.acme.example/"
LOOPBACK_MEDIA = "http://127.0.0.1:9000/media/"
# ref 10.1's example: 50,000,123 bytes in 5 chunks of 10,000,000 (the last one 10,000,123).
CHUNKED = {
    "source": "FILE_UPLOAD",
    "video_size": 50_000_123,
    "chunk_size": 10_000_000,
    "total_chunk_count": 5,
}
CREATOR_INFO_PATH = "/v2/post/publish/creator_info/query/"
VIDEO_INIT_PATH = "/v2/post/publish/video/init/"
INBOX_INIT_PATH = "/v2/post/publish/inbox/video/init/"
CONTENT_INIT_PATH = "/v2/post/publish/content/init/"
STATUS_PATH = "/v2/post/publish/status/fetch/"
CANCEL_PATH = "/v2/post/publish/cancel/"


def default_with(**keys: Any) -> Scenario:
    """The default scenario with top-level keys added or replaced (e.g. `posting={...}`)."""
    return parse_scenario({**load_scenario("default").raw, **keys}, "default-with.yaml")


def pull(url: str = LOOPBACK_MEDIA + "clip.mp4") -> dict[str, Any]:
    return {"source": "PULL_FROM_URL", "video_url": url}


class HeldFetcher:
    """A URL fetcher whose pulls stay under way until `release()`: PULL_FROM_URL publishes stay
    PROCESSING_DOWNLOAD (cancellable) whatever the network, and nothing leaves the machine."""

    def __init__(self) -> None:
        self.requested: list[str] = []
        self._released = threading.Event()

    def fetch(self, url: str, dest: BinaryIO, max_bytes: int, progress: Progress) -> int:
        self.requested.append(url)
        self._released.wait()
        raise FetchError("released at the end of the test")

    def release(self) -> None:
        self._released.set()


class Posting:
    """The default scenario's sandbox on a frozen clock, with one short call per posting
    endpoint and the control calls the posting tests use. `close()` when done."""

    def __init__(
        self, base_url: str = "http://127.0.0.1:8080", scenario: Scenario | str = "default"
    ) -> None:
        self.fetcher = HeldFetcher()  # the pull seam (runtime/fetcher.py)
        # The control API answers under loopback names and the hosts it is told about.
        host = httpx.URL(base_url).host
        self.sandbox = Sandbox(
            scenario,
            clock=Clock.frozen_at(POSTING_T0),
            fetcher=self.fetcher,
            options=ServerOptions(allowed_hosts=(host,)),
        )
        self.http = self.sandbox.client(base_url=base_url)

    def close(self) -> None:
        self.fetcher.release()
        self.http.close()

    def __enter__(self) -> Posting:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def token(self, client_key: str, username: str, scopes: list[str] | None = None) -> str:
        """A fresh access token (valid 2 h on the sandbox clock)."""
        # the sandbox app registers `http://127.0.0.1:*/callback/`: name a port
        redirect_uri = SANDBOX_REDIRECT if client_key == SANDBOX_APP else None
        body = self.sandbox.issue_tokens(
            client_key, username, scopes or POSTING_SCOPES, redirect_uri
        )
        return str(body["access_token"])

    def advance(self, seconds: float) -> None:
        self.sandbox.clock.advance(seconds)

    # -- TikTok endpoints ------------------------------------------------------------------

    def call(self, path: str, token: str | None, body: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        headers |= kwargs.pop("headers", {})
        if body is not None:
            kwargs["json"] = body
        return self.http.post(path, headers=headers, **kwargs)

    def creator_info(self, token: str) -> httpx.Response:
        return self.call(CREATOR_INFO_PATH, token)

    def video_init(
        self,
        token: str,
        privacy_level: str | None = "SELF_ONLY",
        source: dict[str, Any] | None = None,
        **post_info: Any,
    ) -> httpx.Response:
        """Direct Post; `privacy_level=None` leaves the field out."""
        if privacy_level is not None:
            post_info["privacy_level"] = privacy_level
        body = {"post_info": post_info, "source_info": source or CHUNKED}
        return self.call(VIDEO_INIT_PATH, token, body)

    def inbox_init(self, token: str, source: dict[str, Any] | None = None) -> httpx.Response:
        return self.call(INBOX_INIT_PATH, token, {"source_info": source or CHUNKED})

    def photo_init(
        self,
        token: str,
        mode: str = "DIRECT_POST",
        privacy_level: str | None = "SELF_ONLY",
        images: list[str] | None = None,
        cover: int | None = 0,
        **post_info: Any,
    ) -> httpx.Response:
        if privacy_level is not None:
            post_info["privacy_level"] = privacy_level
        source: dict[str, Any] = {
            "source": "PULL_FROM_URL",
            "photo_images": [LOOPBACK_MEDIA + "p1.jpg", LOOPBACK_MEDIA + "p2.jpg"]
            if images is None
            else images,
        }
        if cover is not None:
            source["photo_cover_index"] = cover
        body = {
            "media_type": "PHOTO",
            "post_mode": mode,
            "post_info": post_info,
            "source_info": source,
        }
        return self.call(CONTENT_INIT_PATH, token, body)

    def status(self, token: str, publish_id: str) -> httpx.Response:
        return self.call(STATUS_PATH, token, {"publish_id": publish_id})

    def cancel(self, token: str, publish_id: str) -> httpx.Response:
        return self.call(CANCEL_PATH, token, {"publish_id": publish_id})

    # -- control API -----------------------------------------------------------------------

    def patch_app(self, client_key: str, **fields: Any) -> dict[str, Any]:
        response = self.http.patch(f"/_sandbox/apps/{client_key}", json=fields)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def patch_creator(self, username: str, **fields: Any) -> dict[str, Any]:
        response = self.http.patch(f"/_sandbox/creators/{username}", json=fields)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def new_app(self, creators: list[dict[str, Any]], **settings: Any) -> tuple[str, list[str]]:
        """A fresh app (and fresh creators): its client_key and the creators' usernames."""
        response = self.http.post("/_sandbox/apps", json={**settings, "creators": creators})
        assert response.status_code == 201, response.text
        body = response.json()
        return body["app"]["client_key"], [c["username"] for c in body["creators"]]

    def publish(self, publish_id: str) -> dict[str, Any]:
        response = self.http.get(f"/_sandbox/publishes/{publish_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def publishes(self, client_key: str) -> list[dict[str, Any]]:
        response = self.http.get("/_sandbox/publishes", params={"client_key": client_key})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["publishes"]
        return items

    def journal(self, path: str = "/v2/post/") -> list[dict[str, Any]]:
        """Newest first."""
        response = self.http.get("/_sandbox/journal", params={"path": path})
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()["entries"]
        return entries


def publish_id_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["error"]["code"] == "ok", body
    return str(body["data"]["publish_id"])
