"""The plumbing: the target answers in TikTok's envelope, and the controller arranges state."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.controller import Controller
from conformance.plugin import examples
from conformance.report import example


@pytest.mark.behaviour("missing_token_is_access_token_invalid", "4.2")
@examples()
@given(fields=st.sampled_from(["open_id", "display_name", "open_id,union_id"]))
def test_user_info_without_a_token(http: httpx.Client, fields: str) -> None:
    example("missing_token_is_access_token_invalid")
    answer = http.get("/v2/user/info/", params={"fields": fields})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "access_token_invalid"


@pytest.mark.behaviour("user_info_basic_fields", "5")
def test_user_info_with_a_token(http: httpx.Client, controller: Controller) -> None:
    app = controller.create_app()
    user = controller.create_creator()
    token = controller.tokens(app.client_key, user, ("user.info.basic",))["access_token"]
    example("user_info_basic_fields")
    answer = http.get(
        "/v2/user/info/",
        params={"fields": "open_id,display_name"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200
    assert answer.json()["error"]["code"] == "ok"
