"""tiktok-sandbox: a local, offline, faithful emulator of TikTok's Content Posting API."""

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
