"""The request journal: bounded, newest first, filterable, bodies previewed not archived."""

from __future__ import annotations

import pytest

from mock_server.runtime.journal import BODY_PREVIEW_BYTES, Journal, JournalEntry, preview


def entry(journal: Journal, path: str = "/v2/user/info/", client_key: str | None = None) -> None:
    journal.add(
        JournalEntry(
            seq=journal.next_seq(),
            time="2026-01-01T00:00:00Z",
            method="GET",
            path=path,
            query="",
            status=200,
            client_key=client_key,
        )
    )


def seqs(entries: list[JournalEntry]) -> list[int]:
    return [e.seq for e in entries]


def test_newest_first() -> None:
    journal = Journal()
    for _ in range(3):
        entry(journal)
    assert seqs(journal.entries()) == [3, 2, 1]


def test_capacity_drops_the_oldest() -> None:
    journal = Journal(capacity=5)
    for _ in range(12):
        entry(journal)
    assert journal.capacity == 5
    assert seqs(journal.entries()) == [12, 11, 10, 9, 8]


def test_limit() -> None:
    journal = Journal()
    for _ in range(10):
        entry(journal)
    assert seqs(journal.entries(limit=3)) == [10, 9, 8]
    assert journal.entries(limit=0) == []


def test_filter_by_client_key() -> None:
    journal = Journal()
    entry(journal, client_key="aaaa")
    entry(journal, client_key="bbbb")
    entry(journal, client_key=None)
    entry(journal, client_key="aaaa")
    assert seqs(journal.entries(client_key="aaaa")) == [4, 1]
    assert seqs(journal.entries(client_key="bbbb")) == [2]
    assert journal.entries(client_key="cccc") == []


def test_filter_by_path_prefix() -> None:
    journal = Journal()
    entry(journal, path="/v2/oauth/token/")
    entry(journal, path="/v2/user/info/")
    entry(journal, path="/v2/oauth/revoke/")
    assert seqs(journal.entries(path="/v2/oauth/")) == [3, 1]
    assert seqs(journal.entries(path="/v2/")) == [3, 2, 1]
    assert journal.entries(path="/oauth") == []  # a prefix, not a substring


def test_filters_combine_before_the_limit() -> None:
    journal = Journal()
    entry(journal, path="/v2/oauth/token/", client_key="aaaa")
    entry(journal, path="/v2/user/info/", client_key="aaaa")
    entry(journal, path="/v2/oauth/token/", client_key="bbbb")
    entry(journal, path="/v2/oauth/token/", client_key="aaaa")
    assert seqs(journal.entries(client_key="aaaa", path="/v2/oauth/", limit=1)) == [4]
    assert seqs(journal.entries(client_key="aaaa", path="/v2/oauth/")) == [4, 1]


def test_clear_empties_and_keeps_numbering_unless_restarted() -> None:
    journal = Journal()
    entry(journal)
    entry(journal)
    journal.clear()
    assert journal.entries() == []
    entry(journal)
    assert seqs(journal.entries()) == [3]
    assert journal.lost_entries()  # a plain clear: the journal no longer holds the whole run
    journal.clear(restart=True)  # what a sandbox reset does
    entry(journal)
    assert seqs(journal.entries()) == [1]
    assert not journal.lost_entries()


def test_entry_to_json_has_the_documented_fields() -> None:
    journal = Journal()
    entry(journal, client_key="aaaa")
    data = journal.entries()[0].to_json()
    for key in ("seq", "time", "method", "path", "query", "status", "client_key", "error_code"):
        assert key in data
    assert data["rule"] is None
    assert data["client_key"] == "aaaa"


# -- body previews --------------------------------------------------------------------------


def test_short_text_body_is_kept_whole() -> None:
    assert preview(b'{"a": 1}') == '{"a": 1}'
    assert preview("héllo".encode()) == "héllo"
    assert preview(b"") == ""


def test_long_body_is_cut_and_says_so() -> None:
    body = b"x" * (BODY_PREVIEW_BYTES + 100)
    text = preview(body)
    assert text.startswith("x" * BODY_PREVIEW_BYTES)
    assert text.endswith("... <100 more bytes>")
    assert len(text) < len(body)


def test_total_counts_bytes_never_seen() -> None:
    # The middleware keeps only the head of a streamed body and passes the real size.
    head = b"a" * BODY_PREVIEW_BYTES
    assert preview(head, total=10 * BODY_PREVIEW_BYTES).endswith(
        f"<{9 * BODY_PREVIEW_BYTES} more bytes>"
    )


@pytest.mark.parametrize(
    "body", [b"\x00\x9f\x92\x96 binary", bytes(range(256)), b"\xff\xd8\xff\xe0" + b"\x00" * 9000]
)
def test_binary_body_is_summarised(body: bytes) -> None:
    assert preview(body) == f"<{len(body)} bytes of binary data>"


def test_binary_summary_reports_the_full_size() -> None:
    assert preview(b"\xff\xfe", total=5_000_000) == "<5000000 bytes of binary data>"


def test_long_text_cut_inside_a_character_is_still_text() -> None:
    # A caption full of emoji: the 4 KiB cut lands inside a multi-byte character.
    body = ("x" + "🎬" * 2000).encode()
    text = preview(body)
    assert "binary" not in text
    assert text.startswith("x🎬🎬")
    assert text.endswith("more bytes>")
