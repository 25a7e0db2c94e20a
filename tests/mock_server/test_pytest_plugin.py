"""The pytest plugin, used as another project would use it: small user projects run by pytest's
own `pytester`, with the plugin loaded from the installed package's `pytest11` entry point.

The code under test in these projects is a user's plain integration: `requests` or `httpx`
calls to https://open.tiktokapis.com, with no knowledge of the sandbox.
"""

from __future__ import annotations

import pytest

from tests.netguard import refuse_remote_hosts

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _no_remote_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The user projects run in this process: if interception failed, nothing leaves it."""
    refuse_remote_hosts(monkeypatch)


# A user's integration written with requests against TikTok's real URLs.
REQUESTS_APP = '''
import requests

API = "https://open.tiktokapis.com"
KEY, SECRET = "awacmescheduler01", "acmeSchedulerSecret0000000000001"
REDIRECT = "http://127.0.0.1:3000/callback/"


class PostRefused(Exception):
    pass


def _json_headers(token):
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=UTF-8"}


def post_video(token, path, privacy=None, retries=0):
    """Direct Post of one file in a single chunk; returns the publish_id."""
    headers = _json_headers(token)
    info = requests.post(f"{API}/v2/post/publish/creator_info/query/", headers=headers)
    size = path.stat().st_size
    privacy = privacy or info.json()["data"]["privacy_level_options"][0]
    body = {
        "post_info": {"title": "Hello", "privacy_level": privacy},
        "source_info": {
            "source": "FILE_UPLOAD", "video_size": size, "chunk_size": size, "total_chunk_count": 1
        },
    }
    for attempt in range(retries + 1):
        init = requests.post(f"{API}/v2/post/publish/video/init/", headers=headers, json=body)
        if init.status_code < 500:
            break
    if init.json()["error"]["code"] != "ok":
        raise PostRefused(init.json()["error"]["code"])
    with path.open("rb") as media:
        put = requests.put(
            init.json()["data"]["upload_url"],
            data=media,
            headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{size - 1}/{size}"},
        )
    put.raise_for_status()
    return init.json()["data"]["publish_id"]


def status(token, publish_id):
    r = requests.post(
        f"{API}/v2/post/publish/status/fetch/",
        headers=_json_headers(token),
        json={"publish_id": publish_id},
    )
    return r.json()["data"]["status"]


class Session:
    """Keeps a user's tokens and refreshes the access token when TikTok says it expired."""

    def __init__(self, code):
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
        self.tokens = self._token(form)

    def _token(self, form):
        form = {"client_key": KEY, "client_secret": SECRET, **form}
        return requests.post(f"{API}/v2/oauth/token/", data=form).json()

    def display_name(self):
        for _ in range(2):
            r = requests.get(
                f"{API}/v2/user/info/",
                params={"fields": "display_name"},
                headers={"Authorization": f"Bearer {self.tokens['access_token']}"},
            )
            if r.status_code != 401:
                return r.json()["data"]["user"]["display_name"]
            refresh = self.tokens["refresh_token"]
            self.tokens = self._token({"grant_type": "refresh_token", "refresh_token": refresh})
        raise RuntimeError("still unauthorized after a refresh")
'''

ANA = """
import pytest
from conformance.media import make_video


@pytest.fixture
def clip(tmp_path):
    return make_video(tmp_path / "clip.mp4")


@pytest.fixture
def token(tiktok_sandbox):
    tokens = tiktok_sandbox.issue_tokens("awacmescheduler01", "ana_makes", ["video.publish"])
    return tokens["access_token"]
"""


def run(pytester: pytest.Pytester, *args: str, quiet: bool = True) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *(["-q"] if quiet else []), *args)


def test_unmodified_requests_code_posts_a_video(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app=REQUESTS_APP)
    pytester.makeconftest(ANA)
    pytester.makepyfile(
        test_post="""
        import pytest
        import app


        def test_posts_with_a_block(tiktok_sandbox, token, clip):
            with tiktok_sandbox.intercept():
                publish_id = app.post_video(token, clip)
                assert app.status(token, publish_id) == "PROCESSING_UPLOAD"
                tiktok_sandbox.advance(2)
                assert app.status(token, publish_id) == "PUBLISH_COMPLETE"
            (publish,) = tiktok_sandbox.publishes(creator="ana_makes")
            assert publish.publish_id == publish_id
            assert publish.statuses == ["PROCESSING_UPLOAD", "PUBLISH_COMPLETE"]
            assert publish.privacy_level == "PUBLIC_TO_EVERYONE" and publish.public
            assert [r.endpoint for r in tiktok_sandbox.journal(creator="ana_makes")] == [
                "creator_info", "video_init", "upload", "status_fetch", "status_fetch",
            ]
            (upload,) = tiktok_sandbox.journal(endpoint="upload")
            assert (upload.status, upload.request_bytes) == (201, clip.stat().st_size)


        @pytest.mark.tiktok_intercept
        def test_posts_under_the_marker(tiktok_sandbox, token, clip):
            publish_id = app.post_video(token, clip)
            assert tiktok_sandbox.publish(publish_id).uploaded_bytes == clip.stat().st_size


        SPOOLS = []


        def test_each_test_gets_a_fresh_sandbox_on_a_frozen_clock(tiktok_sandbox):
            assert tiktok_sandbox.publishes() == []
            assert tiktok_sandbox.journal() == []
            assert tiktok_sandbox.clock.frozen
            assert tiktok_sandbox.clock.isoformat() == "2026-01-01T00:00:00Z"
            SPOOLS.append(tiktok_sandbox.state.spool.root)
            assert SPOOLS[0].is_dir()


        def test_the_last_sandbox_was_closed():
            assert not SPOOLS[0].exists()
        """
    )
    run(pytester).assert_outcomes(passed=4)


def test_async_httpx_code_posts_a_video(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(ANA)
    pytester.makepyfile(
        app="""
        import httpx


        async def post_video(token, path):
            auth = {"Authorization": f"Bearer {token}"}
            size = path.stat().st_size
            async with httpx.AsyncClient(base_url="https://open.tiktokapis.com") as http:
                init = await http.post("/v2/post/publish/video/init/", headers=auth, json={
                    "post_info": {"privacy_level": "SELF_ONLY"},
                    "source_info": {"source": "FILE_UPLOAD", "video_size": size,
                                    "chunk_size": size, "total_chunk_count": 1},
                })
                data = init.json()["data"]
                put = await http.put(data["upload_url"], content=path.read_bytes(), headers={
                    "Content-Type": "video/mp4", "Content-Range": f"bytes 0-{size - 1}/{size}"})
                put.raise_for_status()
                return data["publish_id"]
        """,
        test_async="""
        import asyncio

        import app


        def test_posts(tiktok_sandbox, token, clip):
            with tiktok_sandbox.intercept():
                publish_id = asyncio.run(app.post_video(token, clip))
            tiktok_sandbox.advance(1)
            assert tiktok_sandbox.publish(publish_id).status == "PUBLISH_COMPLETE"
            assert [r.error_code for r in tiktok_sandbox.journal()] == ["ok", "ok"]
        """,
    )
    run(pytester).assert_outcomes(passed=1)


def test_the_scenario_marker_reproduces_the_unaudited_refusal(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app=REQUESTS_APP)
    pytester.makeconftest(
        """
        import pytest
        from conformance.media import make_video


        @pytest.fixture
        def clip(tmp_path):
            return make_video(tmp_path / "clip.mp4")
        """
    )
    pytester.makepyfile(
        test_unaudited="""
        import pytest
        import app

        pytestmark = [
            pytest.mark.tiktok_scenario("unaudited-app", seed=7),
            pytest.mark.tiktok_intercept,
        ]
        INDIE = "awunauditeddemo01"
        REFUSAL = "unaudited_client_can_only_post_to_private_accounts"


        def token(sandbox, username):
            return sandbox.issue_tokens(INDIE, username, ["video.publish"])["access_token"]


        def test_a_public_creator_is_refused(tiktok_sandbox, clip):
            with pytest.raises(app.PostRefused, match=REFUSAL):
                app.post_video(token(tiktok_sandbox, "pub_paul"), clip, privacy="SELF_ONLY")
            (refusal,) = tiktok_sandbox.journal(endpoint="video_init", error_code=REFUSAL)
            assert (refusal.client_key, refusal.creator, refusal.status) == (INDIE, "pub_paul", 403)
            assert tiktok_sandbox.publishes() == []


        def test_a_private_creator_gets_self_only(tiktok_sandbox, clip):
            publish_id = app.post_video(token(tiktok_sandbox, "pia_private1"), clip)
            publish = tiktok_sandbox.publish(publish_id)
            assert publish.requested_privacy_level == "FOLLOWER_OF_CREATOR"
            assert publish.privacy_level == "SELF_ONLY"
            assert publish.decided_by == "accepted:privacy_forced_self_only"


        def test_the_marker_gives_scenario_and_seed(tiktok_sandbox):
            health = tiktok_sandbox.client().get("/_sandbox/health").json()
            assert (health["scenario"], health["seed"]) == ("unaudited-app", 7)


        @pytest.mark.tiktok_scenario(seed=3)
        def test_the_closest_marker_wins_for_what_it_names(tiktok_sandbox):
            health = tiktok_sandbox.client().get("/_sandbox/health").json()
            assert (health["scenario"], health["seed"]) == ("unaudited-app", 3)
        """
    )
    run(pytester).assert_outcomes(passed=4)


def test_the_command_line_sets_the_default_scenario_and_seed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_defaults="""
        import pytest


        def chosen(sandbox):
            health = sandbox.client().get("/_sandbox/health").json()
            return health["scenario"], health["seed"]


        def test_unmarked(tiktok_sandbox):
            assert chosen(tiktok_sandbox) == ("unaudited-app", 5)


        @pytest.mark.tiktok_scenario("default")
        def test_marked(tiktok_sandbox):
            assert chosen(tiktok_sandbox) == ("default", 5)
        """
    )
    result = run(pytester, "--tiktok-scenario", "unaudited-app", "--tiktok-seed", "5", quiet=False)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["tiktok-sandbox: scenario unaudited-app, seed 5"])


def test_a_scenario_file_next_to_the_test(pytester: pytest.Pytester) -> None:
    pytester.mkdir("scenarios")
    pytester.path.joinpath("scenarios", "late.yaml").write_text(
        """
name: late
seed: 11
clock: {start: "2027-05-01T08:00:00Z", frozen: true}
apps:
  - {name: Late App, client_key: awlateapp0001, client_secret: lateAppSecret0000000001}
creators:
  - {username: lena_late}
"""
    )
    pytester.makepyfile(
        test_file="""
        import pytest


        @pytest.mark.tiktok_scenario("scenarios/late.yaml")
        def test_uses_the_file_and_its_clock(tiktok_sandbox):
            assert tiktok_sandbox.clock.isoformat() == "2027-05-01T08:00:00Z"
            tokens = tiktok_sandbox.issue_tokens("awlateapp0001", "lena_late", ["user.info.basic"])
            assert tokens["scope"] == "user.info.basic"
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_bad_markers_and_options_are_explained(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad="""
        import pytest


        @pytest.mark.tiktok_scenario("no-such-scenario")
        def test_unknown(tiktok_sandbox):
            pass


        @pytest.mark.tiktok_scenario("default", seed=-1)
        def test_negative_seed(tiktok_sandbox):
            pass


        @pytest.mark.tiktok_intercept(other_hosts="block")
        def test_bad_intercept(tiktok_sandbox):
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            "*tiktok_scenario: unknown scenario 'no-such-scenario'*",
            "*tiktok_scenario: seed: expected a non-negative integer, got -1*",
            "*tiktok_intercept: other_hosts: expected 'passthrough' or 'refuse', got 'block'*",
        ]
    )
    usage = run(pytester, "--tiktok-scenario", "nowhere")
    assert usage.ret == pytest.ExitCode.USAGE_ERROR
    usage.stderr.fnmatch_lines(["*--tiktok-scenario: unknown scenario 'nowhere'*"])


def test_advancing_past_the_token_lifetime_makes_the_code_refresh(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(app=REQUESTS_APP)
    pytester.makepyfile(
        test_refresh="""
        import pytest
        import app


        @pytest.mark.tiktok_intercept
        def test_refreshes(tiktok_sandbox):
            code = tiktok_sandbox.issue_code(app.KEY, "ana_makes", ["user.info.basic"])
            session = app.Session(code)
            first = session.tokens["access_token"]
            assert session.display_name() == "Ana Makes Things"
            tiktok_sandbox.advance(2 * 3600 + 1)  # past the 2 h access-token lifetime
            assert session.display_name() == "Ana Makes Things"
            assert session.tokens["access_token"] != first
            infos = tiktok_sandbox.journal(endpoint="user_info")
            assert [r.status for r in infos] == [200, 401, 200]
            exchange, refresh = tiktok_sandbox.journal(endpoint="token", creator="ana_makes")
            assert "grant_type=authorization_code" in exchange.request_body
            assert "grant_type=refresh_token" in refresh.request_body
            assert refresh.error_code == "ok"
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_a_fault_rule_meets_the_code_under_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app=REQUESTS_APP)
    pytester.makeconftest(ANA)
    pytester.makepyfile(
        test_fault="""
        import pytest
        import app


        @pytest.mark.tiktok_intercept
        def test_retries_a_503_at_init(tiktok_sandbox, token, clip):
            fault = tiktok_sandbox.add_fault(endpoint="video_init", nth=1, status=503)
            publish_id = app.post_video(token, clip, retries=1)
            inits = tiktok_sandbox.journal(endpoint="video_init")
            assert [(r.status, r.error_code, r.fault) for r in inits] == [
                (503, "internal_error", fault), (200, "ok", None)
            ]
            assert [p.publish_id for p in tiktok_sandbox.publishes()] == [publish_id]


        @pytest.mark.tiktok_intercept
        def test_without_a_retry_the_fault_surfaces(tiktok_sandbox, token, clip):
            tiktok_sandbox.add_fault(endpoint="video_init", status=503)
            with pytest.raises(app.PostRefused, match="internal_error"):
                app.post_video(token, clip)
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_webhooks_are_recorded_and_the_sender_can_be_overridden(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(app=REQUESTS_APP)
    pytester.makeconftest(ANA)
    pytester.makepyfile(
        test_recorded="""
        import pytest
        import app

        HOOK = {"webhook_url": "https://hooks.acme.example/tiktok"}


        @pytest.mark.tiktok_intercept
        def test_delivered(tiktok_sandbox, token, clip):
            tiktok_sandbox.client().patch(f"/_sandbox/apps/{app.KEY}", json=HOOK)
            publish_id = app.post_video(token, clip)
            tiktok_sandbox.advance(2)
            delivered = tiktok_sandbox.webhooks(status="delivered")
            assert [w.event for w in delivered] == [
                "post.publish.complete", "post.publish.publicly_available"
            ]
            assert delivered[0].content["publish_id"] == publish_id
        """,
        test_overridden="""
        import pytest
        import app
        from mock_server import RecordingWebhookSender

        HOOK = {"webhook_url": "https://hooks.acme.example/tiktok"}


        @pytest.fixture
        def tiktok_webhook_sender():
            return RecordingWebhookSender(lambda sent: 500)


        @pytest.mark.tiktok_intercept
        def test_failing_receiver(tiktok_sandbox, tiktok_webhook_sender, token, clip):
            tiktok_sandbox.client().patch(f"/_sandbox/apps/{app.KEY}", json=HOOK)
            app.post_video(token, clip)
            tiktok_sandbox.advance(1)
            (pending,) = tiktok_sandbox.webhooks(event="post.publish.complete")
            assert (pending.status, [a.status_code for a in pending.attempts]) == ("pending", [500])
            assert len(tiktok_webhook_sender.sent) == 1
        """,
    )
    run(pytester).assert_outcomes(passed=2)


def test_tiktok_server_serves_code_in_a_subprocess(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(ANA)
    pytester.makepyfile(
        poster='''
        """A user's posting script, pointed at a base URL from its command line."""
        import sys
        from pathlib import Path

        import requests

        base, token, clip = sys.argv[1], sys.argv[2], Path(sys.argv[3])
        auth = {"Authorization": f"Bearer {token}"}
        size = clip.stat().st_size
        init = requests.post(f"{base}/v2/post/publish/video/init/", headers=auth, json={
            "post_info": {"privacy_level": "SELF_ONLY"},
            "source_info": {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": size,
                            "total_chunk_count": 1},
        }).json()["data"]
        put = requests.put(init["upload_url"], data=clip.read_bytes(), headers={
            "Content-Type": "video/mp4", "Content-Range": f"bytes 0-{size - 1}/{size}"})
        print(init["publish_id"], put.status_code)
        ''',
        test_server="""
        import subprocess
        import sys


        def test_a_script_posts_to_the_server(tiktok_server, tiktok_sandbox, token, clip):
            assert tiktok_server.url.startswith("http://127.0.0.1:")
            done = subprocess.run(
                [sys.executable, "poster.py", tiktok_server.url, token, str(clip)],
                capture_output=True, text=True, timeout=120, check=True,
            )
            publish_id, status = done.stdout.split()
            assert status == "201"
            (publish,) = tiktok_sandbox.publishes(creator="ana_makes")
            assert (publish.publish_id, publish.uploaded_bytes) == (publish_id, clip.stat().st_size)
            (upload,) = tiktok_sandbox.journal(endpoint="upload", creator="ana_makes")
            assert upload.status == 201
        """,
    )
    run(pytester).assert_outcomes(passed=1)


def test_interception_leaves_other_hosts_alone_or_refuses_them(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import pytest


        class Hello(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", "10")
                self.end_headers()
                self.wfile.write(b"not tiktok")

            def log_message(self, *args):
                pass


        @pytest.fixture
        def local_server():
            server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
            thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
            thread.start()
            yield f"http://127.0.0.1:{server.server_address[1]}/"
            server.shutdown()
            server.server_close()
            thread.join(5)
        """
    )
    pytester.makepyfile(
        test_hosts="""
        import asyncio

        import httpx
        import pytest
        import requests
        from mock_server import HostRefused

        API = "https://open.tiktokapis.com/v2/user/info/"


        async def get_async(url):
            async with httpx.AsyncClient() as http:
                return (await http.get(url)).text


        @pytest.mark.tiktok_intercept
        def test_other_hosts_still_answer(tiktok_sandbox, local_server):
            assert requests.get(local_server).text == "not tiktok"
            assert httpx.get(local_server).text == "not tiktok"
            assert asyncio.run(get_async(local_server)) == "not tiktok"
            assert requests.get(API).json()["error"]["code"] == "access_token_invalid"


        @pytest.mark.tiktok_intercept(other_hosts="refuse")
        def test_other_hosts_refused_when_asked(tiktok_sandbox, local_server):
            with pytest.raises(HostRefused, match="other_hosts='refuse'"):
                requests.get(local_server)
            with pytest.raises(HostRefused):
                httpx.get(local_server)
            with pytest.raises(HostRefused):
                asyncio.run(get_async(local_server))
            assert httpx.get(API).json()["error"]["code"] == "access_token_invalid"


        def test_no_marker_no_interception(local_server):
            assert requests.get(local_server).text == "not tiktok"
        """
    )
    run(pytester).assert_outcomes(passed=3)


def test_a_fresh_interpreter_loads_the_plugin_from_the_entry_point(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_fresh="""
        def test_fixture_and_markers(tiktok_sandbox, request):
            markers = [line.split("(")[0] for line in request.config.getini("markers")]
            assert {"tiktok_scenario", "tiktok_intercept"} <= set(markers)
            tokens = tiktok_sandbox.issue_tokens("awacmescheduler01", "ana_makes", ["video.upload"])
            assert tokens["open_id"]
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q").assert_outcomes(passed=1)
    disabled = run(pytester, "-p", "no:tiktok_sandbox")
    disabled.assert_outcomes(errors=1)
    disabled.stdout.fnmatch_lines(["*fixture 'tiktok_sandbox' not found*"])
