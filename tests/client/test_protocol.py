"""Response parsing: the envelope rule on every answer, the OAuth shapes, PUT progress."""

from __future__ import annotations

import httpx
import pytest

from client import errors, protocol
from client.policy import is_transient

DOCUMENTED_CODES = [
    "access_token_invalid",
    "internal_error",
    "invalid_file_upload",
    "invalid_params",
    "invalid_param",
    "rate_limit_exceeded",
    "scope_not_authorized",
    "scope_permission_missed",
    "spam_risk_too_many_posts",
    "spam_risk_user_banned_from_posting",
    "spam_risk_too_many_pending_share",
    "reached_active_user_cap",
    "unaudited_client_can_only_post_to_private_accounts",
    "url_ownership_unverified",
    "privacy_level_option_mismatch",
    "app_version_check_failed",
    "invalid_publish_id",
    "token_not_authorized_for_specified_publish_id",
    "publish_not_cancellable",
]


def envelope(code: str, status: int = 200, data: object = None) -> httpx.Response:
    body = {"data": data or {}, "error": {"code": code, "message": "m", "log_id": "L1"}}
    return httpx.Response(status, json=body)


@pytest.mark.parametrize("code", DOCUMENTED_CODES)
def test_every_documented_code_has_its_own_class(code: str) -> None:
    cls = errors.error_class(code)
    assert cls is not errors.TikTokError and cls.code_name == code
    with pytest.raises(cls) as caught:
        protocol.parse_envelope(envelope(code, 200))  # ref 4.1: even with HTTP 200
    assert (caught.value.code, caught.value.message, caught.value.log_id) == (code, "m", "L1")


def test_ok_returns_data_and_unknown_codes_get_the_base_class() -> None:
    assert protocol.parse_envelope(envelope("ok", data={"a": 1})) == {"a": 1}
    with pytest.raises(errors.TikTokError) as caught:
        protocol.parse_envelope(envelope("brand_new_code", 403))
    assert type(caught.value) is errors.TikTokError and caught.value.http_status == 403


def test_answers_without_an_ok_envelope_are_errors() -> None:
    with pytest.raises(errors.TikTokError) as caught:
        protocol.parse_envelope(httpx.Response(502, text="<html>bad gateway</html>"))
    assert caught.value.code == "http_502" and is_transient(caught.value)
    with pytest.raises(errors.TikTokError):
        protocol.parse_envelope(httpx.Response(200, json={"data": {}}))  # no error object
    assert not is_transient(errors.InvalidParam("invalid_param", "", "", 400))


def test_oauth_errors_are_read_from_the_body_whatever_the_status() -> None:
    body = {"error": "invalid_grant", "error_description": "expired", "log_id": "L2"}
    with pytest.raises(errors.InvalidGrant) as caught:
        protocol.parse_token(httpx.Response(200, json=body))
    assert (caught.value.error_description, caught.value.log_id) == ("expired", "L2")
    with pytest.raises(errors.OAuthError) as missing:  # ref 2.6 (3p): no `error` at all
        protocol.parse_token(httpx.Response(429, json={"message": "slow down"}))
    assert missing.value.error == "http_429"
    token = {"access_token": "act.x", "expires_in": 60}
    assert protocol.parse_token(httpx.Response(200, json=token)) == token
    protocol.parse_revoke(httpx.Response(200))  # ref 2.5: empty body
    with pytest.raises(errors.InvalidClient):
        protocol.parse_revoke(httpx.Response(200, json={"error": "invalid_client"}))


@pytest.mark.parametrize(
    ("header", "held"),
    [
        ("bytes */100", 0),
        ("bytes 0-49/100", 50),  # ref 10.3, read as the last byte received (inclusive)
        ("bytes 0-99/100", 100),
        ("bytes 10-49/100", None),
        ("", None),
        ("garbage", None),
    ],
)
def test_put_progress_header(header: str, held: int | None) -> None:
    headers = {"Content-Range": header} if header else {}
    assert protocol.received_bytes(httpx.Response(206, headers=headers)) == held


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.ChunkRejected),
        (403, errors.UploadUrlExpired),
        (404, errors.UploadNotFound),
        (416, errors.RangeNotSatisfiable),
        (503, errors.UploadError),
    ],
)
def test_put_failures_are_classed_by_status(status: int, cls: type[errors.UploadError]) -> None:
    error = protocol.upload_error(httpx.Response(status))
    assert type(error) is cls and error.http_status == status


def test_chunk_requests_carry_the_three_headers() -> None:
    request = protocol.chunk_request("https://up.example/v/?upload_id=1&t=2", 0, 9, 50, "video/mp4")
    assert str(request.url) == "https://up.example/v/?upload_id=1&t=2"
    assert request.headers["content-range"] == "bytes 0-9/50"
    assert request.headers["content-length"] == "10"
    assert request.headers["content-type"] == "video/mp4"
