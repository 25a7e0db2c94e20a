"""One sandbox's mutable state: the scenario it came from, its World, clock, journal and seed.

HTTP handlers and the Python API reach the World only through `SandboxState.lock`, so a
sandbox shared by a real server thread and an in-process transport stays consistent, and
counters (rate limits, caps) are exact under concurrency.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from faker import Faker

from mock_server.domain.ids import IdFactory
from mock_server.domain.lifecycle import run_due
from mock_server.domain.settings import SettingError
from mock_server.domain.webhooks import Attempt, record_attempt, signature_header
from mock_server.domain.world import World
from mock_server.population import add_fault, injection_from, new_faker, populate
from mock_server.runtime.clock import Clock, ClockState, restore, snapshot
from mock_server.runtime.downloads import Downloads
from mock_server.runtime.fetcher import HttpxFetcher, UrlFetcher
from mock_server.runtime.journal import DEFAULT_CAPACITY, Journal
from mock_server.runtime.spool import MediaSpool
from mock_server.runtime.webhooks import HttpxWebhookSender, WebhookSender
from mock_server.scenario import Scenario, ScenarioError, load_scenario


@dataclass(frozen=True)
class ServerOptions:
    """Settings of the server rather than of the scenario."""

    admin_token: str | None = None
    public_base_url: str | None = None
    journal_capacity: int = DEFAULT_CAPACITY
    max_body_bytes: int = 1024 * 1024


class SandboxState:
    def __init__(
        self,
        scenario: Scenario | str = "default",
        seed: int | None = None,
        clock: Clock | None = None,
        options: ServerOptions | None = None,
        *,
        fetcher: UrlFetcher | None = None,
        webhook_sender: WebhookSender | None = None,
    ) -> None:
        self.options = options or ServerOptions()
        self.lock = threading.RLock()
        self.clock = clock or Clock()
        # A clock handed in by the caller is theirs: the scenario's `clock:` only sets up the
        # sandbox's own clock.
        self._clock_given = clock is not None
        self.spool = MediaSpool()
        self.fetcher: UrlFetcher = fetcher or HttpxFetcher()
        self.webhook_sender: WebhookSender = webhook_sender or HttpxWebhookSender()
        self.downloads = Downloads(self)
        # True while a background ticker delivers webhooks; otherwise requests do it.
        self.background_dispatch = False
        self._initial_clock: ClockState = snapshot(self.clock)
        self.journal = Journal(self.options.journal_capacity)
        self.scenario = load_scenario(scenario) if isinstance(scenario, str) else scenario
        self._seed_override = seed
        self.world, self.faker = self._build()

    @property
    def seed(self) -> int:
        return self.scenario.seed if self._seed_override is None else self._seed_override

    def now(self) -> float:
        return self.clock.now()

    def _build(self) -> tuple[World, Faker]:
        scenario = self.scenario
        restore(self.clock, self._initial_clock)
        if scenario.clock_frozen and not self._clock_given:
            self.clock.freeze()
        if scenario.clock_start is not None and not self._clock_given:
            self.clock.set(scenario.clock_start)
        # The instant the world was built: a journal replay starts its clock here.
        self.built_at = self.clock.now()
        world = World(ids=IdFactory(self.seed), timing=scenario.timing)
        faker = new_faker(self.seed)
        try:
            populate(world, faker, scenario.apps, scenario.creators, self.built_at, scenario.source)
            world.injections = [
                injection_from(item, world, f"{scenario.source}: inject_failures[{i}]")
                for i, item in enumerate(scenario.inject_failures)
            ]
            world.fault_rng = random.Random(f"faults:{self.seed}")
            for i, item in enumerate(scenario.faults):
                add_fault(world, item, f"{scenario.source}: faults[{i}]")
        except SettingError as exc:
            raise ScenarioError(str(exc)) from exc
        return world, faker

    def reset(self, scenario: Scenario | str | None = None, seed: int | None = None) -> None:
        """Back to the scenario's initial state (optionally another scenario or seed)."""
        with self.lock:
            previous = (self.scenario, self._seed_override)
            if scenario is not None:
                self.scenario = load_scenario(scenario) if isinstance(scenario, str) else scenario
            if seed is not None:
                self._seed_override = seed
            try:
                self.world, self.faker = self._build()
            except ScenarioError:
                self.scenario, self._seed_override = previous
                raise
            self.journal.clear(restart=True)
            self.spool.clear()

    # -- time passing ---------------------------------------------------------------------

    def tick(self) -> None:
        """Run every lifecycle step due on the sandbox clock."""
        with self.lock:
            run_due(self.world, self.now())

    def dispatch_webhooks(self) -> int:
        """Send every webhook delivery that is due; returns how many were attempted.

        Sending happens outside the lock, so a slow receiver never blocks the API.
        """
        with self.lock:
            now = self.now()
            run_due(self.world, now)
            batch = []
            for delivery in self.world.outbox.due(now):
                app = self.world.apps.get(delivery.client_key)
                secret = app.client_secret if app else ""
                delivery.in_flight = True
                batch.append((delivery, signature_header(secret, int(now), delivery.body), now))
        for delivery, signature, at in batch:
            headers = {"Content-Type": "application/json", "TikTok-Signature": signature}
            try:
                status, text = self.webhook_sender.send(delivery.url, delivery.body, headers)
                attempt = Attempt(at, signature, status, None, text)
            except Exception as exc:  # any failure to deliver is a failed attempt, retried
                attempt = Attempt(at, signature, None, f"{type(exc).__name__}: {exc}")
            with self.lock:
                record_attempt(delivery, attempt)
        return len(batch)

    def pump(self) -> None:
        self.tick()
        self.dispatch_webhooks()

    def close(self) -> None:
        self.downloads.close()
        self.spool.close()
