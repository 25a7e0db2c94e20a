"""The state every served sandbox of the benchmark starts from, built through the public
Python API and control API, deterministically (same seed and frozen clock, same tokens)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from mock_server import Clock, Sandbox
from mock_server.state import ServerOptions

START = datetime(2026, 1, 1, tzinfo=UTC)
SCOPES = ["user.info.basic", "video.list", "video.publish", "video.upload"]
GRANTS_PER_CREATOR = 20  # live grants per app and creator (domain.retention)
CREATOR_INFO = "/v2/post/publish/creator_info/query/"
STATUS_FETCH = "/v2/post/publish/status/fetch/"
VIDEO_INIT = "/v2/post/publish/video/init/"
VIDEO_LIST = "/v2/video/list/?fields=id,title,cover_image_url"
MiB = 1024 * 1024


@dataclass
class Fixture:
    client_key: str
    # (access token, publish_id of a publish of the token's creator), many of them, so the
    # per-token rate limits (20 creator_info, 30 status fetches a minute) leave room for
    # thousands of requests a second between two clock advances.
    pairs: list[tuple[str, str]]
    spare_token: str  # rate-limited on purpose for the 429 case

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fixture:
        return cls(data["client_key"], [tuple(p) for p in data["pairs"]], data["spare_token"])


def new_sandbox(data_dir: str | None = None, **options: Any) -> Sandbox:
    return Sandbox(
        "default",
        seed=1,
        clock=Clock.frozen_at(START),
        options=ServerOptions(**options),
        data_dir=data_dir,
    )


def build(sandbox: Sandbox, creators: int) -> Fixture:
    """An audited app with `creators` creators, 20 tokens each, and one publish each."""
    with sandbox.client() as http:
        made = http.post(
            "/_sandbox/apps",
            json={
                "name": "speed",
                "creators": [
                    {"username": f"speed_{i:05d}", "daily_post_cap": 10**9} for i in range(creators)
                ]
                + [{"username": "speed_spare"}],
            },
        )
        assert made.status_code == 201, made.text
        key = made.json()["app"]["client_key"]
        pairs = []
        for i in range(creators):
            tokens = [
                sandbox.issue_tokens(key, f"speed_{i:05d}", SCOPES)["access_token"]
                for _ in range(GRANTS_PER_CREATOR)
            ]
            publish_id = init_upload(http, tokens[0], 10 * MiB, 10 * MiB)["publish_id"]
            pairs.extend((token, publish_id) for token in tokens)
    spare = sandbox.issue_tokens(key, "speed_spare", SCOPES)["access_token"]
    return Fixture(key, pairs, spare)


def init_upload(http: Any, token: str, size: int, chunk: int) -> dict[str, Any]:
    """A Direct Post init (FILE_UPLOAD, SELF_ONLY); the answer's `data`."""
    answer = http.post(
        VIDEO_INIT,
        headers={"Authorization": f"Bearer {token}"},
        json={
            "post_info": {"privacy_level": "SELF_ONLY"},
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": size,
                "chunk_size": chunk,
                "total_chunk_count": size // chunk,
            },
        },
    )
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data
