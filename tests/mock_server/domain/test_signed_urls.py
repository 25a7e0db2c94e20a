"""Signed image URLs: a URL's query is written exactly as `urllib.parse.urlencode` writes it,
and a URL the sandbox signed checks out until it expires."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain import signed_urls
from mock_server.domain.signed_urls import EXPIRES, SIGNATURE, UrlCheck, check, sign

KEY = b"sandbox-key"
PATH = "/_sandbox/avatars/123.svg"


@given(
    params=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k not in (EXPIRES, SIGNATURE)),
        st.text(max_size=12),
        max_size=3,
    )
)
def test_a_signed_url_is_written_as_urlencode_writes_it(params: dict[str, str]) -> None:
    url = sign(KEY, PATH, params, now=1000.0, ttl=60)
    signed = {**params, EXPIRES: "1060"}
    signed[SIGNATURE] = signed_urls._signature(KEY, PATH, signed)
    assert url == f"{PATH}?{urlencode(signed)}"


def test_a_signed_url_checks_out_until_it_expires() -> None:
    url = sign(KEY, PATH, {"size": "168"}, now=1000.0, ttl=7200)
    query = dict(parse_qsl(urlsplit(url).query))
    assert check(KEY, PATH, query, 8199.0) is UrlCheck.OK
    assert check(KEY, PATH, query, 8200.0) is UrlCheck.EXPIRED
    assert check(KEY, PATH, {**query, "size": "720"}, 1000.0) is UrlCheck.BAD_SIGNATURE
