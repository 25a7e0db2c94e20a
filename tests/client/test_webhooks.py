"""Webhook verification (ref 14.4) and parsing (ref 14.2, 14.3), including what the sandbox
really sends."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from client import PostInfo, TikTokClient
from client.errors import InvalidSignature, StaleSignature
from client.webhooks import (
    AuthorizationRemoved,
    PubliclyAvailable,
    PublishComplete,
    PublishFailed,
    WebhookEvent,
    parse_event,
    sign,
    verify_and_parse,
    verify_signature,
)
from mock_server import Clock, Sandbox
from mock_server.runtime.webhooks import RecordingWebhookSender
from tests.client.conftest import APP, BASE, SECRET, VirtualTime, issue_token

T = 1_767_225_600
BODY = json.dumps(
    {
        "client_key": APP,
        "event": "post.publish.failed",
        "create_time": T,
        "user_openid": "oid",
        "content": json.dumps({"publish_id": "v_pub_file~v2-1.1", "reason": "spam_risk_text"}),
    }
).encode()


def header(body: bytes = BODY, t: int = T, secret: str = SECRET) -> str:
    return f"t={t},s={sign(body, secret, t)}"


def test_a_good_signature_verifies_and_the_event_is_typed() -> None:
    assert verify_signature(header(), BODY, SECRET, now=lambda: T + 10) == T
    event = verify_and_parse({"Tiktok-Signature": header()}, BODY, SECRET, now=lambda: T)
    assert isinstance(event, PublishFailed)
    assert (event.publish_id, event.reason, event.user_openid) == (
        "v_pub_file~v2-1.1",
        "spam_risk_text",
        "oid",
    )


@pytest.mark.parametrize(
    "bad",
    [
        header(secret="another-secret"),
        header().replace("s=", "s=0"),
        f"t={T}",
        "s=abc",
        f"t=yesterday,s={sign(BODY, SECRET, T)}",
        "",
    ],
)
def test_a_bad_signature_is_refused(bad: str) -> None:
    with pytest.raises(InvalidSignature):
        verify_signature(bad, BODY, SECRET, now=lambda: T)


def test_a_tampered_body_is_refused() -> None:
    tampered = BODY.replace(b"spam_risk_text", b"internal")
    with pytest.raises(InvalidSignature):
        verify_signature(header(), tampered, SECRET, now=lambda: T)
    with pytest.raises(InvalidSignature):
        verify_and_parse({}, BODY, SECRET, now=lambda: T)  # no header at all


def test_a_stale_or_future_timestamp_is_refused() -> None:
    verify_signature(header(), BODY, SECRET, now=lambda: T + 300)  # at the edge: fine
    with pytest.raises(StaleSignature):
        verify_signature(header(), BODY, SECRET, now=lambda: T + 301)
    with pytest.raises(StaleSignature):
        verify_signature(header(), BODY, SECRET, now=lambda: T - 301)
    verify_signature(header(), BODY, SECRET, tolerance=3600, now=lambda: T + 3000)


def test_events_parse_to_their_types() -> None:
    def body(event: str, content: dict[str, object]) -> bytes:
        envelope = {"client_key": APP, "event": event, "create_time": T, "user_openid": "o"}
        return json.dumps(envelope | {"content": json.dumps(content)}).encode()

    removed = parse_event(body("authorization.removed", {"reason": 5}))
    assert isinstance(removed, AuthorizationRemoved) and removed.reason == 5
    public = parse_event(
        body("post.publish.publicly_available", {"publish_id": "p", "post_id": 7123456789012345678})
    )
    assert isinstance(public, PubliclyAvailable) and public.post_id == "7123456789012345678"
    other = parse_event(body("portability.download.ready", {"request_id": 1}))
    assert type(other) is WebhookEvent and other.content == {"request_id": 1}
    with pytest.raises(ValueError):
        parse_event(b"not json")


def test_what_the_sandbox_sends_verifies(video: Path) -> None:
    sender = RecordingWebhookSender()
    sandbox = Sandbox(
        clock=Clock.frozen_at(datetime(2026, 1, 1, tzinfo=UTC)), webhook_sender=sender
    )
    vtime = VirtualTime(sandbox)
    with sandbox.client() as control:
        control.patch(
            f"/_sandbox/apps/{APP}", json={"webhook_url": "https://hooks.acme.example/tt"}
        ).raise_for_status()
    client = TikTokClient(
        APP,
        SECRET,
        token=issue_token(sandbox),
        base_url=BASE,
        transport=sandbox.transport(),
        sleep=vtime.sleep,
        now=vtime.now,
    )
    with client:
        publish = client.post_video(video, PostInfo(privacy_level="SELF_ONLY"))
        client.wait_for_publish(publish)
    sandbox.advance(1)
    sandbox.close()
    assert sender.sent
    for sent in sender.sent:
        event = verify_and_parse(sent.headers, sent.body, SECRET, now=vtime.now)
        assert event.client_key == APP
    completes = [
        e for e in (parse_event(s.body) for s in sender.sent) if isinstance(e, PublishComplete)
    ]
    assert [e.publish_id for e in completes] == [publish.publish_id]
