"""Redirect URI registration and matching rules (ref 2.3)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit

from mock_server.domain.text import url_text_problem

MAX_REDIRECT_URIS = 10
MAX_REDIRECT_URI_LENGTH = 512
# ref 2.3: desktop redirect URIs name exactly these hosts.
REDIRECT_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1"})


def _host_and_port(netloc: str) -> tuple[str, str | None]:
    """Split `host[:port]` without validating the port (desktop URIs may use `*`)."""
    netloc = netloc.rsplit("@", 1)[-1]
    if netloc.startswith("["):
        host, _, rest = netloc.partition("]")
        host += "]"
        port = rest[1:] if rest.startswith(":") else None
        return host.lower(), port
    host, sep, port = netloc.partition(":")
    return host.lower(), (port if sep else None)


def _split(uri: str) -> SplitResult | None:
    """urlsplit, or None for text it refuses (an unbalanced `[` in the host, say)."""
    try:
        return urlsplit(uri)
    except ValueError:
        return None


def _is_port(text: str) -> bool:
    return text.isascii() and text.isdigit()  # str.isdigit alone accepts "²"


def is_loopback_host(host: str) -> bool:
    """`localhost` or a loopback IP address (127.0.0.0/8, ::1); never a domain name."""
    name = host.lower().strip("[]")
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    # `::ffff:127.0.0.1` is how a dual-stack socket (`--host ::`) sees an IPv4 loopback peer.
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def registration_problem(uri: str, platform: str, loopback_http: bool) -> str | None:
    """Why `uri` cannot be registered for an app on `platform`, or None when it can.

    `loopback_http` is the sandbox's relaxation for web apps in local development: an
    `http://localhost` or `http://127.0.0.1` URI is accepted (TikTok itself wants https).
    """
    if len(uri) >= MAX_REDIRECT_URI_LENGTH:
        return f"must be under {MAX_REDIRECT_URI_LENGTH} characters"
    if url_text_problem(uri):
        return "must not contain spaces or control characters"
    parts = _split(uri)
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        return "must be an absolute http(s) URI"
    if parts.query or uri.endswith("?"):
        return "must be static: no query parameters"
    if parts.fragment or "#" in uri:
        return "must not contain a fragment (#)"
    host, port = _host_and_port(parts.netloc)
    if platform == "desktop":
        if host not in REDIRECT_LOOPBACK_HOSTS:
            return "desktop redirect URIs must use host localhost or 127.0.0.1"
        if port is None:
            return "desktop redirect URIs need a port (or the wildcard port *)"
        if port != "*" and not _is_port(port):
            return f"port {port!r} is not a number or *"
        return None
    if port == "*":
        return "the wildcard port * is for desktop apps only"
    if port is not None and not _is_port(port):
        return f"port {port!r} is not a number"
    if parts.scheme == "https":
        return None
    if loopback_http and host in REDIRECT_LOOPBACK_HOSTS:
        return None
    return "web redirect URIs must start with https (http is allowed for loopback hosts only)"


# A wildcard port's stand-in: decimal, 1-65535, no sign, no leading zero.
_PORT = re.compile(r"[1-9][0-9]{0,4}")


def matches(registered: str, given: str) -> bool:
    """Whether `given` (from an authorize request) matches one registered URI exactly.

    A registered desktop URI with port `*` matches the same string with `*` replaced by a port
    number (1-65535, no leading zero): same scheme, host and path, no userinfo, nothing added.
    The wildcard itself is never a redirect target (the app names the port it listens on), so
    what the person is sent back to is always exactly what was registered, port aside.
    """
    head, star, tail = registered.partition(":*")
    wildcard_port = bool(star) and "/" not in head.partition("://")[2] and tail[:1] in ("", "/")
    if not wildcard_port:  # `:*` elsewhere (in a path) is just characters
        return given == registered and _split(given) is not None
    if not given.startswith(head + ":"):
        return False
    rest = given[len(head) + 1 :]
    port = _PORT.match(rest)
    return port is not None and int(port.group()) <= 65535 and rest[port.end() :] == tail


def find_registered(redirect_uris: list[str], given: str) -> str | None:
    return next((uri for uri in redirect_uris if matches(uri, given)), None)
