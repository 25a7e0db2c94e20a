"""TikTok's wire format, with no I/O: `httpx.Request` builders and `httpx.Response` parsers.

Both clients (sync and async) send exactly these requests and read answers only through these
parsers, so the envelope rule (ref 4.1: any `error.code` but "ok" is a failure, even with
HTTP 200) and the OAuth shapes (ref 2.4-2.6: flat JSON, errors often with HTTP 200) live here
once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import httpx

from client.errors import (
    UPLOAD_ERRORS,
    OAuthError,
    TikTokError,
    UploadError,
    error_class,
    oauth_error_class,
)

API_BASE = "https://open.tiktokapis.com"  # ref 1

TOKEN_PATH = "/v2/oauth/token/"
REVOKE_PATH = "/v2/oauth/revoke/"
USER_INFO_PATH = "/v2/user/info/"
VIDEO_LIST_PATH = "/v2/video/list/"
VIDEO_QUERY_PATH = "/v2/video/query/"
CREATOR_INFO_PATH = "/v2/post/publish/creator_info/query/"
VIDEO_INIT_PATH = "/v2/post/publish/video/init/"
INBOX_VIDEO_INIT_PATH = "/v2/post/publish/inbox/video/init/"
CONTENT_INIT_PATH = "/v2/post/publish/content/init/"
STATUS_PATH = "/v2/post/publish/status/fetch/"
CANCEL_PATH = "/v2/post/publish/cancel/"

JSON_TYPE = "application/json; charset=UTF-8"  # ref 6-12
FORM_TYPE = "application/x-www-form-urlencoded"  # ref 2.4


def _url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


# -- OAuth (ref 2.4, 2.5) ---------------------------------------------------------------------


def token_request(base_url: str, form: dict[str, str]) -> httpx.Request:
    return httpx.Request(
        "POST", _url(base_url, TOKEN_PATH), data=form, headers={"Content-Type": FORM_TYPE}
    )


def exchange_code_request(
    base_url: str,
    client_key: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    code_verifier: str | None = None,
) -> httpx.Request:
    form = {
        "client_key": client_key,
        "client_secret": client_secret,
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": redirect_uri,
    }
    if code_verifier:
        form["code_verifier"] = code_verifier
    return token_request(base_url, form)


def refresh_request(
    base_url: str, client_key: str, client_secret: str, refresh_token: str
) -> httpx.Request:
    form = {
        "client_key": client_key,
        "client_secret": client_secret,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    }
    return token_request(base_url, form)


def revoke_request(base_url: str, client_key: str, client_secret: str, token: str) -> httpx.Request:
    form = {"client_key": client_key, "client_secret": client_secret, "token": token}
    return httpx.Request(
        "POST", _url(base_url, REVOKE_PATH), data=form, headers={"Content-Type": FORM_TYPE}
    )


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


def oauth_error(response: httpx.Response, body: Any) -> OAuthError:
    body = body if isinstance(body, dict) else {}
    error = str(body.get("error") or f"http_{response.status_code}")
    return oauth_error_class(error)(
        error,
        str(body.get("error_description") or ""),
        str(body.get("log_id") or response.headers.get("x-tt-logid", "")),
        response.status_code,
    )


def parse_token(response: httpx.Response) -> dict[str, Any]:
    """The flat token body, or its OAuth error. ref 2.6: the status says little (errors come
    with 200), so the body decides: an `error`, or no `access_token`, is a failure."""
    body = _json_or_none(response)
    if (
        not isinstance(body, dict)
        or body.get("error")
        or not body.get("access_token")
        or response.status_code >= 400
    ):
        raise oauth_error(response, body)
    return body


def parse_revoke(response: httpx.Response) -> None:
    """ref 2.5: success is an empty body; an `error` in a body is a failure whatever the
    status."""
    body = _json_or_none(response) if response.content.strip() else None
    if response.status_code >= 400 or (isinstance(body, dict) and body.get("error")):
        raise oauth_error(response, body)


# -- the v2 envelope (ref 4.1) ----------------------------------------------------------------


def _headers(access_token: str, json_body: bool = True) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {access_token}"}
    if json_body:
        headers["Content-Type"] = JSON_TYPE
    return headers


def _post_json(
    base_url: str, path: str, access_token: str, body: dict[str, Any] | None
) -> httpx.Request:
    content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    return httpx.Request(
        "POST", _url(base_url, path), headers=_headers(access_token), content=content
    )


def api_error(response: httpx.Response, body: Any) -> TikTokError:
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = str(error.get("code") or f"http_{response.status_code}")
    message = str(error.get("message") or ("" if error else response.reason_phrase))
    log_id = str(error.get("log_id") or response.headers.get("x-tt-logid", ""))
    return error_class(code)(code, message, log_id, response.status_code)


def parse_envelope(response: httpx.Response) -> dict[str, Any]:
    """`data` of a `{data, error}` answer; raise its error when `error.code` is not "ok",
    whatever the HTTP status (ref 4.1, 6: creator_info answers some errors with 200)."""
    body = _json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    if not isinstance(body, dict) or code != "ok" or response.status_code >= 400:
        raise api_error(response, body)
    data = body.get("data")
    return data if isinstance(data, dict) else {}


def creator_info_request(base_url: str, access_token: str) -> httpx.Request:
    return _post_json(base_url, CREATOR_INFO_PATH, access_token, None)  # ref 6: no body


def user_info_request(base_url: str, access_token: str, fields: Iterable[str]) -> httpx.Request:
    return httpx.Request(
        "GET",
        _url(base_url, USER_INFO_PATH),
        params={"fields": ",".join(fields)},
        headers=_headers(access_token, json_body=False),
    )


def parse_user_info(response: httpx.Response) -> dict[str, Any]:
    user = parse_envelope(response).get("user")
    return user if isinstance(user, dict) else {}


def _display_post(
    base_url: str, path: str, access_token: str, fields: Iterable[str], body: dict[str, Any]
) -> httpx.Request:
    """ref 5.1: the Display API's POSTs take `fields` in the query and a JSON body."""
    return httpx.Request(
        "POST",
        _url(base_url, path),
        params={"fields": ",".join(fields)},
        headers=_headers(access_token),
        content=json.dumps(body).encode("utf-8"),
    )


def video_list_request(
    base_url: str,
    access_token: str,
    fields: Iterable[str],
    cursor: int | None = None,
    max_count: int | None = None,
) -> httpx.Request:
    body = {k: v for k, v in (("cursor", cursor), ("max_count", max_count)) if v is not None}
    return _display_post(base_url, VIDEO_LIST_PATH, access_token, fields, body)


def video_query_request(
    base_url: str, access_token: str, fields: Iterable[str], video_ids: Iterable[str]
) -> httpx.Request:
    body = {"filters": {"video_ids": list(video_ids)}}
    return _display_post(base_url, VIDEO_QUERY_PATH, access_token, fields, body)


def video_init_request(
    base_url: str, access_token: str, post_info: dict[str, Any], source_info: dict[str, Any]
) -> httpx.Request:
    body = {"post_info": post_info, "source_info": source_info}
    return _post_json(base_url, VIDEO_INIT_PATH, access_token, body)


def inbox_video_init_request(
    base_url: str, access_token: str, source_info: dict[str, Any]
) -> httpx.Request:
    # ref 8: only source_info
    return _post_json(base_url, INBOX_VIDEO_INIT_PATH, access_token, {"source_info": source_info})


def content_init_request(
    base_url: str,
    access_token: str,
    post_mode: str,
    post_info: dict[str, Any],
    photo_images: list[str],
    photo_cover_index: int,
) -> httpx.Request:
    body = {
        "media_type": "PHOTO",
        "post_mode": post_mode,
        "post_info": post_info,
        "source_info": {
            "source": "PULL_FROM_URL",
            "photo_images": photo_images,
            "photo_cover_index": photo_cover_index,
        },
    }
    return _post_json(base_url, CONTENT_INIT_PATH, access_token, body)


def status_request(base_url: str, access_token: str, publish_id: str) -> httpx.Request:
    return _post_json(base_url, STATUS_PATH, access_token, {"publish_id": publish_id})


def cancel_request(base_url: str, access_token: str, publish_id: str) -> httpx.Request:
    return _post_json(base_url, CANCEL_PATH, access_token, {"publish_id": publish_id})


# -- media transfer (ref 10.2, 10.3) ----------------------------------------------------------


def chunk_request(
    upload_url: str, first: int, last: int, total: int, content_type: str
) -> httpx.Request:
    """The PUT's headers; the body (last - first + 1 bytes) is attached by the I/O side, which
    streams it from the file. The upload_url is used exactly as returned (ref 1)."""
    return httpx.Request(
        "PUT",
        upload_url,
        headers={
            "Content-Type": content_type,
            "Content-Length": str(last - first + 1),
            "Content-Range": f"bytes {first}-{last}/{total}",
        },
    )


PROGRESS = re.compile(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)/(\d+)\s*$")


def received_bytes(response: httpx.Response) -> int | None:
    """How many bytes the server holds, from its `Content-Range` progress header (ref 10.3).

    `bytes 0-{N}/{total}` is read as N the last byte received, inclusive (so N + 1 bytes), as
    HTTP ranges are; `bytes */{total}` means none yet. None when there is no such header.
    """
    match = PROGRESS.match(response.headers.get("content-range", ""))
    if match is None:
        return None
    first, last, _ = match.groups()
    if first is None or last is None:
        return 0
    return int(last) + 1 if int(first) == 0 else None


def upload_error(response: httpx.Response) -> UploadError:
    """A failed PUT: the status decides the class (ref 10.3), the body (undocumented) only
    adds the message."""
    body = _json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    cls = UPLOAD_ERRORS.get(response.status_code, UploadError)
    return cls(
        str(error.get("code") or f"http_{response.status_code}"),
        str(error.get("message") or response.reason_phrase),
        str(error.get("log_id") or response.headers.get("x-tt-logid", "")),
        response.status_code,
    )
