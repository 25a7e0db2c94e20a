"""The sandbox clock: real time plus an offset, frozen and advanced without sleeping."""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mock_server.runtime.clock import (
    MAX_INSTANT,
    Clock,
    ClockState,
    format_instant,
    parse_instant,
    restore,
    snapshot,
)

START = datetime(2026, 1, 1, tzinfo=UTC).timestamp()


class FakeTime:
    """A wall clock the test moves by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wall() -> FakeTime:
    return FakeTime()


def test_runs_on_its_source(wall: FakeTime) -> None:
    clock = Clock(source=wall)
    assert clock.now() == START
    wall.now += 42.5
    assert clock.now() == START + 42.5
    assert not clock.frozen


def test_default_source_is_the_wall_clock() -> None:
    # Bounds, not a timing: the default clock is somewhere after this file was written.
    assert Clock().now() > datetime(2025, 1, 1, tzinfo=UTC).timestamp()


def test_advance_shifts_a_running_clock(wall: FakeTime) -> None:
    clock = Clock(source=wall)
    clock.advance(3600)
    assert clock.now() == START + 3600
    wall.now += 10
    assert clock.now() == START + 3610


def test_freeze_stops_time_and_unfreeze_resumes_without_a_jump(wall: FakeTime) -> None:
    clock = Clock(source=wall)
    wall.now += 5
    clock.freeze()
    assert clock.frozen
    wall.now += 1000
    assert clock.now() == START + 5
    clock.unfreeze()
    assert not clock.frozen
    assert clock.now() == START + 5  # resumes from the frozen instant
    wall.now += 7
    assert clock.now() == START + 12


def test_freeze_and_unfreeze_are_idempotent(wall: FakeTime) -> None:
    clock = Clock(source=wall)
    clock.freeze()
    wall.now += 30
    clock.freeze()  # a second freeze does not move the frozen instant
    assert clock.now() == START
    clock.unfreeze()
    clock.unfreeze()
    assert clock.now() == START
    assert not clock.frozen


def test_advance_moves_a_frozen_clock_and_keeps_it_frozen(wall: FakeTime) -> None:
    clock = Clock.frozen_at(START, source=wall)
    clock.advance(86_400)
    wall.now += 99
    assert clock.frozen
    assert clock.now() == START + 86_400


def test_advance_by_zero_is_allowed(wall: FakeTime) -> None:
    clock = Clock.frozen_at(START, source=wall)
    clock.advance(0)
    assert clock.now() == START


@pytest.mark.parametrize("seconds", [-1, -0.001, float("nan")])
def test_advance_refuses_to_go_backwards(wall: FakeTime, seconds: float) -> None:
    clock = Clock.frozen_at(START, source=wall)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(seconds)
    assert clock.now() == START


@pytest.mark.parametrize("seconds", [float("inf"), 1e300, 10**400])
def test_advance_refuses_to_leave_the_representable_range(wall: FakeTime, seconds: float) -> None:
    for clock in (Clock.frozen_at(START, source=wall), Clock(source=wall)):
        with pytest.raises(ValueError, match="stays between"):
            clock.advance(seconds)
        assert clock.now() == START
        assert clock.isoformat() == "2026-01-01T00:00:00Z"


def test_set_jumps_either_way(wall: FakeTime) -> None:
    clock = Clock(source=wall)
    clock.set(datetime(2030, 6, 1, tzinfo=UTC))
    assert clock.isoformat() == "2030-06-01T00:00:00Z"
    wall.now += 2
    assert clock.isoformat() == "2030-06-01T00:00:02Z"  # still running
    clock.set(START)  # backwards is allowed: a test may rewind
    assert clock.now() == START


def test_set_keeps_a_frozen_clock_frozen(wall: FakeTime) -> None:
    clock = Clock.frozen_at(START, source=wall)
    clock.set(START + 500)
    wall.now += 60
    assert clock.frozen
    assert clock.now() == START + 500


@pytest.mark.parametrize("when", [-1.0, MAX_INSTANT + 1, float("nan")])
def test_set_refuses_unrepresentable_instants(wall: FakeTime, when: float) -> None:
    clock = Clock.frozen_at(START, source=wall)
    with pytest.raises(ValueError):
        clock.set(when)
    assert clock.now() == START


def test_frozen_at_accepts_a_datetime_or_a_timestamp(wall: FakeTime) -> None:
    a = Clock.frozen_at(datetime(2026, 1, 1, tzinfo=UTC), source=wall)
    b = Clock.frozen_at(START, source=wall)
    assert a.now() == b.now() == START
    assert a.frozen and b.frozen


def test_now_datetime_is_aware_utc(wall: FakeTime) -> None:
    clock = Clock.frozen_at(START, source=wall)
    assert clock.now_datetime() == datetime(2026, 1, 1, tzinfo=UTC)
    assert clock.now_datetime().utcoffset() == timedelta(0)


def test_snapshot_and_restore_bring_back_offset_and_freeze(wall: FakeTime) -> None:
    clock = Clock(source=wall)
    clock.advance(100)
    saved = snapshot(clock)
    clock.freeze()
    clock.advance(5000)
    restore(clock, saved)
    assert not clock.frozen
    assert clock.now() == START + 100


# -- ISO 8601 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ts", "text"),
    [
        (START, "2026-01-01T00:00:00Z"),
        (START + 0.25, "2026-01-01T00:00:00.250000Z"),
        (0.0, "1970-01-01T00:00:00Z"),
    ],
)
def test_format_instant(ts: float, text: str) -> None:
    assert format_instant(ts) == text


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00z",
        "2026-01-01T00:00:00+00:00",
        "2026-01-01T01:00:00+01:00",
        "2025-12-31T19:00:00-05:00",
        "2026-01-01T00:00:00",  # naive: read as UTC
        "  2026-01-01T00:00:00Z  ",
        "2026-01-01",
    ],
)
def test_parse_instant_forms(text: str) -> None:
    assert parse_instant(text) == START


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00Z", "2026-01-01T25:00"])
def test_parse_instant_names_the_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match="not an ISO 8601 instant") as info:
        parse_instant(text)
    assert repr(text) in str(info.value)


def test_format_and_parse_round_trip() -> None:
    moment = datetime(2031, 7, 4, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=9)))
    ts = moment.timestamp()
    assert parse_instant(format_instant(ts)) == ts
    assert format_instant(ts) == "2031-07-04T03:30:15.123456Z"


def test_reads_without_the_lock_see_the_time_before_a_change_or_after_it() -> None:
    """`now` takes no lock: with changes going on in another thread, every read is the time
    of one of the clock's settings, never one half-changed (a frozen setting's stale offset
    read as if the clock ran)."""
    clock = Clock(source=lambda: 1000.0)
    running: ClockState = (5.0, None)  # 1005
    frozen: ClockState = (-900.0, 2000.0)  # 2000; its offset alone would read as 100
    done = threading.Event()
    seen: set[float] = set()

    def change() -> None:
        for _ in range(20_000):
            restore(clock, frozen)
            restore(clock, running)
            clock.freeze()
            clock.unfreeze()
        done.set()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        writer = threading.Thread(target=change)
        writer.start()
        while not done.is_set():
            seen.add(clock.now())
        writer.join()
    finally:
        sys.setswitchinterval(interval)
    assert seen <= {1005.0, 2000.0}


def test_a_change_made_while_the_time_source_is_read_is_not_mixed_with_it() -> None:
    """A read paused inside the time source while another thread sets the clock gives the
    time before the set (or after it), never the new offset added to the old reading."""
    wall = [100.0]
    reading = threading.Event()
    changed = threading.Event()

    def source() -> float:
        now = wall[0]
        if threading.current_thread().name == "reader":
            reading.set()  # the reader has read the wall clock, and is paused here
            changed.wait(5)
        return now

    clock = Clock(source=source)  # running, offset 0: reads 100.0
    seen: list[float] = []

    def change() -> None:
        reading.wait(5)
        wall[0] = 100.5  # half a second passes
        clock.set(5000.0)
        changed.set()

    reader = threading.Thread(target=lambda: seen.append(clock.now()), name="reader")
    writer = threading.Thread(target=change)
    reader.start()
    writer.start()
    reader.join()
    writer.join()
    assert seen == [100.0]
