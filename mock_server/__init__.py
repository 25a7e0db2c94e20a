"""tiktok-sandbox: a local, offline, faithful emulator of TikTok's Content Posting API."""

from mock_server.app import create_app
from mock_server.runtime.clock import Clock
from mock_server.sandbox import RunningServer, Sandbox
from mock_server.scenario import ScenarioError
from mock_server.transport import SyncASGITransport

__all__ = [
    "Clock",
    "RunningServer",
    "Sandbox",
    "ScenarioError",
    "SyncASGITransport",
    "create_app",
]
__version__ = "0.1.0"
