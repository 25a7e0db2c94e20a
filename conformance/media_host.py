"""A loopback media host for PULL_FROM_URL posts: the suite's own "verified URL prefix".

It serves one body (a real image) at every path on 127.0.0.1, and holds each request until the
suite releases it, so a pull is "under way" for exactly as long as a test says: cancelling it
and the one-hour pull timeout (ref 10.4, 12) become deterministic instead of races.

    with MediaHost(make_image(...).read_bytes(), "image/jpeg") as host:
        url = host.url("/m/app1/1.jpg")     # held until release_all()
        ...
        host.release_all()                   # every held request is answered
"""

from __future__ import annotations

import http.server
import threading
from typing import Any

HOLD_LIMIT_SECONDS = 60.0  # a request nobody releases is answered 503 after this (real time)


class MediaHost:
    def __init__(self, body: bytes, content_type: str) -> None:
        self.body = body
        self.content_type = content_type
        self.requests: list[str] = []
        self._released = False
        self._closing = False
        self._gate = threading.Condition()
        host = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with host._gate:
                    host.requests.append(self.path)
                    released = host._gate.wait_for(
                        lambda: host._released or host._closing, HOLD_LIMIT_SECONDS
                    )
                if not released or host._closing:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", host.content_type)
                self.send_header("Content-Length", str(len(host.body)))
                self.end_headers()
                self.wfile.write(host.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str) -> str:
        return self.base_url + path

    def hold_all(self) -> None:
        """From now on, requests wait until `release_all`."""
        with self._gate:
            self._released = False

    def release_all(self) -> None:
        """Answer every request waiting now, and every later one until `hold_all`."""
        with self._gate:
            self._released = True
            self._gate.notify_all()

    def __enter__(self) -> MediaHost:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._gate:
            self._closing = True
            self._gate.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
