"""Deterministic identifiers in TikTok's shapes.

Everything comes from the sandbox seed, so the same scenario, seed, clock and request sequence
give the same tokens, codes, ids and log ids. Three independent streams keep that true without
making secrets guessable:

- **secrets** (tokens, codes, upload tokens, client secrets): a keyed BLAKE2b counter stream, so
  seeing some tokens tells nothing about the others. Every token carries at least 128 random
  bits; a server reachable from other machines draws a random seed (see `cli.serve`).
- **ids** (publish, post, upload, grant, creator numbers): a seeded `random.Random`.
- **log ids**: a keyed counter stream of their own, so answers that only draw a log id (errors,
  refusals) never shift the tokens and ids that come after them, and where it stands is one
  number (a data directory keeps it on every answer).

Per-app user ids (`open_id`) and per-developer ids (`union_id`) are derived by hashing instead,
so they do not depend on request order.
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
_DIGITS = string.digits


class CountedRandom(random.Random):
    """A `random.Random` that counts what moves its state, so whether it moved is one number
    to compare (a data directory writes a generator only when it did) where `getstate` copies
    625 integers. It draws exactly what `random.Random` draws with the same seed."""

    draws = 0

    def random(self) -> float:
        self.draws += 1
        return super().random()

    def getrandbits(self, k: int, /) -> int:
        self.draws += 1
        return super().getrandbits(k)

    def randbytes(self, n: int) -> bytes:
        self.draws += 1
        return super().randbytes(n)

    def seed(self, *args: object, **kwargs: object) -> None:
        self.draws += 1
        super().seed(*args, **kwargs)  # type: ignore[arg-type]

    def setstate(self, state: tuple[object, ...]) -> None:
        self.draws += 1
        super().setstate(state)


def moved(rng: random.Random) -> object:
    """What changes whenever `rng`'s state does (a fingerprint; see CountedRandom)."""
    if isinstance(rng, CountedRandom):
        return (rng, rng.draws)
    return rng.getstate()


class SecretStream:
    """Deterministic bytes that cannot be predicted from earlier output without the key."""

    def __init__(self, seed: int, purpose: str = "secrets") -> None:
        self._key = hashlib.blake2b(f"tiktok-sandbox:{purpose}:{seed}".encode(), digest_size=32)
        self.counter = 0

    def block(self) -> bytes:
        self.counter += 1
        digest = self._key.copy()
        digest.update(self.counter.to_bytes(8, "big"))
        return digest.digest()

    def chars(self, alphabet: str, n: int) -> str:
        """`n` characters drawn uniformly from `alphabet` (rejection sampling on bytes)."""
        size = len(alphabet)
        limit = 256 - 256 % size
        out: list[str] = []
        while len(out) < n:
            out.extend(alphabet[b % size] for b in self.block() if b < limit)
        return "".join(out[:n])


Checkpoint = tuple[int, object, int]


class IdFactory:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rng = CountedRandom(seed)
        self._secrets = SecretStream(seed)
        self._logs = SecretStream(seed, "log-ids")
        self._stamp: tuple[int, str] = (0, "19700101000000")  # the last second formatted
        # The key of the sandbox's signed image URLs (domain.signed_urls): from the seed, so a
        # run's URLs are deterministic, and drawn from no stream, so signing shifts no id.
        self.url_key = hashlib.blake2b(f"tiktok-sandbox:urls:{seed}".encode()).digest()

    def checkpoint(self) -> Checkpoint:
        """Where every stream stands, to `rewind` to when a change is refused half-way."""
        return (self._secrets.counter, self._rng.getstate(), self._logs.counter)

    def rewind(self, checkpoint: Checkpoint) -> None:
        counter, rng, logs = checkpoint
        self._secrets.counter = counter
        self._rng.setstate(rng)  # type: ignore[arg-type]
        self._logs.counter = logs

    def _chars(self, alphabet: str, n: int) -> str:
        return "".join(self._rng.choice(alphabet) for _ in range(n))

    def log_id(self, now: float) -> str:
        """34 characters: UTC `YYYYMMDDHHMMSS` then 20 upper-case hex digits (ref 4.1)."""
        second = int(now // 1)
        if second != self._stamp[0]:  # answers come many a second: format each second once
            stamp = datetime.fromtimestamp(second, tz=UTC).strftime("%Y%m%d%H%M%S")
            self._stamp = (second, stamp)
        return f"{self._stamp[1]}{self._logs.block()[:10].hex().upper()}"

    def access_token(self) -> str:
        # ref 2.4: `act.` prefix; 72 characters ending `!NNNN.va`, as in recorded tokens.
        return self._token("act.")

    def refresh_token(self) -> str:
        return self._token("rft.")

    def client_token(self) -> str:
        return self._token("clt.")

    def _token(self, prefix: str) -> str:
        # 60 alphanumerics: about 357 random bits.
        return f"{prefix}{self._secrets.chars(_ALNUM, 60)}!{self._secrets.chars(_DIGITS, 4)}.va"

    def auth_code(self) -> str:
        # ref 2.2: long and opaque with `*` and `!` near the end (recorded codes end
        # `*v!4423.va`), so a client that forgets to URL-decode it fails here as on TikTok.
        return f"{self._secrets.chars(_ALNUM + '-_', 200)}*v!{self._secrets.chars(_DIGITS, 4)}.va"

    def upload_token(self) -> str:
        """128 random bits in the shape of a UUID (the part of `upload_url` that authorises)."""
        return str(uuid.UUID(hex=self._secrets.chars("0123456789abcdef", 32)))

    def verification_token(self) -> str:
        """A URL property's token (ref 10.4): 32 letters and digits."""
        return self._secrets.chars(_ALNUM, 32)

    def client_key(self, stage: str) -> str:
        # ref 2.4 (3p): sandbox keys start `sb`, e.g. `sbaw...`; production keys `aw...`.
        prefix = "sbaw" if stage == "sandbox" else "aw"
        return prefix + self._chars(_LOWER_ALNUM, 18 - len(prefix))

    def client_secret(self) -> str:
        return self._secrets.chars(_ALNUM, 32)

    def creator_uid(self) -> str:
        return self._chars(_DIGITS, 19)

    def numeric_id(self) -> str:
        """19 digits, the shape of TikTok's post and publish numbers (ref 7.3, 11)."""
        return str(self._rng.randint(7 * 10**18, 8 * 10**18 - 1))

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
