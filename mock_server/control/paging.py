"""Pages of the control API's listings: `limit` items at most (100 unless asked), and a `next`
link carrying an opaque `cursor` when more follow, so a listing costs the same at 100,000
records as at 10.

    GET /_sandbox/publishes?limit=2
    -> {"publishes": [...2...], "next": "/_sandbox/publishes?limit=2&cursor=v_pub_file~v2.7..."}

The cursor names the last item of the page: new items (newest-first listings) or removed
ones never make a page repeat or skip what was after it. It is found among all the listing's
items, not only the ones its filters keep, so an item that no longer passes them (a publish
listed by status that moved on) still says where the next page starts. A cursor whose item
was forgotten since (swept, evicted) is a 400 saying to list again from the start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.requests import Request

from mock_server.domain.text import plain_decimal, quoted

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

T = TypeVar("T")


class PageRequestError(ValueError):
    """A bad `limit` or `cursor` (the control API answers 400 invalid_request)."""


def paged(
    request: Request,
    items: Iterable[T],
    key: Callable[[T], str],
    render: Callable[[T], dict[str, Any]],
    field: str,
    keep: Callable[[T], bool] | None = None,
) -> dict[str, Any]:
    """`{field: [...], "next": ...}` for the page of `items` (all of the listing's, in its
    order) that the request's `limit` and `cursor` ask for, of those `keep` (the filters)
    keeps; `next` only when more items follow."""
    limit = _limit(request)
    cursor = request.query_params.get("cursor")
    remaining = iter(items)
    if cursor is not None:
        for item in remaining:
            if key(item) == cursor:
                break
        else:
            raise PageRequestError(
                f"cursor: {quoted(cursor)} is not in this listing any more (forgotten since, "
                "or from another listing); list again without cursor"
            )
    if keep is not None:
        remaining = filter(keep, remaining)
    chosen = list(islice(remaining, limit + 1))
    body: dict[str, Any] = {field: [render(item) for item in chosen[:limit]]}
    if len(chosen) > limit:
        body["next"] = next_link(request, key(chosen[limit - 1]))
    return body


def next_link(request: Request, cursor: str) -> str:
    """The path and query of the page after the one `request` asked for: the same filters
    and `limit`, and the cursor of its last item."""
    params = dict(request.query_params)
    params["cursor"] = cursor
    return f"{request.url.path}?{urlencode(params)}"


def _limit(request: Request) -> int:
    text = request.query_params.get("limit")
    if text is None:
        return DEFAULT_LIMIT
    value = plain_decimal(text)
    if value is None or not 1 <= value <= MAX_LIMIT:
        raise PageRequestError(f"limit: expected a whole number 1-{MAX_LIMIT}, got {quoted(text)}")
    return value
