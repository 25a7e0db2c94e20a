"""The data directory on the command line: `serve --data-dir DIR [--fresh] [--import FILE]`,
`tiktok-sandbox export`, and `GET /_sandbox/export` (docs/data-dir.md)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import Route

from mock_server.store import StoreError, install_snapshot, open_data_dir, read_snapshot
from mock_server.store.sqlite import read_directory

if TYPE_CHECKING:
    from mock_server.state import SandboxState

EXPORT_PATH = "/_sandbox/export"


def add_serve_arguments(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "--data-dir",
        default=None,
        metavar="DIR",
        help="keep the sandbox's state in DIR and resume from it at start (docs/data-dir.md)",
    )
    run.add_argument(
        "--fresh",
        action="store_true",
        help="with --data-dir: discard what DIR holds and start from the scenario",
    )
    run.add_argument(
        "--fsync",
        action="store_true",
        help="with --data-dir: wait for the disk on every change, so a power loss or an OS "
        "crash loses nothing either (slower; a killed sandbox loses nothing without it)",
    )
    run.add_argument(
        "--import",
        dest="import_file",
        default=None,
        metavar="FILE",
        help="start from a snapshot written by `tiktok-sandbox export`",
    )


def attach(state: SandboxState, args: argparse.Namespace) -> str | None:
    """Put `state` in its data directory or snapshot as the serve flags say; the line to print
    in the start-up summary, or StoreError."""
    snapshot = read_snapshot(args.import_file) if args.import_file else None
    if args.fresh and not args.data_dir:
        raise StoreError("--fresh: only with --data-dir")
    fsync = getattr(args, "fsync", False)
    if fsync and not args.data_dir:
        raise StoreError("--fsync: only with --data-dir")
    if args.data_dir is None:
        if snapshot is not None:
            install_snapshot(state, snapshot)
            return f"from {args.import_file} (in memory{_uploads_again(state)}){_origin(state)}"
        return None
    open_data_dir(state, args.data_dir, fresh=args.fresh, snapshot=snapshot, fsync=fsync)
    if snapshot is not None:
        how = f"started from {args.import_file}{_uploads_again(state)}"
    else:
        how = "resumed" if state.resumed else "new"
    if fsync:
        how += "; every change waits for the disk (--fsync)"
    return f"{os.path.abspath(args.data_dir)} ({how}){_origin(state)}"


def _origin(state: SandboxState) -> str:
    """When the sandbox that saved the state resumed or imported was started with another
    scenario or seed than this one: which, and that a reset now goes back to this one's."""
    made_with = state.made_with
    if made_with is None or made_with == (state.scenario.source, state.seed):
        return ""
    scenario, seed = made_with
    return (
        f"\n                 saved by a sandbox started with {scenario}, seed {seed}; "
        f"POST /_sandbox/reset now goes back to {state.scenario.source}, seed {state.seed} "
        "(--scenario and --seed say which)"
    )


def _uploads_again(state: SandboxState) -> str:
    count = state.uploads_started_again
    return f"; {_started_again(count)} (a snapshot holds no media bytes)" if count else ""


def _started_again(count: int) -> str:
    """What `serve --import` does to `count` uploads under way (store.install_snapshot)."""
    if count == 1:
        return "1 upload under way starts again from the first chunk"
    return f"{count} uploads under way start again from the first chunk"


# -- export -----------------------------------------------------------------------------------


def add_parser(sub: Any) -> None:
    export = sub.add_parser(
        "export", help="write a snapshot (JSON) of a data directory or a running sandbox"
    )
    source = export.add_mutually_exclusive_group(required=True)
    source.add_argument("--data-dir", metavar="DIR", help="the data directory to export")
    source.add_argument("--url", help="the base URL of a running sandbox to export")
    export.add_argument(
        "--admin-token",
        default=None,
        help="with --url, for a sandbox started with --admin-token; also "
        "TIKTOK_SANDBOX_ADMIN_TOKEN",
    )
    export.add_argument(
        "--output", "-o", default="-", metavar="FILE", help="where to write it (default stdout)"
    )
    export.set_defaults(func=export_command)


def export_command(args: argparse.Namespace) -> int:
    try:
        if args.data_dir is not None:
            try:
                doc = read_directory(args.data_dir)
            except OSError as exc:  # a directory or file this user may not read
                raise StoreError(
                    f"--data-dir {args.data_dir}: cannot read it ({_reason(exc)})"
                ) from exc
        else:
            doc = _fetch(args.url, args.admin_token or os.environ.get("TIKTOK_SANDBOX_ADMIN_TOKEN"))
    except StoreError as exc:
        print(f"tiktok-sandbox: {exc}", file=sys.stderr)
        return 2
    under_way = _uploads_under_way(doc)
    if under_way:
        print(
            "tiktok-sandbox: note: a snapshot holds an upload's progress, not the bytes received;"
            f" after `serve --import`, {_started_again(under_way)}",
            file=sys.stderr,
        )
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"tiktok-sandbox: --output {args.output}: {_reason(exc)}", file=sys.stderr)
        return 2
    return 0


def _reason(exc: OSError) -> str:
    """An OSError as one line: what failed, on which file."""
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def _uploads_under_way(doc: dict[str, Any]) -> int:
    """The snapshot's uploads under way (domain.upload.upload_under_way), which an import
    starts again; 0 when its publishes do not decode (the import says why)."""
    from mock_server.domain.publishing import Publish
    from mock_server.domain.upload import upload_under_way
    from mock_server.store.codec import StateFormatError, decode

    try:
        publishes = decode(doc["world"]["publishes"], dict[str, Publish])
    except (StateFormatError, KeyError, TypeError, ValueError, AttributeError):
        return 0
    return sum(upload_under_way(p) for p in publishes.values())


def _fetch(url: str, admin_token: str | None) -> dict[str, Any]:
    import httpx

    headers = {"X-Sandbox-Admin-Token": admin_token} if admin_token else {}
    try:
        response = httpx.get(url.rstrip("/") + EXPORT_PATH, headers=headers, timeout=60)
    except httpx.HTTPError as exc:
        raise StoreError(f"--url {url}: {exc}") from exc
    if response.status_code != 200:
        raise StoreError(f"--url {url}: {EXPORT_PATH} answered {response.status_code}")
    try:
        doc: dict[str, Any] = response.json()
    except ValueError as exc:
        raise StoreError(f"--url {url}: {EXPORT_PATH} did not answer JSON") from exc
    from mock_server.store.codec import StateFormatError, check_format

    try:
        check_format(doc)
    except StateFormatError as exc:
        raise StoreError(
            f"--url {url}: {EXPORT_PATH} did not answer a sandbox's state ({exc})"
        ) from exc
    return doc


async def export_json(request: Request) -> dict[str, Any]:
    from mock_server.api.http import sandbox
    from mock_server.store.codec import state_to_doc

    state = sandbox(request)
    with state.lock:
        return state_to_doc(state)


def routes() -> list[Route]:
    from mock_server.control.routes import control

    return [Route(EXPORT_PATH, control(export_json), methods=["GET"])]
