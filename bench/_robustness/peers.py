"""The local peers a TikTok integration has: a media server for PULL_FROM_URL and a webhook
receiver that checks TikTok's signature. Both are Starlette routes, served by `PeerServer`."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route


@dataclass(frozen=True)
class Received:
    client_key: str
    event: str
    at: float  # time.monotonic() in this process
    status: int  # what the receiver answered
    signed: bool  # TikTok-Signature checked out against the app's client_secret


def signature_ok(secret: str, header: str, body: bytes) -> bool:
    """`t=<unix>,s=<hex HMAC-SHA256(secret, "<t>." + body)>` (TikTok's webhook signature)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if "t" not in parts or "s" not in parts:
        return False
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["s"])


class WebhookReceiver:
    """`POST /hook/{name}`: records each delivery and answers 200 at once (503 while
    `accepting` is False). `POST /hook/anchor` only counts (the receiver's own capacity)."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}  # client_key -> client_secret
        self.accepting = True
        self.anchor_hits = 0
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._answered: Counter[tuple[str, int]] = Counter()  # (client_key, status)
        self._last: dict[tuple[str, int], float] = {}  # (client_key, status) -> latest arrival

    def routes(self) -> list[Route]:
        return [Route("/hook/{name}", self._hook, methods=["POST"])]

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        at = time.monotonic()
        if request.path_params["name"] == "anchor":
            self.anchor_hits += 1
            return Response(status_code=200)
        status = 200 if self.accepting else 503
        try:
            envelope = json.loads(body)
            client_key, event = str(envelope["client_key"]), str(envelope["event"])
        except (ValueError, KeyError, TypeError):
            client_key, event = "?", "?"
        secret = self.secrets.get(client_key)
        signed = secret is not None and signature_ok(
            secret, request.headers.get("tiktok-signature", ""), body
        )
        with self._lock:
            self._received.append(Received(client_key, event, at, status, signed))
            for key in ((client_key, status), ("", status)):
                self._answered[key] += 1
                self._last[key] = at
        return Response(status_code=status)

    def received(self, client_key: str | None = None) -> list[Received]:
        with self._lock:
            items = list(self._received)
        return [r for r in items if client_key is None or r.client_key == client_key]

    def answered(self, status: int, client_key: str = "") -> tuple[int, float | None]:
        """How many deliveries (of one app, or all) were answered `status`, and when the
        latest arrived. A delivery is sent until it gets a 200, then never again."""
        with self._lock:
            return self._answered[(client_key, status)], self._last.get((client_key, status))

    def counts(self) -> Counter[tuple[int, bool]]:
        return Counter((r.status, r.signed) for r in self.received())


class MediaServer:
    """`GET /media/{name}`: the file at once; `GET /media/slow/{name}`: the same bytes
    trickled over `slow_seconds` (a pull long enough to be cancelled)."""

    def __init__(self, files: dict[str, bytes], slow_seconds: float = 3.0) -> None:
        self.files = files
        self.slow_seconds = slow_seconds
        self.requests: Counter[str] = Counter()

    def routes(self) -> list[Route]:
        return [
            Route("/media/slow/{name}", self._slow, methods=["GET"]),
            Route("/media/{name}", self._file, methods=["GET"]),
        ]

    async def _file(self, request: Request) -> Response:
        data = self.files.get(request.path_params["name"])
        self.requests["fast" if data is not None else "missing"] += 1
        if data is None:
            return Response(status_code=404)
        return Response(data, media_type="video/mp4")

    async def _slow(self, request: Request) -> Response:
        data = self.files.get(request.path_params["name"])
        self.requests["slow" if data is not None else "missing"] += 1
        if data is None:
            return Response(status_code=404)
        pieces = 10
        step = -(-len(data) // pieces)

        async def trickle() -> AsyncIterator[bytes]:
            for start in range(0, len(data), step):
                await asyncio.sleep(self.slow_seconds / pieces)
                yield data[start : start + step]

        return StreamingResponse(
            trickle(), media_type="video/mp4", headers={"Content-Length": str(len(data))}
        )
