"""`tiktok-post` on ordinary mistakes: one line on stderr, an exit status per kind of problem
(client/exits.py), never a traceback, and nothing sent when a local check can tell."""

from __future__ import annotations

import argparse
import io
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from client import JsonFileTokenStore
from client.cli import build_parser, main
from client.exits import Exit
from conformance.media import make_garbage
from mock_server import Sandbox
from mock_server.sandbox import RunningServer
from tests.client.conftest import APP, SECRET, VirtualTime, issue_token

ENV_VARS = (
    "TIKTOK_BASE_URL",
    "TIKTOK_AUTH_URL",
    "TIKTOK_CLIENT_KEY",
    "TIKTOK_CLIENT_SECRET",
    "TIKTOK_REDIRECT_URI",
    "TIKTOK_TOKEN_FILE",
)
APP_FLAGS = ("--client-key", APP, "--client-secret", SECRET)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Outcome:
    def __init__(self, code: int, out: str, err: str, sleeps: list[float]) -> None:
        self.code, self.out, self.err, self.sleeps = code, out, err, sleeps

    @property
    def line(self) -> str:
        """The one line a mistake prints, checked to be one and free of tracebacks."""
        assert "Traceback" not in self.err + self.out
        lines = self.err.splitlines()
        assert len(lines) == 1, self.err
        assert lines[0].startswith("tiktok-post")
        return lines[0]


def tiktok_post(
    *argv: str, base_url: str = "http://127.0.0.1:9", token_file: Path, **kwargs: Any
) -> Outcome:
    out, err = io.StringIO(), kwargs.pop("stderr", None) or io.StringIO()
    sleeps: list[float] = []
    common = ["--base-url", base_url, "--token-file", str(token_file)]
    code = main(
        [*common, *argv],
        sleep=kwargs.pop("sleep", sleeps.append),
        stdout=out,
        stderr=err,
        stdin=io.StringIO(),
        open_browser=lambda url: True,
        **kwargs,
    )
    return Outcome(code, out.getvalue(), err.getvalue(), sleeps)


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token.json"
    path.write_text(json.dumps({"access_token": "act.x", "expires_at": 4e9}))
    return path


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- the server ------------------------------------------------------------------------------


def test_an_unreachable_server_is_one_line_at_once(closed_port: int, token_file: Path) -> None:
    run = tiktok_post(
        "creator-info", base_url=f"http://127.0.0.1:{closed_port}", token_file=token_file
    )
    assert run.code == Exit.UNREACHABLE == 5
    assert f"cannot reach 127.0.0.1:{closed_port} (connection refused)" in run.line
    assert "tiktok-sandbox serve" in run.line and "TIKTOK_BASE_URL" in run.line
    assert run.sleeps == []  # no silent retries: nothing listens there


def test_the_console_script_prints_no_traceback(closed_port: int, token_file: Path) -> None:
    script = Path(sys.executable).with_name("tiktok-post")
    argv = ["--base-url", f"http://127.0.0.1:{closed_port}", "--token-file", str(token_file)]
    done = subprocess.run(
        [str(script), *argv, "status", "v_pub_file~v2-1.1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 5
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "connection refused" in done.stderr


# -- the token file --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    ["not json", "[1, 2]", '{"expires_at": 1}', '{"access_token": "a", "expires_at": "soon"}'],
    ids=["garbage", "a-list", "no-access-token", "bad-expiry"],
)
def test_a_corrupt_token_file_says_which_and_to_log_in(tmp_path: Path, content: str) -> None:
    path = tmp_path / "token.json"
    path.write_text(content)
    run = tiktok_post("creator-info", token_file=path)
    assert run.code == Exit.LOGIN == 4
    assert str(path) in run.line and "run `tiktok-post login`" in run.line
    assert run.sleeps == []


def test_a_token_file_that_is_a_directory(tmp_path: Path) -> None:
    run = tiktok_post("status", "v_pub_file~v2-1.1", token_file=tmp_path)
    assert run.code == Exit.LOGIN
    assert f"cannot read the token file {tmp_path}" in run.line


def test_no_token_file_means_log_in_first(tmp_path: Path) -> None:
    run = tiktok_post("post", "https://media.example.com/a.mp4", token_file=tmp_path / "none")
    assert run.code == Exit.LOGIN
    assert "not logged in" in run.line and "run `tiktok-post login` first" in run.line


# -- the video -------------------------------------------------------------------------------


def test_a_missing_video_is_reported_before_anything_else(tmp_path: Path) -> None:
    # No token and an unreachable server either: the file is the first thing checked.
    run = tiktok_post("post", str(tmp_path / "clip.mp4"), token_file=tmp_path / "none")
    assert run.code == Exit.MEDIA == 3
    assert f"no such file: {tmp_path / 'clip.mp4'}" in run.line


def test_a_directory_or_a_path_through_a_file(tmp_path: Path, token_file: Path) -> None:
    assert "is a directory" in tiktok_post("post", str(tmp_path), token_file=token_file).line
    (tmp_path / "notes.txt").write_text("x")
    run = tiktok_post("post", str(tmp_path / "notes.txt" / "clip.mp4"), token_file=token_file)
    assert run.code == Exit.MEDIA and "cannot read" in run.line


@pytest.mark.parametrize("size", [0, 4096])
def test_a_file_that_is_not_a_video_is_refused_locally(
    tmp_path: Path, token_file: Path, size: int
) -> None:
    path = make_garbage(tmp_path / "clip.mp4", size)
    run = tiktok_post("post", str(path), "--privacy", "SELF_ONLY", token_file=token_file)
    assert run.code == Exit.MEDIA
    assert run.line.startswith("tiktok-post: refused:") and "[ref 9, 13" in run.line


def test_a_long_title_is_refused_before_any_request(video: Path, token_file: Path) -> None:
    run = tiktok_post("post", str(video), "--title", "x" * 2201, token_file=token_file)
    assert run.code == Exit.USAGE
    assert "2201 UTF-16 code units" in run.line


# -- flags -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        ([], "the following arguments are required: COMMAND; see `tiktok-post --help`"),
        (["post"], "required: FILE|URL; see `tiktok-post post --help`"),
        (["post", "a.mp4", "--privacy", "EVERYONE"], "argument --privacy: invalid choice"),
        (["status", "x", "--timeout", "-3"], "-3 is not a positive number of seconds"),
        (["login", "--timeout", "soon"], "'soon' is not a number of seconds"),
        (["post", "a.mp4", "--bogus"], "unrecognized arguments: --bogus"),
        (["publish"], "invalid choice: 'publish'"),
        # A base URL that cannot be one: said at once, never retried as an unreachable server.
        (["--base-url", "127.0.0.1:8080", "creator-info"], "is not an http:// or https:// URL"),
        (["--base-url", "ftp://x", "creator-info"], "is not an http:// or https:// URL"),
        (["--base-url", "http://[::1", "creator-info"], "is not a URL (Invalid port"),
        (["--auth-url", "localhost", "login"], "argument --auth-url: 'localhost' is not"),
    ],
)
def test_wrong_flags_are_one_line(tmp_path: Path, argv: list[str], said: str) -> None:
    run = tiktok_post(*argv, token_file=tmp_path / "t.json")
    assert run.code == Exit.USAGE == 2
    assert said in run.line


def test_login_and_logout_need_the_apps_credentials(tmp_path: Path, token_file: Path) -> None:
    for command in ("login", "logout"):
        run = tiktok_post(command, token_file=token_file)
        assert run.code == Exit.USAGE
        assert "--client-key and --client-secret" in run.line and "TIKTOK_CLIENT_KEY" in run.line


def test_login_with_a_redirect_uri_that_is_not_loopback(tmp_path: Path) -> None:
    run = tiktok_post(
        *APP_FLAGS,
        "--redirect-uri",
        "https://app.example.com/callback",
        "login",
        token_file=tmp_path / "t.json",
    )
    assert run.code == Exit.USAGE and "--redirect-uri:" in run.line


def test_login_that_gets_no_redirect_times_out(tmp_path: Path) -> None:
    run = tiktok_post(
        *APP_FLAGS,
        "--redirect-uri",
        "http://127.0.0.1:*/callback/",
        "login",
        "--no-browser",
        "--timeout",
        "0.05",
        token_file=tmp_path / "t.json",
    )
    assert run.code == Exit.TIMEOUT == 6
    assert "no redirect within 0.05 s" in run.err.splitlines()[-1]
    assert "Traceback" not in run.err


# -- help and version ------------------------------------------------------------------------


def test_version(tmp_path: Path) -> None:
    run = tiktok_post("--version", token_file=tmp_path / "t.json")
    assert run.code == 0
    assert run.out.startswith("tiktok-post ") and run.out.split()[1][0].isdigit()


def test_help_has_examples_exit_statuses_and_every_environment_variable(tmp_path: Path) -> None:
    run = tiktok_post("--help", token_file=tmp_path / "t.json")
    assert run.code == 0
    assert "examples, against the sandbox" in run.out
    assert "tiktok-post post clip.mp4 --privacy SELF_ONLY" in run.out
    words = " ".join(run.out.split())
    assert "5 the server cannot be reached" in words
    for variable in ENV_VARS:
        assert f"env {variable}" in words
    post_help = tiktok_post("post", "--help", token_file=tmp_path / "t.json").out
    assert "--inbox" in post_help and "examples:" in post_help


def test_every_flag_and_argument_has_help() -> None:
    parsers = [build_parser()]
    missing = []
    while parsers:
        parser = parsers.pop()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(action.choices.values())
            elif not action.help:
                missing.append(f"{parser.prog} {action.dest}")
    assert missing == []


# -- against a real server -------------------------------------------------------------------


@pytest.fixture
def server(sandbox: Sandbox) -> Iterator[RunningServer]:
    with sandbox.serve() as running:
        yield running


@pytest.fixture
def ana(sandbox: Sandbox, tmp_path: Path) -> Path:
    """A token file holding ana_makes's tokens."""
    path = tmp_path / "ana.json"
    JsonFileTokenStore(path).save(issue_token(sandbox, "ana_makes"))
    return path


@pytest.mark.server
def test_a_retried_request_is_said_not_silent(
    sandbox: Sandbox, server: RunningServer, vtime: VirtualTime, ana: Path
) -> None:
    sandbox.add_fault(endpoint="creator_info", status=503, times=2)
    run = tiktok_post("creator-info", base_url=server.url, token_file=ana, sleep=vtime.sleep)
    assert run.code == 0, run.err
    retries = run.err.splitlines()
    assert len(retries) == 2 and "Traceback" not in run.err
    assert "127.0.0.1 answered internal_error" in retries[0]
    assert retries[0].endswith("trying again in 1 s (retry 1)")
    assert retries[1].endswith("trying again in 2 s (retry 2)")
    assert "Creator: Ana Makes Things (@ana_makes)" in run.out


@pytest.mark.server
def test_an_expired_login_says_to_log_in_again(
    sandbox: Sandbox, server: RunningServer, vtime: VirtualTime, ana: Path
) -> None:
    httpx.post(
        f"{server.url}/_sandbox/clock", json={"advance_seconds": 400 * 86400}
    ).raise_for_status()  # past the refresh token's 365 days
    run = tiktok_post(
        *APP_FLAGS,
        "creator-info",
        base_url=server.url,
        token_file=ana,
        sleep=vtime.sleep,
    )
    assert run.code == Exit.LOGIN
    assert "run `tiktok-post login` again" in run.line


def draft(video: Path) -> tuple[str, ...]:
    """Upload `video` to the inbox without waiting: the upload alone, with its progress."""
    return ("post", str(video), "--inbox", "--no-wait")


@pytest.mark.server
def test_progress_off_a_terminal_is_plain_lines_per_tenth(
    sandbox: Sandbox, server: RunningServer, vtime: VirtualTime, ana: Path, big_video: Path
) -> None:
    run = tiktok_post(*draft(big_video), base_url=server.url, token_file=ana, sleep=vtime.sleep)
    assert run.code == 0, run.err
    assert "\r" not in run.err
    lines = run.err.splitlines()
    percents = [int(line.split(": ")[1].split("%")[0]) for line in lines[:-1]]
    assert percents == list(range(0, 100, 10))  # every tenth, advancing inside the 5 MiB chunks
    assert lines[1].startswith("uploading big.mp4: 10% (1.") and lines[1].endswith("of 15.0 MiB)")
    assert lines[-1] == "uploaded big.mp4: 15.0 MiB"


@pytest.mark.server
def test_progress_on_a_terminal_is_a_tqdm_bar(
    sandbox: Sandbox, server: RunningServer, vtime: VirtualTime, ana: Path, video: Path
) -> None:
    run = tiktok_post(
        *draft(video), base_url=server.url, token_file=ana, sleep=vtime.sleep, stderr=Terminal()
    )
    assert run.code == 0, run.err
    final = run.err.split("\r")[-1]
    size = video.stat().st_size / 1024
    assert final.startswith("uploading clip.mp4: 100%")
    assert f"{size:.1f}k/{size:.1f}k" in final  # a small file in kB, never 0.0/0.0 MiB
