"""A reference client for TikTok's Login Kit and Content Posting API, sync and async.

It talks HTTP only: point `base_url` at `https://open.tiktokapis.com` or at a sandbox.
"""

from client.aio import AsyncTikTokClient
from client.chunks import ChunkPlan, plan_chunks
from client.errors import LocalRefusal, OAuthError, TikTokClientError, TikTokError
from client.models import (
    CreatorInfo,
    PhotoPostInfo,
    PostInfo,
    Publish,
    PublishResult,
    PublishStatus,
    UserInfo,
    Video,
    VideoPage,
)
from client.oauth import AuthorizationRequest, authorize_url, parse_redirect
from client.sync import TikTokClient
from client.tokens import (
    CallbackTokenStore,
    JsonFileTokenStore,
    MemoryTokenStore,
    Token,
    TokenStore,
)

__all__ = [
    "AsyncTikTokClient",
    "AuthorizationRequest",
    "CallbackTokenStore",
    "ChunkPlan",
    "CreatorInfo",
    "JsonFileTokenStore",
    "LocalRefusal",
    "MemoryTokenStore",
    "OAuthError",
    "PhotoPostInfo",
    "PostInfo",
    "Publish",
    "PublishResult",
    "PublishStatus",
    "TikTokClient",
    "TikTokClientError",
    "TikTokError",
    "Token",
    "TokenStore",
    "UserInfo",
    "Video",
    "VideoPage",
    "authorize_url",
    "parse_redirect",
    "plan_chunks",
]
