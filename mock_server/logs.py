"""What the server logs: one line per event, never a secret, never a traceback for a client
that went away.

- `middleware.SandboxMiddleware` (outermost): a client that disconnects mid-request, an
  injected fault that breaks an answer on purpose, and a request cancelled before its answer
  (a server stopping while it waits for a body) are one line each on the `tiktok_sandbox`
  logger, instead of uvicorn's "Exception in ASGI application" traceback.
- `install_filters()`: uvicorn's access log shows `upload_token` (and any other credential in a
  query string) as `<redacted>`, and uvicorn's traceback for an answer a fault cut short is
  dropped (ours says what happened). That exception still reaches uvicorn: it is what makes
  uvicorn close the connection mid-answer, which is the fault.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re

from starlette.types import Scope

log = logging.getLogger("tiktok_sandbox")

# Query parameters whose values are credentials (TikTok's upload_url carries upload_token).
_SECRET_PARAMS = re.compile(
    r"((?:^|[?&])(?:upload_token|access_token|refresh_token|client_secret|code)=)[^&#\s]*"
)


_INCOMPLETE = "ASGI callable returned without completing response."
# Set in the request's task when its answer could not be sent (read by the filter below, which
# runs in the same task when uvicorn logs after the app returned).
answer_dropped: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "answer_dropped", default=False
)
# Set in the request's task when it was cancelled and the middleware said so in its one line
# (a server stopping with a request still waiting for its body, a client that gave up in
# process): uvicorn's traceback for the cancellation is then dropped.
answer_cancelled: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "answer_cancelled", default=False
)


class ConnectionGone(Exception):
    """The server refused to send an answer: its connection was already answered or closed."""


class AnswerCutShort(Exception):
    """Raised by a response that broke its own answer on purpose (an injected fault): the
    server closes the connection; the log says so in one line."""


def redact(text: str) -> str:
    return _SECRET_PARAMS.sub(r"\1<redacted>", text)


def where(scope: Scope) -> str:
    return f"{scope['method']} {scope['path']}"  # a path holds no query string to redact


class _AccessLogRedaction(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


class _CutShortAnswers(logging.Filter):
    """uvicorn's traceback for an answer a fault broke on purpose or a request cancelled, and
    its complaint about an answer the connection could no longer take: each already has its
    one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, AnswerCutShort):
            return False
        if isinstance(error, asyncio.CancelledError) and answer_cancelled.get():
            return False
        return not (record.msg == _INCOMPLETE and answer_dropped.get())


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
