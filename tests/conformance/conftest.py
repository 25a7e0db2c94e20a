"""The conformance runs these tests start in processes of their own print their summaries of
documented behaviours at the end of the session, after the in-process run's own."""

from __future__ import annotations

from typing import Any

# (title, lines) added by tests, printed in order at the end of the session.
SUMMARIES: list[tuple[str, list[str]]] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for title, lines in SUMMARIES:
        terminalreporter.section(title)
        for line in lines:
            terminalreporter.write_line(line)
