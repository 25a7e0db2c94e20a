"""What the server logs: one line per event, never a secret, never a traceback for a client
that went away.

- `QuietDisconnects` (outermost middleware): a client that disconnects mid-request, and an
  injected fault that breaks an answer on purpose, are one line each on the `tiktok_sandbox`
  logger, instead of uvicorn's "Exception in ASGI application" traceback.
- `install_filters()`: uvicorn's access log shows `upload_token` (and any other credential in a
  query string) as `<redacted>`, and uvicorn's traceback for an answer a fault cut short is
  dropped (ours says what happened). That exception still reaches uvicorn: it is what makes
  uvicorn close the connection mid-answer, which is the fault.
"""

from __future__ import annotations

import contextvars
import logging
import re

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("tiktok_sandbox")

# Query parameters whose values are credentials (TikTok's upload_url carries upload_token).
_SECRET_PARAMS = re.compile(
    r"((?:^|[?&])(?:upload_token|access_token|refresh_token|client_secret|code)=)[^&#\s]*"
)


_INCOMPLETE = "ASGI callable returned without completing response."
# Set in the request's task when its answer could not be sent (read by the filter below, which
# runs in the same task when uvicorn logs after the app returned).
_answer_dropped: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "answer_dropped", default=False
)


class ConnectionGone(Exception):
    """The server refused to send an answer: its connection was already answered or closed."""


class AnswerCutShort(Exception):
    """Raised by a response that broke its own answer on purpose (an injected fault): the
    server closes the connection; the log says so in one line."""


def redact(text: str) -> str:
    return _SECRET_PARAMS.sub(r"\1<redacted>", text)


class QuietDisconnects:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def guarded_send(message: Message) -> None:
            try:
                await send(message)
            except AnswerCutShort:
                raise
            except Exception as exc:  # the server can no longer answer on this connection
                raise ConnectionGone(str(exc) or type(exc).__name__) from exc

        try:
            await self.app(scope, receive, guarded_send)
        except ClientDisconnect:
            log.warning("tiktok-sandbox: the client disconnected during %s", _where(scope))
        except ConnectionGone as gone:
            # e.g. a malformed chunked body: the HTTP server refused it with its own 400 (and
            # its own log line) and closed the connection while the endpoint was answering.
            _answer_dropped.set(True)
            log.debug("tiktok-sandbox: no answer to %s: %s", _where(scope), gone)
        except AnswerCutShort as cut:
            log.warning("tiktok-sandbox: %s (%s)", cut, _where(scope))
            raise


def _where(scope: Scope) -> str:
    return f"{scope['method']} {scope['path']}"  # a path holds no query string to redact


class _AccessLogRedaction(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


class _CutShortAnswers(logging.Filter):
    """uvicorn's traceback for an answer a fault broke on purpose, and its complaint about an
    answer the connection could no longer take: each already has its one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, AnswerCutShort):
            return False
        return not (record.msg == _INCOMPLETE and _answer_dropped.get())


_installed = False


def install_filters() -> None:
    """Idempotent: called whenever an app is built."""
    global _installed
    if not _installed:
        _installed = True
        logging.getLogger("uvicorn.access").addFilter(_AccessLogRedaction())
        logging.getLogger("uvicorn.error").addFilter(_CutShortAnswers())


def configure(level: str) -> None:
    """Give the `tiktok_sandbox` logger uvicorn's look on stderr, at `level`."""
    from uvicorn.logging import DefaultFormatter

    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(DefaultFormatter("%(levelprefix)s %(message)s", use_colors=None))
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(level.upper())
