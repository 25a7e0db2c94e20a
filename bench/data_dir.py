"""What a data directory costs: creator_info and status fetch with `--data-dir` against the
anchor of the same calls in memory (goal: at most 25 % slower), served (requests per second
measured by wrk, the two servers pinned to one core, in alternating rounds: how an app uses a
data directory) and in process (per call, with the default scenario and with 10,000 publishes
kept, also in alternating rounds); and the time to restart a data directory holding 10,000
publishes (goal: under 2 s)."""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench import median_seconds
from bench._figures import Figure, print_summary
from bench._speed import fixture
from mock_server import Sandbox
from mock_server.runtime.clock import Clock

DESCRIPTION = "per-request cost of --data-dir (creator_info, status fetch) and restart time"
APP, CREATOR = "awacmescheduler01", "ana_makes"
SCOPES = ["user.info.basic", "video.publish", "video.upload"]
CREATOR_INFO = "/v2/post/publish/creator_info/query/"
STATUS = "/v2/post/publish/status/fetch/"


def _sandbox(data_dir: Path | None) -> Sandbox:
    return Sandbox("default", clock=Clock.frozen_at(1_767_225_600), data_dir=data_dir)


def _grow(sandbox: Sandbox, token: str, publishes: int) -> str:
    """One real publish, then copies of it under new ids up to `publishes`; returns its id."""
    with sandbox.client() as http:
        body = {
            "post_info": {"privacy_level": "SELF_ONLY"},
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": 1000,
                "chunk_size": 1000,
                "total_chunk_count": 1,
            },
        }
        answer = http.post(
            "/v2/post/publish/video/init/", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        answer.raise_for_status()
        publish_id: str = answer.json()["data"]["publish_id"]
    with sandbox.state.lock:
        world = sandbox.state.world
        model = world.publishes[publish_id]
        for i in range(publishes - 1):
            clone = copy.deepcopy(model)
            clone.publish_id, clone.upload_id = f"{publish_id}-{i}", None
            world.publishes[clone.publish_id] = clone
        world.publishes[publish_id] = world.publishes.pop(publish_id)  # the newest again
    sandbox.state.commit()
    return publish_id


def _per_request(
    directory: Path, publishes: int, count: int, rounds: int
) -> dict[str, tuple[float, float]]:
    """creator_info and status fetch per call, in memory and with a data directory: both
    sandboxes are made first, then measured in `rounds` alternating rounds of `count` calls
    each (a phase of the machine falls on both); per case, the median of the rounds' medians,
    (in memory, data dir)."""
    made: dict[str, tuple[Sandbox, httpx.Client, str]] = {}
    with ExitStack() as stack:
        for name, data_dir in (("memory", None), ("data dir", directory)):
            sandbox = _sandbox(data_dir)
            stack.callback(sandbox.close)
            token = str(sandbox.issue_tokens(APP, CREATOR, SCOPES)["access_token"])
            publish_id = _grow(sandbox, token, publishes)
            made[name] = (sandbox, stack.enter_context(sandbox.client()), publish_id)
        samples: dict[tuple[str, str], list[float]] = {}
        for round_ in range(rounds):
            names = list(made) if round_ % 2 == 0 else list(made)[::-1]
            for name in names:
                sandbox, http, publish_id = made[name]
                # A token per round: the clock moves 4 s a call, past a token's 2 h otherwise.
                token = str(sandbox.issue_tokens(APP, CREATOR, SCOPES)["access_token"])
                calls = {
                    "creator_info": _call(sandbox, http, token, CREATOR_INFO, None),
                    "status fetch": _call(sandbox, http, token, STATUS, {"publish_id": publish_id}),
                }
                calls["creator_info"]()  # warm up
                for case, call in calls.items():
                    samples.setdefault((name, case), []).append(median_seconds(call, count))
    return {
        case: (
            statistics.median(samples[("memory", case)]),
            statistics.median(samples[("data dir", case)]),
        )
        for case in ("creator_info", "status fetch")
    }


def _call(
    sandbox: Sandbox, http: httpx.Client, token: str, path: str, body: dict[str, str] | None
) -> Callable[[], object]:
    auth = {"Authorization": f"Bearer {token}"}

    def once() -> object:
        # Outside the rate limits (20 and 30 a minute per token): time moves 4 s a call.
        sandbox.clock.advance(4)
        return http.post(path, headers=auth, json=body).raise_for_status()

    return once


def _served(rounds: int, seconds: float, creators: int) -> tuple[list[str], list[Figure]]:
    """wrk against a served sandbox in memory and one with a data directory (the fast stack,
    the served default), alternating rounds."""
    from bench._speed.procs import Cores, ensure_wrk, launched, run_wrk
    from bench._speed.throughput import fresh_window, scripts_for

    wrk = ensure_wrk()
    if wrk is None:
        return ["served: skipped (wrk could not be installed)"], []
    cores = Cores.pick()
    rates: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}  # the server's CPU time per answer
    wrong = 0
    with tempfile.TemporaryDirectory(prefix="bench-data-dir-served-") as tmp, ExitStack() as stack:
        answers = {name: Path(tmp, f"answers-{name}.json") for name in ("memory", "data dir")}
        extra = {"memory": [], "data dir": ["--data-dir", str(Path(tmp, "dir"))]}
        servers = {
            name: stack.enter_context(
                launched(
                    "sandbox",
                    cores.server,
                    *("--creators", str(creators), "--out", str(answers[name]), *extra[name]),
                )
            )
            for name in answers
        }
        fixtures = {
            name: fixture.Fixture.from_json(json.loads(path.read_text())["fixture"])
            for name, path in answers.items()
        }
        scripts = {name: scripts_for(fix) for name, fix in fixtures.items()}
        for name, server in servers.items():  # warm up
            run_wrk(wrk, server.url, scripts[name]["bad_token"], 1, 16, cores.load)
        order = list(servers)
        for round_ in range(rounds):
            for case in ("creator_info", "status_fetch"):
                for name in order if round_ % 2 == 0 else order[::-1]:
                    fresh_window(servers[name].url, fixtures[name])
                    before = servers[name].cpu_seconds()
                    measured = run_wrk(
                        wrk, servers[name].url, scripts[name][case], seconds, 16, cores.load
                    )
                    used = servers[name].cpu_seconds() - before
                    rates.setdefault((case, name), []).append(measured.requests_per_second)
                    cpu.setdefault((case, name), []).append(used / max(1, measured.requests))
                    wrong += measured.non_2xx
    figures: list[Figure] = []
    lines = [
        f"served (wrk, 1 thread, 16 connections, median of {rounds} rounds x {seconds:g} s; "
        f"{cores.describe()}):"
    ]
    for case, label in (("creator_info", "creator_info"), ("status_fetch", "status fetch")):
        memory = statistics.median(rates[(case, "memory")])
        durable = statistics.median(rates[(case, "data dir")])
        ratio = memory / durable
        lines.append(
            f"  {label:13} in memory {memory:7.0f}/s, data dir {durable:7.0f}/s: "
            f"{ratio:5.2f}x the time per request (goal <= 1.25x)"
        )
        # The server's CPU time per answer moves less with the machine's load than the rates.
        spent = [statistics.median(cpu[(case, name)]) * 1e6 for name in ("memory", "data dir")]
        lines.append(
            f"  {'':13} server CPU per answer: in memory {spent[0]:5.1f} us, data dir "
            f"{spent[1]:5.1f} us: {spent[1] / spent[0]:5.2f}x"
        )
        figures.append(
            Figure(f"served {label}", f"{ratio:.2f}x in memory's", "<= 1.25x", ratio <= 1.25)
        )
    if wrong:
        lines.append(f"  ! {wrong} answers were not 200")
    return lines, figures


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench data_dir", description=DESCRIPTION)
    parser.add_argument("--requests", type=int, default=200, help="requests per measurement")
    parser.add_argument("--publishes", type=int, default=10_000, help="publishes kept")
    parser.add_argument("--rounds", type=int, default=3, help="served: rounds of each case")
    parser.add_argument(
        "--inprocess-rounds", type=int, default=7, help="in process: alternating rounds"
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="served: seconds per round")
    parser.add_argument(
        "--creators",
        type=int,
        default=250,
        # 20 tokens each, 20 creator_info a minute per token: 100,000 answers a round before a
        # token is rate-limited (a round answering 429s would measure those instead).
        help="served: creators (20 tokens each)",
    )
    parser.add_argument("--only", choices=["served", "inprocess"], help="run one part")
    args = parser.parse_args(list(argv))
    figures: list[Figure] = []
    if args.only != "inprocess":
        lines, figures = _served(args.rounds, args.seconds, args.creators)
        for line in lines:
            print(line, flush=True)
        if args.only == "served":
            return _summary(figures)
    print(f"in process (per call, median of {args.inprocess_rounds} alternating rounds):")
    with tempfile.TemporaryDirectory(prefix="bench-data-dir-") as tmp:
        for publishes in (1, args.publishes):
            measured = _per_request(
                Path(tmp) / f"per-request-{publishes}",
                publishes,
                args.requests,
                args.inprocess_rounds,
            )
            print(f"{publishes} publishes kept")
            for name, (anchor, seconds) in measured.items():
                ratio = seconds / anchor
                print(
                    f"  {name:13} in memory {anchor * 1e3:7.2f} ms, data dir "
                    f"{seconds * 1e3:7.2f} ms: {ratio:5.2f}x (goal <= 1.25x)"
                )
                figures.append(
                    Figure(
                        f"in process {name}, {publishes} publishes",
                        f"{ratio:.2f}x in memory's",
                        "<= 1.25x",
                        ratio <= 1.25,
                    )
                )
        directory = Path(tmp) / "restart"
        sandbox = _sandbox(directory)
        token = str(sandbox.issue_tokens(APP, CREATOR, SCOPES)["access_token"])
        _grow(sandbox, token, args.publishes)
        sandbox.close()
        start = time.perf_counter()
        again = _sandbox(directory)
        restart = time.perf_counter() - start
        kept = len(again.state.world.publishes)
        again.close()
        start = time.perf_counter()
        _sandbox(None).close()
        anchor = time.perf_counter() - start
    print(
        f"restart with {kept} publishes: {restart:.2f} s (goal < 2 s); "
        f"a sandbox in memory starts in {anchor:.2f} s: {restart / anchor:.1f}x"
    )
    figures.append(
        Figure(f"restart with {kept} publishes", f"{restart:.2f} s", "< 2 s", restart < 2)
    )
    return _summary(figures)


def _summary(figures: list[Figure]) -> int:
    print_summary(figures)
    return 0
