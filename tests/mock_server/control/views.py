"""What the control API shows of a sandbox's state, to compare before and after a request."""

from __future__ import annotations

from typing import Any

import httpx

# Everything a client can change, as the control API lists it (not the journal, which records
# every request, refused ones included).
STATE_VIEWS = ("apps", "creators", "grants", "publishes", "faults", "outcomes", "clock", "webhooks")


def control_state(http: httpx.Client) -> dict[str, Any]:
    views = {}
    for view in STATE_VIEWS:
        answer = http.get(f"/_sandbox/{view}")
        assert answer.status_code == 200, answer.text
        views[view] = answer.json()
    return views
