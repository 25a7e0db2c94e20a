"""Mutant: a verified Domain property matches any host that ends with its name, so
`evilstatic.example.com` passes for `static.example.com` (ref 10.4: the domain and its
subdomains only)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain import posting

    checked = posting.url_is_verified

    def url_is_verified(app: Any, url: str) -> bool:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        suffix = parts.scheme == "https" and any(host.endswith(d) for d in app.verified_domains)
        return suffix or checked(app, url)

    posting.url_is_verified = url_is_verified
