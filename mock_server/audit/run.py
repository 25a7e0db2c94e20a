"""Running the audit: every check of the registry over one app's journal entries.

`audit_entries` is pure (the same entries, app and window give the same report);
`audit_state` reads a sandbox's journal and the app's registration under its lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from mock_server.audit.registry import CHECKS, NOT_SHOWN_BY_TRAFFIC
from mock_server.audit.report import AuditReport, CheckResult, Window
from mock_server.audit.traffic import AppFacts, Traffic
from mock_server.runtime.clock import format_instant, parse_instant
from mock_server.runtime.journal import JournalEntry
from mock_server.state import SandboxState


def audit_entries(
    app: AppFacts,
    entries: Iterable[JournalEntry],
    *,
    since: float | None = None,
    until: float | None = None,
    lost: bool = False,
    capacity: int | None = None,
) -> AuditReport:
    """Judge `app`'s requests among `entries` between `since` and `until` (sandbox-clock
    seconds; earlier requests still serve as context). `lost`: the journal dropped entries
    the window may need."""
    traffic = Traffic.of(app, entries, since=since, until=until, lost=lost)
    results = []
    for check in CHECKS:
        found = check.judge(traffic)
        evidence, omitted = found.evidence()
        results.append(
            CheckResult(
                id=check.id,
                title=check.title,
                verdict=found.verdict,
                summary=found.summary(),
                evidence=tuple(evidence),
                section=check.section,
                rule=check.rule,
                doc=check.doc,
                fix=check.fix,
                evidence_omitted=omitted,
            )
        )
    judged = traffic.window_calls()
    window = Window(
        since=None if since is None else format_instant(since),
        until=None if until is None else format_instant(until),
        entries=len(judged),
        first_seq=judged[0].seq if judged else None,
        last_seq=judged[-1].seq if judged else None,
        lost_entries=lost,
        capacity=capacity,
    )
    return AuditReport(
        client_key=app.client_key,
        app={"name": app.name, "stage": app.stage, "platform": app.platform},
        window=window,
        checks=tuple(results),
        not_shown_by_traffic=NOT_SHOWN_BY_TRAFFIC,
    )


def audit_state(
    state: SandboxState,
    client_key: str,
    *,
    since: float | None = None,
    until: float | None = None,
) -> AuditReport:
    """The report for one app of a sandbox; KeyError for an unknown client_key."""
    with state.lock:
        registered = state.world.apps.get(client_key)
        if registered is None:
            raise KeyError(f"no app with client_key {client_key!r}")
        app = AppFacts(client_key, registered.name, registered.stage, registered.platform)
        journal = state.journal
        entries = journal.entries()
        lost = journal.lost_entries()
    if lost and since is not None and entries:
        # Entries are dropped oldest first: a window opening after the oldest entry still held
        # is whole (only context before it may be missing).
        oldest = entries[-1]
        oldest_at = oldest.exchange.at if oldest.exchange else None
        lost = oldest_at is None or since <= oldest_at
    return audit_entries(
        app, entries, since=since, until=until, lost=lost, capacity=journal.capacity
    )


Instant = str | datetime | float | int | None


def instant(value: Instant, name: str) -> float | None:
    """A window bound as sandbox-clock seconds: an ISO 8601 string (UTC if naive), a datetime,
    or epoch seconds, within the years 1-9999 in UTC. ValueError names the bound."""
    if value is None:
        return None
    try:
        if isinstance(value, datetime):
            seconds = parse_instant(value.isoformat())
        elif isinstance(value, int | float) and not isinstance(value, bool):
            seconds = float(value)
        elif isinstance(value, str):
            seconds = parse_instant(value)
        else:
            raise ValueError(f"expected an ISO 8601 instant, got {value!r}")
        format_instant(seconds)  # the report shows it: it must be a UTC instant in range
    except (ValueError, OverflowError, OSError) as exc:
        raise ValueError(f"{name}: {exc}") from exc
    return seconds
