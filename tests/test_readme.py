"""README.md: its serve flags table is the parser's, every doc is linked, its two set-up commands
are there, and its runnable commands work against a sandbox this test starts on 127.0.0.1.

A fenced block runs when an HTML comment marks it (GitHub does not show it):
`<!-- readme-test: run -->`, optionally `; expect: TEXT` (TEXT must be in its output). The
block marked `consent-listener` is the consent flow's callback, driven through the consent page.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from mock_server import Sandbox
from mock_server.cli import parser as sandbox_parser
from mock_server.sandbox import RunningServer
from tests.forms import form_token
from tests.polling import eventually

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")
DOCS_BASE = "http://127.0.0.1:8080"
MEDIA_DIR = "/tmp/tiktok-media"
BLOCK = re.compile(r"<!-- readme-test: ([^>]*?) -->\n```(\w+)\n(.*?)```", re.S)
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Block:
    marker: str
    language: str
    text: str

    @property
    def expect(self) -> str | None:
        _, _, expected = self.marker.partition("; expect: ")
        return expected or None


def marked_blocks(kind: str) -> list[Block]:
    found = [Block(*match.groups()) for match in BLOCK.finditer(README)]
    return [block for block in found if block.marker.split(";")[0] == kind]


def section(title: str) -> str:
    start = README.index(f"\n{title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


# -- what can be read off the text ---------------------------------------------------------


def serve_parser() -> argparse.ArgumentParser:
    sub = next(a for a in sandbox_parser()._actions if isinstance(a, argparse._SubParsersAction))
    serve: argparse.ArgumentParser = sub.choices["serve"]
    return serve


def test_the_serve_flags_table_is_the_parsers() -> None:
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in section("### `tiktok-sandbox serve` flags").splitlines()
        if line.startswith("| `--")
    ]
    table = {row[0].strip("`"): row for row in rows}
    actions = [a for a in serve_parser()._actions if a.option_strings != ["-h", "--help"]]
    assert sorted(table) == sorted(a.option_strings[0] for a in actions)
    for action in actions:
        _, default, meaning = table[action.option_strings[0]]
        if isinstance(action, argparse._StoreTrueAction):
            assert default == "off", action.dest
        elif action.default not in (None, []):
            assert f"`{action.default}`" in default, action.dest
        for choice in action.choices or ():
            assert f"`{choice}`" in meaning, (action.dest, choice)


def test_every_doc_is_linked() -> None:
    for doc in sorted((ROOT / "docs").glob("*.md")):
        assert f"](docs/{doc.name})" in README, doc.name


def test_the_two_set_up_commands() -> None:
    quick = section("## Quick start")
    assert "```sh\n./scripts/serve\n```" in quick
    assert "```sh\n./scripts/test\n```" in quick
    assert (
        "Sets up and runs the sandbox" in quick and "Sets up and runs the whole test suite" in quick
    )


def test_every_command_of_tiktok_sandbox_is_in_its_table() -> None:
    sub = next(a for a in sandbox_parser()._actions if isinstance(a, argparse._SubParsersAction))
    table = section("## The `tiktok-sandbox` command")
    for name in sub.choices:
        assert f"| `tiktok-sandbox {name}" in table, name


# -- what can be run -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with Sandbox("default") as sandbox, sandbox.serve() as running:
        yield running


def localised(text: str, server: RunningServer, media: Path) -> str:
    """The block as it runs here: the test's sandbox and directories, this venv's commands."""
    text = text.replace(DOCS_BASE, server.url).replace(MEDIA_DIR, str(media))
    return text.replace(".venv/bin/", f"{BIN}/")


def run_block(block: Block, server: RunningServer, media: Path) -> str:
    code = localised(block.text, server, media)
    if block.language == "python":
        argv = [sys.executable, "-c", code]
    else:
        argv = ["bash", "-euo", "pipefail", "-c", code]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{block.text}\n---\n{output}"
    assert "Traceback" not in output, output
    return output


@pytest.mark.server
def test_the_runnable_blocks_run(server: RunningServer, tmp_path: Path) -> None:
    blocks = marked_blocks("run")
    assert len(blocks) >= 4
    for block in blocks:  # in order, as a reader would: the video, then the curl flow...
        output = run_block(block, server, tmp_path)
        if block.expect:
            assert block.expect in output, f"{block.text}\n---\n{output}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def arrive(location: str, landed: list[httpx.Response]) -> bool:
    try:
        landed.append(httpx.get(location))
    except httpx.ConnectError:
        return False
    return True


@pytest.mark.server
def test_the_consent_flow_lands_on_the_listener(server: RunningServer, tmp_path: Path) -> None:
    (listener,) = marked_blocks("consent-listener")
    port = free_port()
    callback = f"http://127.0.0.1:{port}/callback/"
    # The README's app registers port 3000; here the listener takes a free port, so register it.
    answer = httpx.patch(
        f"{server.url}/_sandbox/apps/awacmescheduler01",
        json={"redirect_uris": [callback]},
    )
    assert answer.status_code == 200, answer.text
    code = localised(listener.text, server, tmp_path).replace('", 3000)', f'", {port})')
    with subprocess.Popen(
        ["bash", "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as listening:
        try:
            authorize = re.search(r"`(http://127\.0\.0\.1:8080/v2/auth/authorize/\?[^`]+)`", README)
            assert authorize is not None
            url = authorize.group(1).replace(DOCS_BASE, server.url)
            url = url.replace("http://127.0.0.1:3000/callback/", callback)
            page = httpx.get(url)
            assert page.status_code == 200, page.text
            params = dict(parse_qsl(urlsplit(url).query))
            form = params | {"creator": "ana_makes", "decision": "approve"}
            form |= {"csrf_token": form_token(page.text)}
            consent = httpx.post(
                f"{server.url}/v2/auth/authorize/",
                data={**form, "granted": params["scope"].split(",")},
            )
            assert consent.status_code in (302, 303), consent.text
            landed: list[httpx.Response] = []  # the browser follows once the listener is up
            assert eventually(lambda: arrive(consent.headers["location"], landed), timeout=30)
            assert landed[0].status_code == 200 and landed[0].text == "Back to the terminal."
            out, err = listening.communicate(timeout=30)
        finally:
            if listening.poll() is None:
                listening.kill()
    assert listening.returncode == 0, err
    # What the listener printed, pasted as it is (the README's instructions): name=value lines.
    query = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert query["state"] == "xyz" and query["code"]
    exchange = re.search(
        r"```sh\n(curl -s http://127\.0\.0\.1:8080/v2/oauth/token/.*?)```", README, re.S
    )
    assert exchange is not None
    command = localised(exchange.group(1), server, tmp_path)
    command = command.replace("http://127.0.0.1:3000/callback/", callback)
    command = command.replace("THE_CODE", query["code"])
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
    assert '"access_token"' in done.stdout, done.stdout + done.stderr
