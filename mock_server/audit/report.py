"""An audit-readiness report: every check's verdict with its evidence, the window it looked at,
and the criteria traffic cannot show. Typed, JSON both ways, and usable as an assertion.

report = sandbox.audit("awacmescheduler01")
assert report.failures == []          # pytest shows each failing check's id and summary
report.assert_ready()                 # or: AssertionError with every finding and its evidence
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, fields
from typing import Any

from mock_server.audit import render
from mock_server.audit.registry import NotShown
from mock_server.audit.verdicts import VERDICTS, Evidence, Verdict


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict, what decided it, where TikTok says so and what to change."""

    id: str
    title: str
    verdict: Verdict
    summary: str
    evidence: tuple[Evidence, ...]
    section: str
    rule: str
    doc: str
    fix: str
    evidence_omitted: int = 0

    def __repr__(self) -> str:
        return f"CheckResult({self.id!r}, {self.verdict!r}, {self.summary!r})"

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"evidence": [e.to_json() for e in self.evidence]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        known = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        evidence = tuple(Evidence.from_json(e) for e in data.get("evidence", []))
        return cls(**known | {"evidence": evidence})


@dataclass(frozen=True)
class Window:
    """The stretch of the journal a report judged. `lost_entries`: the journal dropped
    requests (over its capacity, or cleared) that may fall in the window or just before it,
    so requests the checks needed may be missing."""

    since: str | None
    until: str | None
    entries: int  # the app's requests in the window
    first_seq: int | None
    last_seq: int | None
    lost_entries: bool
    capacity: int | None = None

    @property
    def note(self) -> str:
        span = (
            f"from {self.since or 'the start'} to {self.until or 'now'}"
            if self.since or self.until
            else "the whole run"
        )
        text = f"{span}: {self.entries} requests of this app"
        if self.first_seq is not None:
            text += f" (#{self.first_seq}-#{self.last_seq})"
        if self.lost_entries:
            text += (
                f"; the journal dropped older requests (it keeps {self.capacity or 'a bounded'} "
                "number), so this window may be missing some: checks that needed them say "
                "not_observed"
            )
        return text

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"note": self.note}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Window:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


@dataclass(frozen=True)
class AuditReport:
    """Whether the app's traffic would pass TikTok's review and runtime, check by check."""

    client_key: str
    app: dict[str, str]  # name, stage, platform
    window: Window
    checks: tuple[CheckResult, ...]
    not_shown_by_traffic: tuple[NotShown, ...] = ()

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.verdict == "fail"]

    @property
    def warnings(self) -> list[CheckResult]:
        return [c for c in self.checks if c.verdict == "warn"]

    @property
    def ready(self) -> bool:
        """No check fails (warnings name what TikTok wants but the sandbox allowed)."""
        return not self.failures

    def counts(self) -> dict[str, int]:
        counted = Counter(c.verdict for c in self.checks)
        return {v: counted.get(v, 0) for v in VERDICTS}

    def check(self, check_id: str) -> CheckResult:
        """One check's result; KeyError for an unknown id."""
        for result in self.checks:
            if result.id == check_id:
                return result
        raise KeyError(f"no audit check {check_id!r}")

    def assert_ready(self, *, allow_warnings: bool = True) -> None:
        """Raise AssertionError listing every failing (and, unless allowed, warning) check
        with its evidence and fix."""
        bad = self.failures + ([] if allow_warnings else self.warnings)
        if bad:
            raise AssertionError(
                f"the app {self.client_key} is not audit-ready:\n" + render.findings_text(bad)
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "client_key": self.client_key,
            "app": dict(self.app),
            "window": self.window.to_json(),
            "ready": self.ready,
            "counts": self.counts(),
            "checks": [c.to_json() for c in self.checks],
            "not_shown_by_traffic": [n.to_json() for n in self.not_shown_by_traffic],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuditReport:
        return cls(
            client_key=str(data["client_key"]),
            app={str(k): str(v) for k, v in data.get("app", {}).items()},
            window=Window.from_json(data.get("window", {})),
            checks=tuple(CheckResult.from_json(c) for c in data["checks"]),
            not_shown_by_traffic=tuple(
                NotShown(str(n["id"]), str(n["title"]), str(n["doc"]), str(n["why"]))
                for n in data.get("not_shown_by_traffic", [])
            ),
        )

    def to_text(self) -> str:
        return render.text(self)

    def to_markdown(self) -> str:
        return render.markdown(self)
