"""`tiktok-post`: log in, look at the creator, post a video, watch it publish.

    tiktok-post --base-url http://127.0.0.1:8080 --client-key awacmescheduler01 \\
        --client-secret acmeSchedulerSecret0000000000001 login
    tiktok-post --base-url http://127.0.0.1:8080 ... post clip.mp4 --privacy SELF_ONLY --title hi

Every option can come from the environment (TIKTOK_BASE_URL, TIKTOK_AUTH_URL,
TIKTOK_CLIENT_KEY, TIKTOK_CLIENT_SECRET, TIKTOK_REDIRECT_URI, TIKTOK_TOKEN_FILE). A mistake is
one line on stderr and an exit status per kind of problem (client/exits.py); what can be checked
here (flags, the video file, the token file) is checked before any request.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import webbrowser
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import NoReturn, TextIO

import httpx

from client import rules
from client.exits import (
    CliError,
    Exit,
    explain,
    media_unreadable,
    network_reason,
    not_logged_in,
    token_file_unreadable,
    unreachable,
    usage,
)
from client.flows import Retry
from client.loopback import LoopbackReceiver
from client.media import FileSource
from client.models import PRIVACY_LEVELS, CreatorInfo, PostInfo, Publish, PublishStatus
from client.oauth import AUTHORIZE_BASE, parse_redirect
from client.progress import CountingReader, UploadProgress
from client.protocol import API_BASE
from client.sync import TikTokClient
from client.tokens import JsonFileTokenStore, Now, Token, wall_clock

DEFAULT_SCOPES = "user.info.basic,video.publish,video.upload"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:3000/callback/"

EXAMPLES = """\
examples, against the sandbox (start it with: tiktok-sandbox serve):
  export TIKTOK_BASE_URL=http://127.0.0.1:8080 TIKTOK_CLIENT_KEY=awacmescheduler01 \\
         TIKTOK_CLIENT_SECRET=acmeSchedulerSecret0000000000001
  tiktok-post login                    # approve in the browser; tokens go to the token file
  tiktok-post creator-info             # who posts, and the privacy levels they allow
  tiktok-sandbox make-video clip.mp4 --seconds 5
  tiktok-post post clip.mp4 --privacy SELF_ONLY --title "Hello #sandbox"
  tiktok-post status PUBLISH_ID --watch
  tiktok-post logout

exit status:
  0 done; 1 TikTok refused the request or the publish failed; 2 wrong flags or settings, or a
  post this creator or TikTok's rules do not allow; 3 the video is missing, unreadable or not
  one TikTok takes; 4 not logged in (no token, a bad token file, an authorization that ended);
  5 the server cannot be reached; 6 --timeout ran out; 130 interrupted
"""

POST_EXAMPLES = """\
examples:
  tiktok-post post clip.mp4 --privacy SELF_ONLY --title "Hello #sandbox"
  tiktok-post post clip.mp4 --privacy PUBLIC_TO_EVERYONE --allow-comment --public-post
  tiktok-post post clip.mp4 --inbox          # a draft the creator finishes in the app
  tiktok-post post https://media.example.com/clip.mp4 --privacy SELF_ONLY --no-wait
"""

LOGIN_EXAMPLES = """\
examples:
  tiktok-post login                                  # redirect to http://127.0.0.1:3000/callback/
  tiktok-post --redirect-uri 'http://127.0.0.1:*/callback/' login   # any free port (desktop apps)
  tiktok-post login --no-browser --scopes user.info.basic,video.upload
"""


def default_token_file() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "tiktok-post" / "token.json"


def version() -> str:
    try:
        return metadata.version("tiktok-sandbox")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


def http_url(text: str) -> str:
    """An http(s) URL with a host, checked before any request (exit 2, not retries)."""
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a URL ({exc})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an http:// or https:// URL with a host (e.g. http://127.0.0.1:8080)"
        )
    return text


class Parser(argparse.ArgumentParser):
    """Usage mistakes are one line that says where to read more, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(Exit.USAGE, f"{self.prog}: error: {message}; see `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:
    env = os.environ.get
    raw = argparse.RawDescriptionHelpFormatter
    parser = Parser(
        prog="tiktok-post",
        description="Post videos to TikTok, or to a local tiktok-sandbox.",
        epilog=EXAMPLES,
        formatter_class=raw,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    parser.add_argument(
        "--base-url",
        default=env("TIKTOK_BASE_URL", API_BASE),
        type=http_url,
        metavar="URL",
        help="API host (env TIKTOK_BASE_URL; default %(default)s; the sandbox: "
        "http://127.0.0.1:8080)",
    )
    parser.add_argument(
        "--auth-url",
        default=env("TIKTOK_AUTH_URL"),
        type=http_url,
        metavar="URL",
        help=f"host of the authorize page (env TIKTOK_AUTH_URL; default {AUTHORIZE_BASE} for "
        "TikTok's API host, else the --base-url)",
    )
    parser.add_argument(
        "--client-key",
        default=env("TIKTOK_CLIENT_KEY"),
        metavar="KEY",
        help="the app's client_key (env TIKTOK_CLIENT_KEY); needed to log in, log out and "
        "refresh tokens",
    )
    parser.add_argument(
        "--client-secret",
        default=env("TIKTOK_CLIENT_SECRET"),
        metavar="SECRET",
        help="the app's client_secret (env TIKTOK_CLIENT_SECRET); needed with --client-key",
    )
    parser.add_argument(
        "--redirect-uri",
        default=env("TIKTOK_REDIRECT_URI", DEFAULT_REDIRECT_URI),
        metavar="URI",
        help="loopback redirect URI registered for the app (env TIKTOK_REDIRECT_URI; default "
        "%(default)s); a * port picks a free one",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        default=Path(env("TIKTOK_TOKEN_FILE") or default_token_file()),
        metavar="PATH",
        help="where login keeps the tokens (env TIKTOK_TOKEN_FILE; default %(default)s)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    login = commands.add_parser(
        "login",
        help="authorize in the browser and keep the tokens",
        description="Open TikTok's authorize page, catch the redirect on a loopback port, "
        "exchange the code (with PKCE) and save the tokens to the token file.",
        epilog=LOGIN_EXAMPLES,
        formatter_class=raw,
    )
    login.add_argument(
        "--scopes", default=DEFAULT_SCOPES, help="comma-separated scopes (default %(default)s)"
    )
    login.add_argument(
        "--no-browser", action="store_true", help="only print the URL; do not open a browser"
    )
    login.add_argument(
        "--timeout",
        type=positive_seconds,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for the redirect (default %(default)g)",
    )

    commands.add_parser(
        "logout",
        help="revoke the authorization and forget the tokens",
        description="Revoke the authorization at TikTok and delete the token file.",
    )
    commands.add_parser(
        "creator-info",
        help="who is posting, and what they allow",
        description="Show the logged-in creator, the privacy levels they offer, their "
        "comment/duet/stitch settings and their longest video.",
    )

    post = commands.add_parser(
        "post",
        help="post a video file or URL",
        description="Check the video here, then post it: a Direct Post (or an inbox draft with "
        "--inbox), with the upload's progress on stderr, then follow its status to the end.",
        epilog=POST_EXAMPLES,
        formatter_class=raw,
    )
    post.add_argument(
        "source", metavar="FILE|URL", help="a video file, or an https URL TikTok pulls"
    )
    post.add_argument(
        "--privacy",
        choices=PRIVACY_LEVELS,
        help="one the creator allows (see creator-info); asked on a terminal when left out",
    )
    post.add_argument("--title", help="caption (2200 UTF-16 units at most)")
    post.add_argument(
        "--allow-comment", action="store_true", help="let viewers comment (off by default)"
    )
    post.add_argument("--allow-duet", action="store_true", help="let viewers duet (off by default)")
    post.add_argument(
        "--allow-stitch", action="store_true", help="let viewers stitch (off by default)"
    )
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
    post.add_argument(
        "--timeout",
        type=positive_seconds,
        default=600.0,
        metavar="SECONDS",
        help="how long to wait for the outcome (default %(default)g)",
    )

    status = commands.add_parser(
        "status",
        help="a publish's status",
        description="Show a publish's status once, or follow it to a final status (--watch).",
    )
    status.add_argument("publish_id", help="the publish_id that post printed")
    status.add_argument("--watch", action="store_true", help="follow it to a final status")
    status.add_argument("--public-post", action="store_true", help="wait for the public post id")
    status.add_argument(
        "--timeout",
        type=positive_seconds,
        default=600.0,
        metavar="SECONDS",
        help="how long to watch (default %(default)g)",
    )
    return parser


class TokenFile(JsonFileTokenStore):
    """The token file, whose problems are explained rather than raised as tracebacks."""

    def load(self) -> Token | None:
        try:
            return super().load()
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise token_file_unreadable(self.path, exc) from None

    def save(self, token: Token) -> None:
        try:
            super().save(token)
        except OSError as exc:
            why = (exc.strerror or str(exc)).lower()
            raise CliError(
                Exit.LOGIN,
                f"cannot write the token file {self.path}: {why}; pass a writable --token-file",
            ) from None


def is_url(source: str) -> bool:
    return source.lower().startswith(("https://", "http://"))


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
        self.tokens = TokenFile(args.token_file)
        self.uploading = False
        self.client = TikTokClient(
            args.client_key,
            args.client_secret,
            token_store=self.tokens,
            base_url=args.base_url,
            sleep=sleep,
            now=now,
            on_retry=self.on_retry,
        )

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def note(self, text: str) -> None:
        print(f"tiktok-post: {text}", file=self.err, flush=True)

    def run(self) -> int:
        command = self.args.command.replace("-", "_")
        # What can be checked here is checked before any request: the video, then the login.
        if command == "post":
            self.check_post()
        if command == "logout":
            self.need_credentials("logout")
        if command != "login" and self.tokens.load() is None:
            raise not_logged_in(self.tokens.path)
        with self.client:
            result: int = getattr(self, f"cmd_{command}")()
            return result

    def need_credentials(self, command: str) -> None:
        if not self.args.client_key or not self.args.client_secret:
            raise usage(
                f"{command} needs the app's --client-key and --client-secret "
                "(or TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET)"
            )

    def on_retry(self, notice: Retry) -> None:
        """A refused connection before the upload starts ends the run at once (nothing is
        listening there); anything else is retried by the client, and said so."""
        url = notice.request.url
        if isinstance(notice.error, httpx.ConnectError) and not self.uploading:
            raise unreachable(url, notice.error)
        if isinstance(notice.error, httpx.TransportError):
            what = f"cannot reach {url.host} ({network_reason(notice.error)})"
        elif notice.error is not None:
            what = f"{url.host} answered {notice.error}"
        else:
            status = notice.response.status_code if notice.response is not None else "?"
            what = f"{url.host} answered HTTP {status}"
        self.note(f"{what}; trying again in {notice.delay:g} s (retry {notice.attempt})")

    # -- commands ---------------------------------------------------------------------------------

    def cmd_login(self) -> int:
        self.need_credentials("login")
        auth_base = self.args.auth_url or (
            AUTHORIZE_BASE if self.args.base_url.rstrip("/") == API_BASE else self.args.base_url
        )
        scopes = [s for s in self.args.scopes.split(",") if s]
        with self.receiver() as receiver:
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
            raise CliError(
                Exit.TIMEOUT,
                f"no redirect within {self.args.timeout:g} s; run `tiktok-post login` again "
                "and approve in the browser (or a longer --timeout)",
            )
        code = parse_redirect(query, expected_state=auth.state)
        token = self.client.exchange_code(code.code, auth.redirect_uri, auth.code_verifier)
        self.say(f"Logged in: open_id {token.open_id}, scopes {','.join(token.scope)}")
        self.say(f"Tokens saved to {self.args.token_file}")
        return 0

    def receiver(self) -> LoopbackReceiver:
        uri = self.args.redirect_uri
        try:
            return LoopbackReceiver(uri)
        except ValueError as exc:
            raise usage(f"--redirect-uri: {exc}") from None
        except OSError as exc:
            why = (exc.strerror or str(exc)).lower()
            raise usage(
                f"cannot listen on {uri} for the redirect ({why}); free that port, or pass "
                "--redirect-uri with another port the app registered (a * port picks a free one)"
            ) from None

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

    def pick_privacy(self, info: CreatorInfo) -> str:
        """ref 15.4: offer the creator's options only, with no default."""
        options = list(info.privacy_level_options)
        if self.args.privacy:
            if self.args.privacy in options:
                return str(self.args.privacy)
            raise usage(
                f"{self.args.privacy} is not allowed for this creator; choose one of: "
                f"{', '.join(options)}"
            )
        if not self.stdin.isatty():
            raise usage(f"--privacy is required; one of: {', '.join(options)}")
        for number, option in enumerate(options, 1):
            print(f"  {number}. {option}", file=self.err)
        print("Who can see this post? (number) ", end="", file=self.err, flush=True)
        answer = self.stdin.readline().strip()
        if answer.isdigit() and 1 <= int(answer) <= len(options):
            return options[int(answer) - 1]
        raise usage(f"no privacy level chosen; answer a number from 1 to {len(options)}")

    def check_post(self) -> None:
        """The post's local checks: caption, branded content, and the file itself (it exists,
        can be read, and is a video TikTok takes: ref 10.1, 13)."""
        rules.caption_fits("title", self.args.title, rules.VIDEO_TITLE_MAX)
        rules.branded_content_not_private(self.args.privacy, self.args.branded_content)
        if is_url(self.args.source):
            return
        path = Path(self.args.source)
        try:
            with path.open("rb"):
                pass
            video = FileSource(path)
        except OSError as exc:
            raise media_unreadable(path, exc) from None
        rules.video_file(video)
        rules.video_duration(video.facts, rules.API_MAX_VIDEO_SECONDS)

    def cmd_post(self) -> int:
        if is_url(self.args.source):
            publish = self.post(self.args.source, None)
        else:
            path = Path(self.args.source)
            progress = UploadProgress(self.err, path.name)
            try:
                with CountingReader(path) as reader:

                    def held(held: int, total: int) -> None:
                        # the first call comes as the upload starts, after probing the file
                        self.uploading = True
                        reader.on_read = progress.sent
                        progress.held(held, total)

                    publish = self.post(reader, held)
            except OSError as exc:
                raise media_unreadable(path, exc) from None
            finally:
                progress.close()
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

    def post(
        self, source: str | CountingReader, progress: Callable[[int, int], None] | None
    ) -> Publish:
        if self.args.inbox:
            return self.client.upload_video_to_inbox(source, progress=progress)
        info = self.client.creator_info()
        self.say(f"Posting as {info.creator_nickname} (@{info.creator_username})")
        privacy = self.pick_privacy(info)
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
        return self.client.post_video(source, post_info, progress=progress)

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
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a usage error already printed
        return stop.code if isinstance(stop.code, int) else Exit.USAGE
    cli = Cli(
        args,
        open_browser=open_browser,
        sleep=sleep,
        now=now,
        stdin=stdin or sys.stdin,
        stdout=out,
        stderr=err,
    )
    try:
        return int(cli.run())
    except KeyboardInterrupt:
        print("tiktok-post: interrupted", file=err)
        return Exit.INTERRUPTED
    except Exception as exc:
        problem = explain(exc)
        if problem is None:
            raise  # a bug: its traceback is what a report needs
        kind = "" if problem.line.startswith("refused:") else "error: "
        print(f"tiktok-post: {kind}{problem.line}", file=err)
        return int(problem.code)


if __name__ == "__main__":
    raise SystemExit(main())
