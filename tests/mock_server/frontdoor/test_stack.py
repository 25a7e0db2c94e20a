"""The served stack: httptools and uvloop when they import, h11 and asyncio when they do not,
and exactly what `http=`/`loop=` (`serve --http/--loop`) name."""

from __future__ import annotations

import sys

import httpx
import pytest

from mock_server import Sandbox
from mock_server.frontdoor import Stack, StackUnavailable, choose
from mock_server.frontdoor.stack import available


def test_auto_takes_the_compiled_stack_where_it_imports() -> None:
    stack = choose()
    assert stack.http == ("httptools" if available("httptools") else "h11")
    assert stack.loop == ("uvloop" if available("uvloop") else "asyncio")


def test_auto_falls_back_cleanly_when_they_are_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httptools", None)  # `import httptools` now fails
    monkeypatch.setitem(sys.modules, "uvloop", None)
    assert choose() == Stack(http="h11", loop="asyncio")
    assert choose().config() == {"http": "h11", "loop": "asyncio"}


def test_a_missing_implementation_asked_for_by_name_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "httptools", None)
    with pytest.raises(StackUnavailable, match=r"--http httptools: httptools is not installed"):
        choose(http="httptools")
    with pytest.raises(StackUnavailable, match="expected one of"):
        choose(loop="trio")


def test_sandbox_serve_names_the_argument_it_was_given() -> None:
    with Sandbox("default", seed=2) as sandbox:
        refused = r"^http='h2': expected one of auto, "
        with pytest.raises(StackUnavailable, match=refused), sandbox.serve(http="h2"):
            pass
        refused = r"^loop='trio': expected one of "
        with pytest.raises(StackUnavailable, match=refused), sandbox.serve(loop="trio"):
            pass


def test_the_pure_python_stack_is_always_there() -> None:
    assert choose("h11", "asyncio").describe() == "h11 + asyncio"


@pytest.mark.server
@pytest.mark.parametrize("http", ["h11", "auto"])
def test_a_served_sandbox_answers_the_same_on_either_parser(http: str) -> None:
    with Sandbox("default", seed=2) as sandbox, sandbox.serve(http=http) as running:
        health = httpx.get(f"{running.url}/_sandbox/health")
        refused = httpx.post(f"{running.url}/v2/post/publish/creator_info/query/")
    assert health.status_code == 200
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "access_token_invalid"


@pytest.mark.server
def test_served_without_the_compiled_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httptools", None)
    monkeypatch.setitem(sys.modules, "uvloop", None)
    with Sandbox("default", seed=2) as sandbox, sandbox.serve() as running:
        assert httpx.get(f"{running.url}/_sandbox/health").status_code == 200
