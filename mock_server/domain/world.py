"""The whole state of one sandbox: TikTok as seen by every app in it."""

from __future__ import annotations

import contextlib
import random
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mock_server.domain.changes import COLLECTIONS, Changes, TrackedDict, peek, touch
from mock_server.domain.faults import FaultRule
from mock_server.domain.ids import CountedRandom, IdFactory, open_id
from mock_server.domain.models import (
    AccessToken,
    App,
    AuthCode,
    ClientToken,
    Creator,
    Grant,
    RefreshToken,
)
from mock_server.domain.outcomes import Injection
from mock_server.domain.publishing import Publish
from mock_server.domain.ratelimit import SlidingWindowLimiter
from mock_server.domain.schedule import Schedule
from mock_server.domain.timing import DEFAULT_PROFILE, TIMING_PROFILES, Timing
from mock_server.domain.webhooks import Outbox

if TYPE_CHECKING:
    from mock_server.domain.oauth import Session

# DESIGN principle 7: everything a client can make the sandbox keep has a limit.
MAX_PUBLISHES = 10_000  # the oldest final ones are forgotten first, then the oldest others
MAX_APPS = 1_000
MAX_CREATORS = 10_000
MAX_FAULT_RULES = 1_000
MAX_INJECTIONS = 1_000


@dataclass
class World:
    ids: IdFactory
    # Which World of its sandbox this is (a reset builds the next): work still running for an
    # earlier World (a download, an upload, a webhook) can tell it is no longer current.
    generation: int = 0
    apps: dict[str, App] = field(default_factory=dict)
    creators: dict[str, Creator] = field(default_factory=dict)  # by username
    codes: dict[str, AuthCode] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    client_tokens: dict[str, ClientToken] = field(default_factory=dict)
    publishes: dict[str, Publish] = field(default_factory=dict)  # oldest first
    uploads: dict[str, str] = field(default_factory=dict)  # upload_id -> publish_id
    timing: Timing = field(default_factory=lambda: TIMING_PROFILES[DEFAULT_PROFILE])
    # Scenario `posting.multi_chunk_init`: "refuse" answers FILE_UPLOAD inits of more than one
    # chunk as TikTok did from about 2026-08-09 (domain.posting.chunk_plan).
    multi_chunk_init: str = "accept"
    schedule: Schedule = field(default_factory=Schedule)
    outbox: Outbox = field(default_factory=Outbox)
    injections: list[Injection] = field(default_factory=list)
    faults: list[FaultRule] = field(default_factory=list)
    fault_rng: random.Random = field(default_factory=lambda: CountedRandom(0))
    limiter: SlidingWindowLimiter = field(default_factory=SlidingWindowLimiter)
    # Indexes and bookkeeping for the bounds in domain.retention.
    grants_by_pair: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    client_tokens_by_app: dict[str, list[str]] = field(default_factory=dict)
    issued_since_sweep: int = 0
    next_sweep_at: float = float("-inf")
    # How many publishes are kept (ServerOptions.max_publishes; the bound of DESIGN 7).
    max_publishes: int = MAX_PUBLISHES
    # Publish ids in the order they became final (the first to forget past max_publishes).
    finished: deque[str] = field(default_factory=deque)
    # Inbox publishes per creator uid that may still be pending drafts (domain.posting
    # .pending_shares prunes it), so counting them never walks every publish.
    drafts_by_creator: dict[str, list[str]] = field(default_factory=dict)
    # Publish ids per creator uid, oldest first; of those the ones given post ids (made public
    # once), in that order; and the publish of each post id: a creator's publishes, its videos
    # (video list and query) and a cover are found without walking every publish.
    publishes_by_creator: dict[str, list[str]] = field(default_factory=dict)
    posts_by_creator: dict[str, list[str]] = field(default_factory=dict)
    by_post_id: dict[str, str] = field(default_factory=dict)
    # Publishes whose media work (a download, spooled bytes) the runtime should drop: they
    # failed, were cancelled or were forgotten. The runtime drains this list.
    released: list[str] = field(default_factory=list)
    _fault_ids: int = 0
    # Creators by uid, and by open_id per app: lookups on every token call and upload.
    _by_uid: dict[str, Creator] = field(default_factory=dict)
    _by_open_id: dict[str, dict[str, Creator]] = field(default_factory=dict)
    # Set when the World is kept in a data directory: what changed since the last commit.
    changes: Changes | None = None

    def track(self) -> Changes:
        """Note from now on which records each change touches (domain.changes)."""
        if self.changes is None:
            changes = self.changes = Changes()
            for name in COLLECTIONS:
                setattr(self, name, TrackedDict(name, changes, getattr(self, name)))
            self.outbox.changes = changes
            self.limiter.changes = changes
        return self.changes

    def touch(self, kind: str, key: str) -> None:
        """A record changed by a way its collection does not see (see domain.changes)."""
        touch(self.changes, kind, key)

    def rebuild_indexes(self) -> None:
        """Make the indexes and bookkeeping derived from the collections again (a World read
        from a data directory or a snapshot keeps only the collections)."""
        self._by_uid = {c.uid: c for c in self.creators.values()}
        self._by_open_id.clear()
        self.grants_by_pair = {}
        for grant in self.grants.values():
            pair = (grant.client_key, grant.creator_uid)
            self.grants_by_pair.setdefault(pair, []).append(grant.grant_id)
        self.client_tokens_by_app = {}
        for token in self.client_tokens.values():
            self.client_tokens_by_app.setdefault(token.client_key, []).append(token.token)
        self.drafts_by_creator = {}
        for publish in self.publishes.values():
            if publish.pending_share:
                self.drafts_by_creator.setdefault(publish.creator_uid, []).append(
                    publish.publish_id
                )
        self.publishes_by_creator, self.posts_by_creator, self.by_post_id = {}, {}, {}
        for publish in self.publishes.values():
            self._index_publish(publish)
        # Final publishes in the order they became final (ties: the order they were made).
        final = [p for p in self.publishes.values() if p.final]
        final.sort(key=lambda p: p.timeline[-1][1] if p.timeline else p.created_at)
        self.finished = deque(p.publish_id for p in final)

    def dangling(self) -> str | None:
        """The first reference between the collections to a record that is not there (a
        document edited by hand, or cut), which the sandbox never leaves: a token's grant, a
        grant's or a publish's app and creator, an upload's publish. None when all are there.
        For a World just read, before anything tracks it."""
        tokens = [("access_tokens", k, t.grant_id) for k, t in self.access_tokens.items()]
        tokens += [("refresh_tokens", k, t.grant_id) for k, t in self.refresh_tokens.items()]
        for name, key, grant_id in tokens:
            if grant_id not in self.grants:
                return f"{name}[{key!r}]: grant {grant_id!r} is not in grants"
        uids = {c.uid for c in self.creators.values()}
        owned = [("grants", k, g.client_key, g.creator_uid) for k, g in self.grants.items()]
        owned += [("publishes", k, p.client_key, p.creator_uid) for k, p in self.publishes.items()]
        for name, key, client_key, creator_uid in owned:
            if client_key not in self.apps:
                return f"{name}[{key!r}]: app {client_key!r} is not in apps"
            if creator_uid not in uids:
                return f"{name}[{key!r}]: creator uid {creator_uid!r} is not in creators"
        for upload_id, publish_id in self.uploads.items():
            if publish_id not in self.publishes:
                return f"uploads[{upload_id!r}]: publish {publish_id!r} is not in publishes"
        return None

    def next_fault_id(self) -> str:
        self._fault_ids += 1
        return f"fault-{self._fault_ids}"

    def add_publish(self, publish: Publish) -> None:
        self.publishes[publish.publish_id] = publish
        self._index_publish(publish)

    def _index_publish(self, publish: Publish) -> None:
        self.publishes_by_creator.setdefault(publish.creator_uid, []).append(publish.publish_id)
        self.note_post_ids(publish)

    def _unindex_publish(self, publish: Publish) -> None:
        _unlist(self.publishes_by_creator, publish.creator_uid, publish.publish_id)
        if publish.post_ids:
            _unlist(self.posts_by_creator, publish.creator_uid, publish.publish_id)
        for post_id in publish.post_ids:
            self.by_post_id.pop(post_id, None)

    def note_post_ids(self, publish: Publish) -> None:
        """Index the post ids a publish was given (domain.lifecycle.make_public)."""
        if not publish.post_ids:
            return
        for post_id in publish.post_ids:
            self.by_post_id[post_id] = publish.publish_id
        self.posts_by_creator.setdefault(publish.creator_uid, []).append(publish.publish_id)

    def iter_publishes(
        self,
        creator_uid: str | None = None,
        *,
        client_key: str | None = None,
        status: str | None = None,
        newest_first: bool = False,
    ) -> Iterator[Publish]:
        """The publishes, or the creator's (from its index, not a walk through everyone's),
        oldest or newest first, lazily (a listing's page stops early), those of `client_key`
        and in `status` when given. Reads: a tracked World does not note them as touched.
        Iterate under the sandbox's lock."""
        found: Iterator[Publish]
        if creator_uid is None:
            values = dict.values(self.publishes)
            found = reversed(values) if newest_first else iter(values)
        else:
            ids = self.publishes_by_creator.get(creator_uid, [])
            found = self._publishes_of(reversed(ids) if newest_first else ids)
        if client_key is not None or status is not None:
            found = (
                p
                for p in found
                if (client_key is None or p.client_key == client_key)
                and (status is None or p.status == status)
            )
        return found

    def creator_posts(self, creator_uid: str) -> Iterator[Publish]:
        """The creator's publishes that were given post ids (public now or once), in the
        order they were (reads, as above)."""
        return self._publishes_of(self.posts_by_creator.get(creator_uid, ()))

    def _publishes_of(self, ids: Iterable[str]) -> Iterator[Publish]:
        publishes = self.publishes
        return (p for i in ids if (p := peek(publishes, i)) is not None)

    def publish_of_post(self, post_id: str) -> Publish | None:
        """The publish that was given `post_id` (a read, as above)."""
        publish_id = self.by_post_id.get(post_id)
        return None if publish_id is None else peek(self.publishes, publish_id)

    def forget_old_publishes(self, keep: int | None = None) -> None:
        """Bound what the sandbox keeps: past `keep` (`max_publishes`) publishes, the ones that
        finished first go, then (only if none is final) the oldest of the others. Each call
        forgets what the last additions brought over the bound: O(1) per publish."""
        keep = self.max_publishes if keep is None else keep
        while len(self.publishes) > keep:
            while self.finished and self.finished[0] not in self.publishes:
                self.finished.popleft()
            oldest = self.finished.popleft() if self.finished else next(iter(self.publishes))
            publish = self.publishes.pop(oldest)
            if publish.upload_id is not None:
                self.uploads.pop(publish.upload_id, None)
            self._unindex_publish(publish)
            self.released.append(oldest)

    def add_creator(self, creator: Creator) -> None:
        self.creators[creator.username] = creator
        self._by_uid[creator.uid] = creator
        self._by_open_id.clear()

    def remove_creator(self, username: str) -> None:
        creator = self.creators.pop(username, None)
        if creator is not None:
            self._by_uid.pop(creator.uid, None)
            self._by_open_id.clear()

    def creator_by_uid(self, uid: str, *, noted: bool = True) -> Creator | None:
        """`noted=False`: only to read it (domain.changes)."""
        creator = self._by_uid.get(uid)
        if noted and creator is not None and self.changes is not None:
            touch(self.changes, "creators", creator.username)
        return creator

    def note_session(self, session: Session) -> None:
        """The records behind a session may change (domain.oauth.resolve_access_token reads
        them without noting)."""
        changes = self.changes
        if changes is not None:
            note = changes.note
            note(("access_tokens", session.token))
            note(("grants", session.grant.grant_id))
            note(("apps", session.app.client_key))
            note(("creators", session.creator.username))

    def creator_by_open_id(self, client_key: str, oid: str) -> Creator | None:
        """The creator an app knows as `oid` (open_ids are hashes: indexed per app on first use)."""
        index = self._by_open_id.get(client_key)
        if index is None:
            index = {open_id(client_key, c.uid): c for c in self.creators.values()}
            self._by_open_id[client_key] = index
        creator = index.get(oid)
        if creator is not None and self.changes is not None:
            touch(self.changes, "creators", creator.username)
        return creator


def _unlist(index: dict[str, list[str]], key: str, publish_id: str) -> None:
    """Take a forgotten publish out of a per-creator index (the oldest go first: it is found
    near the front)."""
    listed = index.get(key)
    if listed is None:
        return
    with contextlib.suppress(ValueError):
        listed.remove(publish_id)
    if not listed:
        del index[key]
