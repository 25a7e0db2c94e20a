"""TikTok's host names and the upload host handed to apps that call them (ref 1)."""

from __future__ import annotations

import pytest

from mock_server.domain.hosts import TIKTOK_HOSTS, is_tiktok_host, upload_origin


def test_the_emulated_hosts_are_tiktoks_api_consent_and_upload_hosts() -> None:
    assert TIKTOK_HOSTS == ("open.tiktokapis.com", "www.tiktok.com", "open-upload.tiktokapis.com")


@pytest.mark.parametrize(
    "host",
    ["open.tiktokapis.com", "OPEN.TikTokAPIs.com", "www.tiktok.com.", "open-upload.tiktokapis.com"],
)
def test_tiktok_names_match_as_dns_compares_them(host: str) -> None:
    assert is_tiktok_host(host)


@pytest.mark.parametrize(
    "host",
    [
        None,
        "",
        "127.0.0.1",
        "localhost",
        "tiktokapis.com",
        "evil.open.tiktokapis.com",
        "open.tiktokapis.com.example",
    ],
)
def test_other_names_are_not_tiktoks(host: str | None) -> None:
    assert not is_tiktok_host(host)


@pytest.mark.parametrize(
    ("scheme", "host", "port", "origin"),
    [
        ("https", "open.tiktokapis.com", None, "https://open-upload.tiktokapis.com"),
        ("https", "open.tiktokapis.com", 443, "https://open-upload.tiktokapis.com"),
        ("https", "open.tiktokapis.com", 8443, "https://open-upload.tiktokapis.com:8443"),
        ("http", "open.tiktokapis.com", 80, "http://open-upload.tiktokapis.com"),
        ("https", "www.tiktok.com", None, "https://open-upload.tiktokapis.com"),
        ("https", "127.0.0.1", 8443, None),
        ("http", "localhost", 8080, None),
    ],
)
def test_upload_origin_follows_the_host_the_app_called(
    scheme: str, host: str, port: int | None, origin: str | None
) -> None:
    assert upload_origin(scheme, host, port) == origin
