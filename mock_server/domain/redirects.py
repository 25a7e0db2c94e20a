"""Redirect URI registration and matching rules (ref 2.3)."""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, urlsplit

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
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def registration_problem(uri: str, platform: str, loopback_http: bool) -> str | None:
    """Why `uri` cannot be registered for an app on `platform`, or None when it can.

    `loopback_http` is the sandbox's relaxation for web apps in local development: an
    `http://localhost` or `http://127.0.0.1` URI is accepted (TikTok itself wants https).
    """
    if len(uri) >= MAX_REDIRECT_URI_LENGTH:
        return f"must be under {MAX_REDIRECT_URI_LENGTH} characters"
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


def matches(registered: str, given: str) -> bool:
    """Whether `given` (from an authorize request) matches one registered URI exactly.

    A registered desktop URI with port `*` matches the same URI on any numeric port; the
    wildcard itself is never a redirect target (the app names the port it listens on).
    """
    reg, got = _split(registered), _split(given)
    if reg is None or got is None:
        return False
    got_host, got_port = _host_and_port(got.netloc)
    if got_port == "*":
        return False
    if registered == given:
        return True
    reg_host, reg_port = _host_and_port(reg.netloc)
    if reg_port != "*":
        return False
    return (
        reg.scheme == got.scheme
        and reg_host == got_host
        and got_port is not None
        and _is_port(got_port)
        and reg.path == got.path
        and not got.query
        and not got.fragment
    )


def find_registered(redirect_uris: list[str], given: str) -> str | None:
    return next((uri for uri in redirect_uris if matches(uri, given)), None)
