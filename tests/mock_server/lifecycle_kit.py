"""Shared pieces of the media-transfer and lifecycle tests (issue 4).

- Real media, made by the tests: `pad_mp4` (`tiktok-sandbox make-video`'s padding) grows a real
  MP4 to a chunkable size with a trailing top-level `free` box (every MP4 reader skips it), so
  multi-chunk uploads carry a real video.
- `Studio`: the default scenario's sandbox on a frozen clock, seams filled with test doubles
  (a `StaticFetcher`, a `RecordingWebhookSender`), and one short call per endpoint the tests use:
  init, PUT, status, cancel, and the control API's publishes, actions, webhooks and outcomes.
- `verify_signature`: TikTok's webhook signature check written from ref 14.4, independently of
  the emulator's code.
- `LoopbackServer`: a tiny `http.server` on 127.0.0.1 run by a test (media to pull, a webhook
  receiver), stopped by the test.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from mock_server.runtime.clock import Clock
from mock_server.runtime.fetcher import StaticFetcher, UrlFetcher
from mock_server.runtime.webhooks import RecordingWebhookSender, WebhookSender
from mock_server.sandbox import Sandbox
from tests.listings import whole

MiB = 1024 * 1024
CHUNK = 5 * MiB  # ref 10.1: the smallest chunk ("MB" read as binary)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
T0_EPOCH = T0.timestamp()

# The default scenario (scenarios/default.yaml).
AUDITED = "awacmescheduler01"
UNAUDITED = "awindieposter0001"
SANDBOX_APP = "sbawacmesandbox01"
SECRETS = {
    AUDITED: "acmeSchedulerSecret0000000000001",
    UNAUDITED: "indiePosterSecret000000000000001",
    SANDBOX_APP: "acmeSandboxSecret000000000000001",
}
ANA = "ana_makes"  # public account, 600 s max duration
BEN = "ben_private"  # private account
SCOPES = ["user.info.basic", "video.publish", "video.upload"]
ACME_MEDIA = "https://media.acme.example/"  # a verified domain of the audited app
HOOK_URL = "https://hooks.acme.example/tiktok"
DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "default.yaml"

VIDEO_INIT = "/v2/post/publish/video/init/"
INBOX_INIT = "/v2/post/publish/inbox/video/init/"
CONTENT_INIT = "/v2/post/publish/content/init/"
STATUS = "/v2/post/publish/status/fetch/"
CANCEL = "/v2/post/publish/cancel/"

# ref 11: the status enum and the moves the reference describes (written from the reference).
PROCESSING_UPLOAD = "PROCESSING_UPLOAD"
PROCESSING_DOWNLOAD = "PROCESSING_DOWNLOAD"
SEND_TO_USER_INBOX = "SEND_TO_USER_INBOX"
PUBLISH_COMPLETE = "PUBLISH_COMPLETE"
FAILED = "FAILED"


def plan(size: int, chunk_size: int = CHUNK) -> dict[str, Any]:
    """ref 10.1: a FILE_UPLOAD source_info; files under one chunk go up whole."""
    if size < chunk_size:
        return {
            "source": "FILE_UPLOAD",
            "video_size": size,
            "chunk_size": size,
            "total_chunk_count": 1,
        }
    return {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": chunk_size,
        "total_chunk_count": size // chunk_size,
    }


def chunk_ranges(size: int, chunk_size: int = CHUNK) -> list[tuple[int, int]]:
    """ref 10.1: (first, last) byte of every chunk; the last chunk takes the remainder."""
    source = plan(size, chunk_size)
    count, step = source["total_chunk_count"], source["chunk_size"]
    firsts = [i * step for i in range(count)]
    return [
        (first, (firsts[i + 1] if i + 1 < count else size) - 1) for i, first in enumerate(firsts)
    ]


def content_range(first: int, last: int, total: int) -> str:
    return f"bytes {first}-{last}/{total}"


def instant(seconds_after_t0: float) -> str:
    """How the control API writes T0 + `seconds_after_t0`."""
    moment = datetime.fromtimestamp(T0_EPOCH + seconds_after_t0, tz=UTC)
    text = moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def parse_instant(text: str) -> float:
    """Seconds after T0 of a control API instant."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() - T0_EPOCH


def verify_signature(header: str, body: bytes, secret: str) -> int:
    """ref 14.4: split on `,`, then each part on `=`; `s` must be the lower-case hex
    HMAC-SHA256 of `t` + "." + the raw body, keyed with the client_secret. Returns `t`."""
    parts = dict(part.split("=", 1) for part in header.split(","))
    assert set(parts) == {"t", "s"}, header
    assert parts["t"].isdigit(), header
    signed = parts["t"].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert len(parts["s"]) == 64 and parts["s"] == parts["s"].lower(), header
    assert hmac.compare_digest(expected, parts["s"]), "the signature does not verify"
    return int(parts["t"])


def scenario_with(tmp_path: Path, **top_level: Any) -> Path:
    """The default scenario with top-level keys replaced (e.g. `timing`), as a YAML file."""
    document = yaml.safe_load(DEFAULT_SCENARIO.read_text(encoding="utf-8"))
    document.update(top_level)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


class Studio:
    """A sandbox on a frozen clock (T0) driven over its in-process transport."""

    def __init__(
        self,
        scenario: str | Path = "default",
        *,
        fetcher: UrlFetcher | None = None,
        sender: WebhookSender | None = None,
        data_dir: Path | None = None,
    ) -> None:
        self.fetcher = fetcher if fetcher is not None else StaticFetcher({})
        self.sender = sender if sender is not None else RecordingWebhookSender()
        self.sandbox = Sandbox(
            scenario,
            clock=Clock.frozen_at(T0),
            fetcher=self.fetcher,
            webhook_sender=self.sender,
            data_dir=data_dir,
        )
        self.http = self.sandbox.client()

    def close(self) -> None:
        self.http.close()
        self.sandbox.close()

    # -- time --------------------------------------------------------------------------------

    def now(self) -> float:
        """Seconds since T0 on the sandbox clock."""
        return self.sandbox.clock.now() - T0_EPOCH

    def advance(self, seconds: float) -> None:
        self.sandbox.advance(seconds)

    def advance_to(self, seconds_after_t0: float) -> None:
        self.sandbox.advance(max(0.0, seconds_after_t0 - self.now()))

    def settle(self) -> None:
        assert self.sandbox.settle(10.0), "a pull did not finish"

    # -- tokens and TikTok endpoints ---------------------------------------------------------

    def token(self, client_key: str = AUDITED, username: str = ANA) -> str:
        """A fresh access token (2 h on the sandbox clock, its own rate-limit budget)."""
        redirect = "http://127.0.0.1:4321/callback/" if client_key == SANDBOX_APP else None
        body = self.sandbox.issue_tokens(client_key, username, SCOPES, redirect)
        return str(body["access_token"])

    def post(self, path: str, token: str, body: Any) -> httpx.Response:
        return self.http.post(path, headers={"Authorization": f"Bearer {token}"}, json=body)

    def init(
        self,
        token: str,
        source: dict[str, Any],
        *,
        inbox: bool = False,
        privacy: str = "SELF_ONLY",
    ) -> dict[str, Any]:
        """Direct Post (or inbox) video init; returns `data` after asserting `ok`."""
        if inbox:
            response = self.post(INBOX_INIT, token, {"source_info": source})
        else:
            body = {"post_info": {"privacy_level": privacy, "title": "t"}, "source_info": source}
            response = self.post(VIDEO_INIT, token, body)
        assert response.status_code == 200, response.text
        assert response.json()["error"]["code"] == "ok", response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def start_upload(
        self, token: str, size: int, *, inbox: bool = False, privacy: str = "SELF_ONLY"
    ) -> tuple[str, str]:
        data = self.init(token, plan(size), inbox=inbox, privacy=privacy)
        return str(data["publish_id"]), str(data["upload_url"])

    def put(
        self,
        url: str,
        body: bytes,
        first: int,
        last: int,
        total: int,
        content_type: str = "video/mp4",
        **headers: str,
    ) -> httpx.Response:
        sent = {"Content-Type": content_type, "Content-Range": content_range(first, last, total)}
        return self.http.put(url, content=body, headers={**sent, **headers})

    def upload(self, url: str, data: bytes) -> list[httpx.Response]:
        """Every chunk in order, following ref 10.1's plan."""
        return [
            self.put(url, data[first : last + 1], first, last, len(data))
            for first, last in chunk_ranges(len(data))
        ]

    def post_video(
        self, token: str, data: bytes, *, inbox: bool = False, privacy: str = "SELF_ONLY"
    ) -> str:
        """Init and upload `data` whole or in chunks; returns the publish_id."""
        publish_id, url = self.start_upload(token, len(data), inbox=inbox, privacy=privacy)
        answers = self.upload(url, data)
        assert [a.status_code for a in answers][-1] == 201, answers[-1].text
        return publish_id

    def pull_video(
        self, token: str, url: str, *, inbox: bool = False, privacy: str = "SELF_ONLY"
    ) -> str:
        source = {"source": "PULL_FROM_URL", "video_url": url}
        return str(self.init(token, source, inbox=inbox, privacy=privacy)["publish_id"])

    def pull_photos(
        self, token: str, urls: list[str], *, mode: str = "DIRECT_POST", privacy: str = "SELF_ONLY"
    ) -> str:
        post_info: dict[str, Any] = {"title": "photos"}
        if mode == "DIRECT_POST":
            post_info["privacy_level"] = privacy
        body = {
            "media_type": "PHOTO",
            "post_mode": mode,
            "post_info": post_info,
            "source_info": {
                "source": "PULL_FROM_URL",
                "photo_images": urls,
                "photo_cover_index": 0,
            },
        }
        response = self.post(CONTENT_INIT, token, body)
        assert response.status_code == 200, response.text
        assert response.json()["error"]["code"] == "ok", response.text
        return str(response.json()["data"]["publish_id"])

    def status(self, token: str, publish_id: str) -> httpx.Response:
        return self.post(STATUS, token, {"publish_id": publish_id})

    def state(self, publish_id: str, token: str | None = None) -> dict[str, Any]:
        """`status/fetch` data for the publish, with a fresh token of its owner by default."""
        if token is None:
            owner = self.publish(publish_id)
            token = self.token(owner["client_key"], owner["creator"])
        response = self.status(token, publish_id)
        assert response.status_code == 200, response.text
        assert response.json()["error"]["code"] == "ok", response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def cancel(self, token: str, publish_id: str) -> httpx.Response:
        return self.post(CANCEL, token, {"publish_id": publish_id})

    # -- control API -------------------------------------------------------------------------

    def publish(self, publish_id: str) -> dict[str, Any]:
        response = self.http.get(f"/_sandbox/publishes/{publish_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def timeline(self, publish_id: str) -> list[str]:
        return [step["status"] for step in self.publish(publish_id)["timeline"]]

    def action(self, publish_id: str, action: str, **fields: Any) -> httpx.Response:
        return self.http.post(
            f"/_sandbox/publishes/{publish_id}/actions", json={"action": action, **fields}
        )

    def patch_app(self, client_key: str = AUDITED, **fields: Any) -> dict[str, Any]:
        response = self.http.patch(f"/_sandbox/apps/{client_key}", json=fields)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def patch_creator(self, username: str, **fields: Any) -> dict[str, Any]:
        response = self.http.patch(f"/_sandbox/creators/{username}", json=fields)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def new_app(self, username: str, **settings: Any) -> str:
        """A fresh audited app with one fresh public creator `username`; its client_key."""
        app = {
            "stage": "audited",
            "scopes": SCOPES,
            "direct_post_enabled": True,
            **settings,
            "creators": [{"username": username, "account": "public"}],
        }
        response = self.http.post("/_sandbox/apps", json=app)
        assert response.status_code == 201, response.text
        return str(response.json()["app"]["client_key"])

    def deliveries(
        self, client_key: str = AUDITED, event: str | None = None
    ) -> list[dict[str, Any]]:
        """The webhook delivery log, oldest first."""
        params = {"client_key": client_key} | ({"event": event} if event else {})
        items: list[dict[str, Any]] = whole(self.http, "/_sandbox/webhooks", params)["deliveries"]
        return list(reversed(items))

    def events(self, client_key: str = AUDITED) -> list[tuple[str, dict[str, Any]]]:
        """(event, parsed content) of every delivery queued for the app, oldest first."""
        return [
            (d["event"], json.loads(json.loads(d["body"])["content"]))
            for d in self.deliveries(client_key)
        ]


@contextmanager
def studio(scenario: str | Path = "default", **kwargs: Any) -> Iterator[Studio]:
    made = Studio(scenario, **kwargs)
    try:
        yield made
    finally:
        made.close()


# -- a loopback HTTP server run by a test ---------------------------------------------------

Handler = Callable[[http.server.BaseHTTPRequestHandler, bytes], None]


class LoopbackServer:
    """`http.server` on 127.0.0.1 (a free port) on a thread; `handle(request, body)` answers.

    Every request is recorded as (method, path, headers, body). Use as a context manager."""

    def __init__(self, handle: Handler) -> None:
        owner = self
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.arrived = threading.Condition()

        class _Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with owner.arrived:
                    owner.requests.append((self.command, self.path, dict(self.headers), body))
                    owner.arrived.notify_all()
                handle(self, body)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait (bounded, real time) until `count` requests have arrived."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.arrived.wait(left)
        return True


def answer(
    request: http.server.BaseHTTPRequestHandler, status: int, body: bytes = b"", **headers: str
) -> None:
    request.send_response(status)
    for name, value in headers.items():
        request.send_header(name.replace("_", "-"), value)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)
