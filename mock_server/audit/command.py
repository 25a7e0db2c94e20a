"""`tiktok-sandbox audit`: a running sandbox's audit-readiness report for one app, as a terminal
table, Markdown or JSON. Exits 1 when a check fails (or warns, with `--fail-on warn`), so CI can
gate on it; 2 when the report cannot be had."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from mock_server.audit.report import AuditReport

DEFAULT_URL = "http://127.0.0.1:8080"
FORMATS = ("text", "markdown", "json")


def add_parser(sub: Any) -> None:
    """Add the `audit` subcommand to the `tiktok-sandbox` parser's subparsers."""
    cmd = sub.add_parser(
        "audit",
        help="what TikTok's review and runtime would reject in an app's traffic so far",
        description="Fetch the audit-readiness report of one app from a running sandbox "
        "(GET /_sandbox/audit). Exit status: 0 ready, 1 a check fails (or warns with "
        "--fail-on warn), 2 the report could not be had.",
    )
    cmd.add_argument(
        "--url", default=DEFAULT_URL, help=f"the sandbox's base URL (default {DEFAULT_URL})"
    )
    cmd.add_argument("--client-key", required=True, help="the app to audit")
    cmd.add_argument("--since", help="judge requests from this instant on (ISO 8601, UTC)")
    cmd.add_argument("--until", help="judge requests up to this instant (ISO 8601, UTC)")
    cmd.add_argument("--format", choices=FORMATS, default="text", help="output (default text)")
    cmd.add_argument(
        "--fail-on",
        choices=("fail", "warn"),
        default="fail",
        help="the verdict that makes the exit status 1 (default fail)",
    )
    cmd.add_argument("--output", metavar="FILE", help="write the report to FILE, not stdout")
    cmd.add_argument(
        "--admin-token",
        default=None,
        help="for a sandbox reached from another machine (also TIKTOK_SANDBOX_ADMIN_TOKEN)",
    )
    cmd.set_defaults(func=run)


class Unavailable(Exception):
    """The report could not be had; the message says why."""


def fetch(args: argparse.Namespace) -> dict[str, Any]:
    params = {"client_key": args.client_key}
    params |= {k: v for k, v in (("since", args.since), ("until", args.until)) if v}
    headers = {}
    token = args.admin_token or os.environ.get("TIKTOK_SANDBOX_ADMIN_TOKEN")
    if token:
        headers["X-Sandbox-Admin-Token"] = token
    url = args.url.rstrip("/") + "/_sandbox/audit"
    import httpx  # the audit command's own client, not the server's start-up

    try:
        # trust_env off: a proxy set for the app (HTTPS_PROXY) is not the way to the sandbox.
        with httpx.Client(timeout=30, trust_env=False, verify=_verify(url)) as http:
            response = http.get(url, params=params, headers=headers)
    except httpx.HTTPError as exc:
        raise Unavailable(f"cannot reach {args.url}: {exc}") from exc
    try:
        body: dict[str, Any] = response.json()
    except ValueError as exc:
        raise Unavailable(
            f"{url} answered {response.status_code} without JSON: is it a tiktok-sandbox?"
        ) from exc
    if response.status_code != 200:
        error = body.get("error") if isinstance(body, dict) else None
        message = error.get("message") if isinstance(error, dict) else response.text
        raise Unavailable(f"{url} answered {response.status_code}: {message}")
    return body


def _verify(url: str) -> bool | str:
    """https: trust the sandbox's local CA (what `serve --https` uses)."""
    if not url.startswith("https://"):
        return True
    from mock_server.frontdoor import LocalCA

    return str(LocalCA.load_or_create().cert_path)


def run(args: argparse.Namespace) -> int:
    try:
        body = fetch(args)
        report = AuditReport.from_json(body)
    except Unavailable as exc:
        print(f"tiktok-sandbox audit: {exc}", file=sys.stderr)
        return 2
    except (KeyError, TypeError, ValueError) as exc:
        print(f"tiktok-sandbox audit: the answer is not an audit report ({exc})", file=sys.stderr)
        return 2
    if args.format == "json":
        out = json.dumps(body, indent=2) + "\n"
    elif args.format == "markdown":
        out = report.to_markdown()
    else:
        out = report.to_text()
    if args.output:
        Path(args.output).write_text(out, encoding="utf-8")
    else:
        sys.stdout.write(out)
    flagged = report.failures + (report.warnings if args.fail_on == "warn" else [])
    return 1 if flagged else 0
