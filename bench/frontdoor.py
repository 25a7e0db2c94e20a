"""The proxy's cost against its anchor, direct plain HTTP to the same server in the same run:
creator_info latency through the proxy with TLS (goal: at most 2x direct) and upload throughput
through the proxy (goal: at least 0.5x direct). Rounds alternate the two roads; figures are
medians.

    ./scripts/bench frontdoor [-- --rounds 7 --requests 20 --chunk-mib 5]
"""

from __future__ import annotations

import argparse
import os
import ssl
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from mock_server import Clock, Sandbox
from mock_server.frontdoor import LocalCA

DESCRIPTION = "creator_info latency and upload throughput through the TLS proxy vs direct HTTP"

APP = "awacmescheduler01"  # scenarios/default.yaml
CREATOR = "ana_makes"
CREATOR_INFO = "/v2/post/publish/creator_info/query/"
API = "https://open.tiktokapis.com"
MiB = 1024 * 1024
LATENCY_GOAL = 2.0
THROUGHPUT_GOAL = 0.5


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench frontdoor", description=DESCRIPTION)
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds per figure")
    parser.add_argument(
        "--requests", type=int, default=20, help="creator_info calls per round (20 a minute)"
    )
    parser.add_argument("--chunk-mib", type=int, default=5, help="upload chunk size (5-64)")
    args = parser.parse_args(argv)

    sandbox = Sandbox("default", seed=1, clock=Clock.frozen_at(datetime(2026, 1, 1, tzinfo=UTC)))
    scopes = ["user.info.basic", "video.publish", "video.upload"]
    token = sandbox.issue_tokens(APP, CREATOR, scopes)["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    verify = ssl.create_default_context(cafile=str(LocalCA.load_or_create().cert_path))
    try:
        with (
            sandbox.serve(proxy=True) as running,
            httpx.Client(base_url=running.url, headers=headers, timeout=60) as direct,
            httpx.Client(
                base_url=API, proxy=running.proxy_url, verify=verify, headers=headers, timeout=60
            ) as proxied,
        ):
            roads = {"direct": direct, "proxy": proxied}
            chunk = args.chunk_mib * MiB
            throughput = upload_rounds(roads, running.url, args.rounds, chunk)
            sandbox.clock.advance(61)  # a fresh rate-limit window for creator_info
            latency = latency_rounds(roads, sandbox, args.rounds, args.requests)
    finally:
        sandbox.close()

    latency_ratio = latency["proxy"] / latency["direct"]
    throughput_ratio = throughput["proxy"] / throughput["direct"]
    print(f"creator_info latency, median of {args.rounds} rounds x {args.requests} calls:")
    print(f"  direct plain HTTP (anchor)  {latency['direct'] * 1000:8.2f} ms")
    print(f"  proxy + TLS                 {latency['proxy'] * 1000:8.2f} ms")
    print(f"  ratio                       {latency_ratio:8.2f}x   (goal <= {LATENCY_GOAL}x)")
    print(f"upload throughput, median of {args.rounds} chunks of {args.chunk_mib} MiB each way:")
    print(f"  direct plain HTTP (anchor)  {throughput['direct'] / MiB:8.1f} MiB/s")
    print(f"  proxy + TLS                 {throughput['proxy'] / MiB:8.1f} MiB/s")
    print(f"  ratio                       {throughput_ratio:8.2f}x   (goal >= {THROUGHPUT_GOAL}x)")
    met = latency_ratio <= LATENCY_GOAL and throughput_ratio >= THROUGHPUT_GOAL
    print("goals met" if met else "GOALS MISSED")
    return 0 if met else 1


def latency_rounds(
    roads: dict[str, httpx.Client], sandbox: Sandbox, rounds: int, requests: int
) -> dict[str, float]:
    for client in roads.values():  # open the connections (and the tunnel) before timing
        assert client.post(CREATOR_INFO).status_code == 200
    sandbox.clock.advance(61)
    samples: dict[str, list[float]] = {name: [] for name in roads}
    for round_ in range(rounds):
        order = list(roads) if round_ % 2 == 0 else list(reversed(roads))
        for name in order:
            for _ in range(requests):
                started = time.perf_counter()
                response = roads[name].post(CREATOR_INFO)
                samples[name].append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
            sandbox.clock.advance(61)  # creator_info allows 20 calls a minute per token
    return {name: statistics.median(values) for name, values in samples.items()}


def upload_rounds(
    roads: dict[str, httpx.Client], direct_url: str, rounds: int, chunk: int
) -> dict[str, float]:
    """One upload of 2 * rounds + 1 chunks, alternating roads; the last chunk (which completes
    the upload and starts its checks) is not timed."""
    count = 2 * rounds + 1
    size = count * chunk
    init = roads["direct"].post(
        "/v2/post/publish/video/init/",
        json={
            "post_info": {"privacy_level": "SELF_ONLY"},
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": size,
                "chunk_size": chunk,
                "total_chunk_count": count,
            },
        },
    )
    assert init.status_code == 200, init.text
    upload = urlsplit(init.json()["data"]["upload_url"])
    target = f"{upload.path}?{upload.query}"
    urls = {"direct": direct_url + target, "proxy": "https://open-upload.tiktokapis.com" + target}
    body = os.urandom(chunk)
    samples: dict[str, list[float]] = {name: [] for name in roads}
    for index in range(count):
        pair = ("direct", "proxy") if (index // 2) % 2 == 0 else ("proxy", "direct")
        name = pair[index % 2]
        first = index * chunk
        started = time.perf_counter()
        response = roads[name].put(
            urls[name],
            content=body,
            headers={
                "Content-Type": "video/mp4",
                "Content-Range": f"bytes {first}-{first + chunk - 1}/{size}",
            },
        )
        elapsed = time.perf_counter() - started
        assert response.status_code in (201, 206), response.text
        if index < count - 1:
            samples[name].append(chunk / elapsed)
    return {name: statistics.median(values) for name, values in samples.items()}
