"""A one-shot HTTP server on the loopback interface that catches the authorize redirect.

    with LoopbackReceiver("http://127.0.0.1:*/callback/") as receiver:
        # receiver.redirect_uri is now e.g. http://127.0.0.1:53817/callback/
        ... send the person to the authorize URL with receiver.redirect_uri ...
        query = receiver.wait(timeout=300)   # "code=...&scopes=...&state=..."

ref 2.3: desktop redirect URIs are http on localhost or 127.0.0.1, with a port or the
wildcard `*` (here: any free port).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

LOOPBACK_HOSTS = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1"}

PAGE = (
    b"<!doctype html><meta charset=utf-8><title>tiktok-post</title>"
    b"<p>Back in the terminal now: you can close this window.</p>"
)


class LoopbackReceiver:
    def __init__(self, redirect_uri: str) -> None:
        parts = urlsplit(redirect_uri)
        host = parts.hostname or ""
        if parts.scheme != "http" or host not in LOOPBACK_HOSTS:
            raise ValueError(
                f"the redirect URI must be http on localhost or 127.0.0.1: {redirect_uri}"
            )
        netloc_port = parts.netloc.rpartition(":")[2] if ":" in parts.netloc else ""
        port = 0 if netloc_port in ("", "*", "0") else int(netloc_port)
        self._parts = parts
        self._path = parts.path or "/"
        self._query: str | None = None
        self._arrived = threading.Event()
        self._server = ThreadingHTTPServer((LOOPBACK_HOSTS[host], port), self._handler())
        self._server.daemon_threads = True
        bound = self._server.server_address[1]
        self.redirect_uri = urlunsplit(
            (parts.scheme, f"{host}:{bound}", parts.path, parts.query, parts.fragment)
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="tiktok-post-loopback", daemon=True
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if path != receiver._path or receiver._arrived.is_set():
                    self.send_error(404)
                    return
                receiver._query = query
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(PAGE)))
                self.end_headers()
                self.wfile.write(PAGE)
                receiver._arrived.set()

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep the terminal for the person

        return Handler

    def __enter__(self) -> LoopbackReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    def wait(self, timeout: float) -> str | None:
        """The redirect's query string, or None if none arrived within `timeout` seconds."""
        if not self._arrived.wait(timeout):
            return None
        return self._query
