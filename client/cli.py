"""`tiktok-post`: log in, look at the creator, post a video, watch it publish.

    tiktok-post --base-url http://127.0.0.1:8080 --client-key awacmescheduler01 \\
        --client-secret acmeSchedulerSecret0000000000001 login
    tiktok-post --base-url http://127.0.0.1:8080 ... post clip.mp4 --privacy SELF_ONLY --title hi

Every option can come from the environment (TIKTOK_BASE_URL, TIKTOK_AUTH_URL,
TIKTOK_CLIENT_KEY, TIKTOK_CLIENT_SECRET, TIKTOK_REDIRECT_URI, TIKTOK_TOKEN_FILE).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import webbrowser
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from client.errors import LocalRefusal, TikTokClientError
from client.loopback import LoopbackReceiver
from client.models import PRIVACY_LEVELS, CreatorInfo, PostInfo, PublishStatus
from client.oauth import AUTHORIZE_BASE, parse_redirect
from client.protocol import API_BASE
from client.sync import TikTokClient
from client.tokens import JsonFileTokenStore, Now, wall_clock

DEFAULT_SCOPES = "user.info.basic,video.publish,video.upload"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:3000/callback/"


def default_token_file() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "tiktok-post" / "token.json"


def build_parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="tiktok-post", description="Post videos to TikTok (or to a local sandbox)."
    )
    parser.add_argument(
        "--base-url",
        default=env("TIKTOK_BASE_URL", API_BASE),
        help="API host (default %(default)s; the sandbox: http://127.0.0.1:8080)",
    )
    parser.add_argument(
        "--auth-url",
        default=env("TIKTOK_AUTH_URL"),
        help=f"host of the authorize page (default {AUTHORIZE_BASE} for TikTok, else base-url)",
    )
    parser.add_argument("--client-key", default=env("TIKTOK_CLIENT_KEY"))
    parser.add_argument("--client-secret", default=env("TIKTOK_CLIENT_SECRET"))
    parser.add_argument(
        "--redirect-uri",
        default=env("TIKTOK_REDIRECT_URI", DEFAULT_REDIRECT_URI),
        help="loopback redirect URI registered for the app; a * port picks a free one",
    )
    parser.add_argument(
        "--token-file", type=Path, default=Path(env("TIKTOK_TOKEN_FILE") or default_token_file())
    )
    commands = parser.add_subparsers(dest="command", required=True)

    login = commands.add_parser("login", help="authorize in the browser and keep the tokens")
    login.add_argument("--scopes", default=DEFAULT_SCOPES, help="comma-separated scopes")
    login.add_argument("--no-browser", action="store_true", help="only print the URL")
    login.add_argument("--timeout", type=float, default=300.0, help="seconds to wait")

    commands.add_parser("logout", help="revoke the authorization and forget the tokens")
    commands.add_parser("creator-info", help="who is posting, and what they allow")

    post = commands.add_parser("post", help="post a video file or URL")
    post.add_argument("source", help="a video file, or an https URL TikTok pulls")
    post.add_argument("--privacy", choices=PRIVACY_LEVELS, help="one the creator allows")
    post.add_argument("--title", help="caption (2200 UTF-16 units at most)")
    post.add_argument("--allow-comment", action="store_true")
    post.add_argument("--allow-duet", action="store_true")
    post.add_argument("--allow-stitch", action="store_true")
    post.add_argument(
        "--branded-content", action="store_true", help="paid partnership (not with SELF_ONLY)"
    )
    post.add_argument("--your-brand", action="store_true", help="promotional content")
    post.add_argument("--aigc", action="store_true", help="label as AI-generated")
    post.add_argument(
        "--inbox", action="store_true", help="upload as a draft to the creator's inbox"
    )
    post.add_argument("--no-wait", action="store_true", help="do not wait for the outcome")
    post.add_argument("--public-post", action="store_true", help="wait for the public post id")
    post.add_argument("--timeout", type=float, default=600.0, help="seconds to wait")

    status = commands.add_parser("status", help="a publish's status")
    status.add_argument("publish_id")
    status.add_argument("--watch", action="store_true", help="follow it to a final status")
    status.add_argument("--public-post", action="store_true", help="wait for the public post id")
    status.add_argument("--timeout", type=float, default=600.0, help="seconds to watch")
    return parser


class ProgressBar:
    """`[#########...........]  45%  6.8/15.0 MiB` on one line of `stream`."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width

    def __call__(self, held: int, total: int) -> None:
        done = held / total if total else 1.0
        filled = round(done * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        mib = 1024 * 1024
        self.stream.write(
            f"\ruploading [{bar}] {done:4.0%}  {held / mib:.1f}/{total / mib:.1f} MiB"
        )
        if held >= total:
            self.stream.write("\n")
        self.stream.flush()


class Cli:
    def __init__(
        self,
        args: argparse.Namespace,
        *,
        open_browser: Callable[[str], object],
        sleep: Callable[[float], None],
        now: Now,
        stdin: TextIO,
        stdout: TextIO,
        stderr: TextIO,
    ) -> None:
        self.args = args
        self.open_browser = open_browser
        self.stdin, self.out, self.err = stdin, stdout, stderr
        self.client = TikTokClient(
            args.client_key,
            args.client_secret,
            token_store=JsonFileTokenStore(args.token_file),
            base_url=args.base_url,
            sleep=sleep,
            now=now,
        )

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def run(self) -> int:
        command = self.args.command.replace("-", "_")
        with self.client:
            result: int = getattr(self, f"cmd_{command}")()
            return result

    # -- commands ---------------------------------------------------------------------------------

    def cmd_login(self) -> int:
        if not self.args.client_key or not self.args.client_secret:
            print("error: login needs --client-key and --client-secret", file=self.err)
            return 2
        auth_base = self.args.auth_url or (
            AUTHORIZE_BASE if self.args.base_url.rstrip("/") == API_BASE else self.args.base_url
        )
        scopes = [s for s in self.args.scopes.split(",") if s]
        with LoopbackReceiver(self.args.redirect_uri) as receiver:
            auth = self.client.authorize_url(
                receiver.redirect_uri, scopes, authorize_base=auth_base
            )
            print(f"Open this URL to log in to TikTok:\n\n  {auth.url}\n", file=self.err)
            if not self.args.no_browser:
                try:
                    self.open_browser(auth.url)
                except Exception as exc:  # a missing browser is not an error: the URL is shown
                    print(f"(could not open a browser: {exc})", file=self.err)
            query = receiver.wait(self.args.timeout)
        if query is None:
            print(f"error: no redirect within {self.args.timeout:g} s", file=self.err)
            return 1
        code = parse_redirect(query, expected_state=auth.state)
        token = self.client.exchange_code(code.code, auth.redirect_uri, auth.code_verifier)
        self.say(f"Logged in: open_id {token.open_id}, scopes {','.join(token.scope)}")
        self.say(f"Tokens saved to {self.args.token_file}")
        return 0

    def cmd_logout(self) -> int:
        self.client.revoke()
        self.say("Authorization revoked; tokens removed.")
        return 0

    def cmd_creator_info(self) -> int:
        self.show_creator(self.client.creator_info())
        return 0

    def show_creator(self, info: CreatorInfo) -> None:
        def allowed(disabled: bool) -> str:
            return "off (set by the creator)" if disabled else "allowed"

        self.say(f"Creator: {info.creator_nickname} (@{info.creator_username})")
        self.say(f"Privacy options: {', '.join(info.privacy_level_options)}")
        self.say(f"Comments: {allowed(info.comment_disabled)}")
        self.say(f"Duet: {allowed(info.duet_disabled)}")
        self.say(f"Stitch: {allowed(info.stitch_disabled)}")
        self.say(f"Longest video: {info.max_video_post_duration_sec} s")

    def pick_privacy(self, info: CreatorInfo) -> str | None:
        """ref 15.4: offer the creator's options only, with no default."""
        options = list(info.privacy_level_options)
        if self.args.privacy:
            if self.args.privacy in options:
                return str(self.args.privacy)
            print(
                f"error: {self.args.privacy} is not allowed for this creator; "
                f"choose one of: {', '.join(options)}",
                file=self.err,
            )
            return None
        if not self.stdin.isatty():
            print(f"error: --privacy is required; one of: {', '.join(options)}", file=self.err)
            return None
        for number, option in enumerate(options, 1):
            print(f"  {number}. {option}", file=self.err)
        print("Who can see this post? (number) ", end="", file=self.err, flush=True)
        answer = self.stdin.readline().strip()
        if answer.isdigit() and 1 <= int(answer) <= len(options):
            return options[int(answer) - 1]
        print("error: no privacy level chosen", file=self.err)
        return None

    def cmd_post(self) -> int:
        progress = ProgressBar(self.err)
        if self.args.inbox:
            publish = self.client.upload_video_to_inbox(self.args.source, progress=progress)
        else:
            info = self.client.creator_info()
            self.say(f"Posting as {info.creator_nickname} (@{info.creator_username})")
            privacy = self.pick_privacy(info)
            if privacy is None:
                return 2
            post_info = PostInfo(
                privacy_level=privacy,
                title=self.args.title,
                disable_comment=not self.args.allow_comment,
                disable_duet=not self.args.allow_duet,
                disable_stitch=not self.args.allow_stitch,
                brand_content_toggle=self.args.branded_content,
                brand_organic_toggle=self.args.your_brand,
                is_aigc=self.args.aigc,
            )
            publish = self.client.post_video(self.args.source, post_info, progress=progress)
        self.say(f"publish_id: {publish.publish_id}")
        if self.args.no_wait:
            return 0
        self.say("Processing takes a few minutes on TikTok.")
        result = self.client.wait_for_publish(
            publish,
            wait_for_public_post=self.args.public_post,
            timeout=self.args.timeout,
            on_status=self.show_status,
        )
        if result.publish_id != publish.publish_id:
            self.say(f"posted again as {result.publish_id} after a retryable failure")
        return 0 if result.ok else 1

    def show_status(self, status: PublishStatus) -> None:
        line = f"{status.publish_id}: {status.status}"
        if status.fail_reason:
            line += f" ({status.fail_reason})"
        if status.post_ids:
            line += f" post ids {', '.join(status.post_ids)}"
        self.say(line)

    def cmd_status(self) -> int:
        if not self.args.watch:
            status = self.client.fetch_status(self.args.publish_id)
            self.show_status(status)
            return 1 if status.status == "FAILED" else 0
        result = self.client.wait_for_publish(
            self.args.publish_id,
            wait_for_public_post=self.args.public_post,
            timeout=self.args.timeout,
            on_status=self.show_status,
        )
        return 0 if result.ok else 1


def main(
    argv: Sequence[str] | None = None,
    *,
    open_browser: Callable[[str], object] = webbrowser.open,
    sleep: Callable[[float], None] = time.sleep,
    now: Now = wall_clock,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """The command line; the keyword arguments are seams for tests."""
    args = build_parser().parse_args(argv)
    err = stderr or sys.stderr
    cli = Cli(
        args,
        open_browser=open_browser,
        sleep=sleep,
        now=now,
        stdin=stdin or sys.stdin,
        stdout=stdout or sys.stdout,
        stderr=err,
    )
    try:
        return cli.run()
    except LocalRefusal as exc:
        print(f"refused: {exc} [{exc.rule}]", file=err)
        return 2
    except TikTokClientError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=err)
        return 1
    except OSError as exc:
        print(f"error: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
