"""Keeping a sandbox's state: the store seam (`base`), the document codec (`codec`) and the
data directory (`sqlite`). `open_data_dir` puts a sandbox's state in a data directory."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from mock_server.runtime.spool import MediaSpool
from mock_server.store.base import MemoryStore, StateStore, StoreError
from mock_server.store.codec import (
    Decoded,
    StateFormatError,
    decode_state,
    install_state,
    restore_state,
)
from mock_server.store.recorder import Recorder
from mock_server.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from mock_server.state import SandboxState

__all__ = [
    "MemoryStore",
    "StateStore",
    "StoreError",
    "install_snapshot",
    "open_data_dir",
    "read_snapshot",
]


def open_data_dir(
    state: SandboxState,
    directory: str | Path,
    *,
    fresh: bool = False,
    snapshot: Decoded | None = None,
    fsync: bool = False,
    verify: bool | None = None,
) -> SqliteStore:
    """Resume `state` from DIR (or, with `fresh` or a `snapshot`, start DIR again from the
    scenario or the snapshot), and keep every change there from now on. Raises StoreError,
    with DIR unchanged, when it cannot be used. `fsync`: each commit waits for the disk (it
    then survives a power loss, not only the process being killed). `verify` (tests; default
    from TIKTOK_SANDBOX_VERIFY_STORE=1): check after every commit that the rows written are
    the whole state's."""
    if verify is None:
        verify = os.environ.get("TIKTOK_SANDBOX_VERIFY_STORE") == "1"
    store = SqliteStore(directory, fresh=fresh or snapshot is not None, fsync=fsync)
    previous = state.store
    try:
        doc = store.load() if snapshot is None else None
        state.store = store
        state.recorder = recorder = Recorder(verify=verify)
        if snapshot is not None:
            install_snapshot(state, snapshot)
        elif doc is not None:
            try:
                restore_state(state, doc)
            except StateFormatError as exc:
                raise StoreError(f"--data-dir {directory}: corrupt state ({exc})") from exc
            if not store.older_format:  # then the first commit writes it all in this format
                with state.lock:  # the directory holds this state already: write what moves
                    recorder.adopt(state, store.loaded_sections)
        resumed = snapshot is not None or doc is not None
        if fresh or snapshot is not None:
            shutil.rmtree(store.spool, ignore_errors=True)
        store.spool.mkdir(exist_ok=True)
        state.spool.close()
        state.spool = MediaSpool(store.spool, durable=fsync)
        if resumed and not fresh and snapshot is None:  # the covers are in the spool kept
            state.covers.find_left()
        state.resumed = resumed
        state.tick()  # the steps that fell due while the sandbox was down happen now
        state.commit()
        if resumed:  # pulls under way when it stopped start again, from their start
            _restart_pulls(state)
        store.claim()
    except BaseException:
        state.store, state.recorder = previous, None
        store.close()
        raise
    return store


def install_snapshot(state: SandboxState, snapshot: Decoded) -> None:
    """Start `state` from a snapshot (`serve --import`). A snapshot is JSON: it holds an
    upload's progress but not the bytes received (they stay in the spool they were written
    to), so an upload under way takes its chunks again from the first; a client that sends
    the next one meets the 416 that says where to start, as after a lost chunk. How many is
    in `state.uploads_started_again`."""
    from mock_server.domain.upload import start_upload_again

    install_state(state, snapshot)
    with state.lock:
        state.uploads_started_again = sum(
            start_upload_again(p) for p in dict.values(state.world.publishes)
        )


def _restart_pulls(state: SandboxState) -> None:
    from mock_server.domain.publishing import PROCESSING_DOWNLOAD

    with state.lock:
        pulling = [
            (p.publish_id, p.client_key)
            for p in state.world.iter_publishes(status=PROCESSING_DOWNLOAD)
        ]
    for publish_id, client_key in pulling:
        state.downloads.start(publish_id, client_key)


def read_snapshot(path: str | Path) -> Decoded:
    """A snapshot written by `tiktok-sandbox export`; StoreError when it cannot be one."""
    import json

    where = f"--import {path}"
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise StoreError(f"{where}: {exc.strerror or exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise StoreError(f"{where}: not JSON ({exc})") from exc
    try:  # read whole before anything is replaced by it (`--import` into a directory)
        return decode_state(doc)
    except StateFormatError as exc:
        raise StoreError(f"{where}: {exc}") from exc
