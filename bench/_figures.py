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
