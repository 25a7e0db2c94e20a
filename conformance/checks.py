"""What a documented answer looks like, as assertions: the `{data, error}` envelope (ref 4.1,
4.2), the flat OAuth shapes (ref 2.4-2.6) and each endpoint's success fields (ref 5-12).

Every check reads the reference's tables in `conformance.spec` and returns what it parsed, so a
test asserts the shape once and then its own expectation:

    answer = envelope(response, "video_init", source="FILE_UPLOAD")
    assert answer.code == "ok"
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from conformance import spec
from conformance.controller import ALL_SCOPES

# The endpoints answering in the {data, error} envelope (ref 4.1); token and revoke are flat.
ENVELOPE_ENDPOINTS = tuple(name for name in spec.PATHS if name not in ("token", "revoke"))
OAUTH_ENDPOINTS = ("token", "revoke")

# ref 5: user info fields, their scope and JSON type.
USER_FIELDS: dict[str, tuple[str, type]] = {
    "open_id": ("user.info.basic", str),
    "union_id": ("user.info.basic", str),
    "avatar_url": ("user.info.basic", str),
    "avatar_url_100": ("user.info.basic", str),
    "avatar_large_url": ("user.info.basic", str),
    "display_name": ("user.info.basic", str),
    "bio_description": ("user.info.profile", str),
    "profile_deep_link": ("user.info.profile", str),
    "is_verified": ("user.info.profile", bool),
    "username": ("user.info.profile", str),
    "follower_count": ("user.info.stats", int),
    "following_count": ("user.info.stats", int),
    "likes_count": ("user.info.stats", int),
    "video_count": ("user.info.stats", int),
}
# ref 6: creator_info's data fields and their JSON types.
CREATOR_INFO_FIELDS: dict[str, type] = {
    "creator_avatar_url": str,
    "creator_username": str,
    "creator_nickname": str,
    "privacy_level_options": list,
    "comment_disabled": bool,
    "duet_disabled": bool,
    "stitch_disabled": bool,
    "max_video_post_duration_sec": int,
}
MAX_PUBLISH_ID, MAX_UPLOAD_URL = 64, 256  # ref 7.3, 8, 9


@dataclass(frozen=True)
class Answer:
    """An envelope answer, checked: its HTTP status, `error.code`, `error.message` and `data`."""

    status: int
    code: str
    message: str
    data: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        return self.code == "ok"


def json_body(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(
            f"{response.request.method} {response.request.url.path}: HTTP {response.status_code} "
            f"is not JSON: {response.content[:200]!r}"
        ) from exc


def expected_status(endpoint: str, code: str) -> set[int]:
    """ref 4.2, 6-12: the HTTP status for an `error.code` on an endpoint."""
    if code == "internal_error":
        return set(range(500, 600))
    if endpoint == "creator_info" and code in spec.CREATOR_INFO_200_ERRORS:
        return {200}  # ref 6: intentional
    return {spec.ENVELOPE_ERRORS[code]}


def envelope(response: httpx.Response, endpoint: str, *, source: str | None = None) -> Answer:
    """Check a `{data, error}` answer (ref 4.1, 4.2) and, on success, the endpoint's fields.

    `source` ("FILE_UPLOAD" / "PULL_FROM_URL") tells an init's success whether `upload_url` is
    due (ref 7.3, 8).
    """
    where = f"{endpoint} answered HTTP {response.status_code} {response.text[:300]!r}"
    body = json_body(response)
    assert isinstance(body, dict), f"{where}: not a JSON object"
    error = body.get("error")
    assert isinstance(error, dict), f"{where}: no `error` object (ref 4.1)"
    code, message, log_id = error.get("code"), error.get("message"), error.get("log_id")
    assert isinstance(code, str), f"{where}: error.code is not a string"
    assert isinstance(message, str), f"{where}: error.message is not a string"
    assert isinstance(log_id, str), f"{where}: error.log_id is not a string (ref 4.1)"
    assert len(log_id) == spec.LOG_ID_LENGTH, f"{where}: log_id is not 34 characters (ref 4.1)"
    assert code in spec.ENVELOPE_ERRORS, f"{where}: {code!r} is not a documented code (ref 4.2)"
    statuses = expected_status(endpoint, code)
    assert response.status_code in statuses, (
        f"{where}: {code} goes with HTTP {sorted(statuses)[0]}"
        f"{' (5xx)' if len(statuses) > 1 else ''} (ref 4.2)"
    )
    data = body.get("data")
    if "data" in body:
        assert isinstance(data, dict), f"{where}: `data` is not an object (ref 4.1)"
    elif code == "ok":
        assert endpoint == "cancel", f"{where}: success without `data` (ref 4.1; only cancel)"
    if code == "ok":
        SUCCESS[endpoint](data or {}, where, source)
    return Answer(response.status_code, code, message, data)


# -- success shapes, per endpoint ----------------------------------------------------------------


def _user_info(data: dict[str, Any], where: str, source: str | None) -> None:
    user = data.get("user")
    assert isinstance(user, dict), f"{where}: no data.user object (ref 5)"
    for name, value in user.items():
        assert name in USER_FIELDS, f"{where}: data.user.{name} is not a documented field (ref 5)"
        kind = USER_FIELDS[name][1]
        assert _is(value, kind), f"{where}: data.user.{name} is not a {kind.__name__} (ref 5)"


def _creator_info(data: dict[str, Any], where: str, source: str | None) -> None:
    for name, kind in CREATOR_INFO_FIELDS.items():
        assert name in data, f"{where}: data.{name} is missing (ref 6)"
        assert _is(data[name], kind), f"{where}: data.{name} is not a {kind.__name__} (ref 6)"
    options = data["privacy_level_options"]
    assert options, f"{where}: privacy_level_options is empty (ref 6)"
    assert set(options) <= set(spec.PRIVACY_LEVELS), f"{where}: unknown privacy level (ref 7.1)"
    assert data["max_video_post_duration_sec"] > 0, f"{where}: max duration must be positive"


def _init(data: dict[str, Any], where: str, source: str | None) -> None:
    publish_id = data.get("publish_id")
    assert isinstance(publish_id, str) and publish_id, f"{where}: no data.publish_id (ref 7.3)"
    assert len(publish_id) <= MAX_PUBLISH_ID, f"{where}: publish_id over 64 characters (ref 7.3)"
    if source == "FILE_UPLOAD":
        url = data.get("upload_url")
        assert isinstance(url, str), f"{where}: FILE_UPLOAD without data.upload_url (ref 7.3)"
        assert len(url) <= MAX_UPLOAD_URL, f"{where}: upload_url over 256 characters (ref 7.3)"
        parts = urlsplit(url)
        assert parts.scheme in ("http", "https") and parts.netloc, f"{where}: upload_url {url!r}"
    elif source == "PULL_FROM_URL":
        assert "upload_url" not in data, f"{where}: upload_url is for FILE_UPLOAD only (ref 7.3)"


def _content_init(data: dict[str, Any], where: str, source: str | None) -> None:
    _init(data, where, "PULL_FROM_URL")  # ref 9: photos are pulled; data.publish_id only


def _status(data: dict[str, Any], where: str, source: str | None) -> None:
    status = data.get("status")
    assert status in spec.STATUSES, f"{where}: status {status!r} is not documented (ref 11)"
    reason = data.get("fail_reason")
    if status == "FAILED":
        assert reason in spec.FAIL_REASONS, f"{where}: fail_reason {reason!r} (ref 11)"
    else:
        assert not reason, f"{where}: fail_reason is set only when FAILED (ref 11)"
    ids = data.get("publicaly_available_post_id", [])
    assert isinstance(ids, list), f"{where}: publicaly_available_post_id is not a list (ref 11)"
    assert all(_is_count(i) for i in ids), f"{where}: post ids are int64 (ref 11)"
    for counter in ("uploaded_bytes", "downloaded_bytes"):
        if data.get(counter) is not None:
            assert _is_count(data[counter]), f"{where}: {counter} is not an int64 (ref 11)"


def _videos(data: dict[str, Any], where: str, source: str | None, paged: bool = False) -> None:
    """ref 5.1: `videos` (Video Objects), `cursor` (int64) and `has_more` (bool); the query
    may leave the last two out, the list may not (`paged`)."""
    videos = data.get("videos")
    assert isinstance(videos, list), f"{where}: no data.videos list (ref 5.1)"
    for video in videos:
        assert isinstance(video, dict), f"{where}: a video is not an object (ref 5.1)"
        for name, value in video.items():
            assert name in spec.VIDEO_FIELDS, f"{where}: {name} is not a Video Object field"
            kind = spec.VIDEO_FIELDS[name]
            assert _is(value, kind), f"{where}: {name} is not a {kind.__name__} (ref 5.1)"
    if "cursor" in data or paged:
        assert _is_count(data.get("cursor")), f"{where}: data.cursor is not an int64 (ref 5.1)"
    if "has_more" in data or paged:
        assert isinstance(data.get("has_more"), bool), f"{where}: data.has_more (ref 5.1)"


def _video_list(data: dict[str, Any], where: str, source: str | None) -> None:
    _videos(data, where, source, paged=True)


def _nothing(data: dict[str, Any], where: str, source: str | None) -> None:
    """cancel: `{"error": {...}}`, data optional (ref 12)."""


SUCCESS = {
    "user_info": _user_info,
    "video_list": _video_list,
    "video_query": _videos,
    "creator_info": _creator_info,
    "video_init": _init,
    "inbox_video_init": _init,
    "content_init": _content_init,
    "status_fetch": _status,
    "cancel": _nothing,
}


def _is(value: Any, kind: type) -> bool:
    if kind is int:  # JSON has no int type of its own: a bool is not one
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _is_count(value: Any) -> bool:
    """An int64 >= 0, or its decimal string (ref 11, 3p: some servers send strings)."""
    if isinstance(value, str):
        return value.isdigit()
    return _is(value, int) and 0 <= value < 2**63


# -- OAuth (ref 2.4-2.6) ---------------------------------------------------------------------------


def oauth_error(response: httpx.Response) -> str:
    """Check TikTok's flat OAuth error (ref 2.6) and return its `error`.

    The HTTP status is undocumented (OQ 2: 200 is observed), but it is never a 5xx unless the
    error says the server failed.
    """
    where = f"OAuth answered HTTP {response.status_code} {response.text[:300]!r}"
    body = json_body(response)
    assert isinstance(body, dict), f"{where}: not a JSON object"
    error = body.get("error")
    assert isinstance(error, str), f"{where}: `error` is not a string: not the flat shape (ref 2.6)"
    assert "data" not in body, f"{where}: OAuth errors are not enveloped (ref 2.6)"
    assert error in spec.OAUTH_ERRORS, f"{where}: {error!r} is not a documented error (ref 2.6)"
    assert isinstance(body.get("error_description"), str), f"{where}: no error_description"
    log_id = body.get("log_id")
    assert isinstance(log_id, str) and log_id, f"{where}: no log_id (ref 2.6)"
    if error not in ("server_error", "temporarily_unavailable"):
        assert response.status_code < 500, f"{where}: {error} with a 5xx"
    return error


def no_tokens(response: httpx.Response, why: str) -> None:
    """The answer hands out no token: `why` says which rule that breaks (ref 2.4-2.6)."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return
    issued = isinstance(body, dict) and "access_token" in body
    assert not issued, f"{why}: got HTTP {response.status_code} {response.text[:300]!r}"


USER_TOKEN_FIELDS: dict[str, type] = {
    "access_token": str,
    "expires_in": int,
    "open_id": str,
    "refresh_expires_in": int,
    "refresh_token": str,
    "scope": str,
    "token_type": str,
}


def token_success(response: httpx.Response) -> dict[str, Any]:
    """Check a user token answer (ref 2.4): flat, every field typed, `act.`/`rft.` prefixes."""
    where = f"token answered HTTP {response.status_code} {response.text[:300]!r}"
    assert response.status_code == 200, where
    body = json_body(response)
    assert isinstance(body, dict), f"{where}: not a JSON object"
    assert "data" not in body and "error" not in body, f"{where}: the success is flat (ref 2.4)"
    for name, kind in USER_TOKEN_FIELDS.items():
        assert _is(body.get(name), kind), f"{where}: {name} is not a {kind.__name__} (ref 2.4)"
    for name, prefix in spec.TOKEN_PREFIXES.items():
        assert body[name].startswith(prefix), f"{where}: {name} does not start {prefix}"
    assert body["token_type"] == "Bearer", where
    assert body["expires_in"] > 0 and body["refresh_expires_in"] > 0, where
    assert set(body["scope"].split(",")) <= set(ALL_SCOPES), f"{where}: unknown scope"
    return dict(body)


def client_token_success(response: httpx.Response) -> dict[str, Any]:
    """ref 2.4: client_credentials answers only access_token (`clt.`), expires_in, token_type."""
    where = f"token answered HTTP {response.status_code} {response.text[:300]!r}"
    assert response.status_code == 200, where
    body = json_body(response)
    assert isinstance(body, dict), where
    assert set(body) == {"access_token", "expires_in", "token_type"}, f"{where} (ref 2.4)"
    assert isinstance(body["access_token"], str), where
    assert body["access_token"].startswith(spec.CLIENT_TOKEN_PREFIX), where
    assert _is(body["expires_in"], int) and body["expires_in"] > 0, where
    assert body["token_type"] == "Bearer", where
    return dict(body)
