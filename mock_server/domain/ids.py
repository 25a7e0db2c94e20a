"""Deterministic identifiers in TikTok's shapes.

All randomness comes from one seeded generator, so the same scenario, seed, clock and request
sequence give the same tokens, codes and log ids. Per-app user ids (`open_id`) and per-developer
ids (`union_id`) are derived by hashing instead, so they do not depend on request order.
"""

from __future__ import annotations

import base64
import hashlib
import random
import string
import uuid
from datetime import UTC, datetime

_ALNUM = string.ascii_letters + string.digits
_LOWER_ALNUM = string.ascii_lowercase + string.digits
_HEX_UPPER = "0123456789ABCDEF"


class IdFactory:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)

    def _chars(self, alphabet: str, n: int) -> str:
        return "".join(self._rng.choice(alphabet) for _ in range(n))

    def _digits(self, n: int) -> str:
        return self._chars(string.digits, n)

    def log_id(self, now: float) -> str:
        """34 characters: UTC `YYYYMMDDHHMMSS` then 20 upper-case hex digits (ref 4.1)."""
        stamp = datetime.fromtimestamp(now, tz=UTC).strftime("%Y%m%d%H%M%S")
        return stamp + self._chars(_HEX_UPPER, 20)

    def access_token(self) -> str:
        # ref 2.4: `act.` prefix; 72 characters ending `!NNNN.va`, as in recorded tokens.
        return self._token("act.")

    def refresh_token(self) -> str:
        return self._token("rft.")

    def client_token(self) -> str:
        return self._token("clt.")

    def _token(self, prefix: str) -> str:
        return f"{prefix}{self._chars(_ALNUM, 60)}!{self._digits(4)}.va"

    def auth_code(self) -> str:
        # ref 2.2: long and opaque with `*` and `!` near the end (recorded codes end
        # `*v!4423.va`), so a client that forgets to URL-decode it fails here as on TikTok.
        return f"{self._chars(_ALNUM + '-_', 200)}*v!{self._digits(4)}.va"

    def client_key(self, stage: str) -> str:
        # ref 2.4 (3p): sandbox keys start `sb`, e.g. `sbaw...`; production keys `aw...`.
        prefix = "sbaw" if stage == "sandbox" else "aw"
        return prefix + self._chars(_LOWER_ALNUM, 18 - len(prefix))

    def client_secret(self) -> str:
        return self._chars(_ALNUM, 32)

    def creator_uid(self) -> str:
        return self._digits(19)

    def numeric_id(self) -> str:
        """19 digits, the shape of TikTok's post and publish numbers (ref 7.3, 11)."""
        return str(self._rng.randint(7 * 10**18, 8 * 10**18 - 1))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def token_hex(self, n: int) -> str:
        return self._chars("0123456789abcdef", n)


def open_id(client_key: str, creator_uid: str) -> str:
    """The creator's id as one app sees it: 36 characters starting `-000`, as recorded ones do
    (the doc's example is UUID-like; see docs/fidelity.md)."""
    digest = hashlib.sha256(f"open_id:{client_key}:{creator_uid}".encode()).digest()
    return "-000" + base64.urlsafe_b64encode(digest).decode()[:32]


def union_id(developer: str, creator_uid: str) -> str:
    """The creator's id shared by all apps of one developer (ref 5)."""
    digest = hashlib.sha256(f"union_id:{developer}:{creator_uid}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))
