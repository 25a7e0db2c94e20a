"""JSON views of apps, creators and grants for the control API and the CLI."""

from __future__ import annotations

from typing import Any

from mock_server.domain.caps import effective_active_creator_cap
from mock_server.domain.ids import open_id
from mock_server.domain.models import App, Creator, Grant
from mock_server.domain.settings import APP_SETTINGS, CREATOR_SETTINGS
from mock_server.domain.world import World
from mock_server.population import posts_last_24h
from mock_server.runtime.clock import format_instant


def app_json(app: App, now: float) -> dict[str, Any]:
    view = {key: getattr(app, key) for key in APP_SETTINGS}
    view["effective_active_creator_cap"] = effective_active_creator_cap(
        app.stage, app.active_creator_cap
    )
    view["active_creators_24h"] = len(app.active_creators.active(now))
    return view


def creator_json(
    world: World, creator: Creator, client_key: str | None, now: float
) -> dict[str, Any]:
    view: dict[str, Any] = {}
    if client_key is not None:
        view["open_id"] = open_id(client_key, creator.uid)
    for key in CREATOR_SETTINGS:
        view[key] = (
            posts_last_24h(creator, now) if key == "posts_last_24h" else getattr(creator, key)
        )
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
