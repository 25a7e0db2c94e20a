"""`python -m bench [NAME ...] [-- ARGS]`: run benchmarks by module name (all when none given).

Each benchmark is a module `bench/<name>.py` with `DESCRIPTION: str` and `main(argv) -> int`;
it prints its figures and the anchors they are measured against.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path


def available() -> dict[str, str]:
    """Benchmark name -> one-line description."""
    found = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("_") or info.ispkg:
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if callable(getattr(module, "main", None)):
            found[info.name] = str(getattr(module, "DESCRIPTION", ""))
    return dict(sorted(found.items()))


def main(argv: Sequence[str]) -> int:
    names, _, rest = list(argv), None, []
    if "--" in names:
        cut = names.index("--")
        names, rest = names[:cut], names[cut + 1 :]
    benchmarks = available()
    if names in (["-h"], ["--help"], ["list"]):
        width = max(map(len, benchmarks), default=0)
        for name, description in benchmarks.items():
            print(f"{name.ljust(width)}  {description}")
        return 0
    unknown = [n for n in names if n not in benchmarks]
    if unknown:
        print(
            f"bench: unknown benchmark(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(benchmarks) or '(none yet)'}",
            file=sys.stderr,
        )
        return 2
    status = 0
    for name in names or list(benchmarks):
        print(f"== {name}: {benchmarks[name]}", flush=True)
        status |= importlib.import_module(f"bench.{name}").main(rest)
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
