"""Redirect URI registration and matching (ref 2.3)."""

from __future__ import annotations

import pytest

from mock_server.domain.redirects import find_registered, matches, registration_problem
from mock_server.scenario import ScenarioError
from mock_server.state import SandboxState
from tests.mock_server.sandboxes import scenario


def web_uri_of_length(n: int) -> str:
    base = "https://app.example.com/"
    return base + "a" * (n - len(base))


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/auth/tiktok/callback",
        "https://app.example.com",
        "https://app.example.com:8443/cb/",
        web_uri_of_length(511),
    ],
)
def test_web_accepts_static_https(uri: str) -> None:
    assert registration_problem(uri, "web", loopback_http=False) is None


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("http://app.example.com/cb", "https"),
        ("http://127.0.0.1:3000/cb", "https"),
        ("http://localhost:3000/cb", "https"),
        ("ftp://app.example.com/cb", "absolute"),
        ("/auth/callback", "absolute"),
        ("app.example.com/cb", "absolute"),
        ("https:///cb", "absolute"),
        ("https://app.example.com/cb?next=/home", "query"),
        ("https://app.example.com/cb?", "query"),
        ("https://app.example.com/cb#done", "fragment"),
        ("https://app.example.com/cb#", "fragment"),
        ("https://app.example.com:*/cb", "desktop"),
        ("https://app.example.com:abc/cb", "port"),
        ("https://app.example.com:/cb", "port"),
        (web_uri_of_length(512), "512"),
        (web_uri_of_length(2000), "512"),
    ],
)
def test_web_refuses(uri: str, why: str) -> None:
    problem = registration_problem(uri, "web", loopback_http=False)
    assert problem is not None and why in problem


@pytest.mark.parametrize(
    ("uri", "allowed"),
    [
        ("http://127.0.0.1:3000/callback/", True),
        ("http://localhost:3000/callback/", True),
        ("http://localhost/callback/", True),
        ("http://app.example.com/callback/", False),
        ("http://127.0.0.2:3000/callback/", False),
        ("http://127.0.0.1:3000/callback/?x=1", False),
        ("http://127.0.0.1:*/callback/", False),
    ],
)
def test_web_loopback_http_only_with_loopback_redirects(uri: str, allowed: bool) -> None:
    assert (registration_problem(uri, "web", loopback_http=True) is None) is allowed
    assert registration_problem(uri, "web", loopback_http=False) is not None


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:*/callback/",
        "http://localhost:*/callback/",
        "http://127.0.0.1:8765/callback/",
        "https://localhost:8443/cb",
        "http://LOCALHOST:9000/cb",
    ],
)
def test_desktop_accepts_loopback_with_a_port(uri: str) -> None:
    assert registration_problem(uri, "desktop", loopback_http=False) is None


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("http://127.0.0.1/callback/", "port"),
        ("http://localhost/callback/", "port"),
        ("http://app.example.com:8080/callback/", "localhost"),
        ("http://127.0.0.2:8080/callback/", "localhost"),
        ("http://[::1]:8080/callback/", "localhost"),
        ("https://app.example.com/callback/", "localhost"),
        ("http://127.0.0.1:abc/callback/", "port"),
        ("http://127.0.0.1:\u00b9\u00b2/callback/", "port"),
        ("http://127.0.0.1:*/callback/?x=1", "query"),
        ("http://127.0.0.1:*/callback/#x", "fragment"),
        ("custom://127.0.0.1:80/cb", "absolute"),
        ("http://127.0.0.1:*/" + "a" * 600, "512"),
    ],
)
def test_desktop_refuses(uri: str, why: str) -> None:
    problem = registration_problem(uri, "desktop", loopback_http=True)
    assert problem is not None and why in problem


def test_registration_rules_apply_to_scenario_apps() -> None:
    bad = scenario(web={"redirect_uris": ["https://app.example.com/cb", "http://app.example/cb"]})
    with pytest.raises(ScenarioError, match=r"tiny\.yaml: apps\[0\]\.redirect_uris\[1\]"):
        SandboxState(bad)
    too_many = scenario(web={"redirect_uris": [f"https://app.example.com/{i}" for i in range(11)]})
    with pytest.raises(ScenarioError, match="at most 10"):
        SandboxState(too_many)
    closed = scenario(web={"loopback_redirects": False})  # its list has an http loopback URI
    with pytest.raises(ScenarioError, match="https"):
        SandboxState(closed)


WILDCARD = "http://127.0.0.1:*/callback/"


@pytest.mark.parametrize(
    ("registered", "given", "expected"),
    [
        ("https://app.example.com/cb", "https://app.example.com/cb", True),
        ("https://app.example.com/cb", "https://app.example.com/cb/", False),
        ("https://app.example.com/cb", "https://app.example.com/cb?x=1", False),
        ("https://app.example.com/cb", "http://app.example.com/cb", False),
        ("https://app.example.com/cb", "https://APP.example.com/cb", False),
        ("http://127.0.0.1:3000/callback/", "http://127.0.0.1:3001/callback/", False),
        (WILDCARD, "http://127.0.0.1:53682/callback/", True),
        (WILDCARD, "http://127.0.0.1:1/callback/", True),
        # The wildcard is for registration; the request names the port it listens on.
        (WILDCARD, WILDCARD, False),
        (WILDCARD, "http://127.0.0.1/callback/", False),
        (WILDCARD, "http://127.0.0.1:abc/callback/", False),
        (WILDCARD, "http://127.0.0.1:\u00b2/callback/", False),
        (WILDCARD, "http://localhost:53682/callback/", False),
        (WILDCARD, "https://127.0.0.1:53682/callback/", False),
        (WILDCARD, "http://127.0.0.1:53682/other/", False),
        (WILDCARD, "http://127.0.0.1:53682/callback/?x=1", False),
        (WILDCARD, "http://127.0.0.1:53682/callback/#x", False),
        (WILDCARD, "http://evil.example:53682/callback/", False),
        # issue 10: only a decimal port 1-65535 without leading zeros, nothing else changed
        (WILDCARD, "http://127.0.0.1:65535/callback/", True),
        (WILDCARD, "http://evil@127.0.0.1:99999/callback/", False),
        (WILDCARD, "http://evil@127.0.0.1:5000/callback/", False),
        (WILDCARD, "http://127.0.0.1:99999/callback/", False),
        (WILDCARD, "http://127.0.0.1:65536/callback/", False),
        (WILDCARD, "http://127.0.0.1:0/callback/", False),
        (WILDCARD, "http://127.0.0.1:05000/callback/", False),
        (WILDCARD, "http://127.0.0.1:+5000/callback/", False),
        (WILDCARD, "http://127.0.0.1:5000/call\r\nback/", False),
        (WILDCARD, "http://127.0.0.1:5000/callback/\r\nLocation: x", False),
        (WILDCARD, "http://127.0.0.1:5000/Callback/", False),
        (WILDCARD, "http://127.0.0.1:5000/callback", False),
        (WILDCARD, "http://127.0.0.1:5000//callback/", False),
        (WILDCARD, "HTTP://127.0.0.1:5000/callback/", False),
        (WILDCARD, "http://127.0.0.1:5000/callback/%2e%2e/", False),
        # `:*` only means a port in the authority; elsewhere it is characters to match as such
        ("https://example.com/cb:*", "https://example.com/cb:8080", False),
        ("https://example.com/cb:*", "https://example.com/cb:*", True),
    ],
)
def test_matching(registered: str, given: str, expected: bool) -> None:
    assert matches(registered, given) is expected


@pytest.mark.parametrize("given", ["http://[::1/callback/", "http://[/cb", "https://x]/cb"])
def test_unparseable_uris_never_match_and_cannot_be_registered(given: str) -> None:
    assert not matches(WILDCARD, given)
    assert not matches("https://app.example.com/cb", given)
    assert registration_problem(given, "web", loopback_http=True) is not None
    assert registration_problem(given, "desktop", loopback_http=True) is not None


def test_find_registered_returns_the_registered_form() -> None:
    uris = ["http://localhost:*/cb/", WILDCARD]
    assert find_registered(uris, "http://127.0.0.1:4000/callback/") == WILDCARD
    assert find_registered(uris, "http://localhost:4000/cb/") == "http://localhost:*/cb/"
    assert find_registered(uris, "http://127.0.0.1:4000/cb/") is None
