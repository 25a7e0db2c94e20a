"""The whole state of one sandbox: TikTok as seen by every app in it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from mock_server.domain.faults import FaultRule
from mock_server.domain.ids import IdFactory, open_id
from mock_server.domain.models import (
    AccessToken,
    App,
    AuthCode,
    ClientToken,
    Creator,
    Grant,
    RefreshToken,
)
from mock_server.domain.outcomes import Injection
from mock_server.domain.publishing import Publish
from mock_server.domain.ratelimit import SlidingWindowLimiter
from mock_server.domain.schedule import Schedule
from mock_server.domain.timing import DEFAULT_PROFILE, TIMING_PROFILES, Timing
from mock_server.domain.webhooks import Outbox

# DESIGN principle 7: how many publishes one sandbox keeps (final ones are forgotten first).
MAX_PUBLISHES = 10_000
# How many issued codes and tokens may pile up before expired ones are swept away.
_SWEEP_EVERY = 2_000


@dataclass
class World:
    ids: IdFactory
    apps: dict[str, App] = field(default_factory=dict)
    creators: dict[str, Creator] = field(default_factory=dict)  # by username
    codes: dict[str, AuthCode] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    client_tokens: dict[str, ClientToken] = field(default_factory=dict)
    publishes: dict[str, Publish] = field(default_factory=dict)
    uploads: dict[str, str] = field(default_factory=dict)  # upload_id -> publish_id
    timing: Timing = field(default_factory=lambda: TIMING_PROFILES[DEFAULT_PROFILE])
    schedule: Schedule = field(default_factory=Schedule)
    outbox: Outbox = field(default_factory=Outbox)
    injections: list[Injection] = field(default_factory=list)
    faults: list[FaultRule] = field(default_factory=list)
    fault_rng: random.Random = field(default_factory=lambda: random.Random(0))
    _fault_ids: int = 0

    def next_fault_id(self) -> str:
        self._fault_ids += 1
        return f"fault-{self._fault_ids}"

    limiter: SlidingWindowLimiter = field(default_factory=SlidingWindowLimiter)
    _issued_since_sweep: int = 0

    def forget_old_publishes(self, keep: int = MAX_PUBLISHES) -> None:
        """Bound what the sandbox keeps: past `keep` publishes, the oldest final ones go."""
        excess = len(self.publishes) - keep
        if excess <= 0:
            return
        for publish_id in [p.publish_id for p in self.publishes.values() if p.final][:excess]:
            publish = self.publishes.pop(publish_id)
            if publish.upload_id is not None:
                self.uploads.pop(publish.upload_id, None)

    def creator_by_uid(self, uid: str) -> Creator | None:
        return next((c for c in self.creators.values() if c.uid == uid), None)

    def creator_by_open_id(self, client_key: str, oid: str) -> Creator | None:
        return next((c for c in self.creators.values() if open_id(client_key, c.uid) == oid), None)

    def note_issued(self, now: float) -> None:
        """Count an issued code or token; every so often drop what can never be used again."""
        self._issued_since_sweep += 1
        if self._issued_since_sweep >= _SWEEP_EVERY:
            self._issued_since_sweep = 0
            self.sweep(now)

    def sweep(self, now: float) -> None:
        self.codes = {k: c for k, c in self.codes.items() if c.expires_at > now and not c.used}
        self.access_tokens = {k: t for k, t in self.access_tokens.items() if t.expires_at > now}
        self.refresh_tokens = {
            k: t for k, t in self.refresh_tokens.items() if t.expires_at > now and not t.superseded
        }
        self.client_tokens = {k: t for k, t in self.client_tokens.items() if t.expires_at > now}
