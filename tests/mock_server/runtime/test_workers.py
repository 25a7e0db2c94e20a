"""The fair worker pool behind webhook deliveries and pulls: one key's stalled jobs never hold
up another key's."""

from __future__ import annotations

import threading

from mock_server.runtime.workers import FairPool
from tests.polling import eventually


def test_a_key_runs_at_most_per_key_jobs_and_others_still_run() -> None:
    pool = FairPool(workers=4, per_key=2, name="test")
    release = threading.Event()
    started: list[str] = []
    lock = threading.Lock()

    def job(key: str, block: bool) -> None:
        with lock:
            started.append(key)
        if block:
            release.wait(10)

    for _ in range(5):
        pool.submit("stalled", lambda: job("stalled", True))
    done = threading.Event()
    pool.submit("other", lambda: (job("other", False), done.set()))
    assert done.wait(5), "the other key waited behind the stalled one"
    # Its per-key share, not the whole pool (the second may start just after the other key's).
    assert eventually(lambda: started.count("stalled") == 2)
    # 2 stalled running + 3 queued, once the other key's job has fully returned
    assert eventually(lambda: pool.pending == 5)
    release.set()
    assert pool.wait_idle(5)
    assert started.count("stalled") == 5
    pool.close()


def test_keys_are_served_in_turn() -> None:
    pool = FairPool(workers=1, per_key=1, name="test")
    gate = threading.Event()
    order: list[str] = []
    pool.submit("first", lambda: gate.wait(5))
    for key in ("a", "a", "a", "b", "b", "c"):
        pool.submit(key, lambda key=key: order.append(key))
    gate.set()
    assert pool.wait_idle(5)
    assert order == ["a", "b", "c", "a", "b", "a"]
    pool.close()


def test_close_drops_queued_jobs_and_refuses_new_ones() -> None:
    pool = FairPool(workers=1, per_key=1, name="test")
    gate = threading.Event()
    ran: list[int] = []
    pool.submit("k", lambda: gate.wait(5))
    pool.submit("k", lambda: ran.append(1))
    pool.close()
    pool.submit("k", lambda: ran.append(2))
    gate.set()
    assert pool.wait_idle(5)
    assert ran == []


def test_a_failing_job_does_not_kill_its_worker(caplog) -> None:  # type: ignore[no-untyped-def]
    pool = FairPool(workers=1, per_key=1, name="test")
    ran = threading.Event()

    def boom() -> None:
        raise RuntimeError("bug")

    pool.submit("k", boom)
    pool.submit("k", ran.set)
    assert ran.wait(5)
    assert "a test job failed" in caplog.text
    pool.close()


def test_workers_are_daemons_so_a_stalled_peer_never_blocks_exit() -> None:
    pool = FairPool(workers=2, per_key=1, name="test-daemon")
    gate = threading.Event()
    pool.submit("k", lambda: gate.wait(5))
    threads = [t for t in threading.enumerate() if t.name.startswith("test-daemon")]
    assert threads and all(t.daemon for t in threads)
    gate.set()
    pool.close()


def test_a_warm_pool_still_gives_every_key_a_worker() -> None:
    # An idle worker left from earlier work must not absorb a whole burst: the job behind a
    # stalled one gets a worker of its own.
    pool = FairPool(workers=4, per_key=2, name="test-warm")
    pool.submit("warm-up", lambda: None)
    assert pool.wait_idle(5)
    release, other_ran = threading.Event(), threading.Event()
    pool.submit("stalled", lambda: release.wait(10))
    pool.submit("other", other_ran.set)
    assert other_ran.wait(5), "the other key waited behind the stalled one"
    release.set()
    pool.close()
