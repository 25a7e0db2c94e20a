"""Local video sources: probing (PyAV) and the PUT Content-Type it implies (ref 10.2, 13)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from client import PostInfo
from client.media import FileSource, UrlSource, resolve_video_source
from conformance.media import make_video
from tests.client.conftest import Made


@pytest.mark.parametrize(
    ("container", "codec", "name", "content_type"),
    [
        ("mp4", "h264", "mp4", "video/mp4"),
        ("mov", "h264", "mov", "video/quicktime"),
        ("webm", "vp9", "webm", "video/webm"),
        ("mkv", "vp9", "matroska", "video/mp4"),
    ],
)
def test_containers_are_told_apart(
    tmp_path: Path, container: str, codec: str, name: str, content_type: str
) -> None:
    path = make_video(tmp_path / f"v.{container}", container=container, codec=codec, seconds=1)
    source = FileSource(path)
    assert source.facts is not None
    assert (source.facts.container, source.facts.codec) == (name, codec)
    assert source.facts.width == 640 and source.facts.height == 360
    assert source.facts.fps == pytest.approx(30)
    assert source.facts.duration_s == pytest.approx(1.0, abs=0.05)
    assert source.content_type == content_type


def test_a_file_object_is_probed_and_read_from_its_start(video: Path) -> None:
    data = video.read_bytes()
    buffer = io.BytesIO(data)
    source = FileSource(buffer)
    assert source.size == len(data) and buffer.tell() == 0
    assert source.facts is not None and source.facts.container == "mp4"
    assert b"".join(source.iter_range(10, 19)) == data[10:20]


def test_urls_are_pulled_not_probed(video: Path) -> None:
    assert resolve_video_source("https://media.example/v.mp4") == UrlSource(
        "https://media.example/v.mp4"
    )
    assert isinstance(resolve_video_source(str(video)), FileSource)


def test_a_mov_goes_up_as_quicktime(make_client: Any, tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.mov", container="mov")
    made: Made = make_client()
    publish = made.client.post_video(path, PostInfo(privacy_level="SELF_ONLY"))
    put = next(r for r in made.log.requests if r.method == "PUT")
    assert put.headers["content-type"] == "video/quicktime"
    assert made.client.wait_for_publish(publish).status == "PUBLISH_COMPLETE"
