"""A tiny scenario for the OAuth, consent and user-info tests: three apps, three creators.

`scenario(...)` builds it with per-app overrides, so each test states only what it changes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mock_server.runtime.clock import Clock
from mock_server.sandbox import Sandbox
from mock_server.scenario import Scenario, parse_scenario

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)

WEB = "awwebapp0001"
WEB_SECRET = "webAppSecret000000000000000001"
WEB_REDIRECT = "https://app.example.com/auth/tiktok/callback"
WEB_LOOPBACK_REDIRECT = "http://127.0.0.1:3000/callback/"

NARROW = "awnarrowapp01"
NARROW_SECRET = "narrowAppSecret00000000000001"

SANDBOX = "sbawsandbox001"
SANDBOX_SECRET = "sandboxAppSecret0000000000001"
SANDBOX_REDIRECT = "http://127.0.0.1:*/callback/"

ALL_SCOPES = [
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
    "video.upload",
    "video.publish",
]

CREATORS: list[dict[str, Any]] = [
    {"username": "ana", "nickname": "Ana Makes", "account": "public", "is_verified": True},
    {"username": "ben", "nickname": "Ben Private", "account": "private"},
    {"username": "cora", "nickname": "Cora Cooks", "account": "public"},
]


def scenario(
    *,
    web: dict[str, Any] | None = None,
    narrow: dict[str, Any] | None = None,
    sandbox: dict[str, Any] | None = None,
    oauth: dict[str, Any] | None = None,
    seed: int = 7,
    **behaviours: dict[str, Any],
) -> Scenario:
    """The tiny scenario; `behaviours` are top-level keys such as `display={...}`."""
    apps = [
        {
            "name": "Web Scheduler",
            "client_key": WEB,
            "client_secret": WEB_SECRET,
            "stage": "audited",
            "platform": "web",
            "scopes": ALL_SCOPES,
            "redirect_uris": [WEB_REDIRECT, WEB_LOOPBACK_REDIRECT],
            **(web or {}),
        },
        {
            "name": "Narrow Poster",
            "client_key": NARROW,
            "client_secret": NARROW_SECRET,
            "stage": "unaudited",
            "platform": "web",
            "developer": "someone-else",
            "scopes": ["user.info.basic", "video.upload"],
            "redirect_uris": [WEB_REDIRECT],
            **(narrow or {}),
        },
        {
            "name": "Desk Sandbox",
            "client_key": SANDBOX,
            "client_secret": SANDBOX_SECRET,
            "stage": "sandbox",
            "platform": "desktop",
            "scopes": ["user.info.basic", "user.info.profile", "video.upload"],
            "redirect_uris": [SANDBOX_REDIRECT],
            "target_users": ["ana"],
            **(sandbox or {}),
        },
    ]
    document: dict[str, Any] = {"name": "tiny", "seed": seed, "apps": apps, "creators": CREATORS}
    if oauth is not None:
        document["oauth"] = oauth
    document.update(behaviours)
    return parse_scenario(document, "tiny.yaml")


def frozen_clock() -> Clock:
    return Clock.frozen_at(T0)


def make_sandbox(seed: int = 7, **overrides: Any) -> Sandbox:
    return Sandbox(scenario(seed=seed, **overrides), clock=frozen_clock())
