"""A mixed workload against a sandbox (in process or served) that remembers what it was told.

Each step is one request; a `Facts` collects every change whose answer came back, so a test
can check, after a restart or a crash, that all of them are still there.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import httpx

from mock_server.domain.retention import MAX_GRANTS_PER_PAIR
from mock_server.runtime.clock import parse_instant
from tests.mock_server.lifecycle_kit import ANA, AUDITED, SCOPES, SECRETS, STATUS, VIDEO_INIT, plan

STEPS = (
    "tokens",
    "refresh",
    "creator_info",
    "init",
    "put",
    "status",
    "webhook_url",
    "fault",
    "advance",
)
CREATOR_INFO = "/v2/post/publish/creator_info/query/"
TOKEN = "/v2/oauth/token/"
# A receiver nobody listens on: every delivery fails and stays pending (retried later).
DEAD_HOOK = "http://127.0.0.1:9/hook"


@dataclass
class Facts:
    """What the sandbox acknowledged, the newest last."""

    access_tokens: list[str] = field(default_factory=list)
    refresh_token: str | None = None
    # publish_id -> (upload_url, size, bytes acknowledged)
    publishes: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    webhook_url: str | None = None
    fault_ids: list[str] = field(default_factory=list)
    clock: str | None = None


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def step(http: httpx.Client, name: str, facts: Facts, rng: random.Random) -> httpx.Response | None:
    """Run one step (or nothing, when it needs what the sandbox has not given yet)."""
    if name == "tokens":
        code = http.post(
            "/_sandbox/authorize", json={"client_key": AUDITED, "username": ANA, "scopes": SCOPES}
        )
        assert code.status_code == 200, code.text
        answer = http.post(
            TOKEN,
            data={
                "client_key": AUDITED,
                "client_secret": SECRETS[AUDITED],
                "code": code.json()["code"],
                "grant_type": "authorization_code",
                "redirect_uri": code.json()["redirect_uri"],
            },
        )
        assert answer.status_code == 200, answer.text
        facts.access_tokens.append(answer.json()["access_token"])
        facts.refresh_token = answer.json()["refresh_token"]
        return answer
    if name == "refresh":
        if facts.refresh_token is None:
            return None
        answer = http.post(
            TOKEN,
            data={
                "client_key": AUDITED,
                "client_secret": SECRETS[AUDITED],
                "grant_type": "refresh_token",
                "refresh_token": facts.refresh_token,
            },
        )
        assert answer.status_code == 200, answer.text
        facts.access_tokens.append(answer.json()["access_token"])
        facts.refresh_token = answer.json()["refresh_token"]
        return answer
    if not facts.access_tokens:
        return None
    token = facts.access_tokens[-1]
    if name == "creator_info":
        return http.post(CREATOR_INFO, headers=_bearer(token))
    if name == "init":
        size = rng.randrange(1000, 4000)
        body = {
            "post_info": {"privacy_level": "SELF_ONLY", "title": "t"},
            "source_info": plan(size),
        }
        answer = http.post(VIDEO_INIT, headers=_bearer(token), json=body)
        if answer.status_code == 200 and answer.json()["error"]["code"] == "ok":
            data = answer.json()["data"]
            facts.publishes[data["publish_id"]] = (data["upload_url"], size, 0)
        return answer
    if name in ("put", "status"):
        waiting = [p for p, (_, size, sent) in facts.publishes.items() if sent < size]
        if name == "put" and not waiting:
            return None
        if name == "status" and not facts.publishes:
            return None
        publish_id = rng.choice(waiting if name == "put" else sorted(facts.publishes))
        url, size, _ = facts.publishes[publish_id]
        if name == "status":
            return http.post(STATUS, headers=_bearer(token), json={"publish_id": publish_id})
        answer = http.put(
            url,
            content=rng.randbytes(size),
            headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{size - 1}/{size}"},
        )
        if answer.status_code in (200, 201, 206):
            facts.publishes[publish_id] = (url, size, size)
        return answer
    if name == "webhook_url":
        url = f"{DEAD_HOOK}/{rng.randrange(1000)}"
        answer = http.patch(f"/_sandbox/apps/{AUDITED}", json={"webhook_url": url})
        assert answer.status_code == 200, answer.text
        facts.webhook_url = url
        return answer
    if name == "fault":
        answer = http.post(
            "/_sandbox/faults", json={"endpoint": "video_list", "nth": 1000, "status": 503}
        )
        assert answer.status_code in (200, 201), answer.text
        facts.fault_ids.append(answer.json()["id"])
        return answer
    if name == "advance":
        answer = http.post("/_sandbox/clock", json={"advance_seconds": rng.choice([1, 30, 600])})
        assert answer.status_code == 200, answer.text
        facts.clock = answer.json()["now"]
        return answer
    raise AssertionError(name)


def check(http: httpx.Client, facts: Facts) -> None:
    """Every acknowledged change is there, and the sandbox answers consistently."""
    for token in facts.access_tokens[-1:]:
        answer = http.post(CREATOR_INFO, headers=_bearer(token))
        if answer.status_code == 401:
            # Known, but its grant pushed out by newer ones: a creator keeps at most
            # MAX_GRANTS_PER_PAIR live grants per app (racing clients authorize too).
            refusal = http.get("/_sandbox/journal", params={"limit": 1}).json()["entries"][0]
            assert refusal["rule"] == "token_revoked", (token, refusal)
            grants = http.get("/_sandbox/grants", params={"client_key": AUDITED}).json()
            assert len(grants["grants"]) > MAX_GRANTS_PER_PAIR, (token, refusal)
        else:
            assert answer.status_code == 200, answer.text
        # Status fetches on a token of their own: the app's has a 30 a minute budget (ref 4.3).
        fresh = http.post(
            "/_sandbox/tokens", json={"client_key": AUDITED, "username": ANA, "scopes": SCOPES}
        )
        token = fresh.json()["access_token"]
        for publish_id, (_, _size, sent) in facts.publishes.items():
            status = http.post(STATUS, headers=_bearer(token), json={"publish_id": publish_id})
            assert status.status_code == 200, (publish_id, status.text)
            data: dict[str, Any] = status.json()["data"]
            progressed = data.get("uploaded_bytes", 0) >= sent
            assert progressed or data["status"] != "PROCESSING_UPLOAD", (publish_id, sent, data)
    if facts.webhook_url is not None:
        app = http.get(f"/_sandbox/apps/{AUDITED}").json()
        assert app["webhook_url"] == facts.webhook_url
    if facts.fault_ids:
        listed = str(http.get("/_sandbox/faults").json())
        assert all(f in listed for f in facts.fault_ids)
    if facts.clock is not None:
        now = http.get("/_sandbox/clock").json()["now"]
        assert parse_instant(now) >= parse_instant(facts.clock)
