"""A user's tokens, when they lapse, and where they are kept (ref 2.4).

Expiry comes from `expires_in` / `refresh_expires_in` (the remaining lifetime, doc-2026),
never from a lifetime written here. A refresh rotates the refresh token (doc-2026: the old one
stops working at once), so every new `Token` goes to the `TokenStore` before it is used.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

Now = Callable[[], float]
wall_clock: Now = time.time  # the client's default clock; tests inject a virtual one


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_at: float  # epoch seconds
    refresh_token: str | None = None
    refresh_expires_at: float | None = None
    open_id: str | None = None
    scope: tuple[str, ...] = ()
    token_type: str = "Bearer"

    @classmethod
    def from_response(
        cls, body: dict[str, Any], now: float, previous: Token | None = None
    ) -> Token:
        """The flat success body of `/v2/oauth/token/` (ref 2.4), read at instant `now`.

        A refresh answer without `refresh_token` keeps the previous one (the older docs'
        "may differ" allows the same one back; this also covers a missing field).
        """
        refresh = body.get("refresh_token") or (previous.refresh_token if previous else None)
        refresh_in = body.get("refresh_expires_in")
        scope = body.get("scope")
        return cls(
            access_token=str(body["access_token"]),
            expires_at=now + float(body.get("expires_in") or 0),
            refresh_token=refresh,
            refresh_expires_at=(
                now + float(refresh_in)
                if refresh_in is not None
                else (previous.refresh_expires_at if previous else None)
            ),
            open_id=body.get("open_id") or (previous.open_id if previous else None),
            scope=(
                tuple(s for s in str(scope).split(",") if s)
                if scope is not None
                else (previous.scope if previous else ())
            ),
            token_type=str(body.get("token_type") or "Bearer"),
        )

    @classmethod
    def bare(cls, access_token: str) -> Token:
        """An access token alone, of unknown expiry (never refreshed)."""
        return cls(access_token=access_token, expires_at=float("inf"))

    def expires_within(self, seconds: float, now: float) -> bool:
        return self.expires_at - seconds <= now

    @property
    def can_refresh(self) -> bool:
        return bool(self.refresh_token)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["scope"] = list(self.scope)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Token:
        return cls(
            access_token=str(data["access_token"]),
            expires_at=float(data["expires_at"]),
            refresh_token=data.get("refresh_token"),
            refresh_expires_at=data.get("refresh_expires_at"),
            open_id=data.get("open_id"),
            scope=tuple(data.get("scope") or ()),
            token_type=str(data.get("token_type") or "Bearer"),
        )


class TokenStore(Protocol):
    """Where the current token lives. `save` is called with every new token (after the code
    exchange and every refresh), `clear` after a revoke."""

    def load(self) -> Token | None: ...

    def save(self, token: Token) -> None: ...

    def clear(self) -> None: ...


class MemoryTokenStore:
    def __init__(self, token: Token | None = None) -> None:
        self.token = token

    def load(self) -> Token | None:
        return self.token

    def save(self, token: Token) -> None:
        self.token = token

    def clear(self) -> None:
        self.token = None


class CallbackTokenStore:
    """Keeps the token in memory and calls `on_change` with every new token (None on clear),
    so an app can persist rotations wherever it keeps them."""

    def __init__(self, on_change: Callable[[Token | None], None], token: Token | None = None):
        self.token = token
        self.on_change = on_change

    def load(self) -> Token | None:
        return self.token

    def save(self, token: Token) -> None:
        self.token = token
        self.on_change(token)

    def clear(self) -> None:
        self.token = None
        self.on_change(None)


class JsonFileTokenStore:
    """A JSON file readable by its owner only, replaced atomically on every save."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> Token | None:
        try:
            return Token.from_json(json.loads(self.path.read_text("utf-8")))
        except FileNotFoundError:
            return None

    def save(self, token: Token) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".token-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(token.to_json(), f, indent=2)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
