"""The target controller: the few things the suite needs to arrange that a client of TikTok
cannot do itself (fresh apps and creators, tokens without a browser, creator state, time).

`Controller` is the interface; `SandboxController` implements it over tiktok-sandbox's
`/_sandbox/` control API (HTTP only). A target without one still runs the tests that need
no arranging; the rest are skipped and listed as such in the summary.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

ALL_SCOPES = (
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
    "video.upload",
    "video.publish",
)


@dataclass(frozen=True)
class AppInfo:
    client_key: str
    client_secret: str
    redirect_uri: str
    stage: str


class ControllerError(RuntimeError):
    """The controller could not arrange something (the target refused a control call)."""


class Controller(Protocol):
    def reset(self) -> None:
        """Back to a clean state with a frozen clock."""

    def create_app(
        self, *, stage: str = "audited", scopes: tuple[str, ...] = ALL_SCOPES, **settings: Any
    ) -> AppInfo:
        """A new app nobody else uses (settings: direct_post_enabled, verified_domains,
        verified_url_prefixes, allow_loopback_http_media, webhook_url, token_profile ...)."""

    def set_app(self, client_key: str, **settings: Any) -> None: ...

    def create_creator(self, **settings: Any) -> str:
        """A new creator (account, banned, *_disabled, max_video_post_duration_sec,
        app_version, daily_post_cap ...); returns the username."""

    def set_creator(self, username: str, **settings: Any) -> None: ...

    def authorize(
        self,
        client_key: str,
        username: str,
        scopes: tuple[str, ...],
        code_challenge: str | None = None,
    ) -> dict[str, Any]:
        """The code (and redirect_uri) the consent page would issue; raises ControllerError
        with the target's refusal otherwise."""

    def tokens(self, client_key: str, username: str, scopes: tuple[str, ...]) -> dict[str, Any]:
        """The /v2/oauth/token/ answer for a fresh authorization."""

    def advance_clock(self, seconds: float) -> None: ...

    def publish_action(self, publish_id: str, action: str, **fields: Any) -> dict[str, Any]:
        """Creator-side events: post_draft, take_down, restore, revoke_app, fail."""

    def settle(self) -> None:
        """Wait until media pulls under way have finished."""

    def publish(self, publish_id: str) -> dict[str, Any]:
        """The target's own record of a publish, including what no API answer shows: at least
        `status`, `privacy_level` (the effective one) and `public`."""

    def scenarios(self) -> list[dict[str, str]]:
        """The scenarios the target offers: `name`, `description`, `reproduces` (the failure it
        sets up); [] for a target without scenarios."""

    def current_scenario(self) -> str:
        """The name of the scenario the target is in."""

    def load_scenario(self, name: str) -> None:
        """Reset the target into scenario `name` (its apps and creators only), clock frozen."""

    def apps(self) -> list[AppInfo]:
        """The apps the target holds now (e.g. a scenario's)."""


class SandboxController:
    """`Controller` over tiktok-sandbox's control API."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self._names = itertools.count(1)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise ControllerError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def reset(self) -> None:
        self._call("POST", "/_sandbox/reset", json={})
        self._call("POST", "/_sandbox/clock", json={"freeze": True})

    def create_app(
        self, *, stage: str = "audited", scopes: tuple[str, ...] = ALL_SCOPES, **settings: Any
    ) -> AppInfo:
        n = next(self._names)
        redirect = f"https://conformance.example/app{n}/callback"
        body = {
            "name": f"Conformance app {n}",
            "stage": stage,
            "scopes": list(scopes),
            "redirect_uris": [redirect],
            **settings,
        }
        app = self._call("POST", "/_sandbox/apps", json=body)["app"]
        return AppInfo(
            app["client_key"], app["client_secret"], app["redirect_uris"][0], app["stage"]
        )

    def set_app(self, client_key: str, **settings: Any) -> None:
        self._call("PATCH", f"/_sandbox/apps/{client_key}", json=settings)

    def create_creator(self, **settings: Any) -> str:
        settings.setdefault("username", f"conformance_{next(self._names)}")
        return str(self._call("POST", "/_sandbox/creators", json=settings)["username"])

    def set_creator(self, username: str, **settings: Any) -> None:
        self._call("PATCH", f"/_sandbox/creators/{username}", json=settings)

    def authorize(
        self,
        client_key: str,
        username: str,
        scopes: tuple[str, ...],
        code_challenge: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "client_key": client_key,
            "username": username,
            "scopes": list(scopes),
        }
        if code_challenge:
            body["code_challenge"] = code_challenge
        result: dict[str, Any] = self._call("POST", "/_sandbox/authorize", json=body)
        return result

    def tokens(self, client_key: str, username: str, scopes: tuple[str, ...]) -> dict[str, Any]:
        body = {"client_key": client_key, "username": username, "scopes": list(scopes)}
        result: dict[str, Any] = self._call("POST", "/_sandbox/tokens", json=body)
        return result

    def advance_clock(self, seconds: float) -> None:
        self._call("POST", "/_sandbox/clock", json={"advance_seconds": seconds})

    def publish_action(self, publish_id: str, action: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", f"/_sandbox/publishes/{publish_id}/actions", json={"action": action, **fields}
        )
        return result

    def settle(self) -> None:
        self._call("POST", "/_sandbox/settle", json={"timeout_seconds": 60})

    def scenarios(self) -> list[dict[str, str]]:
        listed: list[dict[str, str]] = self._call("GET", "/_sandbox/scenarios")["scenarios"]
        return listed

    def current_scenario(self) -> str:
        return str(self._call("GET", "/_sandbox/health")["scenario"])

    def load_scenario(self, name: str) -> None:
        self._call("POST", "/_sandbox/reset", json={"scenario": name})
        self._call("POST", "/_sandbox/clock", json={"freeze": True})

    def apps(self) -> list[AppInfo]:
        return [
            AppInfo(a["client_key"], a["client_secret"], a["redirect_uris"][0], a["stage"])
            for a in self._listing("/_sandbox/apps", "apps")
        ]

    def _listing(self, path: str, field: str) -> list[dict[str, Any]]:
        """Every item of a paged control listing, following its `next` links."""
        items: list[dict[str, Any]] = []
        url: str | None = path
        while url is not None:
            page = self._call("GET", url)
            items.extend(page[field])
            url = page.get("next")
        return items

    def publish(self, publish_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/_sandbox/publishes/{publish_id}")
        return result
