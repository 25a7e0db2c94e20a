"""TikTok's endpoints by the names the rules use (scopes, rate limits, faults), with their paths
(ref 2, 5-12). The routes are built from this table, so a name always means one path."""

from __future__ import annotations

ENDPOINTS: dict[str, str] = {
    "authorize": "/v2/auth/authorize/",
    "token": "/v2/oauth/token/",
    "revoke": "/v2/oauth/revoke/",
    "user_info": "/v2/user/info/",
    "video_list": "/v2/video/list/",
    "video_query": "/v2/video/query/",
    "creator_info": "/v2/post/publish/creator_info/query/",
    "video_init": "/v2/post/publish/video/init/",
    "inbox_video_init": "/v2/post/publish/inbox/video/init/",
    "content_init": "/v2/post/publish/content/init/",
    "status_fetch": "/v2/post/publish/status/fetch/",
    "cancel": "/v2/post/publish/cancel/",
    "upload": "/upload/",  # the sandbox's own upload_url path (ref 1: opaque to clients)
}


# The endpoints whose handling changes none of the caller's records (its token, grant, app and
# creator) nor the publish it asks about: only the rate limiter and the journal. A data
# directory does not look at those records again after such a request (api.http.authorized);
# any other endpoint has them noted as changed (domain.changes).
READS_ONLY = frozenset({"user_info", "video_list", "video_query", "creator_info", "status_fetch"})


def endpoint_of(path: str) -> str | None:
    """The name of the TikTok endpoint at `path` (`video_init`, `upload`...), or None."""
    for name, endpoint_path in ENDPOINTS.items():
        if path == endpoint_path or (name == "upload" and path.startswith(endpoint_path)):
            return name
    return None


def family_of(path: str) -> str:
    """Which of TikTok's API families a path belongs to, for its error shapes: `control` (the
    sandbox's own), `oauth` (flat errors), `posting` and `display` (the `{data, error}`
    envelope with their bad-input spellings, ref 4.2)."""
    if path.startswith("/_sandbox"):
        return "control"
    if path.startswith(("/v2/oauth/", "/v2/auth/")):
        return "oauth"
    if path.startswith("/v2/post/"):
        return "posting"
    return "display"
