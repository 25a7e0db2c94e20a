"""Requests per second of the served sandbox against a bare Starlette app answering the same
JSON, each on h11 + asyncio and on httptools + uvloop, measured by wrk in alternating rounds."""

from __future__ import annotations

import json
import statistics
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench._speed import fixture
from bench._speed.procs import Cores, Server, launched, lua_script, run_wrk

STACKS = {"h11": ("h11", "asyncio"), "fast": ("httptools", "uvloop")}
CASES = ("creator_info", "status_fetch", "rate_limited", "bad_token")
CASE_NAMES = {
    "creator_info": "creator_info (200)",
    "status_fetch": "status fetch (200)",
    "rate_limited": "creator_info, rate-limited (429)",
    "bad_token": "creator_info, bad token (401)",
}


@dataclass
class Throughput:
    # (case, server) -> requests per second, one per round; server is e.g. "sandbox/h11"
    rates: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    wrong_answers: dict[tuple[str, str], int] = field(default_factory=dict)

    def median(self, case: str, server: str) -> float:
        return statistics.median(self.rates[(case, server)])


def run(wrk: str, cores: Cores, rounds: int, seconds: float, creators: int) -> Throughput:
    result = Throughput()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        servers: dict[str, Server] = {}
        answers = Path(tmp, "answers.json")
        for name, (http, loop) in STACKS.items():
            out = answers if name == "h11" else Path(tmp, f"answers-{name}.json")
            servers[f"sandbox/{name}"] = stack.enter_context(
                launched(
                    "sandbox",
                    cores.server,
                    "--http",
                    http,
                    "--loop",
                    loop,
                    "--creators",
                    str(creators),
                    "--out",
                    str(out),
                )
            )
        for name, (http, loop) in STACKS.items():
            servers[f"bare/{name}"] = stack.enter_context(
                launched(
                    "bare", cores.server, "--http", http, "--loop", loop, "--answers", str(answers)
                )
            )
        data = json.loads(answers.read_text())
        fix = fixture.Fixture.from_json(data["fixture"])
        scripts = scripts_for(fix)
        for server in servers.values():  # warm up
            run_wrk(wrk, server.url, scripts["bad_token"], 1, 16, cores.load)
        order = list(servers)
        for round_ in range(rounds):
            for case in CASES:
                names = order if (round_ + CASES.index(case)) % 2 == 0 else order[::-1]
                for name in names:
                    server = servers[name]
                    if name.startswith("sandbox/"):
                        fresh_window(server.url, fix)
                    measured = run_wrk(wrk, server.url, scripts[case], seconds, 16, cores.load)
                    result.rates.setdefault((case, name), []).append(measured.requests_per_second)
                    expected_ok = case in ("creator_info", "status_fetch")
                    wrong = measured.non_2xx if expected_ok else 0
                    result.wrong_answers[(case, name)] = (
                        result.wrong_answers.get((case, name), 0) + wrong
                    )
    return result


def scripts_for(fix: fixture.Fixture) -> dict[str, str]:
    tokens = [token for token, _ in fix.pairs]
    return {
        "creator_info": lua_script(fixture.CREATOR_INFO, [(t, "") for t in tokens]),
        "status_fetch": lua_script(
            fixture.STATUS_FETCH,
            [(t, json.dumps({"publish_id": p}, separators=(",", ":"))) for t, p in fix.pairs],
        ),
        "rate_limited": lua_script(fixture.CREATOR_INFO, [(fix.spare_token, "")]),
        "bad_token": lua_script(fixture.CREATOR_INFO, [("act.not-a-token", "")]),
    }


def fresh_window(url: str, fix: fixture.Fixture) -> None:
    """A new rate-limit minute on the sandbox clock, and the spare token's budget spent again
    (the 429 case)."""
    headers = {"Authorization": f"Bearer {fix.spare_token}"}
    with httpx.Client(base_url=url) as http:
        http.post("/_sandbox/clock", json={"advance_seconds": 61}).raise_for_status()
        for _ in range(20):
            http.post(fixture.CREATOR_INFO, headers=headers)
        assert http.post(fixture.CREATOR_INFO, headers=headers).status_code == 429


def report(result: Throughput, rounds: int, seconds: float) -> list[str]:
    lines = [
        f"requests per second (wrk, 1 thread, 16 connections, median of {rounds} rounds "
        f"x {seconds:g} s):",
        f"  {'case':34} {'bare h11':>10} {'sandbox h11':>12} {'ratio':>6}"
        f" {'bare fast':>10} {'sandbox fast':>13} {'ratio':>6} {'fast/bare h11':>14}",
    ]
    for case in CASES:
        bh, sh = result.median(case, "bare/h11"), result.median(case, "sandbox/h11")
        bf, sf = result.median(case, "bare/fast"), result.median(case, "sandbox/fast")
        lines.append(
            f"  {CASE_NAMES[case]:34} {bh:10.0f} {sh:12.0f} {sh / bh:5.2f}x"
            f" {bf:10.0f} {sf:13.0f} {sf / bf:5.2f}x {sf / bh:13.2f}x"
        )
    # Each round measures a case's servers back to back: the ratio round by round shows how
    # much of a median ratio's spread is the machine's phase (docs/performance.md).
    lines.append("  sandbox / bare on h11, round by round (each pair measured back to back):")
    for case in ("creator_info", "status_fetch"):
        paired = [
            sandbox / bare
            for sandbox, bare in zip(
                result.rates[(case, "sandbox/h11")], result.rates[(case, "bare/h11")], strict=True
            )
        ]
        spread = " ".join(f"{ratio:.2f}" for ratio in paired)
        lines.append(
            f"    {CASE_NAMES[case]:32} {spread}  (median {statistics.median(paired):.2f}x)"
        )
    wrong = {k: v for k, v in result.wrong_answers.items() if v}
    for (case, name), count in wrong.items():
        lines.append(f"  ! {name} {case}: {count} answers were not 200 (rate budget too small?)")
    lines.append("  fast = httptools + uvloop (the served default where installed)")
    return lines
