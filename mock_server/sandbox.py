"""The in-process Python API: a sandbox as an object, reached by transport or real server.

sandbox = Sandbox("default", seed=1, clock=Clock.frozen_at(datetime(2026, 1, 1, tzinfo=UTC)))
with sandbox.client() as http:                     # in-process, no port, no thread
    http.get("/_sandbox/health")
with sandbox.serve() as server:                    # a real server on a free port
    httpx.get(f"{server.url}/_sandbox/health")
sandbox.clock.advance(7200)                        # both views share one state
with sandbox.intercept():                          # unmodified httpx/requests code calling
    post_video_with_requests()                     # https://open.tiktokapis.com reaches it
sandbox.publishes()[0].status                      # typed records of what happened
sandbox.audit("awacmescheduler01").assert_ready()  # what TikTok's audit would reject
"""

from __future__ import annotations

import functools
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, Self, TypeVar, cast

from mock_server import records
from mock_server.app import build_app
from mock_server.audit import AuditReport, audit_state
from mock_server.audit.run import Instant, instant
from mock_server.domain import oauth
from mock_server.domain.hosts import TIKTOK_HOSTS
from mock_server.domain.settings import SettingError
from mock_server.frontdoor import FrontDoor, build_server, choose
from mock_server.population import add_fault
from mock_server.records import JournalRecord, PublishRecord, TokenResponse, WebhookRecord
from mock_server.runtime.clock import Clock
from mock_server.runtime.fetcher import UrlFetcher
from mock_server.runtime.ticker import Ticker
from mock_server.runtime.webhooks import WebhookSender
from mock_server.scenario import Scenario, load_scenario
from mock_server.state import SandboxState, ServerOptions

P = ParamSpec("P")
R = TypeVar("R")

if TYPE_CHECKING:  # httpx (and what is built on it) is imported when first used
    import httpx

    from mock_server.intercept import Interceptor, OtherHosts

IN_PROCESS_URL = "http://127.0.0.1:8080"
# A served sandbox stops within this after SIGTERM, SIGINT or the end of `serve()`: requests
# still running (a stalled upload, injected latency) are cut off.
GRACEFUL_SHUTDOWN_SECONDS = 1


@dataclass(frozen=True)
class RunningServer:
    url: str
    host: str
    port: int
    proxy_url: str | None = None  # set when served with proxy=True: the app's HTTPS_PROXY


def _commits(method: Callable[P, R]) -> Callable[P, R]:
    """A Python API call that changes state: kept in the data directory before it returns."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        result = method(*args, **kwargs)
        cast("Sandbox", args[0]).state.commit()
        return result

    return call


class Sandbox:
    def __init__(
        self,
        scenario: str | Path | Scenario = "default",
        *,
        seed: int | None = None,
        clock: Clock | None = None,
        options: ServerOptions | None = None,
        fetcher: UrlFetcher | None = None,
        webhook_sender: WebhookSender | None = None,
        data_dir: str | Path | None = None,
        fresh: bool = False,
        fsync: bool = False,
    ) -> None:
        """`data_dir`: keep the state in that directory, resuming what it holds (unless
        `fresh`; `fsync`: wait for the disk on every change); StoreError when it cannot be
        used (docs/data-dir.md)."""
        loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.state = SandboxState(
            loaded,
            seed=seed,
            clock=clock,
            options=options,
            fetcher=fetcher,
            webhook_sender=webhook_sender,
        )
        if data_dir is not None:
            from mock_server.store import open_data_dir

            open_data_dir(self.state, data_dir, fresh=fresh, fsync=fsync)
        self.app = build_app(self.state)

    @property
    def clock(self) -> Clock:
        return self.state.clock

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward and let everything that fell due happen."""
        self.state.clock.advance(seconds)
        self.pump()

    @_commits
    def pump(self) -> None:
        """Run due lifecycle steps and deliver due webhooks now (a served sandbox's ticker
        does this on its own)."""
        self.state.pump()

    def settle(self, timeout: float = 30.0) -> bool:
        """Wait (bounded) until every PULL_FROM_URL download under way has finished for real."""
        done = self.state.downloads.settle(timeout)
        self.pump()
        return done

    @_commits
    def add_fault(self, **rule: Any) -> str:
        """Arm a fault rule (the fields of `POST /_sandbox/faults`); returns its id.

        sandbox.add_fault(endpoint="video_init", nth=2, status=503)
        sandbox.add_fault(endpoint="upload", action="chunk_5xx", times=1)
        """
        with self.state.lock:
            try:
                return add_fault(self.state.world, rule, "fault").rule_id
            except SettingError as exc:
                raise ValueError(str(exc)) from exc

    @_commits
    def remove_fault(self, fault_id: str) -> None:
        """Disarm a fault rule; ValueError for an unknown id (as the control API's 404)."""
        with self.state.lock:
            kept = [r for r in self.state.world.faults if r.rule_id != fault_id]
            if len(kept) == len(self.state.world.faults):
                raise ValueError(f"no fault rule {fault_id!r}")
            self.state.world.faults[:] = kept

    @_commits
    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.world.faults.clear()

    def close(self) -> None:
        """Stop download workers and remove spooled media."""
        self.state.close()

    @_commits
    def reset(self, scenario: str | Path | Scenario | None = None, seed: int | None = None) -> None:
        """Back to the scenario's initial state, or to another scenario or seed."""
        loaded = load_scenario(scenario) if isinstance(scenario, str | Path) else scenario
        self.state.reset(loaded, seed)

    # -- in-process ---------------------------------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        from mock_server.transport import SyncASGITransport

        return SyncASGITransport(self.app)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        from mock_server.transport import async_transport

        return async_transport(self.app)

    def client(self, base_url: str = IN_PROCESS_URL, **kwargs: Any) -> httpx.Client:
        import httpx

        return httpx.Client(transport=self.transport(), base_url=base_url, **kwargs)

    def async_client(self, base_url: str = IN_PROCESS_URL, **kwargs: Any) -> httpx.AsyncClient:
        import httpx

        return httpx.AsyncClient(transport=self.async_transport(), base_url=base_url, **kwargs)

    # -- a real server ------------------------------------------------------------------------

    @contextmanager
    def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        https: bool = False,
        proxy: bool = False,
        http: str = "auto",
        loop: str = "auto",
    ) -> Iterator[RunningServer]:
        """Run this sandbox (same state) as a uvicorn server on a thread until the block ends.

        `https=True` serves TLS with the local CA's certificate; `proxy=True` also makes the
        port an HTTPS proxy for TikTok's hosts (docs/https-and-proxy.md). `http` and `loop`
        choose the stack as `serve --http/--loop` do (httptools and uvloop when installed);
        a name that is not installed raises `StackUnavailable`."""
        stack = choose(http, loop, python=True)
        sock = bind_socket(host, port)
        bound = sock.getsockname()[1]
        try:
            server = build_server(
                self.app,
                FrontDoor(https=https, proxy=proxy),
                stopping=self.state.server_stopping,
                **stack.config(),
                log_level="warning",
                # At "warning" uvicorn prints no request line, but with its access log on it
                # still formats one per answer (about 7 µs): off, as `serve` has it by default.
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            )
        except BaseException:
            sock.close()
            raise
        thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [sock]},
            daemon=True,
            name=f"tiktok-sandbox:{bound}",
        )
        ticker = Ticker(self.state)
        thread.start()
        try:
            while not server.started:
                if not thread.is_alive():
                    raise RuntimeError("the sandbox server stopped during start-up")
                thread.join(0.01)
            with ticker:
                authority = f"[{host}]:{bound}" if ":" in host else f"{host}:{bound}"
                plain = f"http://{authority}"
                yield RunningServer(
                    f"https://{authority}" if https else plain,
                    host,
                    bound,
                    proxy_url=plain if proxy else None,
                )
        finally:
            server.should_exit = True
            thread.join(10)
            sock.close()
            # Stopped: an in-process request cancelled from now on was given up by its client.
            self.state.stopping = False

    # -- shortcuts for tests ------------------------------------------------------------------

    @_commits
    def issue_code(
        self,
        client_key: str,
        username: str,
        scopes: list[str],
        redirect_uri: str | None = None,
        code_challenge: str | None = None,
    ) -> str:
        """What `POST /_sandbox/authorize` does, as a call (refused the same way)."""
        with self.state.lock:
            world = self.state.world
            _, code = oauth.authorize_headless(
                world,
                world.apps[client_key],
                world.creators[username],
                scopes,
                self.clock.now(),
                redirect_uri=redirect_uri,
                code_challenge=code_challenge,
            )
            return code.code

    @_commits
    def issue_tokens(
        self, client_key: str, username: str, scopes: list[str], redirect_uri: str | None = None
    ) -> TokenResponse:
        """A token pair as `/v2/oauth/token/` would return it for a fresh authorization
        (PKCE is done on the app's behalf when it needs it)."""
        with self.state.lock:
            world = self.state.world
            now = self.clock.now()
            _, pair = oauth.tokens_headless(
                world,
                world.apps[client_key],
                world.creators[username],
                scopes,
                now,
                redirect_uri=redirect_uri,
            )
            return cast(TokenResponse, pair.body(now))

    # -- a context manager ------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- interception of unmodified code (mock_server/intercept) ----------------------------

    def intercept(
        self, *, other_hosts: OtherHosts = "passthrough", hosts: Iterable[str] = ()
    ) -> Interceptor:
        """Route httpx and requests calls to TikTok's hosts (and `hosts`: names, `host:port`
        or base URLs) to this sandbox in-process while active; other hosts pass through, or
        raise `HostRefused` with `other_hosts="refuse"`. A context manager and a decorator.

        with sandbox.intercept():
            my_app.post_video("clip.mp4")   # calls https://open.tiktokapis.com
        """
        from mock_server.intercept import Interceptor

        routed = [*TIKTOK_HOSTS, *hosts]
        if self.state.options.public_base_url:
            routed.append(self.state.options.public_base_url)  # where returned URLs point
        return Interceptor(self.app, routed, other_hosts=other_hosts)

    # -- what happened, typed (mock_server/records) -----------------------------------------

    def journal(
        self,
        *,
        endpoint: str | None = None,
        client_key: str | None = None,
        creator: str | None = None,
        error_code: str | None = None,
    ) -> list[JournalRecord]:
        """Requests answered, oldest first; `endpoint` is a TikTok endpoint name
        (`video_init`, `upload`, `token`...) or a path prefix, `creator` a username,
        `error_code` TikTok's code or `"ok"`."""
        return records.journal(
            self.state,
            endpoint=endpoint,
            client_key=client_key,
            creator=creator,
            error_code=error_code,
        )

    def publishes(
        self,
        *,
        client_key: str | None = None,
        creator: str | None = None,
        status: str | None = None,
    ) -> list[PublishRecord]:
        """Publishes accepted since the last reset, oldest first."""
        return records.publishes(self.state, client_key=client_key, creator=creator, status=status)

    def publish(self, publish_id: str) -> PublishRecord:
        """One publish by id; KeyError for an unknown one."""
        return records.publish(self.state, publish_id)

    def webhooks(
        self,
        *,
        client_key: str | None = None,
        event: str | None = None,
        status: str | None = None,
    ) -> list[WebhookRecord]:
        """Webhook deliveries (`status`: pending, delivered, dropped), oldest first."""
        return records.webhooks(self.state, client_key=client_key, event=event, status=status)

    # -- audit readiness (mock_server/audit, docs/audit.md) ---------------------------------

    def audit(
        self, client_key: str, *, since: Instant = None, until: Instant = None
    ) -> AuditReport:
        """What TikTok's review and runtime would reject in the app's traffic so far (or
        between `since` and `until`: ISO 8601, datetime or epoch seconds); KeyError for an
        unknown client_key.

        report = sandbox.audit("awacmescheduler01")
        assert report.failures == []     # or report.assert_ready()
        """
        return audit_state(
            self.state,
            client_key,
            since=instant(since, "since"),
            until=instant(until, "until"),
        )


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so (without it
    # every answer waits ~40 ms for delayed ACKs).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.set_inheritable(True)
    return sock
