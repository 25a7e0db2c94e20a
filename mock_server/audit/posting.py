"""Audit checks of the post itself: what TikTok's content sharing guidelines ask of the "Post to
TikTok" page, as far as the init requests show it (ref 6, 7.1, 9, 15.1, 15.4)."""

from __future__ import annotations

from mock_server.audit.traffic import (
    INIT_ENDPOINTS,
    Call,
    CreatorInfoSeen,
    Traffic,
)
from mock_server.audit.verdicts import Findings

# ref 15.4: creator_info is fetched when the post page is shown. An answer older than this when
# the init is sent was not fetched for this post (docs/fidelity.md: the threshold is ours).
CREATOR_INFO_FRESH_SECONDS = 600
UNAUDITED_REFUSAL = "unaudited_client_can_only_post_to_private_accounts"
FORCED_SELF_ONLY = "accepted:privacy_forced_self_only"


def _direct_posts(traffic: Traffic) -> list[Call]:
    """Direct Post inits in the window that the sandbox could tie to a creator."""
    return [c for c in traffic.judged(*INIT_ENDPOINTS) if c.is_direct_post and c.creator]


def _seen(info: CreatorInfoSeen) -> tuple[Call, str]:
    return info.call, f"the creator_info answer for {info.call.creator} the app had then"


def _age(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def creator_info_before_post(traffic: Traffic) -> Findings:
    """ref 6, 15.4: a fresh creator_info answer for the creator before every Direct Post; an
    answer already used for an earlier post is a cached one; "cannot post now" stops the post."""
    found = Findings("Direct Post inits", "no Direct Post init in the window")
    used_by: dict[int, Call] = {}  # creator_info seq -> the accepted init that used it
    for init in traffic.calls:
        if not init.is_direct_post or not init.creator:
            continue
        seen = traffic.creator_info_before(init)
        if traffic.in_window(init):
            used = used_by.get(seen.call.seq) if seen is not None else None
            _judge_freshness(found, traffic, init, seen, used)
        if init.ok and seen is not None and seen.ok:
            used_by.setdefault(seen.call.seq, init)
    return found


def _judge_freshness(
    found: Findings,
    traffic: Traffic,
    init: Call,
    seen: CreatorInfoSeen | None,
    used: Call | None,
) -> None:
    creator = init.creator
    if seen is None:
        if traffic.lost:
            found.unknown(init, f"no creator_info for {creator} in what the journal still holds")
        else:
            found.fail(init, f"posted for {creator} without a creator_info/query for them first")
    elif not seen.ok:
        found.fail(
            init,
            f"creator_info answered {seen.call.code} (the creator cannot post now), and the app "
            "posted anyway",
            (seen.call, "creator_info's answer: stop and ask the person to try later"),
        )
    elif used is not None:
        found.fail(
            init,
            f"reused the creator_info answer #{seen.call.seq}, already used for the post at "
            f"#{used.seq}: a cached answer",
            _seen(seen),
            (used, "the earlier post that used it"),
        )
    elif init.at - seen.call.at > CREATOR_INFO_FRESH_SECONDS:
        found.warn(
            init,
            f"the creator_info answer #{seen.call.seq} was {_age(init.at - seen.call.at)} old: "
            "fetch it when the post page opens",
            _seen(seen),
        )
    else:
        found.ok(init, f"creator_info #{seen.call.seq} fetched for this post", _seen(seen))


def privacy_level_in_options(traffic: Traffic) -> Findings:
    """ref 6, 7.1, 15.4: privacy_level is one of the creator's privacy_level_options at the
    time; one level sent for creators whose options differ looks like a hard-coded default."""
    found = Findings("Direct Post inits", "no Direct Post init in the window")
    picked: dict[str, tuple[tuple[str, ...], str, Call]] = {}  # creator -> (options, level, init)
    for init in _direct_posts(traffic):
        level = (init.post_info() or {}).get("privacy_level")
        seen = traffic.settings_before(init)
        related = (_seen(seen),) if seen else ()
        if init.code == "privacy_level_option_mismatch":
            found.fail(
                init,
                f"TikTok refused privacy_level {level!r}: privacy_level_option_mismatch",
                *related,
            )
        elif init.body is None:
            if not init.unread:
                found.unknown(init, init.no_body)
        elif not isinstance(level, str):
            found.fail(init, "no privacy_level: the person picks one of privacy_level_options")
        elif seen is None:
            found.unknown(init, f"{level} sent; no creator_info for {init.creator} to compare")
        elif level not in seen.privacy_level_options:
            found.fail(
                init,
                f"{level} is not one of {init.creator}'s options "
                f"({', '.join(seen.privacy_level_options)})",
                *related,
            )
        else:
            found.ok(init, f"{level} is one of {init.creator}'s options", *related)
            picked.setdefault(str(init.creator), (seen.privacy_level_options, level, init))
    _hard_coded_default(found, picked)
    return found


def _hard_coded_default(
    found: Findings, picked: dict[str, tuple[tuple[str, ...], str, Call]]
) -> None:
    levels = {level for _, level, _ in picked.values()}
    options = {frozenset(o) for o, _, _ in picked.values()}
    if len(picked) < 2 or len(levels) != 1 or len(options) < 2:
        return
    (level,) = levels
    creators = sorted(picked)
    first = picked[creators[0]][2]
    found.warn(
        first,
        f"every post used {level}, for creators whose options differ "
        f"({', '.join(creators)}): a default the person did not pick",
        *((picked[c][2], f"{c}: {', '.join(picked[c][0])}") for c in creators[1:]),
    )


INTERACTIONS = ("comment", "duet", "stitch")


def interaction_settings_respected(traffic: Traffic) -> Findings:
    """ref 6, 7.1, 15.4: a comment, duet or stitch setting the creator turned off stays off
    (the box is greyed out): `disable_x` is true. Photos have only comments (ref 9)."""
    found = Findings(
        "posts for creators with an interaction off",
        "no Direct Post for a creator who turned comments, duets or stitches off",
    )
    for init in _direct_posts(traffic):
        seen = traffic.settings_before(init)
        if seen is None:
            found.unknown(init, f"no creator_info answer for {init.creator} to compare")
            continue
        kinds = INTERACTIONS[:1] if init.is_photo else INTERACTIONS
        off = [k for k in kinds if seen.disabled(k)]
        if not off:
            continue
        if init.body is None:
            if not init.unread:
                found.unknown(init, init.no_body, _seen(seen))
            continue
        info = init.post_info() or {}
        turned_on = [k for k in off if info.get(f"disable_{k}") is False]
        left_out = [k for k in off if info.get(f"disable_{k}") is None]
        if turned_on:
            found.fail(
                init,
                f"{init.creator} turned {', '.join(turned_on)} off, and the post sent "
                + ", ".join(f"disable_{k}=false" for k in turned_on),
                _seen(seen),
            )
        elif left_out:
            found.warn(
                init,
                f"{init.creator} turned {', '.join(left_out)} off, and the post left out "
                + ", ".join(f"disable_{k}" for k in left_out)
                + " (TikTok reads that as allowed)",
                _seen(seen),
            )
        else:
            found.ok(init, f"disable_{'/'.join(off)} true, as {init.creator} set", _seen(seen))
    return found


def branded_content_not_private(traffic: Traffic) -> Findings:
    """ref 7.1, 9, 15.4: branded content (brand_content_toggle) is never SELF_ONLY; the brand
    toggles belong to Direct Post (an inbox upload's creator discloses in the TikTok app)."""
    found = Findings(
        "posts with a brand toggle", "no post with brand_content_toggle or brand_organic_toggle"
    )
    for init in traffic.judged(*INIT_ENDPOINTS):
        info = init.post_info() or {}
        branded = info.get("brand_content_toggle") is True
        toggled = [k for k in ("brand_content_toggle", "brand_organic_toggle") if info.get(k)]
        if not toggled:
            continue
        if not init.is_direct_post:
            found.warn(
                init,
                f"{', '.join(toggled)} sent with an upload to the inbox, where TikTok ignores "
                "it: the creator discloses in the TikTok app",
            )
            continue
        level = info.get("privacy_level")
        if branded and level == "SELF_ONLY":
            found.fail(init, "branded content (brand_content_toggle) sent with SELF_ONLY")
        else:
            found.ok(init, f"{', '.join(toggled)} with {level}")
    return found


def unaudited_self_only_surfaced(traffic: Traffic) -> Findings:
    """ref 15.1: before the audit, Direct Post goes to private accounts only and every post is
    SELF_ONLY. An app that retries a refused post, or asks for a wider audience, did not tell
    the person."""
    found = Findings(
        "Direct Posts under the unaudited restriction",
        "no Direct Post met the unaudited-stage restriction (an audited app, or no Direct Post)",
    )
    first_refusal: dict[str, Call] = {}
    retried: set[int] = set()
    for init in traffic.calls:
        if not init.is_direct_post or not init.creator:
            continue
        creator = init.creator
        judged = traffic.in_window(init)
        if init.code == UNAUDITED_REFUSAL:
            first = first_refusal.setdefault(creator, init)
            if first is not init:
                retried.add(first.seq)
                if judged:
                    found.fail(
                        init,
                        f"posted for {creator} again after #{first.seq} was refused "
                        "(unaudited apps post only to private accounts)",
                        (first, "the first refusal"),
                    )
        elif judged and init.rule == FORCED_SELF_ONLY:
            level = (init.post_info() or {}).get("privacy_level")
            found.warn(
                init,
                f"asked for {level}; an unaudited app's posts are SELF_ONLY whatever it asks",
            )
        elif judged and init.ok and traffic.app.stage != "audited":
            found.ok(init, "SELF_ONLY to a private account, as an unaudited app must post")
    for first in first_refusal.values():
        if first.seq not in retried and traffic.in_window(first):
            found.ok(first, "refused before the audit and not retried")
    return found
