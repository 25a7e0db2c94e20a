"""Verdicts and their evidence: what one check found, item by item, and how that adds up.

A check judges items (an init, a token, a 429...) one by one: each is a `fail`, a `warn`, a
`pass`, or undecided (the journal cannot show it). The check's verdict is the worst of its items;
with no decided item it is `not_observed`, never a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from mock_server.audit.traffic import Call

Verdict = Literal["pass", "fail", "warn", "not_observed"]
VERDICTS: tuple[Verdict, ...] = ("fail", "warn", "pass", "not_observed")

# A report lists at most this many evidence entries per check; it says how many it left out.
MAX_EVIDENCE = 40


@dataclass(frozen=True)
class Evidence:
    """A journal entry that decided a verdict, and what it shows."""

    seq: int
    time: str
    method: str
    path: str
    status: int
    error_code: str | None
    rule: str | None
    note: str

    @classmethod
    def of(cls, call: Call, note: str) -> Evidence:
        entry = call.entry
        return cls(
            entry.seq,
            entry.time,
            entry.method,
            entry.path,
            entry.status,
            entry.error_code,
            entry.rule,
            note,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evidence:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


Item = tuple[Evidence, ...]  # the entries of one judged item, the deciding one first


@dataclass
class Findings:
    """What a check found. `subject` names its items in the plural ("Direct Post inits");
    `absent` says why there is nothing to judge."""

    subject: str
    absent: str
    fails: list[Item] = field(default_factory=list)
    warns: list[Item] = field(default_factory=list)
    passes: list[Item] = field(default_factory=list)
    undecided: list[Item] = field(default_factory=list)
    # What a pass means when it is not "every item checked passes" (e.g. "no 429 received").
    pass_summary: str | None = None

    @staticmethod
    def _item(call: Call, note: str, related: Sequence[tuple[Call, str]]) -> Item:
        return (Evidence.of(call, note), *(Evidence.of(c, n) for c, n in related))

    def fail(self, call: Call, note: str, *related: tuple[Call, str]) -> None:
        self.fails.append(self._item(call, note, related))

    def warn(self, call: Call, note: str, *related: tuple[Call, str]) -> None:
        self.warns.append(self._item(call, note, related))

    def ok(self, call: Call, note: str, *related: tuple[Call, str]) -> None:
        self.passes.append(self._item(call, note, related))

    def unknown(self, call: Call, note: str, *related: tuple[Call, str]) -> None:
        self.undecided.append(self._item(call, note, related))

    @property
    def verdict(self) -> Verdict:
        if self.fails:
            return "fail"
        if self.warns:
            return "warn"
        return "pass" if self.passes else "not_observed"

    def summary(self) -> str:
        decided = len(self.fails) + len(self.warns) + len(self.passes)
        verdict = self.verdict
        if verdict == "fail":
            text = f"{len(self.fails)} of {decided} {self.subject} fail: {self.fails[0][0].note}"
            if self.warns:
                text += f" ({len(self.warns)} more warn)"
        elif verdict == "warn":
            text = f"{len(self.warns)} of {decided} {self.subject} warn: {self.warns[0][0].note}"
        elif verdict == "pass":
            text = self.pass_summary or f"{decided} {self.subject}: all pass"
        else:
            text = self.absent
        if self.undecided:
            text += (
                f"; {len(self.undecided)} {self.subject} the journal cannot decide: "
                f"{self.undecided[0][0].note}"
            )
        return text

    def evidence(self) -> tuple[list[Evidence], int]:
        """The deciding entries (capped at MAX_EVIDENCE) and how many were left out."""
        verdict = self.verdict
        items = {
            "fail": self.fails + self.warns,
            "warn": self.warns,
            "pass": self.passes,
            "not_observed": self.undecided,
        }[verdict]
        flat = [e for item in items for e in item]
        return flat[:MAX_EVIDENCE], max(0, len(flat) - MAX_EVIDENCE)
