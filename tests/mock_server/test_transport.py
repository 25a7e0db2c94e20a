"""The in-process sync transport: each calling thread drives the app on an event loop of its
own, kept between requests and shared by the thread's clients."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from mock_server import Sandbox


def test_threads_calling_at_once_each_get_their_answers() -> None:
    sandbox = Sandbox("default", seed=6)
    answers: list[int] = []
    with sandbox.client() as http:

        def call() -> None:
            for _ in range(5):
                answers.append(http.get("/_sandbox/health").status_code)

        threads = [threading.Thread(target=call) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers == [200] * 20
        assert http.get("/_sandbox/health").status_code == 200  # after those threads ended
    sandbox.close()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts /proc/self/fd")
def test_clients_share_their_threads_loop_and_hold_no_descriptors_each() -> None:
    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    sandbox = Sandbox("default", seed=6)
    with sandbox.client() as first:
        assert first.get("/_sandbox/health").status_code == 200  # the thread's loop exists
    before = open_fds()
    kept = [sandbox.client() for _ in range(50)]  # left open, as a test suite's fixtures may
    assert all(http.get("/_sandbox/health").status_code == 200 for http in kept)
    assert open_fds() - before < 10, "each client kept a loop (and its descriptors) of its own"
    for http in kept:
        http.close()
    with sandbox.client() as http:
        assert http.get("/_sandbox/health").status_code == 200
    sandbox.close()
