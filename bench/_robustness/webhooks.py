"""Figure 3: webhook isolation (three receivers that hang, and a fourth app's delivery) and
webhook throughput (deliveries per second to one fast receiver).

Events come from creator-side actions on a completed SELF_ONLY post (`restore` makes it public:
`post.publish.publicly_available`; `take_down` ends that: `..._no_longer_publicaly_available`),
one webhook each, as fast as the control API takes them. Deliveries are made by the served
sandbox's own background ticker.

Isolation runs on a fresh sandbox per trial with the real clock: the fourth app's delivery
delay (action answered -> receiver has it) with nothing else pending, then right after the
three hanging apps each got an event. Throughput freezes the clock: every event's first
attempt is answered 503, then the receiver answers 200 and the clock moves past the first
retry (30 s), so the whole backlog is due at once; the figure is backlog / time to deliver it.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette

from bench._robustness.control import Control, SetupFailed
from bench._robustness.peers import WebhookReceiver
from bench._robustness.servers import HangingReceiver, PeerServer, SandboxProcess


@dataclass
class AppUnderTest:
    client_key: str
    client_secret: str
    publish_id: str
    public: bool = False

    async def event(self, control: Control) -> None:
        """One webhook event: restore the post, or take it down again."""
        await control.action(self.publish_id, "take_down" if self.public else "restore")
        self.public = not self.public


@dataclass
class Trial:
    baseline: list[float]  # seconds, fast app alone
    with_hanging: float | None  # seconds, right after the hanging apps' events; None: timed out
    stop_seconds: float | None  # SIGTERM with the hanging deliveries in flight

    @property
    def added(self) -> float | None:
        if self.with_hanging is None:
            return None
        return self.with_hanging - statistics.median(self.baseline)


@dataclass
class WebhookResult:
    trials: list[Trial] = field(default_factory=list)
    timeout: float = 0.0
    deliveries: int = 0
    apps: int = 0
    throughput_seconds: float | None = None
    first_attempt_seconds: float | None = None
    delivered: int = 0
    bad_signatures: int = 0
    anchor_per_second: float | None = None
    throughput_stop_seconds: float | None = None

    @property
    def added_delay(self) -> float | None:
        """Median over trials of the delay three hanging receivers added (None: a timeout)."""
        added = [t.added for t in self.trials]
        if not added or any(a is None for a in added):
            return None
        return statistics.median(a for a in added if a is not None)

    @property
    def per_second(self) -> float | None:
        if not self.throughput_seconds or self.delivered < self.deliveries:
            return None
        return self.deliveries / self.throughput_seconds


async def _apps(
    control: Control, clip: bytes, count: int, prefix: str, frozen: bool
) -> list[AppUnderTest]:
    """`count` audited apps, each with a creator and a completed SELF_ONLY post."""
    made = []
    for i in range(count):
        created = await control.create_app(
            {
                "name": f"{prefix} {i}",
                "stage": "audited",
                "creators": [{"username": f"{prefix}_c{i}", "account": "public"}],
            }
        )
        app = created["app"]
        tokens = await control.tokens(app["client_key"], f"{prefix}_c{i}", ["video.publish"])
        publish_id = await control.post_video(tokens["access_token"], clip)
        made.append(AppUnderTest(app["client_key"], app["client_secret"], publish_id))
    if frozen:
        await control.clock(advance_seconds=2)
    for app in made:
        await control.wait_status(app.publish_id, ("PUBLISH_COMPLETE",), timeout=30)
    return made


async def _delivery_delay(
    receiver: WebhookReceiver, control: Control, app: AppUnderTest, timeout: float
) -> float | None:
    """Seconds from the event to its arrival at the receiver (None after `timeout`)."""
    before, _ = receiver.answered(200, app.client_key)
    started = time.monotonic()
    await app.event(control)
    while time.monotonic() - started < timeout:
        count, last = receiver.answered(200, app.client_key)
        if count > before and last is not None:
            return last - started
        await asyncio.sleep(0.005)
    return None


async def _trial(clip: bytes, baseline_runs: int, timeout: float) -> Trial:
    receiver = WebhookReceiver()
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(SandboxProcess())
        peer = stack.enter_context(
            PeerServer(Starlette(routes=receiver.routes()), "bench-receiver")
        )
        hanging = [stack.enter_context(HangingReceiver(f"hang{i}")) for i in range(3)]
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            control = Control(http)
            *slow, fast = await _apps(control, clip, 4, "iso", frozen=False)
            await control.patch_app(fast.client_key, {"webhook_url": f"{peer.url}/hook/fast"})
            receiver.secrets[fast.client_key] = fast.client_secret
            for app, h in zip(slow, hanging, strict=True):
                await control.patch_app(app.client_key, {"webhook_url": h.url})
            baseline = []
            for _ in range(baseline_runs):
                delay = await _delivery_delay(receiver, control, fast, timeout)
                if delay is None:
                    raise SetupFailed("the fast receiver got nothing with no other app busy")
                baseline.append(delay)
                await asyncio.sleep(0.2)
            await asyncio.gather(*(app.event(control) for app in slow))
            await asyncio.sleep(0.5)  # the ticker (every 0.1 s) has picked them up
            with_hanging = await _delivery_delay(receiver, control, fast, timeout)
        stop = server.stop()
    return Trial(baseline, with_hanging, stop)


async def _throughput(clip: bytes, apps: int, events: int, result: WebhookResult) -> None:
    receiver = WebhookReceiver()
    total = apps * events
    with (
        SandboxProcess() as server,
        PeerServer(Starlette(routes=receiver.routes()), "bench-receiver") as peer,
    ):
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            control = Control(http)
            await control.clock(freeze=True)
            made = await _apps(control, clip, apps, "tp", frozen=True)
            receiver.accepting = False
            for i, app in enumerate(made):
                receiver.secrets[app.client_key] = app.client_secret
                await control.patch_app(app.client_key, {"webhook_url": f"{peer.url}/hook/t{i}"})
            started = time.monotonic()

            async def arm(app: AppUnderTest) -> None:
                for _ in range(events):
                    await app.event(control)

            await asyncio.gather(*(arm(app) for app in made))
            limit = 60 + total / 5
            while receiver.answered(503)[0] < total:
                if time.monotonic() - started > limit:
                    raise SetupFailed(f"first attempts did not all arrive in {limit:.0f} s")
                await asyncio.sleep(0.05)
            result.first_attempt_seconds = time.monotonic() - started
            receiver.accepting = True
            started = time.monotonic()
            await control.clock(advance_seconds=31)  # past the first retry (30 s)
            while receiver.answered(200)[0] < total and time.monotonic() - started < limit:
                await asyncio.sleep(0.02)
            result.delivered, last = receiver.answered(200)
            if last is not None:
                result.throughput_seconds = last - started
            result.bad_signatures = sum(1 for r in receiver.received() if not r.signed)
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                loop = asyncio.get_running_loop()
                result.anchor_per_second = await loop.run_in_executor(
                    pool, anchor, f"{peer.url}/hook/anchor"
                )
        result.throughput_stop_seconds = server.stop()


def anchor(url: str) -> float:
    """Run in a process of its own: what the receiver takes from a plain httpx client (16
    requests in flight), a floor of what it could take from the sandbox."""
    return asyncio.run(_anchor(url))


async def _anchor(url: str, requests: int = 2000, concurrency: int = 16) -> float:
    body = b'{"client_key":"anchor","event":"anchor","create_time":0,"content":"{}"}'
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    async with httpx.AsyncClient(timeout=30) as http:

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                await http.post(url, content=body, headers={"Content-Type": "application/json"})

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return requests / (time.monotonic() - started)


async def run_webhooks(
    clip: bytes, trials: int, apps: int, events: int, progress: bool
) -> WebhookResult:
    result = WebhookResult(timeout=120.0, apps=apps, deliveries=apps * events)
    for n in range(trials):
        trial = await _trial(clip, baseline_runs=5, timeout=result.timeout)
        result.trials.append(trial)
        if progress:
            shown = f"{trial.with_hanging:.2f} s" if trial.with_hanging is not None else "timeout"
            print(
                f"  webhooks: isolation trial {n + 1}/{trials}: alone "
                f"{statistics.median(trial.baseline):.3f} s, after 3 hanging {shown}",
                flush=True,
            )
    await _throughput(clip, apps, events, result)
    return result


def report_webhooks(result: WebhookResult) -> None:
    print("\nWebhooks:")
    for n, trial in enumerate(result.trials, 1):
        baseline = ", ".join(f"{b * 1000:.0f}" for b in trial.baseline)
        shown = (
            f"{trial.with_hanging:.3f} s"
            if trial.with_hanging is not None
            else f"none within {result.timeout:.0f} s"
        )
        print(
            f"  isolation trial {n}: fourth app alone {baseline} ms; after three hanging "
            f"receivers {shown}; SIGTERM then took {trial.stop_seconds or 0:.1f} s"
        )
    if result.deliveries:
        rate = result.per_second
        print(
            f"  throughput: {result.delivered}/{result.deliveries} deliveries from "
            f"{result.apps} apps to one receiver in {result.throughput_seconds or 0:.2f} s "
            f"({rate:.0f}/s)"
            if rate
            else f"  throughput: only {result.delivered}/{result.deliveries} delivered"
        )
        print(
            f"  first attempts (answered 503) took {result.first_attempt_seconds or 0:.1f} s; "
            f"bad signatures {result.bad_signatures}; the receiver alone takes "
            f"{result.anchor_per_second or 0:.0f} req/s from a plain httpx client; "
            f"SIGTERM took {result.throughput_stop_seconds or 0:.1f} s"
        )


def summary_rows(result: WebhookResult) -> list[tuple[str, str, str, Any]]:
    added = result.added_delay
    rate = result.per_second
    return [
        (
            "webhooks: delay 3 hanging receivers add",
            f"{added:.2f} s" if added is not None else f"> {result.timeout:.0f} s (timed out)",
            "< 1 s",
            added is not None and added < 1.0,
        ),
        (
            "webhooks: deliveries/s to one fast receiver",
            f"{rate:.0f}/s" if rate else f"{result.delivered}/{result.deliveries} delivered",
            ">= 200/s",
            rate is not None and rate >= 200,
        ),
    ]
