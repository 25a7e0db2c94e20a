"""TikTok's host names that the sandbox answers for (ref 1), and the upload host it hands out.

An app that reaches the sandbox under TikTok's own names (through the proxy, or with the names
resolved to the sandbox) gets `upload_url` on TikTok's upload host, so its upload takes the
same road as its API calls. An app that uses the sandbox's own address gets that address.
"""

from __future__ import annotations

API_HOST = "open.tiktokapis.com"  # ref 1: every v2 REST API
AUTHORIZE_HOST = "www.tiktok.com"  # ref 1: the browser's consent page
UPLOAD_HOST = "open-upload.tiktokapis.com"  # ref 1: the host of upload_url in TikTok's examples

TIKTOK_HOSTS: tuple[str, ...] = (API_HOST, AUTHORIZE_HOST, UPLOAD_HOST)
TIKTOK_PORT = 443  # ref 1: TikTok serves them over HTTPS only


def normal_host(host: str) -> str:
    """A host name as DNS compares it: lower case, without a trailing dot."""
    return host.lower().rstrip(".")


def is_tiktok_host(host: str | None) -> bool:
    return host is not None and normal_host(host) in TIKTOK_HOSTS


def upload_origin(scheme: str, host: str | None, port: int | None) -> str | None:
    """The origin of `upload_url` for a request that arrived at `host`: TikTok's upload host
    (same scheme and port) when `host` is one of TikTok's names, None otherwise."""
    if not is_tiktok_host(host):
        return None
    default = {"http": 80, "https": 443}.get(scheme)
    suffix = "" if port is None or port == default else f":{port}"
    return f"{scheme}://{UPLOAD_HOST}{suffix}"
