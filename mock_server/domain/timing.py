"""How long things take on the sandbox clock: processing, moderation, downloads (ref 10.4, 11).

A scenario picks a profile by name (`timing: fast`) or overrides its fields
(`timing: {profile: realistic, moderation_seconds: 7200}`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from mock_server.domain.settings import SettingError

GB = 1024**3


@dataclass(frozen=True)
class Timing:
    # ref 11: "512 MB < 30 s; 1 GB ~ 1 min; 4 GB > 2 min": a base plus a per-GB rate.
    processing_base_seconds: float
    processing_seconds_per_gb: float
    # ref 11: moderation "usually under 1 minute but sometimes hours".
    moderation_seconds: float
    # ref 10.4: ingress "can reach 100 Mbps"; 0 means downloads take no sandbox time.
    download_bytes_per_second: float
    # ref 10.4: a pull that has not finished after 1 hour fails.
    download_timeout_seconds: float

    def processing_seconds(self, size_bytes: int) -> float:
        return self.processing_base_seconds + self.processing_seconds_per_gb * size_bytes / GB

    def download_seconds(self, size_bytes: int) -> float:
        if self.download_bytes_per_second <= 0:
            return 0.0
        return size_bytes / self.download_bytes_per_second


TIMING_PROFILES: dict[str, Timing] = {
    # For tests: everything is a second or two of sandbox time.
    "fast": Timing(1.0, 0.0, 1.0, 0.0, 3600.0),
    # For demos: the documented averages (ref 11) and 100 Mbps downloads (ref 10.4).
    # 512 MiB in 28 s (< 30 s), 1 GiB in 53 s (~1 min), 4 GiB in 203 s (> 2 min).
    "realistic": Timing(3.0, 50.0, 30.0, 12_500_000.0, 3600.0),
}
DEFAULT_PROFILE = "fast"


def timing_from(value: Any, where: str) -> Timing:
    """A profile name, or a mapping with an optional `profile` and field overrides."""
    if value is None:
        return TIMING_PROFILES[DEFAULT_PROFILE]
    if isinstance(value, str):
        if value not in TIMING_PROFILES:
            raise SettingError(where, f"one of {', '.join(TIMING_PROFILES)}", value)
        return TIMING_PROFILES[value]
    if not isinstance(value, dict):
        raise SettingError(where, "a profile name or a mapping", value)
    overrides = dict(value)
    base = timing_from(overrides.pop("profile", DEFAULT_PROFILE), f"{where}.profile")
    names = {f.name for f in fields(Timing)}
    for key, number in overrides.items():
        if key not in names:
            expected = f"one of profile, {', '.join(sorted(names))}"
            raise SettingError.unknown_key(where, key, expected)
        if type(number) not in (int, float) or number < 0:
            raise SettingError(f"{where}.{key}", "a non-negative number", number)
    return replace(base, **{k: float(v) for k, v in overrides.items()})
