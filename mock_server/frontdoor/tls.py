"""The server's TLS settings: one leaf certificate from the local CA for every name the sandbox
answers to, HTTP/1.1 by ALPN, TLS 1.2 or newer."""

from __future__ import annotations

import ssl
import tempfile
from pathlib import Path

from mock_server.domain.hosts import TIKTOK_HOSTS
from mock_server.frontdoor.ca import LocalCA

LEAF_NAMES: tuple[str, ...] = (*TIKTOK_HOSTS, "localhost")
LEAF_ADDRESSES: tuple[str, ...] = ("127.0.0.1", "::1")


def server_context(ca: LocalCA) -> ssl.SSLContext:
    """A server-side context presenting a fresh leaf (chain: leaf, CA) for LEAF_NAMES and
    LEAF_ADDRESSES."""
    chain, key = ca.issue_leaf(LEAF_NAMES, LEAF_ADDRESSES)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # The app is served over HTTP/1.1 only: say so, so clients offering h2 never try it.
    context.set_alpn_protocols(["http/1.1"])
    # The ssl module loads certificates from files only; these live a moment, for the owner.
    with tempfile.TemporaryDirectory(prefix="tiktok-sandbox-leaf-") as directory:
        cert_file, key_file = Path(directory, "leaf.pem"), Path(directory, "leaf-key.pem")
        cert_file.write_bytes(chain)
        key_file.touch(mode=0o600)
        key_file.write_bytes(key)
        context.load_cert_chain(cert_file, key_file)
    return context
