from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.media import make_video
from tests.scenarios.stage import Stage


@pytest.fixture
def stage() -> Iterator[Callable[..., Stage]]:
    """Open a scenario's Stage (frozen clock at T0); every one opened is closed after."""
    opened: list[Stage] = []

    def open_stage(name: str = "default", **kwargs: Any) -> Stage:
        opened.append(Stage(name, **kwargs))
        return opened[-1]

    yield open_stage
    for each in opened:
        each.close()


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audit-media")


@pytest.fixture(scope="session")
def clip_path(media: Path) -> Path:
    """A valid video: 3.5 s of 640x360 H.264 MP4 at 30 fps."""
    return make_video(media / "clip.mp4")


@pytest.fixture(scope="session")
def clip(clip_path: Path) -> bytes:
    return clip_path.read_bytes()
