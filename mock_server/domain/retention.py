"""What the sandbox forgets, and when: the bounds on codes, grants and tokens (DESIGN 7).

TikTok keeps authorizations for as long as they live; a sandbox left running for days must not
grow without end. So issued codes and tokens are counted per grant, app and creator, and what can
never be used again is swept on the sandbox clock:

- at most `MAX_GRANTS_PER_PAIR` live grants per app and creator: a new authorization past that
  ends the oldest one (its tokens stop working);
- at most `MAX_ACCESS_TOKENS_PER_GRANT` access tokens per grant: a refresh past that retires the
  grant's oldest access token;
- at most `MAX_OLD_REFRESH_TOKENS` rotated-out refresh tokens remembered per grant (a reuse of
  one is refused as `refresh_rotated`; older ones are simply unknown, refused all the same);
- at most `MAX_CLIENT_TOKENS_PER_APP` live client tokens per app;
- at most `MAX_CODES` authorization codes are kept (the oldest go first), and of those that
  can no longer be used (used or expired) the sweep keeps the newest `MAX_ENDED_CODES`;
- a code, token or grant that can no longer be used (expired, used, revoked) is remembered for
  `RETENTION_SECONDS`, so using it again is refused with the precise reason ("expired", "has
  been used", `token_revoked` in the journal), then swept; at most `MAX_ENDED_GRANTS_PER_APP`
  ended grants are kept per app.

Every limit is far above what one integration does; see docs/fidelity.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.domain.models import AccessToken, AuthCode, ClientToken, Grant, RefreshToken

if TYPE_CHECKING:
    from mock_server.domain.world import World

MAX_GRANTS_PER_PAIR = 20
MAX_ACCESS_TOKENS_PER_GRANT = 20
MAX_OLD_REFRESH_TOKENS = 5
MAX_CLIENT_TOKENS_PER_APP = 50
MAX_CODES = 10_000
# Each dead code is a few hundred bytes, most of it the 210-character code: an integration that
# signs in a thousand times an hour would otherwise keep 24,000 of them for their day of retention.
MAX_ENDED_CODES = 1_000
RETENTION_SECONDS = 24 * 3600
MAX_ENDED_GRANTS_PER_APP = 200
SWEEP_EVERY_SECONDS = 60.0  # of sandbox time
SWEEP_EVERY_ISSUED = 2_000  # codes and tokens, whatever the clock does


def add_grant(world: World, grant: Grant, now: float) -> None:
    world.grants[grant.grant_id] = grant
    pair = world.grants_by_pair.setdefault((grant.client_key, grant.creator_uid), [])
    pair.append(grant.grant_id)
    live = [g for g in (world.grants[i] for i in pair) if g.ended_at() > now]
    for old in live[: max(0, len(live) - MAX_GRANTS_PER_PAIR)]:
        old.revoked_at = now


def add_code(world: World, code: AuthCode) -> None:
    world.codes[code.code] = code
    while len(world.codes) > MAX_CODES:
        del world.codes[next(iter(world.codes))]
    note_issued(world)


def add_access_token(world: World, grant: Grant, token: AccessToken) -> None:
    world.access_tokens[token.token] = token
    grant.access_tokens.append(token.token)
    while len(grant.access_tokens) > MAX_ACCESS_TOKENS_PER_GRANT:
        world.access_tokens.pop(grant.access_tokens.pop(0), None)
    note_issued(world)


def add_refresh_token(world: World, grant: Grant, token: RefreshToken) -> None:
    world.refresh_tokens[token.token] = token
    grant.refresh_tokens.append(token.token)
    while len(grant.refresh_tokens) > MAX_OLD_REFRESH_TOKENS + 1:
        world.refresh_tokens.pop(grant.refresh_tokens.pop(0), None)
    note_issued(world)


def add_client_token(world: World, token: ClientToken) -> None:
    world.client_tokens[token.token] = token
    issued = world.client_tokens_by_app.setdefault(token.client_key, [])
    issued.append(token.token)
    while len(issued) > MAX_CLIENT_TOKENS_PER_APP:
        world.client_tokens.pop(issued.pop(0), None)
    note_issued(world)


def note_issued(world: World) -> None:
    """Count an issued code or token: enough of them bring the next sweep forward."""
    world.issued_since_sweep += 1
    if world.issued_since_sweep >= SWEEP_EVERY_ISSUED:
        world.next_sweep_at = float("-inf")


def sweep_if_due(world: World, now: float) -> None:
    # A clock set back (POST /_sandbox/clock) leaves the next sweep further away than it
    # ever is: it is due then too, or nothing would be swept until time caught up again.
    if now >= world.next_sweep_at or world.next_sweep_at > now + SWEEP_EVERY_SECONDS:
        sweep(world, now)


def sweep(world: World, now: float) -> None:
    """Drop what can never be used again (and ended grants past their retention)."""
    world.next_sweep_at = now + SWEEP_EVERY_SECONDS
    world.issued_since_sweep = 0
    # A used code stays known (refused as used) until it would have expired, plus retention;
    # of the dead ones (used or expired), only the newest MAX_ENDED_CODES.
    live, ended = [], []
    for key, record in world.codes.items():
        if record.used or record.expires_at <= now:
            if record.expires_at > now - RETENTION_SECONDS:
                ended.append(key)
        else:
            live.append(key)
    kept = set(live[-MAX_CODES:])
    kept.update(ended[-MAX_ENDED_CODES:])
    for code in [k for k in world.codes if k not in kept]:
        del world.codes[code]  # in place: a tracked World (domain.changes) sees each one go
    gone = _ended_grants_to_forget(world, now)
    for grant_id in gone:
        grant = world.grants.pop(grant_id)
        for token in grant.access_tokens:
            world.access_tokens.pop(token, None)
        for token in grant.refresh_tokens:
            world.refresh_tokens.pop(token, None)
        pair = world.grants_by_pair.get((grant.client_key, grant.creator_uid), [])
        pair.remove(grant_id)
        if not pair:
            del world.grants_by_pair[(grant.client_key, grant.creator_uid)]
    for grant in world.grants.values():
        live = [t for t in grant.access_tokens if _kept(world.access_tokens.get(t), now)]
        if len(live) != len(grant.access_tokens):
            for token in set(grant.access_tokens) - set(live):
                world.access_tokens.pop(token, None)
            grant.access_tokens = live
            world.touch("grants", grant.grant_id)
    for key, issued in list(world.client_tokens_by_app.items()):
        live = [t for t in issued if _kept(world.client_tokens.get(t), now)]
        for token in set(issued) - set(live):
            world.client_tokens.pop(token, None)
        if live:
            world.client_tokens_by_app[key] = live
        else:
            del world.client_tokens_by_app[key]


def _kept(token: AccessToken | ClientToken | None, now: float) -> bool:
    return token is not None and token.expires_at > now - RETENTION_SECONDS


def _ended_grants_to_forget(world: World, now: float) -> list[str]:
    ended: dict[str, list[Grant]] = {}
    for grant in world.grants.values():
        if grant.ended_at() <= now:
            ended.setdefault(grant.client_key, []).append(grant)
    gone = []
    for grants in ended.values():
        grants.sort(key=Grant.ended_at)
        excess = len(grants) - MAX_ENDED_GRANTS_PER_APP
        for i, grant in enumerate(grants):
            if i < excess or grant.ended_at() <= now - RETENTION_SECONDS:
                gone.append(grant.grant_id)
    return gone
