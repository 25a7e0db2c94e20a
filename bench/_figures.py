"""A benchmark's figure: what it measured against its goal, and whether the goal was met."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    measured: str
    goal: str
    met: bool
    short: bool = False  # measured on a shorter run than the goal asks for


def print_summary(figures: list[Figure]) -> None:
    """The summary a benchmark ends with: each figure, its goal, PASS or MISSED."""
    width = max((len(f.name) for f in figures), default=10)
    print("\nsummary:")
    for f in figures:
        print(
            f"  {f.name.ljust(width)}  {f.measured:>22}  goal {f.goal:14} "
            f"{'PASS' if f.met else 'MISSED'}"
        )
