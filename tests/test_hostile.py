"""Hostile input to every endpoint through a served socket (issue 10): never a 5xx, always the
family's error shape, and a refused request changes nothing.

One sandbox (the default scenario on a frozen clock, test doubles for pulls and webhooks) is
served on a free loopback port for the module. Every example starts from a reset sandbox with a
fresh token pair and one FILE_UPLOAD publish, so hostile input reaches the parsers behind
authentication (and a refusal cannot hide behind a rate limit or a cap), then:

1. snapshots the state through the control API (`tests.hardening.kit.snapshot`),
2. sends one request with one hostile part: a JSON value (lone surrogates, control characters,
   deep nesting, huge numbers, NaN, wrong types, unicode digits), a percent-encoded query or
   path value (invalid UTF-8 included), a form value, a header (odd content types, odd
   Authorization, obs-text bytes httpx sends raw, foreign Origin), or a whole body,
3. checks the answer: status < 500; TikTok's envelope on posting and user endpoints, the flat
   `{error, error_description, log_id}` on /v2/oauth/, HTML on the consent page, the control
   API's `{"error": {"code", "message"}}` on /_sandbox/,
4. when the request was refused (or was a read), checks the snapshot is unchanged,
5. checks every page still renders: dashboard, journal, creators, consent page, user info.

Requests that need bytes httpx refuses to build (control characters in header values are not
among them: those break HTTP framing) go over a raw socket. The last test replays every probe
with the issue's named inputs without resetting in between, then renders everything again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mock_server import Clock, Sandbox
from mock_server.domain.errors import OAuthError
from mock_server.domain.oauth import AuthorizeError
from mock_server.runtime.fetcher import StaticFetcher
from mock_server.runtime.webhooks import RecordingWebhookSender
from tests.hardening.kit import (
    ANA,
    AUDITED,
    AUDITED_REDIRECT,
    SCOPES,
    SECRETS,
    SMALL_UPLOAD,
    authorize_query,
    consent_form,
    raw_request,
    snapshot,
)
from tests.mock_server.api.conftest import LOG_ID

pytestmark = pytest.mark.server

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOLE = "@HOLE@"
EXAMPLES = settings(max_examples=8)

# -- hostile values -------------------------------------------------------------------------

# JSON text, as it goes over the wire.
SURROGATE = '"Ana \\udfff"'
DEEP_LIST = "[" * 3000 + "]" * 3000
DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000
HUGE = "9" * 5000
NAMED_JSON = [SURROGATE, DEEP_LIST, HUGE, "1e999", "NaN", '"²"']  # the issue's own examples
JSON_FRAGMENTS = [
    *NAMED_JSON,
    '"\\ud800"',
    '"a\\udc00b\\ud800"',
    '"\\u0000"',
    '"x\\u0007y"',
    '"\\u001b[2J"',
    '"\\u007f"',
    '"\\u0085\\u2028\\u2029"',
    '"\\ufeff"',
    '"\\uffff"',
    '"٣"',
    '"１２"',
    '"𝟙𝟚"',
    '"Ⅻ"',
    '"\\r\\n"',
    '""',
    '"' + "x" * 5000 + '"',
    '"../../../../etc/passwd"',
    '"<script>alert(1)</script>"',
    DEEP_OBJECT,
    "[" * 65 + "]" * 65,
    "-" + HUGE,
    "-1e999",
    "Infinity",
    "-Infinity",
    "1e-999",
    "9223372036854775808",
    "-9223372036854775809",
    "1.5",
    "-1",
    "null",
    "true",
    "[]",
    "{}",
    '["\\udfff"]',
    '{"\\udfff": 1}',
    '"a\x01b"',  # a raw control character inside a string: not JSON
    '"\udcff\udcfe"',  # raw 0xFF 0xFE bytes (sent with surrogateescape): not UTF-8
]
json_values = st.one_of(
    st.sampled_from(JSON_FRAGMENTS),
    # json.dumps escapes what it cannot write: lone surrogates and control characters
    st.lists(
        st.one_of(
            st.characters(),
            st.characters(categories=["Cs"]),
            st.characters(categories=["Cc", "Cf", "Zl", "Zp"]),
        ),
        max_size=12,
    ).map(lambda chars: json.dumps("".join(chars))),
    st.floats().map(json.dumps),  # NaN and Infinity included
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
)

# Percent-encoded text for queries, paths and forms.
NAMED_URL = ["%ED%BF%BF", "%FF", "%C2%B2", HUGE, "1e999", "%00"]
URL_FRAGMENTS = [
    *NAMED_URL,
    "%ED%A0%80",
    "%C0%AF",
    "%0D%0A",
    "%D9%A3",
    "%EF%BC%91%EF%BC%92",
    "%E2%80%A8",
    "%EF%BB%BF",
    "%F0%9F%98%80",
    "-1",
    "0",
    "NaN",
    "..%2F..%2Fetc%2Fpasswd",
    "%25",
    "%",
    "%zz",
    "+",
    "x" * 5000,
]
url_values = st.one_of(
    st.sampled_from(URL_FRAGMENTS),
    st.binary(max_size=12).map(lambda b: quote(b, safe="")),
)

JSON_TYPE = "application/json"
ODD_CONTENT_TYPES: list[str | bytes | None] = [
    None,
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
    b"application/json; charset=\xff",
    "application/json, text/html",
    "application/vnd.api+json",
    "*/*",
    "",
    "x" * 5000,
]
content_types = st.one_of(st.just(JSON_TYPE), st.sampled_from(ODD_CONTENT_TYPES))

VALID_AUTH = "Bearer {token}"
ODD_AUTH: list[str | bytes | None] = [
    None,
    "bearer {token}",
    "Bearer  {token}",
    "Bearer {token}x",
    b"Bearer \xed\xbf\xbf",
    b"Bearer \xff{token}",
    "Basic YWJjOmRlZg==",
    "Bearer",
    "Bearer " + "x" * 5000,
    "Bearer {token}, Bearer {token}",
]
authorizations = st.one_of(st.just(VALID_AUTH), st.sampled_from(ODD_AUTH))

ODD_HEADERS: list[tuple[tuple[str, str | bytes], ...]] = [
    (("Origin", "http://evil.example"),),
    (("Origin", "null"), ("Sec-Fetch-Site", "cross-site")),
    (("Sec-Fetch-Site", "same-site"), ("Sec-Fetch-Mode", "navigate")),
    (("X-Sandbox-Admin-Token", b"\xff\xfe"),),
    (("X-Forwarded-For", "10.0.0.1"), ("X-Forwarded-Host", "evil.example")),
    (("User-Agent", b"\xed\xbf\xbf" * 100),),
    (("Accept", "application/json;q=NaN"),),
    (("Content-Range", "bytes ²-5/10"),),
]
extras = st.one_of(st.just(()), st.sampled_from(ODD_HEADERS))


# -- the served sandbox ---------------------------------------------------------------------


@dataclass
class Context:
    """What one example works with, made fresh after the reset."""

    token: str
    refresh_token: str
    publish_id: str
    upload_path: str
    uid: str


@dataclass
class Target:
    sandbox: Sandbox
    port: int
    http: httpx.Client

    def fresh(self) -> Context:
        self.sandbox.reset()
        pair = self.sandbox.issue_tokens(AUDITED, ANA, SCOPES)
        body = {
            "post_info": {"privacy_level": "SELF_ONLY", "title": "t"},
            "source_info": SMALL_UPLOAD,
        }
        response = self.http.post(
            "/v2/post/publish/video/init/",
            json=body,
            headers={"Authorization": f"Bearer {pair['access_token']}"},
        )
        data = response.json()["data"]
        upload = urlsplit(data["upload_url"])
        return Context(
            token=pair["access_token"],
            refresh_token=pair["refresh_token"],
            publish_id=data["publish_id"],
            upload_path=f"{upload.path}?{upload.query}",
            uid=self.sandbox.state.world.creators[ANA].uid,
        )


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    sandbox = Sandbox(
        "default",
        clock=Clock.frozen_at(T0),
        fetcher=StaticFetcher({}),
        webhook_sender=RecordingWebhookSender(),
    )
    with sandbox.serve() as server, httpx.Client(base_url=server.url, timeout=60) as http:
        yield Target(sandbox, server.port, http)
    sandbox.close()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        return cls(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            response.content,
        )

    def json(self) -> Any:
        return json.loads(self.body)

    def __str__(self) -> str:
        return f"{self.status} {self.body[:400]!r}"


# -- what an answer must look like ----------------------------------------------------------


def refused_envelope(answer: Answer) -> bool:
    body = answer.json()
    assert isinstance(body, dict) and set(body) <= {"data", "error"}, answer
    error = body["error"]
    assert set(error) == {"code", "message", "log_id"}, answer
    assert isinstance(error["code"], str) and isinstance(error["message"], str), answer
    assert LOG_ID.match(error["log_id"]), answer
    if error["code"] == "ok":
        assert answer.status == 200, answer
        return False
    assert answer.status == 200 or 400 <= answer.status < 500, answer
    return True


def refused_oauth(answer: Answer) -> bool:
    if answer.status == 200 and not answer.body:
        return False  # revoke's success is an empty body (ref 2.5)
    body = answer.json()
    assert isinstance(body, dict), answer
    if "error" not in body:
        assert answer.status == 200 and "access_token" in body, answer
        return False
    assert set(body) == {"error", "error_description", "log_id"}, answer
    assert isinstance(body["error"], str) and body["error"], answer
    assert LOG_ID.match(body["log_id"]), answer
    return True


def refused_upload(answer: Answer) -> bool:
    if answer.status in (201, 206):
        return False
    assert 400 <= answer.status < 500, answer
    error = answer.json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str), answer
    assert LOG_ID.match(error["log_id"]), answer
    return True


def refused_page(answer: Answer) -> bool:
    """The consent page (HTML) or its redirect back to the app."""
    if answer.status in (200, 302):
        return False
    assert 400 <= answer.status < 500, answer
    assert answer.headers.get("content-type", "").startswith("text/html"), answer
    assert "location" not in answer.headers, answer
    return True


def refused_control(answer: Answer) -> bool:
    if 200 <= answer.status < 300 or answer.status == 303:
        return False
    if answer.status in (307, 308):  # a slash redirect, on this server only
        location = urlsplit(answer.headers["location"])
        assert location.hostname in (None, "127.0.0.1"), answer.headers
        return True
    assert 400 <= answer.status < 500, answer
    assert answer.headers.get("content-type", "").startswith("application/json"), answer
    error = answer.json()["error"]
    assert isinstance(error, dict), answer
    assert isinstance(error["code"], str) and error["code"], answer
    assert isinstance(error["message"], str) and error["message"], answer
    return True


def refused_avatar(answer: Answer) -> bool:
    if answer.status == 200:
        assert answer.headers["content-type"].startswith("image/svg+xml"), answer
        return False
    if answer.status == 404 and answer.headers.get("content-type", "").startswith("text/plain"):
        return True  # an unknown avatar
    return refused_control(answer)  # refused by the control plane's checks


def refused_control_page(answer: Answer) -> bool:
    """A control-plane page (the audit page): HTML, a 4xx one saying what is wrong, or the
    control plane's own JSON refusal."""
    if answer.headers.get("content-type", "").startswith("text/html"):
        assert answer.status == 200 or 400 <= answer.status < 500, answer
        return answer.status != 200
    return refused_control(answer)


FAMILIES: dict[str, Callable[[Answer], bool]] = {
    "envelope": refused_envelope,
    "oauth": refused_oauth,
    "upload": refused_upload,
    "page": refused_page,
    "control": refused_control,
    "control_page": refused_control_page,
    "avatar": refused_avatar,
}


def rejected_by_http_layer(answer: Answer) -> bool:
    """uvicorn refuses some bytes before the sandbox sees them (400, plain text): the HTTP
    layer's answer, not the sandbox's."""
    return answer.status == 400 and answer.body == b"Invalid HTTP request received."


def renders(target: Target) -> None:
    """Whatever was stored, every page and view that shows it answers."""
    http = target.http
    for path in ("/_sandbox/", "/_sandbox/journal?limit=1000"):
        response = http.get(path)
        assert response.status_code == 200, (
            f"GET {path}: {response.status_code} {response.text[:300]}"
        )
    consent = http.get(f"/v2/auth/authorize/?{authorize_query(AUDITED, AUDITED_REDIRECT)}")
    assert consent.status_code < 500, consent.text[:300]
    creators = http.get("/_sandbox/creators").json()["creators"]
    for creator in creators:
        try:
            token = target.sandbox.issue_tokens(AUDITED, creator["username"], ["user.info.basic"])
        except (AuthorizeError, OAuthError, KeyError):
            continue  # the app or the creator was changed so that it cannot log in: fine
        info = http.get(
            "/v2/user/info/",
            params={"fields": "open_id,union_id,avatar_url,display_name"},
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
        assert info.status_code < 500, f"user info of {creator['username']}: {info.text[:300]}"
        if info.status_code == 200:
            avatar = urlsplit(info.json()["data"]["user"]["avatar_url"])
            assert http.get(f"{avatar.path}?{avatar.query}").status_code == 200


def exercise(target: Target, method: str, family: str, send: Callable[[], Answer]) -> Answer:
    """Snapshot, send, judge, compare, render: the property every example checks."""
    before = snapshot(target.http)
    answer = send()
    assert answer.status < 500, f"{method}: {answer}"
    refused = rejected_by_http_layer(answer) or FAMILIES[family](answer)
    if refused or method in ("GET", "HEAD"):
        assert snapshot(target.http) == before, f"refused {answer} but the state changed"
    target.sandbox.clear_faults()  # a fault rule the request armed must not fail the checks
    renders(target)
    return answer


def request(
    target: Target,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: list[tuple[str, str | bytes]] | None = None,
) -> Answer:
    raw = [(k, v.encode() if isinstance(v, str) else v) for k, v in headers or []]
    return Answer.of(target.http.request(method, path, content=body, headers=raw))


def header_list(
    ctx: Context,
    content_type: str | bytes | None,
    authorization: str | bytes | None,
    extra: tuple[tuple[str, str | bytes], ...],
) -> list[tuple[str, str | bytes]]:
    headers: list[tuple[str, str | bytes]] = []
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    if authorization is not None:
        value = (
            authorization.replace(b"{token}", ctx.token.encode())
            if isinstance(authorization, bytes)
            else authorization.format(token=ctx.token)
        )
        headers.append(("Authorization", value))
    return headers + list(extra)


# -- JSON bodies ----------------------------------------------------------------------------


def holes(base: dict[str, Any], *paths: str) -> tuple[str, ...]:
    """JSON texts of `base` with HOLE at each dotted path ("" is the whole body; a number
    indexes a list)."""
    texts = []
    for dotted in paths:
        if not dotted:
            texts.append(HOLE)
            continue
        document = json.loads(json.dumps(base))
        *parents, last = dotted.split(".")
        node: Any = document
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        if isinstance(node, list):
            node[int(last)] = HOLE
        else:
            node[last] = HOLE
        texts.append(json.dumps(document).replace(json.dumps(HOLE), HOLE))
    return tuple(texts)


@dataclass(frozen=True)
class JsonProbe:
    name: str
    method: str
    path: str  # may name {publish_id}
    bodies: tuple[str, ...]  # JSON texts, each with one HOLE
    family: str  # "envelope" (bearer token) or "control"

    def __str__(self) -> str:
        return self.name


VIDEO = {"post_info": {"privacy_level": "SELF_ONLY", "title": "t"}, "source_info": SMALL_UPLOAD}
PULL = {"source": "PULL_FROM_URL", "video_url": "http://127.0.0.1:9000/media/clip.mp4"}
PHOTO = {
    "media_type": "PHOTO",
    "post_mode": "DIRECT_POST",
    "post_info": {"privacy_level": "SELF_ONLY", "title": "t", "description": "d"},
    "source_info": {
        "source": "PULL_FROM_URL",
        "photo_images": ["http://127.0.0.1:9000/media/p1.jpg"],
        "photo_cover_index": 0,
    },
}
APP = {"name": "Hostile app", "creators": [{"username": "hostile_one"}]}
CREATOR = {"username": "hostile_two", "nickname": "H"}
AUTHORIZE = {"client_key": AUDITED, "username": ANA, "scopes": ["user.info.basic"], "state": "s"}
APP_FIELDS = (
    "description",
    "developer",
    "client_key",
    "client_secret",
    "stage",
    "platform",
    "scopes",
    "redirect_uris",
    "direct_post_enabled",
    "token_profile",
    "auth_code_ttl_seconds",
    "verified_domains",
    "webhook_url",
    "active_creator_cap",
)
CREATOR_FIELDS = (
    "bio_description",
    "account",
    "banned",
    "max_video_post_duration_sec",
    "app_version",
    "daily_post_cap",
    "avatar_color",
    "follower_count",
    "is_verified",
)

JSON_PROBES = [
    JsonProbe(
        "creator_info",
        "POST",
        "/v2/post/publish/creator_info/query/",
        (HOLE, '{"x": ' + HOLE + "}"),
        "envelope",
    ),
    JsonProbe(
        "video_init",
        "POST",
        "/v2/post/publish/video/init/",
        holes(
            VIDEO,
            "post_info.title",
            "post_info.privacy_level",
            "post_info.disable_comment",
            "post_info.video_cover_timestamp_ms",
            "post_info.brand_content_toggle",
            "post_info",
            "source_info.source",
            "source_info.video_size",
            "source_info.chunk_size",
            "source_info.total_chunk_count",
            "source_info",
            "",
        )
        + holes({**VIDEO, "source_info": PULL}, "source_info.video_url"),
        "envelope",
    ),
    JsonProbe(
        "inbox_init",
        "POST",
        "/v2/post/publish/inbox/video/init/",
        holes({"source_info": SMALL_UPLOAD}, "source_info.video_size", "source_info.source", "")
        + holes({"source_info": PULL}, "source_info.video_url"),
        "envelope",
    ),
    JsonProbe(
        "content_init",
        "POST",
        "/v2/post/publish/content/init/",
        holes(
            PHOTO,
            "post_info.title",
            "media_type",
            "post_mode",
            "post_info.description",
            "post_info.privacy_level",
            "post_info.auto_add_music",
            "source_info.photo_images",
            "source_info.photo_images.0",
            "source_info.photo_cover_index",
            "",
        ),
        "envelope",
    ),
    JsonProbe(
        "status_fetch",
        "POST",
        "/v2/post/publish/status/fetch/",
        holes({"publish_id": "x"}, "publish_id", ""),
        "envelope",
    ),
    JsonProbe(
        "cancel",
        "POST",
        "/v2/post/publish/cancel/",
        holes({"publish_id": "x"}, "publish_id", ""),
        "envelope",
    ),
    JsonProbe(
        "reset",
        "POST",
        "/_sandbox/reset",
        holes({"scenario": "x", "seed": 1}, "scenario", "seed", ""),
        "control",
    ),
    JsonProbe("seed", "POST", "/_sandbox/seed", holes({"seed": 1}, "seed", ""), "control"),
    JsonProbe(
        "create_app",
        "POST",
        "/_sandbox/apps",
        holes(APP, "name", "creators.0.nickname", "creators.0.username", "creators", "")
        + holes(APP, *APP_FIELDS)
        + holes({**APP, "scopes": ["x"], "redirect_uris": ["x"]}, "scopes.0", "redirect_uris.0"),
        "control",
    ),
    JsonProbe(
        "patch_app",
        "PATCH",
        f"/_sandbox/apps/{AUDITED}",
        holes({}, "name", "description", "stage", "scopes", "webhook_url", "active_creator_cap", "")
        + holes(
            {"verified_domains": ["x"], "redirect_uris": ["x"]},
            "verified_domains.0",
            "redirect_uris.0",
        ),
        "control",
    ),
    JsonProbe(
        "create_creator",
        "POST",
        "/_sandbox/creators",
        holes(CREATOR, "nickname", "username", "") + holes(CREATOR, *CREATOR_FIELDS),
        "control",
    ),
    JsonProbe(
        "patch_creator",
        "PATCH",
        f"/_sandbox/creators/{ANA}",
        holes({}, "nickname", "posts_last_24h", "pending_shares", "") + holes({}, *CREATOR_FIELDS),
        "control",
    ),
    JsonProbe(
        "publish_action",
        "POST",
        "/_sandbox/publishes/{publish_id}/actions",
        holes({"action": "fail", "fail_reason": "internal"}, "fail_reason", "action", "")
        + holes({"action": "post_draft", "privacy_level": "x"}, "privacy_level"),
        "control",
    ),
    JsonProbe(
        "outcomes",
        "POST",
        "/_sandbox/outcomes",
        holes(
            {"fail_reason": "internal", "client_key": AUDITED, "creator": ANA, "count": 1},
            "fail_reason",
            "client_key",
            "creator",
            "count",
            "",
        ),
        "control",
    ),
    JsonProbe(
        "settle",
        "POST",
        "/_sandbox/settle",
        holes({"timeout_seconds": 0}, "timeout_seconds", ""),
        "control",
    ),
    JsonProbe(
        "faults",
        "POST",
        "/_sandbox/faults",
        holes(
            {"endpoint": "revoke", "status": 429, "times": 1},
            "status",
            "endpoint",
            "times",
            "nth",
            "probability",
            "action",
            "error_code",
            "message",
            "client_key",
            "latency",
            "",
        ),
        "control",
    ),
    JsonProbe(
        "clock",
        "POST",
        "/_sandbox/clock",
        holes({}, "advance_seconds", "set", "freeze", ""),
        "control",
    ),
    JsonProbe(
        "authorize",
        "POST",
        "/_sandbox/authorize",
        holes(
            AUTHORIZE,
            "client_key",
            "username",
            "open_id",
            "scopes",
            "scopes.0",
            "redirect_uri",
            "code_challenge",
            "state",
            "",
        ),
        "control",
    ),
    JsonProbe(
        "tokens",
        "POST",
        "/_sandbox/tokens",
        holes(AUTHORIZE, "client_key", "username", "scopes", "scopes.0", "redirect_uri", ""),
        "control",
    ),
    JsonProbe("dispatch", "POST", "/_sandbox/webhooks/dispatch", (HOLE,), "control"),
]


def _named_json_examples(test: Any) -> Any:
    for value in reversed(NAMED_JSON):
        test = example(
            field=0, value=value, content_type=JSON_TYPE, authorization=VALID_AUTH, extra=()
        )(test)
    return test


@pytest.mark.parametrize("probe", JSON_PROBES, ids=str)
@EXAMPLES
@given(
    field=st.integers(min_value=0, max_value=1000),
    value=json_values,
    content_type=content_types,
    authorization=authorizations,
    extra=extras,
)
@_named_json_examples
def test_hostile_json_bodies(
    target: Target,
    probe: JsonProbe,
    field: int,
    value: str,
    content_type: str | bytes | None,
    authorization: str | bytes | None,
    extra: tuple[tuple[str, str | bytes], ...],
) -> None:
    ctx = target.fresh()
    body = (
        probe.bodies[field % len(probe.bodies)]
        .replace(HOLE, value)
        .encode("utf-8", "surrogateescape")
    )
    auth = authorization if probe.family == "envelope" else None
    headers = header_list(ctx, content_type, auth, extra)
    path = probe.path.format(publish_id=ctx.publish_id)
    exercise(
        target,
        probe.method,
        probe.family,
        partial(request, target, probe.method, path, body, headers),
    )


BODY_IGNORED = ("creator_info", "dispatch")  # endpoints that take no body may not read it


def test_oversized_bodies_are_refused_on_every_json_endpoint(target: Target) -> None:
    big = ('{"x": "' + "a" * (1024 * 1024 + 10) + '"}').encode()
    for probe in JSON_PROBES:
        ctx = target.fresh()
        headers = header_list(
            ctx, JSON_TYPE, VALID_AUTH if probe.family == "envelope" else None, ()
        )
        path = probe.path.format(publish_id=ctx.publish_id)
        answer = exercise(
            target,
            probe.method,
            probe.family,
            partial(request, target, probe.method, path, big, headers),
        )
        if probe.name not in BODY_IGNORED:
            assert 400 <= answer.status < 500, f"{probe}: {answer}"


# -- queries and paths ----------------------------------------------------------------------


@dataclass(frozen=True)
class UrlProbe:
    name: str
    method: str
    url: str  # with {H} for the hostile percent-encoded value; may name {uid}, {publish_id}
    family: str
    body: dict[str, Any] | None = None
    bearer: bool = False

    def __str__(self) -> str:
        return self.name


URL_PROBES = [
    UrlProbe("user_info_fields", "GET", "/v2/user/info/?fields={H}", "envelope", bearer=True),
    UrlProbe(
        "user_info_extra", "GET", "/v2/user/info/?fields=open_id&{H}={H}", "envelope", bearer=True
    ),
    *(
        UrlProbe(
            f"authorize_{param}",
            "GET",
            "/v2/auth/authorize/?"
            + authorize_query(AUDITED, AUDITED_REDIRECT).replace(
                f"{param}=", f"{param}={{H}}&ignored=", 1
            ),
            "page",
        )
        for param in ("client_key", "scope", "redirect_uri", "state", "response_type")
    ),
    UrlProbe(
        "authorize_challenge",
        "GET",
        "/v2/auth/authorize/?code_challenge={H}&code_challenge_method={H}",
        "page",
    ),
    UrlProbe("creators", "GET", "/_sandbox/creators?client_key={H}", "control"),
    UrlProbe("creator", "GET", "/_sandbox/creators/{H}", "control"),
    UrlProbe("creator_as_app", "GET", f"/_sandbox/creators/{ANA}?client_key={{H}}", "control"),
    UrlProbe("apps", "GET", "/_sandbox/apps?{H}={H}", "control"),
    UrlProbe("app", "GET", "/_sandbox/apps/{H}", "control"),
    UrlProbe("grants", "GET", "/_sandbox/grants?client_key={H}", "control"),
    UrlProbe("publishes", "GET", "/_sandbox/publishes?client_key={H}", "control"),
    UrlProbe("publishes_creator", "GET", "/_sandbox/publishes?creator={H}&status={H}", "control"),
    UrlProbe("publish", "GET", "/_sandbox/publishes/{H}", "control"),
    UrlProbe("webhooks", "GET", "/_sandbox/webhooks?client_key={H}&event={H}", "control"),
    UrlProbe("journal", "GET", "/_sandbox/journal?limit={H}", "control"),
    UrlProbe("journal_filters", "GET", "/_sandbox/journal?client_key={H}&path={H}", "control"),
    UrlProbe("journal_export", "GET", "/_sandbox/journal/export?client_key={H}", "control"),
    UrlProbe("audit", "GET", "/_sandbox/audit?client_key={H}", "control"),
    UrlProbe("audit_window", "GET", f"/_sandbox/audit?client_key={AUDITED}&since={{H}}", "control"),
    UrlProbe("audit_until", "GET", f"/_sandbox/audit?client_key={AUDITED}&until={{H}}", "control"),
    UrlProbe("audit_page", "GET", "/_sandbox/audit.html?client_key={H}", "control_page"),
    UrlProbe(
        "audit_page_window",
        "GET",
        f"/_sandbox/audit.html?client_key={AUDITED}&since={{H}}&until={{H}}",
        "control_page",
    ),
    UrlProbe("health", "GET", "/_sandbox/health?{H}={H}", "control"),
    UrlProbe("scenarios", "GET", "/_sandbox/scenarios?{H}", "control"),
    UrlProbe("clock", "GET", "/_sandbox/clock?{H}", "control"),
    UrlProbe("faults", "GET", "/_sandbox/faults?{H}", "control"),
    UrlProbe("outcomes", "GET", "/_sandbox/outcomes?{H}", "control"),
    UrlProbe("dashboard", "GET", "/_sandbox/?{H}={H}", "control_page"),
    UrlProbe("dashboard_bare", "GET", "/_sandbox?{H}", "control_page"),
    UrlProbe("dashboard_filters", "GET", "/_sandbox/?app={H}&status={H}", "control_page"),
    UrlProbe(
        "dashboard_live", "GET", "/_sandbox/dashboard/live?publish={H}&version={H}", "control"
    ),
    UrlProbe("dashboard_static", "GET", "/_sandbox/static/{H}", "control"),
    UrlProbe("dashboard_cover", "GET", "/_sandbox/dashboard/covers/{H}.jpeg", "avatar"),
    UrlProbe("avatar_size", "GET", "/_sandbox/avatars/{uid}.svg?size={H}", "avatar"),
    UrlProbe("avatar_uid", "GET", "/_sandbox/avatars/{H}.svg", "avatar"),
    UrlProbe("delete_fault", "DELETE", "/_sandbox/faults/{H}", "control"),
    UrlProbe("delete_faults", "DELETE", "/_sandbox/faults?{H}", "control"),
    UrlProbe("delete_outcomes", "DELETE", "/_sandbox/outcomes?{H}", "control"),
    UrlProbe("delete_journal", "DELETE", "/_sandbox/journal?{H}", "control"),
    UrlProbe("patch_app_key", "PATCH", "/_sandbox/apps/{H}", "control", body={"name": "x"}),
    UrlProbe(
        "patch_creator_name", "PATCH", "/_sandbox/creators/{H}", "control", body={"nickname": "x"}
    ),
    UrlProbe(
        "action_publish",
        "POST",
        "/_sandbox/publishes/{H}/actions",
        "control",
        body={"action": "fail"},
    ),
    UrlProbe("tiktok_unknown", "POST", "/v2/post/publish/{H}/", "envelope", bearer=True),
    UrlProbe("oauth_unknown", "POST", "/v2/oauth/{H}/", "oauth"),
]


def fill(url: str, ctx: Context, value: str) -> str:
    return (
        url.replace("{uid}", ctx.uid).replace("{publish_id}", ctx.publish_id).replace("{H}", value)
    )


@pytest.mark.parametrize("probe", URL_PROBES, ids=str)
@settings(max_examples=4)
@given(value=url_values, extra=extras)
@example(value=NAMED_URL[0], extra=())
@example(value=NAMED_URL[1], extra=())
@example(value=NAMED_URL[2], extra=())
@example(value=NAMED_URL[3], extra=())
@example(value=NAMED_URL[4], extra=())
@example(value=NAMED_URL[5], extra=())
def test_hostile_queries_and_paths(
    target: Target, probe: UrlProbe, value: str, extra: tuple[tuple[str, str | bytes], ...]
) -> None:
    ctx = target.fresh()
    url = fill(probe.url, ctx, value)
    headers = header_list(
        ctx, JSON_TYPE if probe.body else None, VALID_AUTH if probe.bearer else None, extra
    )
    body = json.dumps(probe.body).encode() if probe.body else None
    exercise(
        target,
        probe.method,
        probe.family,
        partial(request, target, probe.method, url, body, headers),
    )


# -- forms: the OAuth endpoints and the consent form ----------------------------------------


def form(pairs: list[tuple[str, str]]) -> bytes:
    """Pairs whose values are already percent-encoded."""
    return "&".join(f"{quote(k, safe='')}={v}" for k, v in pairs).encode("latin-1", "replace")


@dataclass(frozen=True)
class FormProbe:
    name: str
    path: str
    family: str
    pairs: Callable[[Target, Context], list[tuple[str, str]]]

    def __str__(self) -> str:
        return self.name


def _encoded(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, quote(v, safe="")) for k, v in pairs]


def _token_pairs(target: Target, ctx: Context) -> list[tuple[str, str]]:
    return _encoded(
        [
            ("client_key", AUDITED),
            ("client_secret", SECRETS[AUDITED]),
            ("grant_type", "authorization_code"),
            ("code", "not-a-code"),
            ("redirect_uri", AUDITED_REDIRECT),
            ("code_verifier", "v" * 43),
        ]
    )


def _refresh_pairs(target: Target, ctx: Context) -> list[tuple[str, str]]:
    return _encoded(
        [
            ("grant_type", "refresh_token"),
            ("refresh_token", "rft.not-a-refresh-token"),
            ("client_key", AUDITED),
            ("client_secret", SECRETS[AUDITED]),
        ]
    )


def _revoke_pairs(target: Target, ctx: Context) -> list[tuple[str, str]]:
    return _encoded(
        [("token", "act.not-a-token"), ("client_key", AUDITED), ("client_secret", SECRETS[AUDITED])]
    )


def _consent_pairs(target: Target, ctx: Context) -> list[tuple[str, str]]:
    """What the consent page would post (its CSRF token included), deciding to approve."""
    page = target.http.get(f"/v2/auth/authorize/?{authorize_query(AUDITED, AUDITED_REDIRECT)}")
    assert page.status_code == 200, page.text
    fields = consent_form(page.text).submit(("decision", "approve"), ("creator", ANA))
    return [("creator", quote(ANA)), *_encoded([(k, v) for k, v in fields if k != "creator"])]


FORM_PROBES = [
    FormProbe("token_code", "/v2/oauth/token/", "oauth", _token_pairs),
    FormProbe("token_refresh", "/v2/oauth/token/", "oauth", _refresh_pairs),
    FormProbe("revoke", "/v2/oauth/revoke/", "oauth", _revoke_pairs),
    FormProbe("consent", "/v2/auth/authorize/", "page", _consent_pairs),
]
FORM_TYPE = "application/x-www-form-urlencoded"
form_content_types = st.one_of(st.just(FORM_TYPE), st.sampled_from(ODD_CONTENT_TYPES))


@pytest.mark.parametrize("probe", FORM_PROBES, ids=str)
@settings(max_examples=25)
@given(
    field=st.integers(min_value=0, max_value=1000),
    value=url_values,
    content_type=form_content_types,
    shape=st.sampled_from(["replace", "add_key", "repeat", "raw_bytes"]),
    extra=extras,
)
@example(field=0, value=NAMED_URL[0], content_type=FORM_TYPE, shape="replace", extra=())
@example(field=0, value=NAMED_URL[1], content_type=FORM_TYPE, shape="replace", extra=())
@example(field=0, value=NAMED_URL[3], content_type=FORM_TYPE, shape="replace", extra=())
@example(field=1, value=NAMED_URL[5], content_type=FORM_TYPE, shape="raw_bytes", extra=())
def test_hostile_forms(
    target: Target,
    probe: FormProbe,
    field: int,
    value: str,
    content_type: str | bytes | None,
    shape: str,
    extra: tuple[tuple[str, str | bytes], ...],
) -> None:
    ctx = target.fresh()
    pairs = probe.pairs(target, ctx)
    key = pairs[field % len(pairs)][0]
    if shape == "replace":
        pairs = [(k, value if k == key else v) for k, v in pairs]
        body = form(pairs)
    elif shape == "add_key":
        body = form([*pairs, (value, value)])
    elif shape == "repeat":
        body = form([(key, value), *pairs])
    else:
        body = form(pairs) + b"&" + key.encode() + b"=\xff\xfe\x00" + value.encode()[:64]
    headers = header_list(ctx, content_type, None, extra)
    exercise(
        target, "POST", probe.family, partial(request, target, "POST", probe.path, body, headers)
    )


# -- the upload PUT -------------------------------------------------------------------------

CONTENT_RANGES: list[str | bytes] = [
    "bytes ²-999/1000",
    "bytes 0-999/" + HUGE,
    "bytes 0-" + HUGE + "/1000",
    "bytes 0-999/1e3",
    "bytes -1-999/1000",
    "bytes 999-0/1000",
    "bytes 0-0999/1000",
    "bytes */1000",
    "bytes=0-999/1000",
    "bytes 0-999/1000, bytes 0-1/2",
    "bytes 0-999/NaN",
    "",
    b"bytes 0-999/1000\xff",
    b"bytes \xd9\xa3-999/1000",
]
content_ranges = st.one_of(
    st.sampled_from(CONTENT_RANGES),
    st.builds(
        "bytes {}-{}/{}".format,
        st.integers(-(10**30), 10**30),
        st.integers(-(10**30), 10**30),
        st.integers(-(10**30), 10**30),
    ),
)


@settings(max_examples=40)
@given(
    part=st.sampled_from(["content_range", "content_type", "upload_id", "upload_token", "body"]),
    content_range=content_ranges,
    content_type=st.sampled_from(["video/mp4", "video/webm", *ODD_CONTENT_TYPES]),
    url_value=url_values,
    size=st.sampled_from([0, 1, 999, 1000, 1001, 70_000]),
)
@example(
    part="content_range",
    content_range="bytes ²-999/1000",
    content_type="video/mp4",
    url_value="",
    size=1000,
)
@example(
    part="content_range",
    content_range="bytes 0-999/" + HUGE,
    content_type="video/mp4",
    url_value="",
    size=1000,
)
@example(
    part="upload_token",
    content_range="",
    content_type="video/mp4",
    url_value="%ED%BF%BF",
    size=1000,
)
def test_hostile_upload_puts(
    target: Target,
    part: str,
    content_range: str | bytes,
    content_type: str | bytes | None,
    url_value: str,
    size: int,
) -> None:
    ctx = target.fresh()
    path = ctx.upload_path
    headers: list[tuple[str, str | bytes]] = [("Content-Range", "bytes 0-999/1000")]
    if part == "content_range":
        headers = [("Content-Range", content_range)]
    kind = content_type if part == "content_type" else "video/mp4"
    if kind is not None:
        headers.append(("Content-Type", kind))
    if part in ("upload_id", "upload_token"):
        query = dict(pair.split("=", 1) for pair in urlsplit(path).query.split("&"))
        query[part] = url_value
        path = "/upload/?" + "&".join(f"{k}={v}" for k, v in query.items())
    body = b"\0" * (size if part == "body" else 1000)
    exercise(target, "PUT", "upload", partial(request, target, "PUT", path, body, headers))


# -- raw sockets: bytes httpx will not send --------------------------------------------------


JSON_LINE = b"Content-Type: application/json"
FORM_LINE = b"Content-Type: application/x-www-form-urlencoded"
STATUS_PATH = b"/v2/post/publish/status/fetch/"
ANA_PATH = b"/_sandbox/creators/" + ANA.encode()
# (family, method, request target, header lines, body); TOKEN, PUBLISH and UPLOAD stand for
# the example's access token, publish_id and upload path. Host is 127.0.0.1:port unless a
# `Host:` line is given; `None` as the body sends no Content-Length.
RAW_CASES: list[tuple[str, bytes, bytes, list[bytes], bytes | None]] = [
    ("control", b"GET", b"/_sandbox/apps", [b"Host: \xff\xfe.example"], None),
    ("control", b"GET", b"/_sandbox/apps", [b"Host: 127.0.0.1:" + b"9" * 5000], None),
    ("control", b"GET", b"/_sandbox/apps", [b"Host: [::ffff:127.0.0.1"], None),
    ("control", b"GET", b"/_sandbox/apps", [b"Host: 127.0.0.1:8080, evil.example"], None),
    ("control", b"GET", b"/_sandbox/apps", [b"Host: xn--80ak6aa92e.com"], None),
    ("envelope", b"GET", b"/v2/user/info/?fields=open_id", [b"Host: \xc2\xb2"], None),
    (
        "control",
        b"POST",
        b"http://evil.example/_sandbox/clock",
        [JSON_LINE],
        b'{"advance_seconds": 60}',
    ),
    ("control", b"POST", b"/_sandbox/clock", [JSON_LINE, b"Content-Type: text/plain"], b"{}"),
    ("control", b"POST", b"/_sandbox/clock", [JSON_LINE + b"; charset=\xed\xbf\xbf"], b"{}"),
    ("control", b"PATCH", ANA_PATH, [JSON_LINE], b'{"nickname": "\xed\xbf\xbf"}'),
    ("control", b"PATCH", ANA_PATH, [JSON_LINE], b'\xef\xbb\xbf{"nickname": "B"}'),
    ("control", b"POST", b"/_sandbox/apps", [JSON_LINE], b'{"name": "\xc0\xaf"}'),
    (
        "envelope",
        b"POST",
        STATUS_PATH,
        [JSON_LINE, b"Authorization: Bearer TOKEN", b"Authorization: Bearer x"],
        b'{"publish_id": "PUBLISH"}',
    ),
    (
        "envelope",
        b"POST",
        STATUS_PATH,
        [JSON_LINE, b"Authorization: Bearer \xffTOKEN"],
        b'{"publish_id": "PUBLISH"}',
    ),
    (
        "envelope",
        b"POST",
        STATUS_PATH,
        [JSON_LINE + b"; charset=utf-16", b"Authorization: Bearer TOKEN"],
        '{"publish_id": "PUBLISH"}'.encode("utf-16"),
    ),
    (
        "envelope",
        b"POST",
        STATUS_PATH,
        [JSON_LINE, b"Authorization: Bearer TOKEN", b"X-!#$%&'*+.^_`|~: v"],
        b'{"publish_id": "PUBLISH"}',
    ),
    (
        "envelope",
        b"POST",
        STATUS_PATH,
        [JSON_LINE, b"Authorization: Bearer TOKEN", b"Transfer-Encoding: chunked"],
        b'{"publish_id": "PUBLISH"}',  # sent as one chunk with an extension
    ),
    (
        "oauth",
        b"POST",
        b"/v2/oauth/token/",
        [FORM_LINE + b"; charset=\xff"],
        b"client_key=\xff&grant_type=\x00",
    ),
    (
        "page",
        b"POST",
        b"/v2/auth/authorize/",
        [FORM_LINE],
        b"client_key=" + AUDITED.encode() + b"&creator=\xed\xbf\xbf&decision=approve",
    ),
    (
        "upload",
        b"PUT",
        b"UPLOAD",
        [b"Content-Type: video/mp4", b"Content-Range: bytes \xc2\xb2-999/1000"],
        b"\0" * 1000,
    ),
]


def raw_bytes(
    port: int, ctx: Context, method: bytes, target: bytes, lines: list[bytes], body: bytes | None
) -> bytes:
    """One whole HTTP/1.1 request, the example's values put in."""

    def put_in(text: bytes) -> bytes:
        return (
            text.replace(b"TOKEN", ctx.token.encode())
            .replace(b"PUBLISH", ctx.publish_id.encode())
            .replace(b"UPLOAD", ctx.upload_path.encode())
        )

    head = [method + b" " + put_in(target) + b" HTTP/1.1", b"Connection: close"]
    if not any(line.startswith(b"Host:") for line in lines):
        head.append(f"Host: 127.0.0.1:{port}".encode())
    chunked = any(line.startswith(b"Transfer-Encoding") for line in lines)
    if body is not None and not chunked:
        head.append(f"Content-Length: {len(put_in(body))}".encode())
    content = b"" if body is None else put_in(body)
    if chunked:
        content = f"{len(content):x};ext=1\r\n".encode() + content + b"\r\n0\r\n\r\n"
    return b"\r\n".join(head + [put_in(line) for line in lines]) + b"\r\n\r\n" + content


@pytest.mark.parametrize("case", range(len(RAW_CASES)))
def test_hostile_raw_requests(target: Target, case: int) -> None:
    family, method, path, lines, body = RAW_CASES[case]
    ctx = target.fresh()
    data = raw_bytes(target.port, ctx, method, path, lines, body)

    def send() -> Answer:
        raw = raw_request(target.port, data)
        return Answer(raw.status, raw.headers, raw.body)

    exercise(target, method.decode(), family, send)


def test_an_http_1_0_request_without_host_reaches_tiktok_paths(target: Target) -> None:
    ctx = target.fresh()
    data = (
        f"GET /v2/user/info/?fields=open_id HTTP/1.0\r\nAuthorization: Bearer {ctx.token}\r\n\r\n"
    )

    def send() -> Answer:
        raw = raw_request(target.port, data.encode())
        return Answer(raw.status, raw.headers, raw.body)

    answer = exercise(target, "GET", "envelope", send)
    assert answer.status == 200, answer


# -- the whole catalogue again, without resets ----------------------------------------------


def status_of(
    target: Target,
    method: str,
    path: str,
    body: bytes | None,
    headers: list[tuple[str, str | bytes]],
) -> int:
    """The answer's status; a connection the server broke counts as 599."""
    try:
        return request(target, method, path, body, headers).status
    except httpx.TransportError:
        return 599


def test_after_the_whole_run_every_page_still_renders(target: Target) -> None:
    """Every probe with the issue's named inputs, one after the other on one sandbox (no reset
    in between), then every page again: whatever the sandbox has stored, it can render."""
    ctx = target.fresh()
    statuses = []
    for probe in JSON_PROBES:
        for body in probe.bodies:
            for value in NAMED_JSON:
                headers = header_list(
                    ctx, JSON_TYPE, VALID_AUTH if probe.family == "envelope" else None, ()
                )
                path = probe.path.format(publish_id=ctx.publish_id)
                sent = body.replace(HOLE, value).encode()
                statuses.append((probe.name, status_of(target, probe.method, path, sent, headers)))
    for url_probe in URL_PROBES:
        for value in NAMED_URL:
            url = fill(url_probe.url, ctx, value)
            headers = header_list(ctx, None, VALID_AUTH if url_probe.bearer else None, ())
            body = json.dumps(url_probe.body).encode() if url_probe.body else None
            status = status_of(target, url_probe.method, url, body, headers)
            statuses.append((url_probe.name, status))
    assert [s for s in statuses if s[1] >= 500] == []
    target.sandbox.clear_faults()
    renders(target)
    snapshot(target.http)
