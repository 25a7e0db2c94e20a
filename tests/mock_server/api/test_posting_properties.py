"""Properties of the posting endpoints over HTTP (issue 3): privacy options, chunk plans, the
post caps across random interleavings, and arbitrary JSON bodies (ref 4, 6-12, 15)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tests.mock_server.api.conftest import (
    AUDITED,
    CANCEL_PATH,
    CONTENT_INIT_PATH,
    CREATOR_INFO_PATH,
    INBOX_INIT_PATH,
    LOG_ID,
    LOOPBACK_MEDIA,
    STATUS_PATH,
    VIDEO_INIT_PATH,
    Posting,
)

DAY = 24 * 3600
MIB = 1_048_576  # ref 10.1: "MB" is binary
MAX_VIDEO = 4 * 1024 * MIB  # ref 13: 4 GB
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
OPTIONS = {  # ref 6
    "public": {"PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"},
    "private": {"FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"},
}
UNAUDITED_CAP = 5  # ref 15.1
ALL_PATHS = (
    CREATOR_INFO_PATH,
    VIDEO_INIT_PATH,
    INBOX_INIT_PATH,
    CONTENT_INIT_PATH,
    STATUS_PATH,
    CANCEL_PATH,
)

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def module_posting() -> Iterator[Posting]:
    with Posting() as posting:
        yield posting


privacy_sandbox = pytest.fixture(scope="module")(module_posting)
chunk_sandbox = pytest.fixture(scope="module")(module_posting)
fuzz_sandbox = pytest.fixture(scope="module")(module_posting)


def envelope(response: httpx.Response) -> dict[str, Any]:
    """ref 4.1: never a 5xx; `{data, error}` (cancel's success: `{error}` only)."""
    assert response.status_code < 500, response.text
    body: dict[str, Any] = response.json()
    assert "error" in body and set(body) <= {"data", "error"}
    error = body["error"]
    assert set(error) == {"code", "message", "log_id"}
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    assert len(error["log_id"]) == 34 and LOG_ID.match(error["log_id"])
    if error["code"] == "ok":
        assert response.status_code == 200 and error["message"] == ""
    else:
        assert body["data"] == {}
        assert error["message"]
    return body


# -- (a) a privacy level outside the creator's current options is never accepted -----------

NOT_A_LEVEL = st.one_of(
    st.sampled_from(PRIVACY_LEVELS),
    st.text(max_size=40),
    st.sampled_from(["self_only", " SELF_ONLY", "SELF_ONLY ", "PUBLIC", "EVERYONE", ""]),
    st.none(),
    st.integers(),
    st.booleans(),
    st.lists(st.sampled_from(PRIVACY_LEVELS), max_size=2),
    st.dictionaries(st.text(max_size=5), st.sampled_from(PRIVACY_LEVELS), max_size=1),
)


def privacy_request(p: Posting, token: str, kind: str, level: Any) -> httpx.Response:
    post_info = {} if level is None else {"privacy_level": level}
    if kind == "video":
        body: dict[str, Any] = {
            "post_info": post_info,
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": 50_000_123,
                "chunk_size": 10_000_000,
                "total_chunk_count": 5,
            },
        }
        return p.call(VIDEO_INIT_PATH, token, body)
    body = {
        "media_type": "PHOTO",
        "post_mode": "DIRECT_POST",
        "post_info": post_info,
        "source_info": {
            "source": "PULL_FROM_URL",
            "photo_images": [LOOPBACK_MEDIA + "p.jpg"],
            "photo_cover_index": 0,
        },
    }
    return p.call(CONTENT_INIT_PATH, token, body)


@SETTINGS
@given(
    account=st.sampled_from(["public", "private"]),
    kind=st.sampled_from(["video", "photo"]),
    data=st.data(),
)
def test_a_privacy_level_outside_the_options_is_refused(
    privacy_sandbox: Posting, account: str, kind: str, data: st.DataObject
) -> None:
    p = privacy_sandbox
    p.patch_creator("eli.long", account=account, daily_post_cap=10**9)
    options = OPTIONS[account]
    level = data.draw(NOT_A_LEVEL.filter(lambda v: not (isinstance(v, str) and v in options)))
    token = p.token(AUDITED, "eli.long")  # a fresh token: its own rate-limit budget
    before = len(p.publishes(AUDITED))
    response = privacy_request(p, token, kind, level)
    body = envelope(response)
    assert (response.status_code, body["error"]["code"]) in {
        (403, "privacy_level_option_mismatch"),
        (400, "invalid_params"),
    }
    assert len(p.publishes(AUDITED)) == before
    # the same request with one of the options goes through: privacy was the only problem
    allowed = data.draw(st.sampled_from(sorted(options)))
    accepted = privacy_request(p, token, kind, allowed)
    assert envelope(accepted)["error"]["code"] == "ok"


# -- (b) valid chunk plans are accepted; broken ones are refused, naming the rule ------------


@st.composite
def valid_plans(draw: st.DrawFn) -> tuple[int, int, int]:
    """ref 10.1: under 5 MB whole; otherwise chunks of 5-64 MB, count = floor(size / chunk),
    and a video over 64 MB in at least two chunks."""
    size = draw(
        st.one_of(
            st.integers(1, MAX_VIDEO),
            st.sampled_from([1, 5 * MIB - 1, 5 * MIB, 64 * MIB, 64 * MIB + 1, MAX_VIDEO]),
        )
    )
    if size < 5 * MIB:
        return size, size, 1
    largest = min(64 * MIB, size if size <= 64 * MIB else size // 2)
    chunk = draw(
        st.one_of(
            st.integers(5 * MIB, largest),
            st.sampled_from([5 * MIB, largest]),
        )
    )
    return size, chunk, size // chunk


def broken_rules(size: int, chunk: int, count: int) -> list[str]:
    """The reference's rules (ref 10.1, 13) a plan breaks, each as a pattern its message may
    name. Written from the reference, not from the emulator."""
    broken = []
    if size > MAX_VIDEO:
        broken.append(r"video.size.*4 GB")
    if not 1 <= count <= 1000:
        broken.append(r"total.chunk.count")
    if size < 5 * MIB:
        if chunk != size or count != 1:
            broken.append(r"chunk.size.*(5 MB|whole)|whole")
    else:
        if chunk < 5 * MIB:
            broken.append(r"chunk.size.*5 MB")
        if chunk > 64 * MIB:
            broken.append(r"chunk.size.*64 MB")
        if chunk > size:
            broken.append(r"chunk.size")
        if count != size // chunk:
            broken.append(r"total.chunk.count|floor")
        if size > 64 * MIB and count < 2:
            broken.append(r"total.chunk.count.*chunks")
    return broken


@st.composite
def broken_plans(draw: st.DrawFn) -> tuple[int, int, int]:
    size, chunk, count = draw(valid_plans())
    how = draw(st.sampled_from(["count", "small_chunk", "large_chunk", "not_whole", "too_big"]))
    if how == "count":
        count += draw(st.integers(-2000, 2000).filter(lambda d: d != 0))
    elif how == "small_chunk" and size > 5 * MIB:
        chunk = draw(st.integers(1, 5 * MIB - 1))
        count = draw(st.sampled_from([size // chunk, max(1, min(1000, size // chunk))]))
    elif how == "large_chunk":
        chunk = draw(st.integers(64 * MIB + 1, 2 * MAX_VIDEO))
        count = max(1, size // chunk)
    elif how == "not_whole" and 1 < size < 5 * MIB:
        chunk = draw(st.integers(1, 5 * MIB).filter(lambda c: c != size))
        count = draw(st.sampled_from([1, size // chunk]))
    else:
        size = draw(st.integers(MAX_VIDEO + 1, 2**40))
        chunk = 64 * MIB
        count = size // chunk
    return size, chunk, count


def init_file(p: Posting, size: int, chunk: int, count: int) -> httpx.Response:
    token = p.token(AUDITED, "cora.cooks")  # a fresh token: its own rate-limit budget
    source = {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": chunk,
        "total_chunk_count": count,
    }
    return p.video_init(token, "SELF_ONLY", source)


@SETTINGS
@given(plan=valid_plans())
def test_any_valid_chunk_plan_is_accepted(
    chunk_sandbox: Posting, plan: tuple[int, int, int]
) -> None:
    p = chunk_sandbox
    p.patch_creator("cora.cooks", daily_post_cap=10**9)
    assert broken_rules(*plan) == []
    response = init_file(p, *plan)
    data = envelope(response)["data"]
    assert response.status_code == 200, response.text
    assert data["publish_id"].startswith("v_pub_file~v2-1.")
    publish = p.publish(data["publish_id"])
    assert (publish["video_size"], publish["chunk_size"], publish["total_chunk_count"]) == plan


@SETTINGS
@given(plan=broken_plans())
def test_any_broken_chunk_plan_is_refused_naming_the_rule(
    chunk_sandbox: Posting, plan: tuple[int, int, int]
) -> None:
    p = chunk_sandbox
    broken = broken_rules(*plan)
    assert broken, f"{plan} breaks no rule"
    response = init_file(p, *plan)
    body = envelope(response)
    assert (response.status_code, body["error"]["code"]) == (400, "invalid_params")
    message = body["error"]["message"]
    assert any(re.search(pattern, message, re.IGNORECASE) for pattern in broken), (
        message,
        broken,
    )


# -- (c) the post counters never admit more than the cap -------------------------------------


class PostCaps(RuleBasedStateMachine):
    """Random Direct Posts by 7 private creators through an unaudited app (5 creators a day),
    another one whose cap is 2 and an audited one whose cap is 3 (both by PATCH), small
    per-creator daily caps (PATCH), and clock advances. The model predicts every answer and
    checks every rolling 24 h window."""

    CREATORS = 7
    MAX_DAILY_CAP = 4  # the highest daily_post_cap this machine ever sets

    def __init__(self) -> None:
        super().__init__()
        self.p = Posting()
        creators = [
            {"account": "private", "daily_post_cap": 2 + i % 3} for i in range(self.CREATORS)
        ]
        media = {"allow_loopback_http_media": True, "verified_url_prefixes": [LOOPBACK_MEDIA]}
        unaudited, self.names = self.p.new_app(creators, stage="unaudited", **media)
        small, _ = self.p.new_app([], stage="unaudited", **media)
        self.p.patch_app(small, active_creator_cap=2)
        audited, _ = self.p.new_app([], stage="audited", **media)
        self.p.patch_app(audited, active_creator_cap=3)
        self.apps = [(unaudited, UNAUDITED_CAP), (small, 2), (audited, 3)]
        self.caps = {name: 2 + i % 3 for i, name in enumerate(self.names)}
        self.now = 0.0
        self.posts: list[tuple[str, str, float]] = []  # (client_key, username, at)

    def teardown(self) -> None:
        self.p.close()

    def in_window(self, at: float, end: float) -> bool:
        return end - DAY < at <= end

    def creator_posts(self, name: str, end: float) -> int:
        return sum(1 for _, who, at in self.posts if who == name and self.in_window(at, end))

    def active(self, key: str, end: float) -> set[str]:
        return {who for app, who, at in self.posts if app == key and self.in_window(at, end)}

    @rule(app=st.integers(0, 2), creator=st.integers(0, CREATORS - 1))
    def post_video(self, app: int, creator: int) -> None:
        self.post(app, creator, "video")

    @rule(creator=st.integers(0, CREATORS - 1), photo=st.booleans())
    def post_to_the_5_creator_app(self, creator: int, photo: bool) -> None:
        self.post(0, creator, "photo" if photo else "video")

    @rule(app=st.integers(0, 2), creator=st.integers(0, CREATORS - 1))
    def post_photo(self, app: int, creator: int) -> None:
        self.post(app, creator, "photo")

    def post(self, app: int, creator: int, kind: str) -> None:
        key, app_cap = self.apps[app]
        name = self.names[creator]
        token = self.p.token(key, name)  # fresh: tokens last 2 h, rate limits are per token
        if kind == "video":
            response = self.p.video_init(token, "SELF_ONLY")
        else:
            response = self.p.photo_init(token, "DIRECT_POST", "SELF_ONLY")
        code = envelope(response)["error"]["code"]
        active = self.active(key, self.now)
        refusals = set()
        if name not in active and len(active) >= app_cap:
            refusals.add("reached_active_user_cap")
        if self.creator_posts(name, self.now) >= self.caps[name]:
            refusals.add("spam_risk_too_many_posts")
        event(f"{self.apps[app][1]}-cap app: {code}")
        if refusals:
            assert code in refusals, (code, refusals)
            assert response.status_code == 403
        else:
            assert code == "ok", response.text
            self.posts.append((key, name, self.now))
        # the control API counts what the model counts
        view = self.p.http.get(f"/_sandbox/apps/{key}").json()
        assert view["active_creators_24h"] == len(self.active(key, self.now))

    @rule(seconds=st.sampled_from([1, 60, 3600, 6 * 3600, 12 * 3600, DAY - 1, DAY]))
    def advance(self, seconds: int) -> None:
        self.p.advance(seconds)
        self.now += seconds

    @rule(creator=st.integers(0, CREATORS - 1), cap=st.integers(0, MAX_DAILY_CAP))
    def set_daily_cap(self, creator: int, cap: int) -> None:
        name = self.names[creator]
        assert self.p.patch_creator(name, daily_post_cap=cap)["daily_post_cap"] == cap
        self.caps[name] = cap

    @invariant()
    def distinct_creators_per_app_stay_under_the_cap(self) -> None:
        # the busiest rolling 24 h window ends at some post
        for key, cap in self.apps:
            for _, _, end in self.posts:
                assert len(self.active(key, end)) <= cap

    @invariant()
    def posts_per_creator_stay_under_the_highest_cap_ever_set(self) -> None:
        for _, name, end in self.posts:
            assert self.creator_posts(name, end) <= self.MAX_DAILY_CAP


PostCaps.TestCase.settings = settings(
    max_examples=80,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestPostCaps = PostCaps.TestCase


# -- (d) arbitrary JSON bodies never produce a 5xx and always get the envelope ---------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
FIELD_VALUES = st.one_of(
    JSON,
    st.sampled_from(
        [
            "PHOTO",
            "VIDEO",
            "DIRECT_POST",
            "MEDIA_UPLOAD",
            "FILE_UPLOAD",
            "PULL_FROM_URL",
            *PRIVACY_LEVELS,
            LOOPBACK_MEDIA + "x.mp4",
        ]
    ),
)
SHAPED = st.fixed_dictionaries(
    {},
    optional={
        "media_type": FIELD_VALUES,
        "post_mode": FIELD_VALUES,
        "publish_id": FIELD_VALUES,
        "post_info": st.dictionaries(
            st.sampled_from(
                [
                    "privacy_level",
                    "title",
                    "description",
                    "disable_duet",
                    "disable_comment",
                    "brand_content_toggle",
                    "video_cover_timestamp_ms",
                    "auto_add_music",
                ]
            ),
            FIELD_VALUES,
            max_size=5,
        )
        | JSON,
        "source_info": st.dictionaries(
            st.sampled_from(
                [
                    "source",
                    "video_url",
                    "video_size",
                    "chunk_size",
                    "total_chunk_count",
                    "photo_images",
                    "photo_cover_index",
                ]
            ),
            FIELD_VALUES,
            max_size=6,
        )
        | JSON,
    },
)


@SETTINGS
@given(path=st.sampled_from(ALL_PATHS), body=st.one_of(JSON, SHAPED))
def test_arbitrary_json_never_gets_a_5xx(fuzz_sandbox: Posting, path: str, body: Any) -> None:
    p = fuzz_sandbox
    token = p.token(AUDITED, "ana_makes")  # a fresh token: its own rate-limit budget
    raw = json.dumps(body)
    response = p.call(path, token, content=raw, headers={"Content-Type": "application/json"})
    body_out = envelope(response)
    if path == CANCEL_PATH and body_out["error"]["code"] == "ok":
        assert set(body_out) == {"error"}  # ref 12
    elif path != CANCEL_PATH:
        assert set(body_out) == {"data", "error"}


@SETTINGS
@given(path=st.sampled_from(ALL_PATHS), raw=st.binary(max_size=200))
def test_arbitrary_bytes_never_get_a_5xx(fuzz_sandbox: Posting, path: str, raw: bytes) -> None:
    p = fuzz_sandbox
    token = p.token(AUDITED, "ana_makes")
    response = p.call(path, token, content=raw, headers={"Content-Type": "application/json"})
    envelope(response)
