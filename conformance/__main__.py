"""`python -m conformance --base-url URL [--control-url URL] [--profile quick|thorough]`:
run the suite against any TikTok-compatible target (default: tiktok-sandbox in process)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).parent
    given = list(sys.argv[1:] if argv is None else argv)
    args = ["--conformance-profile" if a == "--profile" else a for a in given]
    args = [a.replace("--profile=", "--conformance-profile=", 1) for a in args]
    return int(pytest.main([str(here / "suite"), "--rootdir", str(here), "-q", *args]))


if __name__ == "__main__":
    raise SystemExit(main())
