"""Per-request latency as state grows: creator_info, a Direct Post init, a status fetch and
the creator's video list, in process, on sandboxes holding 10 to 100,000 publishes and tokens
(alternating rounds).

State is seeded fast and for real: tokens through `Sandbox.issue_tokens` (20 live grants per
app and creator, so N tokens take N/20 creators), publishes through the domain's own
`init_publish` for the measured creator (whose 24 h post history then holds them all), made
final by their upload URLs expiring on the sandbox clock. `max_publishes` is raised above the
largest size so that every publish is kept; one more sandbox keeps the default 10,000 and is
seeded past it, so each measured init also forgets one (the eviction path).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import httpx

from bench._speed import fixture
from mock_server import Sandbox
from mock_server.domain.oauth import resolve_access_token
from mock_server.domain.posting import InitRequest, PostInfo, SourceInfo, init_publish
from mock_server.domain.publishing import DIRECT_POST, FILE_UPLOAD, UPLOAD_URL_SECONDS, VIDEO
from mock_server.domain.world import MAX_PUBLISHES

ENDPOINTS = ("creator_info", "video_init", "status_fetch", "video_list")
EVICTING = "10,000 kept of 12,000 (default bound)"


@dataclass
class Sized:
    label: str
    publishes: int
    tokens: int
    sandbox: Sandbox
    tokens_of_measured: list[str]
    publish_id: str


def seed(publishes: int, tokens: int, max_publishes: int) -> tuple[Sandbox, list[str], str]:
    sandbox = fixture.new_sandbox(max_publishes=max_publishes)
    creators = max(1, -(-tokens // fixture.GRANTS_PER_CREATOR))
    with sandbox.client() as http:
        made = http.post(
            "/_sandbox/apps",
            json={
                "name": "state",
                "creators": [
                    {"username": f"state_{i:05d}", "daily_post_cap": 10**9} for i in range(creators)
                ],
            },
        )
        assert made.status_code == 201, made.text
    key = made.json()["app"]["client_key"]
    issued = [
        sandbox.issue_tokens(key, f"state_{i // fixture.GRANTS_PER_CREATOR:05d}", fixture.SCOPES)[
            "access_token"
        ]
        for i in range(tokens)
    ]
    measured = issued[: fixture.GRANTS_PER_CREATOR]
    state = sandbox.state
    with state.lock:
        world, now = state.world, state.now()
        session = resolve_access_token(world, measured[0], now)
        request = InitRequest(
            "video_init",
            DIRECT_POST,
            VIDEO,
            SourceInfo(
                FILE_UPLOAD, video_size=fixture.MiB, chunk_size=fixture.MiB, total_chunk_count=1
            ),
            PostInfo(privacy_level="SELF_ONLY"),
        )
        for _ in range(publishes):
            init_publish(world, session, request, now)
    sandbox.advance(UPLOAD_URL_SECONDS + 1)  # every upload URL expires: all final (FAILED)
    with sandbox.client() as http:
        data = fixture.init_upload(http, measured[0], fixture.MiB, fixture.MiB)
    return sandbox, measured, data["publish_id"]


def build(sizes: list[int]) -> list[Sized]:
    biggest = max(sizes)
    out = []
    for n in sizes:
        started = time.perf_counter()
        sandbox, measured, publish_id = seed(n, n, max(biggest + 10_000, MAX_PUBLISHES))
        out.append(Sized(f"{n:,}", n, n, sandbox, measured, publish_id))
        print(
            f"  seeded {n:,} publishes and tokens in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
    sandbox, measured, publish_id = seed(12_000, 1_000, MAX_PUBLISHES)
    out.append(Sized(EVICTING, 12_000, 1_000, sandbox, measured, publish_id))
    return out


def run(sizes: list[int], rounds: int, calls: int) -> dict[str, dict[str, float]]:
    """label -> endpoint -> median seconds per call."""
    sized = build(sizes)
    samples: dict[str, dict[str, list[float]]] = {
        s.label: {e: [] for e in ENDPOINTS} for s in sized
    }
    clients = {s.label: s.sandbox.client() for s in sized}
    try:
        for round_ in range(rounds):
            order = sized if round_ % 2 == 0 else sized[::-1]
            for s in order:
                s.sandbox.advance(61)  # a fresh rate-limit minute
                token = s.tokens_of_measured[round_ % len(s.tokens_of_measured)]
                measure(clients[s.label], token, s.publish_id, calls, samples[s.label])
    finally:
        for client in clients.values():
            client.close()
        for s in sized:
            s.sandbox.close()
    return {
        label: {e: statistics.median(v) for e, v in per.items()} for label, per in samples.items()
    }


def measure(
    http: httpx.Client, token: str, publish_id: str, calls: int, out: dict[str, list[float]]
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    requests = {
        "creator_info": (fixture.CREATOR_INFO, None),
        "video_init": (
            fixture.VIDEO_INIT,
            {
                "post_info": {"privacy_level": "SELF_ONLY"},
                "source_info": {
                    "source": "FILE_UPLOAD",
                    "video_size": fixture.MiB,
                    "chunk_size": fixture.MiB,
                    "total_chunk_count": 1,
                },
            },
        ),
        "status_fetch": (fixture.STATUS_FETCH, {"publish_id": publish_id}),
        "video_list": (fixture.VIDEO_LIST, {}),
    }
    for endpoint, (path, body) in requests.items():
        # ref 4.3: 6 inits a minute per token; creator_info and status allow more
        for _ in range(min(calls, 6) if endpoint == "video_init" else calls):
            started = time.perf_counter()
            answer = http.post(path, headers=headers, json=body)
            out[endpoint].append(time.perf_counter() - started)
            assert answer.status_code == 200, (endpoint, answer.text)


def report(result: dict[str, dict[str, float]], rounds: int) -> list[str]:
    lines = [
        f"latency in process as state grows (ms per call, median of {rounds} rounds):",
        f"  {'publishes and tokens':38} " + " ".join(f"{e:>13}" for e in ENDPOINTS),
    ]
    for label, per in result.items():
        lines.append(f"  {label:38} " + " ".join(f"{per[e] * 1000:13.3f}" for e in ENDPOINTS))
    return lines
