"""Upload progress for a person watching: bytes as they leave, not a chunk at a time.

    progress = UploadProgress(sys.stderr, "clip.mp4")
    with CountingReader("clip.mp4") as video:           # hand `video` to post_video
        video.on_read = progress.sent                    # once probing is over
        tiktok.post_video(video, info, progress=progress.held)

On a terminal it is a tqdm bar (bytes, rate, time left). Anywhere else (a CI log, a pipe) it is
a plain line at the start, at every tenth of the file and at the end: no `\\r`, no redraws.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any, TextIO

from tqdm import tqdm

SLICE = 64 * 1024  # bytes handed to the transport at a time: what makes the bar move smoothly
STEPS = 10  # plain lines: one per tenth of the file


def human_bytes(size: int) -> str:
    """`834 B`, `19.6 KiB`, `15.0 MiB`, `3.9 GiB`: binary units, as TikTok counts MB (ref 10.1)."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f} {unit}"


class UploadProgress:
    """One upload's progress on `stream`. `sent(position, total)` is fed by the bytes read for
    the request body; `held(bytes, total)` by the server's answers (the client's `progress=`
    callback), which win when they disagree (a chunk sent again, a resume)."""

    def __init__(self, stream: TextIO, name: str) -> None:
        self.stream = stream
        self.name = name
        self.done = False
        self._bar: tqdm[Any] | None = None
        self._step = -1

    def sent(self, position: int, total: int) -> None:
        if position < total:  # the last bytes count once the server has them
            self._show(position, total)

    def held(self, held: int, total: int) -> None:
        self._show(held, total)

    def _show(self, position: int, total: int) -> None:
        if self.done:
            return
        if self.stream.isatty():
            self._bar_to(position, total)
        else:
            self._line_at(position, total)
        if total and position >= total:
            self.done = True

    def _bar_to(self, position: int, total: int) -> None:
        bar = self._bar
        if bar is None:
            bar = self._bar = tqdm(
                total=total,
                desc=f"uploading {self.name}",
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=self.stream,
                dynamic_ncols=True,
                leave=True,
            )
        bar.update(position - bar.n)
        if position >= total:
            bar.close()

    def _line_at(self, position: int, total: int) -> None:
        if total and position >= total:
            print(f"uploaded {self.name}: {human_bytes(total)}", file=self.stream, flush=True)
            return
        step = position * STEPS // total if total else 0
        if step <= self._step:
            return
        self._step = step
        percent = step * 100 // STEPS
        print(
            f"uploading {self.name}: {percent}% ({human_bytes(position)} of {human_bytes(total)})",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        """Stop drawing (an upload that failed half-way leaves its last line as it was)."""
        if self._bar is not None and not self.done:
            self._bar.close()
        self.done = True


class CountingReader(io.FileIO):
    """A video file opened for reading that reports, once `on_read` is set, the position after
    each read, and reads at most `SLICE` bytes at a time so the report advances smoothly while
    the client streams a chunk to the socket."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(path, "rb")
        self.size = os.fstat(self.fileno()).st_size
        self.on_read: Callable[[int, int], None] | None = None

    def read(self, size: int | None = -1, /) -> bytes:
        if self.on_read is None:
            return super().read(size)
        if size is None or size < 0 or size > SLICE:
            size = SLICE
        data = super().read(size)
        self.on_read(self.tell(), self.size)
        return data or b""
