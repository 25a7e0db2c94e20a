"""Every route of the sandbox, as the hostile generator sees it: the method and path, a valid
body or query to start from (with `Fx` placeholders), whether it needs a bearer token and
counts against a rate limit, and whether it can change what a state snapshot shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bench._robustness.wire import (
    Fixture,
    Fx,
    Pairs,
    encode_pairs,
    get,
    json_bytes,
    leaf_paths,
    replaced,
)
from conformance.controller import ALL_SCOPES

# -- routes ----------------------------------------------------------------------------------

Tree = Any


@dataclass(frozen=True)
class Route:
    method: str
    path: tuple[Any, ...]  # segments: literal text, or Fx for a path parameter
    weight: float
    body: str = "none"  # "json", "form", "upload" or "none"
    base: Callable[[int], Tree] | None = None  # a valid JSON tree or form pairs, per probe index
    query: Callable[[int], Pairs] | None = None
    bearer: bool = False
    rate: str | None = None
    writes: bool = False
    all_required: bool = False

    @property
    def name(self) -> str:
        shown = "".join(f"{{{p.name}}}" if isinstance(p, Fx) else p for p in self.path)
        return f"{self.method} {shown}"

    @property
    def tiktok(self) -> bool:
        return not self.path[0].startswith("/_sandbox")


def _post_info() -> dict[str, Any]:
    return {
        "title": "Probe #sandbox",
        "privacy_level": "SELF_ONLY",
        "disable_comment": False,
        "disable_duet": False,
        "video_cover_timestamp_ms": 1000,
    }


def _file_source() -> dict[str, Any]:
    return {
        "source": "FILE_UPLOAD",
        "video_size": 20000,
        "chunk_size": 20000,
        "total_chunk_count": 1,
    }


def _signed(*pairs: tuple[str, Any]) -> Pairs:
    """An OAuth form with the fixture app's credentials (codes and tokens never issued)."""
    return [("client_key", Fx("client_key")), ("client_secret", Fx("client_secret")), *pairs]


def _authorize_params() -> Pairs:
    return [
        ("client_key", Fx("client_key")),
        ("scope", "user.info.basic,video.publish"),
        ("redirect_uri", Fx("redirect_uri")),
        ("state", "xyz"),
        ("response_type", "code"),
    ]


APP_PATCH = {
    "description": "fixture",
    "scopes": list(ALL_SCOPES),
    "verified_url_prefixes": [Fx("media_url")],
    "auth_code_ttl_seconds": 300,
    "active_creator_cap": None,
}
CREATOR_PATCH = {
    "bio_description": "fixture",
    "account": "public",
    "daily_post_cap": 100000,
    "max_video_post_duration_sec": 600,
    "app_version": "35.1.0",
}


def _json_write(method: str, path: tuple[Any, ...], weight: float, **more: Any) -> Route:
    """A route taking a JSON body that can change what a snapshot shows."""
    return Route(method, path, weight, body="json", writes=True, **more)


ROUTES: list[Route] = [
    # TikTok's paths
    Route("GET", ("/v2/auth/authorize/",), 2, query=lambda i: _authorize_params()),
    # The consent form and /_sandbox/authorize only issue codes, which no snapshot shows.
    Route(
        "POST",
        ("/v2/auth/authorize/",),
        2,
        body="form",
        base=lambda i: [
            *_authorize_params(),
            ("decision", "approve"),
            ("creator", Fx("username", i)),
            ("granted", "user.info.basic"),
        ],
    ),
    Route(
        "POST",
        ("/v2/oauth/token/",),
        3,
        body="form",
        base=lambda i: _signed(
            ("code", "probe-code-that-was-never-issued"),
            ("grant_type", "authorization_code"),
            ("redirect_uri", Fx("redirect_uri")),
        ),
    ),
    Route(
        "POST",
        ("/v2/oauth/token/",),
        2,
        body="form",
        base=lambda i: _signed(
            ("grant_type", "refresh_token"), ("refresh_token", "rft.probe-never-issued")
        ),
    ),
    Route(
        "POST",
        ("/v2/oauth/revoke/",),
        2,
        body="form",
        base=lambda i: _signed(("token", "act.probe-never-issued")),
    ),
    Route(
        "GET",
        ("/v2/user/info/",),
        2,
        bearer=True,
        rate="user_info",
        query=lambda i: [("fields", "open_id,display_name,avatar_url,follower_count")],
    ),
    Route(
        "POST",
        ("/v2/post/publish/creator_info/query/",),
        2,
        body="json",
        bearer=True,
        rate="creator_info",
        base=lambda i: {},
    ),
    Route(
        "POST",
        ("/v2/post/publish/video/init/",),
        4,
        body="json",
        bearer=True,
        rate="video_init",
        writes=True,
        base=lambda i: {"post_info": _post_info(), "source_info": _file_source()},
    ),
    Route(
        "POST",
        ("/v2/post/publish/video/init/",),
        2,
        body="json",
        bearer=True,
        rate="video_init",
        writes=True,
        base=lambda i: {
            "post_info": _post_info(),
            "source_info": {"source": "PULL_FROM_URL", "video_url": Fx("media_url")},
        },
    ),
    Route(
        "POST",
        ("/v2/post/publish/inbox/video/init/",),
        3,
        body="json",
        bearer=True,
        rate="inbox_video_init",
        writes=True,
        base=lambda i: {"source_info": _file_source()},
    ),
    Route(
        "POST",
        ("/v2/post/publish/content/init/",),
        3,
        body="json",
        bearer=True,
        rate="content_init",
        writes=True,
        base=lambda i: {
            "media_type": "PHOTO",
            "post_mode": "DIRECT_POST",
            "post_info": {"title": "Probe", "description": "d", "privacy_level": "SELF_ONLY"},
            "source_info": {
                "source": "PULL_FROM_URL",
                "photo_images": [Fx("media_url")],
                "photo_cover_index": 0,
            },
        },
    ),
    Route(
        "POST",
        ("/v2/post/publish/status/fetch/",),
        3,
        body="json",
        bearer=True,
        rate="status_fetch",
        base=lambda i: {"publish_id": Fx("publish_id")},
        all_required=True,
    ),
    Route(
        "POST",
        ("/v2/post/publish/cancel/",),
        2,
        body="json",
        bearer=True,
        writes=True,
        base=lambda i: {"publish_id": Fx("publish_id")},
        all_required=True,
    ),
    Route(
        "PUT",
        ("/upload/",),
        4,
        body="upload",
        writes=True,
        query=lambda i: [("upload_id", Fx("upload_id")), ("upload_token", Fx("upload_token"))],
    ),
    # the control API
    Route("GET", ("/_sandbox/health",), 0.5),
    _json_write(
        "POST",
        ("/_sandbox/reset",),
        2,
        base=lambda i: {"scenario": "default", "seed": 0},
    ),
    _json_write(
        "POST",
        ("/_sandbox/seed",),
        1,
        all_required=True,
        base=lambda i: {"seed": 0},
    ),
    Route("GET", ("/_sandbox/scenarios",), 0.3),
    Route("GET", ("/_sandbox/apps",), 0.5),
    _json_write(
        "POST",
        ("/_sandbox/apps",),
        4,
        base=lambda i: {
            "name": f"Probe app {i}",
            "stage": "audited",
            "redirect_uris": ["http://127.0.0.1:8765/callback/"],
            "verified_domains": ["media.probe.example"],
            "creators": [{"username": f"hp{i}", "nickname": "Probe", "account": "public"}],
        },
    ),
    Route("GET", ("/_sandbox/apps/", Fx("client_key")), 0.5),
    _json_write(
        "PATCH",
        ("/_sandbox/apps/", Fx("client_key")),
        4,
        base=lambda i: dict(APP_PATCH),
    ),
    Route("GET", ("/_sandbox/creators",), 1, query=lambda i: [("client_key", Fx("client_key"))]),
    _json_write(
        "POST",
        ("/_sandbox/creators",),
        3,
        base=lambda i: {
            "username": f"hc{i}",
            "nickname": "Probe",
            "bio_description": "b",
            "account": "public",
            "max_video_post_duration_sec": 600,
            "app_version": "35.1.0",
            "avatar_color": "#112233",
        },
    ),
    Route(
        "GET",
        ("/_sandbox/creators/", Fx("username")),
        0.5,
        query=lambda i: [("client_key", Fx("client_key"))],
    ),
    _json_write(
        "PATCH",
        ("/_sandbox/creators/", Fx("username")),
        3,
        base=lambda i: dict(CREATOR_PATCH),
    ),
    Route("GET", ("/_sandbox/grants",), 0.5, query=lambda i: [("client_key", Fx("client_key"))]),
    Route(
        "GET",
        ("/_sandbox/publishes",),
        1,
        query=lambda i: [
            ("client_key", Fx("client_key")),
            ("creator", Fx("username")),
            ("status", "PROCESSING_UPLOAD"),
        ],
    ),
    Route("GET", ("/_sandbox/publishes/", Fx("publish_id")), 0.5),
    # post_draft on a publish still uploading: refused (409) even when well-formed
    _json_write(
        "POST",
        ("/_sandbox/publishes/", Fx("publish_id"), "/actions"),
        3,
        base=lambda i: {"action": "post_draft", "privacy_level": "SELF_ONLY"},
    ),
    Route(
        "GET",
        ("/_sandbox/webhooks",),
        0.5,
        query=lambda i: [("client_key", Fx("client_key")), ("event", "post.publish.failed")],
    ),
    Route("POST", ("/_sandbox/webhooks/dispatch",), 0.5),
    Route("GET", ("/_sandbox/outcomes",), 0.3),
    _json_write(
        "POST",
        ("/_sandbox/outcomes",),
        2,
        base=lambda i: {
            "fail_reason": "internal",
            "client_key": Fx("other_client_key"),
            "count": 1,
        },
    ),
    Route("DELETE", ("/_sandbox/outcomes",), 0.3, writes=True),
    Route("POST", ("/_sandbox/settle",), 1, body="json", base=lambda i: {"timeout_seconds": 0}),
    Route("GET", ("/_sandbox/faults",), 0.3),
    _json_write(
        "POST",
        ("/_sandbox/faults",),
        2,
        base=lambda i: {
            "endpoint": "revoke",
            "client_key": Fx("other_client_key"),
            "status": 400,
            "times": 1,
            "message": "probe",
        },
    ),
    Route("DELETE", ("/_sandbox/faults",), 0.3, writes=True),
    Route("DELETE", ("/_sandbox/faults/", Fx("fault_id")), 0.5, writes=True),
    Route("GET", ("/_sandbox/clock",), 0.3),
    _json_write(
        "POST",
        ("/_sandbox/clock",),
        2,
        base=lambda i: {"advance_seconds": 0, "freeze": True},
    ),
    Route(
        "GET",
        ("/_sandbox/journal",),
        0.5,
        query=lambda i: [("limit", "5"), ("path", "/v2/"), ("client_key", Fx("client_key"))],
    ),
    Route("DELETE", ("/_sandbox/journal",), 0.2),
    Route(
        "GET",
        ("/_sandbox/journal/export",),
        0.2,
        query=lambda i: [("client_key", Fx("other_client_key"))],
    ),
    Route(
        "POST",
        ("/_sandbox/authorize",),
        3,
        body="json",
        base=lambda i: {
            "client_key": Fx("client_key"),
            "username": Fx("username", i),
            "scopes": ["user.info.basic"],
            "redirect_uri": Fx("redirect_uri"),
            "state": "s",
        },
    ),
    _json_write(
        "POST",
        ("/_sandbox/tokens",),
        3,
        base=lambda i: {
            "client_key": Fx("client_key"),
            "username": Fx("username", i),
            "scopes": ["user.info.basic"],
        },
    ),
    # the dashboard and avatars
    Route("GET", ("/_sandbox/",), 1, query=lambda i: [("tab", "publishes")]),
    Route("GET", ("/_sandbox",), 0.3),
    Route("GET", ("/_sandbox/avatars/", Fx("uid"), ".svg"), 1.5, query=lambda i: [("size", "96")]),
]


# -- building requests ----------------------------------------------------------------------


def target(
    route: Route, fx: Fixture, segments: tuple[Any, ...] | None = None, pairs: Pairs | None = None
) -> str:
    path = "".join(
        quote(fx.value(p), safe="") if isinstance(p, Fx) else p for p in segments or route.path
    )
    if pairs is None:
        pairs = route.query(0) if route.query else []
    return f"{path}?{encode_pairs(pairs, fx)}" if pairs else path


def auth_headers(route: Route, token: int) -> Callable[[Fixture], list[tuple[str, bytes]]]:
    def headers(fx: Fixture) -> list[tuple[str, bytes]]:
        if not route.bearer:
            return []
        return [("Authorization", f"Bearer {fx.value(Fx('token', token))}".encode())]

    return headers


def route_content_type(route: Route) -> bytes:
    return {"json": b"application/json", "form": b"application/x-www-form-urlencoded"}.get(
        route.body, b"application/json"
    )


def spoiled_body(route: Route, index: int, fx: Fixture) -> bytes | None:
    """The route's valid body with a lone surrogate where a value is read."""
    if route.base is None:
        return None
    base = route.base(index)
    if route.body == "form":
        return encode_pairs([(base[0][0], "%ED%BF%BF"), *base[1:]], fx).encode()
    strings = [p for p in leaf_paths(base) if p and isinstance(get(base, p), str | Fx)]
    spoiled = replaced(base, strings[0], "\udfff") if strings else {**base, "x_probe": "\udfff"}
    return json_bytes(spoiled, fx)


def base_body(route: Route, index: int, fx: Fixture) -> bytes | None:
    if route.base is None:
        return None
    base = route.base(index)
    if route.body == "form":
        return encode_pairs(base, fx).encode()
    return json_bytes(base, fx)
