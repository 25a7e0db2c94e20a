"""A tiktok-sandbox served on a free loopback port by a process of its own, for the suites that
judge it by URL (the conformance suite, Schemathesis): started by the test, stopped by it.

    with served() as url:                        # `tiktok-sandbox serve --port 0`
        ...
    with served("rate_limiter_off") as url:      # the same, with a mutant applied first

The process runs `python -m tests.conformance.serve [MUTANT] serve --port 0 ...` with
TIKTOK_SANDBOX_LOOPBACK_ONLY=1, so its pulls and webhooks never leave this machine; its output
goes to a file (read for the base URL it prints, and shown when something fails).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 30.0
BASE_URL = re.compile(r"API base URL\s+(http://127\.0\.0\.1:\d+)")


class ServeFailed(RuntimeError):
    """The sandbox process exited or never printed its base URL."""


def environment(**extra: str) -> dict[str, str]:
    """The environment of processes the tests start: loopback only, no colours."""
    return {**os.environ, "TIKTOK_SANDBOX_LOOPBACK_ONLY": "1", "NO_COLOR": "1", **extra}


@contextmanager
def served(mutant: str | None = None, *args: str) -> Iterator[str]:
    """The base URL of a sandbox served on 127.0.0.1 (a free port) until the block ends."""
    command = [sys.executable, "-m", "tests.conformance.serve", *([mutant] if mutant else [])]
    command += ["serve", "--host", "127.0.0.1", "--port", "0", *args]
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment(), stdout=log, stderr=subprocess.STDOUT, text=True
        )
        try:
            yield _wait_for_url(process, log)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_url(process: subprocess.Popen[str], log: tempfile._TemporaryFileWrapper[str]) -> str:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        log.seek(0)
        output = log.read()
        found = BASE_URL.search(output)
        if found:
            return found[1]
        if process.poll() is not None:
            raise ServeFailed(f"the sandbox exited with {process.returncode}:\n{output}")
        time.sleep(0.05)
    raise ServeFailed(f"the sandbox printed no base URL in {STARTUP_SECONDS:.0f} s")
