"""The media spool: uploaded and pulled media stream to temp files, never whole into memory."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

COPY_BLOCK = 1024 * 1024


class ChunkLengthMismatch(Exception):
    """The body carried more or fewer bytes than announced."""

    def __init__(self, received: int) -> None:
        super().__init__(f"received {received} bytes")
        self.received = received


class MediaSpool:
    """One temp directory per sandbox, one file per publish (plus one per photo)."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root
        self._owned = root is None
        self._lock = threading.Lock()
        self._finalizer: weakref.finalize[..., MediaSpool] | None = None

    @property
    def root(self) -> Path:
        with self._lock:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="tiktok-sandbox-media-"))
                self._finalizer = weakref.finalize(self, shutil.rmtree, self._root, True)
            return self._root

    def path(self, publish_id: str, part: int = 0) -> Path:
        name = hashlib.sha256(publish_id.encode()).hexdigest()[:32]
        return self.root / f"{name}.{part}"

    async def write_chunk(
        self, publish_id: str, offset: int, length: int, body: AsyncIterator[bytes]
    ) -> str:
        """Write exactly `length` bytes at `offset`; returns the chunk's sha256.

        On a short or long body nothing past `offset` is kept, and ChunkLengthMismatch says
        how many bytes came.
        """
        path = self.path(publish_id)
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

    def discard(self, publish_id: str, parts: int = 1) -> None:
        for part in range(parts):
            self.path(publish_id, part).unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove every spooled file (on reset)."""
        with self._lock:
            root = self._root
        if root is not None and root.exists():
            for child in root.iterdir():
                child.unlink(missing_ok=True)

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
