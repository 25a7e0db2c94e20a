"""Issue 10's figures ("Safe to leave running"), measured in one run against served sandboxes:

1. hostile input: answers >= 500 and state changes caused by refused requests, over at least
   100,000 generated hostile requests (goal: 0 and 0);
2. memory over time: the server's RSS over a mixed workload of 8 clients for 10 minutes
   (goal: the maximum after the first minute within +15 % of the value after it);
3. webhooks: the delay three hanging receivers add to a fourth app's delivery (goal: < 1 s),
   and deliveries per second to one fast receiver (goal: >= 200/s).

    ./scripts/bench robustness                       # everything, full length (~20 min)
    ./scripts/bench robustness -- --quick            # a smoke run (~3 min)
    ./scripts/bench robustness -- --only memory --minutes 2

Each part starts its own `tiktok-sandbox serve --port 0` (and peers) on 127.0.0.1 and stops
them, also on Ctrl-C. The exit status is 0 even when a goal is missed: this is a measurement;
the summary at the end says which goals were met. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench._figures import Figure
from bench._robustness.hostile_run import HostileResult, report_hostile, run_hostile
from bench._robustness.servers import SandboxProcess, describe
from bench._robustness.webhooks import report_webhooks, run_webhooks, summary_rows
from bench._robustness.workload import MemoryResult, report_memory, run_memory

DESCRIPTION = (
    "issue 10: answers >= 500 and state changes under hostile input, server RSS over a mixed "
    "workload, webhook isolation and throughput"
)
PARTS = ("hostile", "memory", "webhooks")
FULL_REQUESTS = 100_000
FULL_MINUTES = 10.0


def parse(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="./scripts/bench robustness --",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        help="run only this part (repeatable); default: all three",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 5,000 hostile requests, 1 minute of workload, 1 isolation "
        "trial, 200 webhook deliveries",
    )
    p.add_argument("--requests", type=int, help=f"hostile requests (default {FULL_REQUESTS})")
    p.add_argument("--seed", type=int, default=10, help="seed of the hostile generator")
    p.add_argument("--concurrency", type=int, default=16, help="hostile requests in flight")
    p.add_argument(
        "--batch",
        type=int,
        default=250,
        help="hostile requests to routes that only read, between two state snapshots",
    )
    p.add_argument(
        "--write-batch",
        type=int,
        default=40,
        help="hostile requests to routes that write, between two snapshots",
    )
    p.add_argument(
        "--risky-batch",
        type=int,
        default=12,
        help="batch size for requests a correct sandbox may accept",
    )
    p.add_argument("--minutes", type=float, help=f"workload length (default {FULL_MINUTES:g})")
    p.add_argument("--clients", type=int, default=8, help="concurrent workload clients")
    p.add_argument(
        "--pace",
        choices=("tiktok", "max"),
        default="tiktok",
        help="tiktok: clients keep to TikTok's per-token limits, as integrations must (default); "
        "max: they mint tokens to dodge them, a stress of the sandbox's caps",
    )
    p.add_argument("--sample-seconds", type=float, default=2.0, help="RSS sampling interval")
    p.add_argument(
        "--reference-seconds",
        type=float,
        default=60.0,
        help="when the reference RSS is taken (half the run if that is shorter)",
    )
    p.add_argument("--trials", type=int, help="isolation trials (default 3)")
    p.add_argument("--hook-apps", type=int, default=4, help="apps sending to the fast receiver")
    p.add_argument("--hook-events", type=int, help="events per app (default 250)")
    p.add_argument(
        "--sandbox-from",
        type=Path,
        metavar="DIR",
        help="run the sandbox from another checkout (e.g. the base of a change), same bench",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="run each sandbox with a data directory of its own under DIR (serve --data-dir)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    args = p.parse_args(argv)
    quick = args.quick
    args.requests = args.requests or (5_000 if quick else FULL_REQUESTS)
    args.minutes = args.minutes or (1.0 if quick else FULL_MINUTES)
    args.trials = args.trials or (1 if quick else 3)
    args.hook_events = args.hook_events or (50 if quick else 250)
    args.reference_seconds = min(args.reference_seconds, args.minutes * 60 / 2)
    return args


def hostile_figures(result: HostileResult) -> list[Figure]:
    short = result.requests < FULL_REQUESTS
    return [
        Figure(
            "hostile: answers >= 500",
            f"{result.count_5xx} of {result.requests}",
            "0",
            result.count_5xx == 0,
            short,
        ),
        Figure(
            "hostile: state changes, refused requests",
            f"{len(result.changes)} (judged {result.judged_requests} requests)",
            "0",
            not result.changes and result.judged_requests > 0,
            short,
        ),
    ]


def memory_figures(result: MemoryResult, minutes: float) -> list[Figure]:
    ref, peak, ratio = result.reference, result.peak_after, result.ratio
    if ref is None or peak is None or ratio is None:
        return [
            Figure("memory: max RSS / RSS after 1st minute", "no samples", "<= 1.15", False, True)
        ]
    measured = f"{ratio:.2f} ({ref[1] / 1024:.0f} -> {peak / 1024:.0f} MiB)"
    label = f"memory: max RSS / RSS at {ref[0]:.0f} s"
    figures = [Figure(label, measured, "<= 1.15", ratio <= 1.15, minutes < FULL_MINUTES)]
    if result.after_reset_kib is not None:
        # Not a goal of the issue: it tells growth from records kept within the caps (gone
        # after a reset) from a leak (still there).
        left = result.after_reset_kib / ref[1]
        figures.append(
            Figure(
                f"memory: RSS after a reset at the end / RSS at {ref[0]:.0f} s",
                f"{left:.2f} ({result.after_reset_kib / 1024:.0f} MiB)",
                "<= 1.15",
                left <= 1.15,
                minutes < FULL_MINUTES,
            )
        )
    return figures


def print_summary(figures: list[Figure], args: argparse.Namespace) -> None:
    cores = os.cpu_count()
    print(
        f"\n== robustness summary ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {cores} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()})"
    )
    rows = [("figure", "measured", "goal", "result")]
    for f in figures:
        verdict = "PASS" if f.met else "MISSED"
        rows.append((f.name, f.measured, f.goal, verdict + (" (short run)" if f.short else "")))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for n, row in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    missed = [f.name for f in figures if not f.met]
    if missed:
        print(f"\n*** GOALS MISSED: {len(missed)} of {len(figures)}: {'; '.join(missed)} ***")
    else:
        print(f"\nAll {len(figures)} goals met.")
    if any(f.short for f in figures):
        print(
            f"(short run: the goals ask for {FULL_REQUESTS} hostile requests and "
            f"{FULL_MINUTES:g} minutes of workload)"
        )


async def _measure(args: argparse.Namespace, figures: list[Figure]) -> None:
    parts = args.only or list(PARTS)
    progress = not args.quiet
    SandboxProcess.source = args.sandbox_from.resolve() if args.sandbox_from else None
    if args.data_dir is not None:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        SandboxProcess.data_root = args.data_dir.resolve()
    print(f"sandbox under test: {describe(SandboxProcess.source)}", flush=True)
    clip = b""
    if "memory" in parts or "webhooks" in parts:
        from conformance.media import make_video

        with tempfile.TemporaryDirectory(prefix="robustness-bench-") as tmp:
            clip = make_video(Path(tmp) / "clip.mp4").read_bytes()  # 3.5 s, 640x360, 30 fps
    if "hostile" in parts:
        print(
            f"-- hostile input: {args.requests} requests, seed {args.seed}, "
            f"{args.concurrency} in flight",
            flush=True,
        )
        hostile = await run_hostile(
            args.requests,
            args.seed,
            args.concurrency,
            args.batch,
            args.write_batch,
            args.risky_batch,
            progress,
        )
        report_hostile(hostile)
        figures += hostile_figures(hostile)
    if "memory" in parts:
        print(
            f"\n-- memory over time: {args.clients} clients, {args.minutes:g} min, "
            f"{args.pace} pace",
            flush=True,
        )
        memory = await run_memory(
            args.minutes,
            args.clients,
            args.sample_seconds,
            args.reference_seconds,
            clip,
            progress,
            args.pace,
        )
        report_memory(memory)
        figures += memory_figures(memory, args.minutes)
    if "webhooks" in parts:
        print(
            f"\n-- webhooks: {args.trials} isolation trials, {args.hook_apps} x "
            f"{args.hook_events} deliveries",
            flush=True,
        )
        hooks = await run_webhooks(clip, args.trials, args.hook_apps, args.hook_events, progress)
        report_webhooks(hooks)
        figures += [
            Figure(name, measured, goal, met, args.quick)
            for name, measured, goal, met in summary_rows(hooks)
        ]


def main(argv: Sequence[str]) -> int:
    args = parse(argv)
    figures: list[Figure] = []
    try:
        asyncio.run(_measure(args, figures))
    except KeyboardInterrupt:
        print("\ninterrupted: every server the benchmark started has been stopped")
        if figures:
            print_summary(figures, args)
        return 130
    print_summary(figures, args)
    return 0
