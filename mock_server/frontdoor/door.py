"""What the serving port speaks besides plain HTTP: TLS (`--https`), proxy requests for TikTok's
hosts (`--proxy`), or both."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

# uvicorn configures this logger from --log-level, so front-door lines sit with its own.
log = logging.getLogger("uvicorn.error")


@dataclass(frozen=True)
class FrontDoor:
    https: bool = False
    proxy: bool = False

    @property
    def plain_only(self) -> bool:
        """Nothing but plain HTTP: uvicorn accepts the connections itself, as it always did."""
        return not (self.https or self.proxy)

    @property
    def serves_plain(self) -> bool:
        """Whether plain-HTTP requests are served: always, unless the port is TLS only."""
        return self.proxy or not self.https


def peer(address: Any) -> str:
    """A client address for a log line: `127.0.0.1:5555` or `[::1]:5555`."""
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(address)
