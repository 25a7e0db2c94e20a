"""What a hostile probe sends: well-framed requests (`HttpWire`, written out by `http_bytes`)
or raw bytes (`RawWire`), and JSON trees with placeholders (`Fx`) for values that only exist at
run time (tokens, ids, the port), filled in from a `Fixture` when the probe is built."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import quote


class Fx(NamedTuple):
    """A fixture value filled in at send time (a token, an id, the port...)."""

    name: str
    n: int = 0  # which one, for tokens and usernames


class Raw(NamedTuple):
    """JSON text inserted verbatim (numbers Python cannot print, nesting it cannot recurse)."""

    text: str


@dataclass
class Fixture:
    """The run-time values probes refer to (see `Fx`)."""

    host: str  # "127.0.0.1:PORT"
    client_key: str
    client_secret: str
    other_client_key: str
    usernames: list[str]
    tokens: list[str]
    open_id: str
    uid: str
    publish_id: str
    upload_id: str
    upload_token: str
    upload_size: int
    redirect_uri: str
    media_url: str
    scenario_file: str
    fault_id: str = "f-no-such-rule"

    def value(self, fx: Fx) -> str:
        if fx.name == "token":
            return self.tokens[fx.n % len(self.tokens)]
        if fx.name == "username":
            return self.usernames[fx.n % len(self.usernames)]
        return str(getattr(self, fx.name))


@dataclass(frozen=True)
class HttpWire:
    """A well-framed request (see `http_bytes`). `target` is the path and query as sent."""

    method: str
    target: str
    headers: tuple[tuple[str, bytes], ...]
    body: bytes | None = None
    chunked: bool = False  # send the body as a stream: Transfer-Encoding: chunked


@dataclass(frozen=True)
class RawWire:
    """Bytes written to a socket as they are; `cut`: close before the request is complete."""

    data: bytes
    cut: bool = False


Wire = HttpWire | RawWire


# -- JSON trees with placeholders ----------------------------------------------------------


def dump(tree: Any, fx: Fixture, ascii_only: bool = True) -> str:
    """JSON text for `tree`, with `Fx` filled in and `Raw` inserted as is. Lone surrogates come
    out as `\\udXXX` escapes (`ascii_only`) or as themselves (encode with surrogatepass)."""
    if isinstance(tree, Raw):
        return tree.text
    if isinstance(tree, Fx):
        return json.dumps(fx.value(tree), ensure_ascii=ascii_only)
    if isinstance(tree, dict):
        items = (f"{dump(k, fx, ascii_only)}:{dump(v, fx, ascii_only)}" for k, v in tree.items())
        return "{" + ",".join(items) + "}"
    if isinstance(tree, list):
        return "[" + ",".join(dump(v, fx, ascii_only) for v in tree) + "]"
    return json.dumps(tree, ensure_ascii=ascii_only)


def json_bytes(tree: Any, fx: Fixture, ascii_only: bool = True) -> bytes:
    return dump(tree, fx, ascii_only).encode("utf-8", "surrogatepass")


Path_ = tuple[Any, ...]


def leaf_paths(tree: Any, at: Path_ = ()) -> list[Path_]:
    """Paths to every scalar (and placeholder) in a JSON tree."""
    if isinstance(tree, dict):
        return [p for k, v in tree.items() for p in leaf_paths(v, (*at, k))]
    if isinstance(tree, list):
        return [p for i, v in enumerate(tree) for p in leaf_paths(v, (*at, i))]
    return [at]


def object_paths(tree: Any, at: Path_ = ()) -> list[Path_]:
    """Paths to every object in a JSON tree (where a field can be added)."""
    found = [at] if isinstance(tree, dict) else []
    children = (
        tree.items()
        if isinstance(tree, dict)
        else enumerate(tree)
        if isinstance(tree, list)
        else ()
    )
    for k, v in children:
        found += object_paths(v, (*at, k))
    return found


def get(tree: Any, path: Path_) -> Any:
    for step in path:
        tree = tree[step]
    return tree


def replaced(tree: Any, path: Path_, value: Any) -> Any:
    """A copy of `tree` with the node at `path` replaced (copy on the way down only)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(tree, dict):
        return {k: replaced(v, rest, value) if k == head else v for k, v in tree.items()}
    return [replaced(v, rest, value) if i == head else v for i, v in enumerate(tree)]


def renamed_key(tree: Any, path: Path_, new_key: str) -> Any:
    """A copy of `tree` where the key at the end of `path` is called `new_key`."""
    parent = get(tree, path[:-1])
    new_parent = {(new_key if k == path[-1] else k): v for k, v in parent.items()}
    return replaced(tree, path[:-1], new_parent)


def without(tree: Any, path: Path_) -> Any:
    parent = get(tree, path[:-1])
    new_parent = {k: v for k, v in parent.items() if k != path[-1]}
    return replaced(tree, path[:-1], new_parent)


Pairs = list[tuple[str, Any]]  # query or form pairs: str values are sent as given (encoded)


def fill(value: Any, fx: Fixture) -> str:
    """A query or form value: placeholders are filled in and percent-encoded."""
    return quote(fx.value(value), safe="") if isinstance(value, Fx) else str(value)


def encode_pairs(pairs: Pairs, fx: Fixture) -> str:
    return "&".join(f"{k}={fill(v, fx)}" if v is not None else k for k, v in pairs)


def http_bytes(wire: HttpWire, host: str) -> bytes:
    """The bytes of an HTTP/1.1 request as a plain client sends them, on a connection of its
    own (`Connection: close`): Host unless the probe sets one, framing for the body."""
    headers = list(wire.headers)
    if not any(k.lower() == "host" for k, _ in headers):
        headers.insert(0, ("Host", host.encode()))
    headers += [("User-Agent", b"robustness-bench"), ("Accept", b"*/*"), ("Connection", b"close")]
    body = wire.body
    payload = b""
    if body is not None and wire.chunked:
        headers.append(("Transfer-Encoding", b"chunked"))
        payload = (f"{len(body):x}\r\n".encode() + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
    elif body is not None or wire.method in ("POST", "PUT", "PATCH"):
        headers.append(("Content-Length", str(len(body or b"")).encode()))
        payload = body or b""
    return request_head(f"{wire.method} {wire.target} HTTP/1.1".encode(), headers) + payload


def request_head(line: bytes, headers: list[tuple[str, bytes]]) -> bytes:
    lines = [line] + [k.encode("latin-1") + b": " + v for k, v in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def raw_http(
    fx: Fixture,
    method: str,
    target_text: str,
    headers: list[tuple[str, bytes]],
    body: bytes,
    content_length: int,
    cut: bool,
) -> RawWire:
    head = [("Host", fx.host.encode()), *headers, ("Content-Length", str(content_length).encode())]
    return RawWire(request_head(f"{method} {target_text} HTTP/1.1".encode(), head) + body, cut=cut)
