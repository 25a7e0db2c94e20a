"""`GET /v2/user/info/`: which fields a token may read and what they hold (ref 5)."""

from __future__ import annotations

from mock_server.domain.errors import ApiError
from mock_server.domain.ids import open_id, union_id
from mock_server.domain.models import App, Creator
from mock_server.domain.scopes import USER_INFO_FIELDS


def parse_fields(raw: str | None) -> list[str]:
    """The `fields` query parameter: required, comma-separated, every name known (recorded
    wording for both failures; docs/fidelity.md)."""
    names = list(dict.fromkeys(f.strip() for f in (raw or "").split(",") if f.strip()))
    if not names:
        raise ApiError(
            "invalid_params",
            "Fields is required, please provide fields in the request",
            rule="user_info_fields_missing",
        )
    unknown = [n for n in names if n not in USER_INFO_FIELDS]
    if unknown:
        raise ApiError(
            "invalid_params",
            f"Invalid field(s): {','.join(unknown)}",
            rule="user_info_fields_unknown",
        )
    return names


def check_field_scopes(fields: list[str], scopes: frozenset[str]) -> None:
    """ref 5: a field whose scope was not granted is `scope_permission_missed` (400)."""
    missing = sorted({USER_INFO_FIELDS[f] for f in fields if f in USER_INFO_FIELDS} - scopes)
    if missing:
        raise ApiError(
            "scope_permission_missed",
            f"The access token lacks scope {', '.join(missing)} for some requested fields.",
            rule="user_info_field_scope",
        )


def avatar_url(base_url: str, creator: Creator, size: int) -> str:
    return f"{base_url}/_sandbox/avatars/{creator.uid}.svg?size={size}"


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
    app: App, creator: Creator, scopes: frozenset[str], fields: list[str], base_url: str
) -> dict[str, object]:
    check_field_scopes(fields, scopes)
    values = user_fields(app, creator, base_url)
    return {name: values[name] for name in fields}
