"""Upload throughput of the served sandbox against a raw body drain to disk on the same stack,
and the sandbox's peak RSS as the bytes pile up."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench._speed import fixture
from bench._speed.procs import Cores, launched

MiB = fixture.MiB


@dataclass
class Uploads:
    sandbox: float  # bytes per second, median over chunks
    drain: float
    chunk_mib: int
    total_mib: int
    rss_start_kib: int
    peak_after_first_kib: int
    peak_end_kib: int


def run(cores: Cores, rounds: int, chunk_mib: int, chunks: int) -> Uploads:
    chunk = chunk_mib * MiB
    body = os.urandom(chunk)
    samples: dict[str, list[float]] = {"sandbox": [], "drain": []}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp, "fixture.json")
        with (
            launched("sandbox", cores.server, "--creators", "1", "--out", str(out)) as sandbox,
            launched("drain", cores.server) as drain,
            httpx.Client(timeout=120) as http,
        ):
            fix = fixture.Fixture.from_json(json.loads(out.read_text())["fixture"])
            start = sandbox.memory_kib("VmRSS")
            first_peak = 0
            for round_ in range(rounds):
                http.post(f"{sandbox.url}/_sandbox/clock", json={"advance_seconds": 61})
                token = fix.pairs[round_ % len(fix.pairs)][0]
                authorized = httpx.Client(
                    base_url=sandbox.url, headers={"Authorization": f"Bearer {token}"}
                )
                with authorized:
                    data = fixture.init_upload(authorized, token, chunks * chunk, chunk)
                target = urlsplit(data["upload_url"])
                upload_url = f"{sandbox.url}{target.path}?{target.query}"
                size = chunks * chunk
                for index in range(chunks):
                    pair = (
                        ("sandbox", "drain") if (round_ + index) % 2 == 0 else ("drain", "sandbox")
                    )
                    for road in pair:
                        url = upload_url if road == "sandbox" else f"{drain.url}/drain"
                        first = index * chunk
                        started = time.perf_counter()
                        answer = http.put(
                            url,
                            content=body,
                            headers={
                                "Content-Type": "video/mp4",
                                "Content-Range": f"bytes {first}-{first + chunk - 1}/{size}",
                            },
                        )
                        elapsed = time.perf_counter() - started
                        assert answer.status_code in (201, 206), answer.text
                        if index < chunks - 1:  # the last one starts the media check
                            samples[road].append(chunk / elapsed)
                if round_ == 0:
                    first_peak = sandbox.memory_kib("VmHWM")
            time.sleep(0.5)  # let the media checks of the last upload run
            end_peak = sandbox.memory_kib("VmHWM")
    return Uploads(
        statistics.median(samples["sandbox"]),
        statistics.median(samples["drain"]),
        chunk_mib,
        rounds * chunks * chunk_mib,
        start,
        first_peak,
        end_peak,
    )


def report(u: Uploads, rounds: int) -> list[str]:
    return [
        f"uploads: {rounds} uploads of {u.total_mib // rounds} MiB in {u.chunk_mib} MiB chunks "
        "(PUT, alternating with the drain), median over chunks:",
        f"  raw body drain to disk (anchor)  {u.drain / MiB:8.1f} MiB/s",
        f"  sandbox upload                   {u.sandbox / MiB:8.1f} MiB/s   "
        f"ratio {u.sandbox / u.drain:.2f}x",
        f"  sandbox RSS at start {u.rss_start_kib / 1024:.0f} MiB; peak after the first "
        f"{u.total_mib // rounds} MiB {u.peak_after_first_kib / 1024:.0f} MiB; peak after "
        f"{u.total_mib} MiB {u.peak_end_kib / 1024:.0f} MiB",
    ]
