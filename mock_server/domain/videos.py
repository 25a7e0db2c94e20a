"""The Display API's videos (ref 5.1): `/v2/video/list/` and `/v2/video/query/`.

A creator's videos are the video posts the sandbox published for them, through any app, while
they are publicly available (a post id, past moderation, not taken down), newest first. Each
has the Video Object's fields: its post id, when it was posted, the probed duration and size,
the caption, TikTok's share and embed links, and a cover frame under an expiring signed URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from mock_server.domain.errors import ApiError
from mock_server.domain.models import App, Creator
from mock_server.domain.posting import utf16_units
from mock_server.domain.publishing import VIDEO, Publish
from mock_server.domain.signed_urls import COVER_URL_SECONDS, sign
from mock_server.domain.world import World

DEFAULT_MAX_COUNT = 10  # ref 5.1: "Default is 10. Maximum is 20."
MAX_COUNT = 20
MAX_QUERY_IDS = 20  # ref 5.1: "Up to 20 video IDs can be included per request."
TEXT_MAX = 150  # the Video Object page: title and video_description, "Max length: 150"
# What TikTok appends to the links it hands an app (recorded share_url and embed_link).
ATTRIBUTION = "utm_campaign=tt4d_open_api&utm_source={client_key}"


def public_videos(world: World, creator_uid: str) -> list[Publish]:
    """The creator's publicly available video posts, newest first."""
    videos = [
        p
        for p in world.creator_posts(creator_uid)
        if p.media_type == VIDEO and p.public and p.post_ids and p.posted_ms is not None
    ]
    return sorted(videos, key=lambda p: p.posted_ms or 0, reverse=True)


def check_max_count(max_count: int | None) -> int:
    """ref 5.1: 1 to 20, 10 when absent."""
    if max_count is None:
        return DEFAULT_MAX_COUNT
    if not 1 <= max_count <= MAX_COUNT:
        raise ApiError(
            "invalid_params",
            f"max_count must be between 1 and {MAX_COUNT}, not {max_count}.",
            rule="video_list_max_count",
        )
    return max_count


def check_cursor(cursor: int | None) -> int | None:
    """ref 5.1: a UTC timestamp in ms; absent or 0 means "from the newest"."""
    if cursor is not None and cursor < 0:
        raise ApiError(
            "invalid_params",
            "cursor must be a UTC Unix timestamp in milliseconds (0 or more).",
            rule="video_list_cursor",
        )
    return cursor or None


def check_video_ids(video_ids: list[str]) -> list[str]:
    """ref 5.1: 1 to 20 ids (duplicates count once)."""
    ids = list(dict.fromkeys(video_ids))
    if not 1 <= len(ids) <= MAX_QUERY_IDS:
        raise ApiError(
            "invalid_params",
            f"filters.video_ids must hold 1 to {MAX_QUERY_IDS} video ids.",
            rule="video_query_ids",
        )
    return ids


@dataclass(frozen=True)
class Page:
    videos: list[Publish]
    cursor: int
    has_more: bool


def list_page(world: World, creator_uid: str, cursor: int | None, max_count: int) -> Page:
    """ref 5.1: the videos posted before `cursor` (all when None), at most `max_count`; the
    next cursor is the last one's posting time, so passing it back yields the next page."""
    older = [
        p
        for p in public_videos(world, creator_uid)
        if cursor is None or (p.posted_ms or 0) < cursor
    ]
    page = older[:max_count]
    next_cursor = (page[-1].posted_ms or 0) if page else (cursor or 0)
    return Page(page, next_cursor, len(older) > max_count)


def query(world: World, creator_uid: str, video_ids: list[str]) -> Page:
    """ref 5.1: the ids that are this creator's public videos, in the order asked; the others
    are left out."""
    by_id = {p.post_ids[0]: p for p in public_videos(world, creator_uid)}
    found = [by_id[i] for i in video_ids if i in by_id]
    oldest = min((p.posted_ms or 0 for p in found), default=0)
    return Page(found, oldest, False)


def _cut(text: str, limit: int) -> str:
    """`text` cut to `limit` UTF-16 code units, never inside a surrogate pair."""
    if utf16_units(text) <= limit:
        return text
    out, used = [], 0
    for char in text:
        used += utf16_units(char)
        if used > limit:
            break
        out.append(char)
    return "".join(out)


def cover_url(key: bytes, base_url: str, video_id: str, now: float) -> str:
    """The cover's signed URL, valid COVER_URL_SECONDS (6 h) on the sandbox clock."""
    return base_url + sign(key, f"/_sandbox/covers/{video_id}.jpeg", {}, now, COVER_URL_SECONDS)


def video_object(
    publish: Publish,
    creator: Creator,
    app: App,
    fields: list[str],
    *,
    key: bytes,
    base_url: str,
    now: float,
) -> dict[str, object]:
    """The Video Object (ref 5.1) with exactly `fields`, in their order."""
    video_id = publish.post_ids[0]
    attribution = ATTRIBUTION.format(client_key=app.client_key)
    share_url = f"https://www.tiktok.com/@{creator.username}/video/{video_id}?{attribution}"
    caption = str(publish.post_info.get("title") or "")
    facts = publish.video_facts
    values: dict[str, object] = {
        "id": video_id,
        "create_time": (publish.posted_ms or 0) // 1000,
        "cover_image_url": cover_url(key, base_url, video_id, now),
        "share_url": share_url,
        "video_description": _cut(caption, TEXT_MAX),
        # Whole seconds, halves rounded up (round() would take 4.5 s to 4).
        "duration": int(facts.duration_s + 0.5) if facts and facts.duration_s else 0,
        "height": facts.height if facts and facts.height else 0,
        "width": facts.width if facts and facts.width else 0,
        "title": _cut(caption, TEXT_MAX),
        "embed_html": _embed_html(share_url, video_id, creator, caption),
        "embed_link": (
            f"https://www.tiktok.com/player/v1/{video_id}?music_info=1&description=1"
            f"&autoplay=1&loop=1&{attribution}"
        ),
        # The sandbox has no audience: nobody has seen, liked, commented on or shared a post.
        "like_count": 0,
        "comment_count": 0,
        "share_count": 0,
        "view_count": 0,
    }
    return {name: values[name] for name in fields}


def _embed_html(share_url: str, video_id: str, creator: Creator, caption: str) -> str:
    """TikTok's embed blockquote (the shape of recorded `embed_html`)."""
    user = escape(creator.username)
    return (
        f'<blockquote class="tiktok-embed" cite="{escape(share_url)}" data-video-id="{video_id}"'
        ' style="max-width: 605px;min-width: 325px;" > <section> <a target="_blank" '
        f'title="@{user}" href="https://www.tiktok.com/@{user}?refer=embed">@{user}</a> '
        f"<p>{escape(caption)}</p> </section> </blockquote> "
        '<script async src="https://www.tiktok.com/embed.js"></script>'
    )


def find_cover(world: World, video_id: str) -> Publish | None:
    """The public video whose id is `video_id` (the cover route's lookup)."""
    p = world.publish_of_post(video_id)
    if p is not None and p.media_type == VIDEO and p.public and p.post_ids[0] == video_id:
        return p
    return None
