"""What the suite judges: a base URL, reached over the network or through an in-process
transport to an ASGI app. The suite only ever speaks HTTP to it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.wire import WireCheck

DEFAULT_IN_PROCESS_URL = "http://127.0.0.1:8080"


@dataclass
class Target:
    """A TikTok-compatible API: `base_url` plus, in process, the transport that reaches it."""

    base_url: str
    transport: httpx.BaseTransport | None = None
    description: str = ""
    _clients: list[httpx.Client] = field(default_factory=list, repr=False)

    def client(self, **kwargs: Any) -> httpx.Client:
        """A fresh httpx client on the target (closed with the target)."""
        kwargs.setdefault("timeout", 30.0)
        client = httpx.Client(base_url=self.base_url, transport=self.transport, **kwargs)
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()


@contextmanager
def in_process_sandbox(scenario: str = "default", seed: int = 0) -> Iterator[Target]:
    """The tiktok-sandbox app from its public factory, reached without a port.

    The control API is served by the same app, so the same target also reaches
    `/_sandbox/...` (see `SandboxController`). Every request is checked as HTTP/1.1 would carry
    it (`WireCheck`), so what passes here can be sent to a URL. The sandbox's pulls and webhooks
    stay on loopback (`TIKTOK_SANDBOX_LOOPBACK_ONLY`, docs/fidelity.md): URL-ownership checks
    hand it URLs on reserved names it must never resolve.
    """
    os.environ.setdefault("TIKTOK_SANDBOX_LOOPBACK_ONLY", "1")
    from mock_server import SyncASGITransport, create_app  # the public factory only

    app = create_app(scenario, seed=seed)
    transport = WireCheck(SyncASGITransport(app))
    target = Target(DEFAULT_IN_PROCESS_URL, transport, "in-process tiktok-sandbox")
    try:
        yield target
    finally:
        target.close()
