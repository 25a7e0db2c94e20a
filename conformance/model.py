"""A model of TikTok's documented Content Posting contract, as a Hypothesis state machine.

The machine drives a target only through HTTP and the target controller (apps, creators, codes,
clock), and predicts the answer to every call from the reference (`conformance/spec.py`):

    content/init PHOTO DIRECT_POST by conformance_243@app1 privacy=FOLLOWER_OF_CREATOR 1 verified
    URLs: expected one of privacy_level_option_mismatch (ref 7.1: FOLLOWER_OF_CREATOR is not
    one of ['MUTUAL_FOLLOW_FRIENDS', 'PUBLIC_TO_EVERYONE', 'SELF_ONLY']), got HTTP 200 ok

Where the reference leaves a point open (whether a request answered 429 still counts toward the
window, the exact instant a 24 h window ends, whether a failed inbox draft still counts as
pending...), the model allows each plausible answer and learns from the one it gets: a
`Verdict` holds the errors that are due (`must`) and the ones the reference leaves open (`may`).

A failure prints as a program of API calls (Hypothesis's stateful runner), with each call and
its answer noted.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
from hypothesis import event, note
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from conformance import spec
from conformance.controller import Controller, ControllerError
from conformance.media_host import MediaHost
from conformance.report import example

Maybe = bool | None  # yes, no, or "the reference leaves it open"

DAY = spec.DAY
MINUTE = 60.0
UPLOAD_URL_SECONDS = 3600  # ref 7.3: upload_url is valid for 1 hour
PULL_TIMEOUT_SECONDS = 3600  # ref 10.4: a pull times out 1 hour after it starts
ACCESS_SECONDS = 2 * 3600  # ref 2.4 (doc-2026, the "current" token profile): 2 hours
REFRESH_SECONDS = 180 * 86400  # ref 2.4 (doc-2026): 180 days
CODE_SURELY_EXPIRED = 3600  # ref 2.2 (3p): a code "expires within seconds to minutes"
MEDIA_UPLOAD_MIN_APP_VERSION = (31, 8)  # ref 9
SCOPE_SETS = {
    "all": frozenset({"user.info.basic", "video.upload", "video.publish"}),
    "upload": frozenset({"user.info.basic", "video.upload"}),
    "publish": frozenset({"user.info.basic", "video.publish"}),
}
DIRECT_POST, MEDIA_UPLOAD = "DIRECT_POST", "MEDIA_UPLOAD"
FILE_UPLOAD, PULL_FROM_URL = "FILE_UPLOAD", "PULL_FROM_URL"
PROCESSING_UPLOAD, PROCESSING_DOWNLOAD = "PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD"
SEND_TO_USER_INBOX, PUBLISH_COMPLETE, FAILED = "SEND_TO_USER_INBOX", "PUBLISH_COMPLETE", "FAILED"


def any_of(*answers: Maybe) -> Maybe:
    """True if any is True, else None if any is open, else False."""
    if True in answers:
        return True
    return None if None in answers else False


# -- the model's arithmetic ------------------------------------------------------------------


@dataclass
class Window:
    """Events in a rolling window of `seconds`. An event exactly `seconds` old, or one the
    reference does not say counts (`sure=False`), may or may not count."""

    seconds: float
    events: list[tuple[float, bool]] = field(default_factory=list)

    def add(self, at: float, sure: bool = True) -> None:
        self.events.append((at, sure))

    def counts(self, now: float) -> tuple[int, int]:
        """(events that surely count, events that may count) at `now`."""
        low = sum(1 for at, sure in self.events if sure and now - at < self.seconds)
        high = sum(1 for at, _ in self.events if now - at <= self.seconds)
        return low, high

    def reached(self, limit: int, now: float) -> Maybe:
        low, high = self.counts(now)
        return True if low >= limit else (None if high >= limit else False)


@dataclass
class Verdict:
    """What the reference allows as the answer to one call: `ok`, unless an error is due
    (`must`: one of them); `may` holds errors the reference leaves open. Codes carry why."""

    must: dict[str, str] = field(default_factory=dict)
    may: dict[str, str] = field(default_factory=dict)

    def due(self, code: str, when: Maybe, why: str) -> None:
        if when is True:
            self.must.setdefault(code, why)
        elif when is None:
            self.may.setdefault(code, why)

    def allows(self, code: str) -> bool:
        if code in self.must or code in self.may:
            return True
        return code == "ok" and not self.must

    def __str__(self) -> str:
        def show(codes: dict[str, str]) -> str:
            return ", ".join(f"{code} ({why})" for code, why in codes.items())

        text = f"one of {show(self.must)}" if self.must else "ok"
        if self.may:
            text += f"; or, where the reference is open: {show(self.may)}"
        return text


@dataclass(frozen=True)
class Plan:
    """A FILE_UPLOAD chunk plan as sent in `source_info` (ref 7.2)."""

    video_size: int
    chunk_size: int
    total_chunk_count: int


MIB = spec.MIB
# Chunk plans at the edges of ref 10.1, valid and not (a fixed list: failures shrink fast).
PLANS = st.sampled_from(
    [
        Plan(50_000_123, 10_000_000, 5),  # the doc's example: the last chunk takes the rest
        Plan(50_000_123, 10_000_000, 4),  # one short of floor(video_size / chunk_size)
        Plan(50_000_123, 10_000_000, 6),  # one over
        Plan(4 * MIB, 4 * MIB, 1),  # under 5 MB, whole
        Plan(4 * MIB, 4 * MIB, 2),  # under 5 MB, but two chunks
        Plan(4 * MIB, 1 * MIB, 4),  # under 5 MB, chunked
        Plan(64 * MIB, 64 * MIB, 1),  # 64 MB whole
        Plan(100 * MIB, 100 * MIB, 1),  # over 64 MB, whole
        Plan(100 * MIB, 64 * MIB, 1),  # over 64 MB, "chunked" into one
        Plan(20 * MIB, 4 * MIB, 5),  # chunks under 5 MB
        Plan(200 * MIB, 100 * MIB, 2),  # chunks over 64 MB
        Plan(5 * MIB * 1001, 5 * MIB, 1001),  # over 1000 chunks (and over 4 GB)
    ]
)


# -- what the model knows about the target ------------------------------------------------


@dataclass(eq=False)
class App:
    label: str
    key: str
    secret: str
    redirect_uri: str
    stage: str
    cap: int | None  # the configured 24 h active-creator cap (ref 15.2)
    prefix: str  # its verified URL prefix on the media host (ref 10.4)
    targets: list[str] = field(default_factory=list)  # sandbox target users (ref 15.3)
    # Direct Posts through this app by each creator, for the active-creator cap.
    posters: dict[str, Window] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"{self.label} ({self.stage})"

    def caps(self) -> list[tuple[int, Maybe, str]]:
        """The caps on distinct posting creators: (cap, certain?, why)."""
        found: list[tuple[int, Maybe, str]] = []
        if self.cap is not None:
            found.append((self.cap, True, "ref 15.2: the app's configured cap"))
        if self.stage == "unaudited":
            found.append((spec.UNAUDITED_CREATOR_CAP, True, "ref 15.1: 5 users before audit"))
        if self.stage == "sandbox":
            found.append((spec.UNAUDITED_CREATOR_CAP, None, "ref 15.3: sandbox cap unstated"))
        return found

    def blocks_new_poster(self, username: str, now: float) -> tuple[Maybe, str]:
        """Whether the active-creator cap stops `username` posting now (ref 15.1, 15.2)."""
        sure = {u for u, w in self.posters.items() if w.counts(now)[0]}
        maybe = {u for u, w in self.posters.items() if w.counts(now)[1]}
        if username in sure:
            return False, ""
        answers: list[Maybe] = []
        why = ""
        for cap, certain, reason in self.caps():
            if username not in maybe and len(sure) >= cap:
                answers.append(certain)
            elif len(maybe - {username}) >= cap:
                answers.append(None)
            else:
                continue
            why = f"{reason}; {len(sure)} creators posted in 24 h, cap {cap}"
        return any_of(*answers), why


@dataclass(eq=False)
class Creator:
    username: str
    account: str
    banned: bool
    daily_cap: int
    app_version: str
    posts: Window = field(default_factory=lambda: Window(DAY))  # Direct Posts, every app
    cap_history: list[tuple[float, int]] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"{self.username} ({self.account})"

    def highest_cap_since(self, since: float) -> int:
        """The highest daily cap in force at any time after `since`."""
        caps = [cap for at, cap in self.cap_history if at > since]
        earlier = [cap for at, cap in self.cap_history if at <= since]
        return max(caps + earlier[-1:])


@dataclass(eq=False)
class Grant:
    app: App
    creator: Creator
    scopes: frozenset[str]
    open_id: str
    refresh_token: str  # the current one; older ones were rotated away (ref 2.4)
    revoked: bool = False
    shaky: bool = False  # the reference does not say whether it still works


@dataclass(eq=False)
class Code:
    app: App
    creator: Creator
    scopes: frozenset[str]
    value: str
    redirect_uri: str
    issued_at: float
    burnt: bool = False  # exchanged, or refused once: never good again (ref 2.2)
    shaky: bool = False  # issued before a revoke: the reference does not say if it survives


@dataclass(eq=False)
class Login:
    """One token answer: an access token and the refresh token issued with it."""

    grant: Grant
    access_token: str
    refresh_token: str
    issued_at: float
    superseded: bool = False  # a refresh issued a newer access token for the grant
    dead: bool = False  # answered access_token_invalid once: never valid again
    windows: dict[str, Window] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"{self.grant.creator.username}@{self.grant.app.label}"

    def valid(self, now: float) -> tuple[Maybe, str]:
        age = now - self.issued_at
        if self.grant.revoked:
            return False, "ref 2.5: revoked"
        if self.dead:
            return False, "it was refused as invalid before"
        if age > ACCESS_SECONDS:
            return False, f"ref 2.4: expired ({age:.0f} s old, lifetime {ACCESS_SECONDS} s)"
        if age == ACCESS_SECONDS:
            return None, "ref 2.4: exactly at expiry"
        if self.superseded or self.grant.shaky:
            return None, "ref 2.4: an older access token after a refresh"
        return True, ""

    def window(self, endpoint: str) -> Window:
        return self.windows.setdefault(endpoint, Window(MINUTE))


@dataclass(eq=False)
class Publish:
    publish_id: str
    login: Login
    mode: str
    media_type: str
    source: str
    created_at: float
    privacy: str | None = None  # requested (Direct Post)
    upload_url: str | None = None
    bytes_in: bool = False  # the whole file was answered 201
    released_at: float | None = None  # PULL_FROM_URL: when the media host let the pull go
    cancelled: bool = False
    drafted: bool = False  # the creator posted the inbox draft
    may_auth_removed: bool = False  # the grant was revoked while it was under way
    last_status: str | None = None
    last_downloaded: int = 0

    @property
    def app(self) -> App:
        return self.login.grant.app

    @property
    def creator(self) -> Creator:
        return self.login.grant.creator

    def __repr__(self) -> str:
        return f"{self.publish_id} ({self.mode} {self.media_type} {self.source})"

    def may_be_public(self) -> bool:
        """ref 11, 15.1: only an audited app's PUBLIC_TO_EVERYONE Direct Post gets post ids."""
        return (
            self.app.stage == "audited"
            and self.mode == DIRECT_POST
            and self.privacy == "PUBLIC_TO_EVERYONE"
        )

    def pull_timed_out(self, now: float) -> Maybe:
        """ref 10.4: a pull not done an hour after it starts fails."""
        if self.source != PULL_FROM_URL or self.cancelled:
            return False
        end = now if self.released_at is None else self.released_at
        age = end - self.created_at
        return (
            True if age > PULL_TIMEOUT_SECONDS else (None if age == PULL_TIMEOUT_SECONDS else False)
        )

    def downloading(self, now: float) -> Maybe:
        """A pull still under way (ref 12: only those can be cancelled)."""
        if self.source != PULL_FROM_URL or self.cancelled or self.released_at is not None:
            return False
        timed_out = self.pull_timed_out(now)
        if timed_out is True:
            return False
        return None if timed_out is None or self.may_auth_removed else True

    def expected(self, now: float) -> tuple[set[str], set[str]]:
        """ref 11: the statuses (and fail reasons) the publish may show now."""
        if self.drafted:
            return {PUBLISH_COMPLETE}, set()
        if self.cancelled:
            return {FAILED}, {"publish_cancelled"}  # ref 12 (status after cancel: guess)
        start = PROCESSING_UPLOAD if self.source == FILE_UPLOAD else PROCESSING_DOWNLOAD
        done = PUBLISH_COMPLETE if self.mode == DIRECT_POST else SEND_TO_USER_INBOX
        statuses, reasons = {start}, set()
        timed_out = self.pull_timed_out(now)
        pull_failed = "photo_pull_failed" if self.media_type == "PHOTO" else "video_pull_failed"
        if timed_out is True:
            statuses, reasons = {FAILED}, {pull_failed}
        else:
            if timed_out is None:
                statuses.add(FAILED)
                reasons.add(pull_failed)
            if self.bytes_in or self.released_at is not None:
                statuses.add(done)
        if self.may_auth_removed:
            statuses.add(FAILED)
            reasons.add("auth_removed")  # ref 11: access revoked mid-process
        expired = now - self.created_at > UPLOAD_URL_SECONDS
        if self.source == FILE_UPLOAD and not self.bytes_in and expired:
            statuses.add(FAILED)  # the reference is silent on uploads never finished
            reasons |= spec.FAIL_REASONS
        return statuses, reasons

    def pending(self, now: float) -> Maybe:
        """ref 8: an inbox share not yet posted counts toward the creator's pending cap."""
        if self.mode != MEDIA_UPLOAD or self.drafted:
            return False
        never_uploaded = (  # its upload URL expired first: it may have failed (see expected)
            self.source == FILE_UPLOAD
            and not self.bytes_in
            and now - self.created_at > UPLOAD_URL_SECONDS
        )
        may_have_failed = (
            self.cancelled
            or self.may_auth_removed
            or never_uploaded
            or self.pull_timed_out(now) is not False
        )
        # ref 8 (open question 8): failed shares, and shares over 24 h old, may still count.
        return None if may_have_failed or now - self.created_at >= DAY else True


@dataclass
class Kit:
    """What a run of the model needs: HTTP to the target, its controller, and real media."""

    http: httpx.Client
    controller: Controller
    video: bytes  # a small real MP4 (< 5 MB: uploaded whole, ref 10.1)
    host: MediaHost  # serves a real JPEG at every path, holding each pull until released
    behaviour: str = "stateful_contract"


class Refused(AssertionError):
    """The target's answer is not one the reference allows."""


def _rule_names(machine: type) -> set[str]:
    return {
        name
        for name, value in inspect.getmembers(machine)
        if getattr(value, "hypothesis_stateful_rule", None) is not None
    }


# -- the machine ----------------------------------------------------------------------------

PRIVACY = st.sampled_from([*spec.PRIVACY_LEVELS, None])
ACCOUNTS = st.sampled_from(["public", "private"])
DAILY_CAPS = st.sampled_from([1, 2, 15])
SCOPES = st.sampled_from(["all", "all", "all", "upload", "publish"])
SECONDS = st.sampled_from([1, 1, 1, 30, 61, 61, 3601, 7201, 86401])
SHORT_WAITS = st.sampled_from([1, 1, 30, 61])


class ContractMachine(RuleBasedStateMachine):
    """The documented contract, step by step. Subclasses name a `focus` (the rules they keep)
    for narrower, quicker runs."""

    kit: ClassVar[Kit]
    focus: ClassVar[frozenset[str]] = frozenset()
    # A small cast keeps the steps on what the cast does, not on casting.
    max_apps: ClassVar[int] = 3
    max_creators: ClassVar[int] = 4
    max_logins: ClassVar[int] = 8

    # Apps and creators are reached through the logins that tie them (`app_of=logins_0`).
    codes = Bundle("codes")
    logins = Bundle("logins")
    publishes = Bundle("publishes")
    uploads = Bundle("uploads")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.focus:
            unknown = cls.focus - _rule_names(ContractMachine)
            assert not unknown, f"no such rules: {sorted(unknown)}"
            for name in _rule_names(ContractMachine) - cls.focus:
                setattr(cls, name, None)

    @classmethod
    def bound(cls, kit: Kit) -> type[ContractMachine]:
        """This machine on `kit` (a subclass of the same name, so steps print as usual)."""
        return type(cls.__name__, (cls,), {"kit": kit, "__doc__": cls.__doc__})

    def __init__(self) -> None:
        # No reset between runs: every run makes apps and creators of its own, and the target
        # keeps each app's state apart (DESIGN: isolated), so runs cannot see each other.
        super().__init__()
        self.kit.host.hold_all()
        example(self.kit.behaviour)
        self.now = 0.0
        self.names = itertools.count(1)
        self.all_apps: list[App] = []
        self.all_creators: list[Creator] = []
        self.grants: list[Grant] = []
        self.all_codes: list[Code] = []
        self.all_logins: list[Login] = []
        self.all_publishes: list[Publish] = []
        self.open_ids: dict[tuple[str, str], str] = {}
        self.visibility_changed = False
        self.tokens_changed = False
        self.crowded = False
        self.counts_changed = False
        self.failed_for_good: set[str] = set()  # publish ids seen FAILED: never public

    @property
    def http(self) -> httpx.Client:
        return self.kit.http

    @property
    def controller(self) -> Controller:
        return self.kit.controller

    def teardown(self) -> None:
        self.kit.host.release_all()
        self.controller.settle()

    # -- calls and answers ----------------------------------------------------------------

    def call(self, what: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        code = ""
        if response.headers.get("content-type", "").startswith("application/json"):
            body = response.json()
            error = body.get("error") if isinstance(body, dict) else None
            code = error.get("code", "") if isinstance(error, dict) else str(error or "")
        note(f"{what}: {method} {path} -> {response.status_code} {code}".rstrip())
        event(f"{method} {path.split('?')[0]} -> {response.status_code} {code}".rstrip())
        return response

    def judge(
        self, what: str, verdict: Verdict, response: httpx.Response, *, intentional_200: bool
    ) -> tuple[str, dict[str, Any]]:
        """Check an envelope answer against the verdict (ref 4.1, 4.2); returns (code, data)."""
        try:
            body = response.json()
            code = body["error"]["code"]
            assert isinstance(code, str) and "log_id" in body["error"]
        except (ValueError, KeyError, TypeError, AssertionError):
            raise Refused(
                f"{what}: expected TikTok's {{data, error}} envelope (ref 4.1), got HTTP "
                f"{response.status_code} {response.text[:200]!r}"
            ) from None
        if not verdict.allows(code):
            raise Refused(f"{what}: expected {verdict}, got HTTP {response.status_code} {code}")
        status = spec.ENVELOPE_ERRORS.get(code)
        if intentional_200 and code in spec.CREATOR_INFO_200_ERRORS:
            status = 200  # ref 6: these come back with HTTP 200 on purpose
        if response.status_code != status:
            raise Refused(
                f"{what}: {code} comes with HTTP {status} (ref 4.2), got {response.status_code}"
            )
        data = body.get("data")
        return code, data if isinstance(data, dict) else {}

    def gate(self, login: Login, endpoint: str, needs: frozenset[str]) -> tuple[Verdict, bool]:
        """Token, scope and rate limit (ref 4.2, 4.3): the verdict so far, and whether the
        endpoint's own rules decide the rest."""
        verdict = Verdict()
        valid, why = login.valid(self.now)
        if valid is False:
            verdict.due("access_token_invalid", True, why)
            return verdict, False
        verdict.due("access_token_invalid", None if valid is None else False, why)
        limit = spec.RATE_LIMITS.get(endpoint)
        if limit is None:
            reached: Maybe = None  # ref 4.3: no documented limit
            why = "ref 4.3: this endpoint's limit is not documented"
        else:
            reached = login.window(endpoint).reached(limit, self.now)
            why = f"ref 4.3: {limit} requests a minute per token"
        if not login.grant.scopes & needs:
            verdict.due("scope_not_authorized", True, f"ref 3: needs {' or '.join(sorted(needs))}")
            verdict.due("rate_limit_exceeded", None if reached is not False else False, why)
            return verdict, False
        if reached is True:
            verdict.due("rate_limit_exceeded", True, why)  # ref 4.3: over the limit, 429
            return verdict, False
        verdict.due("rate_limit_exceeded", reached, why)
        return verdict, True

    def counted(self, login: Login, endpoint: str, code: str) -> None:
        """Learn from an answer: what counts toward the token's rate window (ref 4.3)."""
        if code == "access_token_invalid":
            login.dead = True
        else:
            sure = code not in ("rate_limit_exceeded", "scope_not_authorized")
            login.window(endpoint).add(self.now, sure=sure)

    def bearer(self, login: Login) -> dict[str, str]:
        return {"Authorization": f"Bearer {login.access_token}"}

    # -- apps and creators ----------------------------------------------------------------

    def _new_app(self, stage: str, cap: int | None, targets: Iterable[Creator] = ()) -> App:
        label = f"app{next(self.names)}"
        prefix = self.kit.host.url(f"/m/{label}/")
        settings: dict[str, Any] = {
            "direct_post_enabled": True,
            "token_profile": "current",
            "verified_url_prefixes": [prefix],
            "allow_loopback_http_media": True,
        }
        if cap is not None:
            settings["active_creator_cap"] = cap
        usernames = [creator.username for creator in targets]
        if usernames:
            settings["target_users"] = usernames
        info = self.controller.create_app(stage=stage, **settings)
        app = App(label, info.client_key, info.client_secret, info.redirect_uri, stage, cap, prefix)
        app.targets.extend(usernames)
        self.all_apps.append(app)
        note(f"{app!r}: client_key {app.key}, verified prefix {prefix}")
        return app

    def _new_creator(self, account: str, daily_cap: int, app_version: str) -> Creator:
        username = self.controller.create_creator(
            account=account, daily_post_cap=daily_cap, app_version=app_version, banned=False
        )
        creator = Creator(username, account, False, daily_cap, app_version)
        creator.cap_history.append((self.now, daily_cap))
        self.all_creators.append(creator)
        note(f"{creator!r}: daily cap {daily_cap}, TikTok app {app_version}")
        return creator

    @initialize(
        target=logins,
        stage=st.sampled_from(["audited", "unaudited"]),
        account=ACCOUNTS,
        daily_cap=DAILY_CAPS,
    )
    def start(self, stage: str, account: str, daily_cap: int) -> Any:
        """A first app and creator, signed in: every run starts with someone who can post."""
        creator = self._new_creator(account, daily_cap, "35.1.0")
        return self._sign_in(self._new_app(stage, None), creator, "all")

    @precondition(lambda self: len(self.all_apps) < self.max_apps)
    @rule(
        target=logins,
        creator_of=logins,
        stage=st.sampled_from(["audited", "unaudited", "sandbox"]),
        cap=st.sampled_from([None, None, 2]),
        scopes=SCOPES,
    )
    def new_app_for(self, creator_of: Login, stage: str, cap: int | None, scopes: str) -> Any:
        """A new app (a sandbox app takes the creator as a target user); the creator signs in."""
        creator = creator_of.grant.creator
        app = self._new_app(stage, cap, [creator] if stage == "sandbox" else [])
        return self._sign_in(app, creator, scopes)

    @precondition(lambda self: len(self.all_creators) < self.max_creators)
    @rule(
        target=logins,
        app_of=logins,
        account=ACCOUNTS,
        daily_cap=DAILY_CAPS,
        app_version=st.sampled_from(["35.1.0", "35.1.0", "31.7.9"]),
        scopes=SCOPES,
    )
    def new_creator_in(
        self, app_of: Login, account: str, daily_cap: int, app_version: str, scopes: str
    ) -> Any:
        """A new creator signs in to the app (refused by a sandbox app: not a target user)."""
        creator = self._new_creator(account, daily_cap, app_version)
        return self._sign_in(app_of.grant.app, creator, scopes)

    @precondition(lambda self: len(self.all_logins) < self.max_logins)
    @rule(target=logins, creator_of=logins, app_of=logins, scopes=SCOPES)
    def join(self, creator_of: Login, app_of: Login, scopes: str) -> Any:
        """A creator signs in to an app (again, or another one): a new authorization."""
        return self._sign_in(app_of.grant.app, creator_of.grant.creator, scopes)

    def _sign_in(self, app: App, creator: Creator, scopes: str) -> Any:
        """authorize, then exchange the code at once."""
        code = self._authorize(app, creator, scopes)
        login = self._exchange(code) if code is not None else None
        return multiple() if login is None else login

    @rule(creator_of=logins, app_of=logins)
    def make_target(self, creator_of: Login, app_of: Login) -> None:
        """ref 15.3: only target users (up to 10) may authorize a sandbox app."""
        app, creator = app_of.grant.app, creator_of.grant.creator
        if app.stage != "sandbox" or creator.username in app.targets or len(app.targets) >= 10:
            return
        app.targets.append(creator.username)
        self.controller.set_app(app.key, target_users=list(app.targets))

    @rule(creator_of=logins, account=ACCOUNTS)
    def set_account(self, creator_of: Login, account: str) -> None:
        creator = creator_of.grant.creator
        self.controller.set_creator(creator.username, account=account)
        creator.account = account

    @rule(creator_of=logins, banned=st.booleans())
    def ban(self, creator_of: Login, banned: bool) -> None:
        creator = creator_of.grant.creator
        self.controller.set_creator(creator.username, banned=banned)
        creator.banned = banned

    @rule(creator_of=logins, cap=st.sampled_from([0, 1, 2, 15]))
    def set_daily_cap(self, creator_of: Login, cap: int) -> None:
        creator = creator_of.grant.creator
        self.controller.set_creator(creator.username, daily_post_cap=cap)
        creator.daily_cap = cap
        creator.cap_history.append((self.now, cap))

    @rule(seconds=SECONDS)
    def wait(self, seconds: int) -> None:
        self.controller.advance_clock(seconds)
        self.now += seconds
        self.visibility_changed = self.tokens_changed = True

    # -- Login Kit ------------------------------------------------------------------------

    def _authorize(self, app: App, creator: Creator, scopes: str) -> Code | None:
        wanted = SCOPE_SETS[scopes]
        refused = app.stage == "sandbox" and creator.username not in app.targets
        try:
            answer = self.controller.authorize(app.key, creator.username, tuple(sorted(wanted)))
        except ControllerError as exc:
            note(f"authorize {creator!r} into {app!r}: refused ({exc})")
            if not refused:
                raise Refused(f"authorize {creator!r} into {app!r}: refused: {exc}") from None
            if "non_sandbox_target" not in str(exc):
                raise Refused(
                    f"authorize a non-target user into {app!r}: expected access_denied with "
                    f"error_type non_sandbox_target (ref 2.2, 15.3), got {exc}"
                ) from None
            return None
        if refused:
            raise Refused(
                f"authorize {creator!r} into sandbox {app!r}: only target users may authorize "
                f"(ref 15.3), but a code was issued"
            )
        code = Code(app, creator, wanted, answer["code"], answer["redirect_uri"], self.now)
        self.all_codes.append(code)
        return code

    @rule(target=codes, creator_of=logins, app_of=logins, scopes=SCOPES)
    def authorize(self, creator_of: Login, app_of: Login, scopes: str) -> Any:
        """The consent page issues a code (kept for `exchange`)."""
        code = self._authorize(app_of.grant.app, creator_of.grant.creator, scopes)
        return multiple() if code is None else code

    def _exchange(self, code: Code) -> Login | None:
        what = f"exchange the code of {code.creator!r} for {code.app!r}"
        age = self.now - code.issued_at
        if code.burnt:
            works: Maybe = False
            why = "ref 2.2: a code can be used once"
        elif age > CODE_SURELY_EXPIRED:
            works, why = False, f"ref 2.2: short-lived, and {age:.0f} s old"
        elif age > 0 or code.shaky:
            works, why = None, "ref 2.2: short-lived" if age > 0 else "ref 2.5: revoked since"
        else:
            works, why = True, ""
        form = {
            "client_key": code.app.key,
            "client_secret": code.app.secret,
            "code": code.value,
            "grant_type": "authorization_code",
            "redirect_uri": code.redirect_uri,
        }
        response = self.call(what, "POST", spec.PATHS["token"], data=form)
        body = self.oauth_body(what, response)
        if "access_token" not in body:
            if works is True:
                raise Refused(f"{what}: expected tokens (ref 2.4), got {body}")
            if works is False:
                self.expect_oauth_error(what, body, "invalid_grant", why)
            if code.burnt:
                for grant in self.grants:
                    if grant.app is code.app and grant.creator is code.creator:
                        grant.shaky = True  # RFC 6749 lets a server revoke on code reuse
            code.burnt = True
            return None
        if works is False:
            raise Refused(f"{what}: expected invalid_grant ({why}), got new tokens")
        code.burnt = True
        grant = Grant(code.app, code.creator, code.scopes, body["open_id"], body["refresh_token"])
        self.grants.append(grant)
        self.tokens_changed = True
        return self.new_login(what, grant, body, fresh=True)

    @rule(target=logins, code=codes)
    def exchange(self, code: Code) -> Any:
        login = self._exchange(code)
        return multiple() if login is None else login

    @precondition(lambda self: not self.crowded)
    @rule(target=logins, app_of=logins)
    def crowd(self, app_of: Login) -> Any:
        """Five more private creators sign in to the app and Direct Post once each ("only
        me"): up to the app's cap on distinct posting creators, and past it (ref 15.1, 15.2)."""
        app = app_of.grant.app
        if app.stage == "sandbox":
            return multiple()
        self.crowded = True
        size = len(self.kit.video)
        found = []
        for _ in range(5):
            creator = self._new_creator("private", 15, "35.1.0")
            code = self._authorize(app, creator, "all")
            login = self._exchange(code) if code else None
            if login is not None:
                found.append(login)
                self._post_video(login, "SELF_ONLY", Plan(size, size, 1))
        return multiple(*found)

    def new_login(self, what: str, grant: Grant, body: dict[str, Any], *, fresh: bool) -> Login:
        """Check a token answer (ref 2.4) and remember it."""
        problems = []
        if not str(body.get("access_token", "")).startswith(spec.TOKEN_PREFIXES["access_token"]):
            problems.append("access_token starts with act.")
        if not str(body.get("refresh_token", "")).startswith(spec.TOKEN_PREFIXES["refresh_token"]):
            problems.append("refresh_token starts with rft.")
        if body.get("expires_in") != ACCESS_SECONDS:
            problems.append(f"expires_in is {ACCESS_SECONDS} (2 h, doc-2026)")
        refresh_in = body.get("refresh_expires_in")
        if not isinstance(refresh_in, int) or not 0 < refresh_in <= REFRESH_SECONDS:
            problems.append("refresh_expires_in is the remaining lifetime, at most 180 days")
        elif fresh and refresh_in != REFRESH_SECONDS:
            problems.append("refresh_expires_in is 180 days for a new authorization")
        if body.get("token_type") != "Bearer":
            problems.append("token_type is Bearer")
        if set(str(body.get("scope", "")).split(",")) != set(grant.scopes):
            problems.append(f"scope lists the granted scopes {sorted(grant.scopes)}")
        pair = (grant.app.key, grant.creator.username)
        if self.open_ids.setdefault(pair, str(body.get("open_id"))) != body.get("open_id"):
            problems.append("open_id is the same for one user of one app")
        if problems:
            raise Refused(f"{what}: ref 2.4: " + "; ".join(problems) + f"; got {body}")
        login = Login(grant, body["access_token"], body["refresh_token"], self.now)
        self.all_logins.append(login)
        return login

    def oauth_body(self, what: str, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise Refused(f"{what}: expected flat JSON (ref 2.4, 2.6), got {response.text!r}")
        return body

    def expect_oauth_error(self, what: str, body: dict[str, Any], error: str, why: str) -> None:
        """ref 2.6: the flat `{error, error_description, log_id}`."""
        if body.get("error") != error:
            raise Refused(f"{what}: expected {error} ({why}; ref 2.6), got {body}")

    @rule(target=logins, login=logins)
    def refresh(self, login: Login) -> Any:
        grant = login.grant
        what = f"refresh {login!r}"
        if grant.revoked:
            works: Maybe = False
            why = "ref 2.5: the authorization was revoked"
        elif login.refresh_token != grant.refresh_token:
            works, why = False, "ref 2.4 (doc-2026): the old refresh token stops working"
        else:
            works, why = (None if grant.shaky else True), ""
        form = {
            "client_key": grant.app.key,
            "client_secret": grant.app.secret,
            "grant_type": "refresh_token",
            "refresh_token": login.refresh_token,
        }
        body = self.oauth_body(what, self.call(what, "POST", spec.PATHS["token"], data=form))
        if "access_token" not in body:
            if works is True:
                raise Refused(f"{what}: expected new tokens (ref 2.4), got {body}")
            if works is False:
                self.expect_oauth_error(what, body, "invalid_grant", why)
            return multiple()
        if works is False:
            raise Refused(f"{what}: expected invalid_grant ({why}), got new tokens")
        if body.get("refresh_token") == login.refresh_token:
            raise Refused(f"{what}: ref 2.4 (doc-2026): every refresh returns a new refresh token")
        for older in self.all_logins:
            if older.grant is grant:
                older.superseded = True
        grant.refresh_token = body["refresh_token"]
        self.tokens_changed = True
        return self.new_login(what, grant, body, fresh=False)

    @rule(login=logins)
    def revoke(self, login: Login) -> None:
        what = f"revoke {login!r}"
        valid, _ = login.valid(self.now)
        form = {
            "client_key": login.grant.app.key,
            "client_secret": login.grant.app.secret,
            "token": login.access_token,
        }
        response = self.call(what, "POST", spec.PATHS["revoke"], data=form)
        revoked = response.status_code == 200 and not response.content.strip()
        if not revoked:
            if valid is True:
                raise Refused(
                    f"{what}: expected HTTP 200 with an empty body (ref 2.5), got "
                    f"{response.status_code} {response.text[:200]!r}"
                )
            body = self.oauth_body(what, response)
            if body.get("error") not in spec.OAUTH_ERRORS:
                raise Refused(f"{what}: expected a flat OAuth error (ref 2.6), got {body}")
            return
        self.tokens_changed = True
        pair = (login.grant.app, login.grant.creator)
        if login.grant.revoked:
            return
        for grant in self.grants:
            if (grant.app, grant.creator) == pair:
                if valid is True:
                    grant.revoked = True  # ref 2.5: the app leaves the user's permissions
                else:
                    grant.shaky = True  # revoking a dead token: what it does is unstated
        for publish in self.all_publishes:
            if (publish.app, publish.creator) == pair:
                publish.may_auth_removed = True
        for code in self.all_codes:
            if (code.app, code.creator) == pair:
                code.shaky = True

    # -- creator_info ---------------------------------------------------------------------

    def posting_limits(self, verdict: Verdict, login: Login, direct: bool) -> None:
        """The creator's and app's caps (ref 7.4, 8, 9, 15)."""
        app, creator, now = login.grant.app, login.grant.creator, self.now
        verdict.due("spam_risk_user_banned_from_posting", creator.banned, "creator banned")
        if direct:
            blocked, why = app.blocks_new_poster(creator.username, now)
            verdict.due("reached_active_user_cap", blocked, why)
            posted = creator.posts.counts(now)[0]
            verdict.due(
                "spam_risk_too_many_posts",
                creator.posts.reached(creator.daily_cap, now),
                f"ref 15.2: {posted} Direct Posts in 24 h, cap {creator.daily_cap}",
            )
        else:
            verdict.due("spam_risk_too_many_pending_share", *self.pending_reached(login))

    def pending_reached(self, login: Login) -> tuple[Maybe, str]:
        app, creator = login.grant.app, login.grant.creator
        mine = [p for p in self.all_publishes if p.creator is creator]
        sure = sum(1 for p in mine if p.app is app and p.pending(self.now) is True)
        maybe = sum(1 for p in mine if p.pending(self.now) is not False)
        cap = spec.PENDING_SHARE_CAP
        reached: Maybe = True if sure >= cap else (None if maybe >= cap else False)
        return reached, f"ref 8: {sure} pending shares, cap {cap}"

    @rule(login=logins)
    def creator_info(self, login: Login) -> None:
        what = f"creator_info for {login!r}"
        verdict, go = self.gate(login, "creator_info", frozenset({"video.publish"}))
        if go:
            self.posting_limits(verdict, login, direct=True)
            if login.grant.creator.username in {
                u for u, w in login.grant.app.posters.items() if w.counts(self.now)[1]
            }:
                # ref 6: "the client's quota is reached" may be said to a creator who can post.
                verdict.may.setdefault("reached_active_user_cap", "ref 6: quota reached")
        response = self.call(what, "POST", spec.PATHS["creator_info"], headers=self.bearer(login))
        code, data = self.judge(what, verdict, response, intentional_200=True)
        self.counted(login, "creator_info", code)
        if code != "ok":
            return
        creator = login.grant.creator
        options = set(data.get("privacy_level_options") or [])
        private = creator.account == "private"
        problems = []
        if options != spec.PRIVACY_OPTIONS[creator.account]:
            problems.append(f"privacy_level_options for a {creator.account} account")
        if data.get("creator_username") != creator.username:
            problems.append("creator_username")
        if private and not (data.get("duet_disabled") and data.get("stitch_disabled")):
            problems.append("duet_disabled and stitch_disabled are true for a private account")
        if not isinstance(data.get("max_video_post_duration_sec"), int):
            problems.append("max_video_post_duration_sec")
        for name in ("creator_avatar_url", "creator_nickname"):
            if not isinstance(data.get(name), str):
                problems.append(name)
        if problems:
            raise Refused(f"{what}: ref 6: " + "; ".join(problems) + f"; got {data}")

    # -- posting --------------------------------------------------------------------------

    def init(
        self,
        what: str,
        login: Login,
        endpoint: str,
        body: dict[str, Any],
        *,
        direct: bool,
        needs: frozenset[str],
        privacy: str | None = None,
        extra: Iterable[tuple[str, Maybe, str]] = (),
    ) -> tuple[str, dict[str, Any]]:
        """One init call (ref 7-9): predict, send, judge, and count what succeeded."""
        verdict, go = self.gate(login, endpoint, needs)
        creator = login.grant.creator
        if go:
            self.posting_limits(verdict, login, direct)
            if direct:
                options = spec.PRIVACY_OPTIONS[creator.account]
                verdict.due(
                    "unaudited_client_can_only_post_to_private_accounts",
                    login.grant.app.stage != "audited" and creator.account != "private",
                    f"ref 15.1: {login.grant.app.stage} app, {creator.account} account",
                )
                verdict.due(
                    "privacy_level_option_mismatch",
                    privacy not in options,
                    f"ref 7.1: {privacy} is not one of {sorted(options)}",
                )
            for code, when, why in extra:
                verdict.due(code, when, why)
        response = self.call(
            what, "POST", spec.PATHS[endpoint], headers=self.bearer(login), json=body
        )
        code, data = self.judge(what, verdict, response, intentional_200=False)
        self.counted(login, endpoint, code)
        if code != "ok":
            return code, data
        publish_id = data.get("publish_id")
        if not isinstance(publish_id, str) or not 0 < len(publish_id) <= 64:
            raise Refused(
                f"{what}: data.publish_id is a string of at most 64 (ref 7.3), got {data}"
            )
        if direct:
            creator.posts.add(self.now)
            self.counts_changed = True
            login.grant.app.posters.setdefault(creator.username, Window(DAY)).add(self.now)
            self.check_privacy(what, login, publish_id, privacy)
        return code, data

    def check_privacy(self, what: str, login: Login, publish_id: str, privacy: str | None) -> None:
        """ref 15.1: everything an unaudited client posts is SELF_ONLY; audited posts keep the
        requested privacy (the target's own record, through the controller)."""
        expected = privacy if login.grant.app.stage == "audited" else "SELF_ONLY"
        record = self.controller.publish(publish_id)
        if record.get("privacy_level") != expected:
            raise Refused(
                f"{what}: the post's privacy must be {expected} (ref 15.1, 7.1), the target "
                f"records {record.get('privacy_level')}"
            )

    def video_source(self, plan: Plan) -> dict[str, Any]:
        return {
            "source": FILE_UPLOAD,
            "video_size": plan.video_size,
            "chunk_size": plan.chunk_size,
            "total_chunk_count": plan.total_chunk_count,
        }

    def _post_video(self, login: Login, privacy: str | None, plan: Plan) -> Any:
        what = f"video/init by {login!r} privacy={privacy} plan={plan}"
        size, chunk, count = plan.video_size, plan.chunk_size, plan.total_chunk_count
        bad = not spec.chunk_plan_ok(size, chunk, count)
        why = f"ref 10.1: not a valid plan (floor(video_size / chunk_size) = {size // chunk})"
        body = {
            "post_info": {"privacy_level": privacy} if privacy else {},
            "source_info": self.video_source(plan),
        }
        code, data = self.init(
            what,
            login,
            "video_init",
            body,
            direct=True,
            privacy=privacy,
            needs=frozenset({"video.publish"}),
            extra=[(code, bad, why) for code in spec.BAD_INPUT_CODES["posting"]],
        )
        if code != "ok":
            return multiple()
        return self.new_publish(what, login, data, DIRECT_POST, "VIDEO", FILE_UPLOAD, privacy)

    def new_publish(
        self,
        what: str,
        login: Login,
        data: dict[str, Any],
        mode: str,
        media_type: str,
        source: str,
        privacy: str | None,
    ) -> Publish:
        upload_url = data.get("upload_url")
        if source == FILE_UPLOAD and (not isinstance(upload_url, str) or len(upload_url) > 256):
            raise Refused(f"{what}: data.upload_url, at most 256 characters (ref 7.3), got {data}")
        publish = Publish(
            data["publish_id"],
            login,
            mode,
            media_type,
            source,
            self.now,
            privacy,
            upload_url if source == FILE_UPLOAD else None,
        )
        self.all_publishes.append(publish)
        self.counts_changed = True
        return publish

    @rule(targets=(publishes, uploads), login=logins, privacy=PRIVACY)
    def post_video(self, login: Login, privacy: str | None) -> Any:
        """Direct Post of the session's real video, uploaded whole (ref 7, 10.1)."""
        size = len(self.kit.video)
        return self._post_video(login, privacy, Plan(size, size, 1))

    @rule(target=publishes, login=logins, privacy=PRIVACY, plan=PLANS)
    def post_video_plan(self, login: Login, privacy: str | None, plan: Plan) -> Any:
        """Direct Post init with a chunk plan near the edges of ref 10.1 (no bytes follow)."""
        return self._post_video(login, privacy, plan)

    @rule(targets=(publishes, uploads), login=logins)
    def post_inbox(self, login: Login) -> Any:
        """Upload the session's real video to the creator's inbox (ref 8)."""
        size = len(self.kit.video)
        what = f"inbox/video/init by {login!r}"
        body = {"source_info": self.video_source(Plan(size, size, 1))}
        code, data = self.init(
            what, login, "inbox_video_init", body, direct=False, needs=frozenset({"video.upload"})
        )
        if code != "ok":
            return multiple()
        return self.new_publish(what, login, data, MEDIA_UPLOAD, "VIDEO", FILE_UPLOAD, None)

    @rule(
        target=publishes,
        login=logins,
        mode=st.sampled_from([DIRECT_POST, MEDIA_UPLOAD]),
        privacy=PRIVACY,
        where=st.sampled_from(
            [
                "verified",
                "verified",
                "verified",
                "verified",
                "outside_prefix",
                "another_app",
                "dot_segments",
                "last_one_outside",
                "unknown_host",
            ]
        ),
        count=st.integers(1, 3),
    )
    def post_photos(
        self, login: Login, mode: str, privacy: str | None, where: str, count: int
    ) -> Any:
        """A photo post pulled from the media host: from the app's verified URL prefix, or
        from elsewhere (ref 9, 10.4: every URL must fall under the app's verified prefix)."""
        app = login.grant.app
        n = next(self.names)
        names = [f"p{n}_{i}.jpg" for i in range(count)]
        outside = self.kit.host.url("/elsewhere/")
        others = [a.prefix for a in self.all_apps if a is not app]
        urls = {
            "verified": [app.prefix + name for name in names],
            "outside_prefix": [outside + name for name in names],
            "another_app": [(others or [outside])[0] + name for name in names],
            "dot_segments": [f"{app.prefix}../../elsewhere/{name}" for name in names],
            "last_one_outside": [app.prefix + name for name in names[:-1]] + [outside + "x.jpg"],
            "unknown_host": [f"https://media.unverified.invalid/{name}" for name in names],
        }[where]
        direct = mode == DIRECT_POST
        post_info = {"privacy_level": privacy} if direct and privacy else {}
        body = {
            "media_type": "PHOTO",
            "post_mode": mode,
            "post_info": post_info,
            "source_info": {"source": PULL_FROM_URL, "photo_images": urls, "photo_cover_index": 0},
        }
        creator = login.grant.creator
        version = tuple(int(part) for part in creator.app_version.split("."))
        extra = [
            ("url_ownership_unverified", where != "verified", f"ref 10.4: {where} URLs"),
            (
                "app_version_check_failed",
                not direct and version < MEDIA_UPLOAD_MIN_APP_VERSION,
                f"ref 9: MEDIA_UPLOAD needs app 31.8+, creator has {creator.app_version}",
            ),
        ]
        needs = frozenset({"video.publish" if direct else "video.upload"})
        what = f"content/init PHOTO {mode} by {login!r} privacy={privacy} {count} {where} URLs"
        code, data = self.init(
            what,
            login,
            "content_init",
            body,
            direct=direct,
            privacy=privacy if direct else None,
            needs=needs,
            extra=extra,
        )
        if code != "ok":
            return multiple()
        if "upload_url" in data:
            raise Refused(f"{what}: a photo post answers publish_id only (ref 9), got {data}")
        return self.new_publish(
            what, login, data, mode, "PHOTO", PULL_FROM_URL, privacy if direct else None
        )

    @precondition(
        lambda self: any(p.downloading(self.now) is not False for p in self.all_publishes)
    )
    @rule()
    def media_arrives(self) -> None:
        """The media host lets every pull under way finish; the target takes the media in."""
        self.kit.host.release_all()
        self.controller.settle()
        self.kit.host.hold_all()
        for publish in self.all_publishes:
            if publish.source == PULL_FROM_URL and publish.released_at is None:
                publish.released_at = self.now
        self.visibility_changed = True

    # -- media transfer -------------------------------------------------------------------

    @rule(
        publish=uploads,
        how=st.sampled_from(["whole", "whole", "out_of_order", "short_body", "part", "part"]),
    )
    def upload(self, publish: Publish, how: str) -> None:
        """PUT to the upload_url (ref 10.2, 10.3): the whole file (again: the same answer),
        a range that does not follow the progress, a short body, or an off-plan part."""
        video, size = self.kit.video, len(self.kit.video)
        first, last, content = {
            "whole": (0, size - 1, video),
            "out_of_order": (1, size - 1, video[1:]),
            "short_body": (0, size - 1, video[:-100]),
            "part": (0, size // 2 - 1, video[: size // 2]),
        }[how]
        # httpx sends the body's own Content-Length: a client cannot send another one (ref
        # 10.3's "Content-Length doesn't match" is a body shorter than the range it claims).
        headers = {"Content-Type": "video/mp4", "Content-Range": f"bytes {first}-{last}/{size}"}
        expected = {
            "whole": {201},  # a repeat of the identical whole file is answered as before
            "out_of_order": {416},
            "short_body": {400},
            "part": {400, 416},  # off the chunk plan: "malformed" or "inconsistent"
        }[how]
        why = {
            "whole": "ref 10.3: all parts received",
            "out_of_order": "ref 10.3: Content-Range inconsistent with the progress",
            "short_body": "ref 10.3: the body is shorter than its Content-Range",
            "part": "ref 10.1: every chunk but the last is chunk_size; under 5 MB goes whole",
        }[how]
        age = self.now - publish.created_at
        if age > UPLOAD_URL_SECONDS:
            expected, why = {403}, "ref 10.3: the upload_url expired (valid 1 h)"
        elif age == UPLOAD_URL_SECONDS:
            expected = expected | {403}
        if publish.may_auth_removed and not publish.bytes_in:
            expected = expected | {400, 403, 404, 416}  # no more bytes for a failed publish
        assert publish.upload_url is not None
        what = f"PUT {how} to the upload_url of {publish!r}"
        response = self.call(what, "PUT", publish.upload_url, headers=headers, content=content)
        if response.status_code not in expected:
            raise Refused(
                f"{what}: expected HTTP {sorted(expected)} ({why}), got "
                f"{response.status_code} {response.text[:200]!r}"
            )
        if response.status_code == 201:
            progress = response.headers.get("content-range", "")
            if not progress.endswith(f"/{size}"):
                raise Refused(
                    f"{what}: ref 10.3: Content-Range reports the progress, got {progress!r}"
                )
            publish.bytes_in = True

    # -- status and cancel ----------------------------------------------------------------

    def owner(self, publish: Publish) -> Login:
        """The newest login of the publish's creator in its app."""
        pair = (publish.app, publish.creator)
        return [x for x in self.all_logins if (x.grant.app, x.grant.creator) == pair][-1]

    def fetch_status(self, login: Login, publish: Publish) -> None:
        what = f"status/fetch of {publish!r} by {login!r}"
        verdict, go = self.gate(login, "status_fetch", frozenset({"video.upload", "video.publish"}))
        mine = (login.grant.app, login.grant.creator) == (publish.app, publish.creator)
        if go and not mine:
            verdict.due(
                "token_not_authorized_for_specified_publish_id",
                True,
                "ref 11: another app's or creator's publish",
            )
        response = self.call(
            what,
            "POST",
            spec.PATHS["status_fetch"],
            headers=self.bearer(login),
            json={"publish_id": publish.publish_id},
        )
        code, data = self.judge(what, verdict, response, intentional_200=False)
        self.counted(login, "status_fetch", code)
        if code == "ok":
            self.check_status(what, publish, data)

    def check_status(self, what: str, publish: Publish, data: dict[str, Any]) -> None:
        """ref 11: the status enum, forward moves only, fail reasons, post ids, progress."""
        status = data.get("status")
        statuses, reasons = publish.expected(self.now)
        if status not in statuses:
            raise Refused(f"{what}: expected status {sorted(statuses)} (ref 11), got {data}")
        if publish.last_status and status not in spec.FORWARD[publish.last_status]:
            raise Refused(
                f"{what}: status went back from {publish.last_status} to {status} "
                f"(ref 11 transitions)"
            )
        if status == FAILED and data.get("fail_reason") not in reasons:
            raise Refused(f"{what}: fail_reason {sorted(reasons)} (ref 11), got {data}")
        ids = data.get("publicaly_available_post_id") or []
        if ids and not (publish.may_be_public() and status == PUBLISH_COMPLETE):
            raise Refused(
                f"{what}: publicaly_available_post_id must stay empty (ref 11, 15.1: only a "
                f"public post of an audited app gets one), got {data}"
            )
        if publish.source == FILE_UPLOAD:
            uploaded = len(self.kit.video) if publish.bytes_in else 0
            if data.get("uploaded_bytes") != uploaded:
                raise Refused(f"{what}: uploaded_bytes is {uploaded} (ref 11), got {data}")
        else:
            downloaded = data.get("downloaded_bytes")
            if not isinstance(downloaded, int) or downloaded < publish.last_downloaded:
                raise Refused(
                    f"{what}: downloaded_bytes is the pull's progress (ref 11): at least "
                    f"{publish.last_downloaded} now, got {data}"
                )
            publish.last_downloaded = downloaded
        publish.last_status = status

    @rule(publish=publishes)
    def status(self, publish: Publish) -> None:
        self.fetch_status(self.owner(publish), publish)

    @rule(login=logins, publish=publishes)
    def status_as(self, login: Login, publish: Publish) -> None:
        """Status fetched with any token: only the owner's is answered (ref 11)."""
        self.fetch_status(login, publish)

    @rule(login=logins)
    def status_unknown(self, login: Login) -> None:
        what = f"status/fetch of an unknown publish_id by {login!r}"
        verdict, go = self.gate(login, "status_fetch", frozenset({"video.upload", "video.publish"}))
        if go:
            verdict.due("invalid_publish_id", True, "ref 11: the publish_id does not exist")
        response = self.call(
            what,
            "POST",
            spec.PATHS["status_fetch"],
            headers=self.bearer(login),
            json={"publish_id": "v_pub_url~v2.9999999999999999999"},
        )
        code, _ = self.judge(what, verdict, response, intentional_200=False)
        self.counted(login, "status_fetch", code)

    @rule(publish=publishes)
    def cancel(self, publish: Publish) -> None:
        login = self.owner(publish)
        what = f"cancel {publish!r}"
        verdict, go = self.gate(login, "cancel", frozenset({"video.upload", "video.publish"}))
        if go:
            under_way = publish.downloading(self.now)
            if publish.source == FILE_UPLOAD:
                verdict.due("publish_not_cancellable", True, "ref 12: only pulls are cancelled")
                for code in spec.BAD_INPUT_CODES["posting"]:
                    verdict.due(code, None, "ref 12: a FILE_UPLOAD is no download")
            else:
                verdict.due(
                    "publish_not_cancellable",
                    None if under_way is None else not under_way,
                    "ref 12: the download is over (processing or final)",
                )
        response = self.call(
            what,
            "POST",
            spec.PATHS["cancel"],
            headers=self.bearer(login),
            json={"publish_id": publish.publish_id},
        )
        code, data = self.judge(what, verdict, response, intentional_200=False)
        self.counted(login, "cancel", code)
        if code == "ok":
            if data:
                raise Refused(f"{what}: the cancel answer has no data (ref 4.1, 12), got {data}")
            publish.cancelled = True

    @precondition(lambda self: any(p.mode == MEDIA_UPLOAD for p in self.all_publishes))
    @rule(publish=publishes)
    def post_draft(self, publish: Publish) -> None:
        """The creator posts an inbox draft from the TikTok app, as "only me" (ref 8)."""
        if publish.mode != MEDIA_UPLOAD or publish.drafted:
            return
        if self.controller.publish(publish.publish_id).get("status") != SEND_TO_USER_INBOX:
            return
        self.controller.publish_action(publish.publish_id, "post_draft", privacy_level="SELF_ONLY")
        note(f"{publish.creator!r} posts the draft {publish.publish_id}")
        publish.drafted = True
        self.visibility_changed = True

    # -- invariants -----------------------------------------------------------------------

    # Each invariant runs (and shows in a failing program) only when what it checks changed.

    @precondition(lambda self: self.counts_changed)
    @invariant()
    def caps_hold(self) -> None:
        """ref 8, 15.1, 15.2: what the target accepted never exceeds a cap."""
        self.counts_changed = False
        for creator in self.all_creators:
            done = creator.posts.counts(self.now)[0]
            assert done <= creator.highest_cap_since(self.now - DAY), (
                f"{creator!r} has {done} Direct Posts in 24 h, over the daily cap (ref 15.2)"
            )
        for app in self.all_apps:
            active = sum(1 for w in app.posters.values() if w.counts(self.now)[0])
            for cap, certain, why in app.caps():
                assert not certain or active <= cap, f"{app!r}: {active} posting creators, {why}"
        pairs = {(p.app, p.creator) for p in self.all_publishes}
        for app, creator in pairs:
            pending = [
                p
                for p in self.all_publishes
                if (p.app, p.creator) == (app, creator) and p.pending(self.now) is True
            ]
            assert len(pending) <= spec.PENDING_SHARE_CAP, (
                f"{creator!r} has {len(pending)} pending shares in {app!r}, over the cap (ref 8)"
            )

    @precondition(
        lambda self: (
            self.visibility_changed and any(p.app.stage != "audited" for p in self.all_publishes)
        )
    )
    @invariant()
    def unaudited_posts_stay_private(self) -> None:
        """ref 15.1, 15.3: nothing an unaudited or sandbox app posts is ever public."""
        self.visibility_changed = False
        for publish in self.all_publishes:
            if publish.app.stage == "audited" or publish.publish_id in self.failed_for_good:
                continue
            record = self.controller.publish(publish.publish_id)
            if record.get("status") == FAILED:
                self.failed_for_good.add(publish.publish_id)
            assert not record.get("public") and not record.get("post_ids"), (
                f"{publish!r} of the {publish.app.stage} {publish.app!r} became public "
                f"(ref 15.1): {record}"
            )

    @precondition(
        lambda self: self.tokens_changed and any(x.grant.revoked for x in self.all_logins)
    )
    @invariant()
    def revoked_tokens_stay_dead(self) -> None:
        """ref 2.5, 4.2: a revoked access token is access_token_invalid, forever."""
        self.tokens_changed = False
        for login in self.all_logins:
            if not login.grant.revoked:
                continue
            response = self.http.get(
                spec.PATHS["user_info"], params={"fields": "open_id"}, headers=self.bearer(login)
            )
            code = response.json().get("error", {}).get("code") if response.content else None
            assert (response.status_code, code) == (401, "access_token_invalid"), (
                f"the revoked token of {login!r} answered {response.status_code} {code} on "
                f"user/info (ref 2.5, 4.2)"
            )


# -- narrower machines: one area each, for quick runs that find a broken rule of that area -----


class TokenLifecycle(ContractMachine):
    """Login Kit: codes (single use), refresh rotation, revocation, expiry, target users."""

    focus = frozenset(
        {
            "new_app_for", "new_creator_in", "join", "authorize", "exchange", "make_target",
            "refresh", "revoke", "wait", "creator_info",
        }
    )  # fmt: skip


class PrivacyRules(ContractMachine):
    """Who may Direct Post what: audit stage, account privacy, privacy options, SELF_ONLY,
    bans."""

    focus = frozenset(
        {
            "new_app_for", "new_creator_in", "join", "post_video", "post_photos", "set_account",
            "ban", "creator_info", "status", "wait",
        }
    )  # fmt: skip


class DailyPostCap(ContractMachine):
    """A creator's Direct Posts within 24 h, across apps (ref 15.2)."""

    focus = frozenset(
        {"new_app_for", "join", "post_video", "post_photos", "set_daily_cap", "creator_info",
         "wait"}
    )  # fmt: skip
    max_creators = 2

    @initialize(target=ContractMachine.logins, account=ACCOUNTS, daily_cap=st.sampled_from([1, 2]))
    def start(self, account: str, daily_cap: int) -> Any:
        creator = self._new_creator(account, daily_cap, "35.1.0")
        return self._sign_in(self._new_app("audited", None), creator, "all")

    @rule(seconds=SHORT_WAITS)
    def wait(self, seconds: int) -> None:
        ContractMachine.wait(self, seconds)


class PendingShares(ContractMachine):
    """A creator's inbox shares not yet posted: at most 5 within 24 h (ref 8)."""

    focus = frozenset(
        {"new_creator_in", "join", "post_inbox", "post_photos", "upload", "post_draft", "wait"}
    )
    max_creators = 2

    @rule(seconds=SHORT_WAITS)
    def wait(self, seconds: int) -> None:
        ContractMachine.wait(self, seconds)


class ActiveCreators(ContractMachine):
    """The app's cap on distinct posting creators in 24 h: 5 before audit (ref 15.1), or the
    app's own (ref 15.2)."""

    focus = frozenset(
        {"new_app_for", "crowd", "join", "post_video", "post_photos", "creator_info", "wait"}
    )

    @initialize(target=ContractMachine.logins, cap=st.sampled_from([None, 2]))
    def start(self, cap: int | None) -> Any:
        creator = self._new_creator("private", 15, "35.1.0")
        return self._sign_in(self._new_app("unaudited", cap), creator, "all")

    @rule(seconds=SHORT_WAITS)
    def wait(self, seconds: int) -> None:
        ContractMachine.wait(self, seconds)


class RateLimits(ContractMachine):
    """Bursts on few tokens, with short waits: the per-token, per-endpoint minute (ref 4.3)."""

    focus = frozenset(
        {
            "new_creator_in", "join", "post_video", "post_inbox", "post_video_plan",
            "creator_info", "status", "wait",
        }
    )  # fmt: skip
    max_creators = 2
    max_logins = 3

    @rule(seconds=SHORT_WAITS)
    def wait(self, seconds: int) -> None:
        ContractMachine.wait(self, seconds)


class MediaTransfer(ContractMachine):
    """Chunk plans at init and PUTs to the upload_url, for audited apps and uncapped creators
    (so that no other rule stands in front of the chunk rules)."""

    focus = frozenset(
        {
            "new_creator_in", "join", "post_video", "post_video_plan", "post_inbox", "upload",
            "status", "wait",
        }
    )  # fmt: skip

    @initialize(target=ContractMachine.logins, account=ACCOUNTS)
    def start(self, account: str) -> Any:
        creator = self._new_creator(account, 15, "35.1.0")
        return self._sign_in(self._new_app("audited", None), creator, "all")

    @precondition(lambda self: len(self.all_creators) < self.max_creators)
    @rule(target=ContractMachine.logins, app_of=ContractMachine.logins, account=ACCOUNTS)
    def new_creator_in(self, app_of: Login, account: str) -> Any:
        creator = self._new_creator(account, 15, "35.1.0")
        return self._sign_in(app_of.grant.app, creator, "all")


class PhotoPulls(ContractMachine):
    """Photo posts pulled from the media host: URL ownership, cancel, pull timeout, drafts."""

    focus = frozenset(
        {
            "new_app_for", "new_creator_in", "join", "post_photos", "media_arrives", "cancel",
            "status", "status_as", "wait", "post_draft", "revoke", "set_account", "refresh",
        }
    )  # fmt: skip
