"""What text and numbers the sandbox takes from a request before it stores or uses them.

One place for the rules every reader shares: the JSON bodies (api/jsontext), the settings of
apps and creators (domain/settings), redirect URIs (domain/redirects) and header or query numbers.
"""

from __future__ import annotations

# Below U+0020 and DEL, except tab, line feed and carriage return.
CONTROLS = frozenset(chr(c) for c in (*range(0x20), 0x7F)) - {"\t", "\n", "\r"}


def text_problem(value: str) -> str | None:
    """What makes `value` unfit to store and show: a lone UTF-16 surrogate (no UTF-8 for it)
    or a control character other than tab and line breaks; None when it is fine."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "lone UTF-16 surrogates"
    if not CONTROLS.isdisjoint(value):
        return "control characters"
    return None


def url_text_problem(url: str) -> str | None:
    """URLs take no whitespace and nothing unprintable at all (URL parsers silently drop tabs
    and line breaks, and a zero-width space hides in plain sight, so what is checked would not
    be what is used)."""
    if any(c.isspace() or not c.isprintable() for c in url):
        return "a URL without spaces or control characters"
    return None


def plain_decimal(text: str, max_digits: int = 19) -> int | None:
    """A plain non-negative decimal number in ASCII digits (`str.isdigit` also takes "²",
    which `int` refuses, and "٣", which it reads), or None."""
    if text.isascii() and text.isdigit() and len(text) <= max_digits:
        return int(text)
    return None


def quoted(value: object, most: int = 64) -> str:
    """`value` as an error message quotes it (its repr): whole when short, else its start and
    how long it is, so a 5,000-character query value does not make a 5,000-character answer."""
    if isinstance(value, str) and len(value) > most:
        return f"{value[:most]!r}... ({len(value)} characters)"
    shown = repr(value)
    return shown if len(shown) <= most + 2 else f"{shown[:most]}... ({len(shown)} characters)"
