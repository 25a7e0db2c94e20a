"""Proxy requests: which targets the sandbox emulates, the CONNECT request head, absolute-form
targets, and the answers that refuse the rest. The sandbox never forwards anything: a target
it does not emulate is refused before any connection to it could be attempted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from mock_server.domain.hosts import TIKTOK_HOSTS, TIKTOK_PORT, is_tiktok_host, normal_host

# RFC 9110 5.6.2: a header field name is a token.
_FIELD_NAME = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_VERSION = re.compile(rb"^HTTP/1\.[01]$")
EMULATED = ", ".join(TIKTOK_HOSTS)


class BadProxyRequest(Exception):
    """A proxy request the sandbox cannot read; the message says what is wrong with it."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def refusal(self, port: int = TIKTOK_PORT) -> str | None:
        """Why the sandbox will not serve this target, or None when it emulates it; `port` is
        the one TikTok would serve it on (443 for a CONNECT or https, 80 for plain http)."""
        if not is_tiktok_host(self.host):
            return (
                f"tiktok-sandbox refuses {self}: it emulates only {EMULATED} and never "
                "forwards anything (it is offline by design; nothing leaves this machine). "
                "Exclude other hosts from the proxy (NO_PROXY), or unset HTTPS_PROXY for them."
            )
        if self.port != port:
            return (
                f"tiktok-sandbox refuses {self}: TikTok serves {self.host} on port "
                f"{port} only here, and so does the sandbox."
            )
        return None


def parse_authority(authority: str, default_port: int | None) -> Target:
    """`host:port` (or `[v6]:port`) as a Target; BadProxyRequest when it is not one."""
    try:
        parts = urlsplit(f"//{authority}")
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # a port out of range or not a number
        raise BadProxyRequest(f"{authority!r} is not a valid host:port ({exc})") from exc
    if not host or parts.username is not None or parts.path or parts.query or parts.fragment:
        raise BadProxyRequest(f"{authority!r} is not a host:port")
    port = port if port is not None else default_port
    if port is None or port == 0:
        raise BadProxyRequest(f"{authority!r} has no port (CONNECT needs host:port)")
    return Target(normal_host(host), port)


def parse_connect(head: bytes) -> Target:
    """The target of a `CONNECT host:port HTTP/1.1` request head (blank line included)."""
    lines = head.split(b"\r\n")
    request_line = lines[0].split(b" ")
    if len(request_line) != 3 or request_line[0] != b"CONNECT":
        raise BadProxyRequest(
            f"the request line {_shown(lines[0])} is not `CONNECT host:port HTTP/1.1`"
        )
    _, authority, version = request_line
    if not _VERSION.match(version):
        raise BadProxyRequest(f"{_shown(version)} is not HTTP/1.0 or HTTP/1.1")
    for line in lines[1:]:
        if line and (b":" not in line or not _FIELD_NAME.match(line.split(b":", 1)[0])):
            raise BadProxyRequest(f"the header line {_shown(line)} is malformed")
    try:
        text = authority.decode("ascii")
    except UnicodeDecodeError as exc:
        raise BadProxyRequest(f"the target {_shown(authority)} is not ASCII") from exc
    return parse_authority(text, default_port=None)


def absolute_target(raw_path: bytes) -> tuple[str, Target, bytes] | None:
    """For an absolute-form request target (`http://host/path`, RFC 9112 3.2.2): its scheme,
    its Target and its path; None for the usual origin form (`/path`)."""
    lowered = raw_path[:8].lower()
    if not (lowered.startswith(b"http://") or lowered.startswith(b"https://")):
        return None
    text = raw_path.decode("latin-1")
    scheme, rest = text.split("://", 1)
    authority, slash, path = rest.partition("/")
    target = parse_authority(authority, default_port=443 if scheme.lower() == "https" else 80)
    return scheme.lower(), target, (slash + path or "/").encode("latin-1")


def _shown(data: bytes) -> str:
    return repr(data[:80].decode("latin-1"))


def refusal_response(status: int, text: str) -> bytes:
    """A complete HTTP/1.1 answer that closes the connection, for refusals made before any
    HTTP server has the connection."""
    body = (text.rstrip("\n") + "\n").encode("utf-8")
    reason = {400: "Bad Request", 403: "Forbidden", 408: "Request Timeout"}.get(status, "Refused")
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


TUNNEL_OPEN = b"HTTP/1.1 200 Connection established\r\n\r\n"
