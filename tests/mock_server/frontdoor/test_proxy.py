"""Proxy requests read and judged: CONNECT heads, absolute-form targets, refusals."""

from __future__ import annotations

import re

import pytest

from mock_server.frontdoor.proxy import (
    BadProxyRequest,
    Target,
    absolute_target,
    parse_connect,
    refusal_response,
)
from mock_server.frontdoor.sniff import Kind, classify


def head(request_line: str, *headers: str) -> bytes:
    return ("\r\n".join([request_line, *headers]) + "\r\n\r\n").encode("latin-1")


@pytest.mark.parametrize(
    ("raw", "target"),
    [
        (
            head("CONNECT open.tiktokapis.com:443 HTTP/1.1", "Host: open.tiktokapis.com:443"),
            Target("open.tiktokapis.com", 443),
        ),
        (head("CONNECT WWW.TikTok.com.:443 HTTP/1.0"), Target("www.tiktok.com", 443)),
        (head("CONNECT [::1]:8443 HTTP/1.1", "Proxy-Connection: keep-alive"), Target("::1", 8443)),
        (
            head("CONNECT example.com:443 HTTP/1.1", "User-Agent: curl/8"),
            Target("example.com", 443),
        ),
    ],
)
def test_connect_heads_name_their_target(raw: bytes, target: Target) -> None:
    assert parse_connect(raw) == target


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (head("CONNECT open.tiktokapis.com:443"), "is not `CONNECT host:port HTTP/1.1`"),
        (head("CONNECT open.tiktokapis.com:443 HTTP/2"), "is not HTTP/1.0 or HTTP/1.1"),
        (head("CONNECT open.tiktokapis.com HTTP/1.1"), "has no port"),
        (head("CONNECT open.tiktokapis.com:99999 HTTP/1.1"), "is not a valid host:port"),
        (head("CONNECT open.tiktokapis.com:https HTTP/1.1"), "is not a valid host:port"),
        (head("CONNECT user@open.tiktokapis.com:443 HTTP/1.1"), "is not a host:port"),
        (head("CONNECT /v2/user/info/ HTTP/1.1"), "is not a host:port"),
        (head("CONNECT open.tiktokapis.com:443 HTTP/1.1", "no colon here"), "is malformed"),
        (head("CONNECT open.tiktokapis.com:443 HTTP/1.1", "Bad Name: x"), "is malformed"),
        ("CONNECT ôpen:443 HTTP/1.1\r\n\r\n".encode("latin-1"), "is not ASCII"),
    ],
)
def test_malformed_connect_heads_say_what_is_wrong(raw: bytes, says: str) -> None:
    with pytest.raises(BadProxyRequest, match=re.escape(says)):
        parse_connect(raw)


def test_only_tiktoks_hosts_on_their_port_are_served() -> None:
    assert Target("open.tiktokapis.com", 443).refusal() is None
    assert Target("open-upload.tiktokapis.com", 443).refusal() is None
    assert Target("www.tiktok.com", 80).refusal(port=80) is None

    other = Target("example.com", 443).refusal()
    assert other is not None
    assert "example.com:443" in other and "never forwards" in other
    for host in ("open.tiktokapis.com", "www.tiktok.com", "open-upload.tiktokapis.com"):
        assert host in other
    wrong_port = Target("open.tiktokapis.com", 8443).refusal()
    assert wrong_port is not None and "port 443" in wrong_port
    assert Target("127.0.0.1", 443).refusal() is not None


@pytest.mark.parametrize(
    ("raw_path", "expected"),
    [
        (b"/v2/user/info/", None),
        (
            b"http://open.tiktokapis.com/v2/user/info/",
            ("http", Target("open.tiktokapis.com", 80), b"/v2/user/info/"),
        ),
        (
            b"HTTPS://www.tiktok.com:443/v2/auth/authorize/",
            ("https", Target("www.tiktok.com", 443), b"/v2/auth/authorize/"),
        ),
        (b"http://open.tiktokapis.com", ("http", Target("open.tiktokapis.com", 80), b"/")),
        (b"http://example.com:8080/x", ("http", Target("example.com", 8080), b"/x")),
    ],
)
def test_absolute_form_targets_are_split(
    raw_path: bytes, expected: tuple[str, Target, bytes] | None
) -> None:
    assert absolute_target(raw_path) == expected


def test_an_absolute_target_without_a_host_is_malformed() -> None:
    with pytest.raises(BadProxyRequest):
        absolute_target(b"http:///v2/user/info/")


def test_a_refusal_is_a_complete_answer_that_closes() -> None:
    answer = refusal_response(403, "no\n")
    head_part, _, body = answer.partition(b"\r\n\r\n")
    assert head_part.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    assert b"Connection: close" in head_part
    assert b"Content-Length: 3" in head_part
    assert body == b"no\n"


@pytest.mark.parametrize(
    ("first", "kind"),
    [
        (b"", Kind.CLOSED),
        (b"\x16\x03\x01\x02\x00", Kind.TLS),
        (b"CONNECT ", Kind.CONNECT),
        (b"GET / HT", Kind.HTTP),
        (b"CONNECTX", Kind.HTTP),
        (b"PUT /upl", Kind.HTTP),
        (b"CONN", None),  # could still be a CONNECT: wait for more
    ],
)
def test_the_first_bytes_tell_what_a_connection_speaks(first: bytes, kind: Kind | None) -> None:
    assert classify(first) is kind
