"""What the dashboard shows, as plain data for its templates: apps with their caps and rate-limit
windows, creators as the TikTok app shows them, publishes as timelines, the journal (filtered)
and webhook deliveries. Built under the sandbox's lock from the same domain functions the API
uses; nothing here changes state."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import islice
from typing import Any
from urllib.parse import urlencode

from mock_server.control.explain import fail_reason_meaning, rule_doc
from mock_server.control.render import grant_json
from mock_server.domain import properties
from mock_server.domain.caps import effective_active_creator_cap
from mock_server.domain.changes import peek
from mock_server.domain.endpoints import ENDPOINTS, endpoint_of
from mock_server.domain.models import App, Creator
from mock_server.domain.posting import PENDING_SHARE_CAP, pending_shares, posts_in_window
from mock_server.domain.publishing import (
    DIRECT_POST,
    FAILED,
    PHOTO,
    PRIVACY_OPTIONS,
    PUBLISH_COMPLETE,
    SEND_TO_USER_INBOX,
    Publish,
)
from mock_server.domain.ratelimit import RATE_LIMITS, WINDOW_SECONDS, tokens_in_use
from mock_server.domain.webhooks import Delivery
from mock_server.domain.world import World
from mock_server.runtime.journal import JournalEntry

MAX_PUBLISHES = 50
MAX_ENTRIES = 50
MAX_DELIVERIES = 30
MAX_GRID = 12
MAX_INBOX = 20
MAX_TOKENS = 10
# A sandbox may hold 1,000 apps and 10,000 creators: the page shows the first of them (a poll
# a second must stay cheap), and says how many there are.
MAX_APPS = 100
MAX_CREATORS = 100
MAX_APP_CREATORS = 20  # per app card
MAX_GRANTS = 100
MAX_FILTER_CHARS = 200

# The TikTok app's names for the privacy levels ("Who can watch this video").
PRIVACY_NAMES = {
    "PUBLIC_TO_EVERYONE": "Everyone",
    "MUTUAL_FOLLOW_FRIENDS": "Friends",
    "FOLLOWER_OF_CREATOR": "Followers",
    "SELF_ONLY": "Only you",
}
CONTROL = "control"  # the journal filter for the sandbox's own /_sandbox/ requests
_STATUS = re.compile(r"[1-5](\d\d|xx)|refused")
# ref 7.3, 8, 9: publish ids (`v_pub_file~v2-1.7123...`), and the upload_url's upload_id.
_PUBLISH_ID = re.compile(r"[vp]_(?:pub|inbox)_(?:file|url)~v2(?:-1)?\.\d+")
_UPLOAD_ID = re.compile(r"upload_id=(\d+)")
_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


class BadFilter(ValueError):
    """A dashboard query that names nothing the dashboard can show (a 400)."""


def when(ts: float | None) -> str:
    """A sandbox instant as a person reads it (UTC, to the second)."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def publish_label(publish: Publish) -> str:
    """How a person names a publish: the start of its caption, or what it is."""
    info = publish.post_info
    for key in ("title", "description"):
        text = info.get(key)
        if isinstance(text, str) and text.strip():
            words = " ".join(text.split())
            return f"“{words[:60]}…”" if len(words) > 60 else f"“{words}”"
    kind = "photo post" if publish.media_type == PHOTO else "video"
    return f"Untitled {kind}" if publish.mode == DIRECT_POST else f"Inbox {kind}"


# -- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The dashboard's query: which app, publish, endpoint and status its lists show."""

    app: str = ""
    publish: str = ""
    endpoint: str = ""
    status: str = ""

    @classmethod
    def parse(cls, query: Mapping[str, str], world: World) -> Filters:
        values = {}
        for name in ("app", "publish", "endpoint", "status"):
            value = query.get(name, "").strip()
            if len(value) > MAX_FILTER_CHARS:
                raise BadFilter(f"{name}: at most {MAX_FILTER_CHARS} characters")
            values[name] = value
        filters = cls(**values)
        if filters.app and filters.app not in world.apps:
            raise BadFilter(f"app: no app with client_key {filters.app!r}")
        if filters.publish and filters.publish not in world.publishes:
            raise BadFilter(
                f"publish: no publish with publish_id {filters.publish!r} (a reset, or the "
                "sandbox let it go)"
            )
        if filters.endpoint and filters.endpoint not in (*ENDPOINTS, CONTROL):
            raise BadFilter(f"endpoint: expected one of {', '.join([*ENDPOINTS, CONTROL])}")
        if filters.status and not (
            _STATUS.fullmatch(filters.status) or _CODE.fullmatch(filters.status)
        ):
            raise BadFilter(
                "status: an HTTP status (429), a class (4xx), refused, or an error code "
                "(spam_risk_too_many_posts)"
            )
        return filters

    def url(self, **changes: str) -> str:
        """The dashboard's URL with these filters, changed by `changes`."""
        pairs = {k: v for k, v in vars(replace(self, **changes)).items() if v}
        return "/_sandbox/" + ("?" + urlencode(pairs) if pairs else "")

    @property
    def active(self) -> bool:
        return any(vars(self).values())


def publishes_of(entry: JournalEntry, uploads: Mapping[str, str]) -> set[str]:
    """The publishes a journal entry is about: ids in its path, query or bodies, and the
    publish behind an upload_url's upload_id."""
    found = set()
    for text in (entry.path, entry.query, entry.request_body, entry.response_body):
        found.update(_PUBLISH_ID.findall(text))
    for upload_id in _UPLOAD_ID.findall(entry.query):
        if upload_id in uploads:
            found.add(uploads[upload_id])
    return found


def _entry_matches(entry: JournalEntry, filters: Filters, about: set[str]) -> bool:
    if filters.app and entry.client_key != filters.app:
        return False
    if filters.endpoint:
        if filters.endpoint == CONTROL:
            if not entry.path.startswith("/_sandbox"):
                return False
        elif endpoint_of(entry.path) != filters.endpoint:
            return False
    status = filters.status
    if status:
        if status == "refused":
            if not refused(entry):
                return False
        elif _STATUS.fullmatch(status):
            text = str(entry.status)
            if not all(s in ("x", t) for s, t in zip(status, text, strict=False)):
                return False
        elif entry.error_code != status:
            return False
    return not filters.publish or filters.publish in about


def refused(entry: JournalEntry) -> bool:
    return entry.status >= 400 or entry.error_code not in (None, "ok")


def _delivery_publishes(delivery: Delivery) -> set[str]:
    return set(_PUBLISH_ID.findall(delivery.body.decode("utf-8", "replace")))


# -- the views -------------------------------------------------------------------------------


def _cap(used: int, cap: int | None) -> dict[str, Any]:
    return {"used": used, "cap": cap, "left": None if cap is None else max(cap - used, 0)}


def app_view(
    world: World, app: App, now: float, grants: Iterable[Any], recent: Container[str] = ()
) -> dict[str, Any]:
    """`recent`: the tokens the rate limiter holds hits of (only those can have windows)."""
    creators: dict[str, Creator] = {}  # the ones listed
    authorized: dict[str, str] = {}  # uid -> username, of every one

    def count(uid: str) -> str | None:
        """Count the creator `uid` (listed while fewer than MAX_APP_CREATORS are); its
        username, None when it is not there."""
        username = authorized.get(uid)
        if username is None:
            creator = world.creator_by_uid(uid)
            if creator is None:
                return None
            username = authorized[uid] = creator.username
            if len(creators) < MAX_APP_CREATORS:
                creators[username] = creator
        return username

    tokens: list[dict[str, Any]] = []
    live_tokens = 0
    for grant in grants:
        username = None if grant.revoked else count(grant.creator_uid)
        if username is None:
            continue
        for token in reversed(grant.access_tokens):
            record = peek(world.access_tokens, token)
            if record is None or record.expires_at <= now:
                continue
            live_tokens += 1
            if len(tokens) >= MAX_TOKENS or token not in recent:
                continue
            windows = _windows(world, token, now)
            if windows:
                tokens.append(
                    {
                        "token": token[:14] + "…",
                        "creator": username,
                        "expires_at": when(record.expires_at),
                        "windows": windows,
                    }
                )
    for uid in app.active_creators.active(now):
        count(uid)
    cap = effective_active_creator_cap(app.stage, app.active_creator_cap)
    return {
        "name": app.name,
        "client_key": app.client_key,
        "client_secret": app.client_secret,
        "stage": app.stage,
        "platform": app.platform,
        "scopes": list(app.scopes),
        "direct_post_enabled": app.direct_post_enabled,
        "redirect_uris": list(app.redirect_uris),
        "webhook_url": app.webhook_url,
        "active_creators": _cap(len(app.active_creators.active(now)), cap),
        "creators": [
            {
                "username": c.username,
                "posts": _cap(posts_in_window(c, now), c.daily_post_cap),
                "pending": _cap(pending_shares(world, c, now), PENDING_SHARE_CAP),
            }
            for c in creators.values()
        ],
        "creators_more": len(authorized) - len(creators),
        "tokens": tokens,
        "quiet_tokens": live_tokens - len(tokens),
    }


def _windows(world: World, token: str, now: float) -> list[dict[str, Any]]:
    """ref 4.3: each endpoint's one-minute window for this token, where it was used."""
    windows = []
    for endpoint, limit in RATE_LIMITS.items():
        hits = world.limiter.admitted((endpoint, token), now)
        if hits:
            windows.append(
                {
                    "endpoint": endpoint,
                    **_cap(len(hits), limit),
                    "frees_at": when(hits[0] + WINDOW_SECONDS),
                }
            )
    return windows


def _tile(publish: Publish, covers: Any) -> dict[str, Any]:
    level = publish.privacy_level or ""
    if publish.public:
        visibility = "public"
    elif level == "PUBLIC_TO_EVERYONE" and not publish.post_ids:
        visibility = "in review"
    elif publish.post_ids:
        visibility = "taken down"
    else:
        visibility = PRIVACY_NAMES.get(level, level).lower()
    return {
        "publish_id": publish.publish_id,
        "label": publish_label(publish),
        "media_type": publish.media_type,
        "privacy": level,
        "privacy_name": PRIVACY_NAMES.get(level, level or "not set"),
        "visibility": visibility,
        "cover": covers.get(publish.publish_id) is not None,
        "at": when(publish.timeline[-1][1] if publish.timeline else publish.created_at),
    }


def creator_views(world: World, now: float, covers: Any) -> list[dict[str, Any]]:
    shown = list(islice(world.creators.values(), MAX_CREATORS))
    grids: dict[str, list[Publish]] = {c.uid: [] for c in shown}
    inboxes: dict[str, list[Publish]] = {uid: [] for uid in grids}
    counts: dict[str, int] = dict.fromkeys(grids, 0)
    for uid in grids:
        for publish in world.iter_publishes(uid, newest_first=True):
            _place(publish, grids[uid], inboxes[uid], counts)
    views = []
    for c in shown:
        views.append(
            {
                "uid": c.uid,
                "username": c.username,
                "nickname": c.nickname,
                "account": c.account,
                "verified": c.is_verified,
                "banned": c.banned,
                "app_version": c.app_version,
                "max_duration": c.max_video_post_duration_sec,
                "interactions_off": [
                    name
                    for name, off in (
                        ("comments", c.comment_disabled),
                        ("duet", c.duet_disabled),
                        ("stitch", c.stitch_disabled),
                    )
                    if off
                ],
                "posts": _cap(posts_in_window(c, now), c.daily_post_cap),
                "pending": _cap(pending_shares(world, c, now), PENDING_SHARE_CAP),
                "grid": [_tile(p, covers) for p in grids[c.uid]],
                "grid_more": counts[c.uid] - len(grids[c.uid]),
                "inbox": [
                    {**_tile(p, covers), "app": _app_name(world, p.client_key)}
                    for p in inboxes[c.uid]
                ],
                "privacy_options": list(PRIVACY_OPTIONS[c.account]),
            }
        )
    return views


def _place(
    publish: Publish, grid: list[Publish], inbox: list[Publish], counts: dict[str, int]
) -> None:
    """A creator's publish, newest first: on its grid (posted), or in its inbox (a draft)."""
    if publish.status == PUBLISH_COMPLETE:
        counts[publish.creator_uid] += 1
        if len(grid) < MAX_GRID:
            grid.append(publish)
    elif (
        publish.status == SEND_TO_USER_INBOX
        and publish.discarded_at is None
        and len(inbox) < MAX_INBOX
    ):
        inbox.append(publish)


def _app_name(world: World, client_key: str) -> str:
    app = world.apps.get(client_key)
    return app.name if app else client_key


def available_actions(publish: Publish, creator: Creator | None) -> list[str]:
    """The creator-side actions that make sense for the publish now: Post and Discard for a
    draft in the inbox, take down a public post, make public a completed post that is not (a
    public one still in moderation already will be), and disconnect the app mid-process."""
    actions = []
    if publish.status == SEND_TO_USER_INBOX and publish.discarded_at is None:
        actions += ["post_draft", "discard_draft"]
    if publish.public:
        actions.append("take_down")
    elif (
        publish.status == PUBLISH_COMPLETE
        and creator is not None
        and creator.account == "public"
        and (publish.post_ids or publish.privacy_level != "PUBLIC_TO_EVERYONE")
    ):
        actions.append("restore")
    if not publish.final and publish.discarded_at is None:
        actions.append("revoke_app")
    return actions


def _init_path(publish: Publish) -> str:
    if publish.media_type == PHOTO:
        return ENDPOINTS["content_init"]
    return ENDPOINTS["video_init" if publish.mode == DIRECT_POST else "inbox_video_init"]


def _decision(publish: Publish) -> tuple[str, str | None]:
    """What decided the publish's outcome so far, and the TikTok page behind it."""
    reason = publish.fail_reason
    if publish.status != FAILED or reason is None:
        return (
            f"init {publish.decided_by or 'accepted'} by every rule",
            rule_doc(None, _init_path(publish)),
        )
    if reason == publish.injected_fail_reason:
        return "an injected outcome (scenario or /_sandbox/outcomes)", None
    if reason == publish.check_result:
        return "the media check", rule_doc("chunk_", "")
    if reason == "auth_removed":
        return "authorization removed (revoke)", rule_doc("token_", "")
    if reason == "publish_cancelled":
        return "cancel by the developer", rule_doc(None, ENDPOINTS["cancel"])
    if reason.endswith("_pull_failed"):
        return "the pull from the URL", rule_doc("url_ownership", "")
    return "a control action (fail)", None


def publish_view(
    world: World,
    publish: Publish,
    covers: Any,
    journal_counts: Mapping[str, int],
    webhook_counts: Mapping[str, int],
) -> dict[str, Any]:
    creator = world.creator_by_uid(publish.creator_uid)
    decided, doc = _decision(publish)
    timeline = [{"status": s, "at": when(at)} for s, at in publish.timeline]
    if publish.discarded_at is not None:
        timeline.append({"status": "DISCARDED by the creator", "at": when(publish.discarded_at)})
    if publish.public:
        timeline.append({"status": "publicly available", "at": ""})
    return {
        **_tile(publish, covers),
        "client_key": publish.client_key,
        "app": _app_name(world, publish.client_key),
        "creator": creator.username if creator else "",
        "mode": publish.mode,
        "source": publish.source,
        "status": publish.status,
        "created_at": when(publish.created_at),
        "timeline": timeline,
        "decided": decided,
        "doc": doc,
        "fail_reason": publish.fail_reason,
        "fail_meaning": fail_reason_meaning(publish.fail_reason),
        "requested_privacy": publish.requested_privacy_level or "",
        "post_ids": list(publish.post_ids),
        "public": publish.public,
        "discarded": publish.discarded_at is not None,
        "actions": available_actions(publish, creator),
        "privacy_options": list(PRIVACY_OPTIONS[creator.account if creator else "public"]),
        "journal_count": journal_counts.get(publish.publish_id, 0),
        "webhook_count": webhook_counts.get(publish.publish_id, 0),
    }


def entry_view(entry: JournalEntry) -> dict[str, Any]:
    is_refused = refused(entry)
    return {
        "seq": entry.seq,
        "time": entry.time.replace("T", " ").rstrip("Z"),
        "method": entry.method,
        "path": entry.path,
        "query": entry.query,
        "status": entry.status,
        "app": entry.client_key or "",
        "creator": entry.creator or "",
        "code": entry.error_code or "",
        "rule": entry.rule or "",
        "fault": entry.fault or "",
        "refused": is_refused,
        "doc": rule_doc(entry.rule, entry.path) if is_refused else None,
    }


def delivery_view(world: World, delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.delivery_id,
        "event": delivery.event,
        "app": _app_name(world, delivery.client_key),
        "client_key": delivery.client_key,
        "url": delivery.url,
        "status": delivery.status,
        "dropped_reason": delivery.dropped_reason or "",
        "created_at": when(delivery.created_at),
        "next_attempt_at": when(delivery.next_attempt_at),
        "body": delivery.body.decode("utf-8", "replace"),
        "attempts": [
            {
                "at": when(a.at),
                "answer": str(a.status_code) if a.status_code is not None else (a.error or ""),
                "ok": a.status_code is not None and 200 <= a.status_code < 300,
            }
            for a in delivery.attempts
        ],
    }


def property_views(world: World) -> list[dict[str, Any]]:
    """Each app's URL properties (ref 10.4) and how to prove the pending ones."""
    views = []
    for app in world.apps.values():
        rows = []
        for prop in properties.views(app):
            proof = ""
            if prop["status"] != "verified":
                if prop["type"] == "domain":
                    proof = f"TXT record of {prop['value']}: {prop['signature']}"
                else:
                    proof = f"serve {prop['signature_file_url']} holding {prop['signature']}"
            rows.append({**prop, "proof": proof})
        views.append({"client_key": app.client_key, "name": app.name, "properties": rows})
    return views


def board(
    world: World,
    now: float,
    filters: Filters,
    covers: Any,
    journal: list[JournalEntry],
) -> dict[str, Any]:
    """Everything the live part of the dashboard shows; `journal` is newest first."""
    apps = list(
        islice(
            (a for a in world.apps.values() if not filters.app or a.client_key == filters.app),
            MAX_APPS,
        )
    )
    # The grants of the apps shown, from the index of grants by app and creator: not a walk
    # through every grant.
    shown = {app.client_key for app in apps}
    grants_by_app: dict[str, list[Any]] = {}
    for (client_key, _), grant_ids in world.grants_by_pair.items():
        if client_key in shown:
            grants_by_app.setdefault(client_key, []).extend(
                grant for i in grant_ids if (grant := peek(world.grants, i)) is not None
            )
    recent = tokens_in_use(world.limiter)
    journal_counts: Counter[str] = Counter()
    matching = []
    for entry in journal:
        about = publishes_of(entry, world.uploads)
        journal_counts.update(about)
        if _entry_matches(entry, filters, about):
            matching.append(entry)
    webhook_counts: Counter[str] = Counter()
    deliveries = []
    for delivery in reversed(world.outbox.in_order(filters.app or None)):
        about = _delivery_publishes(delivery)
        webhook_counts.update(about)
        if not filters.publish or filters.publish in about:
            deliveries.append(delivery)
    publishes = []
    for publish in reversed(world.publishes.values()):
        if filters.app and publish.client_key != filters.app:
            continue
        if filters.publish and publish.publish_id != filters.publish:
            continue
        publishes.append(publish)
        if len(publishes) == MAX_PUBLISHES:
            break
    return {
        "apps": [
            app_view(world, app, now, grants_by_app.get(app.client_key, ()), recent) for app in apps
        ],
        "apps_total": len(world.apps) if not filters.app else 1,
        "creators": creator_views(world, now, covers),
        "creators_total": len(world.creators),
        "grants": [
            grant_json(world, g, now) for g in islice(reversed(world.grants.values()), MAX_GRANTS)
        ],
        "grants_total": len(world.grants),
        "publishes": [
            publish_view(world, p, covers, journal_counts, webhook_counts) for p in publishes
        ],
        "publish_total": len(world.publishes),
        "entries": [entry_view(e) for e in matching[:MAX_ENTRIES]],
        "entries_matching": len(matching),
        "entries_total": len(journal),
        "deliveries": [delivery_view(world, d) for d in deliveries[:MAX_DELIVERIES]],
        "deliveries_matching": len(deliveries),
        "url_properties": property_views(world),
    }
