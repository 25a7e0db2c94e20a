"""Scenario files: YAML that declares apps, creators and the clock, validated on load.

A scenario is named by its file stem (`default` is `scenarios/default.yaml`, embedded in the
package) or given as a path. Errors name the file, the key and what was expected.
"""

from __future__ import annotations

import functools
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mock_server.domain.settings import SettingError
from mock_server.domain.timing import DEFAULT_PROFILE, TIMING_PROFILES, Timing, timing_from
from mock_server.runtime.clock import MAX_INSTANT, MIN_INSTANT, format_instant, parse_instant

DEFAULT_SCENARIO = "default"
OAUTH_ERROR_STATUSES = ("observed", "rfc")
# The spellings TikTok answers a bad field with on the posting endpoints: the plural is what
# recorded answers carry, the singular what the posting pages list (docs/fidelity.md).
POSTING_BAD_INPUT_CODES = ("invalid_params", "invalid_param")
# FILE_UPLOAD inits with more than one chunk: accepted as documented, or refused as TikTok did
# from about 2026-08-09 (post-for-me issue 327).
MULTI_CHUNK_INITS = ("accept", "refuse")
# Display API `fields`: a name TikTok does not know, and one whose scope was not granted.
DISPLAY_UNKNOWN_FIELDS = ("ignore", "refuse")
DISPLAY_UNSCOPED_FIELDS = ("scope_not_authorized", "scope_permission_missed", "omit")
# Scenario keys that pick one of TikTok's possible behaviours: key -> {field: choices}, the
# first choice being the default.
BEHAVIOURS: dict[str, dict[str, tuple[str, ...]]] = {
    "oauth": {"error_status": OAUTH_ERROR_STATUSES},
    "posting": {"bad_input_code": POSTING_BAD_INPUT_CODES, "multi_chunk_init": MULTI_CHUNK_INITS},
    "display": {
        "unknown_fields": DISPLAY_UNKNOWN_FIELDS,
        "unscoped_fields": DISPLAY_UNSCOPED_FIELDS,
    },
}
_TOP_LEVEL = (
    "name",
    "description",
    "reproduces",
    "seed",
    "clock",
    "oauth",
    "posting",
    "display",
    "timing",
    "inject_failures",
    "faults",
    "apps",
    "creators",
)


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; the message says where and what was expected.

    `redacted` says where and what was expected without quoting the file (values, unknown keys,
    YAML snippets): what a request over HTTP may be told about a file on the server's disk.
    """

    def __init__(self, message: str, redacted: str | None = None) -> None:
        super().__init__(message)
        self.redacted = message if redacted is None else redacted

    @classmethod
    def from_setting(cls, exc: SettingError, source: str | None = None) -> ScenarioError:
        prefix = f"{source}: " if source else ""
        return cls(f"{prefix}{exc}", f"{prefix}{exc.redacted}")


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    source: str
    reproduces: str = ""
    seed: int = 0
    clock_start: float | None = None
    clock_frozen: bool = False
    oauth_error_status: str = "observed"
    posting_bad_input_code: str = "invalid_params"
    posting_multi_chunk_init: str = "accept"
    display_unknown_fields: str = "ignore"
    display_unscoped_fields: str = "scope_not_authorized"
    timing: Timing = TIMING_PROFILES[DEFAULT_PROFILE]
    inject_failures: tuple[Mapping[str, Any], ...] = ()
    faults: tuple[Mapping[str, Any], ...] = ()
    apps: tuple[Mapping[str, Any], ...] = ()
    creators: tuple[Mapping[str, Any], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    # The built-in scenario's name when it came from scenarios/ (else None: a user's file).
    builtin: str | None = None


def _builtin_dir() -> Path:
    return Path(str(resources.files("scenarios")))


def builtin_names() -> list[str]:
    return sorted(p.stem for p in _builtin_dir().glob("*.yaml"))


def _is_file(path: Path) -> bool:
    """`Path.is_file`, False also for a name the system refuses (too long, for one)."""
    try:
        return path.is_file()
    except OSError:
        return False


def resolve(name_or_path: str | Path) -> Path:
    text = str(name_or_path)
    candidate = Path(text)
    if candidate.suffix in (".yaml", ".yml") or "/" in text or "\\" in text:
        if not _is_file(candidate):
            raise ScenarioError(f"{text}: no such scenario file")
        return candidate
    path = _builtin_dir() / f"{text}.yaml"
    if not _is_file(path):
        raise ScenarioError(
            f"unknown scenario {text!r}: expected a file path or one of "
            + ", ".join(builtin_names())
        )
    return path


SCENARIO_SUFFIXES = (".yaml", ".yml")


def resolve_confined(text: str, directories: Sequence[str | Path]) -> Path:
    """What a request over HTTP may load: a built-in name, or a YAML file inside one of
    `directories` (a relative path is looked up in each in turn). Nothing else is opened."""
    candidate = Path(text)
    if candidate.suffix not in SCENARIO_SUFFIXES and "/" not in text and "\\" not in text:
        return resolve(text)  # a built-in name (or an unknown one, refused with the list)
    roots = [Path(d).resolve() for d in directories]
    for place in [candidate] if candidate.is_absolute() else [r / candidate for r in roots]:
        real = place.resolve()
        inside = any(real.is_relative_to(root) for root in roots)
        if inside and real.suffix in SCENARIO_SUFFIXES and _is_file(real):
            return real
    allowed = ", ".join(str(r) for r in roots) or "none: start the server with --scenario-dir"
    raise ScenarioError(
        f"scenario: expected a built-in name ({', '.join(builtin_names())}) or a .yaml file "
        f"under a scenario directory ({allowed}), got {text!r}"
    )


def load_scenario(name_or_path: str | Path = DEFAULT_SCENARIO) -> Scenario:
    path = resolve(name_or_path)
    source = path.name
    try:
        data = pickle.loads(_parsed(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ScenarioError(
            f"{source}: cannot read: {exc}", f"{source}: cannot read: {reason}"
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ScenarioError(
            f"{source}: not valid YAML: {exc}", f"{source}: not valid YAML{where}"
        ) from exc
    scenario = parse_scenario(data, source, default_name=path.stem)
    if path.resolve().parent == _builtin_dir().resolve():
        scenario = replace(scenario, builtin=path.stem)
    return scenario


@functools.lru_cache(maxsize=32)
def _parsed(text: str) -> bytes:
    """The YAML document in `text`, parsed once per distinct text (PyYAML's pure-Python parser
    is most of what building a sandbox costs) and kept pickled, so every load gets its own
    copy to validate."""
    return pickle.dumps(yaml.safe_load(text))


def _expect(cond: bool, source: str, key: str, expected: str, got: object) -> None:
    if not cond:
        raise ScenarioError(
            f"{source}: {key}: expected {expected}, got {got!r}",
            f"{source}: {key}: expected {expected}",
        )


def _known_keys(data: Mapping[Any, Any], source: str, where: str, allowed: Sequence[str]) -> None:
    for key in data:
        if key not in allowed:
            raise ScenarioError.from_setting(
                SettingError.unknown_key(where, key, "a known key (" + ", ".join(allowed) + ")"),
                source,
            )


def _behaviours(data: Mapping[str, Any], source: str) -> dict[str, str]:
    """The `oauth`, `posting` and `display` choices, as `{"key.field": value}`."""
    chosen = {}
    for key, fields in BEHAVIOURS.items():
        section = data.get(key) or {}
        _expect(isinstance(section, dict), source, key, "a mapping", section)
        _known_keys(section, source, key, tuple(fields))
        for name, choices in fields.items():
            value = section.get(name, choices[0])
            _expect(
                value in choices, source, f"{key}.{name}", "one of " + ", ".join(choices), value
            )
            chosen[f"{key}.{name}"] = value
    return chosen


def parse_scenario(data: object, source: str, default_name: str = "scenario") -> Scenario:
    """Check the shape of a scenario document (apps and creators are checked when built)."""
    _expect(isinstance(data, dict), source, "(top level)", "a mapping", type(data).__name__)
    assert isinstance(data, dict)
    _known_keys(data, source, "", _TOP_LEVEL)
    for key in ("name", "description", "reproduces"):
        if key in data:
            _expect(isinstance(data[key], str), source, key, "a string", data[key])
    seed = data.get("seed", 0)
    _expect(type(seed) is int and seed >= 0, source, "seed", "a non-negative integer", seed)
    clock = data.get("clock") or {}
    _expect(isinstance(clock, dict), source, "clock", "a mapping", clock)
    _known_keys(clock, source, "clock", ("start", "frozen"))
    start = None
    if "start" in clock:
        raw_start = clock["start"]
        text = raw_start.isoformat() if hasattr(raw_start, "isoformat") else raw_start
        try:
            start = parse_instant(str(text))
        except ValueError:
            _expect(False, source, "clock.start", "an ISO 8601 instant", raw_start)
        _expect(
            start is not None and MIN_INSTANT <= start <= MAX_INSTANT,
            source,
            "clock.start",
            f"an instant between {format_instant(MIN_INSTANT)} and {format_instant(MAX_INSTANT)}",
            raw_start,
        )
    frozen = clock.get("frozen", False)
    _expect(type(frozen) is bool, source, "clock.frozen", "true or false", frozen)
    behaviours = _behaviours(data, source)
    try:
        timing = timing_from(data.get("timing"), "timing")
    except SettingError as exc:
        raise ScenarioError.from_setting(exc, source) from exc
    lists = {}
    for key in ("apps", "creators", "inject_failures", "faults"):
        items = data.get(key) or []
        _expect(isinstance(items, list), source, key, "a list", items)
        for i, item in enumerate(items):
            _expect(isinstance(item, dict), source, f"{key}[{i}]", "a mapping", item)
        lists[key] = tuple(items)
    return Scenario(
        name=data.get("name", default_name),
        description=data.get("description", ""),
        source=source,
        reproduces=data.get("reproduces", ""),
        seed=seed,
        clock_start=start,
        clock_frozen=frozen,
        oauth_error_status=behaviours["oauth.error_status"],
        posting_bad_input_code=behaviours["posting.bad_input_code"],
        posting_multi_chunk_init=behaviours["posting.multi_chunk_init"],
        display_unknown_fields=behaviours["display.unknown_fields"],
        display_unscoped_fields=behaviours["display.unscoped_fields"],
        timing=timing,
        inject_failures=lists["inject_failures"],
        faults=lists["faults"],
        apps=lists["apps"],
        creators=lists["creators"],
        raw=data,
    )
