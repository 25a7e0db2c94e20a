"""Envelope and schema properties on every endpoint (ref 2.4-2.6, 4.1, 4.2, 5-12).

Every answer is read through `conformance.checks`: the `{data, error}` envelope with a documented
`error.code`, the HTTP status the reference gives that code (creator_info's intentional 200s
included), a 34-character `log_id`, and each endpoint's success fields; the OAuth endpoints
answer flat. The tests below then check what decides the code: the token, its scopes, the
fields asked for.
"""

from __future__ import annotations

import hashlib

import httpx
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from conformance import calls, checks, spec
from conformance.controller import ALL_SCOPES, Controller
from conformance.library import MediaLibrary, MediaServer
from conformance.plugin import examples
from conformance.report import example

PRINTABLE = st.characters(min_codepoint=33, max_codepoint=126)
TOKENISH = st.text(PRINTABLE, min_size=1, max_size=80)
KEYISH = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789"), min_size=4, max_size=40)
# Authorization headers that carry no live user token (None: no header at all).
BAD_AUTHORIZATION = st.one_of(
    st.none(),
    st.sampled_from(["Bearer", "Basic dXNlcjpwYXNz", "act.", "Bearer act.", "Bearer  act.x"]),
    TOKENISH.map(lambda t: f"Bearer {t}"),
    TOKENISH.map(lambda t: f"Bearer act.{t}"),
    TOKENISH.map(lambda t: f"Bearer rft.{t}"),
    TOKENISH.map(lambda t: f"Basic {t}"),
    TOKENISH,
)
SCOPE_SETS = st.sets(st.sampled_from(ALL_SCOPES), min_size=1).map(lambda s: tuple(sorted(s)))


def needed_scopes(endpoint: str, mode: str = "DIRECT_POST") -> set[str]:
    """ref 3: the scopes that open an endpoint (any one of them)."""
    if endpoint == "content_init":
        return {"video.publish"} if mode == "DIRECT_POST" else {"video.upload"}
    return spec.SCOPES[endpoint]


@st.composite
def valid_plans(draw: st.DrawFn) -> tuple[int, int, int]:
    """(video_size, chunk_size, total_chunk_count) that follow every rule of ref 10.1."""
    if draw(st.booleans()):
        size = draw(st.integers(1, spec.MIN_CHUNK - 1))
        return size, size, 1
    chunk = draw(st.integers(spec.MIN_CHUNK, spec.MAX_CHUNK))
    count = draw(st.integers(1, min(spec.MAX_CHUNKS, spec.MAX_VIDEO_BYTES // chunk)))
    size = chunk * count + draw(st.integers(0, chunk - 1))
    assume(spec.chunk_plan_ok(size, chunk, count))
    return size, chunk, count


# -- without a controller: any target ------------------------------------------------------------


@pytest.mark.behaviour("bad_token_is_access_token_invalid", "4.2")
@examples()
@given(endpoint=st.sampled_from(checks.ENVELOPE_ENDPOINTS), authorization=BAD_AUTHORIZATION)
def test_every_endpoint_refuses_a_request_without_a_live_token(
    http: httpx.Client, endpoint: str, authorization: str | None
) -> None:
    """A well-formed request whose only fault is the token: 401 access_token_invalid."""
    example("bad_token_is_access_token_invalid")
    headers = {} if authorization is None else {"Authorization": authorization}
    if endpoint == "user_info":
        response = http.get(spec.PATHS[endpoint], params={"fields": "open_id"}, headers=headers)
    else:
        body = calls.valid_body(endpoint)
        headers["Content-Type"] = calls.JSON_TYPE
        response = http.post(spec.PATHS[endpoint], headers=headers, json=body)
    answer = checks.envelope(response, endpoint)
    assert (answer.status, answer.code) == (401, "access_token_invalid"), answer


@pytest.mark.behaviour("oauth_errors_are_flat", "2.6")
@examples()
@given(
    endpoint=st.sampled_from(checks.OAUTH_ENDPOINTS),
    grant_type=st.one_of(
        st.sampled_from(["authorization_code", "refresh_token", "client_credentials"]), KEYISH
    ),
    client_key=KEYISH,
    client_secret=KEYISH,
    secret=TOKENISH,
)
def test_oauth_endpoints_answer_unknown_clients_flat(
    http: httpx.Client,
    endpoint: str,
    grant_type: str,
    client_key: str,
    client_secret: str,
    secret: str,
) -> None:
    """Every parameter present but the client unknown: a flat invalid_client (ref 2.6: "unknown
    key, bad secret"); an unknown grant_type may be named first."""
    example("oauth_errors_are_flat")
    fields = {"client_key": client_key, "client_secret": client_secret}
    if endpoint == "revoke":
        fields["token"] = secret
    else:
        fields |= {"grant_type": grant_type, "code": secret, "refresh_token": secret}
        fields["redirect_uri"] = "https://conformance.example/callback"
    error = checks.oauth_error(calls.form(http, endpoint, fields))
    known = grant_type in ("authorization_code", "refresh_token", "client_credentials")
    expected = {"invalid_client"} | (set() if known else {"unsupported_grant_type"})
    assert error in expected


# -- with a controller -------------------------------------------------------------------------


@pytest.mark.behaviour("scopes_open_endpoints", "3, 4.2")
@examples()
@given(
    scopes=SCOPE_SETS,
    endpoint=st.sampled_from(checks.ENVELOPE_ENDPOINTS),
    mode=st.sampled_from(["DIRECT_POST", "MEDIA_UPLOAD"]),
)
def test_the_granted_scopes_decide_every_endpoint(
    http: httpx.Client,
    controller: Controller,
    media: MediaLibrary,
    media_server: MediaServer,
    scopes: tuple[str, ...],
    endpoint: str,
    mode: str,
) -> None:
    """A valid request with a token granted `scopes`: 401 scope_not_authorized when none of the
    endpoint's scopes was granted (ref 3, 4.2), otherwise the endpoint's success shape."""
    example("scopes_open_endpoints")
    app = calls.media_app(controller, media_server.prefix)
    actor = calls.arrange(controller, scopes=scopes, app=app)
    token = actor.access_token
    body = calls.valid_body(endpoint, photo_url=media_server.url(media.image(width=720).name))
    if endpoint == "content_init":
        body = calls.photo_init(body["source_info"]["photo_images"], mode)
    if endpoint in ("status_fetch", "cancel") and {"video.upload", "video.publish"} & set(scopes):
        if "video.upload" in scopes:
            made, body = "inbox_video_init", {"source_info": calls.file_upload()}
        else:
            made, body = "video_init", calls.video_init(calls.file_upload())
        init = checks.envelope(calls.post(http, made, token, body), made, source="FILE_UPLOAD")
        body = {"publish_id": (init.data or {})["publish_id"]}
    answer = checks.envelope(
        calls.call(http, endpoint, token, body), endpoint, source="FILE_UPLOAD"
    )
    if not needed_scopes(endpoint, mode) & set(scopes):
        assert (answer.status, answer.code) == (401, "scope_not_authorized"), answer
    elif endpoint == "cancel":  # ref 12: only pulls are cancellable
        assert answer.code in ("ok", "publish_not_cancellable"), answer
    else:
        assert answer.code == "ok", answer
    controller.settle()


@pytest.mark.behaviour("user_info_requested_fields_only", "5")
@examples()
@given(
    scopes=SCOPE_SETS,
    fields=st.lists(st.sampled_from(sorted(checks.USER_FIELDS)), min_size=1, unique=True),
)
def test_user_info_answers_the_requested_fields(
    http: httpx.Client, controller: Controller, scopes: tuple[str, ...], fields: list[str]
) -> None:
    """ref 5: exactly the fields asked for, typed; scope_not_authorized without
    user.info.basic; scope_permission_missed for a field whose scope was not granted (the
    reference's reading of the code; recorded answers say scope_not_authorized 401)."""
    example("user_info_requested_fields_only")
    actor = calls.arrange(controller, scopes=scopes)
    response = calls.user_info(http, actor.access_token, ",".join(fields))
    answer = checks.envelope(response, "user_info")
    missing = {checks.USER_FIELDS[f][0] for f in fields} - set(scopes)
    if "user.info.basic" not in scopes:
        assert (answer.status, answer.code) == (401, "scope_not_authorized"), answer
    elif missing:
        refusals = {(400, "scope_permission_missed"), (401, "scope_not_authorized")}
        assert (answer.status, answer.code) in refusals, answer
    else:
        assert answer.code == "ok", answer
        user = (answer.data or {})["user"]
        assert set(user) == set(fields)
        if "open_id" in fields:
            assert user["open_id"] == actor.tokens["open_id"]  # ref 2.4, 5: the same user id


@pytest.mark.behaviour("creator_info_reflects_the_creator", "6")
@examples()
@given(
    account=st.sampled_from(["public", "private"]),
    comment_disabled=st.booleans(),
    duet_disabled=st.booleans(),
    stitch_disabled=st.booleans(),
    max_seconds=st.sampled_from([1, 60, 180, 300, 600, 3600]),
)
def test_creator_info_describes_the_creator(
    http: httpx.Client,
    controller: Controller,
    account: str,
    comment_disabled: bool,
    duet_disabled: bool,
    stitch_disabled: bool,
    max_seconds: int,
) -> None:
    """ref 6: the options of the account type; duet and stitch off for private accounts."""
    example("creator_info_reflects_the_creator")
    actor = calls.arrange(
        controller,
        account=account,
        comment_disabled=comment_disabled,
        duet_disabled=duet_disabled,
        stitch_disabled=stitch_disabled,
        max_video_post_duration_sec=max_seconds,
    )
    answer = checks.envelope(calls.call(http, "creator_info", actor.access_token), "creator_info")
    assert answer.code == "ok", answer
    data = answer.data or {}
    assert set(data["privacy_level_options"]) == spec.PRIVACY_OPTIONS[account]
    private = account == "private"
    assert data["comment_disabled"] is comment_disabled
    assert data["duet_disabled"] is (duet_disabled or private)
    assert data["stitch_disabled"] is (stitch_disabled or private)
    assert data["max_video_post_duration_sec"] == max_seconds
    assert data["creator_username"] == actor.username


@pytest.mark.behaviour("init_answers_publish_id_and_upload_url", "7.3, 8, 9, 11")
@examples()
@given(
    endpoint=st.sampled_from(["video_init", "inbox_video_init", "content_init"]),
    source=st.sampled_from(["FILE_UPLOAD", "PULL_FROM_URL"]),
    plan=valid_plans(),
    mode=st.sampled_from(["DIRECT_POST", "MEDIA_UPLOAD"]),
)
def test_inits_answer_a_publish_id_and_the_status_follows_the_source(
    http: httpx.Client,
    controller: Controller,
    media: MediaLibrary,
    media_server: MediaServer,
    endpoint: str,
    source: str,
    plan: tuple[int, int, int],
    mode: str,
) -> None:
    """publish_id <= 64 characters; upload_url <= 256 for FILE_UPLOAD only (ref 7.3, 8, 9);
    status/fetch then answers a status of that source (ref 11: PROCESSING_UPLOAD is
    FILE_UPLOAD's, PROCESSING_DOWNLOAD PULL_FROM_URL's)."""
    example("init_answers_publish_id_and_upload_url")
    actor = calls.arrange(controller, app=calls.media_app(controller, media_server.prefix))
    if endpoint == "content_init":
        source = "PULL_FROM_URL"
        body = calls.photo_init([media_server.url(media.image(width=720).name)], mode)
    else:
        size, chunk, count = plan
        source_info = (
            {"source": source, "video_size": size, "chunk_size": chunk, "total_chunk_count": count}
            if source == "FILE_UPLOAD"
            else calls.pull(media_server.url(media.video().name))
        )
        body = (
            calls.video_init(source_info)
            if endpoint == "video_init"
            else {"source_info": source_info}
        )
    init = checks.envelope(
        calls.post(http, endpoint, actor.access_token, body), endpoint, source=source
    )
    assert init.code == "ok", init
    publish_id = (init.data or {})["publish_id"]
    status = calls.post(http, "status_fetch", actor.access_token, {"publish_id": publish_id})
    answer = checks.envelope(status, "status_fetch")
    assert answer.code == "ok", answer
    other = "PROCESSING_DOWNLOAD" if source == "FILE_UPLOAD" else "PROCESSING_UPLOAD"
    assert (answer.data or {})["status"] != other, answer
    controller.settle()


@pytest.mark.behaviour("token_answers_are_flat", "2.4, 2.5")
@examples()
@given(
    scopes=SCOPE_SETS,
    pkce=st.booleans(),
    verifier=st.text(
        st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"),
        min_size=43,
        max_size=128,
    ),
)
def test_token_and_revoke_answers_have_the_documented_shapes(
    http: httpx.Client, controller: Controller, scopes: tuple[str, ...], pkce: bool, verifier: str
) -> None:
    """Code exchange and refresh: flat, `act.`/`rft.`, the granted scopes (ref 2.4); client
    credentials: `clt.` and three fields; revoke: HTTP 200 and an empty body (ref 2.5)."""
    example("token_answers_are_flat")
    app = controller.create_app()
    user = controller.create_creator()
    challenge = hashlib.sha256(verifier.encode()).hexdigest() if pkce else None  # ref 2.1: hex
    code = controller.authorize(app.client_key, user, scopes, code_challenge=challenge)
    exchange = calls.code_exchange(app, code, verifier if pkce else None)
    token = checks.token_success(calls.form(http, "token", exchange))
    assert set(token["scope"].split(",")) == set(scopes)

    refresh = {
        "client_key": app.client_key,
        "client_secret": app.client_secret,
        "grant_type": "refresh_token",
        "refresh_token": token["refresh_token"],
    }
    refreshed = checks.token_success(calls.form(http, "token", refresh))
    assert refreshed["open_id"] == token["open_id"]
    assert set(refreshed["scope"].split(",")) == set(scopes)

    credentials = {
        "client_key": app.client_key,
        "client_secret": app.client_secret,
        "grant_type": "client_credentials",
    }
    checks.client_token_success(calls.form(http, "token", credentials))

    revoke = {
        "client_key": app.client_key,
        "client_secret": app.client_secret,
        "token": refreshed["access_token"],
    }
    revoked = calls.form(http, "revoke", revoke)
    assert (revoked.status_code, revoked.content.strip()) == (200, b""), revoked.text
