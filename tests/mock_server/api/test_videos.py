"""`POST /v2/video/list/` and `POST /v2/video/query/` over HTTP (ref 5.1, 4.3): the videos the
sandbox published, with the probed facts and a cover frame under an expiring URL."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from conformance.media import make_image, make_video
from mock_server.runtime.fetcher import StaticFetcher
from tests.mock_server.api.test_posting import expect_error, expect_ok
from tests.mock_server.lifecycle_kit import ACME_MEDIA, ANA, AUDITED, VIDEO_INIT, Studio, plan

LIST = "/v2/video/list/"
QUERY = "/v2/video/query/"
ALL_FIELDS = (
    "id,create_time,cover_image_url,share_url,video_description,duration,height,width,title,"
    "embed_html,embed_link,like_count,comment_count,share_count,view_count"
)
SCOPES = ["user.info.basic", "video.list", "video.publish", "video.upload"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("display-media")
    return {
        "wide.mp4": make_video(d / "wide.mp4", seconds=4.4, width=640, height=360).read_bytes(),
        "tall.mp4": make_video(d / "tall.mp4", seconds=6.6, width=360, height=640).read_bytes(),
        "pic.jpg": make_image(d / "pic.jpg", fmt="JPEG", width=1080, height=1920).read_bytes(),
    }


@pytest.fixture
def st(clips: dict[str, bytes]) -> Iterator[Studio]:
    files = {ACME_MEDIA + name: data for name, data in clips.items()}
    studio = Studio(fetcher=StaticFetcher(files))
    try:
        yield studio
    finally:
        studio.close()


def token(st: Studio, username: str = ANA, scopes: list[str] = SCOPES) -> str:
    return str(st.sandbox.issue_tokens(AUDITED, username, scopes)["access_token"])


def call(
    st: Studio, path: str, access_token: str, body: Any, fields: str | None = ALL_FIELDS
) -> httpx.Response:
    params = {} if fields is None else {"fields": fields}
    headers = {"Authorization": f"Bearer {access_token}"}
    return st.http.post(path, params=params, headers=headers, json=body)


def post_public(
    st: Studio, access_token: str, data: bytes, title: str = "hello #sandbox", **info: Any
) -> str:
    """A Direct Post to everyone, uploaded whole and left to process and pass moderation;
    returns the post id."""
    post_info = {"privacy_level": "PUBLIC_TO_EVERYONE", "title": title, **info}
    source = {
        "source": "FILE_UPLOAD",
        "video_size": len(data),
        "chunk_size": len(data),
        "total_chunk_count": 1,
    }
    init = st.post(VIDEO_INIT, access_token, {"post_info": post_info, "source_info": source})
    url = expect_ok(init)["upload_url"]
    assert st.put(url, data, 0, len(data) - 1, len(data)).status_code == 201
    publish_id = expect_ok(init)["publish_id"]
    st.advance(2)  # processing (1 s) and moderation (1 s) of the fast profile
    post_ids = st.state(publish_id)["publicaly_available_post_id"]
    assert len(post_ids) == 1, st.state(publish_id)
    return str(post_ids[0])


def videos(response: httpx.Response) -> list[dict[str, Any]]:
    data = expect_ok(response)
    assert set(data) == {"videos", "cursor", "has_more"}
    found: list[dict[str, Any]] = data["videos"]
    return found


# -- list ---------------------------------------------------------------------------------------


def test_a_creator_without_posts_has_an_empty_list(st: Studio) -> None:
    data = expect_ok(call(st, LIST, token(st), {}))
    assert data == {"videos": [], "cursor": 0, "has_more": False}


def test_a_published_video_is_listed_with_its_probed_facts(
    st: Studio, clips: dict[str, bytes]
) -> None:
    access = token(st)
    video_id = post_public(st, access, clips["tall.mp4"], title="tall one #vertical")
    (video,) = videos(call(st, LIST, access, {}))
    assert list(video) == ALL_FIELDS.split(",")
    assert video["id"] == video_id
    assert (video["width"], video["height"], video["duration"]) == (360, 640, 7)  # 6.6 s
    assert video["create_time"] == int(st.sandbox.clock.now()) - 1  # posted, then moderated
    assert video["title"] == video["video_description"] == "tall one #vertical"
    assert video["share_url"] == (
        f"https://www.tiktok.com/@{ANA}/video/{video_id}"
        f"?utm_campaign=tt4d_open_api&utm_source={AUDITED}"
    )
    assert video["embed_link"].startswith(f"https://www.tiktok.com/player/v1/{video_id}?")
    assert f'data-video-id="{video_id}"' in video["embed_html"]
    assert "tall one #vertical" in video["embed_html"]
    counts = ("like_count", "comment_count", "share_count", "view_count")
    assert [video[c] for c in counts] == [0, 0, 0, 0]


def test_only_public_videos_appear(st: Studio, clips: dict[str, bytes]) -> None:
    access = token(st)
    private = st.post_video(access, clips["wide.mp4"], privacy="SELF_ONLY")
    st.advance(5)
    assert st.state(private)["status"] == "PUBLISH_COMPLETE"
    assert videos(call(st, LIST, access, {})) == []
    # A public post is listed once moderation passes, and not after a take-down.
    publish_id, url = st.start_upload(access, len(clips["wide.mp4"]), privacy="PUBLIC_TO_EVERYONE")
    st.upload(url, clips["wide.mp4"])
    st.advance(1)
    assert st.state(publish_id)["status"] == "PUBLISH_COMPLETE"
    assert videos(call(st, LIST, access, {})) == []  # still in moderation
    st.advance(1)
    assert len(videos(call(st, LIST, access, {}))) == 1
    assert st.action(publish_id, "take_down").status_code == 200
    assert videos(call(st, LIST, access, {})) == []


def test_photo_posts_are_not_listed(st: Studio) -> None:
    access = token(st)
    publish_id = st.pull_photos(access, [ACME_MEDIA + "pic.jpg"], privacy="PUBLIC_TO_EVERYONE")
    st.settle()
    st.advance(5)
    assert st.state(publish_id)["publicaly_available_post_id"]  # a public photo post
    assert videos(call(st, LIST, access, {})) == []


def test_pulled_videos_are_listed_too(st: Studio) -> None:
    access = token(st)
    body = {
        "post_info": {"privacy_level": "PUBLIC_TO_EVERYONE", "title": "pulled"},
        "source_info": {"source": "PULL_FROM_URL", "video_url": ACME_MEDIA + "wide.mp4"},
    }
    publish_id = expect_ok(st.post(VIDEO_INIT, access, body))["publish_id"]
    st.settle()
    st.advance(3)
    assert st.state(publish_id)["publicaly_available_post_id"]
    (video,) = videos(call(st, LIST, access, {}, fields="id,width,height,duration,title"))
    assert video == {
        "id": str(st.state(publish_id)["publicaly_available_post_id"][0]),
        "width": 640,
        "height": 360,
        "duration": 4,
        "title": "pulled",
    }


def test_newest_first_and_the_cursor_pages_through_all(st: Studio, clips: dict[str, bytes]) -> None:
    access = token(st)
    posted = []
    for n in range(5):
        posted.append(post_public(st, access, clips["wide.mp4"], title=f"clip {n}"))
        if n == 2:
            continue  # two posts in the same second on the frozen clock
        st.advance(10)
    seen: list[str] = []
    cursor = None
    while True:
        body = {"max_count": 2} | ({} if cursor is None else {"cursor": cursor})
        data = expect_ok(call(st, LIST, access, body, fields="id,create_time"))
        assert len(data["videos"]) <= 2
        seen += [v["id"] for v in data["videos"]]
        times = [v["create_time"] for v in data["videos"]]
        assert times == sorted(times, reverse=True)
        if not data["has_more"]:
            break
        cursor = data["cursor"]
    assert seen == list(reversed(posted))
    # A cursor is a timestamp: one from before every post finds nothing.
    first = expect_ok(call(st, LIST, access, {}, fields="create_time"))["videos"][-1]
    early = (first["create_time"] - 60) * 1000
    assert videos(call(st, LIST, access, {"cursor": early})) == []


def test_max_count_defaults_to_10(st: Studio, clips: dict[str, bytes]) -> None:
    for n in range(12):
        post_public(st, token(st), clips["wide.mp4"], title=str(n))  # 6 inits a minute a token
    access = token(st)
    data = expect_ok(call(st, LIST, access, {}, fields="id"))
    assert (len(data["videos"]), data["has_more"]) == (10, True)
    assert len(videos(call(st, LIST, access, {"max_count": 20}, fields="id"))) == 12


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ({"max_count": 0}, "max_count"),
        ({"max_count": 21}, "max_count"),
        ({"max_count": -1}, "max_count"),
        ({"max_count": "10"}, "max_count"),
        ({"max_count": 2**31}, "max_count"),
        ({"cursor": -5}, "cursor"),
        ({"cursor": "1643332803000"}, "cursor"),
        ({"cursor": 1.5}, "cursor"),
    ],
)
def test_bad_list_bodies_are_invalid_params(st: Studio, body: dict[str, Any], word: str) -> None:
    expect_error(call(st, LIST, token(st), body), "invalid_params", 400, word)


def test_fields_are_required_and_unknown_ones_left_out(st: Studio, clips: dict[str, bytes]) -> None:
    access = token(st)
    post_public(st, access, clips["wide.mp4"])
    expect_error(call(st, LIST, access, {}, fields=None), "invalid_params", 400, "Fields")
    expect_error(call(st, QUERY, access, {}, fields=""), "invalid_params", 400, "Fields")
    # TikTok's own query example asks for `fps`, which the Video Object has not.
    (video,) = videos(call(st, LIST, access, {}, fields="id,title,fps"))
    assert set(video) == {"id", "title"}


def test_the_video_list_scope_is_required(st: Studio) -> None:
    access = token(st, scopes=["user.info.basic", "video.publish"])
    for path in (LIST, QUERY):
        body = expect_error(call(st, path, access, {}), "scope_not_authorized", 401)
        assert "(video.list)" in body["error"]["message"]


def test_600_requests_a_minute_per_token(st: Studio) -> None:
    """ref 4.3: 600 a minute for each of the video endpoints, on a sliding window."""
    access = token(st)
    for _ in range(600):
        assert call(st, LIST, access, {}, fields="id").status_code == 200
    expect_error(call(st, LIST, access, {}, fields="id"), "rate_limit_exceeded", 429)
    body = {"filters": {"video_ids": ["1"]}}
    assert call(st, QUERY, access, body, fields="id").status_code == 200  # its own window
    st.advance(60)
    assert call(st, LIST, access, {}, fields="id").status_code == 200


# -- query --------------------------------------------------------------------------------------


def test_query_answers_the_creators_own_public_videos_in_the_order_asked(
    st: Studio, clips: dict[str, bytes]
) -> None:
    ana = token(st)
    first = post_public(st, ana, clips["wide.mp4"], title="one")
    second = post_public(st, ana, clips["tall.mp4"], title="two")
    st.patch_creator("cora.cooks", account="public")
    cora = str(st.sandbox.issue_tokens(AUDITED, "cora.cooks", SCOPES)["access_token"])
    others = post_public(st, cora, clips["wide.mp4"], title="cora's")
    ids = [second, "7000000000000000000", others, first, second]
    body = {"filters": {"video_ids": ids}}
    found = videos(call(st, QUERY, ana, body, fields="id,title"))
    assert found == [{"id": second, "title": "two"}, {"id": first, "title": "one"}]
    assert [v["id"] for v in videos(call(st, QUERY, cora, body, fields="id"))] == [others]


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ({}, "filters"),
        ({"filters": {}}, "video_ids"),
        ({"filters": {"video_ids": []}}, "video_ids"),
        ({"filters": {"video_ids": [str(n) for n in range(21)]}}, "video_ids"),
        ({"filters": {"video_ids": [7123456789012345678]}}, "video_ids"),
        ({"filters": "7123456789012345678"}, "filters"),
    ],
)
def test_bad_query_bodies_are_invalid_params(st: Studio, body: dict[str, Any], word: str) -> None:
    expect_error(call(st, QUERY, token(st), body), "invalid_params", 400, word)


# -- covers -------------------------------------------------------------------------------------


def image_of(response: httpx.Response) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    return Image.open(io.BytesIO(response.content))


def test_the_cover_is_a_frame_of_the_video_served_until_its_url_expires(
    st: Studio, clips: dict[str, bytes]
) -> None:
    access = token(st)
    video_id = post_public(st, access, clips["tall.mp4"])
    (video,) = videos(call(st, LIST, access, {}, fields="cover_image_url"))
    url = httpx.URL(video["cover_image_url"])
    assert url.path == f"/_sandbox/covers/{video_id}.jpeg"
    expires = int(url.params["x-expires"])
    assert expires == int(st.sandbox.clock.now()) + 6 * 3600  # the Video Object's 6 h TTL
    cover = image_of(st.http.get(url))
    assert cover.height == 360 and abs(cover.width - 202.5) <= 0.5  # 360 x 640, scaled down
    st.advance(6 * 3600 - 1)
    image_of(st.http.get(url))
    st.advance(1)
    assert st.http.get(url).status_code == 403
    # ref 5.1: query "can be used to refresh the given videos' cover image URL TTL".
    body = {"filters": {"video_ids": [video_id]}}
    (fresh,) = videos(call(st, QUERY, token(st), body, fields="cover_image_url"))
    image_of(st.http.get(fresh["cover_image_url"]))
    # Without its signature, or with another video's, a cover is refused.
    assert st.http.get(f"/_sandbox/covers/{video_id}.jpeg").status_code == 403
    forged = httpx.URL(fresh["cover_image_url"]).copy_with(path="/_sandbox/covers/1.jpeg")
    assert st.http.get(forged).status_code == 403


def test_video_cover_timestamp_ms_picks_the_frame(st: Studio, clips: dict[str, bytes]) -> None:
    access = token(st)
    first = post_public(st, access, clips["wide.mp4"], title="first frame")
    later = post_public(
        st, access, clips["wide.mp4"], title="at 3 s", video_cover_timestamp_ms=3000
    )
    past_the_end = post_public(
        st, access, clips["wide.mp4"], title="too far", video_cover_timestamp_ms=99_000
    )
    body = {"filters": {"video_ids": [first, later, past_the_end]}}
    urls = [v["cover_image_url"] for v in videos(call(st, QUERY, access, body))]
    pixels = [image_of(st.http.get(u)).convert("RGB").getpixel((10, 10)) for u in urls]
    assert pixels[0] != pixels[1]  # the clip's gradient slides: 3 s in is another picture
    assert pixels[2] == pixels[0]  # ref 7.1: an invalid timestamp means the first frame


def test_covers_are_public_images_outside_the_control_guard(
    st: Studio, clips: dict[str, bytes]
) -> None:
    access = token(st)
    post_public(st, access, clips["wide.mp4"])
    (video,) = videos(call(st, LIST, access, {}, fields="cover_image_url"))
    url = httpx.URL(video["cover_image_url"])
    answer = st.http.get(url, headers={"Host": "cdn.example", "Sec-Fetch-Site": "cross-site"})
    image_of(answer)
    assert (
        st.http.get("/_sandbox/journal", params={"path": "/_sandbox/covers/"}).json()["entries"]
        == []
    )


def test_reset_forgets_covers(st: Studio, clips: dict[str, bytes]) -> None:
    post_public(st, token(st), clips["wide.mp4"])
    assert len(st.sandbox.state.covers) == 1
    st.sandbox.reset()
    assert len(st.sandbox.state.covers) == 0


# -- the creator indexes (domain.world) -------------------------------------------------------


def test_a_forgotten_video_leaves_the_list_the_query_and_its_cover(
    st: Studio, clips: dict[str, bytes]
) -> None:
    access = token(st)
    gone = post_public(st, access, clips["wide.mp4"], title="first")
    kept = post_public(st, access, clips["wide.mp4"], title="second")
    (_, old) = videos(call(st, LIST, access, {}, fields="id,cover_image_url"))
    assert old["id"] == gone
    world = st.sandbox.state.world
    world.max_publishes = len(world.publishes)  # the next init forgets the first final one
    st.init(access, plan(1000))
    assert [v["id"] for v in videos(call(st, LIST, access, {}, fields="id"))] == [kept]
    body = {"filters": {"video_ids": [gone, kept]}}
    assert [v["id"] for v in videos(call(st, QUERY, access, body, fields="id"))] == [kept]
    assert st.http.get(old["cover_image_url"]).status_code in (403, 404)
    assert gone not in world.by_post_id


def test_videos_are_listed_and_covered_after_a_data_directory_restart(
    clips: dict[str, bytes], tmp_path: Path
) -> None:
    files = {ACME_MEDIA + name: data for name, data in clips.items()}
    studio = Studio(fetcher=StaticFetcher(files), data_dir=tmp_path / "data")
    access = token(studio)
    video_id = post_public(studio, access, clips["tall.mp4"])
    before = videos(call(studio, LIST, access, {}))
    studio.close()
    again = Studio(fetcher=StaticFetcher(files), data_dir=tmp_path / "data")
    try:
        after = videos(call(again, LIST, access, {}))
        # The same video and facts; its cover URL is signed again on the (caller's) clock.
        assert [{**v, "cover_image_url": None} for v in after] == [
            {**v, "cover_image_url": None} for v in before
        ]
        assert after[0]["id"] == video_id
        image_of(again.http.get(after[0]["cover_image_url"]))
        body = {"filters": {"video_ids": [video_id]}}
        assert [v["id"] for v in videos(call(again, QUERY, access, body, fields="id"))] == [
            video_id
        ]
    finally:
        again.close()
