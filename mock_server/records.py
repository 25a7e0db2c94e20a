"""Typed views of what a sandbox saw and did, for tests to assert on.

The records carry the control API's fields (docs/control-api.md: journal entries, publishes,
webhook deliveries) as frozen dataclasses, so a test reads `publish.status`, not
`view["data"]["status"]`. `Sandbox.journal()`, `.publishes()` and `.webhooks()` return them,
oldest first: in the order things happened.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from mock_server.control.render import delivery_json, publish_json
from mock_server.domain.changes import peek
from mock_server.domain.endpoints import ENDPOINTS, endpoint_of
from mock_server.runtime.journal import JournalEntry
from mock_server.state import SandboxState


def _known(record: type, view: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of `view` that `record` has: a view may grow fields records do not carry."""
    names = {f.name for f in dataclasses.fields(record)}
    return {k: v for k, v in view.items() if k in names}


class TokenResponse(TypedDict):
    """The JSON body of a successful `POST /v2/oauth/token/` (ref 2.4)."""

    access_token: str
    expires_in: int
    open_id: str
    refresh_expires_in: int
    refresh_token: str
    scope: str
    token_type: str


@dataclass(frozen=True)
class JournalRecord:
    """One request the sandbox answered (`GET /_sandbox/journal`'s entry, plus `endpoint`).

    `creator` is the username the request acted for, once the sandbox resolved one (from the
    access token, the upload URL or the code or refresh token exchanged); `error_code` is
    "ok" or TikTok's code (or the OAuth `error`); `rule` names the sandbox rule that decided.
    Bodies are previews: cut after 4096 bytes, binary bodies summarised. `media` is what the
    media check found in the video an upload's last chunk completed (probed facts, the
    duration limit applied, the rule broken and its fail_reason), None on other requests.
    """

    seq: int
    time: str
    method: str
    path: str
    query: str
    endpoint: str | None
    status: int
    client_key: str | None
    creator: str | None
    error_code: str | None
    rule: str | None
    fault: str | None
    request_headers: Mapping[str, str]
    request_body: str
    response_body: str
    request_bytes: int
    media: Mapping[str, Any] | None = None

    @classmethod
    def from_entry(cls, entry: JournalEntry) -> JournalRecord:
        return cls(**_known(cls, entry.to_json()), endpoint=endpoint_of(entry.path))


@dataclass(frozen=True)
class StatusStep:
    status: str
    at: str


@dataclass(frozen=True)
class PublishRecord:
    """A publish as `GET /_sandbox/publishes/{publish_id}` shows it (without `upload_url`,
    whose host depends on how the init was reached)."""

    publish_id: str
    client_key: str
    creator: str | None
    open_id: str
    mode: str
    media_type: str
    source: str
    status: str
    fail_reason: str | None
    privacy_level: str | None
    requested_privacy_level: str | None
    post_info: Mapping[str, Any]
    created_at: str
    decided_by: str
    uploaded_bytes: int
    received_bytes: int
    media_bytes: int
    check_result: str | None
    injected_fail_reason: str | None
    public: bool
    post_ids: tuple[str, ...]
    timeline: tuple[StatusStep, ...]
    video_size: int | None = None
    chunk_size: int | None = None
    total_chunk_count: int | None = None
    upload_expires_at: str | None = None
    video_url: str | None = None
    photo_images: tuple[str, ...] | None = None
    photo_cover_index: int | None = None

    @property
    def statuses(self) -> list[str]:
        """Every status the publish went through, in order."""
        return [step.status for step in self.timeline]

    @classmethod
    def from_json(cls, view: Mapping[str, Any]) -> PublishRecord:
        fields = _known(cls, view)
        fields["post_ids"] = tuple(str(i) for i in view["post_ids"])
        fields["timeline"] = tuple(StatusStep(s["status"], s["at"]) for s in view["timeline"])
        if view.get("photo_images") is not None:
            fields["photo_images"] = tuple(view["photo_images"])
        return cls(**fields)


@dataclass(frozen=True)
class WebhookAttempt:
    at: str
    signature: str
    status_code: int | None
    error: str | None
    response_body: str | None


@dataclass(frozen=True)
class WebhookRecord:
    """A webhook delivery as `GET /_sandbox/webhooks` shows it: `status` is `pending`,
    `delivered` or `dropped`; `body` is the exact JSON sent on every attempt."""

    delivery_id: str
    client_key: str
    event: str
    url: str
    status: str
    created_at: str
    next_attempt_at: str | None
    body: str
    attempts: tuple[WebhookAttempt, ...]
    # Why a delivery was given up: "retry_window" (72 h of failures) or "pending_cap".
    dropped_reason: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status == "delivered"

    @property
    def user_openid(self) -> str:
        return str(json.loads(self.body)["user_openid"])

    @property
    def content(self) -> dict[str, Any]:
        """The event's `content`, which TikTok sends as a JSON string, decoded."""
        decoded: dict[str, Any] = json.loads(json.loads(self.body)["content"])
        return decoded

    @classmethod
    def from_json(cls, view: Mapping[str, Any]) -> WebhookRecord:
        fields = _known(cls, view)
        fields["attempts"] = tuple(
            WebhookAttempt(**_known(WebhookAttempt, a)) for a in view["attempts"]
        )
        return cls(**fields)


# -- queries over one sandbox's state ----------------------------------------------------------


def _endpoint_path(endpoint: str) -> str:
    if endpoint in ENDPOINTS:
        return ENDPOINTS[endpoint]
    if endpoint.startswith("/"):
        return endpoint
    raise ValueError(
        f"unknown endpoint {endpoint!r}: expected a path or one of {', '.join(ENDPOINTS)}"
    )


def journal(
    state: SandboxState,
    *,
    endpoint: str | None = None,
    client_key: str | None = None,
    creator: str | None = None,
    error_code: str | None = None,
) -> list[JournalRecord]:
    """The journal, oldest first, filtered by endpoint (a name of `ENDPOINTS` or a path
    prefix), app, creator (username) and error code (`"ok"` for successes)."""
    path = None if endpoint is None else _endpoint_path(endpoint)
    entries = state.journal.entries(client_key=client_key, path=path)
    return [
        JournalRecord.from_entry(e)
        for e in reversed(entries)
        if (creator is None or e.creator == creator)
        and (error_code is None or e.error_code == error_code)
    ]


def publishes(
    state: SandboxState,
    *,
    client_key: str | None = None,
    creator: str | None = None,
    status: str | None = None,
) -> list[PublishRecord]:
    """Every publish an init accepted since the last reset, oldest first."""
    with state.lock:
        world = state.world
        uid = None
        if creator is not None:
            found = peek(world.creators, creator)
            if found is None:
                return []
            uid = found.uid
        views = [
            publish_json(world, p, "")
            for p in world.iter_publishes(uid, client_key=client_key, status=status)
        ]
    return [PublishRecord.from_json(v) for v in views]


def publish(state: SandboxState, publish_id: str) -> PublishRecord:
    """One publish; KeyError when the sandbox has none with this id."""
    with state.lock:
        found = state.world.publishes.get(publish_id)
        if found is None:
            raise KeyError(f"no publish with publish_id {publish_id!r}")
        view = publish_json(state.world, found, "")
    return PublishRecord.from_json(view)


def webhooks(
    state: SandboxState,
    *,
    client_key: str | None = None,
    event: str | None = None,
    status: str | None = None,
) -> list[WebhookRecord]:
    """Webhook deliveries, oldest first, by app, event name and delivery status."""
    with state.lock:
        deliveries = state.world.outbox.in_order(client_key)
        views = [delivery_json(d) for d in deliveries]
    return [
        WebhookRecord.from_json(v)
        for v in views
        if (event is None or v["event"] == event) and (status is None or v["status"] == status)
    ]
