"""What the benchmark asks of a served sandbox to set itself up, over HTTP only: the control
API (`/_sandbox/...`, docs/control-api.md) and TikTok's own endpoints."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx

from client.chunks import plan_chunks

MiB = 1024 * 1024
VIDEO_INIT = "/v2/post/publish/video/init/"
INBOX_INIT = "/v2/post/publish/inbox/video/init/"
STATUS = "/v2/post/publish/status/fetch/"
TOKEN = "/v2/oauth/token/"


class SetupFailed(RuntimeError):
    """The sandbox refused something the benchmark needs in order to measure."""


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def pad_mp4(data: bytes, size: int) -> bytes:
    """A real MP4 grown to `size` bytes with a trailing top-level `free` box (still valid)."""
    extra = size - len(data)
    if extra < 8:
        raise ValueError("a free box needs at least 8 bytes")
    return data + extra.to_bytes(4, "big") + b"free" + bytes(extra - 8)


def chunk_plan(size: int) -> dict[str, object]:
    """A FILE_UPLOAD source_info: whole under 5 MiB, else 5 MiB chunks, the last one longer."""
    return plan_chunks(size).source_info()


def chunk_ranges(size: int) -> list[tuple[int, int]]:
    return list(plan_chunks(size).ranges())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Control:
    """The calls the benchmark's set-up makes; anything refused raises SetupFailed."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, path, **kwargs)
        if response.status_code >= 300:
            raise SetupFailed(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    async def create_app(self, settings: dict[str, Any]) -> dict[str, Any]:
        """`POST /_sandbox/apps` (with `creators`); returns {"app": ..., "creators": [...]}."""
        result: dict[str, Any] = await self._json("POST", "/_sandbox/apps", json=settings)
        return result

    async def patch_app(self, client_key: str, settings: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(
            "PATCH", f"/_sandbox/apps/{client_key}", json=settings
        )
        return result

    async def patch_creator(self, username: str, settings: dict[str, Any]) -> None:
        await self._json("PATCH", f"/_sandbox/creators/{username}", json=settings)

    async def tokens(self, client_key: str, username: str, scopes: list[str]) -> dict[str, Any]:
        body = {"client_key": client_key, "username": username, "scopes": scopes}
        result: dict[str, Any] = await self._json("POST", "/_sandbox/tokens", json=body)
        return result

    async def clock(self, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._json("POST", "/_sandbox/clock", json=fields)
        return result

    async def publish(self, publish_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._json("GET", f"/_sandbox/publishes/{publish_id}")
        return result

    async def action(self, publish_id: str, action: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(
            "POST", f"/_sandbox/publishes/{publish_id}/actions", json={"action": action}
        )
        return result

    async def init_upload(
        self, token: str, size: int, privacy: str = "SELF_ONLY"
    ) -> tuple[str, str]:
        """A Direct Post FILE_UPLOAD init; returns (publish_id, upload_url)."""
        body = {
            "post_info": {"privacy_level": privacy, "title": "bench"},
            "source_info": chunk_plan(size),
        }
        response = await self.http.post(VIDEO_INIT, json=body, headers=bearer(token))
        data = response.json()
        if response.status_code != 200 or data["error"]["code"] != "ok":
            raise SetupFailed(f"video init: {response.status_code} {response.text[:300]}")
        return data["data"]["publish_id"], data["data"]["upload_url"]

    async def put_chunks(self, upload_url: str, video: bytes) -> None:
        for first, last in chunk_ranges(len(video)):
            response = await self.http.put(
                upload_url,
                content=video[first : last + 1],
                headers={
                    "Content-Type": "video/mp4",
                    "Content-Range": f"bytes {first}-{last}/{len(video)}",
                },
            )
            if response.status_code not in (201, 206):
                raise SetupFailed(f"upload PUT: {response.status_code} {response.text[:300]}")

    async def post_video(self, token: str, video: bytes, privacy: str = "SELF_ONLY") -> str:
        publish_id, upload_url = await self.init_upload(token, len(video), privacy)
        await self.put_chunks(upload_url, video)
        return publish_id

    async def wait_status(
        self, publish_id: str, statuses: tuple[str, ...], timeout: float = 30.0
    ) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            view = await self.publish(publish_id)
            if view["status"] in statuses:
                return view
            if asyncio.get_running_loop().time() > deadline:
                raise SetupFailed(f"publish {publish_id} stayed {view['status']}")
            await asyncio.sleep(0.1)
