"""One sandbox, two views: the in-process transport and a real uvicorn server share its state."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from mock_server import Clock, Sandbox

AUDITED = "awacmescheduler01"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def user_info(http: httpx.Client, access_token: str) -> httpx.Response:
    return http.get(
        "/v2/user/info/",
        params={"fields": "open_id,display_name"},
        headers={"Authorization": f"Bearer {access_token}"},
    )


@pytest.mark.server
def test_in_process_client_and_real_server_share_one_state() -> None:
    sandbox = Sandbox("default", seed=0, clock=Clock.frozen_at(T0))
    with (
        sandbox.serve() as server,
        sandbox.client() as local,
        httpx.Client(base_url=server.url, timeout=10) as remote,
    ):
        assert server.host == "127.0.0.1"
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert remote.get("/_sandbox/health").json()["status"] == "ok"

        # An app created in-process is served over the socket, and the other way round.
        created = local.post("/_sandbox/apps", json={"name": "Made in-process"})
        key = created.json()["app"]["client_key"]
        assert remote.get(f"/_sandbox/apps/{key}").json()["name"] == "Made in-process"
        made = remote.post("/_sandbox/creators", json={"username": "made_remotely"})
        assert made.status_code == 201
        assert local.get("/_sandbox/creators/made_remotely").status_code == 200

        # A token issued over the socket expires when the clock moves in-process.
        pair = remote.post(
            "/_sandbox/tokens",
            json={"client_key": AUDITED, "username": "ana_makes", "scopes": ["user.info.basic"]},
        ).json()
        assert user_info(remote, pair["access_token"]).status_code == 200
        local.post("/_sandbox/clock", json={"advance_seconds": 2 * 3600})
        assert remote.get("/_sandbox/clock").json()["now"] == "2026-01-01T02:00:00Z"
        expired = user_info(remote, pair["access_token"])
        assert expired.status_code == 401
        assert expired.json()["error"]["code"] == "access_token_invalid"
        # ...and the Python API sees the same clock.
        assert sandbox.clock.isoformat() == "2026-01-01T02:00:00Z"

        # The async transport is a third view of the same state.
        async def via_async() -> int:
            async with sandbox.async_client() as client:
                response = await client.get("/_sandbox/creators/made_remotely")
                return response.status_code

        assert asyncio.run(via_async()) == 200

        # One journal records both views' traffic.
        paths = [e["path"] for e in local.get("/_sandbox/journal").json()["entries"]]
        assert paths.count("/v2/user/info/") == 2
        assert "/_sandbox/apps" in paths and "/_sandbox/creators" in paths

    # The block's end stopped the server.
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}/_sandbox/health", timeout=5)
