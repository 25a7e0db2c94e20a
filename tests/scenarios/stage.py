"""A built-in scenario on a frozen clock, driven the way an integration drives TikTok.

`Stage(name)` loads the scenario into a `Sandbox` whose seams are test doubles (a
`StaticFetcher` for pulled media, a `RecordingWebhookSender`), and hands out reference clients
(`client.TikTokClient`) that talk to it over the in-process transport, sleep by advancing the
sandbox clock and read the time from it. `raw` sends a request as a careless client would, for
the failures the reference client refuses to provoke.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from client import TikTokClient, Token
from mock_server import Clock, Sandbox
from mock_server.domain.models import App
from mock_server.runtime.fetcher import StaticFetcher
from mock_server.runtime.webhooks import RecordingWebhookSender, SentWebhook
from mock_server.sandbox import IN_PROCESS_URL
from mock_server.state import ServerOptions
from tests.forms import form_token

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = 24 * 3600
POSTING_SCOPES = ("user.info.basic", "video.upload", "video.publish")

VIDEO_INIT = "/v2/post/publish/video/init/"
CONTENT_INIT = "/v2/post/publish/content/init/"
STATUS = "/v2/post/publish/status/fetch/"
AUTHORIZE = "/v2/auth/authorize/"


class Stage:
    def __init__(
        self,
        scenario: str,
        *,
        files: Mapping[str, bytes] | None = None,
        webhook_statuses: Iterable[int] | Callable[[SentWebhook], int] = (),
        options: ServerOptions | None = None,
    ) -> None:
        self.fetcher = StaticFetcher(files or {})
        self.sender = RecordingWebhookSender(webhook_statuses)
        self.sandbox = Sandbox(
            scenario,
            clock=Clock.frozen_at(T0),
            options=options,
            fetcher=self.fetcher,
            webhook_sender=self.sender,
        )
        self.http = self.sandbox.client()
        self._clients: list[TikTokClient] = []

    def close(self) -> None:
        for tiktok in self._clients:
            tiktok.close()
        self.http.close()
        self.sandbox.close()

    # -- the scenario's world ------------------------------------------------------------------

    def app(self, client_key: str | None = None) -> App:
        apps = self.sandbox.state.world.apps
        if client_key is None:
            assert len(apps) == 1, "name the app: the scenario has several"
            return next(iter(apps.values()))
        return apps[client_key]

    def now(self) -> float:
        return self.sandbox.clock.now()

    def advance(self, seconds: float) -> None:
        self.sandbox.advance(seconds)

    def settle(self) -> None:
        """Let every pull under way finish (real threads), then run what fell due."""
        assert self.sandbox.settle(10.0), "a pull did not finish"

    # -- clients ---------------------------------------------------------------------------------

    def tokens(
        self, username: str, scopes: Iterable[str] = POSTING_SCOPES, client_key: str | None = None
    ) -> dict[str, Any]:
        """A token pair as the code exchange returns it (the consent step done headless)."""
        return self.sandbox.issue_tokens(self.app(client_key).client_key, username, list(scopes))

    def tiktok(
        self,
        username: str | None = None,
        scopes: Iterable[str] = POSTING_SCOPES,
        client_key: str | None = None,
        *,
        token: Token | None = None,
        chunk_size: int | None = None,
    ) -> TikTokClient:
        """A reference client for the app, logged in as `username` (or holding `token`);
        `chunk_size` as the client's own (5 MiB by default)."""
        app = self.app(client_key)
        if token is None and username is not None:
            token = Token.from_response(self.tokens(username, scopes, client_key), self.now())
        tiktok = TikTokClient(
            app.client_key,
            app.client_secret,
            token=token,
            base_url=IN_PROCESS_URL,
            transport=self.sandbox.transport(),
            sleep=self.advance,
            now=self.now,
            **({} if chunk_size is None else {"chunk_size": chunk_size}),
        )
        self._clients.append(tiktok)
        return tiktok

    def bare_tiktok(self, access_token: str, client_key: str | None = None) -> TikTokClient:
        """A client holding only an access token: it cannot refresh, so expiry shows."""
        return self.tiktok(client_key=client_key, token=Token.bare(access_token))

    # -- as a careless client sends it --------------------------------------------------------

    def raw(self, path: str, access_token: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {access_token}"}
        return self.http.post(path, headers=headers, json=body)

    def publish(self, publish_id: str) -> dict[str, Any]:
        """The control API's view of a publish (what the post really got)."""
        response = self.http.get(f"/_sandbox/publishes/{publish_id}")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def journal(self, path: str) -> list[dict[str, Any]]:
        response = self.http.get("/_sandbox/journal", params={"path": path})
        entries: list[dict[str, Any]] = response.json()["entries"]
        return entries

    # -- the person on the consent page --------------------------------------------------------

    def consent(self, authorize_url: str, username: str, granted: Iterable[str]) -> httpx.Response:
        """Open the authorize URL, then approve as `username` with only `granted` ticked."""
        parts = urlsplit(authorize_url)
        page = self.http.get(f"{parts.path}?{parts.query}")
        assert page.status_code == 200, page.text
        form = [*parse_qsl(parts.query), ("decision", "approve"), ("creator", username)]
        form.append(("csrf_token", form_token(page.text)))
        form += [("granted", scope) for scope in granted]
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.http.post(AUTHORIZE, content=urlencode(form), headers=headers)


def redirect_location(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    return response.headers["location"]
