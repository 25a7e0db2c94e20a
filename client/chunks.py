"""The FILE_UPLOAD chunk plan (ref 10.1): pure arithmetic from a file size.

plan_chunks(50_000_123, chunk_size=10 * MB)
# ChunkPlan(video_size=50000123, chunk_size=10485760, total_chunk_count=4)
list(plan.ranges())[-1]  # (31457280, 50000122): the last chunk takes the remainder
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

MB = 1024 * 1024  # ref 10.1: "MB" is binary (the doc's 4 MB example is 4,194,304 bytes)
MIN_CHUNK = 5 * MB
MAX_CHUNK = 64 * MB
MAX_FINAL_CHUNK = 128 * MB
MAX_CHUNKS = 1000
MAX_VIDEO_BYTES = 4 * 1024 * MB  # ref 13: 4 GB
DEFAULT_CHUNK_SIZE = MIN_CHUNK  # small retries, fine progress; 4 GB is 819 chunks (<= 1000)


@dataclass(frozen=True)
class ChunkPlan:
    video_size: int
    chunk_size: int
    total_chunk_count: int

    def ranges(self) -> Iterator[tuple[int, int]]:
        """(first, last) byte of each chunk, inclusive; the last chunk absorbs the remainder."""
        for index in range(self.total_chunk_count):
            first = index * self.chunk_size
            last = (
                self.video_size - 1
                if index == self.total_chunk_count - 1
                else first + self.chunk_size - 1
            )
            yield first, last

    def source_info(self) -> dict[str, object]:
        """ref 7.2: the FILE_UPLOAD `source_info`."""
        return {
            "source": "FILE_UPLOAD",
            "video_size": self.video_size,
            "chunk_size": self.chunk_size,
            "total_chunk_count": self.total_chunk_count,
        }


def plan_chunks(file_size: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> ChunkPlan:
    """A chunk plan for `file_size` bytes that satisfies every rule of ref 10.1.

    `chunk_size` is a preference, clamped to 5-64 MB. Files under 5 MB, and files smaller than
    the chunk size, go up whole. Otherwise the count is floor(size / chunk), at least 2 over
    64 MB, and the last chunk takes the remainder (under 2 chunks, so at most 128 MB); at 5 MB
    or more per chunk a 4 GB file needs at most 819 chunks.
    """
    if not 0 < file_size <= MAX_VIDEO_BYTES:
        raise ValueError(f"a video is 1 byte to 4 GB ({MAX_VIDEO_BYTES} bytes), not {file_size}")
    chunk = min(MAX_CHUNK, max(MIN_CHUNK, chunk_size))
    if file_size < MIN_CHUNK or file_size < chunk:
        return ChunkPlan(file_size, file_size, 1)
    if file_size > MAX_CHUNK and file_size // chunk < 2:
        chunk = file_size // 2  # over 64 MB must be chunked: two halves, not one big piece
    return ChunkPlan(file_size, chunk, file_size // chunk)
