"""Benchmarks for the figures the issues name: each prints ratios against an anchor measured in
the same run, never absolute timings to assert on. Run with `./scripts/bench [NAME ...]`."""

import statistics
import time
from collections.abc import Callable


def median_seconds(call: Callable[[], object], count: int) -> float:
    """The median wall time of `count` calls."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
