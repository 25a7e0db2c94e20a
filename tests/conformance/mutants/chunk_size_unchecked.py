"""Mutant: a PUT chunk of any length is taken, whatever the chunk plan says (ref 10.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.api import upload
    from mock_server.domain.upload import CONTENT_RANGE, ChunkPlan, ChunkRefused

    checked = upload.check_chunk

    def loosened(publish: Any, headers: Mapping[str, str], now: float) -> ChunkPlan:
        try:
            return checked(publish, headers, now)
        except ChunkRefused as refused:
            if refused.rule != "chunk_size_off_plan":
                raise
            match = CONTENT_RANGE.match(headers["content-range"].strip())
            assert match is not None
            return ChunkPlan(int(match[1]), int(match[2]))

    upload.check_chunk = loosened
