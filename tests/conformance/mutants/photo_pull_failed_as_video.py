"""Mutant: a photo pull that fails is reported as `video_pull_failed` (ref 11:
`photo_pull_failed` for photos)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain import lifecycle

    lifecycle.PULL_FAILED["PHOTO"] = "video_pull_failed"
