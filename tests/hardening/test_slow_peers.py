"""One slow peer stalls no one else (issue 10): a cancelled or failed publish stops its download
at once, a stalled app does not hold up another app's pull, and a webhook receiver that hangs
delays only its own app's deliveries.

The peers are real loopback servers run by the test (`StallingMedia`, `HangingReceiver`); the
assertions are about order and arrival (the other app's request arrives while the slow one is
still stalled), each wait bounded generously so that a failure cannot hang the suite.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_server import Sandbox
from tests.hardening.kit import (
    ANA,
    AUDITED,
    BEN,
    SMALL_UPLOAD,
    UNAUDITED,
    HangingReceiver,
    StallingMedia,
    bearer,
)
from tests.mock_server.lifecycle_kit import LoopbackServer, answer

VIDEO_INIT = "/v2/post/publish/video/init/"
CANCEL = "/v2/post/publish/cancel/"
WAIT = 10.0  # seconds: a bound for things that should happen at once


def init(http: httpx.Client, token: str, source: dict[str, Any]) -> str:
    body = {"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": source}
    response = http.post(VIDEO_INIT, headers=bearer(token), json=body)
    assert response.json()["error"]["code"] == "ok", response.text
    publish_id: str = response.json()["data"]["publish_id"]
    return publish_id


def pull(url: str) -> dict[str, str]:
    return {"source": "PULL_FROM_URL", "video_url": url}


def verify(http: httpx.Client, client_key: str, *prefixes: str) -> None:
    response = http.patch(
        f"/_sandbox/apps/{client_key}", json={"verified_url_prefixes": list(prefixes)}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("how", ["cancel", "fail"])
def test_a_cancelled_or_failed_publish_stops_its_download_at_once(
    sandbox: Sandbox, how: str
) -> None:
    with StallingMedia() as media, sandbox.client() as http:
        verify(http, AUDITED, f"{media.url}/media/")
        token = sandbox.issue_tokens(AUDITED, ANA, ["video.publish"])["access_token"]
        publish_id = init(http, token, pull(f"{media.url}/media/clip.mp4"))
        assert media.started.wait(WAIT), "the sandbox started downloading"
        assert not media.closed.is_set()

        if how == "cancel":
            response = http.post(CANCEL, headers=bearer(token), json={"publish_id": publish_id})
            assert response.json()["error"]["code"] == "ok", response.text
        else:
            response = http.post(
                f"/_sandbox/publishes/{publish_id}/actions",
                json={"action": "fail", "fail_reason": "internal"},
            )
            assert response.status_code == 200, response.text
        assert media.closed.wait(WAIT), f"the download was still open {WAIT} s after the {how}"
        assert http.get(f"/_sandbox/publishes/{publish_id}").json()["status"] == "FAILED"


def test_an_app_with_stalled_pulls_does_not_hold_up_another_apps_pull(sandbox: Sandbox) -> None:
    with (
        StallingMedia() as stalled,
        LoopbackServer(lambda request, body: answer(request, 200, b"not a video")) as media,
        sandbox.client() as http,
    ):
        verify(http, AUDITED, f"{stalled.url}/media/")
        verify(http, UNAUDITED, f"{media.url}/media/")
        token = sandbox.issue_tokens(AUDITED, ANA, ["video.publish"])["access_token"]
        stuck = [init(http, token, pull(f"{stalled.url}/media/{i}.mp4")) for i in range(4)]
        assert stalled.started.wait(WAIT)
        other = sandbox.issue_tokens(UNAUDITED, BEN, ["video.publish"])["access_token"]
        init(http, other, pull(f"{media.url}/media/clip.mp4"))

        assert media.wait_for(1, WAIT), "the other app's pull waited for the stalled ones"
        assert not stalled.closed.is_set(), "the stalled pulls are still stalled"
        for publish_id in stuck:
            status = http.get(f"/_sandbox/publishes/{publish_id}").json()["status"]
            assert status == "PROCESSING_DOWNLOAD"


def test_a_hanging_webhook_receiver_delays_only_its_own_app(sandbox: Sandbox) -> None:
    with (
        sandbox.serve() as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
        LoopbackServer(lambda request, body: answer(request, 200)) as fast,
        HangingReceiver() as hanging,  # released first on the way out
    ):
        for client_key, url in ((AUDITED, hanging.url), (UNAUDITED, f"{fast.url}/hook")):
            response = http.patch(f"/_sandbox/apps/{client_key}", json={"webhook_url": url})
            assert response.status_code == 200, response.text
        slow_token = sandbox.issue_tokens(AUDITED, ANA, ["video.publish"])["access_token"]
        slow = [init(http, slow_token, SMALL_UPLOAD) for _ in range(3)]
        other_token = sandbox.issue_tokens(UNAUDITED, BEN, ["video.publish"])["access_token"]
        other = init(http, other_token, SMALL_UPLOAD)

        def fail(publish_id: str) -> None:
            response = http.post(
                f"/_sandbox/publishes/{publish_id}/actions",
                json={"action": "fail", "fail_reason": "internal"},
            )
            assert response.status_code == 200, response.text

        for publish_id in slow:
            fail(publish_id)
        assert hanging.server.wait_for(1, WAIT), "the hanging receiver got a delivery"
        fail(other)
        assert fast.wait_for(1, WAIT), "the other app's webhook arrived"

        log = http.get("/_sandbox/webhooks", params={"client_key": AUDITED}).json()
        answered = [
            a for d in log["deliveries"] for a in d["attempts"] if a["status_code"] or a["error"]
        ]
        assert answered == [], "the other app's webhook waited for these to give up"
