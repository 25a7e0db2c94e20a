"""Start-up: `tiktok-sandbox serve` until it answers, and `Sandbox()` construction."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import httpx

from bench._speed.procs import REPO
from mock_server import Sandbox


def serve_ready(times: int) -> float:
    """Median seconds from starting `python -m mock_server.cli serve --port 0` (what
    `tiktok-sandbox serve` runs) to its first answer to `GET /_sandbox/health`."""
    samples = []
    env = {**os.environ, "TIKTOK_SANDBOX_LOOPBACK_ONLY": "1", "PYTHONUNBUFFERED": "1"}
    for _ in range(times):
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "mock_server.cli", "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=REPO,
            env=env,
        )
        try:
            assert proc.stdout is not None
            url = ""
            for line in proc.stdout:
                if "API base URL" in line:
                    url = line.split()[3]
                    break
            while True:
                try:
                    if httpx.get(f"{url}/_sandbox/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.001)
            samples.append(time.perf_counter() - started)
        finally:
            proc.terminate()
            proc.wait(10)
    return statistics.median(samples)


def construction(times: int) -> float:
    """Median seconds of `Sandbox()` (the default scenario), the package already imported."""
    Sandbox().close()
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        sandbox = Sandbox()
        samples.append(time.perf_counter() - started)
        sandbox.close()
    return statistics.median(samples)
