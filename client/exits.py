"""What `tiktok-post` says when something goes wrong: one line on stderr naming the problem and
what to run next, and an exit status per kind of problem (docs/client.md, "Exit status").

    tiktok-post: error: cannot reach 127.0.0.1:8080 (connection refused); is the server
    running? The sandbox: tiktok-sandbox serve; elsewhere: --base-url or TIKTOK_BASE_URL
"""

from __future__ import annotations

import enum
from pathlib import Path

import httpx

from client.errors import (
    AccessTokenInvalid,
    DurationOverCreatorMax,
    InvalidGrant,
    LocalRefusal,
    MediaTooLarge,
    NotAuthenticated,
    OAuthError,
    PublishWaitTimeout,
    ScopeNotAuthorized,
    TikTokClientError,
    TikTokError,
    UnsupportedMedia,
)

LOGIN = "run `tiktok-post login`"


class Exit(enum.IntEnum):
    OK = 0
    FAILED = 1  # TikTok refused the request, or the publish failed
    USAGE = 2  # wrong flags or settings, or a post this creator or TikTok's rules do not allow
    MEDIA = 3  # the video is missing, unreadable, or not one TikTok takes
    LOGIN = 4  # not logged in: no token, an unreadable token file, an authorization that ended
    UNREACHABLE = 5  # the server could not be reached (refused, unknown host, timeout, TLS)
    TIMEOUT = 6  # --timeout ran out (no redirect after login, no final status)
    INTERRUPTED = 130  # Ctrl-C


class CliError(Exception):
    """A problem the command explains itself: the line to print and the exit status."""

    def __init__(self, code: Exit, line: str) -> None:
        super().__init__(line)
        self.code = code
        self.line = line


def usage(line: str) -> CliError:
    return CliError(Exit.USAGE, line)


def media_unreadable(path: Path, exc: OSError) -> CliError:
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileNotFoundError):
        what = f"no such file: {path}"
    elif isinstance(exc, IsADirectoryError):
        what = f"{path} is a directory, not a video file"
    else:
        what = f"cannot read {path}: {reason.lower()}"
    return CliError(
        Exit.MEDIA, f"{what}; give the path of a video file or an https URL TikTok pulls"
    )


def token_file_unreadable(path: Path, exc: Exception) -> CliError:
    if isinstance(exc, OSError):
        why = (exc.strerror or str(exc)).lower()
        return CliError(
            Exit.LOGIN,
            f"cannot read the token file {path}: {why}; fix it, pass another --token-file, "
            f"or {LOGIN}",
        )
    return CliError(
        Exit.LOGIN,
        f"the token file {path} does not hold a token tiktok-post saved ({type(exc).__name__}); "
        f"{LOGIN} to replace it",
    )


def not_logged_in(path: Path) -> CliError:
    return CliError(Exit.LOGIN, f"not logged in (no token in {path}); {LOGIN} first")


def unreachable(url: httpx.URL, exc: httpx.TransportError) -> CliError:
    """A connection that could not be made, or that failed on the way."""
    where = f"{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"
    cause = network_reason(exc)
    return CliError(
        Exit.UNREACHABLE,
        f"cannot reach {where} ({cause}); is the server running? The sandbox: "
        f"tiktok-sandbox serve; elsewhere: --base-url or TIKTOK_BASE_URL",
    )


def network_reason(exc: httpx.TransportError) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    lowered = text.lower()
    for needle, said in (
        ("connection refused", "connection refused"),
        ("name or service not known", "unknown host"),
        ("nodename nor servname", "unknown host"),
        ("temporary failure in name resolution", "unknown host"),
        ("certificate", "TLS certificate not trusted"),
        ("network is unreachable", "network unreachable"),
    ):
        if needle in lowered:
            return said
    return text.split("] ", 1)[-1]  # "[Errno 111] Connection refused" -> the words


def explain(exc: BaseException) -> CliError | None:
    """The line and status for an exception the client raised; None for anything else (a bug,
    which keeps its traceback)."""
    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, httpx.TransportError):
        url = exc.request.url if _has_request(exc) else httpx.URL("http://unknown")
        return unreachable(url, exc)
    if isinstance(exc, (UnsupportedMedia, MediaTooLarge, DurationOverCreatorMax)):
        return CliError(Exit.MEDIA, f"refused: {exc} [{exc.rule}]")
    if isinstance(exc, LocalRefusal):
        return CliError(Exit.USAGE, f"refused: {exc} [{exc.rule}]")
    if isinstance(exc, NotAuthenticated):
        return CliError(Exit.LOGIN, f"not logged in ({exc}); {LOGIN} first")
    if isinstance(exc, InvalidGrant):
        return CliError(Exit.LOGIN, f"the authorization has ended ({exc}); {LOGIN} again")
    if isinstance(exc, (AccessTokenInvalid, ScopeNotAuthorized)):
        return CliError(
            Exit.LOGIN,
            f"TikTok refused the token ({exc}); {LOGIN} again (with --client-key and "
            f"--client-secret set, expired tokens are refreshed for you)",
        )
    if isinstance(exc, PublishWaitTimeout):
        return CliError(
            Exit.TIMEOUT,
            f"{exc}; follow it with `tiktok-post status {exc.publish_id} --watch`",
        )
    if isinstance(exc, TikTokError):
        log = f", log_id {exc.log_id}" if exc.log_id else ""
        return CliError(Exit.FAILED, f"TikTok answered {exc}{log}")
    if isinstance(exc, OAuthError):
        log = f", log_id {exc.log_id}" if exc.log_id else ""
        return CliError(Exit.FAILED, f"login failed: {exc}{log}")
    if isinstance(exc, TikTokClientError):
        return CliError(Exit.FAILED, f"{type(exc).__name__}: {exc}")
    return None


def _has_request(exc: httpx.TransportError) -> bool:
    try:
        exc.request  # noqa: B018 - raises RuntimeError when the error carries no request
    except RuntimeError:
        return False
    return True
