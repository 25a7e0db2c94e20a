"""The `tiktok-sandbox` command."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
from collections.abc import Sequence
from itertools import islice
from pathlib import Path
from types import FrameType

from mock_server import logs, testvideo
from mock_server.audit import command as audit_command
from mock_server.domain.ids import open_id
from mock_server.domain.redirects import is_loopback_host
from mock_server.frontdoor import (
    FrontDoor,
    LocalCA,
    LocalCAError,
    StackUnavailable,
    build_server,
    choose,
    instructions,
)
from mock_server.frontdoor.stack import HTTP_CHOICES, LOOP_CHOICES
from mock_server.runtime import memory
from mock_server.runtime.ticker import Ticker
from mock_server.sandbox import GRACEFUL_SHUTDOWN_SECONDS, bind_socket
from mock_server.scenario import SCENARIO_SUFFIXES, ScenarioError, builtin_names, load_scenario
from mock_server.state import SandboxState, ServerOptions
from mock_server.store import StoreError
from mock_server.store import commands as store_commands


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [list(map(str, headers))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# Rows of each table in the start-up summary: a state of thousands of creators (resumed, or
# imported) is summed up, not printed whole.
SUMMARY_ROWS = 25


def _more(total: int, what: str, path: str) -> str:
    if total <= SUMMARY_ROWS:
        return ""
    return f"\n... and {total - SUMMARY_ROWS} more {what} (GET {path}, or the dashboard)"


def startup_summary(
    state: SandboxState, base_url: str, front_door: str = "", stack: str = "", data: str = ""
) -> str:
    world = state.world
    apps = _table(
        ["app", "client_key", "client_secret", "stage", "redirect_uris"],
        [
            [a.name, a.client_key, a.client_secret, a.stage, " ".join(a.redirect_uris)]
            for a in islice(world.apps.values(), SUMMARY_ROWS)
        ],
    ) + _more(len(world.apps), "apps", "/_sandbox/apps")
    first_key = next(iter(world.apps), None)
    creators = _table(
        ["creator", "nickname", "account", "max duration", "open_id (" + (first_key or "-") + ")"],
        [
            [
                c.username,
                c.nickname,
                c.account,
                f"{c.max_video_post_duration_sec} s",
                open_id(first_key, c.uid) if first_key else "-",
            ]
            for c in islice(world.creators.values(), SUMMARY_ROWS)
        ],
    ) + _more(len(world.creators), "creators", "/_sandbox/creators")
    return (
        f"tiktok-sandbox: scenario {state.scenario.name!r}, seed {state.seed}\n\n"
        f"  API base URL   {base_url}   (use instead of https://open.tiktokapis.com)\n"
        f"  authorize URL  {base_url}/v2/auth/authorize/\n"
        f"  dashboard      {base_url}/_sandbox/\n"
        f"  clock          {state.clock.isoformat()}{' (frozen)' if state.clock.frozen else ''}\n"
        + (f"  HTTP stack     {stack}\n" if stack else "")
        + (f"  state          {data}\n" if data else "")
        + f"{front_door}\n{apps}\n\n{creators}\n"
    )


def serve(args: argparse.Namespace) -> int:
    # uvicorn, once stopped by SIGINT or SIGTERM, restores the handlers it found and raises the
    # signal again, which by default kills the process (SIGTERM) or prints a KeyboardInterrupt
    # traceback (SIGINT). The handlers it finds are these, so a stop by signal exits with 0, as
    # does one arriving before uvicorn takes over.
    signums = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, _exit_cleanly) for signum in signums}
    try:
        return _serve(args)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def server_seed(host: str, seed: int | None) -> int | None:
    """The seed to serve with: the one asked for; otherwise the scenario's on a loopback address,
    and a random one on any other, so a sandbox others can reach never hands out tokens anyone
    with the same scenario could compute."""
    if seed is not None or is_loopback_host(host):
        return seed
    return secrets.randbits(128)


def scenario_dirs(args: argparse.Namespace) -> tuple[Path, ...]:
    """Where `POST /_sandbox/reset` may load scenario files from: every --scenario-dir, and the
    directory of a --scenario given as a file."""
    dirs = [Path(d) for d in args.scenario_dir]
    started_with = Path(args.scenario)
    if started_with.suffix in SCENARIO_SUFFIXES and started_with.is_file():
        dirs.append(started_with.resolve().parent)
    return tuple(dict.fromkeys(d.resolve() for d in dirs))


def _serve(args: argparse.Namespace) -> int:
    memory.limit_arenas()  # before any thread starts (a server runs for days: keep memory flat)
    memory.map_large_blocks()
    missing = [d for d in args.scenario_dir if not Path(d).is_dir()]
    if missing:
        print(f"tiktok-sandbox: --scenario-dir {missing[0]}: no such directory", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(args.scenario)
        options = ServerOptions(
            admin_token=args.admin_token or os.environ.get("TIKTOK_SANDBOX_ADMIN_TOKEN") or None,
            public_base_url=args.public_url,
            allowed_hosts=tuple(args.allowed_host),
            scenario_dirs=scenario_dirs(args),
        )
        state = SandboxState(scenario, seed=server_seed(args.host, args.seed), options=options)
    except ScenarioError as exc:
        print(f"tiktok-sandbox: {exc}", file=sys.stderr)
        return 2
    try:
        data = store_commands.attach(state, args)
    except StoreError as exc:
        print(f"tiktok-sandbox: {exc}", file=sys.stderr)
        state.close()
        return 2
    try:
        sock = bind_socket(args.host, args.port)
    except (OSError, OverflowError) as exc:  # OverflowError: a port outside 0-65535
        reason = getattr(exc, "strerror", None) or str(exc)
        print(
            f"tiktok-sandbox: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr
        )
        return 1
    from mock_server.app import build_app

    door = FrontDoor(https=args.https, proxy=args.proxy)
    port = sock.getsockname()[1]
    try:
        stack = choose(args.http, args.loop)
    except StackUnavailable as exc:
        print(f"tiktok-sandbox: {exc}", file=sys.stderr)
        sock.close()
        return 2
    try:
        server = build_server(
            build_app(state),
            door,
            stopping=state.server_stopping,
            **stack.config(),
            log_level=args.log_level,
            lifespan="off",
            access_log=args.access_log,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        ca = None if door.plain_only else LocalCA.load_or_create()
        if ca is not None:
            ca.write_bundle()
    except LocalCAError as exc:
        print(f"tiktok-sandbox: {exc}", file=sys.stderr)
        sock.close()
        return 1
    host = f"[{args.host}]" if ":" in args.host else args.host
    base = args.public_url or f"{'https' if door.https else 'http'}://{host}:{port}"
    front = instructions.summary(door, args.host, port, ca)
    served_on = stack.describe() if door.plain_only else f"h11 + {stack.loop}"
    print(startup_summary(state, base, front, served_on, data or ""), flush=True)
    logs.configure(args.log_level)
    if args.access_log:  # uvicorn logs requests at INFO: asked for, they show at any --log-level
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    # uvicorn handles SIGINT and SIGTERM: it stops accepting, finishes in-flight requests, exits
    # (by SystemExit, `serve`): the state is closed either way (a data directory's log folded).
    try:
        with Ticker(state):
            server.run(sockets=[sock])
    finally:
        state.close()
    return 0


def scenarios(args: argparse.Namespace) -> int:
    from mock_server.scenario_docs import render_catalog, summary

    if args.markdown:
        sys.stdout.write(render_catalog())
        return 0
    names = builtin_names()
    width = max(map(len, names), default=0)
    for name in names:
        print(f"{name.ljust(width)}  {summary(load_scenario(name).description)}")
    return 0


def show_ca(args: argparse.Namespace) -> int:
    try:
        ca = LocalCA.load_or_create()
        if args.path:
            print(ca.cert_path)
            return 0
        ca.write_bundle()
    except LocalCAError as exc:
        print(f"tiktok-sandbox: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(instructions.ca_text(ca))
    return 0


def show_hosts(args: argparse.Namespace) -> int:
    if args.docker:
        print(instructions.docker_flags(args.address))
    else:
        sys.stdout.write(instructions.hosts_text(args.address))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="tiktok-sandbox", description="A local, offline emulator of TikTok's APIs."
    )
    sub = root.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="run the sandbox as an HTTP server")
    run.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=8080, help="port to bind (default 8080)")
    run.add_argument("--scenario", default="default", help="scenario name or YAML path")
    run.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed for ids, tokens and data (default: the scenario's on a loopback --host, "
        "a random one otherwise)",
    )
    run.add_argument(
        "--admin-token",
        default=None,
        help="let non-loopback clients use /_sandbox/ with this token "
        "(header X-Sandbox-Admin-Token); also TIKTOK_SANDBOX_ADMIN_TOKEN",
    )
    run.add_argument(
        "--public-url", default=None, help="base URL to put in returned URLs when behind a proxy"
    )
    run.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="HOST",
        help="a host name the control API and dashboard also answer under (besides loopback "
        "names and the --public-url host); repeatable",
    )
    run.add_argument(
        "--scenario-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="a directory whose .yaml scenarios POST /_sandbox/reset may load (the --scenario "
        "file's own directory always can); repeatable",
    )
    run.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )
    run.add_argument("--access-log", action="store_true", help="log every request")
    run.add_argument(
        "--http",
        default="auto",
        choices=HTTP_CHOICES,
        help="HTTP parser: httptools when installed (auto, the default), or h11 (pure Python)",
    )
    run.add_argument(
        "--loop",
        default="auto",
        choices=LOOP_CHOICES,
        help="event loop: uvloop when installed (auto, the default), or asyncio",
    )
    run.add_argument(
        "--https", action="store_true", help="serve TLS with the local CA (tiktok-sandbox ca)"
    )
    run.add_argument(
        "--proxy",
        action="store_true",
        help="also be an HTTPS proxy for TikTok's hosts only (HTTPS_PROXY=http://HOST:PORT)",
    )
    store_commands.add_serve_arguments(run)
    run.set_defaults(func=serve)
    ca = sub.add_parser("ca", help="print how to trust the sandbox's local CA (made on first use)")
    ca.add_argument("--path", action="store_true", help="print only the CA certificate's path")
    ca.set_defaults(func=show_ca)
    hosts = sub.add_parser("hosts", help="print hosts-file lines sending TikTok's names here")
    hosts.add_argument("--address", default="127.0.0.1", help="address the names resolve to")
    hosts.add_argument(
        "--docker", action="store_true", help="print `docker run --add-host` flags instead"
    )
    hosts.set_defaults(func=show_hosts)
    lst = sub.add_parser("scenarios", help="list the built-in scenarios")
    lst.add_argument(
        "--markdown", action="store_true", help="print the catalog as Markdown (docs/scenarios.md)"
    )
    lst.set_defaults(func=scenarios)
    audit_command.add_parser(sub)
    store_commands.add_parser(sub)
    testvideo.add_parser(sub)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except BrokenPipeError:  # `tiktok-sandbox scenarios | head`: the reader left, that is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code


if __name__ == "__main__":
    raise SystemExit(main())
