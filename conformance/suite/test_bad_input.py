"""Bad-input properties: Hypothesis breaks valid requests one way at a time and the target must
answer the documented error, in the documented shape, and never a 5xx (ref 2.6, 4.2, 7-12).

Posting endpoints answer `invalid_param` or `invalid_params` (400: the posting pages list the
singular, recorded answers carry the plural; ref 4.2, OQ 13), user info `invalid_params` (400),
the OAuth endpoints a flat `invalid_request`/`invalid_client`/... (ref 2.6). Where the reference
leaves two codes possible (a broken `privacy_level` is both a bad field and "not in the
creator's options", ref 7.4), both are accepted. Every request
uses a fresh token: the rate limits (ref 4.3) count refused requests too, for all we know.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from conformance import calls, checks, spec
from conformance.calls import Actor
from conformance.controller import Controller
from conformance.library import MediaLibrary, MediaServer
from conformance.plugin import examples
from conformance.report import example

INVALID = set(spec.BAD_INPUT_CODES["posting"])
PRIVACY = INVALID | {"privacy_level_option_mismatch"}  # ref 7.4: "missing, or not in"
POSTING = ("video_init", "inbox_video_init", "content_init", "status_fetch", "cancel")
WHOLE = calls.SMALL_VIDEO

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**64), 2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
# Names no reference table uses, for "unknown fields are ignored".
EXTRA_NAMES = st.from_regex(r"x_[a-z]{1,10}", fullmatch=True)

# A value of every JSON type but the one a field has (null is "absent", so never used here).
NOT_A: dict[str, st.SearchStrategy[Any]] = {
    "str": st.one_of(
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.lists(st.text(max_size=5), max_size=2),
        st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
    ),
    "int": st.one_of(
        st.text(max_size=10),
        st.booleans(),
        st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    ),
    "bool": st.one_of(
        st.integers(),
        st.text(max_size=10),
        st.floats(allow_nan=False, allow_infinity=False),
        st.lists(st.booleans(), max_size=2),
        st.dictionaries(st.text(max_size=5), st.booleans(), max_size=2),
    ),
    "list": st.one_of(
        st.text(max_size=10),
        st.integers(),
        st.booleans(),
        st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
        st.lists(st.one_of(st.integers(), st.booleans()), min_size=1, max_size=2),
    ),
    "object": st.one_of(
        st.text(max_size=10),
        st.integers(),
        st.booleans(),
        st.lists(st.integers(), max_size=2),
    ),
}


@dataclass(frozen=True)
class Field:
    """A documented request field: where it is, its JSON type, and what else it must be."""

    path: tuple[str, ...]
    kind: str
    required: bool = False
    enum: tuple[str, ...] = ()
    out_of_range: tuple[Any, ...] = ()
    expect: frozenset[str] = frozenset(INVALID)


POST_INFO_BOOLS = ("disable_duet", "disable_stitch", "disable_comment", "brand_content_toggle")
FILE_UPLOAD_FIELDS = (
    Field(("source_info",), "object", True),
    Field(("source_info", "source"), "str", True, ("FILE_UPLOAD", "PULL_FROM_URL")),
    Field(("source_info", "video_size"), "int", True, (), (0, -1, spec.MAX_VIDEO_BYTES + 1, 2**63)),
    Field(("source_info", "chunk_size"), "int", True, (), (0, -WHOLE)),
    Field(("source_info", "total_chunk_count"), "int", True, (), (0, -1, spec.MAX_CHUNKS + 1)),
)
VIDEO_POST_INFO = (
    Field(("post_info",), "object", True, expect=frozenset(PRIVACY)),
    Field(
        ("post_info", "privacy_level"), "str", True, spec.PRIVACY_LEVELS, expect=frozenset(PRIVACY)
    ),
    Field(("post_info", "title"), "str"),
    *(
        Field(("post_info", name), "bool")
        for name in (*POST_INFO_BOOLS, "brand_organic_toggle", "is_aigc")
    ),
    # ref 7.1: "unset or invalid means the first frame": a bad cover may also be taken.
    Field(("post_info", "video_cover_timestamp_ms"), "int", expect=frozenset({"ok", *INVALID})),
)
# ref 7, 8, 9: each init's fields, by the template they break.
TEMPLATES: dict[str, tuple[Field, ...]] = {
    "video_init": (*VIDEO_POST_INFO, *FILE_UPLOAD_FIELDS),
    "video_init_pull": (
        *VIDEO_POST_INFO,
        Field(("source_info",), "object", True),
        Field(("source_info", "source"), "str", True, ("FILE_UPLOAD", "PULL_FROM_URL")),
        Field(("source_info", "video_url"), "str", True),
    ),
    "inbox_video_init": FILE_UPLOAD_FIELDS,
    "content_init": (
        Field(("media_type",), "str", True, ("PHOTO",)),
        Field(("post_mode",), "str", True, ("DIRECT_POST", "MEDIA_UPLOAD")),
        Field(("post_info",), "object", True, expect=frozenset(PRIVACY)),
        Field(
            ("post_info", "privacy_level"),
            "str",
            True,
            spec.PRIVACY_LEVELS,
            expect=frozenset(PRIVACY),
        ),
        Field(("post_info", "title"), "str"),
        Field(("post_info", "description"), "str"),
        *(
            Field(("post_info", name), "bool")
            for name in (
                "disable_comment",
                "auto_add_music",
                "brand_content_toggle",
                "brand_organic_toggle",
            )
        ),
        Field(("source_info",), "object", True),
        Field(("source_info", "source"), "str", True, ("PULL_FROM_URL",)),
        Field(("source_info", "photo_images"), "list", True, (), ([], None)),  # None: 36 URLs
        Field(("source_info", "photo_cover_index"), "int", True, (), (-1, 1, 2**31)),
    ),
    "status_fetch": (Field(("publish_id",), "str", True),),
    "cancel": (Field(("publish_id",), "str", True),),
}


def template(name: str, video_url: str, photo_url: str) -> dict[str, Any]:
    """A valid body with every documented field present, for one field at a time to break."""
    video_post_info: dict[str, Any] = {"privacy_level": "SELF_ONLY", "title": "A #title"}
    video_post_info |= dict.fromkeys((*POST_INFO_BOOLS, "brand_organic_toggle", "is_aigc"), False)
    video_post_info["video_cover_timestamp_ms"] = 0
    photo_post_info = {
        "privacy_level": "SELF_ONLY",
        "title": "A title",
        "description": "A #description",
        "disable_comment": True,
        "auto_add_music": False,
        "brand_content_toggle": False,
        "brand_organic_toggle": False,
    }
    photo = calls.photo_init([photo_url])
    return {
        "video_init": {"post_info": video_post_info, "source_info": calls.file_upload()},
        "video_init_pull": {"post_info": video_post_info, "source_info": calls.pull(video_url)},
        "inbox_video_init": {"source_info": calls.file_upload()},
        "content_init": photo | {"post_info": photo_post_info},
        "status_fetch": {"publish_id": "v_pub_file~v2-1.1234567890123456789"},
        "cancel": {"publish_id": "v_pub_file~v2-1.1234567890123456789"},
    }[name]


def endpoint_of(template_name: str) -> str:
    return template_name.removesuffix("_pull")


def put_at(body: dict[str, Any], path: tuple[str, ...], value: Any, *, drop: bool = False) -> None:
    for key in path[:-1]:
        body = body[key]
    if drop:
        del body[path[-1]]
    else:
        body[path[-1]] = value


@pytest.fixture
def sources(media: MediaLibrary, media_server: MediaServer) -> tuple[str, str]:
    """A video URL and a photo URL on the media server: verified for `media_app`s."""
    return media_server.url(media.video().name), media_server.url(media.image(width=720).name)


def actor_for(controller: Controller, prefix: str, **creator: Any) -> Actor:
    return calls.arrange(controller, app=calls.media_app(controller, prefix), **creator)


# -- init bodies ---------------------------------------------------------------------------------


@pytest.mark.behaviour("malformed_fields_are_invalid_param", "4.2, 7, 8, 9")
@examples()
@given(name=st.sampled_from(sorted(TEMPLATES)), data=st.data())
def test_one_broken_field_is_invalid_param(
    http: httpx.Client,
    controller: Controller,
    media_server: MediaServer,
    sources: tuple[str, str],
    name: str,
    data: st.DataObject,
) -> None:
    """A valid request with one field missing, mistyped, outside its enum or out of range is
    refused with invalid_param (400); a broken privacy_level may be
    privacy_level_option_mismatch (403) instead (ref 7.4)."""
    example("malformed_fields_are_invalid_param")
    field = data.draw(st.sampled_from(TEMPLATES[name]), label="field")
    ways = ["retype"] + (["drop"] if field.required else [])
    ways += ["enum"] if field.enum else []
    ways += ["range"] if field.out_of_range else []
    way = data.draw(st.sampled_from(ways), label="way")
    body = template(name, *sources)
    if way == "drop":
        put_at(body, field.path, None, drop=True)
    elif way == "retype":
        put_at(body, field.path, data.draw(NOT_A[field.kind], label="value"))
    elif way == "enum":
        wrong = data.draw(st.text(min_size=1, max_size=30).filter(lambda s: s not in field.enum))
        put_at(body, field.path, wrong)
    else:
        value = data.draw(st.sampled_from(field.out_of_range), label="value")
        if field.path[-1] == "photo_images" and value is None:
            value = [sources[1]] * (spec.MAX_PHOTOS + 1)
        put_at(body, field.path, value)
    actor = actor_for(controller, media_server.prefix)
    endpoint = endpoint_of(name)
    answer = checks.envelope(calls.post(http, endpoint, actor.access_token, body), endpoint)
    assert answer.code in field.expect, answer


@pytest.mark.behaviour("garbage_bodies_are_invalid_param", "4.2, 7-12")
@examples()
@given(
    endpoint=st.sampled_from(POSTING),
    body=st.one_of(
        st.binary(min_size=1, max_size=200),
        JSON_VALUES.filter(lambda v: not isinstance(v, dict)).map(lambda v: json.dumps(v).encode()),
    ),
)
def test_a_body_that_is_not_a_json_object_is_invalid_param(
    http: httpx.Client, controller: Controller, endpoint: str, body: bytes
) -> None:
    """Bytes that are not JSON, and JSON that is not an object: invalid_param (400)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    assume(body.strip() and not isinstance(parsed, dict))
    example("garbage_bodies_are_invalid_param")
    actor = calls.arrange(controller)
    answer = checks.envelope(calls.post(http, endpoint, actor.access_token, content=body), endpoint)
    assert answer.code in INVALID, answer


@pytest.mark.behaviour("wrong_content_type_is_invalid_param", "7, 11, 12")
@examples()
@given(
    endpoint=st.sampled_from(POSTING),
    content_type=st.sampled_from(
        [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/xml",
            "application/octet-stream",
            "text/html; charset=utf-8",
        ]
    ),
)
def test_json_sent_under_another_content_type_is_invalid_param(
    http: httpx.Client,
    controller: Controller,
    media_server: MediaServer,
    sources: tuple[str, str],
    endpoint: str,
    content_type: str,
) -> None:
    """ref 7: the body is `application/json; charset=UTF-8`; anything else is a bad request."""
    example("wrong_content_type_is_invalid_param")
    actor = actor_for(controller, media_server.prefix)
    body = template(endpoint, *sources)
    response = calls.post(http, endpoint, actor.access_token, body, content_type=content_type)
    answer = checks.envelope(response, endpoint)
    assert answer.code in INVALID, answer


@pytest.mark.behaviour("unknown_fields_are_ignored", "7, 8, 9, 11")
@examples()
@given(
    name=st.sampled_from(
        ["video_init", "video_init_pull", "inbox_video_init", "content_init", "status_fetch"]
    ),
    extras=st.lists(
        st.tuples(
            st.sampled_from([(), ("post_info",), ("source_info",)]), EXTRA_NAMES, JSON_VALUES
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_a_valid_request_with_extra_fields_succeeds(
    http: httpx.Client,
    controller: Controller,
    media_server: MediaServer,
    sources: tuple[str, str],
    name: str,
    extras: list[tuple[tuple[str, ...], str, Any]],
) -> None:
    """Fields no table documents change nothing: the request succeeds."""
    example("unknown_fields_are_ignored")
    actor = actor_for(controller, media_server.prefix)
    body = template(name, *sources)
    endpoint = endpoint_of(name)
    if endpoint == "status_fetch":
        made = calls.post(
            http, "inbox_video_init", actor.access_token, template("inbox_video_init", *sources)
        )
        body["publish_id"] = (checks.envelope(made, "inbox_video_init").data or {})["publish_id"]
    for where, key, value in extras:
        target = body
        for part in where:
            target = target.get(part, target)
        target[key] = value
    answer = checks.envelope(calls.post(http, endpoint, actor.access_token, body), endpoint)
    assert answer.code == "ok", answer
    controller.settle()


# -- captions, chunk plans and uploads ----------------------------------------------------------

ASTRAL = ("😀", "𝄞", "🎉")  # outside the BMP: 2 UTF-16 code units each
BMP = ("a", "é", "中", " ", "#", "\n", "@")


def caption(units: int, astral_share: float) -> str:
    """A text of exactly `units` UTF-16 code units, about `astral_share` of them in emoji."""
    astral = min(units // 2, round(units * astral_share / 2))
    bmp = units - 2 * astral
    chars = [ASTRAL[i % len(ASTRAL)] for i in range(astral)] + [
        BMP[i % len(BMP)] for i in range(bmp)
    ]
    step = max(1, len(chars) // 7)
    return "".join("".join(chars[i::step]) for i in range(step))  # interleaved


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


CAPTIONS = {  # ref 7.1, 9: (endpoint, field) -> limit in UTF-16 code units
    ("video_init", "title"): spec.VIDEO_TITLE_MAX,
    ("content_init", "title"): spec.PHOTO_TITLE_MAX,
    ("content_init", "description"): spec.PHOTO_DESCRIPTION_MAX,
}


@pytest.mark.behaviour("captions_count_utf16_units", "7.1, 9")
@examples()
@given(
    where=st.sampled_from(sorted(CAPTIONS)),
    offset=st.integers(-4, 4) | st.integers(-50, 50),
    astral_share=st.sampled_from([0.0, 0.5, 1.0]) | st.floats(0, 1),
    mode=st.sampled_from(["DIRECT_POST", "MEDIA_UPLOAD"]),
)
def test_captions_are_measured_in_utf16_code_units(
    http: httpx.Client,
    controller: Controller,
    media_server: MediaServer,
    sources: tuple[str, str],
    where: tuple[str, str],
    offset: int,
    astral_share: float,
    mode: str,
) -> None:
    """A caption up to its limit in UTF-16 code units is taken, one unit over is invalid_param,
    emoji outside the BMP counting 2 (ref 7.1, 9)."""
    example("captions_count_utf16_units")
    endpoint, field = where
    limit = CAPTIONS[where]
    text = caption(limit + offset, astral_share)
    assert utf16_units(text) == limit + offset
    if endpoint == "video_init":
        body = calls.video_init(calls.file_upload())
    else:
        body = calls.photo_init([sources[1]], mode)
    body["post_info"][field] = text
    actor = actor_for(controller, media_server.prefix)
    answer = checks.envelope(calls.post(http, endpoint, actor.access_token, body), endpoint)
    if offset <= 0:
        assert answer.code == "ok", (len(text), answer)
    else:
        assert answer.code in INVALID, (len(text), answer)
    controller.settle()


MIB = spec.MIB


@st.composite
def valid_plan(draw: st.DrawFn) -> tuple[int, int, int]:
    chunk = draw(st.sampled_from([spec.MIN_CHUNK, spec.MAX_CHUNK]) | st.integers(5 * MIB, 64 * MIB))
    count = draw(st.integers(1, min(spec.MAX_CHUNKS, spec.MAX_VIDEO_BYTES // chunk)))
    size = chunk * count + draw(st.integers(0, chunk - 1))
    assume(spec.chunk_plan_ok(size, chunk, count))
    return size, chunk, count


@st.composite
def chunk_plans(draw: st.DrawFn) -> tuple[int, int, int]:
    """(video_size, chunk_size, total_chunk_count): valid plans, and plans breaking one rule of
    ref 10.1 each, near its edge ("MB" is binary: 5 MB is 5,242,880 bytes)."""
    kind = draw(
        st.sampled_from(
            [
                "valid",
                "valid",
                "count off by one",
                "chunk under 5 MB",
                "chunk over 64 MB",
                "small file not whole",
                "big file whole",
                "over 4 GB",
                "not positive",
            ]
        )
    )
    size, chunk, count = draw(valid_plan())
    if kind == "count off by one":
        count += draw(st.sampled_from([-1, 1]))
    elif kind == "chunk under 5 MB":  # 5,000,000 (decimal MB) included
        chunk = draw(
            st.sampled_from([5_000_000, spec.MIN_CHUNK - 1]) | st.integers(MIB, 5 * MIB - 1)
        )
        size = max(size, spec.MIN_CHUNK)
        count = size // chunk
    elif kind == "chunk over 64 MB":
        chunk = draw(st.sampled_from([spec.MAX_CHUNK + 1]) | st.integers(64 * MIB + 1, 128 * MIB))
        size = chunk * draw(st.integers(1, 8)) + draw(st.integers(0, chunk - 1))
        count = size // chunk
    elif kind == "small file not whole":
        size = draw(st.integers(1, spec.MIN_CHUNK - 1))
        whole = (size, 1)
        chunk, count = draw(
            st.sampled_from([(size - 1, 1), (size + 1, 1), (size, 2), (size, 0)])
            | st.tuples(st.integers(1, spec.MIN_CHUNK), st.integers(1, 3)).filter(
                lambda plan: plan != whole
            )
        )
    elif kind == "big file whole":
        size = draw(st.integers(spec.MAX_CHUNK + 1, spec.MAX_FINAL_CHUNK))
        chunk, count = draw(st.sampled_from([(spec.MAX_CHUNK, 1), (size, 1)]))
    elif kind == "over 4 GB":
        size = spec.MAX_VIDEO_BYTES + draw(st.integers(1, spec.MAX_CHUNK))
        chunk = draw(st.sampled_from([spec.MAX_CHUNK, 5 * MIB]))
        count = size // chunk
    elif kind == "not positive":
        which = draw(st.sampled_from([0, 1, 2]))
        value = draw(st.sampled_from([0, -1, -spec.MIN_CHUNK]))
        size, chunk, count = (
            value if i == which else v for i, v in enumerate((size, chunk, count))
        )
    return size, chunk, count


@pytest.mark.behaviour("chunk_plans_follow_ref_10_1", "10.1")
@examples()
@given(plan=chunk_plans(), endpoint=st.sampled_from(["video_init", "inbox_video_init"]))
def test_init_takes_exactly_the_chunk_plans_of_ref_10_1(
    http: httpx.Client, controller: Controller, plan: tuple[int, int, int], endpoint: str
) -> None:
    """Accepted iff every rule of ref 10.1 holds (floor count, 5-64 MB chunks, small files
    whole, big files chunked, 1-1000 chunks, final chunk <= 128 MB, <= 4 GB); otherwise
    invalid_param (400)."""
    example("chunk_plans_follow_ref_10_1")
    size, chunk, count = plan
    source = {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk}
    source["total_chunk_count"] = count
    body = calls.video_init(source) if endpoint == "video_init" else {"source_info": source}
    actor = calls.arrange(controller)
    response = calls.post(http, endpoint, actor.access_token, body)
    answer = checks.envelope(response, endpoint, source="FILE_UPLOAD")
    valid = spec.chunk_plan_ok(size, chunk, count)
    if valid:
        assert answer.code == "ok", (plan, answer)
    else:
        assert answer.code in INVALID, (plan, answer)


GOOD_PUT = {"Content-Type": "video/mp4"}
# Header values an HTTP/1.1 client can send (RFC 9110 field-value, as h11 checks it): visible
# ASCII, inner spaces, no space at either end.
HEADER_VALUES = st.just("") | st.from_regex(r"[!-~]([ !-~]{0,38}[!-~])?", fullmatch=True)
RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


@pytest.mark.behaviour("bad_puts_refused_and_harmless", "10.2, 10.3")
@examples()
@given(
    size=st.integers(1, 40_000),
    fault=st.sampled_from(
        [
            "no_range",
            "no_type",
            "wrong_type",
            "garbage_range",
            "reversed",
            "wrong_total",
            "not_next",
            "short_body",
            "unknown_url",
        ]
    ),
    data=st.data(),
)
def test_a_bad_put_is_refused_and_changes_nothing(
    http: httpx.Client, controller: Controller, size: int, fault: str, data: st.DataObject
) -> None:
    """After a valid init, a PUT with a missing or malformed header is 400, one inconsistent
    with the upload's progress 416 (or 400), one to an unknown upload_url 404 (ref 10.2,
    10.3); never a 2xx or a 5xx. The right PUT then completes the upload (201)."""
    example("bad_puts_refused_and_harmless")
    actor = calls.arrange(controller)
    init = calls.post(
        http, "video_init", actor.access_token, calls.video_init(calls.file_upload(size))
    )
    url = (checks.envelope(init, "video_init", source="FILE_UPLOAD").data or {})["upload_url"]
    content = bytes(range(256)) * (size // 256) + bytes(size % 256)
    headers = GOOD_PUT | {"Content-Range": f"bytes 0-{size - 1}/{size}"}
    body, expected = content, {400}
    if fault == "no_range":
        del headers["Content-Range"]
    elif fault == "no_type":
        del headers["Content-Type"]
    elif fault == "wrong_type":
        headers["Content-Type"] = data.draw(
            st.sampled_from(
                ["image/png", "application/octet-stream", "text/plain", "video/x-msvideo"]
            )
        )
    elif fault == "garbage_range":
        value = data.draw(HEADER_VALUES)
        assume(not RANGE.fullmatch(value))
        headers["Content-Range"] = value
    elif fault == "reversed":
        assume(size > 1)
        headers["Content-Range"] = f"bytes {size - 1}-0/{size}"
        expected = {400, 416}
    elif fault == "wrong_total":
        total = data.draw(st.integers(0, 2 * size).filter(lambda t: t != size))
        headers["Content-Range"] = f"bytes 0-{size - 1}/{total}"
        expected = {400, 416}
    elif fault == "not_next":
        assume(size > 1)
        first = data.draw(st.integers(1, size - 1))
        headers["Content-Range"] = f"bytes {first}-{size - 1}/{size}"
        body, expected = content[first:], {416, 400}
    elif fault == "short_body":
        assume(size > 1)
        body = content[: data.draw(st.integers(0, size - 1))]
    else:
        url, expected = url + "0", {404}
    bad = http.put(url, content=body, headers=headers)
    assert bad.status_code in expected, (fault, bad.status_code, bad.text)
    good = http.put(
        (checks.envelope(init, "video_init").data or {})["upload_url"],
        content=content,
        headers=GOOD_PUT | {"Content-Range": f"bytes 0-{size - 1}/{size}"},
    )
    assert good.status_code == 201, (fault, good.status_code, good.text)
    # ref 10.3: Content-Range reports the progress (UPLOADED_BYTES: a count or the last index).
    progress = RANGE.fullmatch(good.headers.get("content-range", ""))
    assert progress and progress[1] == "0" and int(progress[3]) == size, good.headers
    assert int(progress[2]) in (size - 1, size), good.headers


# -- tokens, publish ids, user info fields ---------------------------------------------------


@pytest.mark.behaviour("dead_tokens_are_access_token_invalid", "2.4, 2.5, 4.2")
@examples()
@given(
    endpoint=st.sampled_from(checks.ENVELOPE_ENDPOINTS),
    kind=st.sampled_from(["refresh_token", "client_token", "revoked", "expired"]),
    late=st.integers(1, 3600),
)
def test_tokens_that_are_not_live_user_access_tokens_are_refused(
    http: httpx.Client, controller: Controller, endpoint: str, kind: str, late: int
) -> None:
    """A refresh token or client token used as a bearer, a revoked access token (ref 2.5) and
    an expired one (ref 2.4): 401 access_token_invalid."""
    example("dead_tokens_are_access_token_invalid")
    controller.reset()  # `expired` moves the clock
    actor = calls.arrange(controller)
    app, token = actor.app, actor.access_token
    credentials = {"client_key": app.client_key, "client_secret": app.client_secret}
    if kind == "refresh_token":
        token = actor.tokens["refresh_token"]
    elif kind == "client_token":
        issued = calls.form(http, "token", credentials | {"grant_type": "client_credentials"})
        token = checks.client_token_success(issued)["access_token"]
    elif kind == "revoked":
        revoked = calls.form(http, "revoke", credentials | {"token": token})
        assert revoked.status_code == 200, revoked.text
    else:
        controller.advance_clock(actor.tokens["expires_in"] + late)
    answer = checks.envelope(
        calls.call(http, endpoint, token, calls.valid_body(endpoint)), endpoint
    )
    assert (answer.status, answer.code) == (401, "access_token_invalid"), answer


@pytest.mark.behaviour("unknown_publish_ids_refused", "11, 12")
@examples()
@given(
    endpoint=st.sampled_from(["status_fetch", "cancel"]),
    publish_id=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=64),
    owner=st.sampled_from(["nobody", "another creator", "another app"]),
)
def test_publish_ids_the_token_does_not_own_are_refused(
    http: httpx.Client, controller: Controller, endpoint: str, publish_id: str, owner: str
) -> None:
    """An id that does not exist: invalid_publish_id; another creator's or another app's
    publish: token_not_authorized_for_specified_publish_id (both 400, ref 11, 12)."""
    example("unknown_publish_ids_refused")
    actor = calls.arrange(controller)
    expected = "invalid_publish_id"
    if owner != "nobody":
        other = calls.arrange(controller, app=actor.app if owner == "another creator" else None)
        made = calls.post(
            http, "inbox_video_init", other.access_token, {"source_info": calls.file_upload()}
        )
        publish_id = (checks.envelope(made, "inbox_video_init").data or {})["publish_id"]
        expected = "token_not_authorized_for_specified_publish_id"
    body = {"publish_id": publish_id}
    answer = checks.envelope(calls.post(http, endpoint, actor.access_token, body), endpoint)
    assert (answer.status, answer.code) == (400, expected), answer


FIELD_NAMES = st.sampled_from(sorted(checks.USER_FIELDS)) | st.from_regex(
    r"[a-z_]{1,16}", fullmatch=True
)


@pytest.mark.behaviour("user_info_bad_fields_invalid_params", "4.2, 5")
@examples()
@given(fields=st.none() | st.just("") | st.lists(FIELD_NAMES, min_size=1, max_size=5).map(",".join))
def test_user_info_with_missing_or_unknown_fields_is_invalid_params(
    http: httpx.Client, controller: Controller, fields: str | None
) -> None:
    """ref 5: `fields` is required, otherwise invalid_params (400, the Display spelling, ref
    4.2). The reference does not say what a name outside the User Object does: the request is
    refused with invalid_params, or answered with only the documented fields."""
    example("user_info_bad_fields_invalid_params")
    actor = calls.arrange(controller)
    answer = checks.envelope(calls.user_info(http, actor.access_token, fields), "user_info")
    names = (fields or "").split(",") if fields else []
    known = [name for name in names if name in checks.USER_FIELDS]
    if not names:
        assert answer.code == "invalid_params", (fields, answer)
    elif len(known) == len(names):
        assert answer.code == "ok", (fields, answer)
    else:
        assert answer.code in ("ok", "invalid_params"), (fields, answer)
        if answer.code == "ok":
            assert set((answer.data or {})["user"]) == set(known), (fields, answer)


# -- OAuth ---------------------------------------------------------------------------------------

OAUTH_FAULTS: dict[str, set[str]] = {
    "no client_key": {"invalid_request", "invalid_client"},
    "no client_secret": {"invalid_request", "invalid_client"},
    "no code": {"invalid_request"},
    "no grant_type": {"invalid_request", "unsupported_grant_type"},
    "no redirect_uri": {"invalid_request"},
    "wrong secret": {"invalid_client"},
    "unknown client_key": {"invalid_client"},
    "unknown grant_type": {"unsupported_grant_type"},
    "garbage code": {"invalid_grant"},
    "other redirect_uri": {"invalid_grant", "invalid_request"},  # ref 2.6 vs its example text
    "wrong code_verifier": {"invalid_grant", "invalid_request"},
    "JSON body": {"invalid_request", "invalid_client"},
    "garbage body": {"invalid_request", "invalid_client"},
    "garbage refresh_token": {"invalid_grant"},
    "revoke without token": {"invalid_request"},
    "revoke with wrong secret": {"invalid_client"},
}


@pytest.mark.behaviour("oauth_bad_requests_flat_errors", "2.4-2.6")
@examples()
@given(
    fault=st.sampled_from(sorted(OAUTH_FAULTS)),
    noise=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40),
)
def test_broken_token_requests_get_the_documented_oauth_error(
    http: httpx.Client, controller: Controller, fault: str, noise: str
) -> None:
    """A valid code exchange (with PKCE), refresh or revoke broken one way: the flat OAuth error
    for that fault (ref 2.6), never a token and never a 5xx."""
    example("oauth_bad_requests_flat_errors")
    app = controller.create_app()
    user = controller.create_creator()
    verifier = "v" * 43 + "A1-._~"
    challenge = hashlib.sha256(verifier.encode()).hexdigest()
    code = controller.authorize(
        app.client_key, user, ("user.info.basic",), code_challenge=challenge
    )
    form = calls.code_exchange(app, code, verifier)
    endpoint = "token"
    if fault.startswith("no "):
        del form[fault.removeprefix("no ")]
    elif fault == "wrong secret":
        form["client_secret"] = app.client_secret + noise
    elif fault == "unknown client_key":
        form["client_key"] = "nokey" + noise
    elif fault == "unknown grant_type":
        assume(noise not in ("authorization_code", "refresh_token", "client_credentials"))
        form["grant_type"] = noise
    elif fault == "garbage code":
        form["code"] = noise
    elif fault == "other redirect_uri":
        form["redirect_uri"] = "https://other.example/callback"
    elif fault == "wrong code_verifier":
        form["code_verifier"] = "w" * 43 + noise[:20].replace("%", "")
    elif fault == "garbage refresh_token":
        form = {k: form[k] for k in ("client_key", "client_secret")}
        form |= {"grant_type": "refresh_token", "refresh_token": noise}
    elif fault.startswith("revoke"):
        endpoint = "revoke"
        form = {"client_key": app.client_key, "client_secret": app.client_secret}
        if fault == "revoke with wrong secret":
            form |= {"client_secret": app.client_secret + noise, "token": "act." + noise}
    if fault == "JSON body":
        response = http.post(spec.PATHS["token"], json=form)
    elif fault == "garbage body":
        headers = {"Content-Type": calls.FORM_TYPE}
        response = http.post(
            spec.PATHS["token"], content=noise.encode() + b"\xff\x00", headers=headers
        )
    else:
        response = calls.form(http, endpoint, form)
    error = checks.oauth_error(response)
    assert error in OAUTH_FAULTS[fault], (fault, response.text)
