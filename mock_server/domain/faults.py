"""Fault rules: what real networks and TikTok's servers do to a request now and then.

A rule matches on endpoint, app and creator, fires on the nth matching request or with a
seeded probability, and acts: added latency, an error status with a TikTok code, a dropped
connection or truncated body, or (uploads) a rejected chunk, a lost progress, an upload URL
that expires early. Matching and every random draw use the world's fault generator, so the
same seed gives the same faults.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_server.domain.endpoints import ENDPOINTS
from mock_server.domain.errors import API_ERRORS, OAUTH_ERRORS
from mock_server.domain.settings import SettingError

# The endpoints a rule can name (the consent page is a browser page: no faults there).
FAULT_ENDPOINTS = tuple(name for name in ENDPOINTS if name != "authorize")
UPLOAD_ACTIONS = ("chunk_5xx", "lose_progress", "expire_upload_url")
ACTIONS = ("latency", "error", "drop_connection", "truncate_body", *UPLOAD_ACTIONS)
DISTRIBUTIONS = ("fixed", "uniform", "exponential", "normal")
RULE_KEYS = (
    "endpoint",
    "client_key",
    "creator",
    "nth",
    "probability",
    "times",
    "action",
    "status",
    "error_code",
    "message",
    "latency_ms",
    "latency",
)


@dataclass
class FaultRule:
    rule_id: str
    action: str
    endpoint: str | None = None
    client_key: str | None = None
    creator_uid: str | None = None
    nth: int | None = None
    probability: float | None = None
    times: int | None = None
    status: int | None = None
    error_code: str | None = None
    message: str | None = None
    latency: dict[str, Any] = field(default_factory=dict)
    seen: int = 0
    fired: int = 0

    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times


@dataclass(frozen=True)
class FaultHit:
    """A rule that fired on this request, with its drawn latency (seconds)."""

    rule: FaultRule
    latency_seconds: float = 0.0


def fire(
    rules: list[FaultRule],
    rng: random.Random,
    endpoint: str,
    client_key: str | None,
    creator_uid: str | None,
) -> list[FaultHit]:
    """Every rule that fires for this request, in the order they were added.

    Each matching rule counts the request; `nth` fires on exactly that one, `probability`
    draws from the seeded generator, neither means every matching request.
    """
    hits = []
    for rule in rules:
        if rule.spent() or rule.endpoint not in (None, endpoint):
            continue
        if rule.client_key not in (None, client_key) or rule.creator_uid not in (None, creator_uid):
            continue
        rule.seen += 1
        if rule.nth is not None and rule.seen != rule.nth:
            continue
        if rule.probability is not None and rng.random() >= rule.probability:
            continue
        rule.fired += 1
        hits.append(FaultHit(rule, draw_latency(rule.latency, rng)))
    return hits


def draw_latency(spec: Mapping[str, Any], rng: random.Random) -> float:
    """Seconds of latency drawn from the rule's distribution (0 without one)."""
    if not spec:
        return 0.0
    kind = spec.get("distribution", "fixed")
    if kind == "uniform":
        ms = rng.uniform(spec["min_ms"], spec["max_ms"])
    elif kind == "exponential":
        ms = rng.expovariate(1.0 / spec["mean_ms"]) if spec["mean_ms"] > 0 else 0.0
    elif kind == "normal":
        ms = max(0.0, rng.gauss(spec["mean_ms"], spec["stddev_ms"]))
    else:
        ms = spec["ms"]
    return min(ms, MAX_LATENCY_MS) / 1000.0


MAX_LATENCY_MS = 120_000.0


def _number(data: Mapping[str, Any], key: str, where: str, lo: float, hi: float) -> float:
    value = data.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool) or not lo <= value <= hi:
        raise SettingError(f"{where}.{key}", f"a number from {lo:g} to {hi:g}", value)
    return float(value)


def _latency(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The latency spec, always with its `distribution` named (draw_latency reads it)."""
    if "latency_ms" in data:
        return {
            "distribution": "fixed",
            "ms": _number(data, "latency_ms", where, 0, MAX_LATENCY_MS),
        }
    spec = data.get("latency")
    if spec is None:
        return {}
    if not isinstance(spec, Mapping):
        raise SettingError(f"{where}.latency", "a mapping with a distribution", spec)
    kind = spec.get("distribution", "fixed")
    w = f"{where}.latency"
    if kind == "uniform":
        lo = _number(spec, "min_ms", w, 0, MAX_LATENCY_MS)
        values = {"min_ms": lo, "max_ms": _number(spec, "max_ms", w, lo, MAX_LATENCY_MS)}
    elif kind == "exponential":
        values = {"mean_ms": _number(spec, "mean_ms", w, 0, MAX_LATENCY_MS)}
    elif kind == "normal":
        values = {
            "mean_ms": _number(spec, "mean_ms", w, 0, MAX_LATENCY_MS),
            "stddev_ms": _number(spec, "stddev_ms", w, 0, MAX_LATENCY_MS),
        }
    elif kind == "fixed":
        values = {"ms": _number(spec, "ms", w, 0, MAX_LATENCY_MS)}
    else:
        raise SettingError(f"{w}.distribution", "one of " + ", ".join(DISTRIBUTIONS), kind)
    return {"distribution": kind, **values}


def parse_rule(
    data: object, rule_id: str, where: str, apps: Mapping[str, Any], creator_uids: Mapping[str, str]
) -> FaultRule:
    """Validate a fault rule from a scenario or the control API (`creator_uids`: by username)."""
    if not isinstance(data, Mapping):
        raise SettingError(where, "a mapping describing the fault", data)
    for key in data:
        if key not in RULE_KEYS:
            raise SettingError.unknown_key(where, key, "one of " + ", ".join(RULE_KEYS))
    answers = "status" in data or "error_code" in data
    action = data.get("action", "error" if answers else "latency")
    if action not in ACTIONS:
        raise SettingError(f"{where}.action", "one of " + ", ".join(ACTIONS), action)
    endpoint = data.get("endpoint")
    if endpoint is not None and endpoint not in FAULT_ENDPOINTS:
        raise SettingError(f"{where}.endpoint", "one of " + ", ".join(FAULT_ENDPOINTS), endpoint)
    if action in UPLOAD_ACTIONS and endpoint not in (None, "upload"):
        raise SettingError(f"{where}.endpoint", f"upload (or none) for action {action}", endpoint)
    if action in UPLOAD_ACTIONS:
        endpoint = "upload"
    client_key = data.get("client_key")
    if client_key is not None and (not isinstance(client_key, str) or client_key not in apps):
        raise SettingError(f"{where}.client_key", "the client_key of an app", client_key)
    creator = data.get("creator")
    if creator is not None and (not isinstance(creator, str) or creator not in creator_uids):
        raise SettingError(f"{where}.creator", "the username of a creator", creator)
    nth = data.get("nth")
    if nth is not None and (type(nth) is not int or nth < 1):
        raise SettingError(f"{where}.nth", "a positive integer", nth)
    probability = None
    if "probability" in data:
        probability = _number(data, "probability", where, 0, 1)
    times = data.get("times", 1 if nth is not None else None)
    if times is not None and (type(times) is not int or times < 1):
        raise SettingError(f"{where}.times", "a positive integer or null (no limit)", times)
    status, code = _error(data, action, where)
    message = data.get("message")
    if message is not None and not isinstance(message, str):
        raise SettingError(f"{where}.message", "a string", message)
    latency = _latency(data, where)
    if action == "latency" and not latency:
        raise SettingError(f"{where}.latency_ms", "a latency for action latency", show_got=False)
    return FaultRule(
        rule_id,
        action,
        endpoint,
        client_key,
        creator_uids.get(creator) if creator else None,
        nth,
        probability,
        times,
        status,
        code,
        message,
        latency,
    )


def _error(data: Mapping[str, Any], action: str, where: str) -> tuple[int | None, str | None]:
    """The status and code of an `error` or `chunk_5xx` fault (defaults: 500 internal_error,
    503 for chunks)."""
    if action not in ("error", "chunk_5xx"):
        return None, None
    code = data.get("error_code")
    if code is not None and (
        not isinstance(code, str) or (code not in API_ERRORS and code not in OAUTH_ERRORS)
    ):
        raise SettingError(f"{where}.error_code", "a TikTok error code (ref 4.2, 2.6)", code)
    documented = API_ERRORS[code].http_status if code in API_ERRORS else None
    if code in OAUTH_ERRORS:
        documented = {"server_error": 500, "temporarily_unavailable": 503}.get(code, 400)
    status = data.get("status", 503 if action == "chunk_5xx" else documented or 500)
    low = 500 if action == "chunk_5xx" else 400
    if type(status) is not int or not low <= status <= 599:
        raise SettingError(f"{where}.status", f"an HTTP status from {low} to 599", status)
    return status, code
