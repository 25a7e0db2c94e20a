"""Bounded over time, and secrets that cannot be guessed (issue 10).

Everything a client can make the sandbox keep ends or has a cap: grants are swept 24 h (sandbox
time) after they end, an upload whose URL expired fails, pending webhook deliveries are capped
per app, grants per (app, creator) and access tokens per grant are capped. Driven in-process on
a frozen clock (`Studio`), through HTTP.
"""

from __future__ import annotations

import math
import secrets
import string
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mock_server.runtime.webhooks import RecordingWebhookSender
from tests.hardening.kit import bearer, control_error, snapshot
from tests.mock_server.lifecycle_kit import (
    ANA,
    AUDITED,
    CHUNK,
    FAILED,
    HOOK_URL,
    PROCESSING_UPLOAD,
    SCOPES,
    SECRETS,
    Studio,
    listed,
    parse_instant,
    plan,
)

DAY = 24 * 3600
CORA = "cora.cooks"


@pytest.fixture
def studio() -> Iterator[Studio]:
    made = Studio(sender=RecordingWebhookSender(lambda sent: 500))
    yield made
    made.close()


def grants(studio: Studio, username: str | None = None) -> list[dict[str, Any]]:
    response = studio.http.get("/_sandbox/grants", params={"client_key": AUDITED})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["grants"]
    return [g for g in items if username is None or g["creator"] == username]


def user_info(studio: Studio, access_token: str) -> httpx.Response:
    return studio.http.get(
        "/v2/user/info/", params={"fields": "open_id"}, headers=bearer(access_token)
    )


def token_call(studio: Studio, **form: str) -> httpx.Response:
    """`POST /v2/oauth/token/` as the audited app."""
    body = {"client_key": AUDITED, "client_secret": SECRETS[AUDITED], **form}
    return studio.http.post("/v2/oauth/token/", data=body)


def works(studio: Studio, access_token: str) -> bool:
    response = user_info(studio, access_token)
    if response.status_code == 401:
        assert response.json()["error"]["code"] == "access_token_invalid", response.text
        return False
    assert response.status_code == 200, response.text
    return True


# -- grants are swept on the sandbox clock --------------------------------------------------


def test_revoked_and_expired_grants_leave_the_grant_list_24h_after_they_end(
    studio: Studio,
) -> None:
    revoked = studio.sandbox.issue_tokens(AUDITED, ANA, SCOPES)
    studio.sandbox.issue_tokens(AUDITED, CORA, SCOPES)  # left to expire
    response = studio.http.post(
        "/v2/oauth/revoke/",
        data={
            "client_key": AUDITED,
            "client_secret": SECRETS[AUDITED],
            "token": revoked["access_token"],
        },
    )
    assert response.status_code == 200, response.text
    [ana_grant] = grants(studio, ANA)
    assert ana_grant["revoked"] is True
    [cora_grant] = grants(studio, CORA)
    ends = parse_instant(cora_grant["refresh_expires_at"])

    studio.advance(DAY + 1)
    assert grants(studio, ANA) == [], "a grant revoked more than 24 h ago is gone"
    assert [g["grant_id"] for g in grants(studio, CORA)] == [cora_grant["grant_id"]]

    studio.advance_to(ends + 60)
    [expired] = grants(studio, CORA)  # ended a minute ago: still shown, as expired
    assert expired["active"] is False
    studio.advance_to(ends + DAY + 1)
    fresh = studio.sandbox.issue_tokens(AUDITED, ANA, SCOPES)
    assert grants(studio, CORA) == [], "a grant that expired more than 24 h ago is gone"
    [kept] = grants(studio, ANA)
    assert kept["active"] is True
    assert works(studio, fresh["access_token"])


# -- an upload whose URL expired ends -------------------------------------------------------


def test_a_file_upload_not_finished_within_its_url_hour_fails_with_its_webhook(
    studio: Studio,
) -> None:
    studio.patch_app(webhook_url=HOOK_URL)
    token = studio.token()
    untouched = studio.init(token, plan(1000))["publish_id"]
    size = 2 * CHUNK + 123
    partial, url = studio.start_upload(token, size)
    first = studio.put(url, b"\0" * CHUNK, 0, CHUNK - 1, size)
    assert first.status_code == 206, first.text

    expires = parse_instant(studio.publish(untouched)["upload_expires_at"])
    studio.advance_to(expires - 1)
    for publish_id in (untouched, partial):
        assert studio.state(publish_id, token)["status"] == PROCESSING_UPLOAD

    studio.advance_to(expires + 1)
    for publish_id in (untouched, partial):
        data = studio.state(publish_id, studio.token())
        assert data["status"] == FAILED
        assert data["fail_reason"] == "file_format_check_failed"
    failed = [c for event, c in studio.events() if event == "post.publish.failed"]
    assert sorted(c["publish_id"] for c in failed) == sorted([untouched, partial])
    assert {c["reason"] for c in failed} == {"file_format_check_failed"}


# -- webhook deliveries waiting for a receiver that keeps failing ---------------------------


def test_pending_webhook_deliveries_are_capped_at_500_per_app(studio: Studio) -> None:
    """The receiver answers 500 to everything: every delivery stays pending (frozen clock, no
    retry falls due) until the cap gives the oldest up, which the log shows."""
    studio.patch_app(webhook_url=HOOK_URL)
    publish_id = studio.init(studio.token(), plan(1000))["publish_id"]
    events = 520
    for _ in range(events):
        studio.sandbox.issue_tokens(AUDITED, ANA, SCOPES)  # an authorization to remove
        response = studio.action(publish_id, "revoke_app")
        assert response.status_code == 200, response.text
    log = studio.deliveries(AUDITED)  # oldest first
    assert len(log) > events, "each revoke_app queued an authorization.removed delivery"
    statuses = [d["status"] for d in log]
    pending = statuses.count("pending")
    assert pending == 500, f"{pending} deliveries pending"
    given_up = len(log) - 500
    assert statuses[:given_up] == ["dropped"] * given_up, "the oldest are given up first"
    assert {d.get("dropped_reason") for d in log[:given_up]} == {"pending_cap"}


# -- caps on what the control API adds ------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_sandbox/faults", {"endpoint": "revoke", "status": 429}),
        ("/_sandbox/outcomes", {"fail_reason": "internal", "count": None}),
        ("/_sandbox/apps", {"name": "One more"}),
    ],
    ids=["faults", "outcomes", "apps"],
)
def test_fault_rules_outcomes_and_apps_are_capped_at_1000(
    studio: Studio, path: str, body: dict[str, Any]
) -> None:
    view = path.rsplit("/", 1)[1]
    existing = len(listed(studio.http, path, view))
    for _ in range(1000 - existing):
        response = studio.http.post(path, json=body)
        assert response.status_code == 201, response.text
    before = snapshot(studio.http)
    control_error(studio.http.post(path, json=body), 400, "invalid_request")
    assert snapshot(studio.http) == before
    assert len(listed(studio.http, path, view)) == 1000


def test_creators_are_capped_at_10000(studio: Studio) -> None:
    def count() -> tuple[int, int]:
        apps = listed(studio.http, "/_sandbox/apps", "apps")
        creators = listed(studio.http, "/_sandbox/creators", "creators")
        return len(apps), len(creators)

    _, existing = count()
    made = 0
    while made < 10_000 - existing:  # an app per thousand new creators: few requests
        batch = [
            {"username": f"c{made + i:05d}"} for i in range(min(1000, 10_000 - existing - made))
        ]
        response = studio.http.post("/_sandbox/apps", json={"creators": batch})
        assert response.status_code == 201, response.text[:300]
        made += len(batch)
    before = count()
    assert before[1] == 10_000
    control_error(studio.http.post("/_sandbox/creators", json={"username": "one_more"}), 400)
    too_many = {"name": "Late", "creators": [{"username": "one_more"}]}
    control_error(studio.http.post("/_sandbox/apps", json=too_many), 400)
    assert count() == before, "nothing was created, the app included"


# -- caps on grants and tokens --------------------------------------------------------------


def test_a_creator_keeps_at_most_20_live_grants_per_app(studio: Studio) -> None:
    pairs = [studio.sandbox.issue_tokens(AUDITED, ANA, SCOPES) for _ in range(21)]
    assert not works(studio, pairs[0]["access_token"]), "the oldest grant was revoked"
    assert all(works(studio, p["access_token"]) for p in pairs[1:])
    live = [g for g in grants(studio, ANA) if g["active"]]
    assert len(live) == 20


def test_a_grant_keeps_at_most_20_live_access_tokens(studio: Studio) -> None:
    first = studio.sandbox.issue_tokens(AUDITED, ANA, SCOPES)
    access = [first["access_token"]]
    refresh = first["refresh_token"]
    for _ in range(21):
        response = token_call(studio, grant_type="refresh_token", refresh_token=refresh)
        body = response.json()
        assert "access_token" in body, response.text
        access.append(body["access_token"])
        refresh = body["refresh_token"]
    assert len(grants(studio, ANA)) == 1, "refreshing keeps one grant"
    assert [works(studio, t) for t in access[:2]] == [False, False], "the oldest stopped"
    assert all(works(studio, t) for t in access[2:]), "the newest 20 work"


# -- secrets --------------------------------------------------------------------------------

SAMPLES = 48
ALPHABETS = [
    string.digits,
    "0123456789abcdef",
    "0123456789ABCDEF",
    string.ascii_lowercase + string.digits,
    string.ascii_letters + string.digits,
    string.ascii_letters + string.digits + "-_",
    string.ascii_letters + string.digits + "+/",
]


def random_bits(samples: list[str]) -> float:
    """How many random bits same-format strings carry, read from their format: a position that
    varies across the samples counts log2 of the alphabet it is drawn from, or, when it shows
    only a few symbols (a UUID's variant, the last character of base64), log2 of those rounded
    up to a power of two; fixed positions (prefixes, separators, a UUID's version) count
    nothing. Needs a few dozen samples."""
    lengths = {len(s) for s in samples}
    assert len(lengths) == 1, f"tokens of one kind have one length, got {sorted(lengths)}"
    columns = [{s[i] for s in samples} for i in range(lengths.pop())]
    varying = set().union(*(c for c in columns if len(c) > 1))
    alphabet = next((a for a in ALPHABETS if varying <= set(a)), "".join(sorted(varying)))
    bits = 0.0
    for column in columns:
        if len(column) == 1:
            continue
        if len(column) > min(len(alphabet), len(samples)) / 3:
            bits += math.log2(len(alphabet))
        else:
            bits += math.ceil(math.log2(len(column)))
    return bits


def test_the_entropy_measure_reads_formats() -> None:
    n = SAMPLES
    assert random_bits([str(uuid.uuid4()) for _ in range(n)]) == 122
    assert random_bits([secrets.token_hex(16) for _ in range(n)]) == 128
    assert random_bits([secrets.token_urlsafe(16) for _ in range(n)]) == 128
    assert random_bits([secrets.token_urlsafe(15) for _ in range(n)]) == 120
    assert random_bits(["act." + secrets.token_hex(8) + "!0000.va" for _ in range(n)]) == 64


def upload_token(upload_url: str) -> str:
    return parse_qs(urlsplit(upload_url).query)["upload_token"][0]


def test_tokens_codes_and_upload_tokens_carry_at_least_128_bits(studio: Studio) -> None:
    studio.patch_creator(ANA, daily_post_cap=1000)
    pairs, uploads = [], []
    for _ in range(SAMPLES):  # each token used at once: older grants end past the cap of 20
        pairs.append(studio.sandbox.issue_tokens(AUDITED, ANA, SCOPES))
        uploads.append(
            upload_token(studio.init(pairs[-1]["access_token"], plan(1000))["upload_url"])
        )
    codes = [studio.sandbox.issue_code(AUDITED, ANA, ["user.info.basic"]) for _ in range(SAMPLES)]
    clients = []
    for _ in range(SAMPLES):
        response = token_call(studio, grant_type="client_credentials")
        clients.append(response.json()["access_token"])
    kinds = {
        "access_token": [p["access_token"] for p in pairs],
        "refresh_token": [p["refresh_token"] for p in pairs],
        "client_token": clients,
        "code": codes,
        "upload_token": uploads,
    }
    for kind, samples in kinds.items():
        assert len(set(samples)) == len(samples), f"{kind}: repeated values"
        bits = random_bits(samples)
        assert bits >= 128, f"{kind} carries about {bits:.0f} random bits: {samples[0]}"
