"""The client's behaviour, written once, with no I/O: every operation is a generator.

An operation yields effects (`Send` a request, `Sleep` a while) and is sent back the
`httpx.Response` of each `Send`; a network error is thrown into it at the `yield`. The sync
client (`client.sync`) and the async client (`client.aio`) only run these generators, doing
the I/O their own way, the way respx keeps one resolver between its sync and async sides.

    flow = core.creator_info()
    effect = next(flow)                    # Send(POST /v2/post/publish/creator_info/query/)
    flow.send(http.send(effect.request))   # -> StopIteration(value=CreatorInfo(...))
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import IO, Any, TypeVar

import httpx

from client import protocol, rules
from client.chunks import DEFAULT_CHUNK_SIZE, ChunkPlan, plan_chunks
from client.errors import (
    AccessTokenInvalid,
    InvalidGrant,
    NotAuthenticated,
    PublishWaitTimeout,
    RangeNotSatisfiable,
    TikTokError,
)
from client.media import FileSource, UrlSource, resolve_video_source
from client.models import (
    DIRECT_POST,
    FAILED,
    MEDIA_UPLOAD,
    PUBLISH_COMPLETE,
    SEND_TO_USER_INBOX,
    CreatorInfo,
    PhotoPostInfo,
    PostInfo,
    Publish,
    PublishResult,
    PublishStatus,
    UserInfo,
    VideoPage,
)
from client.policy import (
    POLL,
    RANGE_RESUMES,
    RATE_LIMITED,
    RATE_LIMITED_ATTEMPTS,
    TRANSIENT,
    TRANSIENT_ATTEMPTS,
    is_final,
    is_rate_limited,
    is_transient,
    may_repost,
    retry_after,
)
from client.tokens import Now, Token, TokenStore

T = TypeVar("T")

VideoSource = str | os.PathLike[str] | IO[bytes]
Progress = Callable[[int, int], None]  # (bytes the server holds, total bytes)
OnStatus = Callable[[PublishStatus], None]


@dataclass(frozen=True)
class Retry:
    """A request about to be sent again after `delay` seconds: the `error` it raised or the
    `response` that asked for the repeat (a 429 or a 5xx), and which repeat this is (1 first)."""

    request: httpx.Request
    attempt: int
    delay: float
    error: Exception | None = None
    response: httpx.Response | None = None


OnRetry = Callable[[Retry], None]


@dataclass(frozen=True)
class Send:
    """Send `request`; with `body`, stream bytes first..last of that file as its content."""

    request: httpx.Request
    body: tuple[FileSource, int, int] | None = None


@dataclass(frozen=True)
class Sleep:
    seconds: float


Effect = Send | Sleep
Flow = Generator[Effect, httpx.Response | None, T]


def send(
    request: httpx.Request, body: tuple[FileSource, int, int] | None = None
) -> Flow[httpx.Response]:
    response = yield Send(request, body)
    assert response is not None, "the driver answers every Send with a response"
    return response


def pause(seconds: float) -> Flow[None]:
    yield Sleep(seconds)


def _check_ok(response: httpx.Response) -> None:
    protocol.parse_envelope(response)


class ClientCore:
    """Configuration and token state shared by both clients, and every operation as a flow."""

    def __init__(
        self,
        *,
        client_key: str | None,
        client_secret: str | None,
        token_store: TokenStore,
        base_url: str,
        now: Now,
        refresh_margin: float,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        on_retry: OnRetry | None = None,
    ) -> None:
        self.client_key = client_key
        self.client_secret = client_secret
        self.token_store = token_store
        self.base_url = base_url.rstrip("/")
        self.now = now
        self.refresh_margin = refresh_margin
        self.chunk_size = chunk_size
        self.on_retry = on_retry

    def _retry(self, notice: Retry) -> Flow[None]:
        """Tell `on_retry` (it may raise to stop here), then wait before the repeat."""
        if self.on_retry:
            self.on_retry(notice)
        yield from pause(notice.delay)

    # -- tokens (ref 2.4, 2.5) ------------------------------------------------------------------

    def _credentials(self) -> tuple[str, str]:
        if not self.client_key or not self.client_secret:
            raise NotAuthenticated("client_key and client_secret are needed for the token API")
        return self.client_key, self.client_secret

    def _current_token(self) -> Token:
        token = self.token_store.load()
        if token is None:
            raise NotAuthenticated("no token: authorize first (exchange_code or a token store)")
        return token

    def _can_refresh(self, token: Token) -> bool:
        return token.can_refresh and bool(self.client_key and self.client_secret)

    def exchange_code(
        self, code: str, redirect_uri: str, code_verifier: str | None = None
    ) -> Flow[Token]:
        key, secret = self._credentials()
        request = protocol.exchange_code_request(
            self.base_url, key, secret, code, redirect_uri, code_verifier
        )
        response = yield from send(request)
        token = Token.from_response(protocol.parse_token(response), self.now())
        self.token_store.save(token)
        return token

    def refresh(self) -> Flow[Token]:
        """Refresh now; the rotated refresh token is stored before anything uses it."""
        key, secret = self._credentials()
        old = self._current_token()
        if not old.refresh_token:
            raise NotAuthenticated("the stored token has no refresh_token")
        response = yield from send(
            protocol.refresh_request(self.base_url, key, secret, old.refresh_token)
        )
        try:
            body = protocol.parse_token(response)
        except InvalidGrant:
            # Another flow (async callers share the store) may have rotated it meanwhile.
            latest = self.token_store.load()
            if latest is not None and latest.refresh_token != old.refresh_token:
                return latest
            raise
        token = Token.from_response(body, self.now(), previous=old)
        self.token_store.save(token)
        return token

    def revoke(self) -> Flow[None]:
        key, secret = self._credentials()
        token = self._current_token()
        response = yield from send(
            protocol.revoke_request(self.base_url, key, secret, token.access_token)
        )
        protocol.parse_revoke(response)
        self.token_store.clear()

    def _fresh_token(self) -> Flow[Token]:
        """The stored token, refreshed first when it lapses within `refresh_margin`."""
        token = self._current_token()
        if token.expires_within(self.refresh_margin, self.now()) and self._can_refresh(token):
            token = yield from self.refresh()
        return token

    # -- one authorized call, with the retry policy ---------------------------------------------

    def _call(
        self,
        build: Callable[[str], httpx.Request],
        parse: Callable[[httpx.Response], T],
        *,
        idempotent: bool,
        deadline: float | None = None,
    ) -> Flow[T]:
        """Send with a fresh token; refresh once on access_token_invalid; wait out 429s
        (policy.RATE_LIMITED); retry transient failures of idempotent calls
        (policy.TRANSIENT). With a deadline, 429s are waited out until it."""
        refreshed, limited, transient = False, 0, 0
        while True:
            token = yield from self._fresh_token()
            response: httpx.Response | None = None
            request = build(token.access_token)
            try:
                response = yield from send(request)
                return parse(response)
            except AccessTokenInvalid:
                if refreshed or not self._can_refresh(token):
                    raise
                refreshed = True
                yield from self.refresh()
            except (TikTokError, httpx.TransportError) as exc:
                if is_rate_limited(exc):
                    hinted = retry_after(response) if response is not None else None
                    delay = hinted or RATE_LIMITED.delay(limited)
                    limited += 1
                    if deadline is None and limited > RATE_LIMITED_ATTEMPTS:
                        raise
                elif idempotent and is_transient(exc) and transient < TRANSIENT_ATTEMPTS:
                    delay = TRANSIENT.delay(transient)
                    transient += 1
                else:
                    raise
                if deadline is not None and self.now() + delay > deadline:
                    raise
                yield from self._retry(
                    Retry(request, limited + transient, delay, error=exc, response=response)
                )

    # -- reads ------------------------------------------------------------------------------------

    def creator_info(self) -> Flow[CreatorInfo]:
        return self._call(
            lambda t: protocol.creator_info_request(self.base_url, t),
            lambda r: CreatorInfo.from_json(protocol.parse_envelope(r)),
            idempotent=True,
        )

    def user_info(self, fields: Sequence[str]) -> Flow[UserInfo]:
        return self._call(
            lambda t: protocol.user_info_request(self.base_url, t, fields),
            lambda r: UserInfo.from_json(protocol.parse_user_info(r)),
            idempotent=True,
        )

    def list_videos(
        self, fields: Sequence[str], cursor: int | None = None, max_count: int | None = None
    ) -> Flow[VideoPage]:
        """ref 5.1: the creator's public videos, newest first, a page at a time."""
        rules.video_page_size(max_count)
        return self._call(
            lambda t: protocol.video_list_request(self.base_url, t, fields, cursor, max_count),
            lambda r: VideoPage.from_json(protocol.parse_envelope(r)),
            idempotent=True,
        )

    def query_videos(self, video_ids: Sequence[str], fields: Sequence[str]) -> Flow[VideoPage]:
        """ref 5.1: those of `video_ids` that are the creator's public videos (the way to turn
        a post id into a share_url, or to refresh an expired cover_image_url)."""
        rules.video_ids(video_ids)
        return self._call(
            lambda t: protocol.video_query_request(self.base_url, t, fields, video_ids),
            lambda r: VideoPage.from_json(protocol.parse_envelope(r)),
            idempotent=True,
        )

    def fetch_status(self, publish_id: str, deadline: float | None = None) -> Flow[PublishStatus]:
        return self._call(
            lambda t: protocol.status_request(self.base_url, t, publish_id),
            lambda r: PublishStatus.from_json(publish_id, protocol.parse_envelope(r)),
            idempotent=True,
            deadline=deadline,
        )

    def cancel(self, publish_id: str) -> Flow[None]:
        """ref 12: best effort, PULL_FROM_URL downloads only. Not retried on 5xx (a lost
        answer would make the retry say publish_not_cancellable)."""
        return self._call(
            lambda t: protocol.cancel_request(self.base_url, t, publish_id),
            _check_ok,
            idempotent=False,
        )

    def _creator_for_post(self) -> Flow[CreatorInfo]:
        """ref 15.4: read creator_info fresh before every Direct Post; stop when the creator
        cannot post now."""
        try:
            return (yield from self.creator_info())
        except TikTokError as exc:
            rules.creator_can_post(exc)
            raise

    def _init(self, build: Callable[[str], httpx.Request]) -> Flow[dict[str, Any]]:
        # Not retried on 5xx: a lost answer may hide a publish that was created.
        return self._call(build, protocol.parse_envelope, idempotent=False)

    # -- posting ----------------------------------------------------------------------------------

    def post_video(
        self, source: VideoSource, post_info: PostInfo, progress: Progress | None = None
    ) -> Flow[Publish]:
        """Direct Post of a video (ref 7) from a file path, a file object or a URL."""
        resolved = resolve_video_source(source)

        def attempt() -> Flow[Publish]:
            return self._post_video(resolved, post_info, progress, attempt)

        return attempt()

    def _post_video(
        self,
        source: FileSource | UrlSource,
        post_info: PostInfo,
        progress: Progress | None,
        again: Callable[[], Flow[Publish]],
    ) -> Flow[Publish]:
        rules.caption_fits("title", post_info.title, rules.VIDEO_TITLE_MAX)
        rules.branded_content_not_private(post_info.privacy_level, post_info.brand_content_toggle)
        if isinstance(source, FileSource):
            rules.video_file(source)
        creator = yield from self._creator_for_post()
        rules.privacy_allowed(creator, post_info.privacy_level)
        rules.interactions_allowed(
            creator, post_info.disable_comment, post_info.disable_duet, post_info.disable_stitch
        )
        if isinstance(source, UrlSource):
            source_info: dict[str, Any] = {"source": "PULL_FROM_URL", "video_url": source.url}
            data = yield from self._init(
                lambda t: protocol.video_init_request(
                    self.base_url, t, post_info.to_json(), source_info
                )
            )
            return Publish(
                str(data["publish_id"]),
                DIRECT_POST,
                "VIDEO",
                "PULL_FROM_URL",
                privacy_level=post_info.privacy_level,
                repost=again,
            )
        rules.video_duration(source.facts, creator.max_video_post_duration_sec)
        plan = plan_chunks(source.size, self.chunk_size)
        data = yield from self._init(
            lambda t: protocol.video_init_request(
                self.base_url, t, post_info.to_json(), plan.source_info()
            )
        )
        publish = Publish(
            str(data["publish_id"]),
            DIRECT_POST,
            "VIDEO",
            "FILE_UPLOAD",
            upload_url=str(data["upload_url"]),
            privacy_level=post_info.privacy_level,
            repost=again,
        )
        yield from self.upload(str(data["upload_url"]), source, plan, progress)
        return publish

    def upload_video_to_inbox(
        self, source: VideoSource, progress: Progress | None = None
    ) -> Flow[Publish]:
        """Upload to the creator's inbox as a draft (ref 8); the creator posts it in the app."""
        resolved = resolve_video_source(source)

        def attempt() -> Flow[Publish]:
            return self._upload_to_inbox(resolved, progress, attempt)

        return attempt()

    def _upload_to_inbox(
        self,
        source: FileSource | UrlSource,
        progress: Progress | None,
        again: Callable[[], Flow[Publish]],
    ) -> Flow[Publish]:
        if isinstance(source, UrlSource):
            source_info: dict[str, Any] = {"source": "PULL_FROM_URL", "video_url": source.url}
            data = yield from self._init(
                lambda t: protocol.inbox_video_init_request(self.base_url, t, source_info)
            )
            return Publish(
                str(data["publish_id"]), MEDIA_UPLOAD, "VIDEO", "PULL_FROM_URL", repost=again
            )
        rules.video_file(source)
        # ref 13: the creator trims to their own limit in the app; the API's 10 min still holds.
        rules.video_duration(source.facts, rules.API_MAX_VIDEO_SECONDS)
        plan = plan_chunks(source.size, self.chunk_size)
        data = yield from self._init(
            lambda t: protocol.inbox_video_init_request(self.base_url, t, plan.source_info())
        )
        publish = Publish(
            str(data["publish_id"]),
            MEDIA_UPLOAD,
            "VIDEO",
            "FILE_UPLOAD",
            upload_url=str(data["upload_url"]),
            repost=again,
        )
        yield from self.upload(str(data["upload_url"]), source, plan, progress)
        return publish

    def post_photos(
        self,
        urls: Sequence[str],
        post_info: PhotoPostInfo,
        mode: str = DIRECT_POST,
        cover_index: int = 0,
    ) -> Flow[Publish]:
        """A photo post (ref 9), pulled from URLs on verified domains or prefixes."""
        images = list(urls)

        def attempt() -> Flow[Publish]:
            return self._post_photos(images, post_info, mode, cover_index, attempt)

        return attempt()

    def _post_photos(
        self,
        images: list[str],
        post_info: PhotoPostInfo,
        mode: str,
        cover_index: int,
        again: Callable[[], Flow[Publish]],
    ) -> Flow[Publish]:
        if mode not in (DIRECT_POST, MEDIA_UPLOAD):
            raise ValueError(f"mode is DIRECT_POST or MEDIA_UPLOAD, not {mode!r}")
        rules.photo_set(images, cover_index)
        rules.caption_fits("title", post_info.title, rules.PHOTO_TITLE_MAX)
        rules.caption_fits("description", post_info.description, rules.PHOTO_DESCRIPTION_MAX)
        if mode == DIRECT_POST:
            rules.branded_content_not_private(
                post_info.privacy_level, post_info.brand_content_toggle
            )
            creator = yield from self._creator_for_post()
            rules.privacy_allowed(creator, post_info.privacy_level)
            rules.interactions_allowed(creator, post_info.disable_comment)  # ref 9: no duet
        data = yield from self._init(
            lambda t: protocol.content_init_request(
                self.base_url, t, mode, post_info.to_json(mode), images, cover_index
            )
        )
        return Publish(
            str(data["publish_id"]),
            mode,
            "PHOTO",
            "PULL_FROM_URL",
            privacy_level=post_info.privacy_level if mode == DIRECT_POST else None,
            repost=again,
        )

    # -- media transfer (ref 10) ------------------------------------------------------------------

    def upload(
        self,
        upload_url: str,
        source: FileSource | VideoSource,
        plan: ChunkPlan | None = None,
        progress: Progress | None = None,
    ) -> Flow[None]:
        """PUT the chunks in order (ref 10.1-10.3). A 5xx retries the chunk; a 416 resumes from
        the progress the server reports, at the chunk that starts there. `plan` must be the
        one sent at init (by default the client's own plan for the file's size)."""
        if not isinstance(source, FileSource):
            resolved = resolve_video_source(source)
            if not isinstance(resolved, FileSource):
                raise ValueError("upload takes a local file; TikTok pulls URLs itself")
            source = resolved
        plan = plan or plan_chunks(source.size, self.chunk_size)
        total = plan.video_size
        ranges = list(plan.ranges())
        starts = {first: index for index, (first, _) in enumerate(ranges)}
        index, resumes = 0, 0
        if progress:
            progress(0, total)
        while index < len(ranges):
            first, last = ranges[index]
            response = yield from self._put_chunk(upload_url, source, first, last, total, plan)
            if response.status_code in (201, 206):
                held = protocol.received_bytes(response)
                held = last + 1 if held is None else held
                if progress:
                    progress(held, total)
                if response.status_code == 201 or held >= total:
                    return
                if held == last + 1:
                    index += 1
                    continue
            elif response.status_code == 416:
                held = protocol.received_bytes(response)
                if held is None:
                    raise protocol.upload_error(response)
                if progress:
                    progress(held, total)
                if held >= total:
                    return
            else:
                raise protocol.upload_error(response)
            # The server holds `held` bytes, not what this chunk implied: resume there.
            resumes += 1
            if held not in starts or resumes > RANGE_RESUMES:
                error = protocol.upload_error(response)
                raise RangeNotSatisfiable(
                    error.code,
                    f"cannot resume: the server holds {held} of {total} bytes "
                    f"({resumes} resumes); {error.message}",
                    error.log_id,
                    response.status_code,
                )
            index = starts[held]

    def _put_chunk(
        self,
        upload_url: str,
        source: FileSource,
        first: int,
        last: int,
        total: int,
        plan: ChunkPlan,
    ) -> Flow[httpx.Response]:
        """One chunk, retried on 5xx and network errors (ref 10.3: "retry this chunk")."""
        attempt = 0
        while True:
            request = protocol.chunk_request(upload_url, first, last, total, source.content_type)
            error: httpx.TransportError | None = None
            response: httpx.Response | None = None
            try:
                response = yield from send(request, (source, first, last))
            except httpx.TransportError as exc:
                if attempt >= TRANSIENT_ATTEMPTS:
                    raise
                error = exc
            else:
                if response.status_code < 500 or attempt >= TRANSIENT_ATTEMPTS:
                    return response
            attempt += 1
            delay = TRANSIENT.delay(attempt - 1)
            yield from self._retry(Retry(request, attempt, delay, error=error, response=response))

    # -- waiting (ref 11) -------------------------------------------------------------------------

    def wait_for_publish(
        self,
        publish: str | Publish,
        *,
        wait_for_public_post: bool = False,
        timeout: float = 600.0,
        retries: int = 1,
        on_status: OnStatus | None = None,
    ) -> Flow[PublishResult]:
        """Poll status/fetch until a final status (policy.is_final).

        A FAILED publish whose fail_reason the reference calls retryable (policy.FAIL_REASONS)
        is posted again, at most `retries` times, when `publish` is the `Publish` the client
        made (a bare publish_id cannot be reposted). With `wait_for_public_post`, polling goes
        on until the post id appears; at the timeout a publish that succeeded is returned
        without ids, one still in progress raises PublishWaitTimeout.
        """
        current = publish if isinstance(publish, Publish) else None
        publish_id = publish.publish_id if isinstance(publish, Publish) else publish
        deadline = self.now() + timeout
        attempts = 1
        while True:
            status = yield from self._poll(publish_id, wait_for_public_post, deadline, on_status)
            if (
                status.status == FAILED
                and may_repost(status.fail_reason)
                and current is not None
                and current.repost is not None
                and attempts <= retries
            ):
                current = yield from current.repost()
                publish_id = current.publish_id
                attempts += 1
                continue
            return PublishResult(
                publish_id, status.status, status.fail_reason, status.post_ids, attempts
            )

    def _poll(
        self,
        publish_id: str,
        until_public: bool,
        deadline: float,
        on_status: OnStatus | None,
    ) -> Flow[PublishStatus]:
        last: PublishStatus | None = None
        polls = 0
        while True:
            try:
                status = yield from self.fetch_status(publish_id, deadline=deadline)
            except TikTokError as exc:
                if is_rate_limited(exc):  # still limited at the deadline
                    raise PublishWaitTimeout(publish_id, last) from exc
                raise
            if last is None or status.status != last.status or status.post_ids != last.post_ids:
                polls = 0  # something moved: look again soon
                if on_status:
                    on_status(status)
            last = status
            if is_final(
                status.status, until_public=until_public, has_post_ids=bool(status.post_ids)
            ):
                return status
            delay = POLL.delay(polls)
            polls += 1
            if self.now() + delay > deadline:
                if status.status in (PUBLISH_COMPLETE, SEND_TO_USER_INBOX):
                    return status  # it succeeded; the public post id is not there yet
                raise PublishWaitTimeout(publish_id, status)
            yield from pause(delay)
