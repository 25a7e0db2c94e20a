"""Mutant: unaudited apps' Direct Posts keep the requested privacy instead of SELF_ONLY
(ref 15.1)."""

from __future__ import annotations

from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain import posting

    forcing = posting.effective_post_info

    def effective_post_info(ctx: Any) -> tuple[str | None, dict[str, object]]:
        privacy, effective = forcing(ctx)
        if ctx.direct:
            privacy = ctx.request.post_info.privacy_level
        return privacy, effective

    posting.effective_post_info = effective_post_info
