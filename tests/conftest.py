"""Suite-wide settings.

- Hypothesis profiles: `ci` is derandomized so CI runs are reproducible. Pick one with
  HYPOTHESIS_PROFILE=ci (default: dev).
- Nothing a test starts may reach beyond this machine: the sandbox's real URL fetcher and
  webhook sender only talk to loopback hosts in the test suite.
"""

from __future__ import annotations

import os

from hypothesis import settings

os.environ["TIKTOK_SANDBOX_LOOPBACK_ONLY"] = "1"

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
