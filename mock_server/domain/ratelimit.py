"""Per-endpoint rate limits with a one-minute sliding window on the sandbox clock (ref 4.3)."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Hashable, Iterable

from mock_server.domain.caps import in_window
from mock_server.domain.changes import Changes
from mock_server.domain.errors import ApiError

WINDOW_SECONDS = 60.0
# Keys whose last hit left the window are forgotten at least this often (sandbox seconds), and
# after every SWEEP_EVERY_ADMITTED admitted requests whatever the clock does.
SWEEP_EVERY_SECONDS = 5.0
SWEEP_EVERY_ADMITTED = 10_000

# ref 4.3: requests per minute, per user access token, by endpoint name.
RATE_LIMITS: dict[str, int] = {
    "video_init": 6,
    "inbox_video_init": 6,
    "content_init": 6,
    "creator_info": 20,
    "status_fetch": 30,
    # ref 4.3 gives no limit for cancel: it takes the same body as status/fetch and acts on the
    # same publish, so it gets the same 30 (docs/fidelity.md).
    "cancel": 30,
    "user_info": 600,
    "video_query": 600,
    "video_list": 600,
}


class SlidingWindowLimiter:
    """Admits a request when fewer than `limit` were admitted in the last 60 s."""

    def __init__(self, window: float = WINDOW_SECONDS) -> None:
        self.window = window
        # The instants per key, oldest first, as an array of doubles: a long-running sandbox
        # holds one for every token used in the last minute, thousands, and an instant takes 8
        # bytes there where a list of floats takes 40 (the float and the list's pointer).
        self._hits: dict[Hashable, array[float]] = {}
        self._admitted_since_sweep = 0
        self._swept_at = float("-inf")
        # With a data directory (World.track): where the keys a change touches are noted.
        self.changes: Changes | None = None

    def admit(self, key: Hashable, limit: int, now: float) -> bool:
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = array("d")
        if self.changes is not None:
            self.changes.note(("limiter", key))
        cutoff = now - self.window
        if hits and hits[0] <= cutoff:
            del hits[: bisect_right(hits, cutoff)]
        if hits and hits[-1] > now:
            # Hits after `now` were admitted before the clock was set back (POST
            # /_sandbox/clock): not in the last minute (caps.in_window, here on sorted hits).
            within = bisect_right(hits, now)
            if within >= limit:
                return False
            hits.insert(within, now)
        else:
            if len(hits) >= limit:
                return False
            hits.append(now)
        self._admitted_since_sweep += 1
        if (
            self._admitted_since_sweep >= SWEEP_EVERY_ADMITTED
            or not self._swept_at <= now < self._swept_at + SWEEP_EVERY_SECONDS
        ):
            self._sweep(now)
        return True

    def restore(self, key: Hashable, times: Iterable[float]) -> None:
        """Set `key`'s hits (oldest first), as a stored state reads them back."""
        self._hits[key] = array("d", times)

    def keys_in_use(self) -> Iterable[Hashable]:
        """The keys with hits kept: every key used in the last minute, and a few more until
        the next sweep."""
        return self._hits.keys()

    def admitted(self, key: Hashable, now: float) -> list[float]:
        """When the requests still counting against `key` were admitted, oldest first."""
        return [t for t in self._hits.get(key, ()) if in_window(t, now, self.window)]

    def _sweep(self, now: float) -> None:
        """Forget keys with no hit in the window, so memory follows live tokens only: a token
        used once and replaced (a refresh, a new code) leaves its keys behind, and a busy
        sandbox replaces thousands a minute."""
        self._admitted_since_sweep = 0
        self._swept_at = now
        for key in [
            k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window
        ]:
            del self._hits[key]
            if self.changes is not None:
                self.changes.note(("limiter", key))


def tokens_in_use(limiter: SlidingWindowLimiter) -> set[str]:
    """The access tokens `check_rate` holds hits of (its keys are `(endpoint, token)`): the
    ones used in the last minute, and a few more until the limiter's next sweep."""
    return {key[1] for key in limiter.keys_in_use() if isinstance(key, tuple)}


def check_rate(limiter: SlidingWindowLimiter, endpoint: str, token: str, now: float) -> None:
    """ref 4.3: over the endpoint's per-token limit is `rate_limit_exceeded` (429)."""
    limit = RATE_LIMITS.get(endpoint)
    if limit is not None and not limiter.admit((endpoint, token), limit, now):
        raise ApiError("rate_limit_exceeded", rule=f"rate_limit_{endpoint}")
