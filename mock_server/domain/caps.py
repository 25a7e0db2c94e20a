"""Rolling 24 h counters behind TikTok's posting caps (ref 15.1, 15.2)."""

from __future__ import annotations

from dataclasses import dataclass, field

DAY_SECONDS = 24 * 3600


def in_window(at: float, now: float, span: float) -> bool:
    """Whether the instant `at` is in the `span` seconds up to `now`: after `now - span`, and
    not after `now` (a clock set back leaves instants after it: they count once it is there
    again). The rule of the rate-limit windows and the 24 h caps."""
    return now - span < at <= now


# ref 15.1: an unaudited client may have at most 5 distinct posting users in 24 h.
UNAUDITED_ACTIVE_CREATOR_CAP = 5


@dataclass
class ActiveCreatorWindow:
    """Which creators posted through one app, and when they last did, over a rolling 24 h."""

    last_post: dict[str, float] = field(default_factory=dict)

    def _prune(self, now: float) -> None:
        stale = [uid for uid, at in self.last_post.items() if at <= now - DAY_SECONDS]
        for uid in stale:
            del self.last_post[uid]

    def active(self, now: float) -> set[str]:
        """Who posted in the 24 h up to `now`. Only reads: a creator_info asks it, and changes
        nothing (a data directory need not write the app again)."""
        return {uid for uid, at in self.last_post.items() if in_window(at, now, DAY_SECONDS)}

    def admits(self, creator_uid: str, now: float, cap: int | None) -> bool:
        """Whether `creator_uid` may post now without making the app exceed `cap` creators."""
        if cap is None:
            return True
        active = self.active(now)
        return creator_uid in active or len(active) < cap

    def record(self, creator_uid: str, now: float) -> None:
        """A post by `creator_uid`: its instant is kept, and creators whose last post left
        the window are let go (so the window stays as short as the cap)."""
        self._prune(now)
        self.last_post[creator_uid] = now


def effective_active_creator_cap(stage: str, configured: int | None) -> int | None:
    """The cap that applies to an app: its configured cap, and never above 5 before audit."""
    if stage in ("sandbox", "unaudited"):
        return (
            UNAUDITED_ACTIVE_CREATOR_CAP
            if configured is None
            else min(configured, UNAUDITED_ACTIVE_CREATOR_CAP)
        )
    return configured
