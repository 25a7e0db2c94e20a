"""The pure posting rules: chunk plans, URL ownership, UTF-16 lengths, privacy options (ref 6,
7.1, 10.1, 10.4)."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.domain.models import App, Creator
from mock_server.domain.posting import (
    chunk_plan_problem,
    privacy_level_options,
    url_is_verified,
    utf16_units,
)

MIB = 1_048_576  # ref 10.1: "MB" is binary
GIB = 1024 * MIB


def rule(video_size: int | None, chunk_size: int | None, count: int | None) -> str | None:
    problem = chunk_plan_problem(video_size, chunk_size, count)
    return None if problem is None else problem[1]


def message(video_size: int, chunk_size: int, count: int) -> str:
    problem = chunk_plan_problem(video_size, chunk_size, count)
    assert problem is not None, "the plan was accepted"
    return problem[0]


# -- chunk_plan_problem (ref 10.1) ----------------------------------------------------------


def test_the_doc_example_is_a_valid_plan() -> None:
    # 50,000,123 bytes in 10,000,000-byte chunks: 5 chunks, the last one 10,000,123 bytes.
    assert chunk_plan_problem(50_000_123, 10_000_000, 5) is None


@pytest.mark.parametrize(
    ("video_size", "chunk_size", "count"),
    [
        (1, 1, 1),  # tiny files go up whole
        (5 * MIB - 1, 5 * MIB - 1, 1),  # just under 5 MB, whole
        (5 * MIB, 5 * MIB, 1),  # exactly 5 MB, whole
        (64 * MIB, 64 * MIB, 1),  # 5-64 MB may go up whole...
        (64 * MIB, 5 * MIB, 12),  # ...or chunked
        (128 * MIB + 1, 64 * MIB, 2),  # the final chunk absorbs the trailing byte
        (192 * MIB - 1, 64 * MIB, 2),  # final chunk just under 128 MB
        (4 * GIB, 64 * MIB, 64),  # the 4 GB maximum
        (4 * GIB, 5 * MIB, 819),  # the most chunks a valid plan can have
    ],
)
def test_valid_plans(video_size: int, chunk_size: int, count: int) -> None:
    assert chunk_plan_problem(video_size, chunk_size, count) is None


@pytest.mark.parametrize("video_size", [64 * MIB + 1, 100 * MIB, 128 * MIB - 1])
def test_over_64_mb_must_be_chunked(video_size: int) -> None:
    # ref 10.1: "Files > 64 MB must be chunked": one 64 MB chunk plus a remainder is one chunk.
    assert rule(video_size, 64 * MIB, 1) == "large_video_not_chunked"
    assert "chunk" in message(video_size, 64 * MIB, 1)


def test_under_5_mb_must_be_uploaded_whole() -> None:
    size = 4 * MIB  # the doc's "4 MB" example
    assert rule(size, size, 1) is None
    assert rule(size, 2 * MIB, 2) == "small_video_whole"
    assert rule(size, size - 1, 1) == "small_video_whole"
    assert rule(size, size + 1, 1) == "small_video_whole"
    assert "whole" in message(size, 2 * MIB, 2)


def test_chunks_under_5_mb_are_refused() -> None:
    assert rule(50 * MIB, 5 * MIB - 1, 10) == "chunk_too_small"
    assert "5 MB" in message(50 * MIB, 5 * MIB - 1, 10)
    assert rule(50 * MIB, 5 * MIB, 10) is None


def test_chunks_over_64_mb_are_refused() -> None:
    assert rule(200 * MIB, 64 * MIB + 1, 3) == "chunk_too_large"
    assert "64 MB" in message(200 * MIB, 64 * MIB + 1, 3)
    # a file over 64 MB cannot go up whole
    assert rule(65 * MIB, 65 * MIB, 1) == "chunk_too_large"
    assert rule(200 * MIB, 64 * MIB, 3) is None


def test_count_must_be_the_floor_of_size_over_chunk() -> None:
    assert rule(50_000_123, 10_000_000, 6) == "chunk_count_mismatch"  # rounded up
    assert rule(50_000_123, 10_000_000, 4) == "chunk_count_mismatch"
    assert "floor" in message(50_000_123, 10_000_000, 6)
    assert "5" in message(50_000_123, 10_000_000, 6)


@pytest.mark.parametrize("count", [0, -1, 1001, 10**6])
def test_count_outside_1_to_1000_is_refused(count: int) -> None:
    assert rule(50 * MIB, 5 * MIB, count) in {"chunk_count_range", "total_chunk_count_not_positive"}
    assert "total" in message(50 * MIB, 5 * MIB, count).lower()


def test_over_4_gib_is_refused() -> None:
    assert rule(4 * GIB + 1, 64 * MIB, 64) == "video_too_large"
    assert "4 GB" in message(4 * GIB + 1, 64 * MIB, 64)


@pytest.mark.parametrize(
    ("video_size", "chunk_size", "count", "expected"),
    [
        (0, 0, 1, "video_size_not_positive"),
        (-5, 10, 1, "video_size_not_positive"),
        (10, 0, 1, "chunk_size_not_positive"),
        (10, -10, 1, "chunk_size_not_positive"),
        (10, 10, 0, "total_chunk_count_not_positive"),
        (10, 10, -1, "total_chunk_count_not_positive"),
        (None, 10, 1, "video_size_missing"),
        (10, None, 1, "chunk_size_missing"),
        (10, 10, None, "total_chunk_count_missing"),
    ],
)
def test_zero_negative_and_missing_values_are_refused(
    video_size: int | None, chunk_size: int | None, count: int | None, expected: str
) -> None:
    assert rule(video_size, chunk_size, count) == expected


def test_mb_is_binary() -> None:
    # 5,000,000 bytes is under 5 MiB, so it must go up whole; 5,242,880 may be one chunk.
    assert rule(20_000_000, 5_000_000, 4) == "chunk_too_small"
    assert rule(20 * MIB, 5 * MIB, 4) is None
    # 64,000,000 is under 64 MiB: a 64,000,001-byte chunk is still allowed.
    assert rule(130_000_000, 64_000_001, 2) is None
    assert rule(5_000_000, 5_000_000, 1) is None  # under 5 MiB: whole is the only way


# -- url_is_verified (ref 10.4) -------------------------------------------------------------


def make_app(**settings: Any) -> App:
    return App(
        client_key="awtestapp0001",
        client_secret="testAppSecret0001",
        name="Test",
        stage="audited",
        scopes=["video.publish"],
        redirect_uris=["https://app.example.com/cb"],
        **settings,
    )


def test_https_only() -> None:
    app = make_app(verified_domains=["example.com"])
    assert url_is_verified(app, "https://example.com/v.mp4")
    assert not url_is_verified(app, "http://example.com/v.mp4")
    assert not url_is_verified(app, "ftp://example.com/v.mp4")
    assert not url_is_verified(app, "example.com/v.mp4")


def test_a_domain_covers_its_subdomains_but_not_its_parent() -> None:
    app = make_app(verified_domains=["static.example.com"])
    assert url_is_verified(app, "https://static.example.com/a/b.mp4")
    assert url_is_verified(app, "https://video.static.example.com/a/b.mp4")
    assert not url_is_verified(app, "https://example.com/a/b.mp4")
    assert not url_is_verified(app, "https://other.example.com/a/b.mp4")
    # a suffix that is not a label boundary is another domain
    assert not url_is_verified(app, "https://evilstatic.example.com/a/b.mp4")
    assert not url_is_verified(app, "https://static.example.com.evil.net/a/b.mp4")


def test_userinfo_cannot_smuggle_a_verified_host() -> None:
    app = make_app(verified_domains=["example.com"])
    assert not url_is_verified(app, "https://example.com@evil.net/v.mp4")


def test_a_url_prefix_is_an_exact_prefix() -> None:
    app = make_app(verified_url_prefixes=["https://example.com/videos/user/"])
    assert url_is_verified(app, "https://example.com/videos/user/123/x.mp4")
    assert not url_is_verified(app, "https://example.com/videos/2023/user/x.mp4")
    assert not url_is_verified(app, "https://example.com/videos/username/x.mp4")
    assert not url_is_verified(app, "https://example.com/x.mp4")
    # a prefix does not verify the domain's subdomains
    assert not url_is_verified(app, "https://cdn.example.com/videos/user/123/x.mp4")
    assert not url_is_verified(app, "http://example.com/videos/user/123/x.mp4")


def test_http_loopback_needs_the_setting_and_a_matching_prefix() -> None:
    prefix = "http://127.0.0.1:9000/media/"
    relaxed = make_app(allow_loopback_http_media=True, verified_url_prefixes=[prefix])
    assert url_is_verified(relaxed, "http://127.0.0.1:9000/media/clip.mp4")
    assert not url_is_verified(relaxed, "http://127.0.0.1:9000/other/clip.mp4")
    assert not url_is_verified(relaxed, "http://127.0.0.1:9001/media/clip.mp4")
    assert not url_is_verified(relaxed, "http://localhost:9000/media/clip.mp4")
    strict = make_app(allow_loopback_http_media=False, verified_url_prefixes=[prefix])
    assert not url_is_verified(strict, "http://127.0.0.1:9000/media/clip.mp4")


def test_http_stays_refused_for_non_loopback_hosts_even_with_the_setting() -> None:
    app = make_app(allow_loopback_http_media=True, verified_domains=["media.example.com"])
    assert url_is_verified(app, "https://media.example.com/v.mp4")
    assert not url_is_verified(app, "http://media.example.com/v.mp4")


def test_an_ip_address_is_not_a_verifiable_domain() -> None:
    # ref 10.4: a domain property is a domain; IP hosts only for loopback media prefixes.
    app = make_app(verified_domains=["203.0.113.7"])
    assert not url_is_verified(app, "https://203.0.113.7/v.mp4")


def test_a_dns_name_starting_with_127_is_not_loopback() -> None:
    app = make_app(
        allow_loopback_http_media=True, verified_url_prefixes=["http://127.evil.example/media/"]
    )
    assert not url_is_verified(app, "http://127.evil.example/media/v.mp4")


# -- utf16_units (ref 7.1, 9) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("", 0),
        ("hello", 5),
        ("é", 1),  # BMP, one unit
        ("漢字", 2),
        ("😀", 2),  # outside the BMP: a surrogate pair
        ("😀" * 1100, 2200),
        ("a😀b", 4),
        ("👍🏽", 4),  # emoji + skin tone modifier, both astral
    ],
)
def test_utf16_units(text: str, units: int) -> None:
    assert utf16_units(text) == units


# -- privacy_level_options (ref 6) ----------------------------------------------------------


def test_privacy_options_depend_on_the_account() -> None:
    public = Creator(uid="1", username="pub", nickname="Pub", account="public")
    private = Creator(uid="2", username="priv", nickname="Priv", account="private")
    assert set(privacy_level_options(public)) == {
        "PUBLIC_TO_EVERYONE",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    }
    assert set(privacy_level_options(private)) == {
        "FOLLOWER_OF_CREATOR",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    }


def test_privacy_options_follow_the_account_now() -> None:
    creator = Creator(uid="1", username="flip", nickname="Flip", account="public")
    assert "PUBLIC_TO_EVERYONE" in privacy_level_options(creator)
    creator.account = "private"
    assert "PUBLIC_TO_EVERYONE" not in privacy_level_options(creator)
    assert "FOLLOWER_OF_CREATOR" in privacy_level_options(creator)


def test_privacy_options_are_a_copy() -> None:
    creator = Creator(uid="1", username="pub", nickname="Pub", account="public")
    privacy_level_options(creator).append("EVERYONE_AND_THEIR_DOG")
    assert "EVERYONE_AND_THEIR_DOG" not in privacy_level_options(creator)
