"""`python -m conformance` against a target that does not answer: one line naming the URL and
exit code 4, not one connection error per test."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def run_suite(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("which", ["--base-url", "--control-url"])
def test_an_unreachable_target_stops_the_run_with_one_line(which: str) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    # The control URL is only tried once the target answers: the in-process sandbox does.
    args = ["--base-url", url] if which == "--base-url" else ["--control-url", url]
    done = run_suite(*args)
    output = done.stdout + done.stderr
    assert done.returncode == 4, output
    lines = [line for line in output.splitlines() if url in line]
    assert len(lines) == 1, output
    assert "cannot reach the" in lines[0] and "Connection refused" in lines[0]
    assert "documented behaviours" not in output  # no summary of tests that never ran
