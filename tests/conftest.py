"""Suite-wide settings.

- Hypothesis profiles: `ci` is derandomized so CI runs are reproducible. Pick one with
  HYPOTHESIS_PROFILE=ci (default: dev).
- Nothing a test starts may reach beyond this machine: the sandbox's real URL fetcher and
  webhook sender only talk to loopback hosts in the test suite.
- The sandbox's local CA (`--https`, `--proxy`) lives in a temporary directory for the whole
  run (TIKTOK_SANDBOX_HOME), never in the user's data directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

os.environ["TIKTOK_SANDBOX_LOOPBACK_ONLY"] = "1"

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session", autouse=True)
def sandbox_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("tiktok-sandbox-home")
    previous = os.environ.get("TIKTOK_SANDBOX_HOME")
    os.environ["TIKTOK_SANDBOX_HOME"] = str(home)
    yield home
    if previous is None:
        del os.environ["TIKTOK_SANDBOX_HOME"]
    else:
        os.environ["TIKTOK_SANDBOX_HOME"] = previous
