"""A sandbox on a frozen clock, clients on its in-process transport, virtual time, real media.

The client never imports the sandbox; these tests do, to set it up and to look inside.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from client import AsyncTikTokClient, MemoryTokenStore, TikTokClient, Token
from conformance.media import make_image, make_video
from mock_server import Clock, Sandbox
from mock_server.domain.timing import timing_from
from mock_server.runtime.fetcher import StaticFetcher
from mock_server.scenario import Scenario, load_scenario
from mock_server.testvideo import pad_file

T0 = datetime(2026, 1, 1, tzinfo=UTC)
BASE = "http://sandbox.test"
APP = "awacmescheduler01"  # the default scenario's audited app
SECRET = "acmeSchedulerSecret0000000000001"
SCOPES = ["user.info.basic", "user.info.profile", "video.list", "video.publish", "video.upload"]
MEDIA = "https://media.acme.example"  # a verified domain of APP
MiB = 1024 * 1024

INIT_PATHS = {
    "/v2/post/publish/video/init/",
    "/v2/post/publish/inbox/video/init/",
    "/v2/post/publish/content/init/",
}


# -- media ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def video(media_dir: Path) -> Path:
    """A real 3.5 s H.264 MP4 of about 20 kB: one chunk."""
    return make_video(media_dir / "clip.mp4")


@pytest.fixture(scope="session")
def big_video(media_dir: Path) -> Path:
    """The same video padded with a trailing MP4 `free` box to 15 MiB + 12345 bytes: at the
    default 5 MiB chunk size it goes up in 3 chunks, the last one taking the remainder."""
    path = make_video(media_dir / "big.mp4")
    pad_file(path, 15 * MiB + 12345)
    return path


@pytest.fixture(scope="session")
def photo(media_dir: Path) -> bytes:
    return make_image(media_dir / "photo.jpg", width=1080, height=1920).read_bytes()


# -- the sandbox and virtual time -----------------------------------------------------------


@pytest.fixture
def fetcher(video: Path, photo: bytes) -> StaticFetcher:
    return StaticFetcher(
        {
            f"{MEDIA}/clip.mp4": video.read_bytes(),
            f"{MEDIA}/a.jpg": photo,
            f"{MEDIA}/b.jpg": photo,
        }
    )


@pytest.fixture
def sandbox(request: pytest.FixtureRequest, fetcher: StaticFetcher) -> Iterator[Sandbox]:
    """The default scenario, or the Scenario given by indirect parametrization."""
    scenario = getattr(request, "param", "default")
    sb = Sandbox(scenario, clock=Clock.frozen_at(T0), fetcher=fetcher)
    yield sb
    sb.close()


@pytest.fixture
def control(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with sandbox.client() as http:
        yield http


class VirtualTime:
    """The client's `sleep` and `now`: sleeping moves the sandbox clock, never the wall clock."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.sandbox.clock.now()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.sandbox.settle()  # PULL_FROM_URL downloads run on real threads
        self.sandbox.advance(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def vtime(sandbox: Sandbox) -> VirtualTime:
    return VirtualTime(sandbox)


# -- transports that record, and can misbehave ------------------------------------------------

Fault = Callable[[httpx.Request, int], httpx.Response | None]


@dataclass
class Log:
    """What went over the wire: requests, their statuses, and the block sizes of streamed
    bodies. `fault(request, index_of_same_method)` may answer instead of the sandbox."""

    requests: list[httpx.Request] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    blocks: list[int] = field(default_factory=list)
    fault: Fault | None = None
    bodies: list[bytes] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def statuses_of(self, method: str) -> list[int]:
        return [s for r, s in zip(self.requests, self.statuses, strict=True) if r.method == method]

    def count(self, method: str) -> int:
        return sum(1 for r in self.requests if r.method == method)

    def sent_any_init(self) -> bool:
        return any(r.url.path in INIT_PATHS for r in self.requests) or self.count("PUT") > 0

    def _before(self, request: httpx.Request, body: bytes) -> httpx.Response | None:
        self.requests.append(request)
        self.bodies.append(body)
        if self.fault is not None:
            nth = self.count(request.method) - 1
            return self.fault(request, nth)
        return None


def _rebuilt(request: httpx.Request, body: bytes) -> httpx.Request:
    return httpx.Request(request.method, request.url, headers=request.headers, content=body)


class RecordingTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, log: Log) -> None:
        self.inner, self.log = inner, log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        blocks = [bytes(b) for b in request.stream]  # type: ignore[union-attr]
        if request.method == "PUT":
            self.log.blocks.extend(len(b) for b in blocks)
        body = b"".join(blocks)
        request = _rebuilt(request, body)
        answer = self.log._before(request, body)
        response = answer or self.inner.handle_request(request)
        self.log.statuses.append(response.status_code)
        return response


class AsyncRecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, log: Log) -> None:
        self.inner, self.log = inner, log

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        blocks = [bytes(b) async for b in request.stream]  # type: ignore[union-attr]
        if request.method == "PUT":
            self.log.blocks.extend(len(b) for b in blocks)
        body = b"".join(blocks)
        request = _rebuilt(request, body)
        answer = self.log._before(request, body)
        response = answer or await self.inner.handle_async_request(request)
        self.log.statuses.append(response.status_code)
        return response


# -- clients ----------------------------------------------------------------------------------


def issue_token(sandbox: Sandbox, username: str = "ana_makes", app: str = APP) -> Token:
    body = sandbox.issue_tokens(app, username, SCOPES)
    return Token.from_response(body, sandbox.clock.now())


@dataclass
class Made:
    client: Any
    log: Log
    store: MemoryTokenStore


@pytest.fixture
def make_client(sandbox: Sandbox, vtime: VirtualTime) -> Iterator[Callable[..., Made]]:
    """`make_client(username="ana_makes", app=APP, secret=SECRET, **client_kwargs)`: a
    TikTokClient logged in as that creator, recording its traffic in `.log`."""
    made: list[Made] = []

    def factory(
        username: str = "ana_makes", app: str = APP, secret: str = SECRET, **kwargs: Any
    ) -> Made:
        log = Log()
        store = MemoryTokenStore(issue_token(sandbox, username, app))
        client = TikTokClient(
            app,
            secret,
            token_store=kwargs.pop("token_store", store),
            base_url=BASE,
            transport=RecordingTransport(sandbox.transport(), log),
            sleep=vtime.sleep,
            now=vtime.now,
            **kwargs,
        )
        made.append(Made(client, log, store))
        return made[-1]

    yield factory
    for m in made:
        m.client.close()


@pytest.fixture
def make_async_client(sandbox: Sandbox, vtime: VirtualTime) -> Callable[..., Made]:
    def factory(username: str = "ana_makes", app: str = APP, **kwargs: Any) -> Made:
        log = Log()
        store = MemoryTokenStore(issue_token(sandbox, username, app))
        client = AsyncTikTokClient(
            app,
            SECRET,
            token_store=store,
            base_url=BASE,
            transport=AsyncRecordingTransport(sandbox.async_transport(), log),
            sleep=vtime.async_sleep,
            now=vtime.now,
            **kwargs,
        )
        return Made(client, log, store)

    return factory


def publish_view(control: httpx.Client, publish_id: str) -> dict[str, Any]:
    response = control.get(f"/_sandbox/publishes/{publish_id}")
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def slow_pulls() -> Scenario:
    """The default scenario with pulls taking sandbox time (10 bytes/s), so they can be
    cancelled while under way."""
    timing = timing_from({"download_bytes_per_second": 10}, "timing")
    return dataclasses.replace(load_scenario("default"), timing=timing)


def patch_creator(control: httpx.Client, username: str, **settings: Any) -> None:
    control.patch(f"/_sandbox/creators/{username}", json=settings).raise_for_status()
