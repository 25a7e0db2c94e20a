"""The scenario catalog as Markdown, generated from the built-in scenario files.

`tiktok-sandbox scenarios --markdown` prints it; docs/scenarios.md holds a copy, and a test
fails when the copy is stale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from mock_server.scenario import Scenario, builtin_names, load_scenario

REGENERATE = "tiktok-sandbox scenarios --markdown > docs/scenarios.md"

# Shown in their own columns (or not at all: secrets are printed by `serve`).
APP_COLUMNS = ("client_key", "name", "stage", "scopes")
APP_HIDDEN = ("client_secret", "description")
CREATOR_COLUMNS = ("username", "account")
CREATOR_HIDDEN = ("nickname",)
EXTRAS = ("seed", "clock", "oauth", "posting", "display", "timing", "faults", "inject_failures")


def render_catalog(names: Iterable[str] | None = None) -> str:
    """Every built-in scenario (or those named): description, what it reproduces, its apps and
    creators, and any clock, timing, faults or injected failures it declares."""
    scenarios = [load_scenario(name) for name in (builtin_names() if names is None else names)]
    lines = [
        "# Scenario catalog",
        "",
        "Generated from `scenarios/*.yaml`; do not edit by hand. Regenerate with",
        f"`{REGENERATE}`.",
        "",
        'Start a scenario with `tiktok-sandbox serve --scenario NAME`, `Sandbox("NAME")` in',
        'Python, or `POST /_sandbox/reset {"scenario": "NAME"}`. Each one reproduces a situation',
        "TikTok puts an app in; `tests/scenarios/test_catalog.py` reproduces each failure through",
        "the reference client.",
        "",
    ]
    lines += [f"- [`{s.name}`](#{s.name}): {summary(s.description)}" for s in scenarios]
    for scenario in scenarios:
        lines += ["", *_section(scenario)]
    return "\n".join(lines) + "\n"


def _section(scenario: Scenario) -> list[str]:
    lines = [
        f"## {scenario.name}",
        "",
        _one_line(scenario.description),
        "",
        f"**Reproduces:** {_one_line(scenario.reproduces)}",
    ]
    if scenario.apps:
        lines += ["", "**Apps**", ""]
        lines += _table(
            ["client_key", "name", "stage", "scopes", "other settings"],
            [
                [
                    _code(app.get("client_key", "(generated)")),
                    _cell(app.get("name", "")),
                    _cell(app.get("stage", "audited")),
                    _cell(", ".join(app.get("scopes", ["(all)"]))),
                    _settings(app, APP_COLUMNS + APP_HIDDEN),
                ]
                for app in scenario.apps
            ],
        )
    if scenario.creators:
        lines += ["", "**Creators**", ""]
        lines += _table(
            ["username", "account", "other settings"],
            [
                [
                    _code(creator.get("username", "(generated)")),
                    _cell(creator.get("account", "public")),
                    _settings(creator, CREATOR_COLUMNS + CREATOR_HIDDEN),
                ]
                for creator in scenario.creators
            ],
        )
    extras = [
        (key, scenario.raw[key]) for key in EXTRAS if scenario.raw.get(key) not in (None, 0, [], {})
    ]
    if extras:
        lines += ["", "**Also declares**", ""]
        for key, value in extras:
            if isinstance(value, list):
                lines.append(f"- `{key}`:")
                lines += [f"  - `{_flow(item)}`" for item in value]
            else:
                lines.append(f"- `{key}`: `{_flow(value)}`")
    return lines


def summary(text: str) -> str:
    """The first sentence of a description."""
    flat = _one_line(text)
    end = flat.find(". ")
    return flat if end < 0 else flat[: end + 1]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _settings(values: Mapping[str, Any], skip: Sequence[str]) -> str:
    shown = [f"`{key}: {_flow(value)}`" for key, value in values.items() if key not in skip]
    return _cell(", ".join(shown)) if shown else ""


def _flow(value: Any) -> str:
    """A value as YAML's flow style writes it, for one line of Markdown."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    return str(value)


def _code(value: object) -> str:
    return f"`{value}`"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
