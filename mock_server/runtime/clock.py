"""The sandbox clock: the only place in the emulator that reads wall-clock time.

Everything time-based (token expiry, rate-limit windows, caps, upload URL expiry) asks a
`Clock` for `now()`. The clock runs on real time by default and can be frozen, set or advanced,
so a 24 h behaviour is tested in milliseconds.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


def real_time() -> float:
    """The machine's wall-clock time, for the few things that are not on the sandbox's
    timeline (a file's age on disk); everything TikTok-related asks a `Clock`."""
    return time.time()


# The instants the clock may show. Everything derived from `now` (expiries up to a year ahead,
# log ids, ISO 8601 text) must stay representable, so the far end leaves centuries of room.
MIN_INSTANT = 0.0  # 1970-01-01T00:00:00Z
MAX_INSTANT = datetime(9000, 1, 1, tzinfo=UTC).timestamp()


def _check_instant(ts: float) -> float:
    if not MIN_INSTANT <= ts <= MAX_INSTANT:  # also refuses NaN
        raise ValueError(
            f"the sandbox clock stays between {format_instant(MIN_INSTANT)} and "
            f"{format_instant(MAX_INSTANT)}"
        )
    return ts


class Clock:
    """Real time shifted by an offset, optionally frozen.

    >>> clock = Clock.frozen_at(datetime(2026, 1, 1, tzinfo=UTC))
    >>> clock.advance(3600)
    >>> clock.isoformat()
    '2026-01-01T01:00:00Z'
    """

    def __init__(self, source: Callable[[], float] = real_time) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at: float | None = None

    @classmethod
    def frozen_at(cls, when: datetime | float, source: Callable[[], float] = real_time) -> Clock:
        clock = cls(source)
        clock.freeze()
        clock.set(when)
        return clock

    def now(self) -> float:
        """Seconds since the epoch, on the sandbox's timeline.

        Read without the lock (every request reads the clock several times). A change stores
        one attribute, or two (`unfreeze`, `restore`) in an order where a read between them
        reads the setting before the change or the one after it. The offset is read before
        the time source, so a change made while the source is read is not mixed with that
        reading; a clock frozen meanwhile is read frozen."""
        frozen_at = self._frozen_at
        if frozen_at is not None:
            return frozen_at
        offset = self._offset
        now = self._source() + offset
        frozen_at = self._frozen_at
        return now if frozen_at is None else frozen_at

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def isoformat(self) -> str:
        return format_instant(self.now())

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self) -> None:
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = self._source() + self._offset

    def unfreeze(self) -> None:
        """Resume real time from the frozen instant (no jump)."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - self._source()
                self._frozen_at = None

    def advance(self, seconds: float) -> None:
        if not seconds >= 0:  # also refuses NaN
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            start = self._source() + self._offset if self._frozen_at is None else self._frozen_at
            # Compare before adding: a huge int would overflow a float.
            target = _check_instant(start + seconds if seconds <= MAX_INSTANT else math.inf)
            if self._frozen_at is not None:
                self._frozen_at = target
            else:
                self._offset += target - start

    def set(self, when: datetime | float) -> None:
        """Jump to an instant; backwards jumps are allowed (a test may rewind a scenario)."""
        target = _check_instant(when.timestamp() if isinstance(when, datetime) else float(when))
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = target
            else:
                self._offset = target - self._source()


def format_instant(ts: float) -> str:
    """ISO 8601 in UTC with a `Z`, without fractional seconds when there are none."""
    moment = datetime.fromtimestamp(ts, tz=UTC)
    text = moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def parse_instant(text: str) -> float:
    """Parse ISO 8601; a naive time is read as UTC. Raises ValueError with the offending text."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"not an ISO 8601 instant: {text!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


ClockState = tuple[float, float | None]


def snapshot(clock: Clock) -> ClockState:
    """The clock's setting (offset from real time, frozen instant), to restore on reset."""
    with clock._lock:
        return (clock._offset, clock._frozen_at)


def restore(clock: Clock, state: ClockState) -> None:
    offset, frozen_at = state
    with clock._lock:  # in the order `Clock.now`'s reads without the lock need
        if frozen_at is not None:
            clock._frozen_at = frozen_at
            clock._offset = offset
        else:
            clock._offset = offset
            clock._frozen_at = None
