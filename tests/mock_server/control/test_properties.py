"""URL properties (ref 10.4): add a domain or URL prefix to an app, prove it, then pull from it.

A URL prefix is proved by the signature file the sandbox fetches from a loopback server the test
runs; a domain by the TXT records the verify call states (no DNS offline).
"""

from __future__ import annotations

import http.server
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conformance.media import make_video
from mock_server.runtime.fetcher import HttpxFetcher
from tests.forms import form_token
from tests.mock_server.lifecycle_kit import VIDEO_INIT, LoopbackServer, Studio, answer

SIGNATURE = "tiktok-developers-site-verification="


class Site:
    """A media server on 127.0.0.1: /videos/clip.mp4, the signature files put in `files`, and
    the paths in `moved` answering 302 to /elsewhere/ + their name."""

    def __init__(self, clip: bytes) -> None:
        self.files: dict[str, bytes] = {"/videos/clip.mp4": clip}
        self.moved: set[str] = set()

        def handle(request: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
            if request.path in self.moved:
                answer(request, 302, Location="/elsewhere/" + request.path.rsplit("/", 1)[1])
            elif request.path in self.files:
                answer(request, 200, self.files[request.path])
            else:
                answer(request, 404)

        self.server = LoopbackServer(handle)
        self.prefix = f"{self.server.url}/videos/"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_video(tmp_path_factory.mktemp("props") / "clip.mp4").read_bytes()


@pytest.fixture
def site(clip: bytes) -> Iterator[Site]:
    made = Site(clip)
    with made.server:
        yield made


@pytest.fixture
def st() -> Iterator[Studio]:
    studio = Studio(fetcher=HttpxFetcher(timeout_seconds=5))
    try:
        yield studio
    finally:
        studio.close()


def new_app(st: Studio, **settings: Any) -> str:
    return st.new_app("pia_props", allow_loopback_http_media=True, **settings)


def base(key: str) -> str:
    return f"/_sandbox/apps/{key}/url_properties"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def pull(st: Studio, key: str, url: str) -> httpx.Response:
    body = {
        "post_info": {"privacy_level": "SELF_ONLY"},
        "source_info": {"source": "PULL_FROM_URL", "video_url": url},
    }
    return st.post(VIDEO_INIT, st.token(key, "pia_props"), body)


def test_a_url_prefix_is_verified_by_its_signature_file_then_pulls_work(
    st: Studio, site: Site
) -> None:
    key = new_app(st)
    url = site.prefix + "clip.mp4"
    refused = pull(st, key, url)
    assert (refused.status_code, refused.json()["error"]["code"]) == (
        403,
        "url_ownership_unverified",
    )
    prop = ok(st.http.post(base(key), json={"type": "url_prefix", "value": site.prefix}), 201)
    assert prop["status"] == "unverified" and prop["source"] == "added"
    token = prop["verification_token"]
    assert len(token) == 32 and token.isalnum()
    assert prop["signature"] == SIGNATURE + token
    assert prop["signature_file"] == f"tiktok{token}.txt"
    assert prop["signature_file_url"] == site.prefix + f"tiktok{token}.txt"
    # Until verified, pulls from it are still refused.
    assert pull(st, key, url).status_code == 403

    failed = st.http.post(f"{base(key)}/{prop['id']}/verify", json={})
    assert failed.status_code == 422
    assert failed.json()["error"]["code"] == "verification_failed"
    assert "404" in failed.json()["error"]["message"]
    assert failed.json()["property"]["status"] == "unverified"
    site.files[f"/videos/tiktok{token}.txt"] = b"something else\n"
    assert st.http.post(f"{base(key)}/{prop['id']}/verify", json={}).status_code == 422

    site.files[f"/videos/tiktok{token}.txt"] = f"{SIGNATURE}{token}\n".encode()
    verified = ok(st.http.post(f"{base(key)}/{prop['id']}/verify", json={}))
    assert verified["status"] == "verified"
    assert site.prefix in ok(st.http.get(f"/_sandbox/apps/{key}"))["verified_url_prefixes"]
    publish_id = ok(pull(st, key, url))["data"]["publish_id"]
    st.settle()
    st.advance(2)
    assert st.state(publish_id)["status"] == "PUBLISH_COMPLETE"
    # A URL outside the prefix is still someone else's.
    assert pull(st, key, f"{site.server.url}/other/clip.mp4").status_code == 403


def test_a_signature_file_behind_a_redirect_does_not_verify(st: Studio, site: Site) -> None:
    """ref 10.4: TikTok follows no redirects when it fetches."""
    key = new_app(st)
    prop = ok(st.http.post(base(key), json={"type": "url_prefix", "value": site.prefix}), 201)
    site.moved.add(f"/videos/{prop['signature_file']}")
    site.files[f"/elsewhere/{prop['signature_file']}"] = prop["signature"].encode()
    answered = st.http.post(f"{base(key)}/{prop['id']}/verify", json={})
    assert answered.status_code == 422
    assert "302" in answered.json()["error"]["message"]
    assert len(site.server.requests) == 1  # the redirect was not followed


def test_a_domain_is_verified_by_the_txt_records_the_call_states(st: Studio) -> None:
    key = new_app(st)
    prop = ok(st.http.post(base(key), json={"type": "domain", "value": "Media.Example.COM."}), 201)
    assert prop["value"] == "media.example.com"
    assert prop["dns_txt_record"] == {
        "name": "media.example.com",
        "type": "TXT",
        "value": prop["signature"],
    }
    url = "https://cdn.media.example.com/v/clip.mp4"  # a subdomain: covered by the domain
    assert pull(st, key, url).status_code == 403
    verify = f"{base(key)}/{prop['id']}/verify"
    missing = st.http.post(verify, json={})
    assert missing.status_code == 400 and "dns_txt" in missing.json()["error"]["message"]
    wrong = st.http.post(verify, json={"dns_txt": ["v=spf1 -all", SIGNATURE + "nope"]})
    assert wrong.status_code == 422 and wrong.json()["property"]["status"] == "unverified"
    records = ["v=spf1 -all", f'"{prop["signature"]}"']
    assert ok(st.http.post(verify, json={"dns_txt": records}))["status"] == "verified"
    assert "media.example.com" in ok(st.http.get(f"/_sandbox/apps/{key}"))["verified_domains"]
    assert pull(st, key, url).status_code == 200
    assert pull(st, key, "https://example.com/clip.mp4").status_code == 403  # the parent


def test_the_list_shows_settings_as_verified_properties_and_delete_unverifies(
    st: Studio, site: Site
) -> None:
    key = new_app(st, verified_domains=["media.acme.example"], verified_url_prefixes=[site.prefix])
    listed = ok(st.http.get(base(key)))["url_properties"]
    assert [(p["type"], p["value"], p["status"], p["source"]) for p in listed] == [
        ("domain", "media.acme.example", "verified", "settings"),
        ("url_prefix", site.prefix, "verified", "settings"),
    ]
    added = ok(st.http.post(base(key), json={"type": "domain", "value": "other.example"}), 201)
    assert len(ok(st.http.get(base(key)))["url_properties"]) == 3
    # Deleting a declared one takes it out of the settings: its pulls are refused again.
    domain_id = listed[0]["id"]
    after = ok(st.http.delete(f"{base(key)}/{domain_id}"))["url_properties"]
    assert domain_id not in {p["id"] for p in after}
    assert ok(st.http.get(f"/_sandbox/apps/{key}"))["verified_domains"] == []
    assert pull(st, key, "https://media.acme.example/clip.mp4").status_code == 403
    ok(st.http.delete(f"{base(key)}/{added['id']}"))
    gone = st.http.delete(f"{base(key)}/{added['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    assert st.http.post(f"{base(key)}/{added['id']}/verify", json={}).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "word"),
    [
        ({"type": "website", "value": "a.example"}, 400, "type"),
        ({"type": "domain"}, 400, "value"),
        ({"type": "domain", "value": "https://a.example/"}, 400, "domain name"),
        ({"type": "domain", "value": "127.0.0.1"}, 400, "domain name"),
        ({"type": "url_prefix", "value": "https://a.example/no-slash"}, 400, "ending with /"),
        ({"type": "url_prefix", "value": "http://a.example/v/"}, 400, "https"),
        ({"type": "url_prefix", "value": "https://10.0.0.1/v/"}, 400, "not an IP"),
        ({"type": "domain", "value": "a.example", "extra": 1}, 400, "extra"),
    ],
)
def test_bad_properties_are_refused(
    st: Studio, body: dict[str, Any], status: int, word: str
) -> None:
    answered = st.http.post(base(new_app(st)), json=body)
    assert answered.status_code == status, answered.text
    assert word in answered.json()["error"]["message"]


def test_a_property_is_added_once_and_only_to_a_known_app(st: Studio) -> None:
    key = new_app(st, verified_domains=["media.acme.example"])
    body = {"type": "domain", "value": "a.example"}
    ok(st.http.post(base(key), json=body), 201)
    again = st.http.post(base(key), json=body)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    declared = st.http.post(base(key), json={"type": "domain", "value": "media.acme.example"})
    assert declared.status_code == 409
    assert st.http.get(base("nope_nope")).status_code == 404
    assert st.http.post(base("nope_nope"), json=body).status_code == 404


def test_the_dashboard_adds_and_verifies_with_its_form_token(st: Studio, site: Site) -> None:
    key = new_app(st)
    page = st.http.get("/_sandbox/")
    assert f"action='/_sandbox/apps/{key}/url_properties'" in page.text
    token = form_token(page.text)
    form = {"csrf_token": token, "type": "url_prefix", "value": site.prefix}
    stale = st.http.post(base(key), data={**form, "csrf_token": "0" * 64})
    assert stale.status_code == 403 and stale.json()["error"]["code"] == "csrf_token_invalid"
    added = st.http.post(base(key), data=form)
    assert added.status_code == 303 and added.headers["location"].startswith("/_sandbox/")
    (prop,) = ok(st.http.get(base(key)))["url_properties"]
    page = st.http.get("/_sandbox/").text
    assert prop["signature_file_url"] in page and f"data-property='{prop['id']}'" in page
    site.files[f"/videos/{prop['signature_file']}"] = prop["signature"].encode()
    verified = st.http.post(f"{base(key)}/{prop['id']}/verify", data={"csrf_token": token})
    assert verified.status_code == 303
    assert ok(st.http.get(base(key)))["url_properties"][0]["status"] == "verified"
    # A domain's form carries its TXT records in a text box, one a line.
    ok(st.http.post(base(key), json={"type": "domain", "value": "d.example"}), 201)
    domain = ok(st.http.get(base(key)))["url_properties"][1]
    verify = f"{base(key)}/{domain['id']}/verify"
    boxed = st.http.post(verify, data={"csrf_token": token, "dns_txt": f"x\n{domain['signature']}"})
    assert boxed.status_code == 303
    assert ok(st.http.get(base(key)))["url_properties"][1]["status"] == "verified"


def test_properties_are_journaled_and_bounded(st: Studio) -> None:
    key = new_app(st)
    for n in range(100):
        ok(st.http.post(base(key), json={"type": "domain", "value": f"d{n}.example"}), 201)
    full = st.http.post(base(key), json={"type": "domain", "value": "one-more.example"})
    assert full.status_code == 409 and "100" in full.json()["error"]["message"]
    entries = st.http.get("/_sandbox/journal", params={"path": base(key)}).json()["entries"]
    assert entries[0]["client_key"] == key and entries[0]["status"] == 409


def test_a_dashboard_form_for_a_property_gone_since_answers_on_the_dashboard(st: Studio) -> None:
    key = new_app(st)
    ok(st.http.post(base(key), json={"type": "domain", "value": "gone.example"}), 201)
    (prop,) = ok(st.http.get(base(key)))["url_properties"]
    token = form_token(st.http.get("/_sandbox/").text)
    assert st.http.post("/_sandbox/reset", json={}).status_code == 200  # the page is now stale
    verified = st.http.post(f"{base(key)}/{prop['id']}/verify", data={"csrf_token": token})
    assert verified.status_code == 303 and verified.headers["location"].startswith("/_sandbox/")
    added = st.http.post(
        base(key), data={"csrf_token": token, "type": "domain", "value": "x.example"}
    )
    assert added.status_code == 303
    page = st.http.get("/_sandbox/").text
    assert "Not added:" in page and key in page
    # The JSON API still answers JSON.
    assert st.http.post(f"{base(key)}/{prop['id']}/verify", json={}).status_code == 404
