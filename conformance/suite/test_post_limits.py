"""Init limits at their last allowed value (ref 7.1, 9): the limit itself is taken and one more
is `invalid_param` (400): 35 photos and 36, the cover index of the last photo and one past it,
captions of exactly 2200, 90 and 4000 UTF-16 code units and one unit more, counted with emoji
(2 units each) so that code points or bytes give another count.

The photo URLs are on a verified Domain property under `.example`: the limits are judged at
init, and the pulls that follow are not looked at.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance import calls, spec, steps
from conformance.calls import Actor
from conformance.controller import Controller
from conformance.report import example

DOMAIN = "photos.conformance.example"
INVALID = spec.POSTING_INVALID  # ref 4.2: either spelling


def photos(count: int) -> list[str]:
    return [f"https://{DOMAIN}/p{n}.jpg" for n in range(count)]


def caption(units: int) -> str:
    """Exactly `units` UTF-16 code units, mostly emoji (2 units each, 4 UTF-8 bytes)."""
    return "#" + "🎉" * ((units - 1) // 2) + "a" * ((units - 1) % 2)


@pytest.fixture
def actor(controller: Controller) -> Actor:
    app = controller.create_app(verified_domains=[DOMAIN])
    return calls.arrange(controller, app=app, app_version="35.1.0", daily_post_cap=100)


def photo_body(mode: str, urls: list[str], cover: int = 0, **post_info: Any) -> dict[str, Any]:
    body = calls.photo_init(urls, mode=mode)
    body["post_info"] |= post_info
    body["source_info"]["photo_cover_index"] = cover
    return body


CASES: dict[str, tuple[dict[str, Any], bool]] = {  # name -> (photo_body arguments, taken?)
    "1 photo": ({"urls": photos(1)}, True),
    f"{spec.MAX_PHOTOS} photos": ({"urls": photos(spec.MAX_PHOTOS)}, True),
    f"{spec.MAX_PHOTOS + 1} photos": ({"urls": photos(spec.MAX_PHOTOS + 1)}, False),
    "no photo": ({"urls": []}, False),
    "cover on the last photo": ({"urls": photos(3), "cover": 2}, True),
    "cover past the last photo": ({"urls": photos(3), "cover": 3}, False),
    "cover -1": ({"urls": photos(3), "cover": -1}, False),
    f"title of {spec.PHOTO_TITLE_MAX} units": (
        {"urls": photos(1), "title": caption(spec.PHOTO_TITLE_MAX)},
        True,
    ),
    f"title of {spec.PHOTO_TITLE_MAX + 1} units": (
        {"urls": photos(1), "title": caption(spec.PHOTO_TITLE_MAX + 1)},
        False,
    ),
    f"description of {spec.PHOTO_DESCRIPTION_MAX} units": (
        {"urls": photos(1), "description": caption(spec.PHOTO_DESCRIPTION_MAX)},
        True,
    ),
    f"description of {spec.PHOTO_DESCRIPTION_MAX + 1} units": (
        {"urls": photos(1), "description": caption(spec.PHOTO_DESCRIPTION_MAX + 1)},
        False,
    ),
}


@pytest.mark.behaviour("photo_init_limits", "9")
@pytest.mark.parametrize("mode", ["DIRECT_POST", "MEDIA_UPLOAD"])
def test_photo_posts_take_their_limits_and_not_one_more(
    http: httpx.Client, controller: Controller, actor: Actor, mode: str
) -> None:
    """ref 9: 1-35 photo URLs, a cover index among them, a title of at most 90 and a
    description of at most 4000 UTF-16 code units (MEDIA_UPLOAD carries them too)."""
    for n, (name, (arguments, taken)) in enumerate(sorted(CASES.items())):
        example("photo_init_limits")
        if n and n % 5 == 0:  # a fresh creator: 6 inits a minute (ref 4.3), 5 shares (ref 8)
            actor = calls.arrange(controller, app=actor.app, app_version="35.1.0")
        response = calls.post(
            http, "content_init", actor.access_token, photo_body(mode, **arguments)
        )
        if taken:
            steps.accepted(response, "content_init")
        else:
            steps.refused(response, "content_init", INVALID, f"ref 9: {name}")


@pytest.mark.behaviour("video_title_limit", "7.1")
def test_a_video_title_of_2200_units_is_taken_and_2201_refused(
    http: httpx.Client, actor: Actor
) -> None:
    example("video_title_limit")
    for units, taken in ((spec.VIDEO_TITLE_MAX, True), (spec.VIDEO_TITLE_MAX + 1, False)):
        body = calls.video_init(calls.file_upload())
        body["post_info"]["title"] = caption(units)
        response = calls.post(http, "video_init", actor.access_token, body)
        if taken:
            steps.accepted(response, "video_init", "FILE_UPLOAD")
        else:
            steps.refused(response, "video_init", INVALID, f"ref 7.1: a title of {units} units")


# ref 9: MEDIA_UPLOAD needs the creator's TikTok app at 31.8 or later, compared as numbers.
APP_VERSIONS = {"31.8": True, "31.8.0": True, "31.10.0": True, "32.0": True, "31.7.9": False}


@pytest.mark.behaviour("photo_init_limits", "9")
@pytest.mark.parametrize("version", sorted(APP_VERSIONS))
def test_media_upload_needs_app_version_31_8(
    http: httpx.Client, controller: Controller, actor: Actor, version: str
) -> None:
    """A photo MEDIA_UPLOAD from a creator whose app is at `version`: taken from 31.8 on
    (31.10 is later than 31.8), `app_version_check_failed` (400) before; a DIRECT_POST does
    not depend on it."""
    example("photo_init_limits")
    creator = calls.arrange(controller, app=actor.app, app_version=version)
    upload = calls.post(
        http, "content_init", creator.access_token, photo_body("MEDIA_UPLOAD", photos(1))
    )
    if APP_VERSIONS[version]:
        steps.accepted(upload, "content_init")
    else:
        steps.refused(upload, "content_init", "app_version_check_failed", f"ref 9: {version}")
    direct = calls.post(
        http, "content_init", creator.access_token, photo_body("DIRECT_POST", photos(1))
    )
    steps.accepted(direct, "content_init")
