"""The life of a publish_id (ref 10-14) end to end through HTTP on a frozen sandbox clock:
every status path, every fail_reason from real generated media (through upload and through
pull), pulls from real loopback servers, cancel, creator-side actions, injected outcomes,
status/fetch errors and the publish's timeline."""

from __future__ import annotations

import http.server
import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.media import make_garbage, make_image, make_video
from mock_server.domain.lifecycle import TRANSITIONS
from mock_server.runtime.fetcher import HttpxFetcher, StaticFetcher
from mock_server.testvideo import pad_mp4
from tests.mock_server.api.conftest import HeldFetcher, assert_envelope_error
from tests.mock_server.lifecycle_kit import (
    ACME_MEDIA,
    ANA,
    AUDITED,
    BEN,
    CHUNK,
    FAILED,
    HOOK_URL,
    PROCESSING_DOWNLOAD,
    PROCESSING_UPLOAD,
    PUBLISH_COMPLETE,
    SECRETS,
    SEND_TO_USER_INBOX,
    UNAUDITED,
    LoopbackServer,
    MiB,
    Studio,
    answer,
    instant,
    parse_instant,
    scenario_with,
    studio,
)

# ref 11: the fail_reason table.
FAIL_REASONS = [
    "file_format_check_failed",
    "duration_check_failed",
    "frame_rate_check_failed",
    "picture_size_check_failed",
    "internal",
    "video_pull_failed",
    "photo_pull_failed",
    "publish_cancelled",
    "auth_removed",
    "spam_risk_too_many_posts",
    "spam_risk_user_banned_from_posting",
    "spam_risk_text",
    "spam_risk",
]

# ref 11 "Typical transitions", written from the reference: every move a status may make
# (FAILED, "the whole process failed", can end any status that is not final).
REFERENCE_MOVES = {
    (PROCESSING_UPLOAD, PUBLISH_COMPLETE),
    (PROCESSING_UPLOAD, FAILED),
    (PROCESSING_DOWNLOAD, PUBLISH_COMPLETE),
    (PROCESSING_DOWNLOAD, FAILED),
    (PROCESSING_UPLOAD, SEND_TO_USER_INBOX),
    (PROCESSING_DOWNLOAD, SEND_TO_USER_INBOX),
    (SEND_TO_USER_INBOX, PUBLISH_COMPLETE),
    (SEND_TO_USER_INBOX, FAILED),
}
FIRST_STATUS = {"FILE_UPLOAD": PROCESSING_UPLOAD, "PULL_FROM_URL": PROCESSING_DOWNLOAD}

VIDEO = ACME_MEDIA + "v/"
PHOTO = ACME_MEDIA + "p/"


# -- media, made once per module ----------------------------------------------------------------


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Real videos and photos: acceptable ones, and one for each way a check can fail."""
    d = tmp_path_factory.mktemp("lifecycle-media")
    videos = {
        "ok.mp4": {},
        "ok.webm": {"container": "webm", "codec": "vp9"},
        "ok.mov": {"container": "mov"},
        "mpeg4.mp4": {"codec": "mpeg4"},  # a codec TikTok does not take
        "vp9.mkv": {"container": "mkv", "codec": "vp9"},  # Matroska that is not WebM
        "2s.mp4": {"seconds": 2},
        "8s.mp4": {"seconds": 8},
        "20fps.mp4": {"fps": 20},
        "320x240.mp4": {"width": 320, "height": 240},
    }
    made = {name: make_video(d / name, **kw).read_bytes() for name, kw in videos.items()}
    made["garbage.mp4"] = make_garbage(d / "garbage.mp4", 64 * 1024).read_bytes()
    made["padded.mp4"] = pad_mp4(made["ok.mp4"], 3 * CHUNK + 123)
    images = {
        "ok.jpg": {"width": 720, "height": 1280},
        "ok.webp": {"fmt": "WEBP", "width": 720, "height": 1280},
        "1440p.jpg": {"width": 1440, "height": 2560},  # over 1080p
        "ok.png": {"fmt": "PNG", "width": 720, "height": 1280},  # PNG is refused
        "21mb.jpg": {"width": 720, "height": 1280, "pad_to_bytes": 21 * MiB},  # over 20 MB
    }
    for name, kw in images.items():
        made[name] = make_image(d / name, **kw).read_bytes()
    return made


def static_files(media: dict[str, bytes]) -> dict[str, bytes]:
    """Every file under the audited app's verified domain (videos under v/, photos under p/)."""
    files = {}
    for name, data in media.items():
        is_photo = name.rsplit(".", 1)[1] in ("jpg", "webp", "png")
        files[(PHOTO if is_photo else VIDEO) + name] = data
    return files


@pytest.fixture
def st(media: dict[str, bytes]) -> Iterator[Studio]:
    with studio(fetcher=StaticFetcher(static_files(media))) as made:
        made.patch_app(AUDITED, webhook_url=HOOK_URL)
        yield made


def realistic(tmp_path: Path, media: dict[str, bytes], **timing: Any) -> Studio:
    """A sandbox on the realistic timing profile (with overrides) and the static files."""
    path = scenario_with(tmp_path, timing={"profile": "realistic", **timing})
    made = Studio(path, fetcher=StaticFetcher(static_files(media)))
    made.patch_app(AUDITED, webhook_url=HOOK_URL)
    return made


def failed_events(st: Studio, client_key: str = AUDITED) -> list[dict[str, Any]]:
    return [content for event, content in st.events(client_key) if event == "post.publish.failed"]


def assert_moves_follow_the_reference(st: Studio, publish_id: str) -> None:
    view = st.publish(publish_id)
    statuses = [step["status"] for step in view["timeline"]]
    assert statuses[0] == FIRST_STATUS[view["source"]], statuses
    for move in itertools.pairwise(statuses):
        assert move in REFERENCE_MOVES, statuses
    times = [parse_instant(step["at"]) for step in view["timeline"]]
    assert times == sorted(times), view["timeline"]


# -- Direct Post ---------------------------------------------------------------------------------


def test_direct_post_upload_goes_processing_upload_to_publish_complete(
    st: Studio, media: dict[str, bytes]
) -> None:
    token = st.token()
    publish_id = st.post_video(token, media["ok.mp4"])
    data = st.state(publish_id, token)
    assert data == {
        "status": PROCESSING_UPLOAD,
        "publicaly_available_post_id": [],
        "uploaded_bytes": len(media["ok.mp4"]),
    }
    st.advance(2)
    data = st.state(publish_id, token)
    assert data == {
        "status": PUBLISH_COMPLETE,
        "publicaly_available_post_id": [],
        "uploaded_bytes": len(media["ok.mp4"]),
    }
    assert st.timeline(publish_id) == [PROCESSING_UPLOAD, PUBLISH_COMPLETE]
    # SELF_ONLY: never a post id, however long we wait.
    st.advance(24 * 3600)
    assert st.state(publish_id)["publicaly_available_post_id"] == []
    assert [e for e, _ in st.events()] == ["post.publish.complete"]


def test_direct_post_pull_goes_processing_download_to_publish_complete(
    st: Studio, media: dict[str, bytes]
) -> None:
    token = st.token()
    publish_id = st.pull_video(token, VIDEO + "ok.mp4")
    st.settle()
    data = st.state(publish_id, token)
    assert data["status"] == PROCESSING_DOWNLOAD
    assert "uploaded_bytes" not in data
    st.advance(2)
    data = st.state(publish_id, token)
    assert data == {
        "status": PUBLISH_COMPLETE,
        "publicaly_available_post_id": [],
        "downloaded_bytes": len(media["ok.mp4"]),
    }
    assert st.timeline(publish_id) == [PROCESSING_DOWNLOAD, PUBLISH_COMPLETE]
    assert st.fetcher.requested == [VIDEO + "ok.mp4"]  # type: ignore[attr-defined]


def test_a_public_post_gets_a_19_digit_post_id_only_after_moderation(
    tmp_path: Path, media: dict[str, bytes]
) -> None:
    st = realistic(tmp_path, media)
    try:
        publish_id = st.post_video(st.token(), media["ok.mp4"], privacy="PUBLIC_TO_EVERYONE")
        completed_at = public_at = None
        for _ in range(120):
            st.advance(1)
            view = st.publish(publish_id)
            if completed_at is None and view["status"] == PUBLISH_COMPLETE:
                completed_at = st.now()
                # Posted, but not publicly available yet (ref 11).
                assert st.state(publish_id)["publicaly_available_post_id"] == []
            if view["public"]:
                public_at = st.now()
                break
        assert completed_at is not None and public_at is not None
        assert 1 <= public_at - completed_at <= 60  # ref 11: moderation usually under a minute
        response = st.status(st.token(), publish_id)
        ids = response.json()["data"]["publicaly_available_post_id"]
        assert len(ids) == 1 and isinstance(ids[0], int)
        assert len(str(ids[0])) == 19  # ref 11: 19-digit ids
        assert f"[{ids[0]}]" in response.text  # an int64 in the JSON, not a string
        assert st.publish(publish_id)["post_ids"] == [str(ids[0])]
    finally:
        st.close()


def test_moderation_follows_the_scenario_timing(tmp_path: Path, media: dict[str, bytes]) -> None:
    # ref 11: moderation is "sometimes hours"; a scenario can say so.
    st = realistic(tmp_path, media, moderation_seconds=7200)
    try:
        publish_id = st.post_video(st.token(), media["ok.mp4"], privacy="PUBLIC_TO_EVERYONE")
        st.advance(60)
        assert st.state(publish_id)["status"] == PUBLISH_COMPLETE
        st.advance(3600)
        assert st.state(publish_id)["publicaly_available_post_id"] == []
        st.advance(3600)
        assert len(st.state(publish_id)["publicaly_available_post_id"]) == 1
    finally:
        st.close()


@pytest.mark.parametrize(
    "client_key, username, requested",
    [
        (AUDITED, ANA, "SELF_ONLY"),
        (AUDITED, ANA, "MUTUAL_FOLLOW_FRIENDS"),
        (AUDITED, BEN, "FOLLOWER_OF_CREATOR"),
        (UNAUDITED, BEN, "FOLLOWER_OF_CREATOR"),  # ref 15.1: forced to SELF_ONLY
    ],
)
def test_posts_that_are_not_public_never_get_a_post_id(
    st: Studio, media: dict[str, bytes], client_key: str, username: str, requested: str
) -> None:
    st.patch_app(client_key, webhook_url=HOOK_URL)
    publish_id = st.post_video(st.token(client_key, username), media["ok.mp4"], privacy=requested)
    st.advance(24 * 3600)
    data = st.state(publish_id)
    assert data["status"] == PUBLISH_COMPLETE
    assert data["publicaly_available_post_id"] == []
    events = [e for e, _ in st.events(client_key)]
    assert "post.publish.publicly_available" not in events
    if client_key == UNAUDITED:
        assert st.publish(publish_id)["privacy_level"] == "SELF_ONLY"


# -- inbox ---------------------------------------------------------------------------------------


def start_inbox(st: Studio, token: str, media: dict[str, bytes], source: str) -> str:
    if source == "upload":
        return st.post_video(token, media["ok.mp4"], inbox=True)
    if source == "pull":
        return st.pull_video(token, VIDEO + "ok.mp4", inbox=True)
    return st.pull_photos(token, [PHOTO + "ok.jpg", PHOTO + "ok.webp"], mode="MEDIA_UPLOAD")


@pytest.mark.parametrize("source", ["upload", "pull", "photos"])
def test_inbox_goes_to_the_inbox_then_complete_when_the_creator_posts(
    st: Studio, media: dict[str, bytes], source: str
) -> None:
    token = st.token()
    publish_id = start_inbox(st, token, media, source)
    st.settle()
    first = PROCESSING_UPLOAD if source == "upload" else PROCESSING_DOWNLOAD
    assert st.state(publish_id, token)["status"] == first
    # The creator cannot post a draft that is not in the inbox yet.
    assert st.action(publish_id, "post_draft").status_code == 409
    st.advance(2)
    assert st.state(publish_id, token)["status"] == SEND_TO_USER_INBOX
    st.advance(3600)  # the draft waits for the creator
    assert st.state(publish_id)["status"] == SEND_TO_USER_INBOX

    posted = st.action(publish_id, "post_draft", privacy_level="PUBLIC_TO_EVERYONE")
    assert posted.status_code == 200, posted.text
    assert posted.json()["status"] == PUBLISH_COMPLETE
    data = st.state(publish_id)
    assert data["status"] == PUBLISH_COMPLETE
    assert data["publicaly_available_post_id"] == []
    st.advance(2)
    assert len(st.state(publish_id)["publicaly_available_post_id"]) == 1
    assert st.timeline(publish_id) == [first, SEND_TO_USER_INBOX, PUBLISH_COMPLETE]
    events = [(e, c["publish_type"]) for e, c in st.events()]
    assert events == [
        ("post.publish.inbox_delivered", "INBOX_SHARE"),
        ("post.publish.complete", "INBOX_SHARE"),
        ("post.publish.publicly_available", "INBOX_SHARE"),
    ]
    # Posted once: the draft is gone.
    assert st.action(publish_id, "post_draft").status_code == 409


def test_a_draft_posted_privately_never_gets_a_post_id(st: Studio, media: dict[str, bytes]) -> None:
    publish_id = start_inbox(st, st.token(), media, "upload")
    st.advance(2)
    assert st.action(publish_id, "post_draft", privacy_level="SELF_ONLY").status_code == 200
    st.advance(24 * 3600)
    data = st.state(publish_id)
    assert data["status"] == PUBLISH_COMPLETE
    assert data["publicaly_available_post_id"] == []


def test_a_draft_takes_only_the_creators_privacy_options(
    st: Studio, media: dict[str, bytes]
) -> None:
    # ben_private's account is private: PUBLIC_TO_EVERYONE is not one of his options (ref 6).
    publish_id = start_inbox(st, st.token(AUDITED, BEN), media, "upload")
    st.advance(2)
    refused = st.action(publish_id, "post_draft", privacy_level="PUBLIC_TO_EVERYONE")
    assert refused.status_code == 409
    assert st.state(publish_id)["status"] == SEND_TO_USER_INBOX
    ok = st.action(publish_id, "post_draft", privacy_level="FOLLOWER_OF_CREATOR")
    assert ok.status_code == 200
    assert st.publish(publish_id)["privacy_level"] == "FOLLOWER_OF_CREATOR"


def test_a_direct_post_has_no_draft_to_post(st: Studio, media: dict[str, bytes]) -> None:
    publish_id = st.post_video(st.token(), media["ok.mp4"])
    st.advance(2)
    assert st.action(publish_id, "post_draft").status_code == 409
    assert st.timeline(publish_id) == [PROCESSING_UPLOAD, PUBLISH_COMPLETE]


def test_drafts_count_against_the_pending_share_cap_until_posted(
    st: Studio, media: dict[str, bytes]
) -> None:
    drafts = [start_inbox(st, st.token(), media, "upload") for _ in range(5)]
    st.advance(2)
    source = {
        "source": "FILE_UPLOAD",
        "video_size": 1000,
        "chunk_size": 1000,
        "total_chunk_count": 1,
    }
    refused = st.post("/v2/post/publish/inbox/video/init/", st.token(), {"source_info": source})
    assert refused.json()["error"]["code"] == "spam_risk_too_many_pending_share"
    assert st.action(drafts[0], "post_draft").status_code == 200
    accepted = st.post("/v2/post/publish/inbox/video/init/", st.token(), {"source_info": source})
    assert accepted.json()["error"]["code"] == "ok", accepted.text


# -- take down and restore -----------------------------------------------------------------------


def test_take_down_and_restore_a_public_post(st: Studio, media: dict[str, bytes]) -> None:
    publish_id = st.post_video(st.token(), media["ok.mp4"], privacy="PUBLIC_TO_EVERYONE")
    st.advance(5)
    (post_id,) = st.state(publish_id)["publicaly_available_post_id"]

    down = st.action(publish_id, "take_down")
    assert down.status_code == 200, down.text
    data = st.state(publish_id)
    assert data["status"] == PUBLISH_COMPLETE
    assert data["publicaly_available_post_id"] == []
    assert st.events()[-1] == (
        "post.publish.no_longer_publicaly_available",
        {"publish_id": publish_id, "post_id": str(post_id), "publish_type": "DIRECT_PUBLISH"},
    )
    assert st.action(publish_id, "take_down").status_code == 409  # already down

    up = st.action(publish_id, "restore")
    assert up.status_code == 200, up.text
    assert st.state(publish_id)["publicaly_available_post_id"] == [post_id]  # the same post
    event, content = st.events()[-1]
    assert event == "post.publish.publicly_available"
    assert content["post_id"] == str(post_id)
    assert st.action(publish_id, "restore").status_code == 409  # already public
    # The status never moved: visibility is not a status.
    assert st.timeline(publish_id) == [PROCESSING_UPLOAD, PUBLISH_COMPLETE]


def test_a_private_post_made_public_fires_publicly_available(
    st: Studio, media: dict[str, bytes]
) -> None:
    # ref 14.3: non-public posts fire publicly_available only if later made public.
    publish_id = st.post_video(st.token(), media["ok.mp4"], privacy="SELF_ONLY")
    st.advance(24 * 3600)
    assert "post.publish.publicly_available" not in [e for e, _ in st.events()]
    assert st.action(publish_id, "restore").status_code == 200
    ids = st.state(publish_id)["publicaly_available_post_id"]
    assert len(ids) == 1 and len(str(ids[0])) == 19
    assert st.events()[-1][0] == "post.publish.publicly_available"


def test_take_down_needs_a_public_post(st: Studio, media: dict[str, bytes]) -> None:
    token = st.token()
    processing = st.post_video(token, media["ok.mp4"], privacy="PUBLIC_TO_EVERYONE")
    assert st.action(processing, "take_down").status_code == 409
    assert st.action(processing, "restore").status_code == 409
    private = st.post_video(token, media["ok.mp4"])
    st.advance(2)
    assert st.action(private, "take_down").status_code == 409


# -- authorization removed -----------------------------------------------------------------------


def test_revoke_app_mid_processing_fails_in_flight_publishes(
    st: Studio, media: dict[str, bytes]
) -> None:
    token = st.token()
    done = st.post_video(token, media["ok.mp4"])
    st.advance(2)
    processing = st.post_video(token, media["ok.mp4"])  # bytes in, processing
    waiting = st.start_upload(token, len(media["ok.mp4"]))[0]  # no bytes yet
    pulling = st.pull_video(token, VIDEO + "ok.mp4")
    st.settle()
    bens = st.post_video(st.token(AUDITED, BEN), media["ok.mp4"], privacy="SELF_ONLY")

    response = st.action(processing, "revoke_app")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == FAILED

    # The token is revoked before the webhook is sent (ref 14.3).
    assert_envelope_error(st.status(token, processing), "access_token_invalid", 401)
    st.advance(2)
    for publish_id in (processing, waiting, pulling):
        data = st.state(publish_id)  # a fresh authorization sees the outcome
        assert (data["status"], data["fail_reason"]) == (FAILED, "auth_removed")
    assert st.state(done)["status"] == PUBLISH_COMPLETE
    assert st.state(bens)["status"] == PUBLISH_COMPLETE  # another creator is untouched

    events = st.events()
    removed = [c for e, c in events if e == "authorization.removed"]
    assert removed == [{"reason": 1}]
    failures = {c["publish_id"]: c["reason"] for c in failed_events(st)}
    assert failures == {p: "auth_removed" for p in (processing, waiting, pulling)}


def test_developer_revoke_sends_authorization_removed_with_reason_5(
    st: Studio, media: dict[str, bytes]
) -> None:
    token = st.token()
    publish_id = st.post_video(token, media["ok.mp4"])
    form = {"client_key": AUDITED, "client_secret": SECRETS[AUDITED], "token": token}
    response = st.http.post("/v2/oauth/revoke/", data=form)
    assert response.status_code == 200, response.text
    assert_envelope_error(st.status(token, publish_id), "access_token_invalid", 401)
    st.advance(2)
    data = st.state(publish_id)
    assert (data["status"], data["fail_reason"]) == (FAILED, "auth_removed")
    assert [c for e, c in st.events() if e == "authorization.removed"] == [{"reason": 5}]


# -- every fail_reason from real media ------------------------------------------------------------

VIDEO_CASES = [
    ("mpeg4.mp4", "file_format_check_failed"),
    ("vp9.mkv", "file_format_check_failed"),
    ("garbage.mp4", "file_format_check_failed"),
    ("2s.mp4", "duration_check_failed"),
    ("8s.mp4", "duration_check_failed"),  # over the creator's max, set to 5 s below
    ("20fps.mp4", "frame_rate_check_failed"),
    ("320x240.mp4", "picture_size_check_failed"),
    ("ok.mp4", None),
    ("ok.webm", None),
    ("ok.mov", None),
]


@pytest.mark.parametrize("how", ["upload", "pull"])
@pytest.mark.parametrize("name, reason", VIDEO_CASES)
def test_every_video_check_from_real_media(
    st: Studio, media: dict[str, bytes], name: str, reason: str | None, how: str
) -> None:
    st.patch_creator(ANA, max_video_post_duration_sec=5)
    token = st.token()
    if how == "upload":
        publish_id = st.post_video(token, media[name])
    else:
        publish_id = st.pull_video(token, VIDEO + name)
        st.settle()
    first = PROCESSING_UPLOAD if how == "upload" else PROCESSING_DOWNLOAD
    assert st.state(publish_id, token)["status"] == first  # checked while processing
    st.advance(2)
    data = st.state(publish_id, token)
    if reason is None:
        assert data["status"] == PUBLISH_COMPLETE, data
        assert "fail_reason" not in data
        assert failed_events(st) == []
        return
    assert (data["status"], data["fail_reason"]) == (FAILED, reason)
    assert data["publicaly_available_post_id"] == []
    assert st.timeline(publish_id) == [first, FAILED]
    assert failed_events(st) == [
        {"publish_id": publish_id, "reason": reason, "publish_type": "DIRECT_PUBLISH"}
    ]


def test_a_clip_within_the_creators_max_passes(st: Studio, media: dict[str, bytes]) -> None:
    # The 8 s clip fails only because of the creator's max (the test above lowers it to 5 s).
    st.patch_creator(ANA, max_video_post_duration_sec=8)
    publish_id = st.post_video(st.token(), media["8s.mp4"])
    st.advance(2)
    assert st.state(publish_id)["status"] == PUBLISH_COMPLETE


PHOTO_CASES = [
    (["1440p.jpg"], "picture_size_check_failed"),
    (["21mb.jpg"], "picture_size_check_failed"),
    (["ok.png"], "file_format_check_failed"),
    (["ok.jpg", "ok.png"], "file_format_check_failed"),  # one bad photo fails the post
    (["ok.jpg", "ok.webp"], None),
]


@pytest.mark.parametrize("names, reason", PHOTO_CASES)
def test_every_photo_check_from_real_media(
    st: Studio, names: list[str], reason: str | None
) -> None:
    publish_id = st.pull_photos(st.token(), [PHOTO + n for n in names])
    st.settle()
    st.advance(2)
    data = st.state(publish_id)
    if reason is None:
        assert data["status"] == PUBLISH_COMPLETE, data
        return
    assert (data["status"], data["fail_reason"]) == (FAILED, reason)
    assert st.timeline(publish_id) == [PROCESSING_DOWNLOAD, FAILED]


# -- pull failures -------------------------------------------------------------------------------


def test_a_missing_url_is_video_pull_failed_or_photo_pull_failed(st: Studio) -> None:
    token = st.token()
    video = st.pull_video(token, VIDEO + "gone.mp4")
    photos = st.pull_photos(token, [PHOTO + "ok.jpg", PHOTO + "gone.jpg"])
    st.settle()
    for publish_id, reason in ((video, "video_pull_failed"), (photos, "photo_pull_failed")):
        data = st.state(publish_id, token)
        assert (data["status"], data["fail_reason"]) == (FAILED, reason)
        assert st.timeline(publish_id) == [PROCESSING_DOWNLOAD, FAILED]
    assert {c["reason"] for c in failed_events(st)} == {"video_pull_failed", "photo_pull_failed"}


class MediaHost:
    """A loopback server the pulls really go to: /media/ok.*, /media/moved.* (302),
    /media/missing.* (404), /media/broken.mp4 (500), /media/stall.* (never answers)."""

    def __init__(self, media: dict[str, bytes]) -> None:
        self.release = threading.Event()

        def handle(request: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
            name = request.path.rsplit("/", 1)[-1]
            stem = name.split(".")[0]
            try:
                if stem == "ok":
                    answer(request, 200, media[name], Content_Type="application/octet-stream")
                elif stem == "moved":
                    answer(request, 302, Location="/media/ok." + name.split(".")[1])
                elif stem == "broken":
                    answer(request, 500)
                elif stem == "stall":
                    self.release.wait(10)
                else:
                    answer(request, 404)
            except OSError:
                pass  # the sandbox gave up on us

        self.server = LoopbackServer(handle)

    def __enter__(self) -> MediaHost:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.__exit__(*exc)

    @property
    def prefix(self) -> str:
        return f"{self.server.url}/media/"

    def paths(self) -> list[str]:
        return [path for _, path, _, _ in self.server.requests]


@pytest.fixture
def host(media: dict[str, bytes]) -> Iterator[MediaHost]:
    with MediaHost(media) as running:
        yield running


@pytest.fixture
def puller(host: MediaHost) -> Iterator[tuple[Studio, str]]:
    """A sandbox with the real fetcher (0.5 s timeout) and an app that verified the host."""
    with studio(fetcher=HttpxFetcher(timeout_seconds=0.5)) as st:
        key = st.new_app(
            "pat_pull",
            verified_url_prefixes=[host.prefix],
            allow_loopback_http_media=True,
            webhook_url=HOOK_URL,
        )
        yield st, key


@pytest.mark.parametrize(
    "name, reason",
    [
        ("ok.mp4", None),
        ("moved.mp4", "video_pull_failed"),  # ref 10.4: any 3xx fails
        ("missing.mp4", "video_pull_failed"),
        ("broken.mp4", "video_pull_failed"),
        ("stall.mp4", "video_pull_failed"),  # the download times out
    ],
)
def test_a_real_pull_from_a_loopback_server(
    host: MediaHost, puller: tuple[Studio, str], name: str, reason: str | None
) -> None:
    st, key = puller
    token = st.token(key, "pat_pull")
    publish_id = st.pull_video(token, host.prefix + name)
    st.settle()
    st.advance(2)
    data = st.state(publish_id, token)
    assert host.paths() == ["/media/" + name]  # one request; a redirect is never followed
    if reason is None:
        assert data["status"] == PUBLISH_COMPLETE, data
        assert data["downloaded_bytes"] > 0
        return
    assert (data["status"], data["fail_reason"]) == (FAILED, reason)
    assert failed_events(st, key) == [
        {"publish_id": publish_id, "reason": reason, "publish_type": "DIRECT_PUBLISH"}
    ]


@pytest.mark.parametrize(
    "names, reason",
    [
        (["ok.jpg"], None),
        (["moved.jpg"], "photo_pull_failed"),
        (["ok.jpg", "missing.jpg"], "photo_pull_failed"),
        (["stall.jpg"], "photo_pull_failed"),
    ],
)
def test_a_real_photo_pull_from_a_loopback_server(
    host: MediaHost, puller: tuple[Studio, str], names: list[str], reason: str | None
) -> None:
    st, key = puller
    token = st.token(key, "pat_pull")
    publish_id = st.pull_photos(token, [host.prefix + n for n in names])
    st.settle()
    st.advance(2)
    data = st.state(publish_id, token)
    if reason is None:
        assert data["status"] == PUBLISH_COMPLETE, data
    else:
        assert (data["status"], data["fail_reason"]) == (FAILED, reason)
    assert host.paths() == ["/media/" + n for n in names]  # a redirect is never followed


def test_a_pull_that_never_finishes_times_out_after_an_hour(media: dict[str, bytes]) -> None:
    # ref 10.4: the download times out 1 hour after it starts: video_pull_failed.
    held = HeldFetcher()
    with studio(fetcher=held) as st:
        try:
            token = st.token()
            publish_id = st.pull_video(token, VIDEO + "ok.mp4")
            st.advance(3599)
            assert st.state(publish_id)["status"] == PROCESSING_DOWNLOAD
            st.advance(1)
            data = st.state(publish_id)
            assert (data["status"], data["fail_reason"]) == (FAILED, "video_pull_failed")
        finally:
            held.release()


def test_a_pull_too_slow_for_the_hour_times_out(tmp_path: Path, media: dict[str, bytes]) -> None:
    # 5 bytes a second: the clip and the photo would each take over an hour of sandbox time.
    assert min(len(media["ok.mp4"]), len(media["ok.jpg"])) > 5 * 3600
    path = scenario_with(tmp_path, timing={"download_bytes_per_second": 5})
    with studio(path, fetcher=StaticFetcher(static_files(media))) as st:
        photos = st.pull_photos(st.token(), [PHOTO + "ok.jpg"])
        video = st.pull_video(st.token(), VIDEO + "ok.mp4")
        st.settle()
        st.advance(3599)
        assert st.state(video)["downloaded_bytes"] == 5 * 3599
        st.advance(1)
        assert outcome_of(st, photos) == (FAILED, "photo_pull_failed")
        assert outcome_of(st, video) == (FAILED, "video_pull_failed")


def test_an_unverified_url_is_never_fetched(host: MediaHost, puller: tuple[Studio, str]) -> None:
    st, key = puller
    other = host.server.url + "/elsewhere/ok.mp4"  # same host, outside the verified prefix
    response = st.post(
        "/v2/post/publish/video/init/",
        st.token(key, "pat_pull"),
        {
            "post_info": {"privacy_level": "SELF_ONLY"},
            "source_info": {"source": "PULL_FROM_URL", "video_url": other},
        },
    )
    assert_envelope_error(response, "url_ownership_unverified", 403)
    st.settle()
    assert host.paths() == []


# -- cancel --------------------------------------------------------------------------------------


@pytest.fixture
def slow(tmp_path: Path, media: dict[str, bytes]) -> Iterator[Studio]:
    """Downloads take sandbox time: 1000 bytes a second (the clip takes about 20 s)."""
    path = scenario_with(tmp_path, timing={"download_bytes_per_second": 1000})
    with studio(path, fetcher=StaticFetcher(static_files(media))) as st:
        st.patch_app(AUDITED, webhook_url=HOOK_URL)
        yield st


def test_downloaded_bytes_grow_with_the_clock(slow: Studio, media: dict[str, bytes]) -> None:
    size = len(media["ok.mp4"])
    token = slow.token()
    publish_id = slow.pull_video(token, VIDEO + "ok.mp4")
    slow.settle()  # every byte is in for real; the sandbox clock decides the progress
    seen = []
    for _ in range(4):
        seen.append(slow.state(publish_id, token)["downloaded_bytes"])
        slow.advance(5)
    assert seen == [0, 5000, 10000, 15000]
    slow.advance(size / 1000)
    data = slow.state(publish_id, token)
    assert data["downloaded_bytes"] == size
    slow.advance(2)
    assert slow.state(publish_id, token)["status"] == PUBLISH_COMPLETE


@pytest.mark.parametrize("kind", ["video", "photos"])
def test_cancel_during_a_download(slow: Studio, kind: str) -> None:
    token = slow.token()
    if kind == "video":
        publish_id = slow.pull_video(token, VIDEO + "ok.mp4")
    else:
        publish_id = slow.pull_photos(token, [PHOTO + "ok.jpg"])
    slow.settle()
    slow.advance(5)
    assert slow.state(publish_id, token)["status"] == PROCESSING_DOWNLOAD
    response = slow.cancel(token, publish_id)
    assert response.status_code == 200, response.text
    assert response.json()["error"]["code"] == "ok"
    assert set(response.json()) == {"error"}  # ref 12: only `error`
    data = slow.state(publish_id, token)
    assert (data["status"], data["fail_reason"]) == (FAILED, "publish_cancelled")
    assert failed_events(slow)[-1]["reason"] == "publish_cancelled"
    # The download would have finished by now: the publish stays cancelled.
    slow.advance(600)
    assert slow.state(publish_id)["status"] == FAILED
    assert slow.timeline(publish_id) == [PROCESSING_DOWNLOAD, FAILED]
    assert_envelope_error(slow.cancel(slow.token(), publish_id), "publish_not_cancellable", 400)


@pytest.mark.parametrize("stop", ["cancel", "revoke_app", "fail"])
def test_downloaded_bytes_stop_when_the_download_stops(slow: Studio, stop: str) -> None:
    token = slow.token()
    publish_id = slow.pull_video(token, VIDEO + "ok.mp4")
    slow.settle()
    slow.advance(5)
    if stop == "cancel":
        assert slow.cancel(token, publish_id).status_code == 200
    elif stop == "revoke_app":
        assert slow.action(publish_id, "revoke_app").status_code == 200
    else:
        assert slow.action(publish_id, "fail", fail_reason="internal").status_code == 200
    assert slow.state(publish_id)["downloaded_bytes"] == 5000
    slow.advance(600)
    data = slow.state(publish_id)
    assert data["status"] == FAILED
    assert data["downloaded_bytes"] == 5000  # nothing more came after the download stopped


def test_cancel_after_the_download_is_not_possible(slow: Studio, media: dict[str, bytes]) -> None:
    token = slow.token()
    publish_id = slow.pull_video(token, VIDEO + "ok.mp4")
    slow.settle()
    slow.advance(len(media["ok.mp4"]) / 1000 + 0.01)  # downloaded, now processing
    assert slow.state(publish_id, token)["status"] == PROCESSING_DOWNLOAD
    assert_envelope_error(slow.cancel(token, publish_id), "publish_not_cancellable", 400)
    slow.advance(2)
    assert slow.state(publish_id, token)["status"] == PUBLISH_COMPLETE
    assert_envelope_error(slow.cancel(token, publish_id), "publish_not_cancellable", 400)


def test_an_upload_cannot_be_cancelled(st: Studio, media: dict[str, bytes]) -> None:
    token = st.token()
    waiting = st.start_upload(token, len(media["ok.mp4"]))[0]
    assert_envelope_error(st.cancel(token, waiting), "publish_not_cancellable", 400)
    assert st.state(waiting, token)["status"] == PROCESSING_UPLOAD


def test_cancel_and_status_refuse_unknown_and_foreign_publishes(
    st: Studio, media: dict[str, bytes]
) -> None:
    owner = st.token()
    publish_id = st.pull_video(owner, VIDEO + "ok.mp4")
    for call in (st.status, st.cancel):
        assert_envelope_error(call(owner, publish_id + "0"), "invalid_publish_id", 400)
        assert_envelope_error(call(owner, "v_pub_url~v2.123"), "invalid_publish_id", 400)
        for stranger in (st.token(AUDITED, BEN), st.token(UNAUDITED, ANA)):
            assert_envelope_error(
                call(stranger, publish_id), "token_not_authorized_for_specified_publish_id", 400
            )
    st.settle()
    assert st.state(publish_id, owner)["status"] == PROCESSING_DOWNLOAD


# -- processing time -----------------------------------------------------------------------------


def test_processing_takes_longer_for_bigger_media(tmp_path: Path, media: dict[str, bytes]) -> None:
    st = realistic(tmp_path, media)
    try:
        token = st.token()
        small = st.post_video(token, media["ok.mp4"])
        big = st.post_video(token, media["padded.mp4"])
        done: dict[str, float] = {}
        while len(done) < 2 and st.now() < 60:
            st.advance(0.25)
            for publish_id in (small, big):
                if publish_id not in done and st.publish(publish_id)["status"] != PROCESSING_UPLOAD:
                    done[publish_id] = st.now()
        assert st.state(small)["status"] == st.state(big)["status"] == PUBLISH_COMPLETE
        assert done[big] > done[small]
        assert done[big] < 30  # ref 11: under 512 MB takes under 30 s
    finally:
        st.close()


def test_downloads_take_sandbox_time_at_100_mbps(tmp_path: Path, media: dict[str, bytes]) -> None:
    # ref 10.4: ingress "can reach 100 Mbps" (12.5 MB/s): the padded 15 MiB video takes ~1.3 s.
    st = realistic(tmp_path, media)
    try:
        publish_id = st.pull_video(st.token(), VIDEO + "padded.mp4")
        st.settle()
        st.advance(0.5)
        halfway = st.state(publish_id)["downloaded_bytes"]
        assert 0 < halfway < len(media["padded.mp4"])
        st.advance(1)
        assert st.state(publish_id)["downloaded_bytes"] == len(media["padded.mp4"])
    finally:
        st.close()


# -- injected outcomes ---------------------------------------------------------------------------


def inject(st: Studio, **rule: Any) -> dict[str, Any]:
    response = st.http.post("/_sandbox/outcomes", json=rule)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def outcome_of(st: Studio, publish_id: str) -> tuple[str, str | None]:
    data = st.state(publish_id)
    return data["status"], data.get("fail_reason")


def test_an_injected_outcome_fails_the_next_publish_only(
    st: Studio, media: dict[str, bytes]
) -> None:
    assert inject(st, fail_reason="internal") == {
        "fail_reason": "internal",
        "client_key": None,
        "creator": None,
        "count": 1,
    }
    token = st.token()
    first = st.post_video(token, media["ok.mp4"])
    assert st.http.get("/_sandbox/outcomes").json() == {"outcomes": []}  # used up
    second = st.post_video(token, media["ok.mp4"])
    st.advance(2)
    assert outcome_of(st, first) == (FAILED, "internal")  # ref 11: retryable
    assert outcome_of(st, second) == (PUBLISH_COMPLETE, None)
    assert failed_events(st) == [
        {"publish_id": first, "reason": "internal", "publish_type": "DIRECT_PUBLISH"}
    ]


def test_an_injected_outcome_with_count_null_fails_every_publish_until_deleted(
    st: Studio, media: dict[str, bytes]
) -> None:
    inject(st, fail_reason="spam_risk", count=None)
    token = st.token()
    doomed = [
        st.post_video(token, media["ok.mp4"]),
        st.pull_video(token, VIDEO + "ok.mp4"),
        st.pull_photos(token, [PHOTO + "ok.jpg"]),
    ]
    assert st.http.get("/_sandbox/outcomes").json()["outcomes"][0]["count"] is None
    assert st.http.delete("/_sandbox/outcomes").json() == {"outcomes": []}
    spared = st.post_video(token, media["ok.mp4"])
    st.settle()
    st.advance(2)
    assert [outcome_of(st, p) for p in doomed] == [(FAILED, "spam_risk")] * 3
    assert outcome_of(st, spared) == (PUBLISH_COMPLETE, None)


def test_an_injected_outcome_with_a_count(st: Studio, media: dict[str, bytes]) -> None:
    inject(st, fail_reason="spam_risk_text", count=2)
    token = st.token()
    ids = [st.post_video(token, media["ok.mp4"]) for _ in range(3)]
    st.advance(2)
    assert [outcome_of(st, p)[1] for p in ids] == ["spam_risk_text", "spam_risk_text", None]


def test_injected_outcomes_filter_by_creator_and_app(st: Studio, media: dict[str, bytes]) -> None:
    inject(st, fail_reason="internal", creator=BEN, count=None)
    inject(st, fail_reason="spam_risk", client_key=UNAUDITED, count=None)
    ana = st.post_video(st.token(AUDITED, ANA), media["ok.mp4"])
    ben = st.post_video(st.token(AUDITED, BEN), media["ok.mp4"], privacy="SELF_ONLY")
    st.advance(2)
    assert outcome_of(st, ana) == (PUBLISH_COMPLETE, None)
    assert outcome_of(st, ben) == (FAILED, "internal")
    st.http.delete("/_sandbox/outcomes")
    inject(st, fail_reason="spam_risk", client_key=UNAUDITED, count=None)
    ben_audited = st.post_video(st.token(AUDITED, BEN), media["ok.mp4"])
    ben_unaudited = st.post_video(st.token(UNAUDITED, BEN), media["ok.mp4"])
    st.advance(2)
    assert outcome_of(st, ben_audited) == (PUBLISH_COMPLETE, None)
    assert outcome_of(st, ben_unaudited) == (FAILED, "spam_risk")


def test_a_cancel_wins_over_an_injected_outcome(slow: Studio, media: dict[str, bytes]) -> None:
    inject(slow, fail_reason="internal")
    token = slow.token()
    publish_id = slow.pull_video(token, VIDEO + "ok.mp4")
    slow.settle()
    assert slow.cancel(token, publish_id).status_code == 200
    slow.advance(600)
    assert outcome_of(slow, publish_id) == (FAILED, "publish_cancelled")


def test_a_scenario_can_inject_outcomes(tmp_path: Path, media: dict[str, bytes]) -> None:
    path = scenario_with(
        tmp_path, inject_failures=[{"fail_reason": "spam_risk_text", "creator": ANA}]
    )
    with studio(path) as st:
        token = st.token()
        first = st.post_video(token, media["ok.mp4"])
        second = st.post_video(token, media["ok.mp4"])
        st.advance(2)
        assert outcome_of(st, first) == (FAILED, "spam_risk_text")
        assert outcome_of(st, second) == (PUBLISH_COMPLETE, None)


@pytest.mark.parametrize(
    "bad", [{"fail_reason": "exploded"}, {}, {"fail_reason": "internal", "count": 0}]
)
def test_an_outcome_must_name_a_documented_fail_reason(st: Studio, bad: dict[str, Any]) -> None:
    response = st.http.post("/_sandbox/outcomes", json=bad)
    assert response.status_code == 400, response.text
    assert st.http.get("/_sandbox/outcomes").json() == {"outcomes": []}


@pytest.mark.parametrize("reason", FAIL_REASONS)
def test_the_fail_action_takes_every_documented_fail_reason(
    st: Studio, media: dict[str, bytes], reason: str
) -> None:
    token = st.token()
    publish_id = st.post_video(token, media["ok.mp4"])
    response = st.action(publish_id, "fail", fail_reason=reason)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["fail_reason"]) == (FAILED, reason)
    st.advance(2)  # processing would have finished: the failure stands
    assert outcome_of(st, publish_id) == (FAILED, reason)
    assert failed_events(st) == [
        {"publish_id": publish_id, "reason": reason, "publish_type": "DIRECT_PUBLISH"}
    ]


def test_the_fail_action_refuses_unknown_reasons_and_final_publishes(
    st: Studio, media: dict[str, bytes]
) -> None:
    publish_id = st.post_video(st.token(), media["ok.mp4"])
    assert st.action(publish_id, "fail", fail_reason="exploded").status_code == 400
    assert st.action(publish_id, "fail").status_code == 400
    assert st.action(publish_id, "explode").status_code == 400
    assert (
        st.http.post("/_sandbox/publishes/nope/actions", json={"action": "fail"}).status_code == 404
    )
    st.advance(2)
    assert st.action(publish_id, "fail", fail_reason="internal").status_code == 409
    assert outcome_of(st, publish_id) == (PUBLISH_COMPLETE, None)


# -- the timeline and the order of statuses ------------------------------------------------------


def test_the_timeline_is_stamped_by_the_sandbox_clock(
    tmp_path: Path, media: dict[str, bytes]
) -> None:
    path = scenario_with(tmp_path, timing={"processing_base_seconds": 42, "moderation_seconds": 7})
    with studio(path) as st:
        st.advance(100)
        token = st.token()
        publish_id, url = st.start_upload(token, len(media["ok.mp4"]), privacy="PUBLIC_TO_EVERYONE")
        st.advance(50)
        clip = media["ok.mp4"]
        assert st.put(url, clip, 0, len(clip) - 1, len(clip)).status_code == 201
        st.advance(41)
        assert st.state(publish_id, token)["status"] == PROCESSING_UPLOAD
        st.advance(1)
        assert st.state(publish_id, token)["status"] == PUBLISH_COMPLETE
        st.advance(6)
        assert st.state(publish_id, token)["publicaly_available_post_id"] == []
        st.advance(1)
        assert len(st.state(publish_id, token)["publicaly_available_post_id"]) == 1
        view = st.publish(publish_id)
        assert view["created_at"] == instant(100)
        assert view["timeline"] == [
            {"status": PROCESSING_UPLOAD, "at": instant(100)},
            {"status": PUBLISH_COMPLETE, "at": instant(192)},
        ]
        assert view["upload_expires_at"] == instant(3700)


def test_get_publish_of_an_unknown_id_is_404(st: Studio) -> None:
    response = st.http.get("/_sandbox/publishes/v_pub_file~v2-1.1")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_transition_table_stays_within_the_reference() -> None:
    table_moves = {(a, b) for moves in TRANSITIONS.values() for a, b in moves.items()}
    assert table_moves <= REFERENCE_MOVES


def test_status_only_moves_forward(st: Studio, media: dict[str, bytes]) -> None:
    token = st.token()
    flows = {
        "direct upload": st.post_video(token, media["ok.mp4"], privacy="PUBLIC_TO_EVERYONE"),
        "direct pull": st.pull_video(token, VIDEO + "ok.mp4"),
        "bad media": st.post_video(token, media["2s.mp4"]),
        "inbox upload": st.post_video(st.token(), media["ok.mp4"], inbox=True),
        "inbox pull": st.pull_video(st.token(), VIDEO + "ok.mp4", inbox=True),
        "pull 404": st.pull_video(st.token(), VIDEO + "gone.mp4"),
        "waiting upload": st.start_upload(st.token(), 1000)[0],
    }
    st.settle()
    st.advance(2)
    st.action(flows["inbox upload"], "post_draft")
    st.action(flows["inbox pull"], "fail", fail_reason="internal")
    st.action(flows["waiting upload"], "fail", fail_reason="internal")
    st.advance(5)
    st.action(flows["direct upload"], "take_down")
    st.action(flows["direct upload"], "restore")
    final = {name: st.publish(p)["status"] for name, p in flows.items()}
    assert final == {
        "direct upload": PUBLISH_COMPLETE,
        "direct pull": PUBLISH_COMPLETE,
        "bad media": FAILED,
        "inbox upload": PUBLISH_COMPLETE,
        "inbox pull": FAILED,
        "pull 404": FAILED,
        "waiting upload": FAILED,
    }
    for name, publish_id in flows.items():
        assert_moves_follow_the_reference(st, publish_id)
        before = st.publish(publish_id)["timeline"]
        # A final status is final: no action moves it, and time does not either.
        assert st.action(publish_id, "post_draft").status_code == 409
        assert st.action(publish_id, "fail", fail_reason="internal").status_code == 409
        st.action(publish_id, "revoke_app")
        st.advance(3600)
        after = st.publish(publish_id)
        assert (after["status"], after["timeline"]) == (final[name], before), name


def test_webhook_bodies_name_the_publish(st: Studio, media: dict[str, bytes]) -> None:
    # Every publish event carries its publish_id and a publish_type; the envelope's content
    # is a JSON string (ref 14.2).
    publish_id = st.post_video(st.token(), media["ok.mp4"], privacy="PUBLIC_TO_EVERYONE")
    st.advance(5)
    for delivery in st.deliveries():
        envelope = json.loads(delivery["body"])
        assert isinstance(envelope["content"], str)
        assert json.loads(envelope["content"])["publish_id"] == publish_id


# -- an upload that never completes ends (issue 10: nothing stays PROCESSING_UPLOAD forever) --


def test_an_upload_not_complete_when_its_url_expires_fails(st: Studio) -> None:
    token = st.token()
    untouched, _ = st.start_upload(token, 1000)
    partial, url = st.start_upload(token, 2 * CHUNK + 10)
    assert st.put(url, bytes(CHUNK), 0, CHUNK - 1, 2 * CHUNK + 10).status_code == 206
    spooled = list(st.sandbox.state.spool.root.iterdir())
    st.advance(3600 - 1)
    assert st.publish(untouched)["status"] == "PROCESSING_UPLOAD"
    st.advance(1)  # the upload_url's hour is over: no byte can arrive any more
    for publish_id in (untouched, partial):
        state = st.publish(publish_id)
        assert (state["status"], state["fail_reason"]) == ("FAILED", "file_format_check_failed")
        assert st.state(publish_id, token)["status"] == "FAILED"
    failed = [c for e, c in st.events() if e == "post.publish.failed"]
    assert {c["publish_id"] for c in failed} == {untouched, partial}
    assert {c["reason"] for c in failed} == {"file_format_check_failed"}
    assert len(spooled) > len(list(st.sandbox.state.spool.root.iterdir()))  # bytes dropped


def test_a_complete_upload_is_not_failed_by_its_urls_expiry(
    st: Studio, media: dict[str, bytes]
) -> None:
    token = st.token()
    publish_id, url = st.start_upload(token, len(media["ok.mp4"]))
    assert st.upload(url, media["ok.mp4"])[-1].status_code == 201
    st.advance(3601)
    assert st.publish(publish_id)["status"] == "PUBLISH_COMPLETE"
