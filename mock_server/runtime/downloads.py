"""PULL_FROM_URL downloads: run on worker threads, report back to the sandbox under its lock.

The bytes come in real time; when they count as "downloaded" is the sandbox clock's business
(`lifecycle.download_complete`). A URL is checked against the app's verified domains and
prefixes again just before the request, so nothing is ever fetched from an unverified host.

Pulls share a `FairPool`: at most `PER_APP` at once per app, apps served in turn, so media
servers that stall hold up only their own app. A publish that fails or is cancelled stops its
download at once (`abort`): the fetcher is told to drop the connection, even one that is
waiting for a server that never answers.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from mock_server.domain import lifecycle
from mock_server.domain.media_rules import (
    FILE_FORMAT_CHECK_FAILED,
    MAX_PHOTO_BYTES,
    MAX_VIDEO_BYTES,
    PICTURE_SIZE_CHECK_FAILED,
    VideoFacts,
    photo_fail_reason,
)
from mock_server.domain.posting import url_is_verified
from mock_server.domain.publishing import PHOTO, PROCESSING_DOWNLOAD, Publish, cover_timestamp_ms
from mock_server.runtime.covers import MEDIA_CHECKS, inspect_video
from mock_server.runtime.fetcher import FetchError, TooLarge
from mock_server.runtime.media import probe_image
from mock_server.runtime.workers import FairPool

if TYPE_CHECKING:
    from mock_server.state import SandboxState

WORKERS = 16
PER_APP = 2


class _Cancelled(FetchError):
    pass


class Abort:
    """Stops one download: what the fetcher registered (closing its connection) runs once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.fired = False
        self._hooks: list[Callable[[], None]] = []

    def on_abort(self, hook: Callable[[], None]) -> None:
        with self._lock:
            if not self.fired:
                self._hooks.append(hook)
                return
        hook()

    def fire(self) -> None:
        with self._lock:
            self.fired, hooks, self._hooks = True, self._hooks, []
        for hook in hooks:
            with contextlib.suppress(OSError):  # the connection was already gone
                hook()


class Progress:
    """The `progress` a fetcher is called with: records bytes, stops a cancelled download, and
    (`on_abort`) lets a fetcher that can interrupt a blocked read register how."""

    def __init__(self, downloads: Downloads, publish: Publish, base: int, abort: Abort) -> None:
        self.downloads, self.publish, self.base, self.abort = downloads, publish, base, abort
        self.on_abort = abort.on_abort

    def __call__(self, received: int) -> None:
        with self.downloads.state.lock:
            if self.abort.fired or self.publish.status != PROCESSING_DOWNLOAD:
                raise _Cancelled("the publish is no longer downloading")
            self.publish.received_bytes = self.base + received
            self.downloads.state.world.touch("publishes", self.publish.publish_id)


class Downloads:
    def __init__(self, state: SandboxState, workers: int = WORKERS, per_app: int = PER_APP) -> None:
        self.state = state
        self._pool = FairPool(workers, per_app, "tiktok-sandbox-pull")
        self._lock = threading.Lock()
        self._aborts: dict[str, Abort] = {}
        self._closed = False

    def start(self, publish_id: str, client_key: str) -> None:
        with self._lock:
            abort = self._aborts.setdefault(publish_id, Abort())
        self._pool.submit(
            client_key, self.state.committing(lambda: self._run_once(publish_id, abort))
        )

    def abort(self, publish_id: str) -> None:
        """Stop the download of `publish_id` now, if one is queued or under way."""
        with self._lock:
            abort = self._aborts.pop(publish_id, None)
        if abort is not None:
            abort.fire()

    def settle(self, timeout: float | None = None) -> bool:
        """Wait until every download under way has reported; False if time ran out."""
        return self._pool.wait_idle(timeout)

    @property
    def in_flight(self) -> int:
        return self._pool.pending

    def abort_all(self) -> None:
        with self._lock:
            aborts, self._aborts = list(self._aborts.values()), {}
        for abort in aborts:
            abort.fire()

    def close(self) -> None:
        # Downloads stopped because the sandbox stops are not failures: a data directory
        # starts them again when it is next opened (store.open_data_dir).
        self._closed = True
        self._pool.close()
        self.abort_all()

    def _run_once(self, publish_id: str, abort: Abort) -> None:
        try:
            if not abort.fired:
                self._run(publish_id, abort)
        finally:
            with self._lock:
                if self._aborts.get(publish_id) is abort:
                    del self._aborts[publish_id]

    def _run(self, publish_id: str, abort: Abort) -> None:
        state = self.state
        with state.lock:
            world = state.world
            publish = world.publishes.get(publish_id)
            app = world.apps.get(publish.client_key) if publish else None
            creator = world.creator_by_uid(publish.creator_uid) if publish else None
            if publish is None or app is None or creator is None:
                return
            if publish.status != PROCESSING_DOWNLOAD:
                return  # cancelled or failed while it waited for a worker
            urls = (
                publish.photo_images if publish.media_type == PHOTO else (publish.video_url or "",)
            )
            verified = all(url_is_verified(app, url) for url in urls)
            max_seconds = lifecycle.video_duration_limit(world, publish)
        # The World's generation keys the spool files: after a reset, the same publish ids
        # are another World's, and this download must not touch their files.
        generation = world.generation
        try:
            if not verified:
                raise FetchError("a URL is no longer under the app's verified domains or prefixes")
            total = self._fetch_all(publish, urls, abort, generation)
        except TooLarge:
            result = (
                PICTURE_SIZE_CHECK_FAILED
                if publish.media_type == PHOTO
                else (FILE_FORMAT_CHECK_FAILED)
            )
            self.state.spool.discard_all(publish.publish_id, generation)
            self._report(world, publish, publish.received_bytes, result)
            return
        except FetchError:
            self.state.spool.discard_all(publish.publish_id, generation)
            if self._closed:
                return
            with state.lock:
                lifecycle.download_failed(world, publish, state.now())
            return
        checked, facts = self._check(publish, len(urls), max_seconds, generation)
        self.state.spool.discard_all(publish.publish_id, generation)
        self._report(world, publish, total, checked, facts)

    def _fetch_all(
        self, publish: Publish, urls: tuple[str, ...], abort: Abort, generation: int
    ) -> int:
        limit = MAX_PHOTO_BYTES if publish.media_type == PHOTO else MAX_VIDEO_BYTES
        done = 0
        for part, url in enumerate(urls):
            progress = Progress(self, publish, done, abort)
            with open(self.state.spool.path(publish.publish_id, part, generation), "wb") as dest:
                done += self.state.fetcher.fetch(url, dest, limit, progress)
            if abort.fired:
                raise _Cancelled("the publish is no longer downloading")
        return done

    def _check(
        self, publish: Publish, parts: int, max_seconds: int, generation: int
    ) -> tuple[str | None, VideoFacts | None]:
        """The media check's fail_reason, and a video's facts (its cover is kept too)."""
        spool = self.state.spool
        if publish.media_type == PHOTO:
            for part in range(parts):
                image = spool.path(publish.publish_id, part, generation)
                with MEDIA_CHECKS:
                    reason = photo_fail_reason(probe_image(image))
                if reason is not None:
                    return reason, None
            return None, None
        inspection = inspect_video(
            spool.path(publish.publish_id, generation=generation),
            max_seconds,
            cover_timestamp_ms(publish),
            self.state.covers,
            publish.publish_id,
        )
        return inspection.fail_reason, inspection.facts

    def _report(
        self,
        world: object,
        publish: Publish,
        size: int,
        result: str | None,
        facts: VideoFacts | None = None,
    ) -> None:
        state = self.state
        with state.lock:
            if state.world is world and publish.status == PROCESSING_DOWNLOAD:
                lifecycle.download_complete(state.world, publish, size, result, state.now(), facts)
