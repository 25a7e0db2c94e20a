"""Audit checks of the app's pace: backing off after a 429, polling status within TikTok's
limit, and not retrying a post TikTok's caps refused (ref 4.3, 11, 15.2, 8)."""

from __future__ import annotations

from collections import deque

from mock_server.audit.traffic import Call, Traffic, short
from mock_server.audit.verdicts import Findings
from mock_server.domain.caps import DAY_SECONDS
from mock_server.domain.ratelimit import RATE_LIMITS, WINDOW_SECONDS

# After a 429 the next request to the same endpoint with the same token waits at least this
# long; more 429s than STORM_429S within a minute on one endpoint and token is a retry storm
# (docs/fidelity.md: TikTok documents no Retry-After, these thresholds are ours).
MIN_BACKOFF_SECONDS = 1.0
STORM_429S = 5
STATUS_PER_MINUTE = RATE_LIMITS["status_fetch"]  # ref 4.3: 30 a minute per access token


def _key(call: Call) -> tuple[str, str]:
    """What TikTok counts a rate limit by: the endpoint and the access token (the client_key
    for the OAuth endpoints, which take no token)."""
    who = call.bearer or call.form.get("client_key") or call.params.get("upload_id") or ""
    return call.endpoint or call.entry.path, who


def rate_limits_respected(traffic: Traffic) -> Findings:
    """ref 4.3: no 429, or a backoff after each: the next request to that endpoint with that
    token waits, and 429s do not pile up."""
    found = Findings("429 answers", "no request in the window")
    pending: dict[tuple[str, str], Call] = {}  # the last 429 whose next request is not seen yet
    recent: dict[tuple[str, str], deque[float]] = {}
    stormed: set[tuple[str, str]] = set()
    for call in traffic.calls:
        key = _key(call)
        judged = traffic.in_window(call)
        limited = pending.pop(key, None)
        if limited is not None and judged:
            waited = call.at - limited.at
            if waited < MIN_BACKOFF_SECONDS:
                found.fail(
                    call,
                    f"sent {waited:.1f} s after a 429 on {call.entry.path} with the same token: "
                    "no backoff",
                    (limited, "the 429"),
                )
            else:
                found.ok(limited, f"the next request came {waited:.1f} s later")
        if call.status != 429:
            continue
        pending[key] = call
        times = recent.setdefault(key, deque())
        times.append(call.at)
        while times and times[0] <= call.at - WINDOW_SECONDS:
            times.popleft()
        if judged and len(times) > STORM_429S and key not in stormed:
            stormed.add(key)
            found.fail(
                call,
                f"{len(times)} 429s within a minute on {call.entry.path} with one token "
                f"({short(key[1])}): a retry storm",
            )
    for limited in pending.values():
        if traffic.in_window(limited):
            found.ok(limited, "not retried")
    if not found.fails and not found.warns and not found.passes:
        calls = traffic.window_calls()
        if calls:
            found.ok(calls[0], f"no 429 in {len(calls)} requests")
            found.pass_summary = f"no 429 in {len(calls)} requests"
    return found


def status_polling_within_limit(traffic: Traffic) -> Findings:
    """ref 4.3, 11: status/fetch takes 30 requests a minute per access token; an app polls
    slower than that (or follows the webhooks)."""
    found = Findings("access tokens polling status", "no status/fetch in the window")
    polls: dict[str, list[Call]] = {}
    for call in traffic.calls:
        if call.endpoint == "status_fetch" and call.bearer:
            polls.setdefault(call.bearer, []).append(call)
    for token, calls in polls.items():
        judged = [i for i, c in enumerate(calls) if traffic.in_window(c)]
        if not judged:
            continue
        peak, start, first_over = 0, 0, None
        for end, call in enumerate(calls):
            while call.at - calls[start].at >= WINDOW_SECONDS:
                start += 1
            count = end - start + 1
            peak = max(peak, count)
            if count > STATUS_PER_MINUTE and first_over is None and traffic.in_window(call):
                first_over = (calls[start], call)
        if first_over is not None:
            first, over = first_over
            found.fail(
                over,
                f"status/fetch #{STATUS_PER_MINUTE + 1} within "
                f"{over.at - first.at:.1f} s with access token {short(token)} "
                f"(TikTok takes {STATUS_PER_MINUTE} a minute)",
                (first, "the first of them"),
            )
        else:
            found.ok(
                calls[judged[0]],
                f"{len(calls)} status/fetch calls with {short(token)}, at most {peak} in a minute",
            )
    return found


# ref 7.4, 8, 15.2: the caps, and how long a refusal holds (None: do not retry at all).
CAPS: dict[str, tuple[str, float | None]] = {
    "spam_risk_too_many_posts": ("the creator's daily Direct Post cap", DAY_SECONDS),
    "spam_risk_too_many_pending_share": ("the cap of pending inbox shares", DAY_SECONDS),
    "reached_active_user_cap": ("the app's daily cap of posting creators", DAY_SECONDS),
    "spam_risk_user_banned_from_posting": ("a creator banned from posting", None),
}


def cap_errors_not_retried(traffic: Traffic) -> Findings:
    """ref 7.4, 8, 11, 15.2: after a cap or ban refusal the app tells the person and stops;
    posting again for that creator is refused the same way (a retry storm)."""
    found = Findings("cap and ban refusals", "no init refused by a cap or a ban in the window")
    first: dict[tuple[str, str], Call] = {}
    retried: set[int] = set()
    for init in traffic.calls:
        if not init.is_init or not init.creator or init.code not in CAPS:
            continue
        code = init.code
        what, holds = CAPS[code]
        key = (code, init.creator)
        prior = first.get(key)
        if prior is None or (holds is not None and init.at - prior.at >= holds):
            first[key] = init
            continue
        if traffic.in_window(init) and prior.seq not in retried:
            retried.add(prior.seq)
            found.fail(
                init,
                f"posted for {init.creator} again after #{prior.seq} was refused with {code} "
                f"({what})",
                (prior, "the first refusal"),
            )
    for refusal in first.values():
        if refusal.seq not in retried and traffic.in_window(refusal):
            found.ok(refusal, f"{refusal.code}: not retried")
    return found
