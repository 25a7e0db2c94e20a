"""tiktok-sandbox: a local, offline, faithful emulator of TikTok's Content Posting API.

The names below are imported when first used (PEP 562), so `tiktok-sandbox serve` and tools
that need one part do not pay for the others (httpx, the interceptor, the audit).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mock_server.app import create_app
    from mock_server.audit import AuditReport, CheckResult, Evidence
    from mock_server.domain.hosts import TIKTOK_HOSTS
    from mock_server.intercept import HostRefused, Interceptor
    from mock_server.records import (
        JournalRecord,
        PublishRecord,
        StatusStep,
        TokenResponse,
        WebhookAttempt,
        WebhookRecord,
    )
    from mock_server.runtime.clock import Clock
    from mock_server.runtime.fetcher import StaticFetcher
    from mock_server.runtime.webhooks import RecordingWebhookSender
    from mock_server.sandbox import RunningServer, Sandbox
    from mock_server.scenario import ScenarioError
    from mock_server.transport import SyncASGITransport

# name -> the module that defines it
_WHERE = {
    "TIKTOK_HOSTS": "mock_server.domain.hosts",
    "AuditReport": "mock_server.audit",
    "CheckResult": "mock_server.audit",
    "Clock": "mock_server.runtime.clock",
    "Evidence": "mock_server.audit",
    "HostRefused": "mock_server.intercept",
    "Interceptor": "mock_server.intercept",
    "JournalRecord": "mock_server.records",
    "PublishRecord": "mock_server.records",
    "RecordingWebhookSender": "mock_server.runtime.webhooks",
    "RunningServer": "mock_server.sandbox",
    "Sandbox": "mock_server.sandbox",
    "ScenarioError": "mock_server.scenario",
    "StaticFetcher": "mock_server.runtime.fetcher",
    "StatusStep": "mock_server.records",
    "SyncASGITransport": "mock_server.transport",
    "TokenResponse": "mock_server.records",
    "WebhookAttempt": "mock_server.records",
    "WebhookRecord": "mock_server.records",
    "create_app": "mock_server.app",
}
__all__ = [
    "TIKTOK_HOSTS",
    "AuditReport",
    "CheckResult",
    "Clock",
    "Evidence",
    "HostRefused",
    "Interceptor",
    "JournalRecord",
    "PublishRecord",
    "RecordingWebhookSender",
    "RunningServer",
    "Sandbox",
    "ScenarioError",
    "StaticFetcher",
    "StatusStep",
    "SyncASGITransport",
    "TokenResponse",
    "WebhookAttempt",
    "WebhookRecord",
    "create_app",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'mock_server' has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
