"""Keeping a long-running server's memory flat: glibc's allocator, told how to behave.

A served sandbox runs many threads (uvicorn's, the worker pools, FFmpeg's probes). glibc gives
busy threads their own malloc arenas and keeps what is freed in them, so a server that only ever
holds bounded state still sees its resident memory creep up from fragmentation. Fewer arenas,
large blocks mapped apart from the heap, and giving free memory back when much of it was freed
at once (runtime.ticker), keep it flat. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("tiktok_sandbox")

_M_ARENA_MAX = -8  # mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
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


def map_large_blocks(threshold: int = 128 * 1024) -> bool:
    """Serve every allocation of `threshold` bytes or more with its own mapping, returned to the
    system when freed; False where not glibc.

    glibc starts at this threshold but raises it (up to 32 MiB) each time such a block is freed,
    after which the decoder frames, media buffers and bodies a server handles every few seconds
    come from the heap and stay resident when freed: several MiB of a served sandbox's RSS came
    and went with each give-back (every 30 s then). A fixed threshold keeps them out of the heap.
    """
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(_M_MMAP_THRESHOLD, threshold))


def give_back() -> None:
    """Return free heap memory to the operating system."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
