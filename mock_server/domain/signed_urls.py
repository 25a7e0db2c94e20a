"""Expiring signed URLs, the way TikTok's CDN hands out images: `...?x-expires=<epoch
seconds>&x-signature=<base64 HMAC>`. The sandbox serves the images itself; a URL whose
`x-expires` has passed on the sandbox clock, or whose signature does not match, is refused.

Lifetimes:
- `creator_avatar_url`: 2 hours (ref 6: "valid (TTL) for 2 hours").
- `cover_image_url`: 6 hours (TikTok's Video Object page: "the link has a TTL of 6 hours").
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Mapping
from enum import Enum
from urllib.parse import quote_plus

AVATAR_URL_SECONDS = 2 * 3600  # ref 6
COVER_URL_SECONDS = 6 * 3600  # ref 5.1 (the Video Object page)

# The sandbox's stand-ins for TikTok's CDN: public images, outside the control API's guard and
# journal (TikTok serves them from another host).
PUBLIC_MEDIA_PREFIXES = ("/_sandbox/avatars/", "/_sandbox/covers/")

EXPIRES = "x-expires"
SIGNATURE = "x-signature"


class UrlCheck(Enum):
    OK = "ok"
    UNSIGNED = "unsigned"
    EXPIRED = "expired"
    BAD_SIGNATURE = "bad_signature"


def _signature(key: bytes, path: str, params: Mapping[str, str]) -> str:
    """Base64 of a 20-byte HMAC over the path and every other parameter (TikTok's
    `x-signature` has the same shape: 28 characters of base64)."""
    message = path + "?" + "&".join(f"{k}={params[k]}" for k in sorted(params))
    digest = hmac.new(key, message.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
    return base64.b64encode(digest[:20]).decode("ascii")


def sign(key: bytes, path: str, params: Mapping[str, str], now: float, ttl: float) -> str:
    """`path?params&x-expires=...&x-signature=...`, valid until `now + ttl` (whole seconds)."""
    return _signed(key, path, tuple(params.items()), str(int(now + ttl)))


@functools.lru_cache(maxsize=1024)
def _signed(key: bytes, path: str, params: tuple[tuple[str, str], ...], expires: str) -> str:
    """The same URL all second long: signed once (creator_info answers many a second). On a
    running clock only the current second's URLs are asked for again; on a frozen one (tests)
    every creator's URL is, and a cache smaller than the creators asked for would miss every
    time. 1,024 URLs are about 300 KB."""
    signed = {**dict(params), EXPIRES: expires}
    signed[SIGNATURE] = _signature(key, path, signed)
    return f"{path}?" + "&".join(f"{_quoted(k)}={_quoted(v)}" for k, v in signed.items())


# What `urlencode` (quote_plus) leaves as it is, and how it writes base64's other characters:
# the common cases without its general machinery.
_UNQUOTED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_BASE64 = _UNQUOTED | frozenset("+/=")
_BASE64_QUOTED = str.maketrans({"+": "%2B", "/": "%2F", "=": "%3D"})


def _quoted(text: str) -> str:
    """`text` as `urlencode` writes it."""
    if _UNQUOTED.issuperset(text):
        return text
    if _BASE64.issuperset(text):
        return text.translate(_BASE64_QUOTED)
    return quote_plus(text)


def check(key: bytes, path: str, query: Mapping[str, str], now: float) -> UrlCheck:
    """Whether a request for `path` with `query` carries a live signature. Expired from the
    instant `x-expires`."""
    given = query.get(SIGNATURE)
    expires = query.get(EXPIRES)
    if given is None and expires is None:
        return UrlCheck.UNSIGNED
    params = {k: v for k, v in query.items() if k != SIGNATURE}
    if given is None or expires is None or not expires.isascii() or not expires.isdigit():
        return UrlCheck.BAD_SIGNATURE
    expected = _signature(key, path, params)
    if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode()):
        return UrlCheck.BAD_SIGNATURE
    return UrlCheck.OK if now < int(expires) else UrlCheck.EXPIRED
