"""Which documented behaviours a run exercised, with how many examples each, and which were
skipped (typically: the target has no control interface). Printed at the end of the run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Behaviour:
    name: str
    ref: str
    examples: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


class Report:
    def __init__(self) -> None:
        self.behaviours: dict[str, Behaviour] = {}

    def declare(self, name: str, ref: str) -> Behaviour:
        return self.behaviours.setdefault(name, Behaviour(name, ref))

    def example(self, name: str) -> None:
        """Count one example (one Hypothesis example, one state-machine step ...)."""
        if name in self.behaviours:
            self.behaviours[name].examples += 1

    def outcome(self, name: str, outcome: str) -> None:
        if name in self.behaviours:
            self.behaviours[name].outcomes[outcome] += 1

    def lines(self) -> list[str]:
        rows = sorted(self.behaviours.values(), key=lambda b: b.name)
        width = max((len(b.name) for b in rows), default=9)
        refs = max([6, *(len(b.ref) for b in rows)])
        out = [f"{'behaviour'.ljust(width)}  {'ref'.ljust(refs)} {'examples':>8}  result"]
        for b in rows:
            if b.outcomes["failed"]:
                result = "FAILED"
            elif b.outcomes["passed"]:
                result = "passed"
            elif b.outcomes["skipped"]:
                result = "skipped (needs the target controller)" if b.examples == 0 else "skipped"
            else:
                result = "not run"
            out.append(f"{b.name.ljust(width)}  {b.ref.ljust(refs)} {b.examples:>8}  {result}")
        return out


REPORT = Report()


def behaviour(name: str, ref: str) -> Behaviour:
    """Declare a documented behaviour (idempotent); tests then count examples against it."""
    return REPORT.declare(name, ref)


def example(name: str) -> None:
    REPORT.example(name)
