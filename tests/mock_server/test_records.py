"""Typed records of what a sandbox saw: the journal by endpoint, app, creator and error code;
publishes with their statuses; webhook deliveries; and the typed token answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from conformance.media import make_video
from mock_server import Clock, RecordingWebhookSender, Sandbox
from mock_server.records import TokenResponse, endpoint_of
from tests.mock_server.api.conftest import USER_TOKEN_FIELDS

A = "awacmescheduler01"  # default scenario: audited
INDIE = "awindieposter0001"  # default scenario: unaudited
SCOPES = ["user.info.basic", "video.publish", "video.upload"]


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(
        "default",
        clock=Clock.frozen_at(datetime(2026, 1, 1, tzinfo=UTC)),
        webhook_sender=RecordingWebhookSender([503]),
    )


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_video(tmp_path_factory.mktemp("media") / "clip.mp4").read_bytes()


def auth(sandbox: Sandbox, client_key: str, username: str) -> dict[str, str]:
    token = sandbox.issue_tokens(client_key, username, SCOPES)["access_token"]
    return {"Authorization": f"Bearer {token}"}


def post_file(http: httpx.Client, headers: dict[str, str], clip: bytes, privacy: str) -> str:
    """A single-chunk FILE_UPLOAD Direct Post; returns the publish_id."""
    size = len(clip)
    init = http.post(
        "/v2/post/publish/video/init/",
        headers=headers,
        json={
            "post_info": {"privacy_level": privacy, "title": "hello"},
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": size,
                "chunk_size": size,
                "total_chunk_count": 1,
            },
        },
    )
    data = init.json()["data"]
    put = http.put(
        data["upload_url"],
        content=clip,
        headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{size - 1}/{size}"},
    )
    assert put.status_code == 201
    return str(data["publish_id"])


def test_issue_tokens_is_the_token_answer(sandbox: Sandbox) -> None:
    tokens = sandbox.issue_tokens(A, "ana_makes", ["user.info.basic"])
    assert set(tokens) == TokenResponse.__required_keys__ == USER_TOKEN_FIELDS
    assert tokens["expires_in"] == 7200
    assert tokens["token_type"] == "Bearer"


def test_a_sandbox_is_closed_when_its_block_ends() -> None:
    with Sandbox("default") as sandbox:
        root = sandbox.state.spool.root
        (root / "marker").write_bytes(b"x")
        assert root.exists()
    assert not root.exists()


def test_the_journal_filters_by_endpoint_app_creator_and_error_code(
    sandbox: Sandbox, clip: bytes
) -> None:
    with sandbox.client() as http:
        post_file(http, auth(sandbox, A, "ana_makes"), clip, "PUBLIC_TO_EVERYONE")
        # Before audit, a public creator is refused (ref 15.1).
        refused = http.post(
            "/v2/post/publish/video/init/",
            headers=auth(sandbox, INDIE, "ana_makes"),
            json={
                "post_info": {"privacy_level": "SELF_ONLY"},
                "source_info": {"source": "PULL_FROM_URL", "video_url": "https://x.example/a"},
            },
        )
        assert refused.status_code == 403
        http.get(
            "/v2/user/info/", params={"fields": "open_id"}, headers=auth(sandbox, A, "cora.cooks")
        )

    assert [r.endpoint for r in sandbox.journal(client_key=A)] == [
        "video_init",
        "upload",
        "user_info",
    ]
    (init,) = sandbox.journal(endpoint="video_init", client_key=A)
    assert (init.creator, init.status, init.error_code, init.rule) == (
        "ana_makes",
        200,
        "ok",
        "accepted",
    )
    (upload,) = sandbox.journal(endpoint="upload")
    assert (upload.creator, upload.status, upload.rule) == ("ana_makes", 201, "chunk_201")
    assert upload.request_bytes == len(clip)
    code = "unaudited_client_can_only_post_to_private_accounts"
    (refusal,) = sandbox.journal(error_code=code)
    assert (refusal.client_key, refusal.creator, refusal.status) == (INDIE, "ana_makes", 403)
    assert [r.endpoint for r in sandbox.journal(creator="cora.cooks")] == ["user_info"]
    assert sandbox.journal(endpoint="/v2/post/") == sandbox.journal(endpoint="video_init")
    with pytest.raises(ValueError, match="unknown endpoint 'video'"):
        sandbox.journal(endpoint="video")


def test_token_exchanges_name_their_creator(sandbox: Sandbox) -> None:
    code = sandbox.issue_code(A, "ben_private", ["user.info.basic"])
    with sandbox.client() as http:
        form = {
            "client_key": A,
            "client_secret": "acmeSchedulerSecret0000000000001",
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": "http://127.0.0.1:3000/callback/",
        }
        assert http.post("/v2/oauth/token/", data=form).json()["open_id"]
        again = http.post("/v2/oauth/token/", data=form)  # a code is single-use
    first, second = sandbox.journal(endpoint="token")
    assert (first.creator, first.error_code) == ("ben_private", "ok")
    assert (second.creator, second.error_code) == (None, again.json()["error"])


def test_publishes_and_their_statuses(sandbox: Sandbox, clip: bytes) -> None:
    with sandbox.client() as http:
        public = post_file(http, auth(sandbox, A, "ana_makes"), clip, "PUBLIC_TO_EVERYONE")
        private = post_file(http, auth(sandbox, A, "ben_private"), clip, "SELF_ONLY")
    sandbox.advance(2)  # fast timing: processed after 1 s, moderated 1 s later
    assert [p.publish_id for p in sandbox.publishes()] == [public, private]
    record = sandbox.publish(public)
    assert record.statuses == ["PROCESSING_UPLOAD", "PUBLISH_COMPLETE"]
    assert (record.creator, record.status, record.public, record.privacy_level) == (
        "ana_makes",
        "PUBLISH_COMPLETE",
        True,
        "PUBLIC_TO_EVERYONE",
    )
    assert record.video_size == len(clip) and len(record.post_ids) == 1
    assert [p.publish_id for p in sandbox.publishes(creator="ben_private")] == [private]
    assert sandbox.publishes(status="FAILED") == []
    assert sandbox.publishes(client_key=INDIE) == []
    with pytest.raises(KeyError, match="no publish"):
        sandbox.publish("v_pub_file~v2-1.0")


def test_webhooks_delivered_and_retried(sandbox: Sandbox, clip: bytes) -> None:
    with sandbox.client() as http:
        http.patch(f"/_sandbox/apps/{A}", json={"webhook_url": "https://hooks.acme.example/t"})
        publish_id = post_file(http, auth(sandbox, A, "ana_makes"), clip, "PUBLIC_TO_EVERYONE")
    sandbox.advance(2)
    first = sandbox.webhooks(event="post.publish.complete")
    assert [(w.status, [a.status_code for a in w.attempts]) for w in first] == [("pending", [503])]
    sandbox.advance(30)  # the 503'd delivery is retried 30 s later
    (complete,) = sandbox.webhooks(client_key=A, event="post.publish.complete")
    assert complete.delivered and [a.status_code for a in complete.attempts] == [503, 200]
    assert complete.content == {"publish_id": publish_id, "publish_type": "DIRECT_PUBLISH"}
    assert complete.user_openid == json.loads(complete.body)["user_openid"]
    assert [w.event for w in sandbox.webhooks(status="delivered")] == [
        "post.publish.complete",
        "post.publish.publicly_available",
    ]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v2/oauth/token/", "token"),
        ("/upload/", "upload"),
        ("/v2/post/publish/inbox/video/init/", "inbox_video_init"),
        ("/_sandbox/reset", None),
        ("/v2/post/publish/video/init/extra", None),
    ],
)
def test_endpoint_names_come_from_the_endpoint_table(path: str, name: str | None) -> None:
    assert endpoint_of(path) == name


def test_a_served_answer_is_in_the_journal_when_it_arrives(sandbox: Sandbox) -> None:
    headers = auth(sandbox, A, "ana_makes")
    with sandbox.serve() as server, httpx.Client(base_url=server.url) as http:
        for n in range(1, 31):
            http.get("/v2/user/info/", params={"fields": "open_id"}, headers=headers)
            assert len(sandbox.journal(endpoint="user_info")) == n


def test_an_upload_s_last_chunk_records_what_the_media_check_found(
    sandbox: Sandbox, clip: bytes
) -> None:
    with sandbox.client() as http:
        post_file(http, auth(sandbox, A, "cora.cooks"), clip, "PUBLIC_TO_EVERYONE")
    (upload,) = sandbox.journal(endpoint="upload")
    assert upload.media is not None
    assert (upload.media["container"], upload.media["codec"]) == ("mp4", "h264")
    assert upload.media["duration_s"] == pytest.approx(3.5, abs=0.1)
    assert upload.media["max_duration_s"] == 60  # cora.cooks posts at most 60 s (Direct Post)
    assert (upload.media["check"], upload.media["fail_reason"]) == (None, None)
    assert [r.media for r in sandbox.journal(endpoint="video_init")] == [None]


def test_browser_headers_are_kept(sandbox: Sandbox) -> None:
    browser = {
        "Origin": "https://app.example",
        "Referer": "https://app.example/settings",
        "Sec-Fetch-Site": "cross-site",
        "Sec-Fetch-Mode": "cors",
    }
    with sandbox.client() as http:
        http.post("/v2/oauth/token/", data={"client_key": A}, headers=browser)
    (token,) = sandbox.journal(endpoint="token")
    assert {k: token.request_headers[k] for k in map(str.lower, browser)} == {
        k.lower(): v for k, v in browser.items()
    }


def test_a_refused_token_still_names_its_app_and_creator(sandbox: Sandbox) -> None:
    headers = auth(sandbox, A, "ana_makes")
    sandbox.advance(7200)  # the access token's two hours are over
    with sandbox.client() as http:
        answer = http.post("/v2/post/publish/creator_info/query/", headers=headers)
        http.get("/v2/user/info/", params={"fields": "open_id"}, headers=headers)
        http.get("/v2/user/info/", params={"fields": "open_id"}, headers={"Authorization": "x"})
    assert answer.json()["error"]["code"] == "access_token_invalid"
    expired, user, unknown = sandbox.journal()
    assert (expired.client_key, expired.creator, expired.rule) == (A, "ana_makes", "token_expired")
    assert (user.client_key, user.creator, user.rule) == (A, "ana_makes", "token_expired")
    assert (unknown.client_key, unknown.creator) == (None, None)
