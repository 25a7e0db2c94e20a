"""One sandbox's mutable state: the scenario it came from, its World, clock, journal and seed.

HTTP handlers and the Python API reach the World only through `SandboxState.lock`, so a
sandbox shared by a real server thread and an in-process transport stays consistent, and
counters (rate limits, caps) are exact under concurrency.
"""

from __future__ import annotations

import functools
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import anyio.to_thread
from faker import Faker

from mock_server.domain.changes import Touched
from mock_server.domain.changes import scope as changes_scope
from mock_server.domain.ids import CountedRandom, IdFactory
from mock_server.domain.lifecycle import run_due
from mock_server.domain.retention import sweep_if_due
from mock_server.domain.settings import SettingError
from mock_server.domain.webhooks import (
    PENDING,
    Attempt,
    Delivery,
    record_attempt,
    signature_header,
)
from mock_server.domain.world import MAX_PUBLISHES, World
from mock_server.forms import FormTokens
from mock_server.logs import log
from mock_server.population import add_fault, injection_from, new_faker, populate
from mock_server.runtime.clock import Clock, ClockState, restore, snapshot
from mock_server.runtime.covers import CoverStore
from mock_server.runtime.downloads import Downloads
from mock_server.runtime.fetcher import HttpxFetcher, UrlFetcher
from mock_server.runtime.journal import DEFAULT_CAPACITY, Journal
from mock_server.runtime.spool import MediaSpool
from mock_server.runtime.webhooks import HttpxWebhookSender, WebhookSender
from mock_server.runtime.workers import FairPool
from mock_server.scenario import Scenario, ScenarioError, load_scenario
from mock_server.store.base import MemoryStore, StateStore

if TYPE_CHECKING:
    from mock_server.store.group import GroupCommitter
    from mock_server.store.recorder import Recorder

# Background webhook delivery: a receiver that hangs holds at most WEBHOOKS_PER_APP workers.
WEBHOOK_WORKERS = 32
WEBHOOKS_PER_APP = 4
WEBHOOK_QUEUE_PER_APP = 2 * WEBHOOKS_PER_APP


@dataclass(frozen=True)
class ServerOptions:
    """Settings of the server rather than of the scenario."""

    admin_token: str | None = None
    public_base_url: str | None = None
    journal_capacity: int = DEFAULT_CAPACITY
    # Publishes kept before the oldest final ones are forgotten (docs/fidelity.md).
    max_publishes: int = MAX_PUBLISHES
    max_body_bytes: int = 1024 * 1024
    # Host names (besides loopback ones and the public URL's) the control API answers under.
    allowed_hosts: tuple[str, ...] = ()
    # Directories whose scenario files `POST /_sandbox/reset` may load (built-in names always).
    scenario_dirs: tuple[str | Path, ...] = ()
    # The key of the consent and dashboard form tokens; None draws a random one per sandbox.
    form_token_secret: bytes | None = None
    # Off only to replay recorded consent posts (journal export), whose tokens were another's.
    verify_form_tokens: bool = True

    def __post_init__(self) -> None:
        if self.max_publishes < 1:
            raise ValueError(f"max_publishes: at least 1, got {self.max_publishes}")


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
        self.form_tokens = FormTokens(
            self.options.form_token_secret, verify=self.options.verify_form_tokens
        )
        self.lock = threading.RLock()
        self.clock = clock or Clock()
        # A clock handed in by the caller is theirs: the scenario's `clock:` only sets up the
        # sandbox's own clock.
        self._clock_given = clock is not None
        self.spool = MediaSpool()
        self.covers = CoverStore(directory=lambda: self.spool.root)
        self.fetcher: UrlFetcher = fetcher or HttpxFetcher()
        self.webhook_sender: WebhookSender = webhook_sender or HttpxWebhookSender()
        self.downloads = Downloads(self)
        self._webhook_pool = FairPool(WEBHOOK_WORKERS, WEBHOOKS_PER_APP, "tiktok-sandbox-webhook")
        # True while a background ticker delivers webhooks; otherwise requests do it.
        self.background_dispatch = False
        self._initial_clock: ClockState = snapshot(self.clock)
        self._generation = 0  # one more for every World built (see World.generation)
        self.journal = Journal(self.options.journal_capacity)
        self.scenario = load_scenario(scenario) if isinstance(scenario, str) else scenario
        self._seed_override = seed
        self.world, self.faker = self._build()
        # Where the state is kept between requests (mock_server/store): nowhere by default.
        self.store: StateStore = MemoryStore()
        self.recorder: Recorder | None = None  # set with a data directory (store.recorder)
        self._group: GroupCommitter | None = None  # served: commits shared (store.group)
        self.resumed = False  # whether the state came from a data directory or a snapshot
        # Set when the server serving this sandbox begins to stop (frontdoor.build_server).
        self.stopping = False
        self.uploads_started_again = 0  # from a snapshot: uploads under way, bytes not in it
        # Resumed or imported: the scenario file and seed of the sandbox that saved it.
        self.made_with: tuple[str, int | None] | None = None
        self._commit_lock = threading.Lock()

    @property
    def faker(self) -> Faker:
        return self._faker

    @faker.setter
    def faker(self, faker: Faker) -> None:
        self._faker = faker
        # Its generator, read once: through Faker's proxy a read costs most of a commit's
        # comparison of the sections (store.codec's fingerprint of `sandbox.faker_random`).
        self.faker_random: random.Random = faker.random

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
        self._generation += 1
        world = World(
            ids=IdFactory(self.seed),
            timing=scenario.timing,
            multi_chunk_init=scenario.posting_multi_chunk_init,
            generation=self._generation,
            max_publishes=self.options.max_publishes,
        )
        faker = new_faker(self.seed)
        try:
            populate(world, faker, scenario.apps, scenario.creators, self.built_at, scenario.source)
            world.injections = [
                injection_from(item, world, f"{scenario.source}: inject_failures[{i}]")
                for i, item in enumerate(scenario.inject_failures)
            ]
            world.fault_rng = CountedRandom(f"faults:{self.seed}")
            for i, item in enumerate(scenario.faults):
                add_fault(world, item, f"{scenario.source}: faults[{i}]")
        except SettingError as exc:
            raise ScenarioError.from_setting(exc) from exc
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
            self.downloads.abort_all()
            self.spool.clear()
            self.covers.clear()

    def install(self, world: World) -> None:
        """Make `world` the sandbox's World (one read from a data directory or a snapshot)."""
        with self.lock:
            self.world = world
            if self.recorder is not None:  # kept in a data directory
                world.track()

    def commit(self, touched: Touched | None = None) -> None:
        """Keep what changed in the store (a data directory) before an answer leaves: the
        records `touched` (one change's own, domain.changes) and whatever else changed since
        the last commit. Commits are written in the order they were taken."""
        recorder = self.recorder
        if recorder is None:
            return
        with self._commit_lock:
            with self.lock:
                change = recorder.take(self, touched)
            if change:
                try:
                    self.store.apply(change)
                except BaseException:
                    recorder.forget()  # what the store holds is unknown: the next writes all
                    raise

    async def keep(self, touched: Touched) -> None:
        """`commit` for an answer about to leave: served, it shares a commit with the answers
        waiting at the same moment (store.group); in process, it commits now."""
        if self.recorder is None:
            return
        if self.background_dispatch:
            if self._group is None:
                from mock_server.store.group import GroupCommitter

                self._group = GroupCommitter(self)
            await self._group.commit(touched)
        elif self.store.fsync:
            await anyio.to_thread.run_sync(self.commit, touched)
        else:  # a write to the WAL, no wait for the disk: cheaper than a thread
            self.commit(touched)

    def server_stopping(self) -> None:
        """The server serving this sandbox begins to stop: what it cancels from now on was
        cut by it (answered with its own 500), not given up by a client."""
        self.stopping = True

    def leave_uncommitted(self, touched: Touched) -> None:
        """A change that ended without its commit (its client went away): what it touched is
        written by the next commit."""
        changes = self.world.changes
        if changes is not None:
            changes.note_all(touched)
        touched.clear()

    def committing(self, job: Callable[[], None]) -> Callable[[], None]:
        """`job` (background work on a worker thread) as a change of its own, kept when done."""
        if self.recorder is None:
            return job

        def run() -> None:
            with changes_scope() as touched:
                try:
                    job()
                finally:
                    self.commit(touched)

        return run

    @contextmanager
    def all_or_nothing(self) -> Iterator[None]:
        """Undo the draws of a change refused half-way: the ids, tokens and generated creator
        details that come next are the same as if the refused request had never come."""
        ids, details = self.world.ids.checkpoint(), self.faker.random.getstate()
        try:
            yield
        except BaseException:
            self.world.ids.rewind(ids)
            self.faker.random.setstate(details)
            raise

    # -- time passing ---------------------------------------------------------------------

    def tick(self) -> None:
        """Run every lifecycle step due on the sandbox clock, sweep what can never be used
        again, and stop the media work of publishes that ended or were forgotten."""
        with self.lock:
            now = self.now()
            run_due(self.world, now)
            sweep_if_due(self.world, now)
        self.release_ended()

    def release_ended(self) -> None:
        """Stop the downloads and drop the spooled bytes of publishes that failed, were
        cancelled or were forgotten since the last call."""
        if not self.world.released:  # most calls (one per answer): nothing to take the lock for
            return
        with self.lock:
            generation = self.world.generation
            released, self.world.released = self.world.released, []
        for publish_id in released:
            self.downloads.abort(publish_id)
            self.spool.discard_all(publish_id, generation)
            self.covers.discard(publish_id)

    def webhooks_due(self) -> bool:
        """Run the lifecycle steps due now; then whether a webhook delivery is due."""
        with self.lock:
            now = self.now()
            run_due(self.world, now)
            return self.world.outbox.has_due(now)

    def dispatch_webhooks(self, background: bool = False) -> int:
        """Send every webhook delivery that is due; returns how many were attempted.

        Sending happens outside the lock, so a slow receiver never blocks the API. In the
        background (a served sandbox's ticker) deliveries go to a pool that runs at most
        `WEBHOOKS_PER_APP` per app, so a receiver that hangs delays only its own app; otherwise
        they are sent one after the other, in the order they fell due, before returning.
        """
        with self.lock:
            now = self.now()
            world = self.world
            run_due(world, now)
            batch = []
            # In the background, an app has at most WEBHOOK_QUEUE_PER_APP deliveries handed to
            # the pool; the rest wait in the outbox, where the pending cap can still give them up.
            limit = WEBHOOK_QUEUE_PER_APP if background else None
            for delivery in world.outbox.due(now, limit):
                app = world.apps.get(delivery.client_key)
                secret = app.client_secret if app else ""
                delivery.queued = True
                batch.append((delivery, signature_header(secret, int(now), delivery.body), now))
        for delivery, signature, at in batch:
            job = functools.partial(self._deliver, world, delivery, signature, at)
            if background:
                self._webhook_pool.submit(delivery.client_key, self.committing(job))
            else:
                job()
        return len(batch)

    def _deliver(self, world: World, delivery: Delivery, signature: str, at: float) -> None:
        with self.lock:
            # Given up while it waited for a worker (the pending cap), or its World was reset.
            if self.world is not world or delivery.status != PENDING:
                delivery.queued = False
                return
            delivery.queued, delivery.in_flight = False, True
        headers = {"Content-Type": "application/json", "TikTok-Signature": signature}
        try:
            status, text = self.webhook_sender.send(delivery.url, delivery.body, headers)
            attempt = Attempt(at, signature, status, None, text)
        except Exception as exc:  # any failure to deliver is a failed attempt, retried
            attempt = Attempt(at, signature, None, f"{type(exc).__name__}: {exc}")
        with self.lock:
            record_attempt(delivery, attempt)
            world.outbox.note(delivery)

    def pump(self, background: bool = False) -> None:
        self.tick()
        self.dispatch_webhooks(background)
        self.commit()  # what time passing did (the ticker's work) is kept too

    def close(self) -> None:
        """Stop downloads and deliveries under way (their threads are abandoned, never
        waited for) and remove spooled media."""
        self.downloads.close()
        self._webhook_pool.close()
        close = getattr(self.webhook_sender, "close", None)
        if callable(close):
            close()
        self.spool.close()
        if self._group is not None:
            self._group.close()
        if self.recorder is not None:
            try:  # what changed without a commit of its own (a clock set through `Sandbox.clock`)
                self.commit()
            except Exception as exc:  # closing goes on; one line says what was not kept
                log.error("tiktok-sandbox: the last changes could not be written at close: %s", exc)
        self.store.close()
