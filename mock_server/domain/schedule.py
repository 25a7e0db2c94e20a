"""Timed steps of publishes, ordered by when they fall due on the sandbox clock."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field


@dataclass(order=True, slots=True)
class Due:
    at: float
    seq: int
    publish_id: str = field(compare=False)
    step: str = field(compare=False)


@dataclass
class Schedule:
    heap: list[Due] = field(default_factory=list)
    seq: int = 0

    def add(self, publish_id: str, step: str, at: float) -> None:
        self.seq += 1
        heapq.heappush(self.heap, Due(at, self.seq, publish_id, step))

    def pop_due(self, now: float) -> Due | None:
        if self.heap and self.heap[0].at <= now:
            return heapq.heappop(self.heap)
        return None

    def next_at(self) -> float | None:
        return self.heap[0].at if self.heap else None
