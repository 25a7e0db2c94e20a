"""Mutant: any app's credentials exchange a code, whichever app it was issued to (ref 2.6:
invalid_grant for a code "issued to another client")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from mock_server.domain import oauth

    checked = oauth.exchange_code

    def exchange_code(world: Any, form: Mapping[str, str], now: float) -> Any:
        code = world.codes.get(form.get("code", ""))
        if code is not None and form.get("client_key") in world.apps:
            code.client_key = form["client_key"]
        return checked(world, form, now)

    oauth.exchange_code = exchange_code
