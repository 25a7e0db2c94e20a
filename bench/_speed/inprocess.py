"""creator_info calls through `Sandbox.client()` (in process) against the same sandbox over a
loopback socket (`Sandbox.serve()`, the served default stack), one httpx.Client each,
alternating rounds."""

from __future__ import annotations

import statistics
import time

import httpx

from bench._speed import fixture


def run(rounds: int, calls: int) -> dict[str, float]:
    sandbox = fixture.new_sandbox()
    fix = fixture.build(sandbox, 2)
    tokens = [token for token, _ in fix.pairs]
    samples: dict[str, list[float]] = {"in process": [], "loopback socket": []}
    try:
        with (
            sandbox.client() as local,
            sandbox.serve() as running,
            httpx.Client(base_url=running.url) as remote,
        ):
            roads = {"in process": local, "loopback socket": remote}
            for road in roads.values():  # warm up (the connection, the loop)
                road.post(fixture.CREATOR_INFO, headers={"Authorization": f"Bearer {tokens[0]}"})
            for round_ in range(rounds):
                sandbox.advance(61)
                names = list(roads) if round_ % 2 == 0 else list(roads)[::-1]
                for i, name in enumerate(names):
                    token = tokens[(2 * round_ + i) % len(tokens)]
                    headers = {"Authorization": f"Bearer {token}"}
                    for _ in range(min(calls, 20)):  # 20 creator_info a minute per token
                        started = time.perf_counter()
                        answer = roads[name].post(fixture.CREATOR_INFO, headers=headers)
                        samples[name].append(time.perf_counter() - started)
                        assert answer.status_code == 200, answer.text
    finally:
        sandbox.close()
    return {name: statistics.median(values) for name, values in samples.items()}


def report(result: dict[str, float], rounds: int) -> list[str]:
    local, remote = result["in process"], result["loopback socket"]
    return [
        f"in process against a loopback socket (creator_info, ms per call, median of {rounds} "
        "rounds):",
        f"  loopback socket, Sandbox.serve() (anchor)  {remote * 1000:7.3f}",
        f"  in process, Sandbox.client()               {local * 1000:7.3f}   "
        f"{remote / local:.2f}x faster",
    ]
