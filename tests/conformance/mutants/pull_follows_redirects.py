"""Mutant: PULL_FROM_URL follows redirects to the media (ref 10.4: "must not redirect: any 3xx
response counts as invalid")."""

from __future__ import annotations

from typing import Any

import httpx
import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.runtime.fetcher import HttpxFetcher

    fetching = HttpxFetcher.fetch

    def fetch(self: HttpxFetcher, url: str, dest: Any, max_bytes: int, progress: Any) -> int:
        with (
            httpx.Client(follow_redirects=True, timeout=10) as client,
            client.stream("GET", url) as response,
        ):
            url = str(response.url)
        return fetching(self, url, dest, max_bytes, progress)

    HttpxFetcher.fetch = fetch  # type: ignore[method-assign]
