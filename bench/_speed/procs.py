"""Processes of the benchmark: launched servers pinned to one core, wrk pinned to the other."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Cores:
    server: int | None
    load: int | None

    @classmethod
    def pick(cls) -> Cores:
        """Two separate cores where this process may run on two, else no pinning."""
        try:
            cpus = sorted(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            return cls(None, None)
        return cls(cpus[1], cpus[0]) if len(cpus) >= 2 else cls(None, None)

    def describe(self) -> str:
        if self.server is None:
            return "not pinned (fewer than 2 cores available)"
        return f"server on core {self.server}, load generator and benchmark on core {self.load}"


def pin(core: int | None) -> None:
    if core is not None:
        os.sched_setaffinity(0, {core})


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[str]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_seconds(self) -> float:
        """The server process's CPU time so far (user and system, all its threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory_kib(self, field: str) -> int:
        """`VmRSS` or `VmHWM` (peak) of the server process, in KiB."""
        text = Path(f"/proc/{self.pid}/status").read_text()
        found = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
        return int(found.group(1)) if found else 0


@contextmanager
def launched(kind: str, core: int | None, *args: str) -> Iterator[Server]:
    """`python -m bench._speed.launch KIND ARGS` on `core`; stopped when the block ends."""
    env = {**os.environ, "TIKTOK_SANDBOX_LOOPBACK_ONLY": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._speed.launch", kind, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
        preexec_fn=(lambda: pin(core)) if core is not None else None,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("READY "):
            raise RuntimeError(f"bench server {kind} {' '.join(args)} did not start: {line!r}")
        yield Server(line.split()[1], proc)
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def ensure_wrk() -> str | None:
    """The path of wrk (a compiled HTTP load generator), installed from the system's package
    registry (apt-get) when missing and this runs as root; None when it cannot be had."""
    found = shutil.which("wrk")
    if found or not shutil.which("apt-get") or os.geteuid() != 0:
        return found
    print("installing wrk with apt-get (first run only)...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        if subprocess.run(command, env=env, capture_output=True).returncode != 0:
            return None
    return shutil.which("wrk")


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    requests: int
    non_2xx: int


def run_wrk(
    wrk: str, url: str, lua: str, seconds: float, connections: int, core: int | None
) -> WrkResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
    try:
        done = subprocess.run(
            [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", f.name, url],
            capture_output=True,
            text=True,
            preexec_fn=(lambda: pin(core)) if core is not None else None,
            check=True,
        )
    finally:
        os.unlink(f.name)
    out = done.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if rate is None or total is None:
        raise RuntimeError(f"wrk printed no rate:\n{out}\n{done.stderr}")
    return WrkResult(float(rate.group(1)), int(total.group(1)), int(bad.group(1)) if bad else 0)


def lua_script(path: str, requests: list[tuple[str, str]]) -> str:
    """A wrk script cycling through POSTs to `path`, one (bearer token, JSON body) each."""
    rows = ",\n".join(f'  {{"{token}", [[{body}]]}}' for token, body in requests)
    return f"""local rows = {{
{rows}
}}
local prepared = {{}}
local i = 0
init = function(args)
  for k, row in ipairs(rows) do
    local headers = {{["Authorization"] = "Bearer " .. row[1]}}
    if row[2] ~= "" then headers["Content-Type"] = "application/json" end
    prepared[k] = wrk.format("POST", "{path}", headers, row[2])
  end
end
request = function()
  i = i % #prepared + 1
  return prepared[i]
end
"""
