"""Keeping a long-running server's memory flat: glibc's allocator, told how to behave.

A served sandbox runs many threads (uvicorn's, the worker pools, FFmpeg's probes). glibc gives
busy threads their own malloc arenas and keeps what is freed in them, so a server that only ever
holds bounded state still sees its resident memory creep up from fragmentation. Fewer arenas,
and giving free memory back now and then, keep it flat. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("tiktok_sandbox")

_M_ARENA_MAX = -8  # mallopt parameter (malloc.h)
_libc: ctypes.CDLL | None = None


def _glibc() -> ctypes.CDLL | None:
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        if not name:
            return None
        try:
            libc = ctypes.CDLL(name)
            libc.mallopt, libc.malloc_trim  # noqa: B018 - glibc only
        except (OSError, AttributeError):
            return None
        _libc = libc
    return _libc


def limit_arenas(count: int = 2) -> bool:
    """Use at most `count` malloc arenas (call before threads start); False where not glibc."""
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(_M_ARENA_MAX, count))


def give_back() -> None:
    """Return free heap memory to the operating system."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
