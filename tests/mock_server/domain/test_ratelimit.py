"""The per-token sliding window (ref 4.3), on explicit instants."""

from __future__ import annotations

from mock_server.domain.ratelimit import SlidingWindowLimiter


def test_a_request_counts_for_exactly_the_minute_after_it() -> None:
    limiter = SlidingWindowLimiter()
    key = ("video_init", "act.token")
    assert all(limiter.admit(key, 3, t) for t in (0.0, 10.0, 20.0))
    assert not limiter.admit(key, 3, 59.9)
    assert limiter.admitted(key, 59.9) == [0.0, 10.0, 20.0]
    # At 60 s the first request leaves the window: one more is admitted, then none.
    assert limiter.admit(key, 3, 60.0)
    assert not limiter.admit(key, 3, 60.5)
    assert limiter.admitted(key, 60.5) == [10.0, 20.0, 60.0]
    # Long after, the whole window is free again.
    assert all(limiter.admit(key, 3, 500.0 + t) for t in range(3))
    assert limiter.admitted(key, 502.0) == [500.0, 501.0, 502.0]


def test_keys_are_counted_apart() -> None:
    limiter = SlidingWindowLimiter()
    assert limiter.admit(("status_fetch", "a"), 1, 0.0)
    assert not limiter.admit(("status_fetch", "a"), 1, 1.0)
    assert limiter.admit(("status_fetch", "b"), 1, 1.0)
    assert limiter.admit(("creator_info", "a"), 1, 1.0)
    assert limiter.admitted(("status_fetch", "c"), 1.0) == []


def test_a_clock_set_back_counts_only_the_requests_of_the_minute_before_it() -> None:
    limiter = SlidingWindowLimiter()
    key = ("creator_info", "act.token")
    assert all(limiter.admit(key, 2, 1000.0 + t) for t in (0.0, 1.0))
    assert not limiter.admit(key, 2, 1002.0)
    # The clock is set back an hour: those two are not in the minute before it.
    assert limiter.admitted(key, 1000.0 - 3600) == []
    assert all(limiter.admit(key, 2, 1000.0 - 3600 + t) for t in (0.0, 1.0))
    assert not limiter.admit(key, 2, 1000.0 - 3600 + 2)
    assert limiter.admitted(key, 1000.0 - 3600 + 2) == [1000.0 - 3600, 1001.0 - 3600]
    # Once the clock reaches them again, the later two count once more.
    assert not limiter.admit(key, 2, 1001.5)
    assert limiter.admitted(key, 1001.5) == [1000.0, 1001.0]
