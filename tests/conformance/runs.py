"""Running the conformance suite in a process of its own, in process or against a URL, and
reading its closing summary of documented behaviours."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass

from tests.served import ROOT, environment

SUMMARY_TITLE = "conformance: documented behaviours"
RUN_SECONDS = 300


@dataclass(frozen=True)
class Run:
    """A finished run: its exit code and output."""

    returncode: int
    output: str

    def tail(self, size: int = 6000) -> str:
        return self.output[-size:]

    def summary(self) -> list[str]:
        """The lines of the closing summary (empty when the run printed none)."""
        lines = self.output.splitlines()
        start = next((i for i, line in enumerate(lines) if SUMMARY_TITLE in line), None)
        if start is None:
            return []
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("=")), len(lines)
        )
        return lines[start + 1 : end]

    def behaviours(self) -> dict[str, tuple[int, str]]:
        """behaviour name -> (examples, result: "passed", "FAILED", "skipped: why", ...)."""
        rows = (ROW.match(line) for line in self.summary())
        return {row[1]: (int(row[2]), row[3]) for row in rows if row and row[1] != "behaviour"}


ROW = re.compile(r"^  (\S+)\s+.*?\s(\d+)  (\S.*)$")


def run_command(command: list[str], **env: str) -> Run:
    """`command` in a process of its own at the repository's root, quick profile, loopback only."""
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=environment(CONFORMANCE_PROFILE="quick", **env),
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )
    return Run(done.returncode, done.stdout + done.stderr)


def conformance(*args: str, base_url: str | None = None, control: bool = True) -> Run:
    """`python -m conformance ARGS`: the sandbox in process, or the target at `base_url` (with
    its control API at the same URL, unless `control` is False)."""
    command = [sys.executable, "-m", "conformance", "-p", "no:cacheprovider"]
    if base_url:
        command += ["--base-url", base_url] + (["--control-url", base_url] if control else [])
    return run_command([*command, *args])
