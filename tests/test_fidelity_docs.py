"""docs/fidelity.md and the code say the same thing.

Where a row states a message, a number or a set of hosts, the code's own tables decide what it
must say: every sentence a row quotes as the sandbox's answer is one the code can produce, and
the numbers the rows give (timing profiles, rate limits, lifetimes, TTLs, bounds) are read from
the modules that enforce them. A change to either side without the other fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from mock_server.domain import oauth, posting, videos
from mock_server.domain.errors import API_ERRORS, OAuthError
from mock_server.domain.fields import FIELDS_REQUIRED, with_scopes
from mock_server.domain.ids import IdFactory
from mock_server.domain.models import CLIENT_TOKEN_SECONDS, LIFETIMES, App
from mock_server.domain.publishing import UPLOAD_URL_SECONDS
from mock_server.domain.ratelimit import RATE_LIMITS, WINDOW_SECONDS
from mock_server.domain.redirects import REDIRECT_LOOPBACK_HOSTS
from mock_server.domain.signed_urls import AVATAR_URL_SECONDS, COVER_URL_SECONDS
from mock_server.domain.timing import TIMING_PROFILES
from mock_server.domain.world import World
from mock_server.runtime.covers import COVER_MAX_SIDE, MAX_COVERS

ROOT = Path(__file__).resolve().parents[1]
FIDELITY = (ROOT / "docs" / "fidelity.md").read_text(encoding="utf-8")


def rows() -> dict[str, list[str]]:
    """Every table row of docs/fidelity.md by its first cell (as written)."""
    found = {}
    for line in FIDELITY.splitlines():
        if line.startswith("| ") and not line.startswith(("| Behaviour", "|---")):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            found[cells[0]] = cells
    return found


ROWS = rows()


def row(title: str) -> str:
    """The "what the sandbox does" cell of the row titled `title`."""
    assert title in ROWS, f"docs/fidelity.md has no row {title!r}"
    return ROWS[title][1]


def number(value: float) -> str:
    """How the rows write a number: 3, 12.5, 15552000."""
    return f"{value:g}" if value != int(value) else str(int(value))


# -- messages -----------------------------------------------------------------------------------


def code_strings() -> list[re.Pattern[str]]:
    """Every string the sandbox's code holds, as a pattern: an f-string's holes match anything
    (only strings with at least 12 fixed characters, so that a hole is not the whole message)."""
    patterns = []
    for path in (ROOT / "mock_server").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                patterns.append(re.compile(re.escape(node.value)))
            elif isinstance(node, ast.JoinedStr):
                parts = [v.value if isinstance(v, ast.Constant) else None for v in node.values]
                fixed = "".join(p for p in parts if isinstance(p, str))
                if len(fixed) >= 12:
                    regex = "".join(".+?" if p is None else re.escape(str(p)) for p in parts)
                    patterns.append(re.compile(regex))
    return patterns


def composed() -> set[str]:
    """Messages the code composes from pieces, made by the code itself."""
    verifier = "v" * 43
    b64 = oauth.challenge_of(verifier, "base64url")
    problem = oauth.pkce_problem(b64, verifier, "hex")
    assert problem is not None
    with pytest.raises(OAuthError) as missing:
        oauth.authenticate_client(World(ids=IdFactory(0)), {})
    return {
        with_scopes(API_ERRORS["scope_not_authorized"].message, ["user.info.basic"]),
        problem[0],
        missing.value.description,
    }


COMPOSED = composed()
QUOTED = re.compile(r'"([A-Z][^"`|]{8,}?[.!)])"')


def quoted_messages() -> list[tuple[str, str]]:
    return [(title, m) for title, cells in ROWS.items() for m in QUOTED.findall(cells[1])]


@pytest.mark.parametrize(("title", "message"), quoted_messages())
def test_every_message_a_row_quotes_is_one_the_code_answers(title: str, message: str) -> None:
    if message in COMPOSED:
        return
    assert any(p.fullmatch(message) for p in PATTERNS), (
        f"docs/fidelity.md row {title!r} quotes {message!r}, which no string in mock_server/ "
        "produces: the row or the code changed"
    )


PATTERNS = code_strings()


def test_the_composed_messages_are_quoted_by_their_rows() -> None:
    for message in COMPOSED:
        assert message in FIDELITY, message
    assert f'"{FIELDS_REQUIRED}"' in row("User info: `fields` missing or empty")


# -- numbers and hosts --------------------------------------------------------------------------


def test_timing_profiles() -> None:
    text = row("Timing profiles")
    fast, realistic = TIMING_PROFILES["fast"], TIMING_PROFILES["realistic"]
    assert f"processing {number(fast.processing_base_seconds)} s, moderation " in text
    assert (
        f"`realistic`: processing {number(realistic.processing_base_seconds)} s + "
        f"{number(realistic.processing_seconds_per_gb)} s per GiB"
    ) in text
    for gib, label in ((0.5, "512 MiB"), (1, "1 GiB"), (4, "4 GiB")):
        seconds = realistic.processing_seconds(int(gib * 1024**3))
        assert f"{label} in {round(seconds)} s" in text
    assert f"moderation {number(realistic.moderation_seconds)} s" in text
    assert f"{number(realistic.download_bytes_per_second / 1e6)} MB/s" in text
    assert f"{number(realistic.download_timeout_seconds)} s after init" in text
    assert fast.download_timeout_seconds == realistic.download_timeout_seconds


def test_rate_limits() -> None:
    text = row("Posting rate limits")
    assert f"each init endpoint {RATE_LIMITS['video_init']}" in text
    assert (
        RATE_LIMITS["video_init"] == RATE_LIMITS["inbox_video_init"] == RATE_LIMITS["content_init"]
    )
    for name, label in (
        ("creator_info", "`creator_info`"),
        ("status_fetch", "`status/fetch`"),
        ("cancel", "`cancel`"),
    ):
        assert f"{label} {RATE_LIMITS[name]}" in text, name
    assert f"{number(WINDOW_SECONDS)} s sliding window" in text
    assert f"{RATE_LIMITS['user_info']} requests per" in row("User info rate limit")
    display = row("Display rate limits")
    assert RATE_LIMITS["video_list"] == RATE_LIMITS["video_query"]
    assert f"{RATE_LIMITS['video_list']} requests per" in display


def test_lifetimes_and_ttls() -> None:
    current, legacy = LIFETIMES["current"], LIFETIMES["legacy"]
    text = row("Token lifetimes")
    for seconds in (current.access_seconds, current.refresh_seconds):
        assert f"({seconds})" in text
    for seconds in (legacy.access_seconds, legacy.refresh_seconds):
        assert str(seconds) in text
    assert f"{CLIENT_TOKEN_SECONDS // 3600} h" in row("Client credentials")
    assert f"{App.auth_code_ttl_seconds} s." in row("Auth code: lifetime")
    assert f"issue + {UPLOAD_URL_SECONDS} s or later gets 403" in row("`upload_url`")
    avatar = row("`creator_info`: options and flags")
    assert f"valid for {AVATAR_URL_SECONDS // 3600} hours" in avatar
    assert f"issue + {AVATAR_URL_SECONDS}" in avatar
    cover = row("`cover_image_url`")
    assert f"valid {COVER_URL_SECONDS // 3600} hours ({COVER_URL_SECONDS} s)" in cover
    assert f"at most {COVER_MAX_SIDE} px" in cover and f"newest {MAX_COVERS} videos" in cover


def test_display_and_posting_bounds() -> None:
    text = row("`max_count`")
    assert f"1 to {videos.MAX_COUNT}, {videos.DEFAULT_MAX_COUNT} when absent" in text
    assert f"1 to {videos.MAX_QUERY_IDS} strings" in row("Query")
    assert f"cut to {videos.TEXT_MAX} UTF-16 units" in row("Field values")
    captions = row("Caption lengths")
    for limit in (posting.VIDEO_TITLE_MAX, posting.PHOTO_TITLE_MAX, posting.PHOTO_DESCRIPTION_MAX):
        assert str(limit) in captions
    assert f"1 to {posting.MAX_PHOTOS}" in row("Photo list")


def test_redirect_hosts() -> None:
    """The desktop rule and the web relaxation name exactly the hosts the code accepts."""
    loopback = re.compile(r"`(localhost|127\.[0-9x.]+|\[?::1\]?)`")
    for title in ("Redirect URIs: desktop", "Redirect URIs: loopback `http` relaxation"):
        assert set(loopback.findall(row(title))) == REDIRECT_LOOPBACK_HOSTS, title
