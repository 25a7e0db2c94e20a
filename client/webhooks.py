"""Receiving TikTok's webhooks (ref 14): verify `TikTok-Signature`, then parse the event.

    event = verify_and_parse(request.headers, raw_body, CLIENT_SECRET)
    if isinstance(event, PublishFailed):
        print(event.publish_id, event.reason)

Delivery is at least once (ref 14.1): handle duplicates idempotently, and answer 200 at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from client.errors import InvalidSignature, StaleSignature
from client.tokens import Now, wall_clock

SIGNATURE_HEADER = "TikTok-Signature"  # ref 14.4; the doc's example spells it Tiktok-Signature
DEFAULT_TOLERANCE = 300.0  # ref 14.4: TikTok sets none; 300 s is what 3p receivers use


def signature_header(headers: Mapping[str, str]) -> str:
    """The signature header, whatever its casing."""
    for name, value in headers.items():
        if name.lower() == SIGNATURE_HEADER.lower():
            return value
    raise InvalidSignature(f"no {SIGNATURE_HEADER} header")


def sign(body: bytes, client_secret: str, timestamp: int) -> str:
    """ref 14.4: HMAC-SHA256(client_secret, f"{t}." + body) as lowercase hex."""
    payload = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(client_secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()


def verify_signature(
    header: str,
    body: bytes,
    client_secret: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: Now = wall_clock,
) -> int:
    """Check `t=...,s=...` against the raw body; return the signed timestamp.

    Raises InvalidSignature (malformed, or no `s` matches) or StaleSignature (`t` more than
    `tolerance` seconds from now, either way: a replay, or a clock far off).
    """
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key.strip(), []).append(value.strip())
    stamps, signatures = parts.get("t", []), parts.get("s", [])
    if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        raise InvalidSignature(f"malformed {SIGNATURE_HEADER}: {header[:100]!r}")
    timestamp = int(stamps[0])
    expected = sign(body, client_secret, timestamp)
    # Constant-time; every `s` is compared, so the time does not depend on which matched.
    matched = [
        hmac.compare_digest(expected.encode("ascii"), s.lower().encode("utf-8")) for s in signatures
    ]
    if not any(matched):
        raise InvalidSignature("the signature does not match the body")
    if abs(now() - timestamp) > tolerance:
        raise StaleSignature(f"signed at {timestamp}, outside the {tolerance:g} s tolerance")
    return timestamp


# -- events (ref 14.2, 14.3) ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class WebhookEvent:
    """ref 14.2: the envelope, with `content` (a JSON string on the wire) already parsed."""

    client_key: str
    event: str
    create_time: int
    user_openid: str | None
    content: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PublishEvent(WebhookEvent):
    publish_id: str
    publish_type: str | None  # INBOX_SHARE for uploads; DIRECT_PUBLISH (guess) for Direct Post


@dataclass(frozen=True, kw_only=True)
class PublishFailed(PublishEvent):
    reason: str  # a fail_reason (ref 11)


@dataclass(frozen=True, kw_only=True)
class PublishComplete(PublishEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class InboxDelivered(PublishEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class PubliclyAvailable(PublishEvent):
    post_id: str


@dataclass(frozen=True, kw_only=True)
class NoLongerPubliclyAvailable(PublishEvent):
    post_id: str


@dataclass(frozen=True, kw_only=True)
class AuthorizationRemoved(WebhookEvent):
    reason: int  # 0 unknown, 1 disconnected, 2 deleted, 3 age, 4 banned, 5 developer revoked


def _publish_fields(content: dict[str, Any]) -> dict[str, Any]:
    return {
        "publish_id": str(content.get("publish_id", "")),
        "publish_type": content.get("publish_type"),
    }


def parse_event(body: bytes | str) -> WebhookEvent:
    """The event as a typed object; unknown events come back as a plain WebhookEvent."""
    try:
        envelope = json.loads(body)
        content = envelope.get("content") or "{}"
        content = json.loads(content) if isinstance(content, str) else content
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"not a TikTok webhook body: {exc}") from exc
    if not isinstance(envelope, dict) or not isinstance(content, dict):
        raise ValueError("not a TikTok webhook body")
    base: dict[str, Any] = {
        "client_key": str(envelope.get("client_key", "")),
        "event": str(envelope.get("event", "")),
        "create_time": int(envelope.get("create_time") or 0),
        "user_openid": envelope.get("user_openid"),
        "content": content,
    }
    event = base["event"]
    if event == "post.publish.failed":
        # ref 14.3: the doc says `reason`; some code reads `fail_reason` (3p)
        reason = content.get("reason", content.get("fail_reason", ""))
        return PublishFailed(**base, **_publish_fields(content), reason=str(reason))
    if event == "post.publish.complete":
        return PublishComplete(**base, **_publish_fields(content))
    if event == "post.publish.inbox_delivered":
        return InboxDelivered(**base, **_publish_fields(content))
    if event == "post.publish.publicly_available":
        post_id = str(content.get("post_id", ""))
        return PubliclyAvailable(**base, **_publish_fields(content), post_id=post_id)
    if event == "post.publish.no_longer_publicaly_available":  # sic (ref 14.3)
        post_id = str(content.get("post_id", ""))
        return NoLongerPubliclyAvailable(**base, **_publish_fields(content), post_id=post_id)
    if event == "authorization.removed":
        return AuthorizationRemoved(**base, reason=int(content.get("reason") or 0))
    return WebhookEvent(**base)


def verify_and_parse(
    headers: Mapping[str, str],
    body: bytes,
    client_secret: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: Now = wall_clock,
) -> WebhookEvent:
    """Verify, then parse: nothing is parsed from a body that does not verify."""
    verify_signature(signature_header(headers), body, client_secret, tolerance=tolerance, now=now)
    return parse_event(body)
