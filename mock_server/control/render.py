"""JSON views of apps, creators and grants for the control API and the CLI."""

from __future__ import annotations

from typing import Any

from mock_server.domain.caps import effective_active_creator_cap
from mock_server.domain.faults import FaultRule
from mock_server.domain.ids import open_id
from mock_server.domain.models import App, Creator, Grant
from mock_server.domain.outcomes import Injection
from mock_server.domain.posting import pending_shares, posts_in_window
from mock_server.domain.publishing import Publish
from mock_server.domain.settings import APP_SETTINGS, CREATOR_SETTINGS
from mock_server.domain.webhooks import Delivery
from mock_server.domain.world import World
from mock_server.runtime.clock import format_instant


def app_json(app: App, now: float) -> dict[str, Any]:
    view = {key: getattr(app, key) for key in APP_SETTINGS}
    view["effective_active_creator_cap"] = effective_active_creator_cap(
        app.stage, app.active_creator_cap
    )
    view["active_creators_24h"] = len(app.active_creators.active(now))
    view["effective_pkce_required"] = app.requires_pkce
    return view


def creator_json(
    world: World, creator: Creator, client_key: str | None, now: float
) -> dict[str, Any]:
    view: dict[str, Any] = {}
    if client_key is not None:
        view["open_id"] = open_id(client_key, creator.uid)
    for key in CREATOR_SETTINGS:
        if key == "posts_last_24h":
            view[key] = posts_in_window(creator, now)
        elif key == "pending_shares":
            view[key] = pending_shares(world, creator, now)
        else:
            view[key] = getattr(creator, key)
    if client_key is None:
        view["open_ids"] = {key: open_id(key, creator.uid) for key in world.apps}
    return view


def grant_json(world: World, grant: Grant, now: float) -> dict[str, Any]:
    creator = world.creator_by_uid(grant.creator_uid)
    return {
        "grant_id": grant.grant_id,
        "client_key": grant.client_key,
        "creator": creator.username if creator else None,
        "open_id": open_id(grant.client_key, grant.creator_uid),
        "scopes": list(grant.scopes),
        "created_at": format_instant(grant.created_at),
        "refresh_expires_at": format_instant(grant.refresh_expires_at),
        "revoked": grant.revoked,
        "active": not grant.revoked and grant.refresh_expires_at > now,
    }


def publish_json(world: World, publish: Publish, base_url: str) -> dict[str, Any]:
    creator = world.creator_by_uid(publish.creator_uid)
    view: dict[str, Any] = {
        "publish_id": publish.publish_id,
        "client_key": publish.client_key,
        "creator": creator.username if creator else None,
        "open_id": open_id(publish.client_key, publish.creator_uid),
        "mode": publish.mode,
        "media_type": publish.media_type,
        "source": publish.source,
        "status": publish.status,
        "fail_reason": publish.fail_reason,
        "privacy_level": publish.privacy_level,
        "requested_privacy_level": publish.requested_privacy_level,
        "post_info": publish.post_info,
        "created_at": format_instant(publish.created_at),
        "decided_by": publish.decided_by,
        "uploaded_bytes": publish.uploaded_bytes,
        "received_bytes": publish.received_bytes,
        "media_bytes": publish.media_bytes,
        "check_result": publish.check_result,
        "injected_fail_reason": publish.injected_fail_reason,
        "public": publish.public,
        "post_ids": list(publish.post_ids),
        "timeline": [{"status": s, "at": format_instant(at)} for s, at in publish.timeline],
        "discarded_at": (
            format_instant(publish.discarded_at) if publish.discarded_at is not None else None
        ),
    }
    if publish.source == "FILE_UPLOAD":
        view |= {
            "video_size": publish.video_size,
            "chunk_size": publish.chunk_size,
            "total_chunk_count": publish.total_chunk_count,
            "upload_url": base_url + publish.upload_path,
            "upload_expires_at": format_instant(publish.upload_expires_at or 0),
        }
    elif publish.media_type == "PHOTO":
        view |= {
            "photo_images": publish.photo_images,
            "photo_cover_index": publish.photo_cover_index,
        }
    else:
        view["video_url"] = publish.video_url
    return view


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "delivery_id": delivery.delivery_id,
        "client_key": delivery.client_key,
        "event": delivery.event,
        "url": delivery.url,
        "status": delivery.status,
        "dropped_reason": delivery.dropped_reason,
        "created_at": format_instant(delivery.created_at),
        "next_attempt_at": (
            format_instant(delivery.next_attempt_at) if delivery.next_attempt_at else None
        ),
        "body": delivery.body.decode(),
        "attempts": [
            {
                "at": format_instant(a.at),
                "signature": a.signature,
                "status_code": a.status_code,
                "error": a.error,
                "response_body": a.response_body,
            }
            for a in delivery.attempts
        ],
    }


def injection_json(world: World, injection: Injection) -> dict[str, Any]:
    creator = world.creator_by_uid(injection.creator_uid) if injection.creator_uid else None
    return {
        "fail_reason": injection.fail_reason,
        "client_key": injection.client_key,
        "creator": creator.username if creator else None,
        "count": injection.remaining,
    }


def fault_json(world: World, rule: FaultRule) -> dict[str, Any]:
    creator = world.creator_by_uid(rule.creator_uid) if rule.creator_uid else None
    return {
        "id": rule.rule_id,
        "action": rule.action,
        "endpoint": rule.endpoint,
        "client_key": rule.client_key,
        "creator": creator.username if creator else None,
        "nth": rule.nth,
        "probability": rule.probability,
        "times": rule.times,
        "status": rule.status,
        "error_code": rule.error_code,
        "message": rule.message,
        "latency": rule.latency,
        "seen": rule.seen,
        "fired": rule.fired,
    }
