"""The in-process sync transport: each calling thread drives the app on an event loop of its
own, kept between requests and closed with the client."""

from __future__ import annotations

import threading

import httpx

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


def test_a_closed_client_leaves_no_loop_open_and_a_new_one_works() -> None:
    sandbox = Sandbox("default", seed=6)
    transport = sandbox.transport()

    with httpx.Client(transport=transport, base_url="http://127.0.0.1:8080") as http:
        assert http.get("/_sandbox/health").status_code == 200
    loops = list(transport._loops)  # type: ignore[attr-defined]
    assert loops and all(loop.loop.is_closed() for loop in loops)
    with sandbox.client() as http:
        assert http.get("/_sandbox/health").status_code == 200
    sandbox.close()
