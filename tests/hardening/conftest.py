"""The default scenario on a frozen clock (T0), with its real seams (loopback only in the test
suite), and an httpx client on its in-process transport."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mock_server import Clock, Sandbox
from tests.mock_server.lifecycle_kit import T0


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    made = Sandbox("default", clock=Clock.frozen_at(T0))
    yield made
    made.close()


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with sandbox.client() as client:
        yield client
