"""Commits write what a change touched: the rows they leave are the whole state's, a write that
fails is made good by the next, and what was under way when the sandbox stopped goes on."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import random
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.domain.changes import Changes, TrackedDict, scope
from mock_server.domain.publishing import PROCESSING_DOWNLOAD
from mock_server.runtime import ticker
from mock_server.runtime.clock import Clock
from mock_server.runtime.fetcher import StaticFetcher
from mock_server.runtime.webhooks import RecordingWebhookSender
from mock_server.sandbox import Sandbox
from mock_server.store import sqlite as store_sqlite
from mock_server.store.codec import full_rows
from mock_server.store.recorder import Change
from tests.mock_server.api.conftest import LOOPBACK_MEDIA, HeldFetcher
from tests.mock_server.lifecycle_kit import (
    ANA,
    AUDITED,
    BEN,
    CHUNK,
    SCOPES,
    STATUS,
    T0,
    UNAUDITED,
    VIDEO_INIT,
    plan,
)
from tests.mock_server.store.workload import STEPS, Facts, check, step

CREATOR_INFO = "/v2/post/publish/creator_info/query/"


def rows_on_disk(directory: Path) -> dict[str, dict[str, str]]:
    """What the directory holds: its database and the commits its log holds, as a reader
    (`export --data-dir`) or a restart finds them."""
    return store_sqlite.read_rows(directory)


def comparable(rows: dict[str, dict[str, str]]) -> dict[str, object]:
    """Rows as compared: in order, but deliveries, rate-limit keys and journal entries (read
    in their own order) as sets; `written_by` is written at each start."""
    out: dict[str, object] = {}
    for kind, found in rows.items():
        if not found:
            continue
        if kind in ("world.outbox.deliveries", "world.limiter.hits", "journal.entries"):
            out[kind] = dict(found)
        else:
            out[kind] = [(k, v) for k, v in found.items() if k != "written_by"]
    return out


def sandbox_in(directory: Path, **kwargs: object) -> Sandbox:
    return Sandbox(
        "default",
        clock=Clock.frozen_at(T0),
        data_dir=directory,
        fetcher=kwargs.pop("fetcher", StaticFetcher({})),  # type: ignore[arg-type]
        webhook_sender=RecordingWebhookSender(),
        **kwargs,  # type: ignore[arg-type]
    )


# -- what a change touches --------------------------------------------------------------------


def test_a_tracked_dict_notes_what_it_hands_out_stores_and_removes() -> None:
    changes = Changes()
    tracked = TrackedDict("publishes", changes, {"a": 1, "b": 2, "c": 3})
    with scope() as touched:
        assert tracked["a"] == 1 and tracked.get("b") == 2 and tracked.get("zz") is None
        tracked["d"] = 4
        del tracked["c"]
    assert list(touched) == [
        ("publishes", "a"),
        ("publishes", "b"),
        ("publishes", "d"),
        ("publishes", "c"),
    ]
    assert changes.loose == {}  # a scope keeps its own
    assert list(tracked) == ["a", "b", "d"]  # iteration is the dict's, and notes nothing
    tracked.pop("a")
    assert list(changes.take_loose()) == [("publishes", "a")]  # outside a scope: loose
    assert changes.loose == {}


def test_a_sandbox_in_memory_tracks_nothing() -> None:
    sandbox = Sandbox("default")
    assert sandbox.state.world.changes is None
    assert type(sandbox.state.world.publishes) is dict
    sandbox.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.sampled_from(STEPS), min_size=1, max_size=20), seed=st.integers(0, 99))
def test_the_rows_commits_leave_are_the_whole_states(
    tmp_path_factory: pytest.TempPathFactory, steps: list[str], seed: int
) -> None:
    directory = tmp_path_factory.mktemp("data")
    sandbox = sandbox_in(directory)
    rng = random.Random(seed)
    facts = Facts()
    with sandbox.client() as http:
        for name in ["tokens", *steps]:
            step(http, name, facts, rng)
            sandbox.pump()
            with sandbox.state.lock:
                expected = full_rows(sandbox.state)
            assert comparable(rows_on_disk(directory)) == comparable(expected), name
    sandbox.close()
    # Its own clock (a clock handed in is the caller's: never restored from the directory).
    again = Sandbox("default", data_dir=directory, fetcher=StaticFetcher({}))
    with again.client() as http:
        check(http, facts)
    again.close()


def test_a_read_writes_its_journal_entry_not_the_records_it_only_read(tmp_path: Path) -> None:
    sandbox = sandbox_in(tmp_path / "data")
    token = sandbox.issue_tokens(AUDITED, ANA, SCOPES)["access_token"]
    written: list[list[tuple[str, str, str]]] = []
    store = sandbox.state.store
    apply = store.apply

    def spy(change: Change) -> None:
        # Its upserts, and the rows it writes that the store never held (a new journal entry).
        written.append([*change.upserts, *((kind, key, doc) for (kind, key), doc in change.born)])
        apply(change)

    store.apply = spy  # type: ignore[method-assign]
    with sandbox.client() as http:
        for _ in range(2):
            answer = http.post(CREATOR_INFO, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200
    kinds = {kind for kind, _, _ in written[-1]}
    assert "journal.entries" in kinds and "world.limiter.hits" in kinds
    assert not kinds & {"world.apps", "world.creators", "world.access_tokens", "world.grants"}
    sandbox.close()


def test_the_endpoints_that_only_read_leave_every_row_as_the_state_holds_it(
    tmp_path: Path,
) -> None:
    """creator_info, status fetch, user info and the video endpoints do not note the caller's
    token, grant, app, creator or publish (domain.endpoints.READS_ONLY): they must change none
    of them, even where a read could tidy up (an unaudited app's active creators, a day on)."""
    directory = tmp_path / "data"
    sandbox = sandbox_in(directory)
    token = sandbox.issue_tokens(UNAUDITED, BEN, SCOPES)["access_token"]
    with sandbox.client() as http:
        body = {"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": plan(1000)}
        answer = http.post(VIDEO_INIT, headers={"Authorization": f"Bearer {token}"}, json=body)
        assert answer.json()["error"]["code"] == "ok", answer.text
        publish_id = answer.json()["data"]["publish_id"]
        sandbox.advance(25 * 3600)  # BEN's post has left the app's 24 h window
        token = sandbox.issue_tokens(UNAUDITED, BEN, SCOPES)["access_token"]
        display = sandbox.issue_tokens(AUDITED, ANA, [*SCOPES, "video.list"])["access_token"]
        reads = [
            (token, "POST", CREATOR_INFO, None),
            (token, "POST", STATUS, {"publish_id": publish_id}),
            (token, "GET", "/v2/user/info/?fields=open_id,display_name", None),
            (display, "POST", "/v2/video/list/?fields=id,title", {"max_count": 5}),
            (display, "POST", "/v2/video/query/?fields=id", {"filters": {"video_ids": ["7"]}}),
        ]
        for bearer, method, path, json_body in reads:
            auth = {"Authorization": f"Bearer {bearer}"}
            answer = http.request(method, path, headers=auth, json=json_body)
            assert answer.status_code == 200, answer.text
            expected = full_rows(sandbox.state)
            assert comparable(rows_on_disk(directory)) == comparable(expected), path
    sandbox.close()


# -- served: answers share commits ------------------------------------------------------------


def test_concurrent_answers_are_each_kept_before_they_leave(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    sandbox = sandbox_in(directory)
    tokens = [sandbox.issue_tokens(AUDITED, ANA, SCOPES)["access_token"] for _ in range(8)]
    refreshed: list[str] = []
    lock = threading.Lock()
    with sandbox.serve() as running:
        secret = sandbox.state.world.apps[AUDITED].client_secret
        refresh_tokens = [
            g.refresh_tokens[-1] for g in sandbox.state.world.grants.values() if g.refresh_tokens
        ]

        def refresh(token: str) -> None:
            with httpx.Client(base_url=running.url) as http:
                answer = http.post(
                    "/v2/oauth/token/",
                    data={
                        "client_key": AUDITED,
                        "client_secret": secret,
                        "grant_type": "refresh_token",
                        "refresh_token": token,
                    },
                )
                assert answer.status_code == 200, answer.text
                # Acknowledged: the new token is on disk now, whatever happens next.
                new = answer.json()["access_token"]
                assert new in rows_on_disk(directory)["world.access_tokens"]
                with lock:
                    refreshed.append(new)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(refresh, refresh_tokens[-8:]))
    sandbox.close()
    assert len(refreshed) == 8 and len(tokens) == 8


# -- failures and what was under way ----------------------------------------------------------


def test_a_failed_write_refuses_the_answer_and_the_next_commit_writes_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "data"
    sandbox = sandbox_in(directory)
    token = sandbox.issue_tokens(AUDITED, ANA, SCOPES)["access_token"]
    real = store_sqlite.SqliteStore._append

    def full_disk(self: store_sqlite.SqliteStore, fd: int, data: bytes) -> None:
        os.write(fd, data[: len(data) // 2])  # a torn commit, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_sqlite.SqliteStore, "_append", full_disk)
    with sandbox.client() as http:
        answer = http.post(CREATOR_INFO, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 500  # the answer is not given: it could not be kept
        assert "Traceback" not in answer.text
        monkeypatch.setattr(store_sqlite.SqliteStore, "_append", real)
        assert http.post(CREATOR_INFO, headers={"Authorization": f"Bearer {token}"}).is_success
    with sandbox.state.lock:
        expected = full_rows(sandbox.state)
    assert comparable(rows_on_disk(directory)) == comparable(expected)
    sandbox.close()
    again = sandbox_in(directory)  # the torn commit is not read back
    with again.state.lock:
        assert comparable(full_rows(again.state)) == comparable(expected)
    again.close()


def test_a_pull_under_way_when_the_sandbox_stopped_starts_again(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    held = HeldFetcher()
    first = sandbox_in(directory, fetcher=held)
    token = first.issue_tokens(AUDITED, ANA, SCOPES)["access_token"]
    url = LOOPBACK_MEDIA + "clip.mp4"
    with first.client() as http:
        answer = http.post(
            VIDEO_INIT,
            headers={"Authorization": f"Bearer {token}"},
            json={
                "post_info": {"privacy_level": "SELF_ONLY"},
                "source_info": {"source": "PULL_FROM_URL", "video_url": url},
            },
        )
        assert answer.status_code == 200, answer.text
        publish_id = answer.json()["data"]["publish_id"]
    held.release()  # the download ends because the sandbox stops: not a failure
    first.close()

    fetcher = StaticFetcher({url: b"not a video at all"})
    second = sandbox_in(directory, fetcher=fetcher)
    assert second.state.downloads.settle(10)
    assert fetcher.requested == [url]
    second.advance(600)  # the sandbox clock lets the download arrive and be checked
    publish = second.state.world.publishes[publish_id]
    assert publish.status != PROCESSING_DOWNLOAD
    assert publish.fail_reason == "file_format_check_failed"
    second.close()


def test_fsync_waits_for_the_disk(tmp_path: Path) -> None:
    sandbox = sandbox_in(tmp_path / "data", fsync=True)
    db = sandbox.state.store._db  # type: ignore[attr-defined]
    assert db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    sandbox.issue_tokens(AUDITED, ANA, SCOPES)
    sandbox.close()
    plain = sandbox_in(tmp_path / "other")
    assert plain.state.store._db.execute("PRAGMA synchronous").fetchone() == (1,)  # type: ignore[attr-defined]
    plain.close()


def test_fsync_makes_the_names_of_new_directories_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[Path] = []
    real = store_sqlite._fsync_directory
    monkeypatch.setattr(
        store_sqlite, "_fsync_directory", lambda path: (synced.append(path), real(path))
    )
    sandbox_in(tmp_path / "a" / "b" / "data", fsync=True).close()
    # Each new directory's entry in its parent, outermost first, before the first commit's
    # log is started in the data directory itself.
    assert synced[:3] == [tmp_path, tmp_path / "a", tmp_path / "a" / "b"]
    assert tmp_path / "a" / "b" / "data" in synced[3:]
    synced.clear()
    sandbox_in(tmp_path / "plain", fsync=False).close()
    assert synced == []


# -- what the review found ---------------------------------------------------------------------


def test_a_change_not_yet_committed_is_not_written_by_anothers_commit(tmp_path: Path) -> None:
    """All or nothing: a publish failing in one request queues its webhook; another change's
    commit (the ticker's, another answer's) must not write that delivery without the publish.
    (An upload waiting for its chunks: no background download shares the publish meanwhile.)"""
    from mock_server.domain import lifecycle

    directory = tmp_path / "data"
    sandbox = sandbox_in(directory)
    token = sandbox.issue_tokens(AUDITED, ANA, SCOPES)["access_token"]
    with sandbox.client() as http:
        sandbox.state.world.apps[AUDITED].webhook_url = "http://127.0.0.1:9/hook"
        answer = http.post(
            VIDEO_INIT,
            headers={"Authorization": f"Bearer {token}"},
            json={"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": plan(CHUNK)},
        )
        assert answer.status_code == 200, answer.text
        publish_id = answer.json()["data"]["publish_id"]
    state = sandbox.state
    state.commit()
    before = rows_on_disk(directory).get("world.outbox.deliveries", {})
    with scope() as touched:  # request A, between its change and its commit
        with state.lock:
            publish = state.world.publishes[publish_id]
            lifecycle.fail(state.world, publish, "auth_removed", state.now())
        state.commit()  # someone else's commit
        on_disk = rows_on_disk(directory)
        assert on_disk.get("world.outbox.deliveries", {}) == before
        assert '"status":"PROCESSING_UPLOAD"' in on_disk["world.publishes"][publish_id]
        state.commit(touched)  # A's own
    on_disk = rows_on_disk(directory)
    assert '"status":"FAILED"' in on_disk["world.publishes"][publish_id]
    assert len(on_disk["world.outbox.deliveries"]) == len(before) + 1
    sandbox.close()


@pytest.mark.parametrize("fsync", [False, True], ids=["by-the-event-loop", "by-the-writer"])
def test_served_concurrent_changes_keep_the_rows_the_states(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsync: bool
) -> None:
    """Every commit of a served sandbox under concurrent requests checks its rows against the
    whole state (a mismatch would answer 500): commits made by the event loop for the answers
    of each of its turns, and (with fsync) by the writer thread."""
    monkeypatch.setenv("TIKTOK_SANDBOX_VERIFY_STORE", "1")
    directory = tmp_path / "data"
    sandbox = sandbox_in(directory, fsync=fsync)
    statuses: list[int] = []
    with sandbox.serve() as running:

        def work(i: int) -> None:
            with httpx.Client(base_url=running.url) as http:
                for _ in range(6):
                    made = http.post(
                        "/_sandbox/tokens",
                        json={"client_key": AUDITED, "username": ANA, "scopes": SCOPES},
                    )
                    statuses.append(made.status_code)
                    bearer = {"Authorization": f"Bearer {made.json()['access_token']}"}
                    statuses.append(http.post(CREATOR_INFO, headers=bearer).status_code)
                    statuses.append(
                        http.post("/_sandbox/clock", json={"advance_seconds": 1}).status_code
                    )
                    statuses.append(http.get("/_sandbox/publishes").status_code)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(work, range(8)))
    sandbox.close()
    assert statuses and set(statuses) == {200}


def _waiting_on_a_loop_of_its_own(sandbox: Sandbox) -> tuple[asyncio.AbstractEventLoop, object]:
    """A token made through an in-process async client on an event loop of its own, stepped
    until its answer waits for its commit (as a served sandbox's commits are shared: the
    ticker sets `background_dispatch`); that loop is then left alone, as a thread might be."""
    sandbox.state.background_dispatch = True
    loop = asyncio.new_event_loop()
    client = sandbox.async_client()
    body = {"client_key": AUDITED, "username": ANA, "scopes": SCOPES}
    task = loop.create_task(client.post("/_sandbox/tokens", json=body))
    for _ in range(500):
        loop.call_soon(loop.stop)
        loop.run_forever()
        group = sandbox.state._group
        if group is not None and loop in group._turns:
            return loop, task
    raise AssertionError("the request never waited for its commit")


def test_an_answer_on_one_event_loop_leaves_once_what_waits_on_another_is_kept(
    tmp_path: Path,
) -> None:
    # An answer may show a change another event loop's request made (the journal lists it):
    # when it leaves, that change is in the directory too, whichever loop commits first.
    directory = tmp_path / "data"
    sandbox = sandbox_in(directory)
    loop, task = _waiting_on_a_loop_of_its_own(sandbox)
    with sandbox.client() as http:  # this thread's own event loop
        listed = http.get("/_sandbox/journal").json()["entries"]
    made = [entry for entry in listed if entry["path"] == "/_sandbox/tokens"]
    assert made, "the other loop's request is in the journal"
    token = json.loads(made[0]["response_body"])["access_token"]
    assert token in rows_on_disk(directory).get("world.access_tokens", {})  # as kill -9 leaves it
    answer = loop.run_until_complete(task)  # type: ignore[arg-type]
    assert answer.status_code == 200 and answer.json()["access_token"] == token
    loop.close()
    sandbox.close()


def test_closing_keeps_what_still_waits_for_its_commit(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    sandbox = sandbox_in(directory)
    loop, task = _waiting_on_a_loop_of_its_own(sandbox)
    sandbox.close()
    answer = loop.run_until_complete(task)  # type: ignore[arg-type]
    loop.close()
    assert answer.status_code == 200
    assert answer.json()["access_token"] in rows_on_disk(directory).get("world.access_tokens", {})


def test_served_a_full_log_is_folded_by_the_ticker_not_on_the_answers_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A log this full is folded at once in process; served, within a tick of the ticker's
    # thread, while the answers go on (the event loop makes their commits).
    monkeypatch.setattr(store_sqlite, "FOLD_ROWS", 5)  # every commit here leaves it full
    monkeypatch.setattr(ticker, "CHECKPOINT_EVERY_SECONDS", 3600.0)  # no fold but a full log's
    folds: list[str] = []  # the thread of each fold
    fold = store_sqlite.SqliteStore.checkpoint

    def noted_fold(store: store_sqlite.SqliteStore) -> None:
        folds.append(threading.current_thread().name)
        fold(store)

    def in_database() -> set[str]:
        db = sqlite3.connect(directory / store_sqlite.DB_NAME)
        try:
            return {key for (key,) in db.execute("SELECT key FROM rows")}
        finally:
            db.close()

    monkeypatch.setattr(store_sqlite.SqliteStore, "checkpoint", noted_fold)
    directory = tmp_path / "data"
    sandbox = sandbox_in(directory)
    with sandbox.serve() as running, httpx.Client(base_url=running.url) as http:
        folds.clear()  # those of the start, in process
        made = {
            http.post(
                "/_sandbox/tokens", json={"client_key": AUDITED, "username": ANA, "scopes": SCOPES}
            ).json()["access_token"]
            for _ in range(6)
        }
        deadline = time.monotonic() + 10
        while not made <= in_database() and time.monotonic() < deadline:
            time.sleep(0.02)
        folded = made <= in_database()
        seen = set(folds)
    sandbox.close()
    assert folded, "the full log was not folded into the database"
    assert seen == {"tiktok-sandbox-ticker"}


def test_an_import_that_does_not_decode_leaves_the_directory_alone(tmp_path: Path) -> None:
    import json

    from mock_server.store import StoreError, read_snapshot
    from mock_server.store.codec import state_to_doc

    directory = tmp_path / "data"
    first = sandbox_in(directory)
    first.issue_tokens(AUDITED, ANA, SCOPES)
    doc = state_to_doc(first.state)
    first.close()
    before = rows_on_disk(directory)
    doc["world"]["publishes"] = 5
    snapshot = tmp_path / "bad.json"
    snapshot.write_text(json.dumps(doc))
    with pytest.raises(StoreError, match=r"^--import .*bad\.json: "):
        read_snapshot(snapshot)
    assert rows_on_disk(directory) == before


def test_a_row_nested_too_deeply_is_a_one_line_error(tmp_path: Path) -> None:
    from mock_server.store import StoreError

    directory = tmp_path / "data"
    sandbox_in(directory).close()
    db = sqlite3.connect(directory / "state.sqlite3")
    db.execute(
        "UPDATE rows SET doc = ? WHERE kind = 'world.apps'", ("[" * 100_000 + "]" * 100_000,)
    )
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="corrupt state"):
        sandbox_in(directory)
