"""Front doors: how traffic reaches the one ASGI app besides plain HTTP. TLS with the sandbox's
local CA (`--https`), and a proxy for TikTok's hosts only (`--proxy`) that terminates TLS and
never forwards anything, so unmodified apps in any language use the sandbox through their
environment alone."""

from mock_server.frontdoor.ca import LocalCA, LocalCAError
from mock_server.frontdoor.door import FrontDoor
from mock_server.frontdoor.server import build_server
from mock_server.frontdoor.stack import Stack, StackUnavailable, choose

__all__ = [
    "FrontDoor",
    "LocalCA",
    "LocalCAError",
    "Stack",
    "StackUnavailable",
    "build_server",
    "choose",
]
