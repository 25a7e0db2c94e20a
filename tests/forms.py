"""Reading the sandbox's HTML forms the way a browser does, for tests that post them."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"name='csrf_token' value='([0-9a-f]+)'")


def form_token(page: str) -> str:
    """The form token of a consent page or the dashboard (every form on a page shares it)."""
    found = _TOKEN.search(page)
    assert found is not None, "no form token on the page"
    return found.group(1)
