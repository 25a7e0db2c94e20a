"""Cover frames taken from received videos, and the bounded store that keeps them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from conformance.media import make_garbage, make_video
from mock_server.runtime.covers import COVER_MAX_SIDE, CoverStore, extract_cover, inspect_video


def picture(jpeg: bytes | None) -> Image.Image:
    assert jpeg is not None
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    return image


@pytest.mark.parametrize(
    ("container", "codec", "size", "scaled"),
    [
        ("mp4", "h264", (640, 360), (360, 202.5)),
        ("webm", "vp9", (360, 640), (202.5, 360)),
        ("mov", "h264", (400, 400), (360, 360)),
    ],
)
def test_a_cover_is_a_small_jpeg_of_a_frame(
    tmp_path: Path,
    container: str,
    codec: str,
    size: tuple[int, int],
    scaled: tuple[float, float],
) -> None:
    path = make_video(
        tmp_path / f"v.{container}", container=container, codec=codec, width=size[0], height=size[1]
    )
    image = picture(extract_cover(path, None, 3.5))
    # Scaled to COVER_MAX_SIDE on the longer side, the aspect kept (to the pixel).
    assert max(image.size) == COVER_MAX_SIDE
    assert all(abs(got - want) <= 0.5 for got, want in zip(image.size, scaled, strict=True))


def test_the_timestamp_picks_the_frame_and_an_invalid_one_means_the_first(tmp_path: Path) -> None:
    path = make_video(tmp_path / "v.mp4", seconds=4)
    first = picture(extract_cover(path, None, 4.0)).getpixel((5, 5))
    assert picture(extract_cover(path, 0, 4.0)).getpixel((5, 5)) == first
    assert picture(extract_cover(path, 3000, 4.0)).getpixel((5, 5)) != first
    for invalid in (-1, 4000, 10_000):
        assert picture(extract_cover(path, invalid, 4.0)).getpixel((5, 5)) == first


def test_no_cover_from_what_is_not_a_video(tmp_path: Path) -> None:
    path = make_garbage(tmp_path / "junk.mp4", 4096)
    assert extract_cover(path, None, None) is None
    assert extract_cover(tmp_path / "missing.mp4", None, None) is None


def test_inspection_keeps_a_cover_only_for_a_video_that_passes(tmp_path: Path) -> None:
    store = CoverStore()
    ok = inspect_video(make_video(tmp_path / "ok.mp4"), 600, None, store, "ok")
    assert ok.fail_reason is None and (ok.facts.width, ok.facts.height) == (640, 360)
    short = inspect_video(make_video(tmp_path / "s.mp4", seconds=1), 600, None, store, "short")
    assert short.fail_reason == "duration_check_failed"
    assert store.get("ok") is not None and store.get("short") is None


@pytest.mark.parametrize("on_disk", [False, True], ids=["in_memory", "on_disk"])
def test_the_store_keeps_the_newest_covers_up_to_its_limit(tmp_path: Path, on_disk: bool) -> None:
    store = CoverStore(limit=3, directory=(lambda: tmp_path) if on_disk else None)
    for n in range(5):
        store.put(f"p{n}", bytes([n]))
    assert len(store) == 3
    assert [store.get(f"p{n}") for n in range(5)] == [None, None, b"\x02", b"\x03", b"\x04"]
    store.put("p2", b"again")  # stored again: the newest
    store.put("p5", b"\x05")
    assert store.get("p2") == b"again" and store.get("p3") is None
    # On disk: one file per kept cover, the forgotten ones removed.
    assert len(list(tmp_path.iterdir())) == (3 if on_disk else 0)
    store.discard("p2")
    assert store.get("p2") is None
    store.clear()
    assert len(store) == 0
    assert list(tmp_path.iterdir()) == []


def test_a_sandbox_keeps_covers_as_files_that_a_reset_removes() -> None:
    from mock_server import Sandbox

    with Sandbox() as sandbox:
        sandbox.state.covers.put("v_pub_file~v2.1", b"\xff\xd8jpeg")
        files = list(sandbox.state.spool.root.glob("cover-*.jpeg"))
        assert len(files) == 1 and files[0].read_bytes() == b"\xff\xd8jpeg"
        assert sandbox.state.covers.get("v_pub_file~v2.1") == b"\xff\xd8jpeg"
        sandbox.reset()
        assert sandbox.state.covers.get("v_pub_file~v2.1") is None
        assert not list(sandbox.state.spool.root.glob("cover-*"))


def test_a_cover_finished_after_its_spool_went_is_dropped_quietly(tmp_path: Path) -> None:
    gone = tmp_path / "removed-by-a-reset"
    store = CoverStore(directory=lambda: gone)
    store.put("v_pub_file~v2.1", b"\xff\xd8jpeg")  # no exception: the request still gets its answer
    assert store.get("v_pub_file~v2.1") is None and len(store) == 0


def test_covers_a_previous_run_left_are_served_and_removed_with_their_publish(
    tmp_path: Path,
) -> None:
    before = CoverStore(directory=lambda: tmp_path)
    for n in range(3):
        before.put(f"p{n}", bytes([n]))
    after = CoverStore(limit=3, directory=lambda: tmp_path)  # a resumed data directory
    assert after.get("p0") is None  # not looked for until told what is there
    after.find_left()
    assert after.get("p0") == b"\x00" and after.get("p1") == b"\x01"
    assert after.get("unknown") is None
    after.discard("p2")  # its publish was forgotten before anyone asked for its cover
    after.put("p3", b"\x03")
    after.put("p4", b"\x04")  # past the limit: the oldest known (p0) goes
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        before._path(n).name for n in ("p1", "p3", "p4")
    )


def test_covers_left_by_previous_runs_count_toward_the_limit(tmp_path: Path) -> None:
    for run in range(4):  # each run makes 3 covers of its own, then the directory restarts
        store = CoverStore(limit=3, directory=lambda: tmp_path)
        store.find_left()
        for n in range(3):
            store.put(f"run{run}-p{n}", bytes([n]))
    assert len(list(tmp_path.glob("cover-*.jpeg"))) == 3
    again = CoverStore(limit=3, directory=lambda: tmp_path)
    again.find_left()
    assert [again.get(f"run3-p{n}") for n in range(3)] == [b"\x00", b"\x01", b"\x02"]
