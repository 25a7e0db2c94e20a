"""What the client sends and gets back, in TikTok's words (ref 5-12)."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Literal

PrivacyLevel = Literal[
    "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"
]
PRIVACY_LEVELS: tuple[str, ...] = (
    "PUBLIC_TO_EVERYONE",
    "MUTUAL_FOLLOW_FRIENDS",
    "FOLLOWER_OF_CREATOR",
    "SELF_ONLY",
)
PostMode = Literal["DIRECT_POST", "MEDIA_UPLOAD"]
DIRECT_POST: PostMode = "DIRECT_POST"
MEDIA_UPLOAD: PostMode = "MEDIA_UPLOAD"

# ref 11: status values
PROCESSING_UPLOAD = "PROCESSING_UPLOAD"
PROCESSING_DOWNLOAD = "PROCESSING_DOWNLOAD"
SEND_TO_USER_INBOX = "SEND_TO_USER_INBOX"
PUBLISH_COMPLETE = "PUBLISH_COMPLETE"
FAILED = "FAILED"


@dataclass(frozen=True)
class CreatorInfo:
    """ref 6: the creator's posting settings, read fresh before every Direct Post."""

    creator_avatar_url: str
    creator_username: str
    creator_nickname: str
    privacy_level_options: tuple[str, ...]
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool
    max_video_post_duration_sec: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CreatorInfo:
        return cls(
            creator_avatar_url=str(data.get("creator_avatar_url", "")),
            creator_username=str(data.get("creator_username", "")),
            creator_nickname=str(data.get("creator_nickname", "")),
            privacy_level_options=tuple(data.get("privacy_level_options") or ()),
            comment_disabled=bool(data.get("comment_disabled", False)),
            duet_disabled=bool(data.get("duet_disabled", False)),
            stitch_disabled=bool(data.get("stitch_disabled", False)),
            max_video_post_duration_sec=int(data.get("max_video_post_duration_sec") or 0),
        )


@dataclass(frozen=True)
class UserInfo:
    """ref 5: `data.user`; fields not requested (or not granted) are None."""

    open_id: str | None = None
    union_id: str | None = None
    avatar_url: str | None = None
    avatar_url_100: str | None = None
    avatar_large_url: str | None = None
    display_name: str | None = None
    bio_description: str | None = None
    profile_deep_link: str | None = None
    is_verified: bool | None = None
    username: str | None = None
    follower_count: int | None = None
    following_count: int | None = None
    likes_count: int | None = None
    video_count: int | None = None

    @classmethod
    def from_json(cls, user: dict[str, Any]) -> UserInfo:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in user.items() if k in known})


# ref 5.1: the Video Object's fields, all readable with video.list.
VIDEO_FIELDS: tuple[str, ...] = (
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


@dataclass(frozen=True)
class Video:
    """ref 5.1: one Video Object of `/v2/video/list/` or `/v2/video/query/`; fields not
    requested are None. `cover_image_url` expires (a signed CDN URL): query the video again for
    a fresh one rather than storing it."""

    id: str | None = None
    create_time: int | None = None
    cover_image_url: str | None = None
    share_url: str | None = None
    video_description: str | None = None
    duration: int | None = None
    height: int | None = None
    width: int | None = None
    title: str | None = None
    embed_html: str | None = None
    embed_link: str | None = None
    like_count: int | None = None
    comment_count: int | None = None
    share_count: int | None = None
    view_count: int | None = None

    @classmethod
    def from_json(cls, video: dict[str, Any]) -> Video:
        known = cls.__dataclass_fields__
        values = {k: v for k, v in video.items() if k in known}
        if values.get("id") is not None:
            values["id"] = str(values["id"])  # 19 digits: never a float in any client
        return cls(**values)


@dataclass(frozen=True)
class VideoPage:
    """ref 5.1: a page of videos, newest first. Pass `cursor` back for the next page while
    `has_more` is true."""

    videos: tuple[Video, ...]
    cursor: int
    has_more: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VideoPage:
        items = data.get("videos") or []
        return cls(
            videos=tuple(Video.from_json(v) for v in items if isinstance(v, dict)),
            cursor=int(data.get("cursor") or 0),
            has_more=bool(data.get("has_more", False)),
        )


@dataclass(frozen=True)
class PostInfo:
    """ref 7.1: `post_info` of a video Direct Post.

    `privacy_level` has no default (ref 15.4: the person picks it). Comment, Duet and Stitch are
    off unless asked for (ref 15.4: the boxes start unchecked), so `disable_*` default to True.
    """

    privacy_level: str
    title: str | None = None
    disable_comment: bool = True
    disable_duet: bool = True
    disable_stitch: bool = True
    video_cover_timestamp_ms: int | None = None
    brand_content_toggle: bool = False
    brand_organic_toggle: bool = False
    is_aigc: bool = False

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "privacy_level": self.privacy_level,
            "disable_comment": self.disable_comment,
            "disable_duet": self.disable_duet,
            "disable_stitch": self.disable_stitch,
            # ref 7.1: the table marks brand_content_toggle required; always send both.
            "brand_content_toggle": self.brand_content_toggle,
            "brand_organic_toggle": self.brand_organic_toggle,
            "is_aigc": self.is_aigc,
        }
        if self.title is not None:
            body["title"] = self.title
        if self.video_cover_timestamp_ms is not None:
            body["video_cover_timestamp_ms"] = self.video_cover_timestamp_ms
        return body


@dataclass(frozen=True)
class PhotoPostInfo:
    """ref 9: `post_info` of a photo post. `privacy_level` is required for DIRECT_POST; the
    other toggles apply to DIRECT_POST only and are not sent for MEDIA_UPLOAD."""

    title: str | None = None
    description: str | None = None
    privacy_level: str | None = None
    disable_comment: bool = True
    auto_add_music: bool = False
    brand_content_toggle: bool = False
    brand_organic_toggle: bool = False

    def to_json(self, mode: str) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.title is not None:
            body["title"] = self.title
        if self.description is not None:
            body["description"] = self.description
        if mode == DIRECT_POST:
            body |= {
                "privacy_level": self.privacy_level,
                "disable_comment": self.disable_comment,
                "auto_add_music": self.auto_add_music,
                "brand_content_toggle": self.brand_content_toggle,
                "brand_organic_toggle": self.brand_organic_toggle,
            }
        return body


@dataclass(frozen=True)
class Publish:
    """A publish TikTok accepted at init: its id and how it was made.

    `repost` (internal) starts the same post again; `wait_for_publish` uses it to retry a
    publish that failed for a reason the reference calls retryable.
    """

    publish_id: str
    mode: str
    media_type: str  # VIDEO | PHOTO
    source: str  # FILE_UPLOAD | PULL_FROM_URL
    upload_url: str | None = None
    privacy_level: str | None = None
    repost: Callable[[], Generator[Any, Any, Publish]] | None = field(
        default=None, repr=False, compare=False
    )


@dataclass(frozen=True)
class PublishStatus:
    """ref 11: one `status/fetch` answer. Post ids are strings (19 digits overflow JS)."""

    publish_id: str
    status: str
    fail_reason: str | None = None
    post_ids: tuple[str, ...] = ()
    uploaded_bytes: int | None = None
    downloaded_bytes: int | None = None

    @classmethod
    def from_json(cls, publish_id: str, data: dict[str, Any]) -> PublishStatus:
        def count(key: str) -> int | None:
            value = data.get(key)
            return None if value is None else int(value)  # some servers send strings (ref 11)

        return cls(
            publish_id=publish_id,
            status=str(data.get("status", "")),
            fail_reason=data.get("fail_reason") or None,
            post_ids=tuple(str(p) for p in data.get("publicaly_available_post_id") or ()),
            uploaded_bytes=count("uploaded_bytes"),
            downloaded_bytes=count("downloaded_bytes"),
        )


@dataclass(frozen=True)
class PublishResult:
    """Where a publish ended up: `wait_for_publish`'s answer.

    `publish_id` is the last attempt's; `attempts` counts the publishes made (more than one
    only after a retryable failure).
    """

    publish_id: str
    status: str
    fail_reason: str | None = None
    post_ids: tuple[str, ...] = ()
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.status in (PUBLISH_COMPLETE, SEND_TO_USER_INBOX)
