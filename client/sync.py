"""`TikTokClient`: the flows of `client.flows` run over a blocking `httpx.Client`.

with TikTokClient("awkey", "secret", token_store=store) as tiktok:
    publish = tiktok.post_video("clip.mp4", PostInfo(privacy_level="SELF_ONLY"))
    result = tiktok.wait_for_publish(publish)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TypeVar

import httpx

from client.base import REFRESH_MARGIN, ClientBase
from client.chunks import DEFAULT_CHUNK_SIZE, ChunkPlan
from client.flows import Flow, OnRetry, OnStatus, Progress, Send, Sleep, VideoSource
from client.models import (
    DIRECT_POST,
    VIDEO_FIELDS,
    CreatorInfo,
    PhotoPostInfo,
    PostInfo,
    Publish,
    PublishResult,
    PublishStatus,
    UserInfo,
    VideoPage,
)
from client.protocol import API_BASE
from client.tokens import Now, Token, TokenStore, wall_clock

T = TypeVar("T")


class TikTokClient(ClientBase):
    """TikTok's Login Kit and Content Posting API, the careful way (blocking I/O).

    `transport` (e.g. a sandbox's in-process transport), `sleep` and `now` are injectable so
    tests neither open sockets nor wait.
    """

    def __init__(
        self,
        client_key: str | None = None,
        client_secret: str | None = None,
        *,
        token_store: TokenStore | None = None,
        token: Token | None = None,
        access_token: str | None = None,
        base_url: str = API_BASE,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        now: Now = wall_clock,
        refresh_margin: float = REFRESH_MARGIN,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        on_retry: OnRetry | None = None,
    ) -> None:
        super().__init__(
            client_key,
            client_secret,
            token_store=token_store,
            token=token,
            access_token=access_token,
            base_url=base_url,
            now=now,
            refresh_margin=refresh_margin,
            chunk_size=chunk_size,
            on_retry=on_retry,
        )
        self._http = httpx.Client(transport=transport, timeout=timeout)
        self._sleep = sleep

    def _run(self, flow: Flow[T]) -> T:
        """Drive a flow: send its requests, sleep its sleeps, throw network errors back in."""
        reply: httpx.Response | None = None
        error: httpx.TransportError | None = None
        while True:
            try:
                effect = flow.throw(error) if error is not None else flow.send(reply)
            except StopIteration as stop:
                result: T = stop.value
                return result
            reply, error = None, None
            if isinstance(effect, Sleep):
                self._sleep(effect.seconds)
                continue
            try:
                reply = self._http.send(_with_body(effect))
            except httpx.TransportError as exc:
                error = exc

    # -- lifecycle --------------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TikTokClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- OAuth --------------------------------------------------------------------------------

    def exchange_code(
        self, code: str, redirect_uri: str, code_verifier: str | None = None
    ) -> Token:
        return self._run(self.core.exchange_code(code, redirect_uri, code_verifier))

    def refresh(self) -> Token:
        return self._run(self.core.refresh())

    def revoke(self) -> None:
        return self._run(self.core.revoke())

    # -- reads ------------------------------------------------------------------------------------

    def creator_info(self) -> CreatorInfo:
        return self._run(self.core.creator_info())

    def user_info(self, fields: Sequence[str]) -> UserInfo:
        return self._run(self.core.user_info(fields))

    def list_videos(
        self,
        fields: Sequence[str] = VIDEO_FIELDS,
        *,
        cursor: int | None = None,
        max_count: int | None = None,
    ) -> VideoPage:
        """ref 5.1: a page of the creator's public videos, newest first (video.list)."""
        return self._run(self.core.list_videos(fields, cursor, max_count))

    def query_videos(
        self, video_ids: Sequence[str], fields: Sequence[str] = VIDEO_FIELDS
    ) -> VideoPage:
        """ref 5.1: those of `video_ids` that are the creator's public videos."""
        return self._run(self.core.query_videos(video_ids, fields))

    def fetch_status(self, publish_id: str) -> PublishStatus:
        return self._run(self.core.fetch_status(publish_id))

    # -- posting ----------------------------------------------------------------------------------

    def post_video(
        self, source: VideoSource, post_info: PostInfo, *, progress: Progress | None = None
    ) -> Publish:
        return self._run(self.core.post_video(source, post_info, progress))

    def upload_video_to_inbox(
        self, source: VideoSource, *, progress: Progress | None = None
    ) -> Publish:
        return self._run(self.core.upload_video_to_inbox(source, progress))

    def post_photos(
        self,
        urls: Sequence[str],
        post_info: PhotoPostInfo,
        *,
        mode: str = DIRECT_POST,
        cover_index: int = 0,
    ) -> Publish:
        return self._run(self.core.post_photos(urls, post_info, mode, cover_index))

    def upload(
        self,
        upload_url: str,
        source: VideoSource,
        *,
        plan: ChunkPlan | None = None,
        progress: Progress | None = None,
    ) -> None:
        return self._run(self.core.upload(upload_url, source, plan, progress))

    def wait_for_publish(
        self,
        publish: str | Publish,
        *,
        wait_for_public_post: bool = False,
        timeout: float = 600.0,
        retries: int = 1,
        on_status: OnStatus | None = None,
    ) -> PublishResult:
        return self._run(
            self.core.wait_for_publish(
                publish,
                wait_for_public_post=wait_for_public_post,
                timeout=timeout,
                retries=retries,
                on_status=on_status,
            )
        )

    def cancel(self, publish_id: str) -> None:
        return self._run(self.core.cancel(publish_id))


def _with_body(effect: Send) -> httpx.Request:
    if effect.body is None:
        return effect.request
    source, first, last = effect.body
    request = effect.request
    return httpx.Request(
        request.method,
        request.url,
        headers=request.headers,
        content=source.iter_range(first, last),
    )
