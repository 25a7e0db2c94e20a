"""The chunk plan against ref 10.1, the rules written here independently of client.chunks."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from client.chunks import ChunkPlan, plan_chunks

MB = 1024 * 1024  # ref 10.1: binary megabytes
GB = 1024 * MB


def assert_follows_ref_10_1(plan: ChunkPlan, size: int) -> None:
    count, chunk = plan.total_chunk_count, plan.chunk_size
    assert plan.video_size == size
    assert 1 <= count <= 1000  # 1 to 1000 chunks
    assert count == size // chunk  # floor(video_size / chunk_size)
    if size < 5 * MB:  # under 5 MB: whole, chunk_size == video_size
        assert (chunk, count) == (size, 1)
    else:
        assert 5 * MB <= chunk <= 64 * MB  # every chunk 5-64 MB...
    if size > 64 * MB:
        assert count > 1  # over 64 MB must be chunked
    ranges = list(plan.ranges())
    assert len(ranges) == count
    assert ranges[0][0] == 0 and ranges[-1][1] == size - 1
    for (_, last), (first, _) in itertools.pairwise(ranges):
        assert first == last + 1  # contiguous, in order
    for first, last in ranges[:-1]:
        assert last - first + 1 == chunk
    final = ranges[-1][1] - ranges[-1][0] + 1
    assert final <= 128 * MB  # ...but the final one, which may reach 128 MB
    assert final >= min(chunk, size)


@given(st.integers(min_value=1, max_value=4 * GB))
@example(1)
@example(5 * MB - 1)
@example(5 * MB)
@example(64 * MB)
@example(64 * MB + 1)
@example(128 * MB - 1)
@example(4 * GB)
def test_every_size_gets_a_valid_plan(size: int) -> None:
    assert_follows_ref_10_1(plan_chunks(size), size)


@given(
    st.integers(min_value=1, max_value=4 * GB),
    st.integers(min_value=0, max_value=256 * MB),
)
@example(100 * MB, 64 * MB)  # over 64 MB, but under two 64 MB chunks
def test_any_preferred_chunk_size_is_clamped_into_a_valid_plan(size: int, chunk: int) -> None:
    assert_follows_ref_10_1(plan_chunks(size, chunk), size)


def test_the_reference_example_shape() -> None:
    # ref 10.1: 50,000,123 bytes at 10,000,000 per chunk: 5 chunks, the last 10,000,123 bytes.
    plan = plan_chunks(50_000_123, 10_000_000)
    assert (plan.chunk_size, plan.total_chunk_count) == (10_000_000, 5)
    assert list(plan.ranges())[-1] == (40_000_000, 50_000_122)


def test_the_default_plan_uses_5_mb_chunks() -> None:
    plan = plan_chunks(15 * MB + 12345)
    assert (plan.chunk_size, plan.total_chunk_count) == (5 * MB, 3)
    assert plan.source_info() == {
        "source": "FILE_UPLOAD",
        "video_size": 15 * MB + 12345,
        "chunk_size": 5 * MB,
        "total_chunk_count": 3,
    }


@pytest.mark.parametrize("size", [0, -1, 4 * GB + 1])
def test_sizes_outside_1_byte_to_4_gb_are_refused(size: int) -> None:
    with pytest.raises(ValueError):
        plan_chunks(size)
