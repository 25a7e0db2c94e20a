"""The webhook sender seam: how deliveries leave the sandbox.

`HttpxWebhookSender` POSTs for real; `RecordingWebhookSender` keeps what would have been sent
and answers with scripted statuses, for tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import httpx

from mock_server.runtime.fetcher import FetchError, loopback_only_default, refuse_unless_loopback


class WebhookSendError(Exception):
    pass


@dataclass(frozen=True)
class SentWebhook:
    url: str
    body: bytes
    headers: dict[str, str]


class WebhookSender(Protocol):
    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        """POST the body; return (status, a preview of the response body) or raise."""
        ...


class HttpxWebhookSender:
    """POSTs through one shared connection pool (one TLS context, kept-alive connections), so
    a delivery costs a request, not a new client; safe to call from several threads."""

    def __init__(self, timeout_seconds: float = 10.0, loopback_only: bool | None = None) -> None:
        self.timeout = timeout_seconds
        self.loopback_only = loopback_only_default() if loopback_only is None else loopback_only
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        import httpx  # when a webhook is first sent, not at start-up

        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=self.timeout,
                    follow_redirects=False,
                    limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
                )
            return self._client

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        try:
            refuse_unless_loopback(url, self.loopback_only)
        except FetchError as exc:
            raise WebhookSendError(str(exc)) from exc
        import httpx

        try:
            response = self._http().post(url, content=body, headers=dict(headers))
        except httpx.HTTPError as exc:
            raise WebhookSendError(f"{type(exc).__name__}: {exc}") from exc
        return response.status_code, response.text[:512]

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


class RecordingWebhookSender:
    """Records every send; answers with `statuses` in turn (then 200), or a callable's answer."""

    def __init__(self, statuses: Iterable[int] | Callable[[SentWebhook], int] = ()) -> None:
        self.sent: list[SentWebhook] = []
        self._script = statuses if callable(statuses) else iter(list(statuses))

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        sent = SentWebhook(url, body, dict(headers))
        self.sent.append(sent)
        status = self._script(sent) if callable(self._script) else next(self._script, 200)
        return status, ""
