"""A page from another loopback origin tries to drive and read the control plane (issue 10).

Headless Debian Chromium (the pattern and fixtures of tests/test_browser.py) opens a page served
by the test from 127.0.0.1 on another port: another origin, and "same-site" to the sandbox.
Its script does what a hostile web page would: `fetch()` POSTs with `text/plain` (no CORS
preflight) to `/_sandbox/clock`, `/_sandbox/reset` and `/_sandbox/tokens`, forms auto-submitted
to a publish's actions and to the consent endpoint, and `fetch()` reads of `/_sandbox/apps`.
The test then checks through the control API that nothing changed and nothing was issued, and
from the page's report that nothing could be read. The positive controls: the dashboard's own
buttons and the consent page's own Authorize button still work.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mock_server import Clock, RunningServer, Sandbox
from tests import test_browser
from tests.hardening.kit import SECRETS, SMALL_UPLOAD, snapshot
from tests.mock_server.lifecycle_kit import LoopbackServer, answer
from tests.test_browser import ACME, ACME_CALLBACK, TIMEOUT_MS, Browsing, authorize_url

pytestmark = pytest.mark.browser

# The browser fixtures of tests/test_browser.py: Debian's Chromium, and a fresh context whose
# traffic cannot leave 127.0.0.1.
browser = test_browser.browser
browsing = test_browser.browsing

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ANA = "ana_makes"

ATTACK = """<!doctype html><title>another origin</title><pre id=done></pre>
<script>
const S = %(sandbox)s;
const PUBLISH = %(publish)s;
const CONSENT = %(consent)s;
const TOKENS = %(tokens)s;
const results = {};
async function attempt(name, run) {
  try { results[name] = String(await run()); } catch (e) { results[name] = "refused: " + e; }
}
function post(path, body, type) {
  return fetch(S + path, {method: "POST", mode: "no-cors", headers: {"Content-Type": type},
                          body: JSON.stringify(body)}).then(r => r.type + " " + r.status);
}
function submit(path, fields) {
  return new Promise(resolve => {
    const frame = document.createElement("iframe");
    frame.name = "f" + Math.random().toString(36).slice(2);
    document.body.appendChild(frame);
    frame.addEventListener("load", () => {
      let blank = false;
      try { blank = frame.contentWindow.location.href === "about:blank"; } catch (e) {}
      if (!blank) resolve("submitted");
    });
    const form = document.createElement("form");
    form.method = "post";
    form.action = S + path;
    form.target = frame.name;
    for (const [name, value] of fields) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.appendChild(input);
    }
    document.body.appendChild(form);
    form.submit();
  });
}
(async () => {
  await attempt("clock", () => post("/_sandbox/clock", {advance_seconds: 86400}, "text/plain"));
  await attempt("tokens", () => post("/_sandbox/tokens", TOKENS, "text/plain"));
  await attempt("clock_json", () => fetch(S + "/_sandbox/clock", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: '{"advance_seconds": 60}'})
    .then(r => r.status));
  await attempt("action_form", () => submit("/_sandbox/publishes/" + PUBLISH + "/actions",
    [["action", "fail"], ["fail_reason", "internal"]]));
  await attempt("consent_form", () => submit("/v2/auth/authorize/", CONSENT));
  await attempt("reset", () => post("/_sandbox/reset", {seed: 99}, "text/plain"));
  await attempt("read_apps", () => fetch(S + "/_sandbox/apps").then(r => r.text()));
  await attempt("read_apps_opaque",
    () => fetch(S + "/_sandbox/apps", {mode: "no-cors"}).then(r => r.text()));
  await attempt("read_dashboard", () => fetch(S + "/_sandbox/").then(r => r.text()));
  document.getElementById("done").textContent = JSON.stringify(results);
})();
</script>
"""


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, RunningServer]]:
    """The default scenario on a frozen clock, served on a free loopback port."""
    sandbox = Sandbox("default", seed=7, clock=Clock.frozen_at(T0))
    with sandbox.serve(host="127.0.0.1", port=0) as running:
        yield sandbox, running
    sandbox.close()


def new_publish(sandbox: Sandbox, http: httpx.Client) -> str:
    token = sandbox.issue_tokens(ACME, ANA, ["video.publish", "video.upload"])["access_token"]
    response = http.post(
        "/v2/post/publish/video/init/",
        headers={"Authorization": f"Bearer {token}"},
        json={"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": SMALL_UPLOAD},
    )
    assert response.json()["error"]["code"] == "ok", response.text
    publish_id: str = response.json()["data"]["publish_id"]
    return publish_id


def attack_page(sandbox_url: str, publish_id: str, redirect_uri: str) -> bytes:
    consent = [
        ["client_key", ACME],
        ["scope", "user.info.basic"],
        ["redirect_uri", redirect_uri],
        ["state", "stolen"],
        ["response_type", "code"],
        ["decision", "approve"],
        ["creator", ANA],
        ["granted", "user.info.basic"],
    ]
    tokens = {"client_key": ACME, "username": ANA, "scopes": ["user.info.basic"]}
    return (
        ATTACK
        % {
            "sandbox": json.dumps(sandbox_url),
            "publish": json.dumps(publish_id),
            "consent": json.dumps(consent),
            "tokens": json.dumps(tokens),
        }
    ).encode()


def html(body: bytes) -> Any:
    def handle(request: Any, _: bytes) -> None:
        answer(request, 200, body, Content_Type="text/html; charset=utf-8")

    return handle


def test_a_page_on_another_origin_can_neither_change_nor_read_the_sandbox(
    served: tuple[Sandbox, RunningServer], browsing: Browsing
) -> None:
    sandbox, running = served
    with (
        httpx.Client(base_url=running.url, timeout=30) as http,
        LoopbackServer(html(b"<p>the app")) as app,  # the app's redirect URI, really served
    ):
        callback = f"{app.url}/callback/"
        registered = http.get(f"/_sandbox/apps/{ACME}").json()["redirect_uris"]
        patched = http.patch(
            f"/_sandbox/apps/{ACME}", json={"redirect_uris": [*registered, callback]}
        )
        assert patched.status_code == 200, patched.text
        publish_id = new_publish(sandbox, http)
        before = snapshot(http)
        health = http.get("/_sandbox/health").json()

        with LoopbackServer(html(attack_page(running.url, publish_id, callback))) as attacker:
            assert attacker.port not in (running.port, app.port)
            browsing.page.goto(f"{attacker.url}/")
            browsing.page.wait_for_function(
                "document.getElementById('done').textContent !== ''", timeout=TIMEOUT_MS
            )
            report = json.loads(browsing.page.locator("#done").inner_text())

        assert set(report) >= {"clock", "reset", "tokens", "action_form", "consent_form"}
        # Nothing changed, nothing was issued.
        assert snapshot(http) == before
        assert http.get("/_sandbox/health").json() == health
        assert http.get(f"/_sandbox/publishes/{publish_id}").json()["status"] == (
            "PROCESSING_UPLOAD"
        )
        consents = http.get("/_sandbox/journal", params={"path": "/v2/auth/authorize/"}).json()
        assert consents["entries"], "the consent form was posted"
        assert all(e["status"] != 302 for e in consents["entries"]), "a code was issued"
        assert [path for _, path, _, _ in app.requests if "code=" in path] == []
        # Nothing could be read.
        for name in ("read_apps", "read_apps_opaque", "read_dashboard"):
            for secret in SECRETS.values():
                assert secret not in report[name], f"{name} read {report[name][:200]}"
            assert "client_secret" not in report[name], report[name][:200]


def test_the_dashboards_own_buttons_still_work(
    served: tuple[Sandbox, RunningServer], browsing: Browsing
) -> None:
    sandbox, running = served
    with httpx.Client(base_url=running.url, timeout=30) as http:
        publish_id = new_publish(sandbox, http)
        page = browsing.page
        page.goto(f"{running.url}/_sandbox/")
        button = page.locator(
            f"form[action$='/_sandbox/publishes/{publish_id}/actions'] "
            "button[data-action='revoke_app']"
        )
        assert button.count() == 1
        with page.expect_navigation():
            button.click()
        assert urlsplit(page.url).path == "/_sandbox/"
        publish = http.get(f"/_sandbox/publishes/{publish_id}").json()
        assert (publish["status"], publish["fail_reason"]) == ("FAILED", "auth_removed")


def test_the_consent_pages_own_authorize_button_still_works(
    served: tuple[Sandbox, RunningServer], browsing: Browsing
) -> None:
    _, running = served
    page = browsing.page
    callback = browsing.intercept(ACME_CALLBACK + "**")
    response = page.goto(authorize_url(running.url, ACME, ["user.info.basic"], ACME_CALLBACK))
    assert response is not None and response.status == 200
    page.check(f"input[name=creator][data-creator='{ANA}']")
    page.click("#approve")
    page.wait_for_url(ACME_CALLBACK + "**")
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback.hits[0]).query).items()}
    assert query["code"] and query["state"] == "st-8f3a/xyz"
    with httpx.Client(base_url=running.url, timeout=30) as http:
        exchanged = http.post(
            "/v2/oauth/token/",
            data={
                "client_key": ACME,
                "client_secret": SECRETS[ACME],
                "code": query["code"],
                "grant_type": "authorization_code",
                "redirect_uri": ACME_CALLBACK,
            },
        )
        assert "access_token" in exchanged.json(), exchanged.text
