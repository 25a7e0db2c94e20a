"""The media spool: a dead sandbox's leftovers (partial chunks of a killed server) are removed
by the next one; a live sandbox's spool is never touched."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from mock_server.runtime.spool import MediaSpool, remove_dead_spools

pytest.importorskip("fcntl")


def test_a_live_spool_is_kept_and_a_dead_ones_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A spool whose process is gone: its owner file exists but nobody holds its lock.
    code = textwrap.dedent(
        f"""
        import os, tempfile
        tempfile.tempdir = {str(tmp_path)!r}
        from mock_server.runtime.spool import MediaSpool
        spool = MediaSpool()
        spool.path("v_pub_file~v2-1.123").write_bytes(b"partial chunk")
        print(spool.root)
        os._exit(9)  # killed: no cleanup runs
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    dead = Path(run.stdout.strip())
    assert dead.parent == tmp_path and any(dead.iterdir())

    assert remove_dead_spools(tmp_path) == [dead] and not dead.exists()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    live = MediaSpool()
    live.path("x").write_bytes(b"mine")
    assert remove_dead_spools(tmp_path) == []
    assert live.path("x").read_bytes() == b"mine"  # a live spool is never touched
    root = live.root
    live.close()
    assert not root.exists()


def test_spools_from_before_owner_files_are_left_alone_while_recent(tmp_path: Path) -> None:
    recent = tmp_path / "tiktok-sandbox-media-old1"
    recent.mkdir()
    assert remove_dead_spools(tmp_path) == []
    old = tmp_path / "tiktok-sandbox-media-old2"
    old.mkdir()
    os.utime(old, (0, 0))
    assert remove_dead_spools(tmp_path) == [old]


def test_discard_all_removes_every_part_of_a_publish(tmp_path: Path) -> None:
    spool = MediaSpool(tmp_path)
    for part in range(3):
        spool.path("p_pub_url~v2.1", part).write_bytes(b"x")
    spool.path("other").write_bytes(b"y")
    spool.discard_all("p_pub_url~v2.1")
    assert [p.name for p in tmp_path.iterdir()] == [spool.path("other").name]
