"""Mutant: init takes any total_chunk_count, not only floor(video_size / chunk_size)
(ref 10.1)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain import posting

    checked = posting.chunk_plan_problem

    def loosened(
        video_size: int | None, chunk_size: int | None, total_chunk_count: int | None
    ) -> tuple[str, str] | None:
        if video_size and chunk_size and total_chunk_count and video_size >= chunk_size > 0:
            total_chunk_count = max(1, video_size // chunk_size)  # whatever was sent
        return checked(video_size, chunk_size, total_chunk_count)

    posting.chunk_plan_problem = loosened
