"""PKCE for desktop apps (ref 2.1): `code_challenge` is required, and it is the hex-encoded
SHA-256 of `code_verifier` (the desktop doc's form), not RFC 7636's base64url form.

A desktop app's authorization without a challenge is refused (the target's controller reports
the authorize page's refusal); with TikTok's hex challenge, the verifier exchanges the code;
with the base64url form of the same digest it does not (refused at authorize or, as integrators
report, at the exchange with `invalid_request`/`invalid_grant`).
"""

from __future__ import annotations

import base64
import hashlib

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import calls, checks
from conformance.controller import AppInfo, Controller, ControllerError
from conformance.plugin import examples
from conformance.report import example

# ref 2.1: 43-128 characters of [A-Za-z0-9-._~].
VERIFIERS = st.text(
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"),
    min_size=43,
    max_size=128,
)
DESKTOP_REDIRECT = "http://127.0.0.1:*/callback/"  # ref 2.3: loopback host, wildcard port


def desktop_app(controller: Controller) -> AppInfo:
    return controller.create_app(platform="desktop", redirect_uris=[DESKTOP_REDIRECT])


@pytest.mark.behaviour("desktop_apps_send_hex_pkce", "2.1")
@examples()
@given(verifier=VERIFIERS, form=st.sampled_from(["none", "hex", "base64url"]))
def test_a_desktop_app_needs_a_hex_code_challenge(
    http: httpx.Client, controller: Controller, verifier: str, form: str
) -> None:
    """ref 2.1: desktop apps send code_challenge = hex(SHA-256(code_verifier)), method S256."""
    example("desktop_apps_send_hex_pkce")
    app = desktop_app(controller)
    user = controller.create_creator()
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = {
        "none": None,
        "hex": digest.hex(),
        "base64url": base64.urlsafe_b64encode(digest).decode().rstrip("="),
    }[form]
    try:
        code = controller.authorize(app.client_key, user, ("user.info.basic",), challenge)
    except ControllerError as refusal:
        assert form != "hex", f"a desktop authorization with the hex challenge: {refusal}"
        assert "code_challenge" in str(refusal), refusal
        return
    assert form != "none", "a desktop authorization without code_challenge was accepted"
    answer = calls.form(http, "token", calls.code_exchange(app, code, verifier))
    if form == "hex":
        checks.token_success(answer)
    else:
        assert checks.oauth_error(answer) in ("invalid_request", "invalid_grant"), answer.text
