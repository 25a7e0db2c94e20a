"""A deterministic generator of hostile requests for every endpoint of the sandbox.

Each `Probe` is one request: a route (every TikTok path, `/upload/`, every `/_sandbox/` route,
the dashboard and avatars), a family of hostility (body, form, query, path, header, upload,
raw) and a kind within it (lone surrogates, control characters, deep nesting, huge numbers,
wrong types, odd content types, foreign Host and Origin, bodies over the limit, bytes httpx
refuses to send...). Every random draw happens here, from one `random.Random(seed)`: the same
seed gives the same probes, which `digest` sums up. Values that only exist at run time (tokens,
ids, the port) are `Fx` placeholders, filled in by `Fixture` when the probe is built.

Most probes start from a request the sandbox would accept and break one thing, so the input
reaches the parsers (valid tokens, a real upload_url, a real publish_id). A probe is `risky`
when a correct sandbox may accept it (only its headers are hostile, or the route takes no
input): the runner sends those in small batches of their own.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from bench._robustness.routes import (
    ROUTES,
    Pairs,
    Route,
    auth_headers,
    base_body,
    route_content_type,
    spoiled_body,
    target,
)
from bench._robustness.wire import (
    Fixture,
    Fx,
    HttpWire,
    Raw,
    RawWire,
    Wire,
    encode_pairs,
    get,
    json_bytes,
    leaf_paths,
    object_paths,
    raw_http,
    renamed_key,
    replaced,
    request_head,
    without,
)

MiB = 1024 * 1024
BODY_LIMIT = MiB  # the sandbox's default max_body_bytes
MARKER = "HOSTILE-BENCH-SECRET-7f3a"  # the content of the scenario file probes name


@dataclass(frozen=True)
class Probe:
    index: int
    route: str  # "POST /_sandbox/apps"
    family: str
    kind: str
    writes: bool  # the route can change what the state snapshot shows
    risky: bool  # a correct sandbox may accept it
    rate: tuple[str, int] | None  # (rate-limited endpoint, token index) it counts against
    detail: str  # what was drawn, for the digest and for reports
    build: Callable[[Fixture], Wire] = field(compare=False, repr=False)


# -- hostile values ---------------------------------------------------------------------------

SURROGATES = ["\udfff", "\ud800", "a\udc00b", "\ud83d", "x\udbff", "\ud83d\ude00\ud83d"]
CONTROLS = ["\x00", "a\x01b", "\x07", "\x08", "\x0b", "\x0c", "\x1b[31m", "\x7f", "x\x85", "\x9f"]
HUGE_NUMBERS = [
    Raw("18446744073709551616"),  # 2**64
    Raw("-9223372036854775809"),  # -2**63 - 1
    Raw("1" + "0" * 30),
    Raw("9" * 5000),  # over Python's 4300-digit int parsing limit
    Raw("-" + "9" * 400),
    Raw("1e400"),  # parses as inf
    Raw("-1e400"),
    Raw("NaN"),
    Raw("Infinity"),
    Raw("-Infinity"),
    Raw("1e-400"),
    Raw("123456789012345678901234567890.5"),
]
NEST_DEPTHS = [65, 100, 1000, 3000, 100_000]
# Kinds of broken JSON bodies and forms, with how often each is drawn. Bodies over the limit
# are rare: a megabyte each.
BODY_KINDS = {
    "lone_surrogate": 3,
    "surrogate_bytes": 1,
    "surrogate_key": 1,
    "control_char": 2,
    "wrong_type": 2,
    "huge_number": 2,
    "deep_nesting": 2,
    "invalid_json": 1.5,
    "top_level": 0.5,
    "oversize_body": 0.1,
    "unknown_field": 1,
    "drop_required": 0.5,
}
FORM_KINDS = {
    "form_surrogate": 1.5,
    "form_invalid_utf8": 1,
    "form_control": 1,
    "form_crlf": 1,
    "form_huge": 0.5,
    "form_repeated": 1,
    "form_json_body": 1,
    "form_wrong_type": 1,
    "form_odd_grant": 1,
    "form_oversize": 0.1,
    "form_unicode": 1,
}
ASCII_HOSTILE_QUERY = [
    "%ED%BF%BF",  # a lone surrogate, UTF-8 encoded (invalid UTF-8)
    "%ED%A0%80x",
    "%FF%FE",
    "%C0%AF",  # overlong encoding of '/'
    "%00",
    "a%01b",
    "%0D%0ALocation:%20http://evil.example/",
    "%1B%5B31m",
    "%C2%B2",  # '²': str.isdigit() says yes, int() says no
    "%D9%A3",  # Arabic-Indic three: a Unicode decimal digit
    "%EF%BC%95",  # fullwidth five
    "1" * 5000,
    "-1",
    "0",
    "99999999999999999999999",
    "A" * 9000,
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "%25",
    "%",
    "%zz",
    "+",
    "",
]
FOREIGN_HOSTS = [
    "evil.example",
    "evil.example:80",
    "127.0.0.1.nip.io",
    "localhost.evil.example",
    "0.0.0.0",
    "192.168.1.10:8080",
    "[::ffff:8.8.8.8]",
    "evil.example, 127.0.0.1",
    "EVIL.EXAMPLE",
    "127.0.0.1@evil.example",
    "",
]
FOREIGN_ORIGINS = [
    "http://evil.example",
    "null",
    "https://evil.example:443",
    "http://127.0.0.1:1",  # another loopback port: same-site, not same-origin
    "http://localhost.evil.example",
    "file://",
    "http://evil.example/_sandbox/",
]
ODD_CONTENT_TYPES = [
    "text/plain",
    "text/plain;charset=UTF-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "application/jsonp",
    "*/*",
    "application/json, text/plain",
    "application/json; charset=utf-16",
    "video/mp4",
    "application/" + "x" * 5000,
    "",
]


def nested(depth: int, objects: bool) -> Raw:
    if objects and depth <= 3000:
        return Raw('{"a":' * depth + "1" + "}" * depth)
    return Raw("[" * depth + "]" * depth)


def wrong_type_for(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bool):
        return rng.choice(["true", 1, 0, [], {"v": True}])
    if isinstance(value, int | float):
        return rng.choice(["1", [], {}, True, [1], "NaN"])
    if isinstance(value, list):
        return rng.choice(["a,b", {}, 1, True, [[1]], [{}]])
    return rng.choice([[], {}, True, 0, 3.5, ["x"], {"x": "y"}])


FAMILY_WEIGHTS = {"body": 6, "form": 6, "upload": 8, "query": 3, "path": 2, "header": 2, "raw": 1.5}


def families(route: Route) -> list[str]:
    found = []
    if route.body == "json":
        found.append("body")
    elif route.body in ("form", "upload"):
        found.append(route.body)
    if route.query is not None:
        found.append("query")
    if any(isinstance(p, Fx) for p in route.path) or route.tiktok:
        found.append("path")
    return [*found, "header", "raw"]


# -- the generator ---------------------------------------------------------------------------


class HostileGenerator:
    """`probes(n)` yields n probes; the same seed always yields the same ones."""

    def __init__(self, seed: int, tokens: int) -> None:
        self.rng = random.Random(seed)
        self.tokens = tokens
        self._next_token: dict[str, int] = {}
        self._digest = hashlib.sha256()
        self._weights = [r.weight for r in ROUTES]

    @property
    def digest(self) -> str:
        return self._digest.hexdigest()[:16]

    def probes(self, count: int) -> Iterator[Probe]:
        for index in range(count):
            probe = self._probe(index)
            self._digest.update(f"{probe.route}|{probe.kind}|{probe.detail}\n".encode())
            yield probe

    def _token(self, route: Route) -> int:
        key = route.rate or "bearer"
        n = self._next_token.get(key, 0)
        self._next_token[key] = n + 1
        return n % self.tokens

    def _probe(self, index: int) -> Probe:
        rng = self.rng
        route = rng.choices(ROUTES, self._weights)[0]
        options = families(route)
        family = rng.choices(options, [FAMILY_WEIGHTS[f] for f in options])[0]
        token = self._token(route) if route.bearer else 0
        make = {
            "body": self._body,
            "form": self._form,
            "upload": self._upload,
            "query": self._query,
            "path": self._path,
            "header": self._header,
            "raw": self._raw,
        }[family]
        kind, detail, build, risky = make(route, index, token)
        return Probe(
            index=index,
            route=route.name,
            family=family,
            kind=kind,
            writes=route.writes,
            # a route that takes no input (DELETE /_sandbox/faults...) may rightly accept it
            risky=risky or (route.writes and route.body == "none"),
            rate=(route.rate, token) if route.rate and route.bearer else None,
            detail=detail[:300],
            build=build,
        )

    # Each family returns (kind, detail, build, risky).

    def _body(self, route: Route, index: int, token: int) -> tuple[str, str, Any, bool]:
        rng = self.rng
        assert route.base is not None
        tree = route.base(index)
        headers = auth_headers(route, token)
        leaves = leaf_paths(tree)
        kinds = dict(BODY_KINDS, long_text=0.5 if route.tiktok else 0)
        kind = rng.choices(list(kinds), list(kinds.values()))[0]
        if kind == "drop_required" and not (route.all_required and leaves and leaves[0]):
            kind = "wrong_type"
        if not leaves or leaves == [()]:  # an empty object: add a field instead
            kind = rng.choice(
                ["unknown_field", "deep_nesting", "invalid_json", "top_level", "oversize_body"]
            )
        ascii_only = True
        detail = ""
        value: Any  # what replaces a part of the tree, of whatever JSON type
        path: Any
        where: Any
        if kind in ("lone_surrogate", "surrogate_bytes", "control_char", "long_text"):
            path = rng.choice(leaves)
            pool = CONTROLS if kind == "control_char" else SURROGATES
            bad = rng.choice(pool)
            value = (
                "L" * rng.choice([2201, 5000, 150_000])
                if kind == "long_text"
                else rng.choice([bad, f"ok {bad}", f"{bad}end"])
            )
            tree = replaced(tree, path, value)
            ascii_only = kind != "surrogate_bytes"
            detail = f"{path} {value[:40]!r}"
        elif kind == "surrogate_key":
            path = rng.choice(leaves)
            if path and isinstance(path[-1], str):
                tree = renamed_key(tree, path, path[-1] + rng.choice(SURROGATES))
            else:
                tree = {**tree, rng.choice(SURROGATES): 1}
            detail = str(path)
        elif kind == "wrong_type":
            path = rng.choice(leaves)
            value = wrong_type_for(get(tree, path), rng)
            tree = replaced(tree, path, value)
            detail = f"{path} {value!r}"
        elif kind == "huge_number":
            numeric = [p for p in leaves if isinstance(get(tree, p), int | float)]
            path = rng.choice(numeric or leaves)
            value = rng.choice(HUGE_NUMBERS)
            tree = replaced(tree, path, value)
            detail = f"{path} {value.text[:30]}"
        elif kind == "deep_nesting":
            depth = rng.choice(NEST_DEPTHS)
            value = nested(depth, rng.random() < 0.5)
            where = rng.choice(["leaf", "field", "body"])
            if where == "body":
                tree = value
            elif where == "leaf" and leaves and leaves != [()]:
                tree = replaced(tree, rng.choice(leaves), value)
            else:
                tree = replaced(tree, (), {**tree, "nested": value})
            detail = f"{where} {depth} {value.text[:2]}"
        elif kind == "unknown_field":
            where = rng.choice(object_paths(tree))
            # TikTok ignores fields it does not read: only what no JSON body may carry there.
            value = rng.choice(
                [
                    rng.choice(SURROGATES),
                    nested(rng.choice(NEST_DEPTHS), False),
                    *([] if route.tiktok else [rng.choice(CONTROLS), rng.choice(HUGE_NUMBERS)]),
                ]
            )
            name = rng.choice(["x_probe", "__proto__", "constructor", "", "a" * 300])
            tree = replaced(tree, where, {**get(tree, where), name: value})
            detail = f"{where} {name[:10]} {value!r:.30}"
        elif kind == "drop_required":
            path = rng.choice([p for p in leaves if p])
            tree = without(tree, path[:1])
            detail = str(path[:1])
        elif kind == "invalid_json":
            variant = rng.randrange(14)
            detail = str(variant)

            def broken(fx: Fixture, v: int = variant, t: Any = tree) -> bytes:
                good = json_bytes(t, fx)
                return [
                    good[: max(1, len(good) // 2)],
                    good + b"}",
                    b"{'a': 1}",
                    good[:-1] + b",}" if good.endswith(b"}") else good + b",",
                    b"\xef\xbb\xbf" + good,
                    good.decode().encode("utf-16"),
                    b"\xff\xfe\xfd" + good,
                    b'{"a":"\\ud800',
                    b'{"a":"\\x41"}',
                    b'{"a":"\\u12"}',
                    b"{" * 5000,
                    b"\x00" + good,
                    good + b"\x00garbage",
                    b'{"a":1}{"b":2}',
                ][v]

            # A BOM or UTF-16 in front of valid JSON is JSON a server may decode (RFC 8259 8.1)
            risky = route.writes and variant in (4, 5)
            return kind, detail, self._json_request(route, headers, broken), risky
        elif kind == "top_level":
            value = rng.choice([[], 1, "s", None, True, [{"a": 1}], Raw("[]" * 5)])
            tree = value
            detail = repr(value)
        elif kind == "oversize_body":
            pad = BODY_LIMIT + rng.randrange(1, 4096)
            tree = {**tree, "pad": "x" * pad} if isinstance(tree, dict) else tree
            detail = str(pad)
        # Control characters in TikTok's own text fields (titles) may be kept, as TikTok does.
        risky = route.writes and route.tiktok and kind == "control_char"
        return kind, detail, self._json_tree_request(route, headers, tree, ascii_only), risky

    def _json_tree_request(self, route: Route, headers: Any, tree: Any, ascii_only: bool) -> Any:
        return self._json_request(route, headers, lambda fx: json_bytes(tree, fx, ascii_only))

    @staticmethod
    def _json_request(route: Route, headers: Any, body: Callable[[Fixture], bytes]) -> Any:
        def build(fx: Fixture) -> Wire:
            return HttpWire(
                route.method,
                target(route, fx),
                (*headers(fx), ("Content-Type", b"application/json")),
                body(fx),
            )

        return build

    def _form(self, route: Route, index: int, token: int) -> tuple[str, str, Any, bool]:
        rng = self.rng
        assert route.base is not None
        pairs: Pairs = list(route.base(index))
        slot = rng.randrange(len(pairs))
        key = pairs[slot][0]
        kind = rng.choices(list(FORM_KINDS), list(FORM_KINDS.values()))[0]
        content_type = b"application/x-www-form-urlencoded"
        raw_tail = b""
        if kind == "form_surrogate":
            pairs[slot] = (key, rng.choice(["%ED%BF%BF", "a%ED%A0%80", "%ED%B0%80%ED%B0%80"]))
        elif kind == "form_invalid_utf8":
            pairs[slot] = (key, "")
            raw_tail = rng.choice([b"\xff", b"\xc3", b"\xe2\x82", b"\xfe\xff", b"\xc0\xaf"])
        elif kind == "form_control":
            pairs[slot] = (key, rng.choice(["%00", "a%01b", "%1B", "%7F", "%C2%85"]))
        elif kind == "form_crlf":
            pairs[slot] = (
                key,
                rng.choice(["http://127.0.0.1:3000/callback/%0D%0AX:%20y", "%0D%0A", "a%0Ab"]),
            )
        elif kind == "form_huge":
            pairs[slot] = (key, rng.choice(["A" * 100_000, "9" * 5000, "%41" * 20_000]))
        elif kind == "form_repeated":
            pairs.append((key, rng.choice(["%ED%BF%BF", "%00", "", "x"])))
        elif kind == "form_json_body":
            content_type = b"application/json"
        elif kind == "form_wrong_type":
            content_type = rng.choice(ODD_CONTENT_TYPES).encode()
        elif kind == "form_odd_grant":
            pairs = [
                (
                    k,
                    rng.choice(
                        [
                            "client_credentials%00",
                            "REFRESH_TOKEN",
                            "password",
                            "authorization_code,refresh_token",
                            "",
                        ]
                    ),
                )
                if k == "grant_type"
                else (k, v)
                for k, v in pairs
            ]
            if not any(k == "grant_type" for k, _ in pairs):
                pairs.append(("grant_type", "%ED%BF%BF"))
        elif kind == "form_oversize":
            pairs.append(("pad", "x" * (BODY_LIMIT + rng.randrange(1, 4096))))
        elif kind == "form_unicode":
            pairs[slot] = (key, quote(rng.choice(["é", "\u202e", "\ufeff", "𝒳", "٣"])))
        headers = auth_headers(route, token)
        detail = f"{key} {str(pairs[slot][1])[:40] if slot < len(pairs) else ''}"
        # The token endpoints refuse the base anyway (codes and tokens never issued); the
        # consent form approves it, so only a spoiled value makes a probe there that must fail.
        risky = route.path[0] == "/v2/auth/authorize/" and kind not in (
            "form_surrogate",
            "form_invalid_utf8",
            "form_control",
            "form_crlf",
        )

        def build(fx: Fixture) -> Wire:
            if kind == "form_json_body":
                body = json_bytes(dict((k, v) for k, v in pairs), fx)
            else:
                body = encode_pairs(pairs, fx).encode() + raw_tail
            return HttpWire(
                route.method,
                target(route, fx),
                (*headers(fx), ("Content-Type", content_type)),
                body,
            )

        return kind, detail, build, risky

    def _upload(self, route: Route, index: int, token: int) -> tuple[str, str, Any, bool]:
        rng = self.rng
        kind = rng.choice(
            [
                "range_malformed",
                "range_huge",
                "range_unicode_digits",
                "range_off_plan",
                "range_total",
                "content_type",
                "length_mismatch",
                "chunked",
                "empty_body",
                "ids_hostile",
                "ids_missing",
            ]
        )
        size = rng.randrange(1, 2048)
        first = 0
        content_type = b"video/mp4"
        range_text: str | None = None
        pairs: Pairs | None = None
        declared_extra = 0
        if kind == "range_malformed":
            range_text = rng.choice(
                [
                    "bytes 0-/",
                    "bytes=0-99/100",
                    "bytes 5-1/{total}",
                    "items 0-1/{total}",
                    "bytes -1-5/{total}",
                    "bytes */*",
                    "bytes 0-1/2/3",
                    "bytes\t0-1/{total}",
                    "0-1/{total}",
                    "bytes 0x0-0x10/{total}",
                    "",
                ]
            )
        elif kind == "range_huge":
            range_text = rng.choice(
                [
                    f"bytes 0-{'9' * 25}/{'9' * 25}",
                    "bytes 0-99/99999999999999999999",
                    f"bytes {2**70}-{2**70 + 9}/{{total}}",
                    "bytes 0-9223372036854775807/{total}",
                ]
            )
        elif kind == "range_unicode_digits":
            range_text = rng.choice(
                ["bytes ٠-٩/{total}", "bytes 0-²/{total}", "bytes ０-９/{total}"]
            )
        elif kind == "range_off_plan":
            first = rng.choice([1, 4096, 5 * MiB, 10 * MiB])
        elif kind == "range_total":
            range_text = "bytes 0-{last}/" + str(rng.choice([0, 1, 10**12, 5 * MiB]))
        elif kind == "content_type":
            content_type = rng.choice(
                [*ODD_CONTENT_TYPES, "video/mp4\x0b", "VIDEO/MP4x", "video/x-matroska"]
            ).encode()
        elif kind == "length_mismatch":
            declared_extra = rng.choice([-1, 1, 1000])
        elif kind == "ids_hostile":
            pairs = [
                ("upload_id", rng.choice(ASCII_HOSTILE_QUERY)),
                ("upload_token", Fx("upload_token")),
            ]
            if rng.random() < 0.5:
                pairs = [
                    ("upload_id", Fx("upload_id")),
                    ("upload_token", rng.choice(ASCII_HOSTILE_QUERY)),
                ]
        elif kind == "ids_missing":
            pairs = rng.choice(
                [[], [("upload_id", Fx("upload_id"))], [("upload_token", Fx("upload_token"))]]
            )
        payload = bytes(rng.randrange(256) for _ in range(min(size, 64))) * (size // 64 + 1)
        body = payload[:size] if kind != "empty_body" else b""
        detail = f"{range_text} {first} {size} {content_type[:20]!r} {declared_extra}"

        def build(fx: Fixture) -> Wire:
            last = first + len(body) - 1
            text = range_text if range_text is not None else f"bytes {first}-{last}/{{total}}"
            text = text.format(total=fx.upload_size, last=last)
            headers: list[tuple[str, bytes]] = [("Content-Type", content_type)]
            if text:
                headers.append(("Content-Range", text.encode()))
            if declared_extra:  # a Content-Length that lies: only a raw socket sends that
                return raw_http(
                    fx,
                    route.method,
                    target(route, fx, pairs=pairs),
                    headers,
                    body,
                    content_length=len(body) + declared_extra,
                    cut=declared_extra > 0,
                )
            return HttpWire(
                route.method,
                target(route, fx, pairs=pairs),
                tuple(headers),
                body,
                chunked=kind == "chunked",
            )

        return kind, detail, build, False

    def _query(self, route: Route, index: int, token: int) -> tuple[str, str, Any, bool]:
        rng = self.rng
        assert route.query is not None
        pairs: Pairs = list(route.query(index))
        kind = rng.choice(
            [
                "query_value",
                "query_value",
                "query_value",
                "query_added",
                "query_repeated",
                "query_key",
            ]
        )
        bad = rng.choice(ASCII_HOSTILE_QUERY)
        if kind == "query_value" and pairs:
            slot = rng.randrange(len(pairs))
            pairs[slot] = (pairs[slot][0], bad)
        elif kind == "query_repeated" and pairs:
            pairs.append((rng.choice(pairs)[0], bad))
        elif kind == "query_key":
            pairs.append((bad or "%00", "1"))
        else:
            kind = "query_added"
            pairs.append(
                (
                    rng.choice(
                        [
                            "size",
                            "limit",
                            "client_key",
                            "status",
                            "creator",
                            "fields",
                            "scope",
                            "redirect_uri",
                        ]
                    ),
                    bad,
                )
            )
        headers = auth_headers(route, token)
        detail = f"{pairs[-1][0]} {bad[:40]}"

        def build(fx: Fixture) -> Wire:
            content = base_body(route, index, fx)
            extra = [("Content-Type", route_content_type(route))] if content is not None else []
            return HttpWire(
                route.method, target(route, fx, pairs=pairs), (*headers(fx), *extra), content
            )

        return kind, detail, build, False

    def _path(self, route: Route, index: int, token: int) -> tuple[str, str, Any, bool]:
        rng = self.rng
        segments = list(route.path)
        params = [i for i, p in enumerate(segments) if isinstance(p, Fx)]
        choices = ["path_param"] * (3 if params else 0) + ["wrong_method", "path_suffix"]
        if route.tiktok:
            choices += ["no_trailing_slash"] * 3 + ["case"]
        kind = rng.choice(choices)
        method = route.method
        if kind == "path_param":
            segments[rng.choice(params)] = rng.choice(
                [
                    "%ED%BF%BF",
                    "%FF",
                    "%00",
                    "%0D%0AX:%20y",
                    "a" * 4000,
                    "%2E%2E%2F%2E%2E%2F",
                    "%2F",
                    "%C3%A9",
                    "%F0%9F%98%80",
                    "%20",
                    "%3Cb%3E",
                    "..%5C..%5C",
                    "%25%30%30",
                ]
            )
        elif kind == "no_trailing_slash":
            segments[-1] = segments[-1].rstrip("/") if isinstance(segments[-1], str) else ""
        elif kind == "case":
            segments[0] = segments[0].upper()
        elif kind == "path_suffix":
            segments.append(rng.choice(["/extra", "//", "/%2e%2e/", ";jsessionid=1", "%00"]))
        else:
            method = rng.choice(
                [
                    m
                    for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE")
                    if m != route.method
                ]
            )
        headers = auth_headers(route, token)
        detail = f"{method} {segments}"[:200]

        def build(fx: Fixture) -> Wire:
            content = base_body(route, index, fx)
            extra = [("Content-Type", route_content_type(route))] if content is not None else []
            return HttpWire(
                method, target(route, fx, tuple(segments)), (*headers(fx), *extra), content
            )

        # Another method may be another route (DELETE /_sandbox/faults after POST): risky.
        risky = kind == "wrong_method" and method not in ("GET", "HEAD", "OPTIONS", "TRACE")
        return kind, detail, build, risky

    def _header(self, route: Route, index: int, token: int) -> tuple[str, str, Any, bool]:
        rng = self.rng
        kind = rng.choice(
            [
                "foreign_host",
                "foreign_host",
                "foreign_origin",
                "foreign_origin",
                "cross_site_fetch",
                "content_type",
                "content_type",
                "no_content_type",
                "latin1_bytes",
                "auth_odd",
                "many_headers",
                "proxy_headers",
                "odd_encoding",
            ]
        )
        added: list[tuple[str, bytes]] = []
        content_type: bytes | None = None
        drop_auth = False
        if kind == "foreign_host":
            added.append(("Host", rng.choice(FOREIGN_HOSTS).encode()))
            if rng.random() < 0.5:
                added.append(("Origin", rng.choice(FOREIGN_ORIGINS).encode()))
        elif kind == "foreign_origin":
            added.append(("Origin", rng.choice(FOREIGN_ORIGINS).encode()))
            if rng.random() < 0.3:
                added.append(("Referer", b"http://evil.example/page"))
        elif kind == "cross_site_fetch":
            added.append(("Sec-Fetch-Site", rng.choice([b"cross-site", b"same-site"])))
            added.append(("Sec-Fetch-Mode", rng.choice([b"cors", b"no-cors", b"navigate"])))
        elif kind == "content_type":
            content_type = rng.choice(ODD_CONTENT_TYPES).encode()
        elif kind == "latin1_bytes":
            added.append(
                (
                    rng.choice(
                        [
                            "X-Probe",
                            "User-Agent",
                            "X-Sandbox-Admin-Token",
                            "Accept-Language",
                            "Cookie",
                        ]
                    ),
                    rng.choice([b"\xff\xfe", b"caf\xe9", b"\xed\xbf\xbf", b"\xc3\xa9\xe2\x80\xae"]),
                )
            )
        elif kind == "auth_odd":
            drop_auth = True
            added.append(
                (
                    "Authorization",
                    rng.choice(
                        [
                            b"Bearer",
                            b"Bearer ,",
                            b"bearer  a  b",
                            b"Basic Zm9vOmJhcg==",
                            b"Bearer " + b"A" * 8000,
                            b"Bearer \xed\xbf\xbf",
                            b"Bearer act.\xff",
                        ]
                    ),
                )
            )
        elif kind == "many_headers":
            added += [(f"X-Pad-{i}", b"v" * 40) for i in range(rng.choice([50, 150]))]
        elif kind == "proxy_headers":
            added += [
                ("X-Forwarded-Host", b"evil.example"),
                ("X-Forwarded-For", b"8.8.8.8"),
                ("Forwarded", b"for=8.8.8.8;host=evil.example;proto=https"),
                ("X-Forwarded-Proto", b"https"),
            ]
        elif kind == "odd_encoding":
            added.append(
                rng.choice(
                    [
                        ("Content-Encoding", b"gzip"),
                        ("Expect", b"100-continue"),
                        ("Accept-Encoding", b"\xff;q=2"),
                        ("Range", b"bytes=0-1"),
                        ("Upgrade", b"websocket"),
                    ]
                )
            )
        headers = auth_headers(route, token)
        detail = f"{[(k, v[:40]) for k, v in added]} {content_type!r:.40}"
        # The request is the route's valid one with odd headers: a sandbox may rightly accept it.
        risky = route.writes

        def build(fx: Fixture) -> Wire:
            content = base_body(route, index, fx)
            if kind == "no_content_type":
                extra: list[tuple[str, bytes]] = []
            elif content is not None or content_type is not None:
                extra = [("Content-Type", content_type or route_content_type(route))]
            else:
                extra = []
            auth = [] if drop_auth else headers(fx)
            if route.body == "upload":  # a well-formed chunk would be accepted: keep it short
                content = b"\0" * 10
                extra.append(("Content-Range", f"bytes 0-9/{fx.upload_size}".encode()))
            return HttpWire(route.method, target(route, fx), (*auth, *extra, *added), content)

        return kind, detail, build, risky

    def _raw(self, route: Route, index: int, token: int) -> tuple[str, str, Any, bool]:
        rng = self.rng
        kind = rng.choice(
            [
                "raw_request_line",
                "raw_request_line",
                "raw_header_bytes",
                "raw_header_bytes",
                "raw_framing",
                "raw_framing",
                "raw_cut",
                "raw_no_host",
            ]
        )
        variant = rng.randrange(12)
        headers = auth_headers(route, token)
        detail = f"{kind} {variant}"

        def build(fx: Fixture) -> Wire:
            path = target(route, fx).encode()
            # On a route that writes, the body is spoiled too, so a request whose bytes the
            # server does take is still one it must refuse.
            body = (spoiled_body if route.writes else base_body)(route, index, fx) or b""
            auth = headers(fx)
            ctype = [("Content-Type", route_content_type(route))] if body else []
            if kind == "raw_request_line":
                line = [
                    route.method.encode() + b" " + path + b"\xff\xfe HTTP/1.1",
                    route.method.encode()
                    + b" "
                    + path
                    + (b"&" if b"?" in path else b"?")
                    + b"x=\xed\xbf\xbf HTTP/1.1",
                    route.method.encode() + b" /a b" + path + b" HTTP/1.1",
                    route.method.encode() + b" http://evil.example" + path + b" HTTP/1.1",
                    b"OPTIONS * HTTP/1.1",
                    route.method.encode() + b" " + path + b" HTTP/9.9",
                    route.method.lower().encode() + b" " + path + b" HTTP/1.1",
                    b"FOO " + path + b" HTTP/1.1",
                    route.method.encode() + b" " + path + b"/" + b"a" * 70_000 + b" HTTP/1.1",
                    route.method.encode() + b" " + path + b"\x00 HTTP/1.1",
                    b"PRI * HTTP/2.0\r\n\r\nSM",
                    route.method.encode() + b" " + path + b"%ED%BF%BF HTTP/1.0",
                ][variant]
                head = [
                    ("Host", fx.host.encode()),
                    *auth,
                    *ctype,
                    ("Content-Length", str(len(body)).encode()),
                ]
                return RawWire(request_head(line, head) + body)
            if kind == "raw_header_bytes":
                bad = [
                    ("X-Probe", b"a\x00b"),
                    ("X-Probe", b"a\x01b"),
                    ("X-Probe", b"a\rb"),
                    ("X-Probe", b"a\r\n b"),
                    ("X Probe", b"v"),
                    ("X-Probe:", b"v"),
                    ("Host", b"\xff\xfe"),
                    ("Host", fx.host.encode() + b"\x00evil"),
                    ("Authorization", b"Bearer \x00" + (auth[0][1][7:] if auth else b"x")),
                    ("Content-Type", b"application/json\x00"),
                    ("\xe9", b"v"),
                    ("X-" + "a" * 20_000, b"v"),
                ][variant]
                head = [
                    ("Host", fx.host.encode()),
                    *auth,
                    *ctype,
                    bad,
                    ("Content-Length", str(len(body)).encode()),
                ]
                if bad[0] == "Host":
                    head = head[1:]
                return RawWire(
                    request_head(route.method.encode() + b" " + path + b" HTTP/1.1", head) + body
                )
            if kind == "raw_framing":
                framing = [
                    [
                        ("Content-Length", str(len(body)).encode()),
                        ("Transfer-Encoding", b"chunked"),
                    ],
                    [("Content-Length", b"5"), ("Content-Length", str(len(body)).encode())],
                    [("Content-Length", b"-1")],
                    [("Content-Length", b"+" + str(len(body)).encode())],
                    [("Content-Length", b"99999999999999999999999")],
                    [("Transfer-Encoding", b"chunked")],  # with a bad chunk size below
                    [("Transfer-Encoding", b"chunked")],  # a huge chunk size
                    [("Transfer-Encoding", b"chunked, gzip")],
                    [("Transfer-Encoding", b"xchunked")],
                    [("Content-Length", b"0x10")],
                    [("Content-Length", str(len(body)).encode() + b", 1")],
                    [("Content-Length", b"\xd9\xa3")],
                ][variant]
                payload = body
                if variant == 0:  # chunked wins over Content-Length: a body that is no chunk
                    payload = body + b"\r\n0\r\n\r\n"
                elif variant == 5:
                    payload = b"zz\r\n" + body + b"\r\n0\r\n\r\n"
                elif variant == 6:
                    payload = b"FFFFFFFFFFFFFFFFFFFF\r\n" + body + b"\r\n0\r\n\r\n"
                head = [("Host", fx.host.encode()), *auth, *ctype, *framing]
                cut = variant in (4, 6)  # the server rightly waits for the bytes announced
                return RawWire(
                    request_head(route.method.encode() + b" " + path + b" HTTP/1.1", head)
                    + payload,
                    cut=cut,
                )
            if kind == "raw_cut":
                whole = body or b'{"x": 1}'
                keep = whole[: max(0, len(whole) // 2)]
                head = [
                    ("Host", fx.host.encode()),
                    *auth,
                    *ctype,
                    ("Content-Length", str(len(whole) + 100).encode()),
                ]
                if route.body == "upload":
                    head = [
                        ("Host", fx.host.encode()),
                        ("Content-Type", b"video/mp4"),
                        ("Content-Range", f"bytes 0-{5 * MiB - 1}/{fx.upload_size}".encode()),
                        ("Content-Length", str(5 * MiB).encode()),
                    ]
                    keep = b"\0" * 4096
                return RawWire(
                    request_head(route.method.encode() + b" " + path + b" HTTP/1.1", head) + keep,
                    cut=True,
                )
            # raw_no_host: HTTP/1.1 without Host, or HTTP/1.0
            version = b"HTTP/1.1" if variant % 2 else b"HTTP/1.0"
            head = [*auth, *ctype, ("Content-Length", str(len(body)).encode())]
            return RawWire(
                request_head(route.method.encode() + b" " + path + b" " + version, head) + body
            )

        return kind, detail, build, False
