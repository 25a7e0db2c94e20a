"""Whose is what (ref 2.4-2.6, 10.4): codes, refresh tokens and access tokens belong to the app
they were issued to; a media URL belongs to an app only under one of its verified properties,
matched as the reference says (a domain covers itself and its subdomains, never a name that
merely ends the same way; a URL prefix covers only URLs that start with it); and a pull never
follows a redirect.

URL-ownership cases use names under `.example` (RFC 2606: never resolved): a target that takes
such a URL starts a pull it cannot complete, which these checks do not look at.
"""

from __future__ import annotations

import hashlib

import httpx
import pytest

from conformance import calls, checks, spec, steps
from conformance.calls import Actor
from conformance.controller import Controller
from conformance.library import MediaLibrary, MediaServer
from conformance.report import example

SCOPES = ("user.info.basic",)


# -- codes and tokens belong to their app (ref 2.4-2.6) -------------------------------------------


@pytest.mark.behaviour("codes_and_tokens_belong_to_their_app", "2.4-2.6")
def test_a_code_is_exchanged_only_by_the_app_it_was_issued_to(
    http: httpx.Client, controller: Controller
) -> None:
    """Another app's own key and secret with this app's code: invalid_grant ("issued to another
    client", ref 2.6; a redirect_uri that app never registered may be named first as
    invalid_request), never tokens; the right app then exchanges a fresh code as usual."""
    example("codes_and_tokens_belong_to_their_app")
    owner, other = controller.create_app(), controller.create_app()
    user = controller.create_creator()
    code = controller.authorize(owner.client_key, user, SCOPES)
    for redirect in (code.get("redirect_uri", owner.redirect_uri), other.redirect_uri):
        form = calls.code_exchange(owner, code, redirect_uri=redirect) | calls.credentials(other)
        response = calls.form(http, "token", form)
        checks.no_tokens(response, "ref 2.6: another app exchanged this app's code")
        error = checks.oauth_error(response)
        assert error in ("invalid_grant", "invalid_request"), (
            f"ref 2.6: another app's code, {error}"
        )
    fresh = controller.authorize(owner.client_key, user, SCOPES)
    checks.token_success(calls.form(http, "token", calls.code_exchange(owner, fresh)))


@pytest.mark.behaviour("codes_and_tokens_belong_to_their_app", "2.4-2.6")
def test_a_refresh_token_is_used_only_by_its_app(
    http: httpx.Client, controller: Controller
) -> None:
    """Another app refreshing this app's refresh token: invalid_grant (ref 2.6), no tokens."""
    example("codes_and_tokens_belong_to_their_app")
    actor = calls.arrange(controller, scopes=SCOPES)
    other = controller.create_app()
    form = calls.refresh(other, str(actor.tokens["refresh_token"]))
    response = calls.form(http, "token", form)
    checks.no_tokens(response, "ref 2.6: another app refreshed this app's refresh token")
    error = checks.oauth_error(response)
    assert error == "invalid_grant", f"ref 2.6: another app's refresh token, got {error}"


@pytest.mark.behaviour("codes_and_tokens_belong_to_their_app", "2.5, 2.6")
def test_an_app_cannot_revoke_another_apps_token(
    http: httpx.Client, controller: Controller
) -> None:
    """A revoke sent with another app's credentials is refused (a flat OAuth error, not the
    empty 200 of a revoke, ref 2.5) and the token keeps working."""
    example("codes_and_tokens_belong_to_their_app")
    actor = calls.arrange(controller, scopes=SCOPES)
    other = controller.create_app()
    response = calls.form(http, "revoke", calls.credentials(other) | {"token": actor.access_token})
    assert not (response.status_code == 200 and not response.content.strip()), (
        "ref 2.5, 2.6: another app revoked this app's token"
    )
    checks.oauth_error(response)
    answer = checks.envelope(calls.user_info(http, actor.access_token, "open_id"), "user_info")
    assert answer.ok, f"the token must still work after another app's revoke: {answer}"


@pytest.mark.behaviour("codes_and_tokens_belong_to_their_app", "2.4")
def test_open_id_is_the_users_id_in_one_app(http: httpx.Client, controller: Controller) -> None:
    """ref 2.4: `open_id` is "scoped to this app": the same creator gets one open_id per app,
    the same one every time in that app, and user info answers it."""
    example("codes_and_tokens_belong_to_their_app")
    first = calls.arrange(controller, scopes=SCOPES)
    again = steps.reauthorize(controller, first)
    other = controller.create_app()
    elsewhere = controller.tokens(other.client_key, first.username, SCOPES)
    assert first.tokens["open_id"] == again.tokens["open_id"], "one open_id per user and app"
    assert elsewhere["open_id"] != first.tokens["open_id"], "ref 2.4: open_id is per app"
    user = steps.accepted(calls.user_info(http, elsewhere["access_token"], "open_id"), "user_info")
    assert user["user"]["open_id"] == elsewhere["open_id"], user


@pytest.mark.behaviour("codes_and_tokens_belong_to_their_app", "2.1, 2.4")
def test_a_code_issued_with_pkce_needs_its_verifier(
    http: httpx.Client, controller: Controller
) -> None:
    """A code issued for a `code_challenge` (ref 2.1: the hex SHA-256 of the verifier) is not
    exchanged without the verifier; with it, it is."""
    example("codes_and_tokens_belong_to_their_app")
    app = controller.create_app()
    user = controller.create_creator()
    verifier = "conformance-verifier-" + "x" * 30
    challenge = hashlib.sha256(verifier.encode()).hexdigest()
    code = controller.authorize(app.client_key, user, SCOPES, code_challenge=challenge)
    response = calls.form(http, "token", calls.code_exchange(app, code))
    checks.no_tokens(response, "ref 2.1: a PKCE code exchanged without its code_verifier")
    error = checks.oauth_error(response)
    assert error in ("invalid_grant", "invalid_request"), f"ref 2.1: no code_verifier, {error}"
    fresh = controller.authorize(app.client_key, user, SCOPES, code_challenge=challenge)
    checks.token_success(
        calls.form(http, "token", calls.code_exchange(app, fresh, code_verifier=verifier))
    )


# -- URL properties (ref 10.4) -------------------------------------------------------------------

DOMAIN = "static.conformance.example"  # a verified Domain property
PREFIX = "https://media.conformance.example/videos/user/"  # a verified URL prefix property
UNVERIFIED = {"url_ownership_unverified"}
# ref 10.4: https only. An http URL may be refused as a bad field or as unverified.
NOT_HTTPS = {"url_ownership_unverified", *spec.POSTING_INVALID}

URL_CASES: dict[str, tuple[str, set[str] | None]] = {  # name -> (URL, refusals; None: taken)
    "domain itself": (f"https://{DOMAIN}/clip.mp4", None),
    "subdomain": (f"https://video.{DOMAIN}/a/b/clip.mp4", None),
    "deep subdomain": (f"https://a.b.{DOMAIN}/clip.mp4", None),
    "parent domain": ("https://conformance.example/clip.mp4", UNVERIFIED),
    "sibling domain": ("https://other.conformance.example/clip.mp4", UNVERIFIED),
    "name ending the same": (f"https://evil{DOMAIN}/clip.mp4", UNVERIFIED),
    "domain as a label": (f"https://{DOMAIN}.evil.example/clip.mp4", UNVERIFIED),
    "domain in userinfo": (f"https://{DOMAIN}@evil.example/clip.mp4", UNVERIFIED),
    "domain over http": (f"http://{DOMAIN}/clip.mp4", NOT_HTTPS),
    "under the prefix": (PREFIX + "123/clip.mp4", None),
    "right under the prefix": (PREFIX + "clip.mp4", None),
    "another path": ("https://media.conformance.example/videos/2023/user/clip.mp4", UNVERIFIED),
    "prefix without its slash": (
        "https://media.conformance.example/videos/userx/c.mp4",
        UNVERIFIED,
    ),
    "above the prefix": ("https://media.conformance.example/videos/clip.mp4", UNVERIFIED),
    "subdomain of a prefix": (
        "https://cdn.media.conformance.example/videos/user/c.mp4",
        UNVERIFIED,
    ),
    "prefix host as a label": (
        "https://media.conformance.example.evil.example/videos/user/clip.mp4",
        UNVERIFIED,
    ),
    "dot segments out of the prefix": (PREFIX + "../../other/clip.mp4", UNVERIFIED),
    "prefix over http": ("http://media.conformance.example/videos/user/clip.mp4", NOT_HTTPS),
}


@pytest.fixture
def owner(controller: Controller) -> Actor:
    app = controller.create_app(verified_domains=[DOMAIN], verified_url_prefixes=[PREFIX])
    return calls.arrange(controller, app=app)


@pytest.mark.behaviour("url_properties_match_as_documented", "10.4, 7.4, 9")
@pytest.mark.parametrize("case", sorted(URL_CASES))
def test_a_pull_url_is_taken_only_under_a_verified_property(
    http: httpx.Client, controller: Controller, owner: Actor, case: str
) -> None:
    """PULL_FROM_URL from `URL_CASES`: taken under the Domain property (itself and its
    subdomains) or the URL prefix (URLs starting with it); anything else, however alike, is
    url_ownership_unverified (403) at init, for a video and for photos."""
    example("url_properties_match_as_documented")
    url, refusals = URL_CASES[case]
    video = calls.post(http, "video_init", owner.access_token, calls.video_init(calls.pull(url)))
    photo = calls.post(http, "content_init", owner.access_token, calls.photo_init([url]))
    for endpoint, response in (("video_init", video), ("content_init", photo)):
        if refusals is None:
            steps.accepted(response, endpoint, "PULL_FROM_URL")
        else:
            steps.refused(response, endpoint, refusals, f"ref 10.4: {case}: {url}")


@pytest.mark.behaviour("url_properties_match_as_documented", "10.4, 9")
def test_every_photo_url_must_be_verified(
    http: httpx.Client, controller: Controller, owner: Actor
) -> None:
    """ref 9: "up to 35 URLs, public and on verified domains/prefixes": one outside is enough."""
    example("url_properties_match_as_documented")
    good = [f"https://{DOMAIN}/p{i}.jpg" for i in range(3)] + [PREFIX + "p.jpg"]
    for bad in (URL_CASES["name ending the same"][0], URL_CASES["another path"][0]):
        for urls in ([*good, bad], [bad, *good]):
            response = calls.post(http, "content_init", owner.access_token, calls.photo_init(urls))
            steps.refused(response, "content_init", UNVERIFIED, f"ref 9, 10.4: {bad}")
        controller.advance_clock(61)  # four inits a round: the rate limit's minute (ref 4.3)
    steps.accepted(
        calls.post(http, "content_init", owner.access_token, calls.photo_init(good)),
        "content_init",
    )


@pytest.mark.behaviour("pulls_never_follow_redirects", "10.4, 11")
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_pull_that_is_redirected_fails(
    http: httpx.Client,
    controller: Controller,
    media: MediaLibrary,
    media_server: MediaServer,
    status: int,
) -> None:
    """ref 10.4: the URL "must not redirect: any 3xx response counts as invalid". A video and a
    photo whose verified URL answers `status`, pointing at real media under the same prefix,
    end FAILED with video_pull_failed and photo_pull_failed (ref 11), never posted."""
    example("pulls_never_follow_redirects")
    actor = calls.arrange(controller, app=calls.media_app(controller, media_server.prefix))
    video = media_server.redirect(status, media.video().name)
    photo = media_server.redirect(status, media.image(width=720, height=1280).name)
    inits = {
        "video_init": calls.video_init(calls.pull(video)),
        "content_init": calls.photo_init([photo]),
    }
    for (endpoint, body), reason in zip(
        inits.items(), ("video_pull_failed", "photo_pull_failed"), strict=True
    ):
        made = steps.accepted(calls.post(http, endpoint, actor.access_token, body), endpoint)
        final = steps.final_status(http, controller, actor.access_token, made["publish_id"])
        assert (final["status"], final.get("fail_reason")) == ("FAILED", reason), (
            f"{endpoint} pulled from a URL answering {status}: ref 10.4, 11: {final}"
        )
