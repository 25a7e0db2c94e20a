"""`python -m tests.conformance.serve [MUTANT] ARGS...`: the `tiktok-sandbox` command, with one
mutant of `tests/conformance/mutants/` applied first when named, so the conformance suite can
judge a broken sandbox over a real socket as well as in process."""

from __future__ import annotations

import importlib
import sys

from mock_server.cli import main


def run(argv: list[str]) -> int:
    if argv and not argv[0].startswith("-") and argv[0] not in ("serve", "scenarios"):
        mutant = importlib.import_module(f"tests.conformance.mutants.{argv.pop(0)}")
        mutant.pytest_configure(None)  # a mutant patches the emulator and ignores its config
    return main(argv)


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
