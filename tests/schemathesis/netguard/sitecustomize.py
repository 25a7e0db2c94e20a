"""Loaded at the start of every Python process run with this directory on PYTHONPATH (the
Schemathesis command line in the tests): a name that is not loopback is never resolved and an
address that is not loopback never connected to. Each attempt is refused and written to the
file named by NETGUARD_LOG, which the test then reads."""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

_resolve = socket.getaddrinfo
_connect = socket.socket.connect


def _loopback(host: object) -> bool:
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name in ("localhost", "None"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what: str) -> None:
    with open(os.environ["NETGUARD_LOG"], "a", encoding="utf-8") as log:
        log.write(what + "\n")
    raise OSError(f"network guard: {what} is not on loopback")


def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _loopback(host):
        _refuse(f"resolve {host!r}")
    return _resolve(host, *args, **kwargs)


def connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
        _refuse(f"connect {address!r}")
    return _connect(self, address)


if os.environ.get("NETGUARD_LOG"):
    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect  # type: ignore[method-assign]
