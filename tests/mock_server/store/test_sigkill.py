"""kill -9 a served sandbox at several points of a mixed workload (some requests in flight),
restart it on the same data directory, and find every acknowledged change there."""

from __future__ import annotations

import copy
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.mock_server.store.workload import STEPS, Facts, check, step
from tests.served import ROOT, _wait_for_url, environment

pytestmark = pytest.mark.server


@contextmanager
def server(data_dir: Path, port: int) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The same port each time: the upload URLs the sandbox gave out name it."""
    command = [sys.executable, "-m", "mock_server", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--data-dir", str(data_dir)]
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment(), stdout=log, stderr=subprocess.STDOUT, text=True
        )
        try:
            yield process, _wait_for_url(process, log)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(10)


def busy(url: str, facts: Facts, seed: int, stop: threading.Event) -> None:
    """Requests one after the other until the server dies under them; only answered ones
    are recorded in `facts`."""
    rng = random.Random(seed)
    # Not the webhook URL (which of two racing unanswered changes stays is not determined), nor
    # the clock (racing clients would age the tokens checked after the restart past 2 h).
    steps = [s for s in STEPS if s not in ("webhook_url", "advance")]
    with httpx.Client(base_url=url, timeout=10) as http:
        while not stop.is_set():
            try:
                step(http, rng.choice(steps), facts, rng)
            except (httpx.HTTPError, AssertionError, KeyError, ValueError):
                return  # the server died: this request was never acknowledged


def test_every_acknowledged_change_survives_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    facts = Facts()
    rng = random.Random(18)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for point in range(8):
        with (
            server(data_dir, port) as (process, url),
            httpx.Client(base_url=url, timeout=10) as http,
        ):
            check(http, facts)  # what the previous run acknowledged is all there
            for name in ["tokens", *rng.choices(STEPS, k=12)]:
                step(http, name, facts, rng)
            # Kill while requests are in flight, a little later at each point.
            racing = [copy.deepcopy(facts) for _ in range(2)]
            stop = threading.Event()
            threads = [
                threading.Thread(target=busy, args=(url, f, point * 10 + i, stop))
                for i, f in enumerate(racing)
            ]
            for thread in threads:
                thread.start()
            time.sleep(0.03 + 0.07 * point)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
            stop.set()
            for thread in threads:
                thread.join(30)
            for raced in racing:  # what a racing client had answered counts too
                facts.publishes.update(raced.publishes)
                facts.fault_ids += [f for f in raced.fault_ids if f not in facts.fault_ids]
            facts.access_tokens += [t for r in racing for t in r.access_tokens[-1:]]
    with server(data_dir, port) as (_, url), httpx.Client(base_url=url, timeout=10) as http:
        check(http, facts)
        webhooks = http.get("/_sandbox/webhooks").json()
        assert all(
            d["status"] in ("pending", "delivered", "dropped") for d in webhooks["deliveries"]
        )
