"""Audit checks of Login Kit use: tokens refreshed in time, dead and rotated tokens not sent
again, the token endpoint called from a server, redirect URIs and PKCE TikTok would take
(ref 2.1-2.6)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from mock_server.audit.traffic import Call, Traffic, short
from mock_server.audit.verdicts import Findings
from mock_server.domain.redirects import REDIRECT_LOOPBACK_HOSTS, is_loopback_host

# Requests made with a user access token (the OAuth endpoints take forms, uploads a URL).
BEARER_ENDPOINTS = (
    "user_info",
    "creator_info",
    "video_init",
    "inbox_video_init",
    "content_init",
    "status_fetch",
    "cancel",
)
BROWSER_HEADERS = ("origin", "sec-fetch-site", "sec-fetch-mode")
HEX_CHALLENGE = re.compile(r"[0-9a-fA-F]{64}")
BASE64URL_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


def _issued_access_tokens(traffic: Traffic) -> dict[str, tuple[float, Call]]:
    """access token -> (when it expires, the token call that issued it), as the journal saw."""
    issued: dict[str, tuple[float, Call]] = {}
    for call in traffic.calls:
        answer = call.answer or {}
        token, lifetime = answer.get("access_token"), answer.get("expires_in")
        if call.endpoint == "token" and isinstance(token, str) and type(lifetime) is int:
            issued[token] = (call.at + lifetime, call)
    return issued


def token_refreshed_in_time(traffic: Traffic) -> Findings:
    """ref 2.4: the app refreshes the access token before `expires_in` runs out, rather than
    calling with an expired one; a refresh token is used before `refresh_expires_in` ends."""
    found = Findings("access tokens", "no call with a user access token in the window")
    issued = _issued_access_tokens(traffic)
    uses: dict[str, list[Call]] = {}
    for call in traffic.judged(*BEARER_ENDPOINTS):
        if call.bearer:
            uses.setdefault(call.bearer, []).append(call)
    for token, calls in uses.items():
        expiry = issued.get(token)
        late = [
            c
            for c in calls
            if c.rule == "token_expired" or (expiry is not None and c.at >= expiry[0])
        ]
        related = [(expiry[1], "the token call that issued it")] if expiry else []
        if late:
            found.fail(
                late[0],
                f"called with access token {short(token)} after it expired: refresh before "
                "expires_in runs out",
                *related,
            )
        else:
            found.ok(calls[0], f"access token {short(token)} used {len(calls)}x, never expired")
    for call in traffic.judged("token"):
        if call.rule == "refresh_expired":
            found.warn(
                call,
                "refreshed with a refresh token past refresh_expires_in: the person must log "
                "in again; ask them before it ends",
            )
    return found


def invalid_token_not_reused(traffic: Traffic) -> Findings:
    """ref 4.2, 2.5: a token TikTok refused as invalid (expired, revoked) or that the app
    revoked is not sent again: refresh, or ask the person to log in again."""
    found = Findings("dead access tokens", "no access token was refused or revoked in the window")
    dead: dict[str, tuple[Call, str]] = {}
    reused: set[str] = set()
    for call in traffic.calls:
        if call.endpoint == "revoke" and call.ok and call.form.get("token"):
            dead.setdefault(call.form["token"], (call, "the app revoked it"))
            continue
        token = call.bearer
        if token is None or call.endpoint not in BEARER_ENDPOINTS:
            continue
        if token in dead:
            first, why = dead[token]
            if traffic.in_window(call) and token not in reused:
                reused.add(token)
                found.fail(
                    call,
                    f"sent access token {short(token)} again after {why} (#{first.seq})",
                    (first, "where the token stopped working"),
                )
        elif call.code == "access_token_invalid":
            dead[token] = (call, f"TikTok refused it ({call.rule})")
    for token, (first, why) in dead.items():
        if token not in reused and traffic.in_window(first):
            found.ok(first, f"access token {short(token)} not sent again after {why}")
    return found


def rotated_refresh_token_not_reused(traffic: Traffic) -> Findings:
    """ref 2.4 (doc-2026): every refresh returns a new refresh token and the old one stops
    working at once; the app stores the new one before anything else uses it."""
    found = Findings("rotated refresh tokens", "no token refresh in the window")
    rotated: dict[str, Call] = {}  # old refresh token -> the refresh that replaced it
    reused: set[str] = set()
    for call in traffic.calls:
        if call.endpoint != "token" or call.form.get("grant_type") != "refresh_token":
            continue
        sent = call.form.get("refresh_token", "")
        judged = traffic.in_window(call)
        if sent in rotated:
            if judged:
                reused.add(sent)
                found.fail(
                    call,
                    f"sent refresh token {short(sent)} again after #{rotated[sent].seq} rotated it",
                    (rotated[sent], "the refresh that replaced it"),
                )
            continue
        if call.rule == "refresh_rotated" and judged:
            found.fail(call, f"sent refresh token {short(sent)}, which an earlier refresh rotated")
            continue
        new = (call.answer or {}).get("refresh_token")
        if call.ok and isinstance(new, str) and new != sent:
            rotated[sent] = call
    for sent, call in rotated.items():
        if sent not in reused and traffic.in_window(call):
            found.ok(call, f"refresh token {short(sent)} rotated and not sent again")
    return found


def token_endpoint_server_side(traffic: Traffic) -> Findings:
    """ref 2.4, Login Kit: the token endpoint takes the client_secret, so only the app's
    server calls it; a browser's Origin or Sec-Fetch-* headers mean the secret is in front-end
    code."""
    found = Findings("token and revoke calls", "no call to the token or revoke endpoint")
    for call in traffic.judged("token", "revoke"):
        signs = [f"{h}: {call.header(h)}" for h in BROWSER_HEADERS if call.header(h)]
        if call.entry.method == "OPTIONS":
            signs.insert(0, "a CORS preflight (OPTIONS)")
        if signs:
            found.fail(call, f"sent by a browser ({'; '.join(signs)}): client_secret is exposed")
        elif call.header("referer"):
            found.warn(call, f"carries a Referer ({call.header('referer')}): a web page sent it?")
        else:
            found.ok(call, "sent without browser headers")
    return found


def redirect_uri_accepted_by_tiktok(traffic: Traffic) -> Findings:
    """ref 2.1, 2.3: a web app's redirect URI is https on a real host; a desktop app sends PKCE
    with the hex SHA-256 challenge its doc shows. What the sandbox relaxes, TikTok refuses."""
    found = Findings("authorization requests", "no authorization request in the window")
    platform = traffic.app.platform
    for call in traffic.judged("authorize", "token"):
        if call.endpoint == "token":
            if call.form.get("grant_type") != "authorization_code":
                continue
            if call.rule in ("token_redirect_uri", "pkce_verifier"):
                found.fail(call, f"the code exchange was refused ({call.rule})")
            continue
        if call.entry.method != "GET":
            continue  # the consent form's post repeats the page's parameters
        if (call.rule or "").startswith("authorize_"):
            found.fail(call, f"the authorize request was refused ({call.rule})")
            continue
        problems = redirect_problems(call.params.get("redirect_uri", ""), platform)
        problems += pkce_problems(call.params.get("code_challenge"), platform)
        if problems:
            found.warn(call, "; ".join(problems))
        else:
            found.ok(call, f"redirect_uri and PKCE as TikTok takes them for a {platform} app")
    return found


def redirect_problems(uri: str, platform: str) -> list[str]:
    """What TikTok itself would refuse in a redirect URI the sandbox accepted (ref 2.3)."""
    try:
        parts = urlsplit(uri)
        host = (parts.hostname or "").lower()
    except ValueError:
        return [f"redirect_uri {uri!r} is not a URI"]
    if platform == "desktop":
        if host not in REDIRECT_LOOPBACK_HOSTS:
            return [f"redirect_uri {uri}: desktop apps redirect to localhost or 127.0.0.1"]
        return []
    needs = []
    if parts.scheme != "https":
        needs.append("https")
    if host and is_loopback_host(host):
        needs.append("on a real host (not localhost or 127.0.0.1)")
    if not needs:
        return []
    return [f"redirect_uri {uri}: a web app's redirect URI must be {' and '.join(needs)}"]


def pkce_problems(challenge: str | None, platform: str) -> list[str]:
    """ref 2.1: desktop apps must send PKCE, as the hex SHA-256 of the verifier; base64url
    (RFC 7636) is reported to fail at the token exchange (3p, web)."""
    if not challenge:
        return ["no code_challenge: desktop apps must send PKCE"] if platform == "desktop" else []
    if HEX_CHALLENGE.fullmatch(challenge):
        return []
    if BASE64URL_CHALLENGE.fullmatch(challenge):
        return ["a base64url code_challenge: TikTok's doc uses the hex SHA-256 of the verifier"]
    return ["code_challenge is not a SHA-256 digest in hex (64 characters)"]
