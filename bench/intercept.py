"""What interception costs per request: the same user-info call made by unmodified httpx (sync
and async) and requests code under `Sandbox.intercept()`, against the anchor of that call through
`sandbox.client()` / `async_client()` (the in-process transport, no interception)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence

import httpx
import requests

from bench import median_seconds
from mock_server import Sandbox

DESCRIPTION = "per-request cost of intercepted httpx and requests calls vs sandbox.client()"
API = "https://open.tiktokapis.com"
PATH = "/v2/user/info/"
PARAMS = {"fields": "open_id,display_name"}


def _median_seconds_async(
    call: Callable[[httpx.AsyncClient], Awaitable[None]], client: httpx.AsyncClient, count: int
) -> float:
    async def run() -> float:
        times = []
        async with client:
            for _ in range(count):
                start = time.perf_counter()
                await call(client)
                times.append(time.perf_counter() - start)
        return statistics.median(times)

    return asyncio.run(run())


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench intercept", description=DESCRIPTION)
    parser.add_argument("--requests", type=int, default=300, help="requests per measurement")
    count = parser.parse_args(list(argv)).requests

    with Sandbox("default") as sandbox:
        token = sandbox.issue_tokens("awacmescheduler01", "ana_makes", ["user.info.basic"])
        auth = {"Authorization": f"Bearer {token['access_token']}"}

        def get(client: httpx.Client) -> Callable[[], object]:
            return lambda: client.get(PATH, params=PARAMS, headers=auth).raise_for_status()

        async def aget(client: httpx.AsyncClient) -> None:
            (await client.get(PATH, params=PARAMS, headers=auth)).raise_for_status()

        def fresh_window() -> None:
            # User info allows 600 calls a minute per token: each measurement starts a new one.
            sandbox.clock.advance(61)

        with sandbox.client(base_url=API) as http:
            get(http)()  # warm up
            anchor_sync = median_seconds(get(http), count)
        fresh_window()
        anchor_async = _median_seconds_async(aget, sandbox.async_client(base_url=API), count)
        with sandbox.intercept(), httpx.Client(base_url=API) as http, requests.Session() as s:
            fresh_window()
            intercepted_httpx = median_seconds(get(http), count)
            fresh_window()
            intercepted_requests = median_seconds(
                lambda: s.get(API + PATH, params=PARAMS, headers=auth).raise_for_status(), count
            )
            fresh_window()
            intercepted_async = _median_seconds_async(aget, httpx.AsyncClient(base_url=API), count)

    print(f"anchor: sandbox.client()        median {anchor_sync * 1e3:.2f} ms per request")
    print(f"anchor: sandbox.async_client()  median {anchor_async * 1e3:.2f} ms per request")
    for name, seconds, anchor in (
        ("httpx.Client under intercept()     ", intercepted_httpx, anchor_sync),
        ("requests.Session under intercept() ", intercepted_requests, anchor_sync),
        ("httpx.AsyncClient under intercept()", intercepted_async, anchor_async),
    ):
        print(f"{name}  {seconds / anchor:.2f}x its anchor")
    return 0
