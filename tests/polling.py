"""Waiting, in tests, for something real threads or servers do: a bounded poll, never a sleep."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually(condition: Callable[[], object], timeout: float = 5.0) -> bool:
    """Poll `condition` until it is true or `timeout` seconds have passed; its last verdict."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
