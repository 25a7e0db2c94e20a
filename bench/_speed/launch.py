"""A server for the benchmark, in a process of its own (pinned to a core by the parent):

    python -m bench._speed.launch sandbox --http h11 --loop asyncio --creators 50 --out F.json
    python -m bench._speed.launch bare --http h11 --loop asyncio --answers F.json
    python -m bench._speed.launch drain --http httptools --loop uvloop

`sandbox`: the fixture (bench/_speed/fixture.py) on `Sandbox.serve()`, the way a served
sandbox runs (its ticker included); it writes the fixture and the answers it gave to --out.
`bare`: a bare Starlette app answering the same JSON (status, body, `x-tt-logid`) on the same
paths. `drain`: an ASGI app that writes request bodies to a temporary file and answers 201.
Each prints `READY <url>` once it accepts connections, then serves until stdin closes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench._speed import fixture
from mock_server.sandbox import bind_socket

# The answers the bare app repeats: one per case, captured from the sandbox.
CASES = {
    "creator_info": fixture.CREATOR_INFO,
    "status_fetch": fixture.STATUS_FETCH,
    "rate_limited": fixture.CREATOR_INFO,
    "bad_token": fixture.CREATOR_INFO,
}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["sandbox", "bare", "drain"])
    p.add_argument("--http", default="auto")
    p.add_argument("--loop", default="auto")
    p.add_argument("--creators", type=int, default=50)
    p.add_argument("--out")
    p.add_argument("--answers")
    p.add_argument("--data-dir", help="sandbox: keep its state there (bench data_dir)")
    args = p.parse_args(argv)
    if args.kind == "sandbox":
        serve_sandbox(args)
    else:
        app = bare_app(args.answers) if args.kind == "bare" else drain_app()
        serve_app(app, args.http, args.loop)
    return 0


def serve_sandbox(args: argparse.Namespace) -> None:
    sandbox = fixture.new_sandbox(data_dir=args.data_dir)
    fix = fixture.build(sandbox, args.creators)
    with sandbox.serve(http=args.http, loop=args.loop) as running:
        answers = capture(running.url, fix)
        with open(args.out, "w") as f:
            json.dump({"fixture": fix.to_json(), "answers": answers}, f)
        ready(running.url)


def capture(url: str, fix: fixture.Fixture) -> dict[str, Any]:
    """One answer per case, as the served sandbox gives it."""
    token, publish_id = fix.pairs[0]
    out = {}
    with httpx.Client(base_url=url) as http:
        for _ in range(20):  # the spare token's creator_info budget, spent
            http.post(fixture.CREATOR_INFO, headers={"Authorization": f"Bearer {fix.spare_token}"})
        calls = {
            "creator_info": (fixture.CREATOR_INFO, token, None),
            "status_fetch": (fixture.STATUS_FETCH, token, {"publish_id": publish_id}),
            "rate_limited": (fixture.CREATOR_INFO, fix.spare_token, None),
            "bad_token": (fixture.CREATOR_INFO, "act.not-a-token", None),
        }
        for case, (path, bearer, body) in calls.items():
            answer = http.post(path, headers={"Authorization": f"Bearer {bearer}"}, json=body)
            out[case] = {
                "status": answer.status_code,
                "json": answer.json(),
                "log_id": answer.headers.get("x-tt-logid", ""),
            }
        http.post("/_sandbox/clock", json={"advance_seconds": 61})
    return out


def bare_app(answers_path: str) -> Starlette:
    """Route by path, and by bearer token for the error cases, to the sandbox's answers."""
    with open(answers_path) as f:
        data = json.load(f)
    answers = data["answers"]
    spare = data["fixture"]["spare_token"]

    def answer(case: str) -> Response:
        a = answers[case]
        return JSONResponse(a["json"], status_code=a["status"], headers={"x-tt-logid": a["log_id"]})

    async def creator_info(request: Request) -> Response:
        token = request.headers.get("authorization", "")[7:]
        if token == spare:
            return answer("rate_limited")
        if not token.startswith("act.") or token == "act.not-a-token":
            return answer("bad_token")
        return answer("creator_info")

    async def status_fetch(request: Request) -> Response:
        await request.body()
        return answer("status_fetch")

    return Starlette(
        routes=[
            Route(fixture.CREATOR_INFO, creator_info, methods=["POST"]),
            Route(fixture.STATUS_FETCH, status_fetch, methods=["POST"]),
        ]
    )


def drain_app() -> Any:
    """A raw body drain: every request body to a temporary file, then 201."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        with tempfile.TemporaryFile() as sink:
            more = True
            while more:
                message = await receive()
                sink.write(message.get("body", b""))
                more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


def serve_app(app: Any, http: str, loop: str) -> None:
    sock = bind_socket("127.0.0.1", 0)
    # As the sandbox is served (Sandbox.serve): no access log, which costs even when uvicorn's
    # level keeps its lines from printing.
    config = uvicorn.Config(
        app, http=http, loop=loop, log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
    ready(f"http://127.0.0.1:{sock.getsockname()[1]}")
    server.should_exit = True
    thread.join(5)


def ready(url: str) -> None:
    print(f"READY {url}", flush=True)
    sys.stdin.read()  # serve until the benchmark closes our stdin (or goes away)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
