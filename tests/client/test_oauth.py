"""The browser half of Login Kit: PKCE, the authorize URL, the redirect (ref 2.1, 2.2)."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from client.errors import AccessDenied, InvalidRequest, StateMismatch
from client.oauth import authorize_url, code_challenge, make_code_verifier, parse_redirect

RFC7636_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


def test_verifiers_are_43_to_128_unreserved_characters_and_fresh() -> None:
    for length in (43, 64, 128):
        verifier = make_code_verifier(length)
        assert re.fullmatch(r"[A-Za-z0-9\-._~]+", verifier) and len(verifier) == length
    assert make_code_verifier() != make_code_verifier()
    for length in (42, 129):
        with pytest.raises(ValueError):
            make_code_verifier(length)


def test_the_challenge_is_hex_sha256_by_default_and_base64url_on_request() -> None:
    expected_hex = hashlib.sha256(RFC7636_VERIFIER.encode()).hexdigest()
    assert code_challenge(RFC7636_VERIFIER) == expected_hex
    # RFC 7636 appendix B
    assert (
        code_challenge(RFC7636_VERIFIER, "base64url")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    with pytest.raises(ValueError):
        code_challenge("too short")


def test_the_authorize_url_carries_tiktoks_parameters() -> None:
    auth = authorize_url(
        "awkey", "http://127.0.0.1:3000/callback/", ["user.info.basic", "video.publish"]
    )
    parts = urlsplit(auth.url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "www.tiktok.com",
        "/v2/auth/authorize/",
    )
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["client_key"] == "awkey"
    assert query["scope"] == "user.info.basic,video.publish"  # comma-separated (ref 2.1)
    assert query["response_type"] == "code" and query["state"] == auth.state
    assert query["code_challenge_method"] == "S256"
    assert auth.code_verifier and query["code_challenge"] == code_challenge(auth.code_verifier)
    other = authorize_url("awkey", "http://x/", ["a"], pkce=False, base_url="http://sandbox:1")
    assert other.url.startswith("http://sandbox:1/v2/auth/authorize/?")
    assert other.code_verifier is None and "code_challenge" not in other.url
    assert other.state != auth.state


def test_parse_redirect_success_and_failures() -> None:
    code = parse_redirect("http://127.0.0.1/cb/?code=abc%2A0%216410&scopes=a%2Cb&state=s1", "s1")
    assert (code.code, code.scopes, code.state) == ("abc*0!6410", ("a", "b"), "s1")
    with pytest.raises(StateMismatch):
        parse_redirect("code=abc&state=other", "s1")
    with pytest.raises(AccessDenied) as denied:
        parse_redirect(
            "error=access_denied&error_type=non_sandbox_target&error_description=no&state=s1", "s1"
        )
    assert denied.value.error_type == "non_sandbox_target"
    with pytest.raises(InvalidRequest):
        parse_redirect("state=s1", "s1")
