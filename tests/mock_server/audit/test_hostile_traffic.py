"""Whatever an app sends, the audit reads it: bodies of any JSON shape (or none), forms, headers
and tokens that make no sense give a report, never an exception, and the same report again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server import Clock, Sandbox
from tests.scenarios.stage import T0

ACME = "awacmescheduler01"
SCOPES = ["user.info.basic", "video.publish", "video.upload"]
JSON_PATHS = (
    "/v2/post/publish/creator_info/query/",
    "/v2/post/publish/video/init/",
    "/v2/post/publish/inbox/video/init/",
    "/v2/post/publish/content/init/",
    "/v2/post/publish/status/fetch/",
)
FORM_PATHS = ("/v2/oauth/token/", "/v2/oauth/revoke/")

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
# Shapes near what the checks read, with the wrong types inside.
post_like = st.fixed_dictionaries(
    {},
    optional={
        "post_mode": st.sampled_from(["DIRECT_POST", "MEDIA_UPLOAD"]) | values,
        "media_type": st.just("PHOTO") | values,
        "post_info": st.dictionaries(
            st.sampled_from(
                [
                    "privacy_level",
                    "disable_comment",
                    "disable_duet",
                    "disable_stitch",
                    "brand_content_toggle",
                    "brand_organic_toggle",
                ]
            ),
            values,
        )
        | values,
        "source_info": st.dictionaries(
            st.sampled_from(
                [
                    "source",
                    "video_size",
                    "chunk_size",
                    "total_chunk_count",
                    "video_url",
                    "photo_images",
                    "photo_cover_index",
                ]
            ),
            values | st.sampled_from(["FILE_UPLOAD", "PULL_FROM_URL", "http://[::1", "https://"]),
        )
        | values,
        "publish_id": values,
    },
)
bodies = post_like.map(json.dumps) | values.map(json.dumps) | st.text(max_size=40)
forms = st.lists(
    st.tuples(
        st.sampled_from(
            ["client_key", "grant_type", "refresh_token", "token", "redirect_uri", "code"]
        ),
        st.text(max_size=30),
    ),
    max_size=6,
)
headers = st.dictionaries(
    st.sampled_from(["Origin", "Referer", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Content-Type"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
    max_size=3,
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox("default", clock=Clock.frozen_at(T0)) as made:
        yield made


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    requests=st.lists(
        st.tuples(st.sampled_from(JSON_PATHS + FORM_PATHS), bodies, forms, headers, st.booleans()),
        min_size=1,
        max_size=6,
    )
)
def test_any_traffic_gives_a_report(
    sandbox: Sandbox, requests: list[tuple[str, str, list[tuple[str, str]], Any, bool]]
) -> None:
    sandbox.reset()
    token = sandbox.issue_tokens(ACME, "ana_makes", SCOPES)["access_token"]
    with sandbox.client() as http:
        for path, body, form, extra, dead_token in requests:
            auth = {"Authorization": f"Bearer {'act.dead' if dead_token else token}"}
            if path in FORM_PATHS:
                http.post(path, data=dict([("client_key", ACME), *form]), headers=extra)
            else:
                http.post(path, content=body, headers=auth | extra)
    report = sandbox.audit(ACME)
    assert json.loads(json.dumps(report.to_json())) == report.to_json()
    assert report.to_json() == sandbox.audit(ACME).to_json()
    assert report.to_text() and report.to_markdown()


def test_a_body_nested_past_python_s_parser_is_not_read(sandbox: Sandbox) -> None:
    sandbox.reset()
    token = sandbox.issue_tokens(ACME, "ana_makes", SCOPES)["access_token"]
    deep = "[" * 5000 + "]" * 5000  # 10 KB: kept whole by the journal
    with sandbox.client() as http:
        answer = http.post(
            "/v2/post/publish/video/init/",
            content=deep,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
    assert answer.status_code == 400
    report = sandbox.audit(ACME)
    assert report.check("creator_info_before_post").verdict == "fail"  # no creator_info first
    assert report.check("privacy_level_in_options").verdict == "not_observed"
