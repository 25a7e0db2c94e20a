"""What an audit-readiness report costs: `Sandbox.audit()` over a full journal of posting
traffic (creator_info, init, whole-file upload, status, token refreshes), against the anchor of
rendering the same journal as JSON (what `GET /_sandbox/journal` does with every entry)."""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import median_seconds
from conformance.media import make_video
from mock_server import Clock, Sandbox
from mock_server.state import ServerOptions

DESCRIPTION = "Sandbox.audit() over a full journal vs rendering that journal as JSON"
APP, CREATOR = "awratelimitburst1", "rex_bursts"  # rate-limit-burst: 100 posts a day
SCOPES = ["user.info.basic", "video.publish", "video.upload"]
POSTS_PER_TOKEN = 5


def fill(sandbox: Sandbox, clip: bytes, entries: int) -> None:
    """Post until the journal holds `entries` requests (it keeps no more)."""
    size = len(clip)
    source = {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": size}
    post_info = {"privacy_level": "SELF_ONLY", "disable_comment": True}
    post_info |= {"disable_duet": True, "disable_stitch": True}
    with sandbox.client() as http:
        posts = 0
        while len(sandbox.state.journal.entries()) < entries:
            if posts % POSTS_PER_TOKEN == 0:
                token = sandbox.issue_tokens(APP, CREATOR, SCOPES)["access_token"]
                auth = {"Authorization": f"Bearer {token}"}
            http.post("/v2/post/publish/creator_info/query/", headers=auth)
            init = http.post(
                "/v2/post/publish/video/init/",
                headers=auth,
                json={"post_info": post_info, "source_info": source | {"total_chunk_count": 1}},
            ).json()["data"]
            headers = {"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{size - 1}/{size}"}
            http.put(init["upload_url"], content=clip, headers=headers)
            http.post(
                "/v2/post/publish/status/fetch/",
                headers=auth,
                json={"publish_id": init["publish_id"]},
            )
            sandbox.advance(900)  # 96 posts a day, under the creator's cap of 100
            posts += 1


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench audit", description=DESCRIPTION)
    parser.add_argument("--repeat", type=int, default=5, help="measurements per figure")
    parser.add_argument(
        "--entries", type=int, nargs="+", default=[1000, 10000], help="journal sizes"
    )
    args = parser.parse_args(list(argv))
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_video(Path(tmp) / "clip.mp4").read_bytes()
    print(f"{'journal':>8}  {'audit':>9}  {'journal as JSON (anchor)':>24}  ratio")
    for entries in args.entries:
        options = ServerOptions(journal_capacity=entries)
        with Sandbox("rate-limit-burst", clock=Clock.frozen_at(0), options=options) as sandbox:
            fill(sandbox, clip, entries)
            audit = median_seconds(lambda: sandbox.audit(APP), args.repeat)
            anchor = median_seconds(
                lambda: json.dumps([e.to_json() for e in sandbox.state.journal.entries()]),
                args.repeat,
            )
        print(
            f"{entries:>8}  {audit * 1000:>7.1f}ms  {anchor * 1000:>22.1f}ms  {audit / anchor:.2f}"
        )
    return 0
