"""Which documented behaviours a run exercised, with how many examples each, and which were
skipped and why (typically: the target has no control interface). Printed at the end of the
run, grouped by the reference section each behaviour belongs to (its first `ref`)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

# The reference's sections (reference/tiktok-api.md), for the summary's headings.
SECTIONS = {
    1: "Hosts",
    2: "OAuth v2 / Login Kit",
    3: "Scopes",
    4: "Envelope, error codes, rate limits",
    5: "User info",
    6: "creator_info",
    7: "Direct Post (video/init)",
    8: "Upload to inbox",
    9: "Photo posts (content/init)",
    10: "Media transfer",
    11: "Status fetch",
    12: "Cancel",
    13: "Media requirements",
    14: "Webhooks",
    15: "App states, caps, audit",
}


@dataclass
class Behaviour:
    name: str
    ref: str
    examples: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    skip_reasons: list[str] = field(default_factory=list)

    @property
    def section(self) -> tuple[int, ...]:
        """The first section `ref` names, as numbers ("7.1, 9" -> (7, 1)) for sorting."""
        first = re.match(r"\d+(?:\.\d+)*", self.ref.strip())
        return tuple(int(n) for n in first.group().split(".")) if first else (99,)

    @property
    def result(self) -> str:
        if self.outcomes["failed"]:
            return "FAILED"
        if self.outcomes["passed"]:
            return "passed"
        if self.outcomes["skipped"]:
            return "skipped: " + "; ".join(self.skip_reasons or ["no reason given"])
        return "not run"


class Report:
    def __init__(self) -> None:
        self.behaviours: dict[str, Behaviour] = {}
        # test (its node id without parameters) -> (cases skipped, reason)
        self.skipped: dict[str, tuple[int, str]] = {}

    def skip(self, test: str, reason: str) -> None:
        """A test that did not run, and why (listed after the behaviours)."""
        cases, _ = self.skipped.get(test, (0, ""))
        self.skipped[test] = (cases + 1, reason.removeprefix("Skipped: ").strip())

    def declare(self, name: str, ref: str) -> Behaviour:
        return self.behaviours.setdefault(name, Behaviour(name, ref))

    def example(self, name: str) -> None:
        """Count one example (one Hypothesis example, one state-machine run, one boundary...)."""
        if name in self.behaviours:
            self.behaviours[name].examples += 1

    def outcome(self, name: str, outcome: str, reason: str = "") -> None:
        behaviour = self.behaviours.get(name)
        if behaviour is None:
            return
        behaviour.outcomes[outcome] += 1
        reason = reason.removeprefix("Skipped: ").strip()
        if outcome == "skipped" and reason and reason not in behaviour.skip_reasons:
            behaviour.skip_reasons.append(reason)

    def lines(self) -> list[str]:
        rows = sorted(self.behaviours.values(), key=lambda b: (b.section, b.name))
        width = max((len(b.name) for b in rows), default=9)
        refs = max([6, *(len(b.ref) for b in rows)])
        out = [f"  {'behaviour'.ljust(width)}  {'ref'.ljust(refs)} {'examples':>8}  result"]
        heading = None
        for b in rows:
            if b.section[0] != heading:
                heading = b.section[0]
                out.append(f"ref {heading}: {SECTIONS.get(heading, 'other')}")
            out.append(f"  {b.name.ljust(width)}  {b.ref.ljust(refs)} {b.examples:>8}  {b.result}")
        counts = Counter(b.result.split(":")[0] for b in rows)
        examples = sum(b.examples for b in rows)
        out.append(
            f"{len(rows)} behaviours, {examples} examples: "
            + ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
        )
        reasons = sorted({reason for _, reason in self.skipped.values()})
        for reason in reasons:
            tests = sorted(t for t, (_, why) in self.skipped.items() if why == reason)
            out.append(f"skipped, {reason}: {len(tests)} tests")
            for test in tests:
                cases = self.skipped[test][0]
                out.append(f"  {test}" + (f" [{cases} cases]" if cases > 1 else ""))
        return out


REPORT = Report()


def behaviour(name: str, ref: str) -> Behaviour:
    """Declare a documented behaviour (idempotent); tests then count examples against it."""
    return REPORT.declare(name, ref)


def example(name: str) -> None:
    REPORT.example(name)
