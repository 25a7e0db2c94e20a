"""`tiktok-post` against a real sandbox server on a loopback port."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from client import JsonFileTokenStore
from client.cli import main
from mock_server import Sandbox
from mock_server.sandbox import RunningServer
from tests.client.conftest import APP, SECRET, VirtualTime, issue_token
from tests.forms import form_token

pytestmark = pytest.mark.server


@pytest.fixture
def server(sandbox: Sandbox) -> Iterator[RunningServer]:
    with sandbox.serve() as running:
        yield running


class Run:
    def __init__(self, server: RunningServer, vtime: VirtualTime, token_file: Path) -> None:
        self.server, self.vtime, self.token_file = server, vtime, token_file
        self.out, self.err = io.StringIO(), io.StringIO()

    def __call__(self, *argv: str, key: str = APP, secret: str = SECRET, **kwargs: Any) -> int:
        self.out, self.err = io.StringIO(), io.StringIO()
        common = ["--base-url", self.server.url, "--token-file", str(self.token_file)]
        common += ["--client-key", key, "--client-secret", secret]
        return main(
            [*common, *argv],
            sleep=self.vtime.sleep,
            now=self.vtime.now,
            stdout=self.out,
            stderr=self.err,
            stdin=kwargs.pop("stdin", io.StringIO()),
            **kwargs,
        )


@pytest.fixture
def run(server: RunningServer, vtime: VirtualTime, tmp_path: Path) -> Run:
    return Run(server, vtime, tmp_path / "token.json")


def logged_in(run: Run, sandbox: Sandbox, username: str = "ana_makes") -> None:
    JsonFileTokenStore(run.token_file).save(issue_token(sandbox, username))


def journal(server: RunningServer, path: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{server.url}/_sandbox/journal", params={"path": path})
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


def test_post_a_file_with_a_progress_bar_and_watch_it_publish(
    run: Run, sandbox: Sandbox, video: Path
) -> None:
    logged_in(run, sandbox)
    code = run("post", str(video), "--privacy", "SELF_ONLY", "--title", "from the cli")
    assert code == 0, run.err.getvalue()
    out = run.out.getvalue()
    assert "Posting as Ana Makes Things (@ana_makes)" in out
    publish_id = next(
        line.split(": ")[1] for line in out.splitlines() if line.startswith("publish_id:")
    )
    assert f"{publish_id}: PUBLISH_COMPLETE" in out
    err = run.err.getvalue()  # not a terminal: plain lines, no carriage returns
    assert "uploading clip.mp4: 0% (0 B of " in err and "uploaded clip.mp4: " in err
    assert "\r" not in err
    view = httpx.get(f"{run.server.url}/_sandbox/publishes/{publish_id}").json()
    assert view["post_info"]["title"] == "from the cli"
    assert view["post_info"]["disable_comment"] is True  # --allow-comment not given

    assert run("status", publish_id) == 0
    assert run.out.getvalue().strip() == f"{publish_id}: PUBLISH_COMPLETE"
    assert run("status", publish_id, "--watch") == 0


def test_post_offers_only_the_creators_privacy_options(
    run: Run, sandbox: Sandbox, video: Path, server: RunningServer
) -> None:
    logged_in(run, sandbox, "ben_private")
    assert run("post", str(video), "--privacy", "PUBLIC_TO_EVERYONE", "--no-wait") == 2
    assert "FOLLOWER_OF_CREATOR, MUTUAL_FOLLOW_FRIENDS, SELF_ONLY" in run.err.getvalue()
    assert run("post", str(video), "--no-wait") == 2  # no terminal: --privacy is required
    assert "--privacy is required" in run.err.getvalue()
    assert journal(server, "/v2/post/publish/video/init/") == []

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert run("post", str(video), "--no-wait", stdin=Terminal("3\n")) == 0
    assert "  3. SELF_ONLY" in run.err.getvalue()
    [init] = journal(server, "/v2/post/publish/video/init/")
    assert '"privacy_level": "SELF_ONLY"' in init["request_body"]


def test_a_local_refusal_is_reported_with_its_rule(run: Run, sandbox: Sandbox, video: Path) -> None:
    logged_in(run, sandbox, "dev_quiet")  # comments off
    assert run("post", str(video), "--privacy", "SELF_ONLY", "--allow-comment") == 2
    assert "refused:" in run.err.getvalue() and "ref 6, 15.4" in run.err.getvalue()


def test_creator_info(run: Run, sandbox: Sandbox) -> None:
    logged_in(run, sandbox, "cora.cooks")
    assert run("creator-info") == 0
    out = run.out.getvalue()
    assert "Creator: Cora Cooks (@cora.cooks)" in out
    assert "Stitch: off (set by the creator)" in out and "Longest video: 60 s" in out


def test_without_a_login_the_cli_says_so(run: Run, server: RunningServer) -> None:
    assert run("creator-info") == 4
    assert "run `tiktok-post login`" in run.err.getvalue()
    assert journal(server, "/v2/post/publish/creator_info/query/") == []  # nothing was sent


def test_login_through_the_consent_page_and_the_loopback_redirect(
    run: Run, server: RunningServer
) -> None:
    app, secret = "sbawacmesandbox01", "acmeSandboxSecret000000000000001"  # desktop: port *
    landed: list[httpx.Response] = []

    def consent(url: str) -> bool:
        """What the person does in the browser: open the page, pick the account, approve."""
        assert url.startswith(f"{server.url}/v2/auth/authorize/?")
        page = httpx.get(url)
        assert page.status_code == 200
        params = dict(parse_qsl(urlsplit(url).query))
        assert urlsplit(params["redirect_uri"]).hostname == "127.0.0.1"
        form: dict[str, Any] = params | {"creator": "ana_makes", "decision": "approve"}
        form["csrf_token"] = form_token(page.text)
        form["granted"] = params["scope"].split(",")
        answer = httpx.post(f"{server.url}/v2/auth/authorize/", data=form, follow_redirects=True)
        landed.append(answer)
        return True

    code = run(
        "--redirect-uri",
        "http://127.0.0.1:*/callback/",
        "login",
        "--timeout",
        "10",
        key=app,
        secret=secret,
        open_browser=consent,
    )
    assert code == 0, run.err.getvalue()
    assert landed[0].status_code == 200 and b"close this window" in landed[0].content
    assert landed[0].url.host == "127.0.0.1"
    token = JsonFileTokenStore(run.token_file).load()
    assert token is not None and token.refresh_token
    assert set(token.scope) == {"user.info.basic", "video.publish", "video.upload"}
    [exchange] = journal(server, "/v2/oauth/token/")
    assert "code_verifier=" in exchange["request_body"]  # PKCE, as desktop apps must
    assert run("creator-info", key=app, secret=secret) == 0
    assert "@ana_makes" in run.out.getvalue()
    assert run("logout", key=app, secret=secret) == 0
    assert not run.token_file.exists()
    [revoke] = journal(server, "/v2/oauth/revoke/")
    assert revoke["status"] == 200


def test_post_to_the_inbox(run: Run, sandbox: Sandbox, video: Path) -> None:
    logged_in(run, sandbox)
    assert run("post", str(video), "--inbox") == 0, run.err.getvalue()
    out = run.out.getvalue()
    assert "Posting as" not in out  # inbox uploads need no creator_info (ref 8)
    assert ": SEND_TO_USER_INBOX" in out
