"""Processes and listeners the benchmark starts, all on 127.0.0.1, all stopped by it.

- `SandboxProcess`: `tiktok-sandbox serve --port 0` as a subprocess (its RSS is what the memory
  figure samples); the base URL is read from its start-up summary.
- `PeerServer`: a Starlette app (media server, webhook receiver) on uvicorn in a thread.
- `HangingReceiver`: accepts connections and never answers.
- `ClosedPort`: a bound, non-listening port: connections to it are refused at once.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

LOOPBACK = "127.0.0.1"
_BASE_URL = re.compile(r"http://127\.0\.0\.1:(\d+)")


def loopback_socket(listen: bool = True) -> socket.socket:
    """A TCP socket bound to a free loopback port (TCP_NODELAY-capable, like the sandbox's)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))
    if listen:
        sock.listen(1024)
    return sock


@dataclass
class ServerLog:
    """What a stopped sandbox left behind: its log, and how long SIGTERM took."""

    lines: int = 0
    tracebacks: int = 0
    exceptions: Counter[str] = field(default_factory=Counter)
    stop_seconds: float | None = None

    def report(self) -> str:
        text = (
            f"server log: {self.lines} lines, {self.tracebacks} tracebacks; "
            f"SIGTERM stop took {self.stop_seconds or 0:.1f} s"
        )
        for exception, n in self.exceptions.most_common(5):
            text += f"\n    {n:6d}  {exception}"
        return text


class SandboxProcess:
    """`python -m mock_server.cli serve --host 127.0.0.1 --port 0`, loopback-only outbound.

    TIKTOK_SANDBOX_LOOPBACK_ONLY=1 makes the sandbox refuse to pull from or deliver webhooks to
    any host that is not loopback, whatever hostile input registers.
    """

    # The checkout whose `mock_server` runs; None: this one (`--sandbox-from` sets another).
    source: Path | None = None
    # `--data-dir`: each server keeps its state in a new data directory under this one.
    data_root: Path | None = None

    def __init__(self, *extra_args: str, name: str = "sandbox") -> None:
        self.args = [
            sys.executable,
            "-m",
            "mock_server.cli",
            "serve",
            "--host",
            LOOPBACK,
            "--port",
            "0",
            "--log-level",
            "warning",
            *extra_args,
        ]
        if self.data_root is not None:
            self.args += ["--data-dir", tempfile.mkdtemp(prefix=f"{name}-", dir=self.data_root)]
        self.name = name
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None
        self.stderr_lines = 0
        self.tracebacks = 0
        self.exceptions: Counter[str] = Counter()
        self.stderr_tail: deque[str] = deque(maxlen=40)
        self.stop_seconds: float | None = None
        self._readers: list[threading.Thread] = []

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> SandboxProcess:
        env = {**os.environ, "TIKTOK_SANDBOX_LOOPBACK_ONLY": "1", "PYTHONUNBUFFERED": "1"}
        repo = Path(__file__).resolve().parents[2]
        if self.source is not None:  # its package first; nothing written into that checkout
            env["PYTHONPATH"] = os.pathsep.join([str(self.source), env.get("PYTHONPATH", "")])
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            repo = Path(tempfile.gettempdir())
        self.proc = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            cwd=repo,
            start_new_session=True,  # a Ctrl-C in the terminal reaches the benchmark, not it
        )
        found = threading.Event()
        self._readers = [
            threading.Thread(target=self._read_stdout, args=(found,), daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        deadline = time.monotonic() + 60
        while not found.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = "\n".join(self.stderr_tail)
                raise RuntimeError(f"the sandbox did not start ({self.args!r}):\n{tail}")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _read_stdout(self, found: threading.Event) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            if not self.url:
                match = _BASE_URL.search(line)  # the first URL printed is the base URL
                if match:
                    self.url = f"http://{LOOPBACK}:{match.group(1)}"
                    found.set()

    def _read_stderr(self) -> None:
        """Count the log's lines and tracebacks (a chain of them counts once), and the
        exceptions they end on."""
        assert self.proc is not None and self.proc.stderr is not None
        chained = in_traceback = False
        for line in self.proc.stderr:
            self.stderr_lines += 1
            self.stderr_tail.append(line.rstrip())
            if line.startswith("Traceback"):
                self.tracebacks += not chained
                chained, in_traceback = False, True
            elif line.startswith(("During handling", "The above exception")):
                chained = True
            elif in_traceback and line.strip() and not line[0].isspace():
                self.exceptions[line.strip()[:120]] += 1
                in_traceback = False

    def log(self) -> ServerLog:
        """Stop the server (if still running) and sum up its log."""
        stop = self.stop()
        return ServerLog(self.stderr_lines, self.tracebacks, self.exceptions, stop)

    def rss_kib(self) -> int | None:
        """VmRSS of the server process, from /proc (None once it has exited)."""
        try:
            text = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return None

    def stop(self, grace: float = 20.0) -> float | None:
        """SIGTERM, wait (measured), SIGKILL after `grace` seconds. Returns the seconds taken."""
        proc = self.proc
        if proc is None or self.stop_seconds is not None:
            return self.stop_seconds
        started = time.monotonic()
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait()
        self.stop_seconds = time.monotonic() - started
        for reader in self._readers:
            reader.join(2)
        return self.stop_seconds


def describe(source: Path | None) -> str:
    """Which code the sandbox runs: a checkout and its commit (with local changes or not)."""
    where = source or Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "describe", "--always", "--dirty", "--abbrev=7"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown commit"
    return f"{where} at {commit}"


class PeerServer:
    """A Starlette app served by uvicorn on a thread, on a free loopback port."""

    def __init__(self, app: ASGIApp, name: str) -> None:
        self.app = app
        self.name = name
        self.sock = loopback_socket()
        self.port: int = self.sock.getsockname()[1]
        self.url = f"http://{LOOPBACK}:{self.port}"
        config = uvicorn.Config(
            app, log_level="error", lifespan="off", access_log=False, timeout_keep_alive=60
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True, name=name
        )

    def __enter__(self) -> PeerServer:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError(f"{self.name} did not start")
            self.thread.join(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


class HangingReceiver:
    """Accepts connections, reads whatever comes, and never answers."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sock = loopback_socket()
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.url = f"http://{LOOPBACK}:{self.port}/hook/{name}"
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=name)

    def __enter__(self) -> HangingReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for conn in self._held:
            conn.close()
        self.sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.setblocking(False)
            self._held.append(conn)  # kept open, never answered, until the benchmark ends
            self.accepted += 1


class ClosedPort:
    """A loopback port kept bound but not listening: a connection to it is refused."""

    def __init__(self) -> None:
        self.sock = loopback_socket(listen=False)
        self.port: int = self.sock.getsockname()[1]
        self.url = f"http://{LOOPBACK}:{self.port}"

    def close(self) -> None:
        self.sock.close()
