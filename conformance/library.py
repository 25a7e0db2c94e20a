"""Test media for a whole run, made once on first use (`conformance.media`), and a loopback HTTP
server that serves it, for PULL_FROM_URL posts (ref 10.4).

    library = MediaLibrary(tmp_dir)
    clip = library.video(fps=15)             # made now; the next call with fps=15 reuses it
    with MediaServer(library.root) as server:
        url = server.url(library.image(fmt="PNG").name)
"""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from conformance.media import make_garbage, make_image, make_video

EXTENSIONS = {"mp4": "mp4", "mov": "mov", "webm": "webm", "mkv": "mkv"}


def _key(kwargs: dict[str, Any]) -> str:
    return "-".join(f"{k}={v}" for k, v in sorted(kwargs.items())) or "default"


class MediaLibrary:
    """Files under `root`, named after the arguments that made them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()

    def video(self, **kwargs: Any) -> Path:
        """`make_video(**kwargs)`, made once (default: 3.5 s of 640x360 H.264 MP4 at 30 fps)."""
        ext = EXTENSIONS[kwargs.get("container", "mp4")]
        return self._made(f"video-{_key(kwargs)}.{ext}", lambda p: make_video(p, **kwargs))

    def image(self, **kwargs: Any) -> Path:
        """`make_image(**kwargs)`, made once (default: a 1080x1920 JPEG)."""
        ext = str(kwargs.get("fmt", "JPEG")).lower()
        return self._made(f"image-{_key(kwargs)}.{ext}", lambda p: make_image(p, **kwargs))

    def garbage(self, size: int = 20_000) -> Path:
        """Seeded random bytes named like an MP4: what no media library reads."""
        return self._made(f"garbage-{size}.mp4", lambda p: make_garbage(p, size))

    def _made(self, name: str, make: Any) -> Path:
        path = self.root / name
        with self._lock:
            if not path.exists():
                partial_path = path.with_name(path.name + ".part" + path.suffix)
                make(partial_path)
                partial_path.rename(path)
        return path


class _MediaHandler(SimpleHTTPRequestHandler):
    """Serves the directory under `/media/` only; everything else is 404. A GET of
    `/media/redirect/{status}/{name}` answers that 3xx status with `Location: /media/{name}`."""

    def do_GET(self) -> None:
        parts = self.path.split("?", 1)[0].split("/", 4)  # "", "media", "redirect", status, name
        if len(parts) == 5 and parts[1:3] == ["media", "redirect"] and parts[3].isdigit():
            self.send_response(int(parts[3]))
            self.send_header("Location", "/media/" + parts[4])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0].split("#", 1)[0]
        if not path.startswith("/media/"):
            return str(Path(self.directory) / ".no-such-file")
        return super().translate_path(path.removeprefix("/media"))

    def log_message(self, format: str, *args: Any) -> None:
        pass


class MediaServer:
    """`root` served as `http://127.0.0.1:{port}/media/` (a free port) on a thread, until closed."""

    def __init__(self, root: Path) -> None:
        handler = partial(_MediaHandler, directory=str(root))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.prefix = f"http://127.0.0.1:{self.port}/media/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, name: str) -> str:
        """The URL of a file in the served directory (under `prefix`, which apps verify)."""
        return self.prefix + name

    def redirect(self, status: int, name: str) -> str:
        """A URL under `prefix` that answers `status` (a 3xx) pointing at `url(name)`."""
        return f"{self.prefix}redirect/{status}/{name}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> MediaServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
