"""Wildcard-port redirect URIs (issue 10; ref 2.3): `http://127.0.0.1:*/callback/` matches
only that string with `*` replaced by a decimal port 1-65535 without leading zeros, and the
redirect goes to exactly the URI given."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.hardening.kit import ANA, SANDBOX_APP, authorize_query, consent_form, form_body


def page_text(html: str, element_id: str) -> str | None:
    match = re.search(rf"id=[\"']?{element_id}[\"']?>([^<]*)<", html)
    return match.group(1).strip() if match else None


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://evil@127.0.0.1:99999/callback/",
        "http://evil@127.0.0.1:4321/callback/",
        "http://127.0.0.1@evil.example:4321/callback/",
        "http://127.0.0.1:05000/callback/",
        "http://127.0.0.1:0/callback/",
        "http://127.0.0.1:65536/callback/",
        "http://127.0.0.1:99999/callback/",
        "http://127.0.0.1:+4321/callback/",
        "http://127.0.0.1:٤٣٢١/callback/",
        "http://127.0.0.1:*/callback/",
        "http://127.0.0.1:/callback/",
        "http://127.0.0.1:4321/call\r\nback/",
        "http://127.0.0.1:4321/callback/\r\n",
        "http://127.0.0.1:4321/callback/\t",
        "http://127.0.0.1:4321/other/",
        "http://127.0.0.1:4321/callback",
        "http://127.0.0.1:4321/callback/x",
        "http://127.0.0.1:4321/callback/?next=/x",
        "http://127.0.0.1:4321/callback/?",
        "http://127.0.0.1:4321/callback/#frag",
        "https://127.0.0.1:4321/callback/",
        "http://localhost:4321/callback/",
        "http://127.0.0.2:4321/callback/",
    ],
)
def test_a_wildcard_port_uri_refuses_anything_but_a_plain_port(
    http: httpx.Client, redirect_uri: str
) -> None:
    page = http.get(f"/v2/auth/authorize/?{authorize_query(SANDBOX_APP, redirect_uri)}")
    assert page.status_code == 400, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "location" not in page.headers
    assert page_text(page.text, "error") == "invalid_request"
    assert page_text(page.text, "error-type") == "redirect_uri"


@pytest.mark.parametrize("port", ["1", "4321", "65535"])
def test_a_plain_port_is_accepted_and_the_redirect_goes_to_exactly_that_uri(
    http: httpx.Client, port: str
) -> None:
    redirect_uri = f"http://127.0.0.1:{port}/callback/"
    page = http.get(f"/v2/auth/authorize/?{authorize_query(SANDBOX_APP, redirect_uri)}")
    assert page.status_code == 200, page.text
    form = consent_form(page.text)
    answer = http.post(
        "/v2/auth/authorize/",
        **form_body(form.submit(("decision", "approve"), ("creator", ANA))),
    )
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(redirect_uri + "?"), location
    target = urlsplit(location)
    assert (target.scheme, target.netloc, target.path) == (
        "http",
        f"127.0.0.1:{port}",
        "/callback/",
    )
    query = parse_qs(target.query)
    assert query["code"] and query["state"] == ["st-1"]
