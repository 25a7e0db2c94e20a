"""`GET /v2/user/info/`: which fields a token may read and what they hold (ref 5)."""

from __future__ import annotations

from mock_server.domain.fields import scoped_fields
from mock_server.domain.ids import open_id, union_id
from mock_server.domain.models import App, Creator
from mock_server.domain.scopes import USER_INFO_FIELDS
from mock_server.domain.signed_urls import AVATAR_URL_SECONDS, sign


def avatar_url(base_url: str, creator: Creator, size: int) -> str:
    return f"{base_url}/_sandbox/avatars/{creator.uid}.svg?size={size}"


def creator_avatar_url(key: bytes, base_url: str, creator: Creator, now: float) -> str:
    """ref 6: `creator_avatar_url` is valid for 2 hours: a signed URL expiring then."""
    path = f"/_sandbox/avatars/{creator.uid}.svg"
    return base_url + sign(key, path, {"size": "168"}, now, AVATAR_URL_SECONDS)


def user_fields(app: App, creator: Creator, base_url: str) -> dict[str, object]:
    """Every user-info field of `creator` as `app` sees it."""
    return {
        "open_id": open_id(app.client_key, creator.uid),
        "union_id": union_id(app.developer, creator.uid),
        "avatar_url": avatar_url(base_url, creator, 168),
        "avatar_url_100": avatar_url(base_url, creator, 100),
        "avatar_large_url": avatar_url(base_url, creator, 720),
        "display_name": creator.nickname,
        "bio_description": creator.bio_description,
        "profile_deep_link": f"https://vm.tiktok.com/ZM{creator.uid[-9:]}/",
        "is_verified": creator.is_verified,
        "username": creator.username,
        "follower_count": creator.follower_count,
        "following_count": creator.following_count,
        "likes_count": creator.likes_count,
        "video_count": creator.video_count,
    }


def user_info(
    app: App,
    creator: Creator,
    scopes: frozenset[str],
    fields: list[str],
    base_url: str,
    unscoped: str = "scope_not_authorized",
) -> dict[str, object]:
    """ref 5: the requested fields the token may read (`unscoped` says what happens to the
    others: `fields.scoped_fields`)."""
    readable = scoped_fields(fields, USER_INFO_FIELDS, scopes, unscoped)
    values = user_fields(app, creator, base_url)
    return {name: values[name] for name in readable}
