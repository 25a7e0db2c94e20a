"""Schemathesis hooks for judging a served sandbox (`SCHEMATHESIS_HOOKS=tests.schemathesis.hooks`
with `SANDBOX_URL` set): what a generic API tester cannot know about TikTok's API.

- The upload PUT takes raw video bytes (`video/mp4`, `video/quicktime`, `video/webm`).
- Every request to an envelope endpoint carries a live user token. Each init gets the token of
  a creator of its own (the per-token rate limits, ref 4.3, and the per-creator caps, ref 8, 15.2,
  would otherwise answer most of them 429 and 403, and leave the rest of each endpoint untested);
  status/fetch and cancel of a publish use the token that made it, so the stateful phase's links
  from an init to them reach a publish the token owns.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import schemathesis
from hypothesis import strategies as st

SCOPES = [
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.upload",
    "video.publish",
    "video.list",
]
INITS = (
    "/v2/post/publish/video/init/",
    "/v2/post/publish/inbox/video/init/",
    "/v2/post/publish/content/init/",
)
BY_PUBLISH_ID = ("/v2/post/publish/status/fetch/", "/v2/post/publish/cancel/")

schemathesis.openapi.media_type(
    "video/mp4", st.binary(min_size=1, max_size=4096), aliases=["video/quicktime", "video/webm"]
)


class Tokens:
    """User tokens from the sandbox's control API, each for a creator of its own."""

    def __init__(self, control_url: str) -> None:
        self.http = httpx.Client(base_url=control_url, timeout=10)
        app = self._post(
            "/_sandbox/apps",
            {
                "name": "Schemathesis",
                "stage": "audited",
                "redirect_uris": ["https://schemathesis.example/callback"],
                "verified_domains": ["media.example.com"],
            },
        )
        self.client_key = app["app"]["client_key"]
        self.shared = self.fresh()
        self.owners: dict[str, str] = {}  # publish_id -> the token that made it

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        answer = self.http.post(path, json=body)
        answer.raise_for_status()
        return answer.json()

    def fresh(self) -> str:
        username = self._post("/_sandbox/creators", {"daily_post_cap": 1000})["username"]
        body = {"client_key": self.client_key, "username": username, "scopes": SCOPES}
        return str(self._post("/_sandbox/tokens", body)["access_token"])


TOKENS = Tokens(os.environ["SANDBOX_URL"])


MEDIA = "https://media.example.com/"  # the app's verified domain (never fetched: loopback only)


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    """Generated init bodies made to pass the rules a schema cannot say, so that inits succeed
    and the stateful phase can follow their links: a chunk plan by ref 10.1 (the whole file
    when under 5 MB), and media URLs on the app's verified domain (ref 10.4)."""
    path = context.operation.path if context.operation else ""
    source = body.get("source_info") if isinstance(body, dict) else None
    if path not in INITS or not isinstance(source, dict):
        return body
    size = source.get("video_size")
    if source.get("source") == "FILE_UPLOAD" and isinstance(size, int) and 0 < size < 5 * 2**20:
        source |= {"chunk_size": size, "total_chunk_count": 1}
    if isinstance(source.get("video_url"), str):
        source["video_url"] = MEDIA + "clip.mp4"
    images = source.get("photo_images")
    if isinstance(images, list) and images:
        source["photo_images"] = [f"{MEDIA}p{n}.jpg" for n in range(len(images))]
    return body


def _publish_id(case: Any) -> str | None:
    body = case.body
    return body.get("publish_id") if isinstance(body, dict) else None


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    path = case.path
    if not path.startswith("/v2/") or path.startswith(("/v2/oauth/", "/v2/auth/")):
        return
    if path in INITS:
        token = TOKENS.fresh()
    elif path in BY_PUBLISH_ID:
        token = TOKENS.owners.get(str(_publish_id(case)), TOKENS.shared)
    else:
        token = TOKENS.shared
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    if case.path not in INITS:
        return
    try:
        publish_id = response.json()["data"]["publish_id"]
    except (ValueError, KeyError, TypeError):
        return
    TOKENS.owners[publish_id] = case.headers["Authorization"].removeprefix("Bearer ")
