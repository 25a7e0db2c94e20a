"""A guard for tests that intercept TikTok's hosts: if interception ever failed, the request
must not leave the machine. Name resolution is refused for every host that is not loopback, so
such a test fails with a connection error instead of reaching the internet."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


def refuse_remote_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    resolve = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and not _loopback(str(name)):
            raise OSError(f"test network guard: {name!r} is not a loopback host")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
