"""Scripted apps for the audit tests: raw HTTP over the in-process transport, a careful client
by default, so a test can break exactly one rule and expect exactly one finding.

`Driver(stage, client_key)` logs a person in through the consent page and the token endpoint
(both journaled), reads creator_info, posts videos whole, polls, refreshes and revokes, the
way a careful integration does; each step takes the arguments that make it careless.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from mock_server.audit import AuditReport
from tests.scenarios.stage import AUTHORIZE, POSTING_SCOPES, STATUS, VIDEO_INIT, Stage

CREATOR_INFO = "/v2/post/publish/creator_info/query/"
INBOX_INIT = "/v2/post/publish/inbox/video/init/"
TOKEN = "/v2/oauth/token/"
REVOKE = "/v2/oauth/revoke/"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
WEB_REDIRECT = "https://app.acme.example/auth/tiktok/callback"  # the audited app's https URI
VERIFIER = "v" * 43 + "-._~0123456789"


def challenge(verifier: str, form: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    if form == "hex":
        return digest.hex()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def whole_file(size: int) -> dict[str, Any]:
    """ref 10.1: a file under 5 MB goes up whole."""
    return {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": size, "total_chunk_count": 1}


@dataclass
class Tokens:
    access_token: str
    refresh_token: str


class Driver:
    def __init__(self, stage: Stage, client_key: str) -> None:
        self.stage = stage
        self.http = stage.http
        self.app = stage.app(client_key)

    # -- Login Kit ---------------------------------------------------------------------------

    def login(
        self,
        username: str,
        *,
        redirect_uri: str = WEB_REDIRECT,
        pkce: str | None = "hex",
        token_headers: dict[str, str] | None = None,
    ) -> Tokens:
        """The consent page approved as `username`, then the code exchanged by the server."""
        params = {
            "client_key": self.app.client_key,
            "scope": ",".join(POSTING_SCOPES),
            "redirect_uri": redirect_uri,
            "state": "s1",
            "response_type": "code",
        }
        if pkce:
            params |= {
                "code_challenge": challenge(VERIFIER, pkce),
                "code_challenge_method": "S256",
            }
        answer = self.stage.consent(f"{AUTHORIZE}?{urlencode(params)}", username, POSTING_SCOPES)
        assert answer.status_code == 302, answer.text
        code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
        form = {
            "client_key": self.app.client_key,
            "client_secret": self.app.client_secret,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
        }
        if pkce:
            form["code_verifier"] = VERIFIER
        body = self.token_call(form, token_headers).json()
        assert "access_token" in body, body
        return Tokens(body["access_token"], body["refresh_token"])

    def token_call(
        self, form: dict[str, str], headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return self.http.post(TOKEN, content=urlencode(form), headers=FORM | (headers or {}))

    def refresh(self, refresh_token: str) -> httpx.Response:
        return self.token_call(
            {
                "client_key": self.app.client_key,
                "client_secret": self.app.client_secret,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            }
        )

    def revoke(self, access_token: str) -> httpx.Response:
        form = {
            "client_key": self.app.client_key,
            "client_secret": self.app.client_secret,
            "token": access_token,
        }
        return self.http.post(REVOKE, content=urlencode(form), headers=FORM)

    # -- posting -----------------------------------------------------------------------------

    def creator_info(self, token: str) -> httpx.Response:
        return self.stage.raw(CREATOR_INFO, token)

    def open_post_page(self, username: str, **login: Any) -> tuple[str, dict[str, Any]]:
        """The person logs in and opens the post page: (access token, creator_info's data)."""
        token = self.login(username, **login).access_token
        answer = self.creator_info(token)
        assert answer.json()["error"]["code"] == "ok", answer.text
        return token, answer.json()["data"]

    def careful_post_info(self, info: dict[str, Any], privacy: str | None = None) -> dict[str, Any]:
        """What a careful app sends: a level among the options, greyed-out boxes kept off."""
        options = info["privacy_level_options"]
        return {
            "privacy_level": privacy or options[0],
            "title": "audit",
            "disable_comment": True,
            "disable_duet": True,
            "disable_stitch": True,
            "brand_content_toggle": False,
            "brand_organic_toggle": False,
        }

    def init_video(
        self, token: str, post_info: dict[str, Any], source: dict[str, Any]
    ) -> httpx.Response:
        return self.stage.raw(VIDEO_INIT, token, {"post_info": post_info, "source_info": source})

    def upload(self, upload_url: str, data: bytes) -> httpx.Response:
        size = len(data)
        headers = {"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{size - 1}/{size}"}
        return self.http.put(upload_url, content=data, headers=headers)

    def post_video(
        self,
        token: str,
        data: bytes,
        *,
        privacy: str | None = None,
        fetch_creator_info: bool = True,
        info: dict[str, Any] | None = None,
        **post_info: Any,
    ) -> str:
        """creator_info, init and upload (whole); returns the publish_id."""
        if fetch_creator_info:
            answer = self.creator_info(token)
            assert answer.json()["error"]["code"] == "ok", answer.text
            info = answer.json()["data"]
        assert info is not None
        body = self.careful_post_info(info, privacy) | post_info
        init = self.init_video(token, body, whole_file(len(data)))
        assert init.json()["error"]["code"] == "ok", init.text
        put = self.upload(init.json()["data"]["upload_url"], data)
        assert put.status_code == 201, put.text
        return str(init.json()["data"]["publish_id"])

    def status(self, token: str, publish_id: str) -> httpx.Response:
        return self.stage.raw(STATUS, token, {"publish_id": publish_id})


def verdicts(report: AuditReport) -> dict[str, str]:
    return {c.id: c.verdict for c in report.checks}


def assert_only(report: AuditReport, check_id: str, verdict: str = "fail") -> None:
    """`check_id` has `verdict`, and no other check fails or warns."""
    found = verdicts(report)
    assert found[check_id] == verdict, report.check(check_id)
    others = {k: v for k, v in found.items() if k != check_id and v in ("fail", "warn")}
    assert others == {}, [report.check(k) for k in others]
