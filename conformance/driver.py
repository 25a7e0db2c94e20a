"""The reference client (`client/`) driven against a target: every request it sends is recorded,
its sleeps move the target's clock through the controller, and its clock reads that time back.

    session = drive(target, controller, app, controller.tokens(app.client_key, user, scopes))
    publish = session.tiktok.post_video(path, PostInfo(privacy_level="SELF_ONLY"))
    assert session.sent("video_init") == 1
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from client import TikTokClient, Token
from conformance import spec
from conformance.controller import AppInfo, Controller
from conformance.target import Target

# An arbitrary start: the client only ever compares its own readings (token expiry, deadlines).
EPOCH = 1_767_225_600.0


class RecordingTransport(httpx.BaseTransport):
    """Passes every request on to the target's transport and keeps (method, path) of each."""

    def __init__(self, inner: httpx.BaseTransport | None) -> None:
        self._owned = inner is None
        self.inner = inner if inner is not None else httpx.HTTPTransport()
        self.requests: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        return self.inner.handle_request(request)

    def close(self) -> None:
        if self._owned:  # the target's own transport outlives this client
            self.inner.close()


@dataclass
class TargetTime:
    """The target's clock as the client sees it: `sleep` advances it, `now` reads it.

    A sleep first lets the target finish the media pulls under way (they run in real time),
    so what the client sees after it does not depend on how fast this machine is.
    """

    controller: Controller
    elapsed: float = 0.0

    def sleep(self, seconds: float) -> None:
        self.controller.settle()
        if seconds > 0:
            self.controller.advance_clock(seconds)
            self.elapsed += seconds

    def now(self) -> float:
        return EPOCH + self.elapsed


@dataclass
class ClientSession:
    tiktok: TikTokClient
    recorder: RecordingTransport
    time: TargetTime
    token: dict[str, Any] = field(default_factory=dict)

    def sent(self, *endpoints: str) -> int:
        """How many requests went to these endpoints (names of `spec.PATHS`, or "upload" for
        PUTs to an upload_url)."""
        paths = {spec.PATHS[e] for e in endpoints if e in spec.PATHS}
        puts = "upload" in endpoints
        requests = self.recorder.requests
        return sum(1 for method, path in requests if path in paths or (puts and method == "PUT"))

    def close(self) -> None:
        self.tiktok.close()


def drive(
    target: Target,
    controller: Controller,
    app: AppInfo,
    tokens: dict[str, Any] | None = None,
    time: TargetTime | None = None,
) -> ClientSession:
    """A reference client for `app` on `target`, holding `tokens` (a token endpoint answer)."""
    time = time or TargetTime(controller)
    recorder = RecordingTransport(target.transport)
    token = Token.from_response(tokens, time.now()) if tokens else None
    tiktok = TikTokClient(
        app.client_key,
        app.client_secret,
        token=token,
        base_url=target.base_url,
        transport=recorder,
        sleep=time.sleep,
        now=time.now,
    )
    return ClientSession(tiktok, recorder, time, dict(tokens or {}))
