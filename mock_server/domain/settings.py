"""The settable fields of apps and creators: one table each, read by the scenario loader and
the control API alike, so a scenario file and a `PATCH` are validated by the same rules."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mock_server.domain.models import (
    ACCOUNTS,
    PKCE_CHALLENGES,
    PLATFORMS,
    STAGES,
    TOKEN_PROFILES,
)
from mock_server.domain.redirects import MAX_REDIRECT_URIS, is_loopback_host, registration_problem
from mock_server.domain.scopes import SCOPES
from mock_server.domain.text import text_problem, url_text_problem

USERNAME = re.compile(r"^[A-Za-z0-9._]{2,24}$")
APP_VERSION = re.compile(r"^\d+(\.\d+){0,3}$")
DOMAIN = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
MAX_TARGET_USERS = 10  # ref 15.3 (3p): up to 10 target users per sandbox


class SettingError(ValueError):
    """A setting with the wrong shape: names the key, what was expected and what came.

    `redacted` says the same without quoting anything the settings held (a value, an unknown
    key's name), for files loaded on a request over HTTP.
    """

    def __init__(self, key: str, expected: str, got: object = None, *, show_got: bool = True):
        self.key = key
        self.expected = expected
        text = f"{key}: expected {expected}"
        if show_got:
            text += f", got {got!r}"
        super().__init__(text)
        self.redacted = f"{key}: expected {expected}"

    @classmethod
    def unknown_key(cls, where: str, key: object, expected: str) -> SettingError:
        """`key` is not one of the keys allowed at `where`."""
        error = cls(f"{where}.{key}" if where else str(key), expected, show_got=False)
        error.redacted = f"{where or '(top level)'}: an unknown key; expected {expected}"
        return error


@dataclass(frozen=True)
class Setting:
    kind: str  # str | bool | optional_bool | int | optional_int | choice | list | optional_str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    pattern: re.Pattern[str] | None = None
    pattern_text: str = ""
    mutable: bool = True

    def check(self, key: str, value: object) -> Any:
        """Return the value if it fits, else raise SettingError naming `key`."""
        if self.kind == "optional_bool" and value is None:
            return None
        if self.kind in ("bool", "optional_bool"):
            if type(value) is not bool:
                expected = "true or false" + (" (or null)" if self.kind == "optional_bool" else "")
                raise SettingError(key, expected, value)
            return value
        if self.kind == "optional_int" and value is None:
            return None
        if self.kind in ("int", "optional_int"):
            if type(value) is not int:
                raise SettingError(key, "an integer", value)
            if self.minimum is not None and value < self.minimum:
                raise SettingError(key, f"an integer >= {self.minimum}", value)
            if self.maximum is not None and value > self.maximum:
                raise SettingError(key, f"an integer <= {self.maximum}", value)
            return value
        if self.kind == "optional_str" and value is None:
            return None
        if self.kind == "list":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise SettingError(key, "a list of strings", value)
            for item in value:
                self._check_text(key, item)
            return list(dict.fromkeys(value))
        if not isinstance(value, str):
            raise SettingError(key, "a string", value)
        self._check_text(key, value)
        return value

    def _check_text(self, key: str, value: str) -> None:
        problem = text_problem(value)
        if problem:
            raise SettingError(key, f"text without {problem}", show_got=False)
        if self.choices and value not in self.choices:
            raise SettingError(key, "one of " + ", ".join(self.choices), value)
        if self.pattern is not None and not self.pattern.match(value):
            raise SettingError(key, self.pattern_text, value)


def _choice(choices: tuple[str, ...], mutable: bool = True) -> Setting:
    return Setting("choice", choices=choices, mutable=mutable)


APP_SETTINGS: dict[str, Setting] = {
    "client_key": Setting(
        "str",
        pattern=re.compile(r"^[A-Za-z0-9_]{4,64}$"),
        pattern_text="4-64 letters, digits or _",
        mutable=False,
    ),
    "client_secret": Setting(
        "str",
        pattern=re.compile(r"^[A-Za-z0-9_]{8,128}$"),
        pattern_text="8-128 letters, digits or _",
        mutable=False,
    ),
    "name": Setting("str"),
    "description": Setting("str"),
    "developer": Setting("str", mutable=False),
    "stage": _choice(STAGES),
    "platform": _choice(PLATFORMS),
    "scopes": Setting("list", choices=tuple(SCOPES)),
    "redirect_uris": Setting("list"),
    "direct_post_enabled": Setting("bool"),
    "token_profile": _choice(TOKEN_PROFILES),
    "rotate_refresh_tokens": Setting("bool"),
    "pkce_required": Setting("optional_bool"),
    "pkce_challenge": _choice(PKCE_CHALLENGES),
    "loopback_redirects": Setting("bool"),
    "auth_code_ttl_seconds": Setting("int", minimum=1, maximum=3600),
    "target_users": Setting("list"),
    "verified_domains": Setting("list", pattern=DOMAIN, pattern_text="a domain name"),
    "verified_url_prefixes": Setting("list"),
    "allow_loopback_http_media": Setting("bool"),
    "webhook_url": Setting("optional_str"),
    "active_creator_cap": Setting("optional_int", minimum=0),
}

CREATOR_SETTINGS: dict[str, Setting] = {
    "username": Setting(
        "str", pattern=USERNAME, pattern_text="2-24 letters, digits, . or _", mutable=False
    ),
    "nickname": Setting("str"),
    "account": _choice(ACCOUNTS),
    "bio_description": Setting("str"),
    "is_verified": Setting("bool"),
    "comment_disabled": Setting("bool"),
    "duet_disabled": Setting("bool"),
    "stitch_disabled": Setting("bool"),
    "max_video_post_duration_sec": Setting("int", minimum=1, maximum=3600),
    "banned": Setting("bool"),
    "app_version": Setting("str", pattern=APP_VERSION, pattern_text="a version like 34.1.2"),
    "daily_post_cap": Setting("int", minimum=0),
    "posts_last_24h": Setting("int", minimum=0, maximum=1000),
    "pending_shares": Setting("int", minimum=0, maximum=1000),
    "follower_count": Setting("int", minimum=0),
    "following_count": Setting("int", minimum=0),
    "likes_count": Setting("int", minimum=0),
    "video_count": Setting("int", minimum=0),
    "avatar_color": Setting(
        "str", pattern=re.compile(r"^#[0-9a-fA-F]{6}$"), pattern_text="a colour like #fe2c55"
    ),
}


def check_settings(
    data: object,
    table: Mapping[str, Setting],
    where: str,
    *,
    updating: bool = False,
) -> dict[str, Any]:
    """Validate a mapping of settings; unknown keys are refused (they are always typos here)."""
    if not isinstance(data, Mapping):
        raise SettingError(where, "a mapping of settings", data)
    checked: dict[str, Any] = {}
    for key, value in data.items():
        setting = table.get(key) if isinstance(key, str) else None
        path = f"{where}.{key}"
        if setting is None:
            raise SettingError.unknown_key(
                where, key, "a known setting (one of " + ", ".join(table) + ")"
            )
        if updating and not setting.mutable:
            raise SettingError(path, "a setting that can change after creation", show_got=False)
        checked[key] = setting.check(path, value)
    return checked


def check_app_consistency(values: Mapping[str, Any], where: str, usernames: set[str]) -> None:
    """Rules that span several app settings (ref 2.3, 10.4, 15.3)."""
    uris = values.get("redirect_uris", [])
    if len(uris) > MAX_REDIRECT_URIS:
        raise SettingError(f"{where}.redirect_uris", f"at most {MAX_REDIRECT_URIS} URIs", len(uris))
    for i, uri in enumerate(uris):
        problem = registration_problem(
            uri, values.get("platform", "web"), values.get("loopback_redirects", True)
        )
        if problem:
            raise SettingError(f"{where}.redirect_uris[{i}]", f"a URI that {problem}", uri)
    targets = values.get("target_users", [])
    if targets and values.get("stage") != "sandbox":
        raise SettingError(
            f"{where}.target_users", "target users only on a sandbox app", show_got=False
        )
    if len(targets) > MAX_TARGET_USERS:
        raise SettingError(
            f"{where}.target_users", f"at most {MAX_TARGET_USERS} users", len(targets)
        )
    for i, name in enumerate(targets):
        if name not in usernames:
            raise SettingError(f"{where}.target_users[{i}]", "the username of a creator", name)
    loopback_media = values.get("allow_loopback_http_media", False)
    for i, prefix in enumerate(values.get("verified_url_prefixes", [])):
        problem = url_prefix_problem(prefix, loopback_media)
        if problem:
            raise SettingError(f"{where}.verified_url_prefixes[{i}]", problem, prefix)
    hook = values.get("webhook_url")
    if hook is not None and webhook_url_problem(hook):
        raise SettingError(f"{where}.webhook_url", webhook_url_problem(hook) or "", hook)


def webhook_url_problem(url: str) -> str | None:
    """ref 14.1: the callback must be HTTPS; the sandbox also takes http on loopback hosts."""
    if url_text_problem(url):
        return url_text_problem(url)
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return "an absolute https URL"
    if not host:
        return "an absolute https URL"
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(host)):
        return None
    return "an https URL (http only for loopback hosts such as 127.0.0.1)"


def url_prefix_problem(prefix: str, loopback_http: bool) -> str | None:
    """ref 10.4: a URL prefix property is `https://` + domain + path + `/`.

    With `loopback_http` (local development), `http://127.0.0.1:PORT/...` is accepted too.
    """
    if url_text_problem(prefix):
        return url_text_problem(prefix)
    try:
        parts = urlsplit(prefix)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return "an absolute URL prefix"
    host = (parts.hostname or "").lower()
    if not prefix.endswith("/") or parts.query or parts.fragment:
        return "a URL prefix ending with / (no query or fragment)"
    if loopback_http and is_loopback_host(host) and parts.scheme in ("http", "https"):
        return None
    if parts.scheme != "https":
        return (
            "an https:// URL prefix (http only for loopback hosts with allow_loopback_http_media)"
        )
    if not DOMAIN.match(host) or host.replace(".", "").isdigit():
        return "a URL prefix whose host is a domain name, not an IP address"
    return None
