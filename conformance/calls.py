"""Requests as a careful client sends them (ref 5-12), for tests to send as they are or break,
and `arrange`: a fresh app, creator and token from the controller.

    actor = arrange(controller, scopes=("video.upload",))
    answer = post(http, "inbox_video_init", actor.access_token, {"source_info": file_upload()})
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from conformance import spec
from conformance.controller import ALL_SCOPES, AppInfo, Controller

JSON_TYPE = "application/json; charset=UTF-8"  # ref 6-12
FORM_TYPE = "application/x-www-form-urlencoded"  # ref 2.4
SMALL_VIDEO = 10_000  # bytes: under 5 MB, so one whole-file chunk (ref 10.1)


def bearer(token: str | None) -> dict[str, str]:
    return {} if token is None else {"Authorization": f"Bearer {token}"}


def post(
    http: httpx.Client,
    endpoint: str,
    token: str | None,
    body: Any = None,
    *,
    content: bytes | None = None,
    content_type: str = JSON_TYPE,
) -> httpx.Response:
    """POST to an envelope endpoint: `body` as JSON, or raw `content` (None and None: no body)."""
    if content is None and body is not None:
        content = json.dumps(body).encode()
    headers = bearer(token) | {"Content-Type": content_type}
    return http.post(spec.PATHS[endpoint], headers=headers, content=content or b"")


def user_info(
    http: httpx.Client, token: str | None, fields: str | None, **params: str
) -> httpx.Response:
    query = params | ({} if fields is None else {"fields": fields})
    return http.get(spec.PATHS["user_info"], params=query, headers=bearer(token))


def videos(
    http: httpx.Client,
    endpoint: str,
    token: str | None,
    body: Any,
    fields: str | None = "id,create_time",
) -> httpx.Response:
    """ref 5.1: `video_list` or `video_query`, `fields` in the query and a JSON body."""
    params = {} if fields is None else {"fields": fields}
    headers = bearer(token) | {"Content-Type": JSON_TYPE}
    return http.post(spec.PATHS[endpoint], params=params, headers=headers, json=body)


def call(http: httpx.Client, endpoint: str, token: str | None, body: Any = None) -> httpx.Response:
    """Any envelope endpoint with a valid request shape (`body` for the POST ones)."""
    if endpoint == "user_info":
        return user_info(http, token, "open_id")
    if endpoint in ("video_list", "video_query"):
        return videos(http, endpoint, token, body)
    if endpoint == "creator_info":
        return post(http, endpoint, token)
    return post(http, endpoint, token, body)


def form(http: httpx.Client, endpoint: str, fields: dict[str, str]) -> httpx.Response:
    """POST a form to an OAuth endpoint (ref 2.4, 2.5)."""
    return http.post(spec.PATHS[endpoint], data=fields, headers={"Content-Type": FORM_TYPE})


def credentials(app: AppInfo) -> dict[str, str]:
    """ref 2.4, 2.5: the app's `client_key` and `client_secret`, as every OAuth form carries."""
    return {"client_key": app.client_key, "client_secret": app.client_secret}


def code_exchange(
    app: AppInfo, code: dict[str, Any], verifier: str | None = None, **extra: str
) -> dict[str, str]:
    """ref 2.4: the form exchanging `code` (a controller's authorize answer) for tokens, with
    the PKCE `code_verifier` when there is one."""
    return (
        credentials(app)
        | {
            "code": str(code["code"]),
            "grant_type": "authorization_code",
            "redirect_uri": str(code.get("redirect_uri", app.redirect_uri)),
        }
        | ({"code_verifier": verifier} if verifier else {})
        | extra
    )


def refresh(app: AppInfo, refresh_token: str) -> dict[str, str]:
    """ref 2.4: the form refreshing a token pair."""
    return credentials(app) | {"grant_type": "refresh_token", "refresh_token": refresh_token}


# -- bodies ------------------------------------------------------------------------------------


def file_upload(size: int = SMALL_VIDEO, chunk: int | None = None) -> dict[str, Any]:
    """ref 7.2, 10.1: a FILE_UPLOAD source_info (whole file under 5 MB by default)."""
    chunk = size if chunk is None else chunk
    return {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": chunk,
        "total_chunk_count": max(1, size // chunk),
    }


def pull(url: str) -> dict[str, Any]:
    return {"source": "PULL_FROM_URL", "video_url": url}


def video_init(source_info: dict[str, Any], privacy_level: str = "SELF_ONLY") -> dict[str, Any]:
    return {"post_info": {"privacy_level": privacy_level}, "source_info": source_info}


def photo_init(
    urls: list[str], mode: str = "DIRECT_POST", privacy_level: str = "SELF_ONLY"
) -> dict[str, Any]:
    post_info: dict[str, Any] = {"title": "photos"}
    if mode == "DIRECT_POST":
        post_info["privacy_level"] = privacy_level
    return {
        "media_type": "PHOTO",
        "post_mode": mode,
        "post_info": post_info,
        "source_info": {"source": "PULL_FROM_URL", "photo_images": urls, "photo_cover_index": 0},
    }


def valid_body(endpoint: str, *, publish_id: str = "", photo_url: str = "") -> Any:
    """The smallest valid body for each POST endpoint."""
    return {
        "user_info": None,
        "video_list": {"max_count": 10},
        "video_query": {"filters": {"video_ids": ["7000000000000000000"]}},
        "creator_info": None,
        "video_init": video_init(file_upload()),
        "inbox_video_init": {"source_info": file_upload()},
        "content_init": photo_init([photo_url or "https://example.com/p.jpg"]),
        "status_fetch": {"publish_id": publish_id or "v_pub_file~v2-1.123456789"},
        "cancel": {"publish_id": publish_id or "v_pub_file~v2-1.123456789"},
    }[endpoint]


# -- arranging through the controller --------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """An app, one of its creators, and a token pair the creator granted it."""

    app: AppInfo
    username: str
    tokens: dict[str, Any]

    @property
    def access_token(self) -> str:
        return str(self.tokens["access_token"])


def arrange(
    controller: Controller,
    *,
    scopes: tuple[str, ...] = ALL_SCOPES,
    app: AppInfo | None = None,
    app_settings: dict[str, Any] | None = None,
    **creator_settings: Any,
) -> Actor:
    """A creator (with `creator_settings`) authorizing `app` (or a new one) for `scopes`."""
    app = app or controller.create_app(**(app_settings or {}))
    username = controller.create_creator(**creator_settings)
    return Actor(app, username, controller.tokens(app.client_key, username, scopes))


def media_app(controller: Controller, prefix: str, **settings: Any) -> AppInfo:
    """An app whose verified URL prefix is a local media server (ref 10.4)."""
    return controller.create_app(
        verified_url_prefixes=[prefix], allow_loopback_http_media=True, **settings
    )
