"""Figure 2: the server's RSS over a mixed workload of concurrent clients.

Each client is what an integration does, over its own connection pool: code exchanges
(`POST /_sandbox/authorize`, then `/v2/oauth/token/`), refreshes, user info and creator_info,
Direct Posts and inbox uploads by FILE_UPLOAD (one chunk, or two for a 10 MiB file) and by
PULL_FROM_URL from a local media server, status polls, cancels of slow pulls, uploads that are
never sent, and drafts posted from the inbox. Apps send webhooks to a local receiver. Each
client works for its own creators and keeps within TikTok's per-token rate limits by getting a
new token (a refresh, or a new code) when a token's budget for the minute is spent.

Two paces (`--pace`): `tiktok` (the default) has each client keep to TikTok's per-token limits
the way an integration must, waiting for its budget instead of minting tokens to dodge the limit
(a "retry storm" TikTok's review would flag); exchanges, refreshes and every operation still run
continuously. `max` mints a new token whenever a budget is spent, so the sandbox sees as many
posts as it can take: a stress of the caps (10,000 publishes in a few minutes) rather than a day
in a developer's life.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette

from bench._robustness.control import (
    INBOX_INIT,
    STATUS,
    TOKEN,
    VIDEO_INIT,
    Control,
    MiB,
    bearer,
    chunk_plan,
    chunk_ranges,
    pad_mp4,
)
from bench._robustness.peers import MediaServer, WebhookReceiver
from bench._robustness.servers import PeerServer, SandboxProcess, ServerLog
from conformance.controller import ALL_SCOPES
from conformance.spec import RATE_LIMITS

# What a client does next, and how often (relative weights).
OPS = {
    "exchange": 0.5,
    "refresh": 0.5,
    "user_info": 1.0,
    "creator_info": 2.0,
    "post_file": 2.0,
    "post_file_chunked": 0.25,
    "inbox_file": 0.6,
    "post_pull": 1.0,
    "inbox_pull": 0.8,
    "cancel_pull": 0.15,
    "abandon_upload": 0.2,
    "status": 4.0,
}
APPS = 4
CREATORS_PER_CLIENT = 3
FINAL = ("PUBLISH_COMPLETE", "FAILED")


class NoBudget(Exception):
    """At the `tiktok` pace: the endpoint's per-minute budget for this creator is spent."""


@dataclass
class Pair:
    """One client's (app, creator) and the token it is using."""

    client_key: str
    client_secret: str
    username: str
    access: str = ""
    refresh: str = ""
    refreshes: int = 0
    used: Counter[str] = field(default_factory=Counter)
    publishes: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    window: dict[str, deque[float]] = field(default_factory=dict)  # the `tiktok` pace's uses
    drafts: list[str] = field(default_factory=list)


@dataclass
class MemoryResult:
    seconds: float = 0.0
    clients: int = 0
    pace: str = "tiktok"
    samples: list[tuple[float, int]] = field(default_factory=list)  # (s since start, KiB)
    # RSS once the workload stopped and the sandbox was reset (its state emptied), after the
    # server gave free memory back: what is left that no record accounts for.
    after_reset_kib: int | None = None
    reference_seconds: float = 60.0
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, status)
    codes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, TikTok code)
    ops: Counter[str] = field(default_factory=Counter)
    webhooks: Counter[tuple[int, bool]] = field(default_factory=Counter)
    media_requests: Counter[str] = field(default_factory=Counter)
    server_log: ServerLog = field(default_factory=ServerLog)
    kept: dict[str, Counter[str]] = field(default_factory=dict)  # records at the end, by status

    @property
    def reference(self) -> tuple[float, int] | None:
        """The first sample at or after `reference_seconds` (RSS after the first minute)."""
        return next((s for s in self.samples if s[0] >= self.reference_seconds), None)

    @property
    def peak_after(self) -> int | None:
        ref = self.reference
        later = [kib for t, kib in self.samples if ref is not None and t > ref[0]]
        return max(later) if later else None

    @property
    def ratio(self) -> float | None:
        ref, peak = self.reference, self.peak_after
        return peak / ref[1] if ref and peak else None

    def slope_mib_per_minute(self) -> float | None:
        """Least-squares growth of RSS after the reference point."""
        ref = self.reference
        points = [(t, kib / 1024) for t, kib in self.samples if ref is not None and t >= ref[0]]
        if len(points) < 3:
            return None
        n = len(points)
        mt = sum(t for t, _ in points) / n
        mr = sum(r for _, r in points) / n
        var = sum((t - mt) ** 2 for t, _ in points)
        cov = sum((t - mt) * (r - mr) for t, r in points)
        return 60 * cov / var if var else None


class Client:
    """One of the concurrent clients: its own httpx pool, creators and random stream."""

    def __init__(
        self,
        index: int,
        base_url: str,
        pairs: list[Pair],
        media_url: str,
        clip: bytes,
        big: bytes,
        result: MemoryResult,
        pace: str = "tiktok",
    ) -> None:
        self.index = index
        self.pace = pace
        self.http = httpx.AsyncClient(base_url=base_url, timeout=60)
        self.control = Control(self.http)
        self.pairs = pairs
        self.media_url = media_url
        self.clip = clip
        self.big = big
        self.result = result
        self.rng = random.Random(1000 + index)
        self._upload_url = ""

    async def close(self) -> None:
        await self.http.aclose()

    async def call(self, kind: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            self.result.requests[(kind, type(exc).__name__)] += 1
            raise
        self.result.requests[(kind, str(response.status_code))] += 1
        code = _error_code(response)
        if code and code != "ok":
            self.result.codes[(kind, code)] += 1
        return response

    async def run(self, deadline: float, start_after: float = 0.0) -> None:
        # Clients start a few seconds apart, as real ones do: at the `tiktok` pace their
        # per-minute budgets then refill at different moments, not all on the minute.
        await asyncio.sleep(start_after)
        names, weights = list(OPS), list(OPS.values())
        while time.monotonic() < deadline:
            pair = self.rng.choice(self.pairs)
            op = self.rng.choices(names, weights)[0]
            if len(pair.drafts) >= 3:  # a creator with 5 pending drafts can get no more
                op = "status"
            try:
                await self._do(op, pair)
            except NoBudget:
                # Out of this minute's budget for that endpoint: do what has budget left (user
                # info, 600 a minute), as an integration would, rather than mint a token.
                try:
                    await self._do("user_info", pair)
                except NoBudget:
                    await asyncio.sleep(0.05)
            except (httpx.TransportError, KeyError, ValueError, TypeError):
                pair.access = ""  # start over with a fresh code next time

    async def _do(self, op: str, pair: Pair) -> None:
        self.result.ops[op] += 1
        try:
            await getattr(self, f"op_{op}")(pair)
        except NoBudget:
            self.result.ops[op] -= 1
            raise

    # -- tokens ---------------------------------------------------------------------------

    async def token(self, pair: Pair, endpoint: str) -> str:
        """A token with budget left on `endpoint` this minute: at the `tiktok` pace, after
        waiting for it; at `max`, a refresh or a new code."""
        if self.pace == "tiktok":
            if not self._spend(pair, endpoint):
                raise NoBudget(endpoint)
            if not pair.access:
                await self.op_exchange(pair)
            return pair.access
        if pair.access and pair.used[endpoint] < RATE_LIMITS.get(endpoint, 10**9):
            pair.used[endpoint] += 1
            return pair.access
        if pair.refresh and pair.refreshes < 2:
            await self.op_refresh(pair)
        if not pair.access or pair.used[endpoint] >= RATE_LIMITS.get(endpoint, 10**9):
            await self.op_exchange(pair)
        pair.used[endpoint] += 1
        return pair.access

    @staticmethod
    def _spend(pair: Pair, endpoint: str) -> bool:
        """Use one of `endpoint`'s requests for this creator, whatever its token: spread evenly
        over the minute (at most one every 60/limit seconds), as a client that paces itself to
        a rate limit does; False when it is too soon."""
        limit = RATE_LIMITS.get(endpoint)
        if limit is None:
            return True
        window = pair.window.setdefault(endpoint, deque(maxlen=1))
        now = time.monotonic()
        if window and now - window[-1] < 60 / limit:
            return False
        window.append(now)
        return True

    def _took(self, pair: Pair, response: httpx.Response) -> None:
        data = response.json()
        if "access_token" not in data:
            pair.access = ""
            return
        pair.access, pair.refresh = data["access_token"], data["refresh_token"]
        pair.used.clear()

    async def op_exchange(self, pair: Pair) -> None:
        body = {
            "client_key": pair.client_key,
            "username": pair.username,
            "scopes": list(ALL_SCOPES),
        }
        response = await self.call("authorize", "POST", "/_sandbox/authorize", json=body)
        if response.status_code != 200:
            pair.access = ""
            return
        code = response.json()
        form = {
            "client_key": pair.client_key,
            "client_secret": pair.client_secret,
            "code": code["code"],
            "grant_type": "authorization_code",
            "redirect_uri": code["redirect_uri"],
        }
        self._took(pair, await self.call("token_code", "POST", TOKEN, data=form))
        pair.refreshes = 0

    async def op_refresh(self, pair: Pair) -> None:
        if not pair.refresh:
            await self.op_exchange(pair)
            return
        form = {
            "client_key": pair.client_key,
            "client_secret": pair.client_secret,
            "grant_type": "refresh_token",
            "refresh_token": pair.refresh,
        }
        self._took(pair, await self.call("token_refresh", "POST", TOKEN, data=form))
        pair.refreshes += 1

    # -- reading ----------------------------------------------------------------------------

    async def op_user_info(self, pair: Pair) -> None:
        token = await self.token(pair, "user_info")
        await self.call(
            "user_info",
            "GET",
            "/v2/user/info/",
            headers=bearer(token),
            params={"fields": "open_id,union_id,avatar_url,display_name"},
        )

    async def op_creator_info(self, pair: Pair) -> None:
        token = await self.token(pair, "creator_info")
        await self.call(
            "creator_info",
            "POST",
            "/v2/post/publish/creator_info/query/",
            headers=bearer(token),
            json={},
        )

    async def op_status(self, pair: Pair) -> None:
        if not pair.publishes and not pair.drafts:
            await self.op_creator_info(pair)
            return
        draft = bool(pair.drafts) and (self.rng.random() < 0.7 or not pair.publishes)
        publish_id = self.rng.choice(pair.drafts if draft else list(pair.publishes))
        token = await self.token(pair, "status_fetch")
        response = await self.call(
            "status", "POST", STATUS, headers=bearer(token), json={"publish_id": publish_id}
        )
        status = (response.json().get("data") or {}).get("status")
        if status == "SEND_TO_USER_INBOX" and publish_id in pair.drafts:
            pair.drafts.remove(publish_id)
            await self.call(
                "post_draft",
                "POST",
                f"/_sandbox/publishes/{publish_id}/actions",
                json={"action": "post_draft", "privacy_level": "SELF_ONLY"},
            )
        elif status in FINAL:
            if publish_id in pair.drafts:
                pair.drafts.remove(publish_id)
            if publish_id in pair.publishes:
                pair.publishes.remove(publish_id)

    # -- posting ----------------------------------------------------------------------------

    async def _init(self, pair: Pair, inbox: bool, source: dict[str, Any], kind: str) -> str | None:
        endpoint = "inbox_video_init" if inbox else "video_init"
        token = await self.token(pair, endpoint)
        body: dict[str, Any] = {"source_info": source}
        if not inbox:
            privacy = self.rng.choice(["PUBLIC_TO_EVERYONE", "SELF_ONLY"])
            body["post_info"] = {"title": f"bench #{self.index}", "privacy_level": privacy}
        response = await self.call(
            kind, "POST", INBOX_INIT if inbox else VIDEO_INIT, headers=bearer(token), json=body
        )
        data = response.json().get("data") or {}
        publish_id = data.get("publish_id")
        if not publish_id:
            return None
        if inbox:
            pair.drafts.append(publish_id)
        else:
            pair.publishes.append(publish_id)
        self._upload_url = data.get("upload_url", "")
        return str(publish_id)

    async def _put(self, video: bytes) -> None:
        for first, last in chunk_ranges(len(video)):
            headers = {
                "Content-Type": "video/mp4",
                "Content-Range": f"bytes {first}-{last}/{len(video)}",
            }
            await self.call(
                "upload_put",
                "PUT",
                self._upload_url,
                content=video[first : last + 1],
                headers=headers,
            )

    async def _post_file(self, pair: Pair, video: bytes, inbox: bool, kind: str) -> None:
        if await self._init(pair, inbox, chunk_plan(len(video)), kind):
            await self._put(video)

    async def op_post_file(self, pair: Pair) -> None:
        await self._post_file(pair, self.clip, False, "video_init_file")

    async def op_post_file_chunked(self, pair: Pair) -> None:
        await self._post_file(pair, self.big, False, "video_init_file_chunked")

    async def op_inbox_file(self, pair: Pair) -> None:
        await self._post_file(pair, self.clip, True, "inbox_init_file")

    async def op_post_pull(self, pair: Pair) -> None:
        source = {"source": "PULL_FROM_URL", "video_url": f"{self.media_url}/media/clip.mp4"}
        await self._init(pair, False, source, "video_init_pull")

    async def op_inbox_pull(self, pair: Pair) -> None:
        source = {"source": "PULL_FROM_URL", "video_url": f"{self.media_url}/media/clip.mp4"}
        await self._init(pair, True, source, "inbox_init_pull")

    async def op_cancel_pull(self, pair: Pair) -> None:
        source = {"source": "PULL_FROM_URL", "video_url": f"{self.media_url}/media/slow/clip.mp4"}
        publish_id = await self._init(pair, False, source, "video_init_slow_pull")
        if publish_id is None:
            return
        await asyncio.sleep(0.3)
        token = await self.token(pair, "cancel")
        await self.call(
            "cancel",
            "POST",
            "/v2/post/publish/cancel/",
            headers=bearer(token),
            json={"publish_id": publish_id},
        )

    async def op_abandon_upload(self, pair: Pair) -> None:
        """An init whose upload never comes (a client that crashed or gave up)."""
        if await self._init(pair, False, chunk_plan(len(self.clip)), "video_init_abandoned"):
            pair.publishes.pop()  # nobody asks about it again


def _error_code(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict):
        return str(error.get("code"))
    return str(error) if isinstance(error, str) else None


async def _sample(
    server: SandboxProcess, result: MemoryResult, started: float, every: float, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        kib = server.rss_kib()
        if kib is not None:
            result.samples.append((time.monotonic() - started, kib))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def run_memory(
    minutes: float,
    clients: int,
    sample_seconds: float,
    reference_seconds: float,
    clip: bytes,
    progress: bool,
    pace: str = "tiktok",
) -> MemoryResult:
    result = MemoryResult(clients=clients, reference_seconds=reference_seconds, pace=pace)
    big = pad_mp4(clip, 10 * MiB + 4321)  # two chunks: 5 MiB and 5 MiB + 4321 bytes
    media = MediaServer({"clip.mp4": clip}, slow_seconds=1.5)
    receiver = WebhookReceiver()
    peer_app = Starlette(routes=[*media.routes(), *receiver.routes()])
    with SandboxProcess() as server, PeerServer(peer_app, "bench-peers") as peer:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            pairs = await _set_up(Control(http), peer.url, clients, receiver)
        workers = [
            Client(i, server.url, pairs[i], peer.url, clip, big, result, pace)
            for i in range(clients)
        ]
        stop = asyncio.Event()
        started = time.monotonic()
        deadline = started + minutes * 60
        sampler = asyncio.create_task(_sample(server, result, started, sample_seconds, stop))
        stagger = 30.0 / max(1, clients)
        tasks = [asyncio.create_task(w.run(deadline, i * stagger)) for i, w in enumerate(workers)]
        try:
            while not all(t.done() for t in tasks):
                await asyncio.wait(tasks, timeout=30)
                if progress and result.samples:
                    t, kib = result.samples[-1]
                    total = sum(result.requests.values())
                    print(
                        f"  memory: {t:.0f} s, RSS {kib / 1024:.1f} MiB, {total} requests",
                        flush=True,
                    )
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            stop.set()
            await sampler
            for worker in workers:
                await worker.close()
        result.seconds = time.monotonic() - started
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            result.kept = await _kept(http)
            result.after_reset_kib = await _after_reset(server, http)
        result.webhooks = receiver.counts()
        result.media_requests = media.requests
        result.server_log = server.log()
    return result


# Past the served sandbox's give-back of free memory: right after a reset (every 30 s before
# 2026-12-05, which --sandbox-from may measure).
AFTER_RESET_SECONDS = 35.0


async def _after_reset(server: SandboxProcess, http: httpx.AsyncClient) -> int | None:
    """Reset the sandbox (every record it kept goes) and take the lowest RSS over the next
    AFTER_RESET_SECONDS: near the RSS after the first minute when the growth was records the
    sandbox keeps within its caps, well above it when something leaked."""
    response = await http.post("/_sandbox/reset", json={})
    if response.status_code != 200:
        return None
    lowest: int | None = None
    until = time.monotonic() + AFTER_RESET_SECONDS
    while time.monotonic() < until:
        kib = server.rss_kib()
        if kib is not None:
            lowest = kib if lowest is None else min(lowest, kib)
        await asyncio.sleep(1.0)
    return lowest


async def _kept(http: httpx.AsyncClient) -> dict[str, Counter[str]]:
    """What the sandbox keeps at the end, as the control API lists it: a clue to where the
    memory went (records by kind, with their status)."""
    lists = {
        "apps": ("/_sandbox/apps", "apps", None),
        "creators": ("/_sandbox/creators", "creators", None),
        "grants": ("/_sandbox/grants", "grants", "active"),
        "publishes": ("/_sandbox/publishes", "publishes", "status"),
        "webhook deliveries": ("/_sandbox/webhooks", "deliveries", "status"),
        "journal entries": ("/_sandbox/journal?limit=100000", "entries", None),
    }
    kept: dict[str, Counter[str]] = {}
    for name, (path, key, by) in lists.items():
        counts: Counter[str] = Counter()
        page: str | None = path if "?" in path else f"{path}?limit=1000"
        while page:  # listings come in pages, `next` while more follow
            response = await http.get(page)
            if response.status_code != 200:
                counts[f"HTTP {response.status_code}"] += 1
                break
            data = response.json()
            counts.update(str(item.get(by)) if by else "all" for item in data.get(key, []))
            page = data.get("next")
        kept[name] = counts
    return kept


async def _set_up(
    control: Control, peer_url: str, clients: int, receiver: WebhookReceiver
) -> list[list[Pair]]:
    """Apps (audited, media and webhooks on the local peers) and each client's creators."""
    per_app: list[list[int]] = [[c for c in range(clients) if c % APPS == a] for a in range(APPS)]
    pairs: list[list[Pair]] = [[] for _ in range(clients)]
    for a, members in enumerate(per_app):
        names = [f"mem_c{c}_{k}" for c in members for k in range(CREATORS_PER_CLIENT)]
        created = await control.create_app(
            {
                "name": f"Memory bench {a}",
                "stage": "audited",
                "allow_loopback_http_media": True,
                "verified_url_prefixes": [f"{peer_url}/media/"],
                "webhook_url": f"{peer_url}/hook/app{a}",
                "creators": [
                    {"username": n, "account": "public", "daily_post_cap": 1000000} for n in names
                ],
            }
        )
        app = created["app"]
        receiver.secrets[app["client_key"]] = app["client_secret"]
        for c in members:
            for k in range(CREATORS_PER_CLIENT):
                pairs[c].append(Pair(app["client_key"], app["client_secret"], f"mem_c{c}_{k}"))
    return pairs


def report_memory(result: MemoryResult) -> None:
    ref = result.reference
    print(
        f"\nMemory over time: {result.clients} clients for {result.seconds / 60:.1f} min; "
        f"{sum(result.requests.values())} requests "
        f"({sum(result.requests.values()) / max(result.seconds, 1e-9):.0f}/s)"
    )
    if result.samples:
        first = result.samples[0][1]
        last = result.samples[-1][1]
        print(
            f"  RSS: {first / 1024:.1f} MiB at start, "
            + (f"{ref[1] / 1024:.1f} MiB at {ref[0]:.0f} s, " if ref else "")
            + (f"max {result.peak_after / 1024:.1f} MiB afterwards, " if result.peak_after else "")
            + f"{last / 1024:.1f} MiB at the end"
        )
        if result.after_reset_kib is not None:
            print(
                f"  after the workload, a reset and {AFTER_RESET_SECONDS:.0f} s: "
                f"{result.after_reset_kib / 1024:.1f} MiB"
            )
        slope = result.slope_mib_per_minute()
        if slope is not None:
            print(f"  growth after the reference point: {slope:+.2f} MiB/min")
        marks = result.samples[:: max(1, len(result.samples) // 12)]
        print("  samples: " + ", ".join(f"{t:.0f}s {kib / 1024:.0f}M" for t, kib in marks))
    kinds = sorted({k for k, _ in result.requests})
    print("\n  requests by kind and status:")
    for kind in kinds:
        statuses = {s: n for (k, s), n in result.requests.items() if k == kind}
        shown = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
        print(f"    {kind:26s} {sum(statuses.values()):7d}  ({shown})")
    if result.codes:
        print(
            "  error codes: "
            + ", ".join(f"{kind} {code} {n}" for (kind, code), n in result.codes.most_common(12))
        )
    hooks = ", ".join(
        f"{s} {'signed' if ok else 'BAD SIGNATURE'}: {n}"
        for (s, ok), n in sorted(result.webhooks.items())
    )
    print(f"  webhooks received: {sum(result.webhooks.values())} ({hooks or 'none'})")
    print(f"  media server: {dict(result.media_requests)}")
    if result.kept:
        shown = "; ".join(
            f"{name} {sum(c.values())}"
            + (f" ({', '.join(f'{k} {n}' for k, n in c.most_common())})" if len(c) > 1 else "")
            for name, c in result.kept.items()
        )
        print(f"  kept at the end: {shown}")
    print(f"  {result.server_log.report()}")
