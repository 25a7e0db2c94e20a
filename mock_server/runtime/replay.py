"""Export the journal as a runnable pytest file that replays it against a fresh sandbox.

The file rebuilds the sandbox from the same scenario and seed, with a frozen clock set to the
instant the world was built; each step sets the clock to the instant the request was made,
sends the same request, and asserts the same status, body and (for redirects and uploads)
headers. Everything the sandbox answers is deterministic given those, so a difference is a
regression. Webhooks go to a recording sender, so a replay sends nothing out.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import yaml

from mock_server.runtime.clock import format_instant
from mock_server.runtime.journal import JournalEntry
from mock_server.scenario import Scenario

# Headers a replayed request carries again (the rest are the client's own business).
SENT_HEADERS = ("authorization", "content-type", "content-range")


class NotReplayable(ValueError):
    """The journal cannot be replayed faithfully; the message says why."""


@dataclass(frozen=True)
class Step:
    at: float
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int
    response: bytes | None
    response_headers: dict[str, str]
    checked: bool


def steps(entries: list[JournalEntry], client_key: str | None) -> list[Step]:
    """Oldest first. All requests are replayed (ids depend on every earlier request); only
    TikTok endpoints' answers are checked, and only `client_key`'s when it is given."""
    result = []
    for entry in sorted(entries, key=lambda e: e.seq):
        exchange = entry.exchange
        if exchange is None or exchange.request_body is None:
            raise NotReplayable(
                f"request #{entry.seq} ({entry.method} {entry.path}) has a body "
                "too large to keep; replay covers requests up to 16 KiB"
            )
        query = f"?{entry.query}" if entry.query else ""
        headers = {k: v for k, v in entry.request_headers.items() if k in SENT_HEADERS}
        # Control calls are replayed (they change state) but their answers are not checked:
        # they describe the sandbox (its clock may have been real time), not TikTok.
        checked = not entry.path.startswith("/_sandbox") and (
            client_key is None or entry.client_key == client_key
        )
        # Pages (the consent page) carry a form token drawn anew by every sandbox: their status
        # and redirects are compared, not their HTML.
        page = exchange.response_headers.get("content-type", "").startswith("text/html")
        result.append(
            Step(
                exchange.at,
                entry.method,
                entry.path + query,
                headers,
                exchange.request_body,
                entry.status,
                None if page else exchange.response_body,
                exchange.response_headers,
                checked,
            )
        )
    return result


def render(
    scenario: Scenario,
    seed: int,
    built_at: float,
    base_url: str,
    recorded: list[Step],
    client_key: str | None,
) -> str:
    """The text of the pytest module."""
    builtin = scenario.builtin
    if builtin:
        scenario_setup = f"SCENARIO = {builtin!r}"
    else:
        text = yaml.safe_dump(dict(scenario.raw), sort_keys=False, allow_unicode=True)
        scenario_setup = (
            f"SCENARIO_YAML = {text!r}\n\n\n"
            "def _scenario(tmp_path):\n"
            "    path = tmp_path / 'scenario.yaml'\n"
            "    path.write_text(SCENARIO_YAML, encoding='utf-8')\n"
            "    return str(path)"
        )
    lines = []
    for step in recorded:
        body = base64.b64encode(step.body).decode()
        response = base64.b64encode(step.response).decode() if step.response is not None else None
        kept = {
            k: v for k, v in step.response_headers.items() if k in ("location", "content-range")
        }
        lines.append(
            f"    Step({step.at!r}, {step.method!r}, {step.url!r}, {step.headers!r}, {body!r}, "
            f"{step.status!r}, {response!r}, {kept!r}, {step.checked!r}),"
        )
    scope = f"the answers to app {client_key}" if client_key else "every answer"
    make_sandbox = ("Sandbox(SCENARIO, " if builtin else "Sandbox(_scenario(tmp_path), ") + (
        "seed=SEED, clock=Clock.frozen_at(BUILT_AT), webhook_sender=RecordingWebhookSender(),\n"
        "        options=ServerOptions(verify_form_tokens=False))"
    )
    return TEMPLATE.format(
        when=format_instant(recorded[0].at) if recorded else format_instant(built_at),
        scenario=scenario.name,
        seed=seed,
        scope=scope,
        scenario_setup=scenario_setup,
        built_at=repr(built_at),
        base_url=base_url,
        steps="\n".join(lines),
        make_sandbox=make_sandbox,
    )


TEMPLATE = '''"""Replay of a tiktok-sandbox journal from {when}: scenario {scenario!r}, seed {seed}.

Generated by GET /_sandbox/journal/export. It replays every recorded request against a fresh
sandbox, with the sandbox clock at each request's recorded instant, and checks {scope}. The
recorded consent form posts carry the original sandbox's form tokens, so this one does not
check them.
"""

from __future__ import annotations

import base64
import json
from typing import NamedTuple

from mock_server import Clock, Sandbox
from mock_server.runtime.webhooks import RecordingWebhookSender
from mock_server.state import ServerOptions

{scenario_setup}
SEED = {seed}
BUILT_AT = {built_at}
BASE_URL = {base_url!r}


class Step(NamedTuple):
    at: float
    method: str
    url: str
    headers: dict
    body: str
    status: int
    response: str | None
    response_headers: dict
    checked: bool


STEPS = [
{steps}
]


def _same_body(expected: bytes, actual: bytes) -> bool:
    try:
        return json.loads(expected) == json.loads(actual)
    except ValueError:
        return expected == actual


def test_replay(tmp_path):
    sandbox = {make_sandbox}
    with sandbox.client(base_url=BASE_URL, follow_redirects=False) as http:
        for number, step in enumerate(STEPS, 1):
            sandbox.clock.set(step.at)
            answer = http.request(step.method, step.url, headers=step.headers,
                                  content=base64.b64decode(step.body))
            if not step.checked:
                continue
            where = f"step {{number}}: {{step.method}} {{step.url}}"
            assert answer.status_code == step.status, (where, answer.text)
            for name, value in step.response_headers.items():
                assert answer.headers.get(name) == value, (where, name)
            if step.response is not None:
                assert _same_body(base64.b64decode(step.response), answer.content), (
                    where, answer.text)
    sandbox.close()
'''


def export(state: Any, client_key: str | None = None) -> str:
    """The pytest module replaying `state`'s journal (since the last reset)."""
    journal = state.journal
    if journal.lost_entries():
        raise NotReplayable(
            f"the journal kept only its last {journal.capacity} entries; raise "
            "ServerOptions.journal_capacity or reset before the run to export it"
        )
    entries = journal.entries()
    recorded = steps(entries, client_key)
    oldest = entries[-1].exchange if entries else None
    base_url = oldest.base_url if oldest else "http://127.0.0.1:8080"
    return render(state.scenario, state.seed, state.built_at, base_url, recorded, client_key)
