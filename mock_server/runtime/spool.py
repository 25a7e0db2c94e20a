"""The media spool: uploaded and pulled media stream to temp files, never whole into memory."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

from mock_server.runtime.clock import real_time

try:
    import fcntl
except ImportError:  # Windows: no flock, so leftovers of killed servers are not detected
    fcntl = None  # type: ignore[assignment]

COPY_BLOCK = 1024 * 1024


class ChunkLengthMismatch(Exception):
    """The body carried more or fewer bytes than announced."""

    def __init__(self, received: int) -> None:
        super().__init__(f"received {received} bytes")
        self.received = received


_PREFIX = "tiktok-sandbox-media-"
_OWNER = ".owner"  # held locked (flock) by the process whose spool it is
_UNOWNED_GRACE_SECONDS = 3600.0  # spools from before owner files, or that crashed at birth
_swept = False
_swept_lock = threading.Lock()


def remove_dead_spools(parent: Path | None = None) -> list[Path]:
    """Remove the spool directories of sandboxes whose process has gone (killed, crashed):
    their owner lock is free. Returns what was removed. Does nothing where `fcntl` is missing."""
    if fcntl is None:
        return []
    parent = Path(tempfile.gettempdir()) if parent is None else parent
    removed = []
    for candidate in parent.glob(f"{_PREFIX}*"):
        if candidate.is_dir() and not _owned(candidate):
            shutil.rmtree(candidate, ignore_errors=True)
            removed.append(candidate)
    return removed


def _owned(directory: Path) -> bool:
    assert fcntl is not None
    try:
        fd = os.open(directory / _OWNER, os.O_RDWR)
    except FileNotFoundError:
        try:
            age = real_time() - directory.stat().st_mtime  # a file's age: wall-clock time
        except OSError:
            return True
        return age < _UNOWNED_GRACE_SECONDS
    except OSError:
        return True  # not ours to judge (permissions): leave it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True  # a live process holds it
    finally:
        os.close(fd)  # closing also releases a lock we took
    return False


class MediaSpool:
    """One temp directory per sandbox, one file per publish (plus one per photo).

    The directory holds an owner file locked for as long as the sandbox lives, so the next
    sandbox to start can tell a dead one's leftovers (partial chunks of a killed server) and
    remove them.
    """

    def __init__(self, root: Path | None = None, *, durable: bool = False) -> None:
        global _swept
        self._root = root
        self._owned = root is None
        # In a data directory with --fsync: a chunk's bytes are on the disk (fsynced) before
        # it is recorded. Without, they are in the operating system's hands, as the commit.
        self.durable = durable
        self._lock = threading.Lock()
        self._finalizer: weakref.finalize[..., MediaSpool] | None = None
        self._owner_fd: int | None = None
        if self._owned:
            with _swept_lock:
                if not _swept:
                    _swept = True
                    remove_dead_spools()

    @property
    def root(self) -> Path:
        with self._lock:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix=_PREFIX))
                self._owner_fd = _hold_owner_lock(self._root)
                self._finalizer = weakref.finalize(self, _remove_spool, self._root, self._owner_fd)
            return self._root

    def path(self, publish_id: str, part: int = 0, generation: int = 0) -> Path:
        """Where a publish's bytes go. `generation` is the World's: a reset starts a new World
        whose publish ids repeat the old ones', and a late download or upload of the old
        World must never touch the new one's files."""
        return self.root / f"{_stem(publish_id, generation)}.{part}"

    def discard_all(self, publish_id: str, generation: int = 0) -> None:
        """Drop every file of a publish (its upload, or each pulled photo)."""
        with self._lock:
            root = self._root
        if root is None:
            return
        # A prefix test, not a glob: a glob compiles (and caches) a pattern per publish.
        prefix = f"{_stem(publish_id, generation)}."
        try:
            with os.scandir(root) as entries:
                names = [e.name for e in entries if e.name.startswith(prefix)]
        except FileNotFoundError:  # the spool was closed meanwhile
            return
        for name in names:
            (root / name).unlink(missing_ok=True)

    async def write_chunk(
        self,
        publish_id: str,
        offset: int,
        length: int,
        body: AsyncIterator[bytes],
        generation: int = 0,
    ) -> str:
        """Write exactly `length` bytes at `offset`; returns the chunk's sha256.

        On a short or long body nothing past `offset` is kept, and ChunkLengthMismatch says
        how many bytes came.
        """
        path = self.path(publish_id, generation=generation)
        digest = hashlib.sha256()
        received = 0
        mode = "r+b" if path.exists() else "w+b"
        with open(path, mode) as f:
            f.seek(offset)
            try:
                async for piece in body:
                    received += len(piece)
                    if received > length:
                        break
                    digest.update(piece)
                    f.write(piece)
            except BaseException:
                f.truncate(offset)  # a body cut off mid-way leaves nothing behind
                raise
            if received != length:
                f.truncate(offset)
                raise ChunkLengthMismatch(received)
            f.truncate(offset + length)
            if self.durable:
                f.flush()
                os.fsync(f.fileno())
        if self.durable and mode == "w+b":  # the new file's name, too, survives a power loss
            fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        return digest.hexdigest()

    async def chunk_digest(self, body: AsyncIterator[bytes], length: int) -> str:
        """The sha256 of a body that is not kept (a repeated chunk); mismatched length raises."""
        digest = hashlib.sha256()
        received = 0
        async for piece in body:
            received += len(piece)
            if received > length:
                break
            digest.update(piece)
        if received != length:
            raise ChunkLengthMismatch(received)
        return digest.hexdigest()

    def clear(self) -> None:
        """Remove every spooled file (on reset)."""
        with self._lock:
            root = self._root
        if root is not None and root.exists():
            for child in root.iterdir():
                if child.name != _OWNER:
                    child.unlink(missing_ok=True)

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()


def _stem(publish_id: str, generation: int) -> str:
    return f"{generation}-{hashlib.sha256(publish_id.encode()).hexdigest()[:32]}"


def _hold_owner_lock(root: Path) -> int | None:
    if fcntl is None:
        return None
    fd = os.open(root / _OWNER, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def _remove_spool(root: Path, owner_fd: int | None) -> None:
    shutil.rmtree(root, ignore_errors=True)
    if owner_fd is not None:
        os.close(owner_fd)
