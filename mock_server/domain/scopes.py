"""Scopes: what each grants, which fields of /v2/user/info/ need which scope (ref 3, 5)."""

from __future__ import annotations

import functools

# ref 3: the scopes the sandbox knows, with the text the consent page shows.
SCOPES: dict[str, str] = {
    "user.info.basic": "Read your profile info (avatar, display name)",
    "user.info.profile": "Read your profile details (username, bio, verified status, link)",
    "user.info.stats": "Read your statistics (likes, followers, following, video count)",
    "video.list": "Read your public videos on TikTok",
    "video.upload": "Share content to your TikTok inbox as drafts",
    "video.publish": "Directly post content to your TikTok profile",
}

# The consent page lets the person untick every scope but this one (ref 2.1: "If a scope is
# toggleable"; which ones are is not documented, basic is the one TikTok shows as required).
REQUIRED_SCOPES = frozenset({"user.info.basic"})

# ref 5: field -> scope for GET /v2/user/info/.
USER_INFO_FIELDS: dict[str, str] = {
    "open_id": "user.info.basic",
    "union_id": "user.info.basic",
    "avatar_url": "user.info.basic",
    "avatar_url_100": "user.info.basic",
    "avatar_large_url": "user.info.basic",
    "display_name": "user.info.basic",
    "bio_description": "user.info.profile",
    "profile_deep_link": "user.info.profile",
    "is_verified": "user.info.profile",
    "username": "user.info.profile",
    "follower_count": "user.info.stats",
    "following_count": "user.info.stats",
    "likes_count": "user.info.stats",
    "video_count": "user.info.stats",
}

# ref 5.1: the Video Object's fields for /v2/video/list/ and /v2/video/query/, all video.list.
VIDEO_FIELDS: dict[str, str] = {
    name: "video.list"
    for name in (
        "id",
        "create_time",
        "cover_image_url",
        "share_url",
        "video_description",
        "duration",
        "height",
        "width",
        "title",
        "embed_html",
        "embed_link",
        "like_count",
        "comment_count",
        "share_count",
        "view_count",
    )
}

# ref 3, 5, 6-12: the scope(s) an endpoint needs as a whole; any one of them is enough.
ENDPOINT_SCOPES: dict[str, frozenset[str]] = {
    "user_info": frozenset({"user.info.basic"}),
    "video_list": frozenset({"video.list"}),
    "video_query": frozenset({"video.list"}),
    "creator_info": frozenset({"video.publish"}),
    "video_init": frozenset({"video.publish"}),
    "inbox_video_init": frozenset({"video.upload"}),
    "content_init": frozenset({"video.upload", "video.publish"}),
    "content_init_direct": frozenset({"video.publish"}),
    "content_init_upload": frozenset({"video.upload"}),
    "status_fetch": frozenset({"video.upload", "video.publish"}),
    "cancel": frozenset({"video.upload", "video.publish"}),
}


# Each known scope's name as one shared string: the thousands of codes and grants a long-running
# sandbox keeps then hold references, not copies parsed from every request.
_NAMES: dict[str, str] = {name: name for name in SCOPES}


def parse_scope_list(text: str) -> list[str]:
    """Split TikTok's comma-separated scope string, dropping blanks and duplicates, in order."""
    seen: dict[str, None] = {}
    for part in text.split(","):
        name = part.strip()
        if name:
            seen.setdefault(_NAMES.get(name, name), None)
    return list(seen)


@functools.lru_cache(maxsize=256)
def shared_scopes(scopes: tuple[str, ...]) -> tuple[str, ...]:
    """One tuple for every code and grant with the same scopes, in the same order (codes and
    grants are kept by the thousand; their scopes come in a handful of combinations)."""
    return scopes
