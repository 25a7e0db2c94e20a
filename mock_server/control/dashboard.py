"""`GET /_sandbox/`: an HTML view of apps, creators, grants, publishes (with the creator-side
actions as buttons), webhook deliveries, the clock and the journal."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import Response

from mock_server.api.http import base_url, sandbox
from mock_server.control.render import grant_json
from mock_server.domain import properties
from mock_server.domain.caps import effective_active_creator_cap
from mock_server.domain.posting import posts_in_window
from mock_server.domain.publishing import PUBLISH_COMPLETE, SEND_TO_USER_INBOX, Publish
from mock_server.domain.signed_urls import UrlCheck, check
from mock_server.domain.text import plain_decimal
from mock_server.domain.videos import find_cover
from mock_server.domain.world import World
from mock_server.pages import (
    action_buttons,
    add_property_form,
    avatar_svg,
    layout,
    table,
    verify_property_form,
)
from mock_server.responses import HTMLResponse

# The purpose the dashboard's form tokens are issued for (checked by the actions endpoint).
DASHBOARD_FORMS = "dashboard"


async def dashboard(request: Request) -> Response:
    state = sandbox(request)
    base = base_url(request)
    form_token = state.form_tokens.issue(DASHBOARD_FORMS)
    with state.lock:
        now = state.now()
        world = state.world
        apps = table(
            [
                "name",
                "client_key",
                "client_secret",
                "stage",
                "scopes",
                "redirect URIs",
                "active creators 24 h",
            ],
            [
                [
                    a.name,
                    a.client_key,
                    a.client_secret,
                    a.stage,
                    ", ".join(a.scopes),
                    " ".join(a.redirect_uris),
                    f"{len(a.active_creators.active(now))} / "
                    f"{effective_active_creator_cap(a.stage, a.active_creator_cap) or '-'}",
                ]
                for a in world.apps.values()
            ],
        )
        creators = table(
            [
                "username",
                "nickname",
                "account",
                "comments/duet/stitch off",
                "max duration",
                "banned",
                "app version",
                "posts 24 h / cap",
            ],
            [
                [
                    c.username,
                    c.nickname,
                    c.account,
                    "/".join(
                        "yes" if f else "no"
                        for f in (c.comment_disabled, c.duet_disabled, c.stitch_disabled)
                    ),
                    f"{c.max_video_post_duration_sec} s",
                    "yes" if c.banned else "no",
                    c.app_version,
                    f"{posts_in_window(c, now)} / {c.daily_post_cap}",
                ]
                for c in world.creators.values()
            ],
        )
        grants = table(
            ["app", "creator", "scopes", "refresh expires", "state"],
            [
                [
                    g["client_key"],
                    g["creator"],
                    ", ".join(g["scopes"]),
                    g["refresh_expires_at"],
                    "revoked" if g["revoked"] else "active" if g["active"] else "expired",
                ]
                for g in (grant_json(world, grant, now) for grant in world.grants.values())
            ],
        )
        url_properties = _url_properties(world, form_token)
        first = next(iter(world.apps.values()), None)
        example = ""
        if first is not None and first.redirect_uris and ":*" not in first.redirect_uris[0]:
            link = (
                f"{base}/v2/auth/authorize/?client_key={first.client_key}"
                f"&scope=user.info.basic&redirect_uri={first.redirect_uris[0]}"
                "&state=demo&response_type=code"
            )
            example = f"<p>Try the consent page: <a href='{escape(link)}'>{escape(link)}</a></p>"
        publishes = table(
            [
                "publish_id",
                "app",
                "creator",
                "mode",
                "source",
                "status",
                "privacy",
                "post ids",
                "actions",
            ],
            [
                [
                    p.publish_id,
                    p.client_key,
                    _username(world, p.creator_uid),
                    p.mode,
                    p.source,
                    p.status + (f" ({p.fail_reason})" if p.fail_reason else ""),
                    p.privacy_level or "",
                    " ".join(p.post_ids) + (" public" if p.public else ""),
                    action_buttons(p.publish_id, available_actions(p), form_token),
                ]
                for p in list(reversed(world.publishes.values()))[:50]
            ],
        )
        deliveries = table(
            ["event", "app", "url", "status", "attempts", "last answer"],
            [
                [
                    d.event,
                    d.client_key,
                    d.url,
                    d.status,
                    len(d.attempts),
                    (d.attempts[-1].status_code or d.attempts[-1].error) if d.attempts else "",
                ]
                for d in list(reversed(world.outbox.all()))[:50]
            ],
        )
    entries = state.journal.entries(limit=50)
    journal = table(
        ["#", "time", "request", "status", "app", "code", "rule"],
        [
            [
                e.seq,
                e.time,
                f"{e.method} {e.path}",
                e.status,
                e.client_key or "",
                e.error_code or "",
                e.rule or "",
            ]
            for e in entries
        ],
    )
    clock = f"{state.clock.isoformat()}{' (frozen)' if state.clock.frozen else ''}"
    body = (
        f"<h1>tiktok-sandbox</h1><p class=muted>Scenario <b>{escape(state.scenario.name)}</b>, "
        f"seed {state.seed}, clock {escape(clock)}. API base URL <code>{escape(base)}</code>.</p>"
        "<p><a href='/_sandbox/audit.html'>Audit readiness of each app</a></p>"
        f"{example}<h2>Apps</h2>{apps}"
        f"<h2 id=url-properties>URL properties</h2>{url_properties}"
        f"<h2>Creators</h2>{creators}<h2>Grants</h2>{grants}"
        f"<h2>Publishes (newest first)</h2>{publishes}<h2>Webhook deliveries</h2>{deliveries}"
        f"<h2>Journal (newest first)</h2>{journal}"
    )
    return HTMLResponse(layout("tiktok-sandbox dashboard", body))


def _url_properties(world: World, form_token: str) -> str:
    """Each app's domains and URL prefixes (ref 10.4), how to prove each, and a form to add
    one. PULL_FROM_URL takes media only from verified ones."""
    rows = []
    for app in world.apps.values():
        for prop in properties.views(app):
            proof = ""
            if prop["status"] != "verified":
                if prop["type"] == "domain":
                    proof = f"TXT record of {prop['value']}: {prop['signature']}"
                else:
                    proof = f"serve {prop['signature_file_url']} holding {prop['signature']}"
            action = (
                verify_property_form(app.client_key, str(prop["id"]), str(prop["type"]), form_token)
                if prop["status"] != "verified"
                else ""
            )
            rows.append(
                [app.client_key, prop["type"], prop["value"], prop["status"], proof, action]
            )
        rows.append([app.client_key, "", add_property_form(app.client_key, form_token), "", "", ""])
    return table(["app", "type", "value", "status", "to verify", ""], rows)


def _username(world: World, uid: str) -> str:
    creator = world.creator_by_uid(uid)
    return creator.username if creator else ""


def available_actions(publish: Publish) -> list[str]:
    """The creator-side actions that the publish's state allows, for the dashboard."""
    actions = []
    if publish.status == SEND_TO_USER_INBOX:
        actions.append("post_draft")
    if publish.public:
        actions.append("take_down")
    elif publish.status == PUBLISH_COMPLETE:
        actions.append("restore")
    if not publish.final:
        actions.append("revoke_app")
    return actions


def refused_image(verdict: UrlCheck) -> Response:
    """What a CDN answers an expired or forged signed URL: 403 (TikTok's `x-expires` URLs)."""
    expired = verdict is UrlCheck.EXPIRED
    why = "has expired" if expired else "carries a signature that does not match"
    return Response(f"403 Forbidden: this URL {why}", status_code=403, media_type="text/plain")


async def avatar(request: Request) -> Response:
    """An avatar image; a signed URL (`creator_avatar_url`) only until it expires."""
    state = sandbox(request)
    uid = request.path_params["uid"]
    with state.lock:
        verdict = check(
            state.world.ids.url_key, request.url.path, dict(request.query_params), state.now()
        )
    if verdict in (UrlCheck.EXPIRED, UrlCheck.BAD_SIGNATURE):
        return refused_image(verdict)
    size_text = request.query_params.get("size", "")
    # Any size that is not 1-2048 in ASCII digits ("²" is a digit to str.isdigit) is the default.
    asked = plain_decimal(size_text, max_digits=4)
    size = asked if asked is not None and 0 < asked <= 2048 else 168
    with state.lock:
        creator = state.world.creator_by_uid(uid)
    if creator is None:
        return Response("no such avatar", status_code=404, media_type="text/plain")
    return Response(avatar_svg(creator, size), media_type="image/svg+xml")


async def cover(request: Request) -> Response:
    """A video's cover frame (`cover_image_url`, ref 5.1): only under a live signed URL."""
    state = sandbox(request)
    with state.lock:
        verdict = check(
            state.world.ids.url_key, request.url.path, dict(request.query_params), state.now()
        )
        video = find_cover(state.world, request.path_params["video_id"])
    if verdict is not UrlCheck.OK:
        return refused_image(UrlCheck.BAD_SIGNATURE if verdict is UrlCheck.UNSIGNED else verdict)
    jpeg = state.covers.get(video.publish_id) if video is not None else None
    if jpeg is None:
        return Response("no such cover", status_code=404, media_type="text/plain")
    return Response(jpeg, media_type="image/jpeg")
