"""Reference-client properties: for generated creators, apps and real media, the client's whole
flow ends where the reference says it must, and it never sends an init that TikTok would refuse
for a reason the client could have checked itself (ref 6-13, 15.4).

A small model below predicts each outcome from the reference alone:
- a local refusal (`client.errors.LocalRefusal`): the request breaks a rule the client can
  check before sending (caption length, branded content, the media's container, codec, frame
  rate and size, the creator's privacy options, interaction settings and maximum duration, a
  creator who cannot post now). Then no init and no upload may be sent;
- TikTok's refusal at init (a `TikTokError` code), for what only TikTok knows (the app's audit
  stage, URL ownership, pending shares, app version);
- or the final status, and the fail_reason of media TikTok checks after the upload.

Where several rules are broken the reference does not say which one speaks first, so the model
gives the set of acceptable answers.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from client import PhotoPostInfo, PostInfo, PublishResult, plan_chunks
from client.errors import (
    BrandedContentCannotBePrivate,
    CaptionTooLong,
    CreatorCannotPostNow,
    DurationOverCreatorMax,
    InteractionDisabledByCreator,
    LocalRefusal,
    PrivacyLevelNotAllowed,
    TikTokError,
    UnsupportedMedia,
)
from conformance import calls, spec
from conformance.controller import Controller
from conformance.driver import ClientSession, drive
from conformance.library import MediaLibrary, MediaServer
from conformance.plugin import examples
from conformance.report import example
from conformance.target import Target

RETRYABLE = {"internal", "video_pull_failed", "photo_pull_failed"}  # ref 11: "retry"
API_MAX_SECONDS = 600  # ref 13: the API takes at most 10 minutes
# ref 13: what a client can read from the file itself (container, codec, frame rate, size).
PROBED = {"file_format_check_failed", "frame_rate_check_failed", "picture_size_check_failed"}


@dataclass(frozen=True)
class Clip:
    """A test video and what the reference makes of it."""

    make: dict[str, Any]  # MediaLibrary.video arguments; {"garbage": n} for random bytes
    seconds: float
    fault: str | None = None  # the fail_reason TikTok's media check gives it (ref 11, 13)


CLIPS = {
    "h264.mp4": Clip({}, 3.5),
    "h264.mov": Clip({"container": "mov"}, 3.5),
    "vp8.webm": Clip({"container": "webm", "codec": "vp8"}, 3.5),
    "23fps-360x360.mp4": Clip({"fps": 23, "width": 360, "height": 360}, 80 / 23),  # every edge
    "15fps.mp4": Clip({"fps": 15}, 3.5, "frame_rate_check_failed"),
    "2s.mp4": Clip({"seconds": 2}, 2.0, "duration_check_failed"),  # ref 13 (3p): 3 s minimum
    "mpeg4.mp4": Clip({"codec": "mpeg4"}, 3.5, "file_format_check_failed"),
    "320x240.mp4": Clip({"width": 320, "height": 240}, 3.5, "picture_size_check_failed"),
    "matroska.mkv": Clip({"container": "mkv"}, 3.5, "file_format_check_failed"),
    "garbage.mp4": Clip({"garbage": 20_000}, 0.0, "file_format_check_failed"),
}
MISSING = "missing"  # a URL under the verified prefix that answers 404
UNVERIFIED = "unverified"  # a URL outside every verified prefix (ref 10.4)

PHOTOS: dict[str, tuple[dict[str, Any], str | None]] = {  # MediaLibrary.image args, fail_reason
    "720x1280.jpg": ({"width": 720, "height": 1280}, None),
    "1080x1920.webp": ({"fmt": "WEBP", "width": 1080, "height": 1920}, None),
    "720x1280.png": ({"fmt": "PNG", "width": 720, "height": 1280}, "file_format_check_failed"),
    "1440x2560.jpg": ({"width": 1440, "height": 2560}, "picture_size_check_failed"),  # > 1080p
}


def clip_path(media: MediaLibrary, name: str) -> Path:
    make = CLIPS[name].make
    return media.garbage(make["garbage"]) if "garbage" in make else media.video(**make)


def source_url(media: MediaLibrary, server: MediaServer, name: str) -> str:
    if name == MISSING:
        return server.url("no-such-file.mp4")
    if name == UNVERIFIED:
        return f"http://127.0.0.1:{server.port}/elsewhere/clip.mp4"
    if name in PHOTOS:
        return server.url(media.image(**PHOTOS[name][0]).name)
    return server.url(clip_path(media, name).name)


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def text_of(units: int) -> str:
    """`units` UTF-16 code units, emoji included (each counts 2, ref 7.1)."""
    return "🎉" * (units // 2) + "a" * (units % 2)


# -- the model -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Creator:
    account: str = "public"
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 600
    banned: bool = False
    app_version: str = "35.1.0"
    pending_shares: int = 0

    @property
    def options(self) -> set[str]:
        return spec.PRIVACY_OPTIONS[self.account]  # ref 6

    def settings(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Expect:
    """What the flow must end in: a local refusal, TikTok's refusal at init, or a status."""

    local: set[type[LocalRefusal]]
    refused: set[str]
    status: str | None = None
    fail_reasons: set[str] | None = None
    public: bool = False


def direct_post_refusals(creator: Creator, privacy: str | None, comment: bool) -> set[type]:
    """ref 6, 15.4: what creator_info tells the client before a Direct Post."""
    local: set[type[LocalRefusal]] = set()
    if creator.banned:
        local.add(CreatorCannotPostNow)
    if privacy not in creator.options:
        local.add(PrivacyLevelNotAllowed)
    if not comment and creator.comment_disabled:
        local.add(InteractionDisabledByCreator)
    return local


def expect_video(
    stage: str, creator: Creator, post: PostInfo | None, clip: str, from_file: bool
) -> Expect:
    """Direct Post (`post`) or inbox upload (None) of `clip`, from a file or a URL."""
    local: set[type[LocalRefusal]] = set()
    media = CLIPS.get(clip)
    # ref 6, 13: Direct Post within the creator's maximum; inbox drafts are trimmed in the app.
    longest = min(creator.max_video_post_duration_sec, API_MAX_SECONDS)
    longest = API_MAX_SECONDS if post is None else longest
    if from_file and media is not None and media.fault in PROBED:
        local.add(UnsupportedMedia)  # ref 13
    elif from_file and media is not None and media.seconds > longest:
        local.add(DurationOverCreatorMax)  # ref 6, 13, 15.4
    refused: set[str] = set()
    if post is not None:
        if post.title is not None and utf16_units(post.title) > spec.VIDEO_TITLE_MAX:
            local.add(CaptionTooLong)  # ref 7.1
        if post.brand_content_toggle and post.privacy_level == "SELF_ONLY":
            local.add(BrandedContentCannotBePrivate)  # ref 7.1, 15.4
        local |= direct_post_refusals(creator, post.privacy_level, post.disable_comment)
        private = creator.account == "private"
        if (not post.disable_duet and (creator.duet_disabled or private)) or (
            not post.disable_stitch and (creator.stitch_disabled or private)
        ):
            local.add(InteractionDisabledByCreator)  # ref 6: private accounts included
        if stage == "unaudited" and creator.account == "public":
            refused.add("unaudited_client_can_only_post_to_private_accounts")  # ref 15.1
    else:
        if creator.banned:
            refused.add("spam_risk_user_banned_from_posting")  # ref 8
        if creator.pending_shares >= spec.PENDING_SHARE_CAP:
            refused.add("spam_risk_too_many_pending_share")  # ref 8
    if clip == UNVERIFIED:
        refused.add("url_ownership_unverified")  # ref 10.4
    reasons = {media.fault} if media is not None and media.fault else set()
    if clip == MISSING:
        reasons = {"video_pull_failed"}  # ref 10.4
    elif media is not None and media.seconds > longest:
        reasons.add("duration_check_failed")
    privacy = None if post is None else post.privacy_level
    public = stage == "audited" and privacy == "PUBLIC_TO_EVERYONE"  # ref 11, 15.1
    final = "SEND_TO_USER_INBOX" if post is None else "PUBLISH_COMPLETE"
    return Expect(local, refused, "FAILED" if reasons else final, reasons or None, public)


def expect_photos(
    stage: str, creator: Creator, post: PhotoPostInfo, mode: str, photos: list[str], cover: int
) -> Expect:
    local: set[type[LocalRefusal]] = set()
    if not 1 <= len(photos) <= spec.MAX_PHOTOS or not 0 <= cover < len(photos):
        local.add(UnsupportedMedia)  # ref 9
    if post.title is not None and utf16_units(post.title) > spec.PHOTO_TITLE_MAX:
        local.add(CaptionTooLong)
    if post.description is not None and utf16_units(post.description) > spec.PHOTO_DESCRIPTION_MAX:
        local.add(CaptionTooLong)
    refused: set[str] = set()
    if mode == "DIRECT_POST":
        if post.brand_content_toggle and post.privacy_level == "SELF_ONLY":
            local.add(BrandedContentCannotBePrivate)
        local |= direct_post_refusals(creator, post.privacy_level, post.disable_comment)
        if stage == "unaudited" and creator.account == "public":
            refused.add("unaudited_client_can_only_post_to_private_accounts")
    else:
        if creator.banned:
            refused.add("spam_risk_user_banned_from_posting")
        if tuple(int(p) for p in creator.app_version.split(".")[:2]) < (31, 8):
            refused.add("app_version_check_failed")  # ref 9
        if creator.pending_shares >= spec.PENDING_SHARE_CAP:
            refused.add("spam_risk_too_many_pending_share")
    if UNVERIFIED in photos:
        refused.add("url_ownership_unverified")
    reasons = {fault for p in photos if p in PHOTOS and (fault := PHOTOS[p][1])}
    reasons |= {"photo_pull_failed"} if MISSING in photos else set()
    public = mode == "DIRECT_POST" and stage == "audited"
    public = public and post.privacy_level == "PUBLIC_TO_EVERYONE"
    final = "PUBLISH_COMPLETE" if mode == "DIRECT_POST" else "SEND_TO_USER_INBOX"
    return Expect(local, refused, "FAILED" if reasons else final, reasons or None, public)


# -- running a flow and judging it ---------------------------------------------------------------


def session_for(
    target: Target, controller: Controller, media_server: MediaServer, stage: str, creator: Creator
) -> ClientSession:
    controller.reset()
    app = calls.media_app(controller, media_server.prefix, stage=stage)
    actor = calls.arrange(controller, app=app, **creator.settings())
    return drive(target, controller, app, actor.tokens)


def judge(session: ClientSession, expect: Expect, flow: Any, init: str) -> PublishResult | None:
    """Run `flow` (the client's post) and check it against `expect`; the result, if it ran."""
    tiktok = session.tiktok
    try:
        publish = flow()
    except LocalRefusal as refusal:
        event(f"refused locally: {type(refusal).__name__}")
        assert expect.local, f"refused locally, but the model expects it sent: {refusal!r}"
        assert type(refusal) in expect.local, (refusal, expect)
        assert session.sent(init, "upload") == 0, "a locally refused post sent an init or a PUT"
        return None
    except TikTokError as error:
        event(f"refused at init: {error.code}")
        assert not expect.local, f"sent although the model refuses it locally: {expect.local}"
        assert error.code in expect.refused, (error.code, error.http_status, expect)
        assert error.http_status == spec.ENVELOPE_ERRORS[error.code], error
        assert session.sent(init) == 1 and session.sent("upload") == 0
        return None
    assert not expect.local, f"sent although the model refuses it locally: {expect.local}"
    assert not expect.refused, f"TikTok should have refused it at init: {expect.refused}"
    result = tiktok.wait_for_publish(publish, wait_for_public_post=expect.public)
    event(f"{result.status} {result.fail_reason or ''}".strip())
    assert result.status == expect.status, (result, expect)
    if expect.fail_reasons:
        assert result.fail_reason in expect.fail_reasons, (result, expect)
    # ref 11: the client posts again, once, after a failure the reference calls retryable.
    attempts = 2 if result.fail_reason in RETRYABLE else 1
    assert (result.attempts, session.sent(init)) == (attempts, attempts), result
    if result.status == "PUBLISH_COMPLETE":
        if expect.public:
            assert result.post_ids, "a public post gets its post id after moderation (ref 11)"
        else:  # ref 11, 15.1: never an id for a post that is not public
            session.time.sleep(3600)
            assert not tiktok.fetch_status(result.publish_id).post_ids
    return result


# -- properties ------------------------------------------------------------------------------------

# Each property runs once per fault it can draw: "clean" (nothing the reference refuses), one
# aspect broken, or "anything" (each aspect broken or not), so every rule is met in every run,
# even the quick profile's; the model judges each case as it is, however it was drawn.
GOOD_CLIPS = sorted(name for name, clip in CLIPS.items() if clip.fault is None)
BAD_CLIPS = sorted(name for name, clip in CLIPS.items() if clip.fault is not None)
GOOD_PHOTOS = sorted(name for name, (_, fault) in PHOTOS.items() if fault is None)
BAD_PHOTOS = sorted(name for name, (_, fault) in PHOTOS.items() if fault is not None)


DIRECT_FAULTS: tuple[str, ...] = ("clip", "source", "privacy", "interactions", "brand")
DIRECT_FAULTS += ("title", "banned", "duration", "stage")
INBOX_FAULTS: tuple[str, ...] = ("clip", "source", "banned", "pending")
PHOTO_FAULTS: tuple[str, ...] = ("count", "cover", "caption", "privacy", "interactions", "brand")
PHOTO_FAULTS += ("banned", "app_version", "pending", "url", "media", "stage")


def faults(draw: st.DrawFn, fault: str, aspects: tuple[str, ...]) -> set[str]:
    if fault == "anything":
        return {aspect for aspect in aspects if draw(st.booleans())}
    return set() if fault == "clean" else {fault}


def per_fault(faults: tuple[str, ...]) -> Any:
    """Parametrize over "clean", each fault and "anything", with a share of the profile's
    examples each (at least 3)."""
    return pytest.mark.parametrize("fault", ["clean", *faults, "anything"])


def fault_examples() -> settings:
    quota = examples()
    return settings(quota, max_examples=max(3, quota.max_examples // 6))


def draw_creator(draw: st.DrawFn, bad: set[str], **fixed: Any) -> Creator:
    """A creator; `bad` may ask for a public account under an unaudited app ("stage"), a
    ban, a full inbox ("pending"), an old app ("app_version"), a short maximum ("duration")."""
    account = "public" if "stage" in bad else draw(st.sampled_from(["public", "private"]))
    short = st.sampled_from([1, 3]) if "duration" in bad else st.sampled_from([4, 60, 600, 3600])
    old = st.just("31.7.9") if "app_version" in bad else st.sampled_from(["31.8", "35.1.0"])
    return Creator(
        account=account,
        comment_disabled=draw(st.booleans()),
        duet_disabled=draw(st.booleans()),
        stitch_disabled=draw(st.booleans()),
        max_video_post_duration_sec=draw(short),
        banned="banned" in bad,
        app_version=draw(old),
        pending_shares=draw(st.just(5) if "pending" in bad else st.sampled_from([0, 4])),
        **fixed,
    )


def draw_stage(draw: st.DrawFn, bad: set[str], creator: Creator) -> str:
    if "stage" in bad:
        return "unaudited"  # with a public account (ref 15.1)
    if creator.account == "private":
        return draw(st.sampled_from(["audited", "unaudited"]))
    return "audited"


def draw_privacy(draw: st.DrawFn, bad: set[str], creator: Creator) -> str | None:
    if "privacy" in bad:
        return draw(st.sampled_from([None, *sorted(set(spec.PRIVACY_LEVELS) - creator.options)]))
    return draw(st.sampled_from(sorted(creator.options)))


def draw_disables(draw: st.DrawFn, bad: set[str], off: dict[str, bool]) -> dict[str, bool]:
    """disable_x per interaction: any value where the creator allows it, True where not;
    "interactions" in `bad` turns one the creator disabled back on."""
    disable = {name: True if is_off else draw(st.booleans()) for name, is_off in off.items()}
    if "interactions" in bad and any(off.values()):
        disable[draw(st.sampled_from(sorted(n for n, o in off.items() if o)))] = False
    return disable


@dataclass(frozen=True)
class VideoCase:
    stage: str
    creator: Creator
    clip: str
    from_file: bool
    post: PostInfo | None = None


@st.composite
def direct_posts(draw: st.DrawFn, fault: str) -> VideoCase:
    bad = faults(draw, fault, DIRECT_FAULTS)
    creator = draw_creator(draw, bad)
    if "interactions" in bad and not (creator.account == "private" or creator.comment_disabled):
        creator = Creator(**{**creator.settings(), "comment_disabled": True})
    stage = draw_stage(draw, bad, creator)
    clip = draw(st.sampled_from(BAD_CLIPS if "clip" in bad else GOOD_CLIPS))
    from_file = "source" not in bad and (fault == "clip" or draw(st.booleans()))
    if "source" in bad:
        clip = draw(st.sampled_from([MISSING, UNVERIFIED]))
    privacy = draw_privacy(draw, bad, creator)
    private = creator.account == "private"
    off = {
        "comment": creator.comment_disabled,
        "duet": creator.duet_disabled or private,
        "stitch": creator.stitch_disabled or private,
    }
    disable = draw_disables(draw, bad, off)
    if "brand" in bad and "privacy" not in bad:
        privacy, brand = "SELF_ONLY", True
    else:  # ref 7.1 and 15.1 leave branded content forced to SELF_ONLY open: not drawn
        brand = stage == "audited" and privacy != "SELF_ONLY" and draw(st.booleans())
    titles = [spec.VIDEO_TITLE_MAX + 1] if "title" in bad else [0, 20, spec.VIDEO_TITLE_MAX]
    units = draw(st.sampled_from(titles))
    post = PostInfo(
        privacy_level=privacy,  # type: ignore[arg-type]  # None: "missing" (ref 7.4)
        title=text_of(units) if units else None,
        disable_comment=disable["comment"],
        disable_duet=disable["duet"],
        disable_stitch=disable["stitch"],
        brand_content_toggle=brand,
        is_aigc=draw(st.booleans()),
    )
    return VideoCase(stage, creator, clip, from_file, post)


@st.composite
def inbox_uploads(draw: st.DrawFn, fault: str) -> VideoCase:
    bad = faults(draw, fault, INBOX_FAULTS)
    creator = draw_creator(draw, bad | {"duration"} if draw(st.booleans()) else bad)
    clip = draw(st.sampled_from(BAD_CLIPS if "clip" in bad else GOOD_CLIPS))
    from_file = "source" not in bad and (fault == "clip" or draw(st.booleans()))
    if "source" in bad:
        clip = draw(st.sampled_from([MISSING, UNVERIFIED]))
    stage = draw(st.sampled_from(["audited", "unaudited"]))  # ref 15.1: Direct Post only
    return VideoCase(stage, creator, clip, from_file)


@dataclass(frozen=True)
class PhotoCase:
    stage: str
    creator: Creator
    mode: str
    photos: list[str]
    cover: int
    post: PhotoPostInfo


@st.composite
def photo_posts(draw: st.DrawFn, fault: str) -> PhotoCase:
    bad = faults(draw, fault, PHOTO_FAULTS)
    mode = draw(st.sampled_from(["DIRECT_POST", "MEDIA_UPLOAD"]))
    creator = draw_creator(draw, bad)
    if "interactions" in bad:
        creator = Creator(**{**creator.settings(), "comment_disabled": True})
    stage = draw_stage(draw, bad, creator)
    photos = draw(st.lists(st.sampled_from(GOOD_PHOTOS), min_size=1, max_size=3))
    for aspect, names in (("media", BAD_PHOTOS), ("url", [MISSING, UNVERIFIED])):
        if aspect in bad:
            photos.insert(draw(st.integers(0, len(photos))), draw(st.sampled_from(names)))
    if "count" in bad:
        photos = draw(st.sampled_from([[], [GOOD_PHOTOS[0]] * (spec.MAX_PHOTOS + 1)]))
    in_range = st.integers(0, max(0, len(photos) - 1))
    cover = draw(st.sampled_from([-1, len(photos)]) if "cover" in bad else in_range)
    privacy = draw_privacy(draw, bad, creator)
    disable = draw_disables(draw, bad, {"comment": creator.comment_disabled})
    if "brand" in bad and "privacy" not in bad:
        privacy, brand = "SELF_ONLY", True
    else:
        brand = stage == "audited" and privacy != "SELF_ONLY" and draw(st.booleans())
    too_long = draw(st.sampled_from(["title", "description"])) if "caption" in bad else None
    title = spec.PHOTO_TITLE_MAX + 1 if too_long == "title" else None
    title = title or draw(st.sampled_from([0, 10, spec.PHOTO_TITLE_MAX]))
    description = spec.PHOTO_DESCRIPTION_MAX + 1 if too_long == "description" else None
    description = description or draw(st.sampled_from([0, 30, spec.PHOTO_DESCRIPTION_MAX]))
    post = PhotoPostInfo(
        title=text_of(title) if title else None,
        description=text_of(description) if description else None,
        privacy_level=privacy,
        disable_comment=disable["comment"],
        auto_add_music=draw(st.booleans()),
        brand_content_toggle=brand,
    )
    return PhotoCase(stage, creator, mode, photos, cover, post)


@pytest.mark.behaviour("client_direct_post_outcome", "7, 10, 11, 13, 15.4")
@per_fault(DIRECT_FAULTS)
@fault_examples()
@given(data=st.data())
def test_direct_post_of_a_video_ends_as_the_model_predicts(
    target: Target,
    controller: Controller,
    media: MediaLibrary,
    media_server: MediaServer,
    fault: str,
    data: st.DataObject,
) -> None:
    """Direct Post from a file or a URL: refused locally with nothing sent, refused at init,
    or final as predicted, with a post id only for a public post of an audited app."""
    example("client_direct_post_outcome")
    case = data.draw(direct_posts(fault), label="case")
    assert case.post is not None
    expect = expect_video(case.stage, case.creator, case.post, case.clip, case.from_file)
    session = session_for(target, controller, media_server, case.stage, case.creator)
    source = (
        clip_path(media, case.clip)
        if case.from_file
        else source_url(media, media_server, case.clip)
    )
    with session.tiktok as tiktok:
        judge(session, expect, lambda: tiktok.post_video(source, case.post), "video_init")


@pytest.mark.behaviour("client_inbox_upload_outcome", "8, 10, 11, 13")
@per_fault(INBOX_FAULTS)
@fault_examples()
@given(data=st.data())
def test_inbox_upload_ends_as_the_model_predicts(
    target: Target,
    controller: Controller,
    media: MediaLibrary,
    media_server: MediaServer,
    fault: str,
    data: st.DataObject,
) -> None:
    """Inbox uploads skip creator_info; the creator's own maximum does not apply (ref 13: the
    creator trims in the app); a draft the creator posts is PUBLISH_COMPLETE (ref 8)."""
    example("client_inbox_upload_outcome")
    case = data.draw(inbox_uploads(fault), label="case")
    expect = expect_video(case.stage, case.creator, None, case.clip, case.from_file)
    session = session_for(target, controller, media_server, case.stage, case.creator)
    source = (
        clip_path(media, case.clip)
        if case.from_file
        else source_url(media, media_server, case.clip)
    )
    with session.tiktok as tiktok:
        result = judge(
            session, expect, lambda: tiktok.upload_video_to_inbox(source), "inbox_video_init"
        )
        assert session.sent("creator_info") == 0  # ref 6: creator_info is video.publish's
        if result is not None and result.status == "SEND_TO_USER_INBOX":
            controller.publish_action(result.publish_id, "post_draft")  # the creator posts it
            assert tiktok.fetch_status(result.publish_id).status == "PUBLISH_COMPLETE"


@pytest.mark.behaviour("client_photo_post_outcome", "9, 10.4, 11, 15.4")
@per_fault(PHOTO_FAULTS)
@fault_examples()
@given(data=st.data())
def test_photo_post_ends_as_the_model_predicts(
    target: Target,
    controller: Controller,
    media: MediaLibrary,
    media_server: MediaServer,
    fault: str,
    data: st.DataObject,
) -> None:
    """Photo Direct Post and MEDIA_UPLOAD, pulled from the loopback media server: refused
    locally, refused at init, or final with the fail_reason of a failing photo."""
    example("client_photo_post_outcome")
    case = data.draw(photo_posts(fault), label="case")
    expect = expect_photos(case.stage, case.creator, case.post, case.mode, case.photos, case.cover)
    session = session_for(target, controller, media_server, case.stage, case.creator)
    urls = [source_url(media, media_server, p) for p in case.photos]
    with session.tiktok as tiktok:
        post = lambda: tiktok.post_photos(  # noqa: E731
            urls, case.post, mode=case.mode, cover_index=case.cover
        )
        judge(session, expect, post, "content_init")


@pytest.mark.behaviour("client_chunk_plans_follow_ref_10_1", "10.1")
@examples()
@given(
    size=st.integers(1, spec.MAX_VIDEO_BYTES)
    | st.sampled_from([spec.MIN_CHUNK, spec.MAX_CHUNK + 1, spec.MAX_VIDEO_BYTES]),
    chunk=st.integers(0, 2 * spec.MAX_FINAL_CHUNK),
)
def test_the_client_only_plans_chunks_tiktok_takes(size: int, chunk: int) -> None:
    """Whatever the file size and preferred chunk size, the plan the client sends at init
    follows every rule of ref 10.1 and its ranges cover the file exactly once."""
    example("client_chunk_plans_follow_ref_10_1")
    plan = plan_chunks(size, chunk)
    assert spec.chunk_plan_ok(plan.video_size, plan.chunk_size, plan.total_chunk_count), plan
    ranges = list(plan.ranges())
    assert ranges[0][0] == 0 and ranges[-1][1] == size - 1
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(ranges))


@pytest.mark.behaviour("client_oauth_flow", "2.1, 2.4, 2.5")
@examples()
@given(
    scopes=st.sets(st.sampled_from(calls.ALL_SCOPES), min_size=1).map(lambda s: sorted(s)),
)
def test_the_client_logs_in_refreshes_and_revokes(
    target: Target, http: httpx.Client, controller: Controller, scopes: list[str]
) -> None:
    """PKCE with the hex challenge (ref 2.1), the code exchange and a rotating refresh (ref
    2.4), then a revoke after which the token is refused (ref 2.5)."""
    example("client_oauth_flow")
    app = controller.create_app()
    user = controller.create_creator()
    session = drive(target, controller, app)
    with session.tiktok as tiktok:
        auth = tiktok.authorize_url(app.redirect_uri, scopes)
        (challenge,) = parse_qs(urlsplit(auth.url).query)["code_challenge"]
        code = controller.authorize(app.client_key, user, tuple(scopes), code_challenge=challenge)
        token = tiktok.exchange_code(code["code"], code["redirect_uri"], auth.code_verifier)
        assert set(token.scope) == set(scopes)
        refreshed = tiktok.refresh()
        assert refreshed.access_token.startswith("act.") and refreshed.open_id == token.open_id
        if "user.info.basic" in scopes:
            assert tiktok.user_info(["open_id"]).open_id == token.open_id
        tiktok.revoke()
        assert tiktok.token is None
    answer = calls.user_info(http, refreshed.access_token, "open_id")
    assert answer.json()["error"]["code"] == "access_token_invalid"
