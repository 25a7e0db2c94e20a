"""A served sandbox keeps its memory flat: fewer malloc arenas, free memory given back."""

from __future__ import annotations

import platform
import threading
from pathlib import Path

import pytest

from mock_server import Sandbox
from mock_server.runtime import memory, ticker


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_glibc_takes_the_arena_limit_and_gives_memory_back() -> None:
    assert memory.limit_arenas(8) is True  # 8: glibc's own default on 2-core machines
    assert memory.map_large_blocks() is True
    memory.give_back()
    memory.give_back()


def test_the_ticker_gives_memory_back_every_so_often(monkeypatch: pytest.MonkeyPatch) -> None:
    given = threading.Event()
    monkeypatch.setattr(ticker, "GIVE_BACK_EVERY_SECONDS", 0.05)
    monkeypatch.setattr(memory, "give_back", given.set)
    state = Sandbox().state
    with ticker.Ticker(state, interval=0.01):
        assert given.wait(5), "the ticker never gave memory back"


def test_the_ticker_gives_memory_back_at_start_and_once_a_reset_freed_the_world(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(memory, "give_back", lambda: calls.append(1))
    state = Sandbox().state
    with ticker.Ticker(state, interval=0.01):
        threading.Event().wait(0.2)
        assert calls == [1]  # what starting up freed; then nothing, and the hour is far off
        state.reset()
        for _ in range(500):
            if len(calls) > 1:
                break
            threading.Event().wait(0.01)
    assert calls == [1, 1]


def test_resets_many_times_a_second_neither_stop_checkpoints_nor_each_give_memory_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    given: list[int] = []
    monkeypatch.setattr(memory, "give_back", lambda: given.append(1))
    state = Sandbox(data_dir=tmp_path / "data").state
    checkpoints: list[int] = []
    checkpoint = state.store.checkpoint

    def counted() -> None:
        checkpoints.append(1)
        checkpoint()

    monkeypatch.setattr(state.store, "checkpoint", counted)
    monkeypatch.setattr(ticker, "CHECKPOINT_EVERY_SECONDS", 1.0)  # within the 2.5 s below
    with ticker.Ticker(state, interval=0.01):
        for _ in range(25):
            threading.Event().wait(0.1)
            state.reset()
    assert checkpoints  # every CHECKPOINT_EVERY_SECONDS, whatever the resets
    assert len(given) < 25  # at most once a second, not once a reset
