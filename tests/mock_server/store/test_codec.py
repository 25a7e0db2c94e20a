"""The state document: every field of a real sandbox's state, round-trip exact."""

from __future__ import annotations

import json
import random
from array import array
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.domain.world import World
from mock_server.runtime.clock import Clock
from mock_server.runtime.fetcher import StaticFetcher
from mock_server.runtime.journal import JournalEntry, Recording
from mock_server.runtime.webhooks import RecordingWebhookSender
from mock_server.sandbox import Sandbox
from mock_server.store.codec import (
    VERSION,
    StateFormatError,
    decode,
    encode,
    hits_in,
    hits_out,
    journal_entry,
    journal_entry_in,
    restore_state,
    state_to_doc,
    world_from_doc,
    world_to_doc,
)
from tests.mock_server.lifecycle_kit import T0
from tests.mock_server.store.workload import STEPS, Facts, step


def driven(steps: list[str], seed: int) -> tuple[Sandbox, Facts]:
    sandbox = Sandbox(
        "default",
        clock=Clock.frozen_at(T0),
        fetcher=StaticFetcher({}),
        webhook_sender=RecordingWebhookSender(),
    )
    facts = Facts()
    rng = random.Random(seed)
    with sandbox.client() as http:
        for name in steps:
            step(http, name, facts, rng)
            sandbox.pump()
    return sandbox, facts


def through_json(doc: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(doc, allow_nan=False))
    return loaded


def restored(doc: dict[str, Any]) -> Sandbox:
    """A sandbox of its own clock (a clock handed in is the caller's: never restored)."""
    sandbox = Sandbox(
        "default",
        fetcher=StaticFetcher({}),
        webhook_sender=RecordingWebhookSender(),
    )
    restore_state(sandbox.state, through_json(doc))
    return sandbox


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.sampled_from(STEPS), min_size=1, max_size=25), seed=st.integers(0, 99))
def test_a_driven_sandbox_round_trips_exactly(steps: list[str], seed: int) -> None:
    original, _ = driven(["tokens", *steps], seed)
    doc = state_to_doc(original.state)
    copy = restored(doc)
    assert state_to_doc(copy.state) == through_json(doc)
    # The World itself (dataclass equality, every field) is the same...
    world = world_from_doc(through_json(world_to_doc(original.state.world)))
    assert world_to_doc(world) == world_to_doc(original.state.world)
    # ...and both sandboxes go on the same way: the same next tokens, ids and answers.
    rng_a, rng_b = random.Random(seed), random.Random(seed)
    facts_a, facts_b = Facts(), Facts()
    with original.client() as a, copy.client() as b:
        for name in ["tokens", "init", "put", "status", "creator_info"]:
            answer_a, answer_b = step(a, name, facts_a, rng_a), step(b, name, facts_b, rng_b)
            assert answer_a is not None and answer_b is not None
            assert (answer_a.status_code, answer_a.text) == (answer_b.status_code, answer_b.text)
    assert state_to_doc(original.state)["world"] == state_to_doc(copy.state)["world"]
    original.close()
    copy.close()


def test_unbounded_instants_bytes_and_tuple_keys_survive_json() -> None:
    sandbox, _ = driven(["tokens", "webhook_url", "init", "put", "advance"], 1)
    world = sandbox.state.world
    world.next_sweep_at = float("-inf")
    doc = through_json(world_to_doc(world))
    assert doc["next_sweep_at"] == "-inf"
    back = world_from_doc(doc)
    assert back.next_sweep_at == float("-inf")
    assert back.grants_by_pair == world.grants_by_pair
    assert all(isinstance(k, tuple) for k in back.grants_by_pair)
    bodies = [d.body for log in world.outbox.by_app.values() for d in log]
    assert bodies, "the workload made webhook deliveries"
    assert [d.body for log in back.outbox.by_app.values() for d in log] == bodies
    assert back.creator_by_uid(next(iter(world.creators.values())).uid) is not None
    sandbox.close()


def test_a_document_of_another_version_or_shape_is_refused() -> None:
    sandbox, _ = driven(["tokens"], 1)
    doc = state_to_doc(sandbox.state)
    before = state_to_doc(sandbox.state)
    with pytest.raises(StateFormatError, match=f"state format {VERSION + 1}"):
        restore_state(sandbox.state, {**doc, "version": VERSION + 1})
    with pytest.raises(StateFormatError, match="not a tiktok-sandbox state document"):
        restore_state(sandbox.state, {"hello": 1})
    broken = through_json(doc)
    broken["world"]["apps"][next(iter(broken["world"]["apps"]))]["stage"] = "launched"
    with pytest.raises(StateFormatError, match="launched"):
        restore_state(sandbox.state, broken)
    broken = through_json(doc)
    broken["world"]["surprise"] = 1
    with pytest.raises(StateFormatError, match="surprise"):
        restore_state(sandbox.state, broken)
    assert state_to_doc(sandbox.state) == before  # a refused document changed nothing
    sandbox.close()


def test_values_the_codec_cannot_store_are_named() -> None:
    with pytest.raises(TypeError, match="cannot store a object"):
        encode(object())
    assert decode(["inf", 1.5], tuple[float, float]) == (float("inf"), 1.5)
    with pytest.raises(StateFormatError):
        decode("x", int)
    assert isinstance(World, type)


def _recording(**changes: Any) -> Recording:
    fields: dict[str, Any] = {
        "at": 1_767_225_600.25,
        "method": "PUT",
        "path": "/upload/",
        "query": b"upload_id=u1&x=%C3%A9",
        "status": 201,
        "notes": {"client_key": "app", "media": {"duration": 5.0, "codec": "h264"}},
        "headers": [
            (b"host", b"127.0.0.1:9000"),
            (b"content-range", b"bytes 0-99/100"),
            (b"user-agent", "caf\u00e9".encode("latin-1")),  # a Latin-1 byte above 0x7f
            (b"x-not-kept", b"secret"),
        ],
        "request_head": bytes(range(256)) * 80,  # binary, over REPLAY_BYTES
        "request_size": 5_000_000,
        "response_head": b"",
        "response_headers": {"content-type": "application/json"},
        "scheme": "http",
        "server": ("127.0.0.1", 9000),
        "seq": 42,
    }
    return Recording(**{**fields, **changes})


@pytest.mark.parametrize(
    "recording",
    [
        _recording(),
        _recording(request_head=b'{"a": "\\u00e9"}', request_size=16, server=None),
        _recording(request_head=b"\xff\xfe" * 100, request_size=200, response_head=b"\x00"),
        _recording(headers=[], query=b"", notes={}, response_head=b'{"error": "x"}'),
    ],
    ids=["binary upload", "json body, no server", "small binary", "no headers"],
)
def test_a_journal_entry_is_kept_as_its_request_and_reads_back_the_same(
    recording: Recording,
) -> None:
    row = through_json(journal_entry(recording))
    back = journal_entry_in(row)
    assert isinstance(back, Recording)
    assert back.entry() == recording.entry()  # every field, the replayed exchange included
    assert back.entry().exchange == recording.entry().exchange
    # What the entry never reads is not kept: a header it leaves out, a body it only previews.
    assert b"x-not-kept" not in dict(back.headers)
    text = json.dumps(row)
    assert "secret" not in text and len(text) < 12_000


def test_a_document_of_format_1_with_built_journal_entries_is_read() -> None:
    sandbox, _ = driven(["tokens", "init", "put", "status", "creator_info"], 3)
    entries = [e.entry() if isinstance(e, Recording) else e for e in sandbox.state.journal._entries]
    assert entries, "the workload was journaled"
    doc = through_json(state_to_doc(sandbox.state))
    doc["version"] = 1  # format 1 kept built entries, in the codec's form of a JournalEntry
    doc["journal"]["entries"] = [encode(entry, JournalEntry) for entry in entries]
    hits = doc["world"]["limiter"]["hits"]
    assert hits, "the workload was rate-limited"
    doc["world"]["limiter"]["hits"] = {k: hits_in(v) for k, v in hits.items()}  # as numbers
    copy = restored(doc)
    back = [e.entry() if isinstance(e, Recording) else e for e in copy.state.journal._entries]
    assert back == entries
    assert copy.state.world.limiter._hits == sandbox.state.world.limiter._hits
    sandbox.close()
    copy.close()


def test_rate_limit_hits_are_packed_exactly() -> None:
    times = [1_767_225_600.123456789, 1_767_225_604.5, 0.1 + 0.2, 5e-324]
    assert hits_in(json.loads(json.dumps(hits_out(times)))) == times
    assert hits_in(hits_out([])) == []
    # The limiter's own array of doubles, packed from its bytes: the same text.
    assert hits_out(array("d", times)) == hits_out(times)
    assert hits_out(array("d")) == hits_out([])
    for bad in ("not base64!", "AAAA", 12):
        with pytest.raises((StateFormatError, ValueError)):
            hits_in(bad)
