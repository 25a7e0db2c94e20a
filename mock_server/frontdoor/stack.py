"""The HTTP stack a served sandbox runs on: uvicorn's compiled parser (httptools) and event loop
(uvloop) when they are installed, which answer sooner than the pure-Python h11 and asyncio;
those otherwise, or whatever `--http` and `--loop` ask for.

    stack = choose()                        # httptools + uvloop where installed
    stack = choose(http="h11")              # the escape hatch: the pure-Python parser
    uvicorn.Config(app, **stack.config())
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

HTTP_CHOICES = ("auto", "httptools", "h11")
LOOP_CHOICES = ("auto", "uvloop", "asyncio")
_FAST = {"http": "httptools", "loop": "uvloop"}
_PLAIN = {"http": "h11", "loop": "asyncio"}


class StackUnavailable(ValueError):
    """An implementation was asked for by name and cannot be imported here."""


@dataclass(frozen=True)
class Stack:
    http: str  # "httptools" or "h11"
    loop: str  # "uvloop" or "asyncio"

    def config(self) -> dict[str, str]:
        """uvicorn.Config's `http` and `loop` for this stack."""
        return {"http": self.http, "loop": self.loop}

    def describe(self) -> str:
        return f"{self.http} + {self.loop}"


def available(module: str) -> bool:
    """Whether `module` imports here (a wheel missing for the platform, or a broken one, is not)."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def choose(http: str = "auto", loop: str = "auto", *, python: bool = False) -> Stack:
    """The stack to serve on: `auto` takes the compiled implementation when it imports and falls
    back to the pure-Python one; a name asked for explicitly must be there. Errors name the
    choice as the command line spells it (`--http h2`), or as Python does with `python=True`
    (`http='h2'`)."""
    return Stack(
        http=_pick("http", http, HTTP_CHOICES, python),
        loop=_pick("loop", loop, LOOP_CHOICES, python),
    )


def _pick(what: str, asked: str, choices: tuple[str, ...], python: bool) -> str:
    def spelled(value: str) -> str:
        return f"{what}={value!r}" if python else f"--{what} {value}"

    if asked not in choices:
        raise StackUnavailable(f"{spelled(asked)}: expected one of {', '.join(choices)}")
    if asked == "auto":
        return _FAST[what] if available(_FAST[what]) else _PLAIN[what]
    if asked == _FAST[what] and not available(asked):
        raise StackUnavailable(
            f"{spelled(asked)}: {asked} is not installed here (pip install {asked}); "
            f"{spelled('auto')} falls back to {_PLAIN[what]}"
        )
    return asked
