"""Login Kit's browser half (ref 2.1-2.2): PKCE, the authorize URL, the redirect back.

auth = authorize_url("awkey", "http://127.0.0.1:3000/callback/", ["user.info.basic"])
# send the person to auth.url; the redirect comes back to redirect_uri
code = parse_redirect(callback_url, expected_state=auth.state)
client.exchange_code(code.code, auth.redirect_uri, code_verifier=auth.code_verifier)
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from client.errors import StateMismatch, oauth_error_class

AUTHORIZE_BASE = "https://www.tiktok.com"  # ref 1: the browser authorize page's host
AUTHORIZE_PATH = "/v2/auth/authorize/"

# ref 2.1: the verifier is 43-128 of the unreserved characters.
UNRESERVED = string.ascii_letters + string.digits + "-._~"
VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
ChallengeForm = Literal["hex", "base64url"]


def make_code_verifier(length: int = 64) -> str:
    """A fresh PKCE verifier (ref 2.1: new for every authorization request)."""
    if not 43 <= length <= 128:
        raise ValueError("a code_verifier is 43 to 128 characters long")
    return "".join(secrets.choice(UNRESERVED) for _ in range(length))


def code_challenge(verifier: str, form: ChallengeForm = "hex") -> str:
    """S256 of the verifier: hex, as TikTok's desktop doc shows it (ref 2.1), or RFC 7636's
    base64url without padding."""
    if not VERIFIER.match(verifier):
        raise ValueError("a code_verifier is 43-128 characters of [A-Za-z0-9-._~]")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    if form == "hex":
        return digest.hex()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class AuthorizationRequest:
    """The URL to send the person to, and what to keep for the redirect and the exchange."""

    url: str
    state: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_verifier: str | None


def authorize_url(
    client_key: str,
    redirect_uri: str,
    scopes: Iterable[str],
    *,
    state: str | None = None,
    pkce: bool = True,
    challenge_form: ChallengeForm = "hex",
    disable_auto_auth: bool | None = None,
    base_url: str = AUTHORIZE_BASE,
) -> AuthorizationRequest:
    """`GET /v2/auth/authorize/` (ref 2.1) with a fresh `state` and, by default, PKCE.

    `base_url` is TikTok's www host in production; the sandbox serves the page itself.
    """
    scope_list = tuple(scopes)
    state = state or secrets.token_urlsafe(24)
    params = {
        "client_key": client_key,
        "scope": ",".join(scope_list),
        "redirect_uri": redirect_uri,
        "state": state,
        "response_type": "code",
    }
    if disable_auto_auth is not None:
        params["disable_auto_auth"] = "1" if disable_auto_auth else "0"
    verifier = None
    if pkce:
        verifier = make_code_verifier()
        params["code_challenge"] = code_challenge(verifier, challenge_form)
        params["code_challenge_method"] = "S256"
    url = base_url.rstrip("/") + AUTHORIZE_PATH + "?" + urlencode(params)
    return AuthorizationRequest(url, state, redirect_uri, scope_list, verifier)


@dataclass(frozen=True)
class AuthorizationCode:
    """ref 2.2: what the redirect brings back (the code is already URL-decoded)."""

    code: str
    scopes: tuple[str, ...]
    state: str | None


def parse_redirect(url_or_query: str, expected_state: str | None) -> AuthorizationCode:
    """Read the redirect back to `redirect_uri` (ref 2.2); raise its `error` as an OAuthError
    (e.g. AccessDenied with `error_type` non_sandbox_target), or StateMismatch."""
    query = urlsplit(url_or_query).query if "?" in url_or_query else url_or_query
    params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    state = params.get("state")
    if expected_state is not None and state != expected_state:
        raise StateMismatch("state_mismatch", "the redirect's state is not the one sent")
    if "error" in params:
        error = params["error"]
        raise oauth_error_class(error)(
            error, params.get("error_description", ""), error_type=params.get("error_type", "")
        )
    if not params.get("code"):
        raise oauth_error_class("invalid_request")(
            "invalid_request", "the redirect carries neither code nor error"
        )
    scopes = tuple(s for s in params.get("scopes", "").split(",") if s)
    return AuthorizationCode(params["code"], scopes, state)
