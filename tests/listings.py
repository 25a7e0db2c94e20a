"""Reading a control API listing whole: the listings come in pages (`limit`, at most 1,000,
and a `next` link while more follow; docs/control-api.md)."""

from __future__ import annotations

from typing import Any

import httpx


def whole(http: httpx.Client, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
    """The answer to GET `path` with every page's items in its one list field (the others as
    on the first page, `next` dropped). Non-paged answers come back as they are."""
    response = http.get(path, params={"limit": "1000", **(params or {})})
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
    body: dict[str, Any] = response.json()
    next_url = body.pop("next", None)
    field = next((k for k, v in body.items() if isinstance(v, list)), None)
    while next_url is not None:
        assert field is not None, body
        page = http.get(next_url)
        assert page.status_code == 200, f"GET {next_url}: {page.status_code} {page.text}"
        more = page.json()
        body[field].extend(more[field])
        next_url = more.get("next")
    return body
