"""PULL_FROM_URL downloads: run on worker threads, report back to the sandbox under its lock.

The bytes come in real time; when they count as "downloaded" is the sandbox clock's business
(`lifecycle.download_complete`). A URL is checked against the app's verified domains and
prefixes again just before the request, so nothing is ever fetched from an unverified host.
"""

from __future__ import annotations

import concurrent.futures
import threading
from typing import TYPE_CHECKING

from mock_server.domain import lifecycle
from mock_server.domain.media_rules import (
    FILE_FORMAT_CHECK_FAILED,
    MAX_PHOTO_BYTES,
    MAX_VIDEO_BYTES,
    PICTURE_SIZE_CHECK_FAILED,
    photo_fail_reason,
    video_fail_reason,
)
from mock_server.domain.posting import url_is_verified
from mock_server.domain.publishing import PHOTO, PROCESSING_DOWNLOAD, Publish
from mock_server.runtime.fetcher import FetchError, TooLarge
from mock_server.runtime.media import probe_image, probe_video

if TYPE_CHECKING:
    from mock_server.state import SandboxState


class _Cancelled(FetchError):
    pass


class Downloads:
    def __init__(self, state: SandboxState, workers: int = 4) -> None:
        self.state = state
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, "tiktok-sandbox-pull")
        self._futures: set[concurrent.futures.Future[None]] = set()
        self._lock = threading.Lock()

    def start(self, publish_id: str) -> None:
        future = self._pool.submit(self._run, publish_id)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: concurrent.futures.Future[None]) -> None:
        with self._lock:
            self._futures.discard(future)

    def settle(self, timeout: float | None = None) -> bool:
        """Wait until every download under way has reported; False if time ran out."""
        with self._lock:
            pending = set(self._futures)
        _, not_done = concurrent.futures.wait(pending, timeout=timeout)
        return not not_done

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._futures)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, publish_id: str) -> None:
        state = self.state
        with state.lock:
            world = state.world
            publish = world.publishes.get(publish_id)
            app = world.apps.get(publish.client_key) if publish else None
            creator = world.creator_by_uid(publish.creator_uid) if publish else None
            if publish is None or app is None or creator is None:
                return
            urls = (
                publish.photo_images if publish.media_type == PHOTO else [publish.video_url or ""]
            )
            verified = all(url_is_verified(app, url) for url in urls)
            max_seconds = lifecycle.video_duration_limit(world, publish)
        try:
            if not verified:
                raise FetchError("a URL is no longer under the app's verified domains or prefixes")
            total = self._fetch_all(publish, urls)
        except TooLarge:
            result = (
                PICTURE_SIZE_CHECK_FAILED
                if publish.media_type == PHOTO
                else (FILE_FORMAT_CHECK_FAILED)
            )
            self.state.spool.discard(publish.publish_id, parts=len(urls))
            self._report(world, publish, publish.received_bytes, result)
            return
        except FetchError:
            self.state.spool.discard(publish.publish_id, parts=len(urls))
            with state.lock:
                lifecycle.download_failed(world, publish, state.now())
            return
        checked = self._check(publish, len(urls), max_seconds)
        self.state.spool.discard(publish.publish_id, parts=len(urls))
        self._report(world, publish, total, checked)

    def _fetch_all(self, publish: Publish, urls: list[str]) -> int:
        limit = MAX_PHOTO_BYTES if publish.media_type == PHOTO else MAX_VIDEO_BYTES
        done = 0
        for part, url in enumerate(urls):

            def progress(received: int, base: int = done) -> None:
                with self.state.lock:
                    if publish.status != PROCESSING_DOWNLOAD:
                        raise _Cancelled("the publish is no longer downloading")
                    publish.received_bytes = base + received

            with open(self.state.spool.path(publish.publish_id, part), "wb") as dest:
                done += self.state.fetcher.fetch(url, dest, limit, progress)
        return done

    def _check(self, publish: Publish, parts: int, max_seconds: int) -> str | None:
        spool = self.state.spool
        if publish.media_type == PHOTO:
            for part in range(parts):
                reason = photo_fail_reason(probe_image(spool.path(publish.publish_id, part)))
                if reason is not None:
                    return reason
            return None
        return video_fail_reason(probe_video(spool.path(publish.publish_id)), max_seconds)

    def _report(self, world: object, publish: Publish, size: int, result: str | None) -> None:
        state = self.state
        with state.lock:
            if state.world is world and publish.status == PROCESSING_DOWNLOAD:
                lifecycle.download_complete(state.world, publish, size, result, state.now())
