"""Webhooks end to end (ref 14): what leaves the sandbox, signed as TikTok signs (checked here
independently), retried with backoff only as the sandbox clock moves, logged in the control API,
dropped after 72 h; every event type; and a real loopback receiver fed by a served sandbox's
background ticker with no API request at all."""

from __future__ import annotations

import http.server
import itertools
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest

from conformance.media import make_video
from mock_server.runtime.webhooks import (
    HttpxWebhookSender,
    RecordingWebhookSender,
    SentWebhook,
    WebhookSendError,
)
from tests.mock_server.lifecycle_kit import (
    ANA,
    AUDITED,
    BEN,
    HOOK_URL,
    SCOPES,
    SECRETS,
    T0_EPOCH,
    UNAUDITED,
    LoopbackServer,
    Studio,
    answer,
    parse_instant,
    plan,
    studio,
    verify_signature,
)

ENVELOPE_KEYS = ["client_key", "event", "create_time", "user_openid", "content"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_video(tmp_path_factory.mktemp("webhooks") / "clip.mp4").read_bytes()


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """2 s: fails `duration_check_failed`."""
    return make_video(tmp_path_factory.mktemp("webhooks") / "2s.mp4", seconds=2).read_bytes()


def hooked(statuses: Any = ()) -> Studio:
    """A sandbox whose audited app has a callback URL, sent through a recording sender."""
    st = Studio(sender=RecordingWebhookSender(statuses))
    st.patch_app(AUDITED, webhook_url=HOOK_URL)
    return st


@pytest.fixture
def st() -> Iterator[Studio]:
    made = hooked()
    yield made
    made.close()


def sent(st: Studio) -> list[SentWebhook]:
    sender = st.sender
    assert isinstance(sender, RecordingWebhookSender)
    return sender.sent


def header(headers: Mapping[str, str], name: str) -> str:
    """HTTP header names are case-insensitive (the doc shows both TikTok- and Tiktok-)."""
    found = [v for k, v in headers.items() if k.lower() == name.lower()]
    assert len(found) == 1, headers
    return found[0]


def open_id_of(st: Studio, client_key: str = AUDITED, username: str = ANA) -> str:
    return str(st.sandbox.issue_tokens(client_key, username, SCOPES)["open_id"])


def complete_one(st: Studio, clip: bytes, privacy: str = "SELF_ONLY") -> str:
    """Post `clip` and let it complete: one post.publish.complete (more if public)."""
    publish_id = st.post_video(st.token(), clip, privacy=privacy)
    st.advance(2)
    return publish_id


def attempt_times(delivery: dict[str, Any]) -> list[float]:
    return [parse_instant(a["at"]) for a in delivery["attempts"]]


# -- what is sent --------------------------------------------------------------------------------


def test_no_callback_url_means_nothing_is_sent(clip: bytes) -> None:
    with studio() as st:
        complete_one(st, clip)
        assert st.deliveries() == []
        assert sent(st) == []


def test_the_envelope_and_signature_on_the_wire(st: Studio, clip: bytes) -> None:
    publish_id = complete_one(st, clip)
    (webhook,) = sent(st)
    assert webhook.url == HOOK_URL
    assert header(webhook.headers, "Content-Type").startswith("application/json")
    t = verify_signature(
        header(webhook.headers, "TikTok-Signature"), webhook.body, SECRETS[AUDITED]
    )
    assert t == int(st.sandbox.clock.now())  # signed when sent, on the sandbox clock

    envelope = json.loads(webhook.body)
    assert list(envelope) == ENVELOPE_KEYS
    assert envelope["client_key"] == AUDITED
    assert envelope["event"] == "post.publish.complete"
    completed_at = parse_instant(st.publish(publish_id)["timeline"][-1]["at"])
    assert envelope["create_time"] == int(T0_EPOCH + completed_at)  # epoch seconds, an int
    assert type(envelope["create_time"]) is int
    assert envelope["user_openid"] == open_id_of(st)
    assert isinstance(envelope["content"], str)
    assert json.loads(envelope["content"]) == {
        "publish_id": publish_id,
        "publish_type": "DIRECT_PUBLISH",
    }


def test_a_tampered_body_or_wrong_secret_does_not_verify(st: Studio, clip: bytes) -> None:
    # The test's verifier is not a rubber stamp.
    complete_one(st, clip)
    (webhook,) = sent(st)
    signature = header(webhook.headers, "TikTok-Signature")
    with pytest.raises(AssertionError):
        verify_signature(signature, webhook.body + b" ", SECRETS[AUDITED])
    with pytest.raises(AssertionError):
        verify_signature(signature, webhook.body, SECRETS[UNAUDITED])


def test_each_app_signs_with_its_own_secret_and_keeps_its_own_log(st: Studio, clip: bytes) -> None:
    other_url = "https://hooks.indie.example/tt"
    st.patch_app(UNAUDITED, webhook_url=other_url)
    publish_id = st.post_video(st.token(UNAUDITED, BEN), clip)
    st.advance(2)
    (webhook,) = sent(st)
    assert webhook.url == other_url
    verify_signature(header(webhook.headers, "TikTok-Signature"), webhook.body, SECRETS[UNAUDITED])
    envelope = json.loads(webhook.body)
    assert envelope["client_key"] == UNAUDITED
    assert envelope["user_openid"] == open_id_of(st, UNAUDITED, BEN)
    assert st.deliveries(AUDITED) == []
    (logged,) = st.deliveries(UNAUDITED)
    assert logged["body"].encode() == webhook.body
    assert json.loads(json.loads(logged["body"])["content"])["publish_id"] == publish_id


def test_every_event_type(st: Studio, clip: bytes, short_clip: bytes) -> None:
    token = st.token()
    public = st.post_video(token, clip, privacy="PUBLIC_TO_EVERYONE")
    failing = st.post_video(token, short_clip)
    inbox = st.post_video(token, clip, inbox=True)
    st.advance(2)  # processed (and the inbox draft delivered)
    st.advance(2)  # moderated
    (post_id,) = st.state(public)["publicaly_available_post_id"]
    assert st.action(public, "take_down").status_code == 200
    assert st.action(inbox, "post_draft", privacy_level="SELF_ONLY").status_code == 200
    assert st.action(public, "revoke_app").status_code == 200
    st.advance(1)

    received = [json.loads(w.body) for w in sent(st)]
    for webhook in sent(st):
        verify_signature(
            header(webhook.headers, "TikTok-Signature"), webhook.body, SECRETS[AUDITED]
        )
    for envelope in received:
        assert list(envelope) == ENVELOPE_KEYS
        assert envelope["user_openid"] == received[0]["user_openid"]
    contents = {(e["event"], e["content"]) for e in received}
    by_event: dict[str, list[dict[str, Any]]] = {}
    for event, content in contents:
        by_event.setdefault(event, []).append(json.loads(content))

    assert by_event["post.publish.failed"] == [
        {"publish_id": failing, "reason": "duration_check_failed", "publish_type": "DIRECT_PUBLISH"}
    ]
    assert sorted(by_event["post.publish.complete"], key=lambda c: c["publish_type"]) == [
        {"publish_id": public, "publish_type": "DIRECT_PUBLISH"},
        {"publish_id": inbox, "publish_type": "INBOX_SHARE"},
    ]
    assert by_event["post.publish.inbox_delivered"] == [
        {"publish_id": inbox, "publish_type": "INBOX_SHARE"}
    ]
    public_content = {
        "publish_id": public,
        "post_id": str(post_id),
        "publish_type": "DIRECT_PUBLISH",
    }
    assert by_event["post.publish.publicly_available"] == [public_content]
    assert by_event["post.publish.no_longer_publicaly_available"] == [public_content]
    assert by_event["authorization.removed"] == [{"reason": 1}]
    assert len(received) == 7
    # The token was revoked before authorization.removed went out (ref 14.3).
    assert st.status(token, public).status_code == 401


# -- retries on the sandbox clock ------------------------------------------------------------------


def test_non_200_answers_are_retried_with_backoff_only_as_the_clock_moves(clip: bytes) -> None:
    st = hooked([500, 503, 200])
    try:
        complete_one(st, clip)
        (delivery,) = st.deliveries()
        assert [a["status_code"] for a in delivery["attempts"]] == [500]
        (first,) = attempt_times(delivery)
        assert first == st.now()  # sent as soon as the event happened
        assert delivery["status"] == "pending"
        assert parse_instant(delivery["next_attempt_at"]) == first + 30

        # No retry while the clock stands still, however often the sandbox is poked.
        for _ in range(3):
            assert st.http.post("/_sandbox/webhooks/dispatch").json() == {"attempted": 0}
            st.sandbox.pump()
        st.advance(29)
        assert len(sent(st)) == 1
        st.advance(1)
        assert len(sent(st)) == 2
        st.advance(59)
        assert len(sent(st)) == 2
        st.advance(1)
        assert len(sent(st)) == 3

        (delivery,) = st.deliveries()
        assert delivery["status"] == "delivered"
        assert delivery["next_attempt_at"] is None
        assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
        assert attempt_times(delivery) == [first, first + 30, first + 90]
        for attempt in delivery["attempts"]:
            assert attempt["error"] is None
            t = verify_signature(attempt["signature"], delivery["body"].encode(), SECRETS[AUDITED])
            assert t == int(T0_EPOCH + parse_instant(attempt["at"]))
        # Delivered: nothing more, ever.
        st.advance(7 * 24 * 3600)
        assert len(sent(st)) == 3
    finally:
        st.close()


def test_a_retried_delivery_carries_the_identical_body(clip: bytes) -> None:
    # At least once (ref 14.1): the receiver may see an event twice, byte for byte the same.
    st = hooked([500, 200])
    try:
        complete_one(st, clip)
        st.advance(30)
        first, second = sent(st)
        assert first.body == second.body
        assert first.url == second.url
        t1 = verify_signature(first.headers["TikTok-Signature"], first.body, SECRETS[AUDITED])
        t2 = verify_signature(second.headers["TikTok-Signature"], second.body, SECRETS[AUDITED])
        assert t2 == t1 + 30  # a fresh signature timestamp for the same bytes
        assert st.deliveries()[0]["body"].encode() == first.body
    finally:
        st.close()


@pytest.mark.parametrize("status", [201, 204, 302, 404, 500])
def test_anything_but_200_is_a_failed_attempt(clip: bytes, status: int) -> None:
    st = hooked([status, 200])
    try:
        complete_one(st, clip)
        (delivery,) = st.deliveries()
        assert delivery["status"] == "pending"
        assert delivery["attempts"][0]["status_code"] == status
        st.advance(30)
        assert st.deliveries()[0]["status"] == "delivered"
    finally:
        st.close()


class RefusingSender:
    """A webhook sender seam whose receiver is down for the first `down` sends."""

    def __init__(self, down: int) -> None:
        self.down = down
        self.sent: list[SentWebhook] = []

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        self.sent.append(SentWebhook(url, body, dict(headers)))
        if len(self.sent) <= self.down:
            raise WebhookSendError("ConnectError: connection refused")
        return 200, "ok"


def test_a_receiver_that_cannot_be_reached_is_retried(clip: bytes) -> None:
    sender = RefusingSender(down=2)
    with studio(sender=sender) as st:
        st.patch_app(AUDITED, webhook_url=HOOK_URL)
        complete_one(st, clip)
        (delivery,) = st.deliveries()
        assert delivery["attempts"][0]["status_code"] is None
        assert "refused" in delivery["attempts"][0]["error"]
        st.advance(30)
        st.advance(60)
        (delivery,) = st.deliveries()
        assert [a["status_code"] for a in delivery["attempts"]] == [None, None, 200]
        assert delivery["attempts"][-1]["response_body"] == "ok"
        assert delivery["status"] == "delivered"
        assert len({s.body for s in sender.sent}) == 1


def test_a_delivery_is_dropped_after_72_hours(clip: bytes) -> None:
    st = hooked(lambda webhook: 500)
    try:
        complete_one(st, clip)
        (delivery,) = st.deliveries()
        created = parse_instant(delivery["created_at"])
        while delivery["status"] == "pending":
            st.advance_to(parse_instant(delivery["next_attempt_at"]))
            (delivery,) = st.deliveries()
        assert delivery["status"] == "dropped"
        assert delivery["next_attempt_at"] is None
        times = attempt_times(delivery)
        assert times[-1] <= created + 72 * 3600
        assert times[-1] > created + 48 * 3600  # it kept trying for most of the window
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert gaps[:3] == [30, 60, 120]
        assert gaps == sorted(gaps)
        count = len(sent(st))
        assert count == len(times)
        st.advance(100 * 3600)
        assert len(sent(st)) == count  # dropped for good
    finally:
        st.close()


def test_the_delivery_log_filters_and_refuses_unknown_apps(st: Studio, clip: bytes) -> None:
    complete_one(st, clip, privacy="PUBLIC_TO_EVERYONE")
    st.advance(2)
    everything = st.deliveries()
    assert [d["event"] for d in everything] == [
        "post.publish.complete",
        "post.publish.publicly_available",
    ]
    only = st.deliveries(event="post.publish.publicly_available")
    assert [d["delivery_id"] for d in only] == [everything[1]["delivery_id"]]
    for d in everything:
        assert d["client_key"] == AUDITED and d["url"] == HOOK_URL
        assert {"delivery_id", "event", "status", "attempts", "body", "created_at"} <= set(d)
    assert st.http.get("/_sandbox/webhooks", params={"client_key": "nope"}).status_code == 404


# -- a real receiver, a served sandbox -------------------------------------------------------------


class Receiver:
    """A loopback webhook receiver: 500 for the first `fail_first` posts, then 200."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first

        def handle(request: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
            seen = len(self.server.requests)
            answer(request, 500 if seen <= self.fail_first else 200, b"thanks")

        self.server = LoopbackServer(handle)

    def bodies(self) -> list[bytes]:
        return [body for _, _, _, body in self.server.requests]


def test_a_served_sandbox_delivers_to_a_real_receiver_on_its_own(clip: bytes) -> None:
    receiver = Receiver(fail_first=1)
    with (
        receiver.server,
        studio(sender=HttpxWebhookSender(timeout_seconds=5)) as st,
    ):
        hook = receiver.server.url + "/tiktok/webhook"
        st.patch_app(AUDITED, webhook_url=hook)
        with st.sandbox.serve() as server, httpx.Client(base_url=server.url, timeout=10) as remote:
            auth = {"Authorization": f"Bearer {st.token()}"}
            init = remote.post(
                "/v2/post/publish/video/init/",
                headers=auth,
                json={"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": plan(len(clip))},
            )
            publish_id = init.json()["data"]["publish_id"]
            upload_url = init.json()["data"]["upload_url"]
            assert upload_url.startswith(server.url + "/")
            put = remote.put(
                upload_url,
                content=clip,
                headers={
                    "Content-Type": "video/mp4",
                    "Content-Range": f"bytes 0-{len(clip) - 1}/{len(clip)}",
                },
            )
            assert put.status_code == 201, put.text

            # Time moves; nobody calls the sandbox: the ticker processes and delivers.
            st.sandbox.clock.advance(2)
            assert receiver.server.wait_for(1), "the ticker did not deliver"
            # The receiver answered 500; without the clock moving there is no retry.
            assert not receiver.server.wait_for(2, timeout=0.5)
            st.sandbox.clock.advance(30)
            assert receiver.server.wait_for(2), "the retry did not come"

            method, path, headers, body = receiver.server.requests[0]
            assert (method, path) == ("POST", "/tiktok/webhook")
            assert header(headers, "Content-Type").startswith("application/json")
            verify_signature(header(headers, "TikTok-Signature"), body, SECRETS[AUDITED])
            first, second = receiver.bodies()
            assert first == second  # the duplicate is byte-identical
            envelope = json.loads(first)
            assert envelope["event"] == "post.publish.complete"
            assert json.loads(envelope["content"])["publish_id"] == publish_id

            # The sandbox records the answer just after the receiver sent it.
            deadline = time.monotonic() + 10
            while True:
                log = remote.get("/_sandbox/webhooks", params={"client_key": AUDITED}).json()
                (delivery,) = log["deliveries"]
                if delivery["status"] != "pending" or time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            assert delivery["status"] == "delivered"
            assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]
            assert delivery["attempts"][-1]["response_body"] == "thanks"
            status = remote.post(
                "/v2/post/publish/status/fetch/",
                headers=auth,
                json={"publish_id": publish_id},
            )
            assert status.json()["data"]["status"] == "PUBLISH_COMPLETE"
        assert len(receiver.server.requests) == 2
