"""The public surface type-checks under `mypy --strict` for users: `mock_server`'s exports, the
sandbox, interception, the records and the pytest plugin, and `client/` (which ships py.typed).

A small user file is checked with them; a second one with mistakes must be caught, so the
types are real, not `Any`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PUBLIC = [
    "mock_server/__init__.py",
    "mock_server/sandbox.py",
    "mock_server/records.py",
    "mock_server/audit",
    "mock_server/intercept",
    "mock_server/pytest_plugin.py",
    "client",
]

USER_CODE = """
from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import requests

from client import MemoryTokenStore, PostInfo, TikTokClient, Token
from mock_server import (
    AuditReport,
    CheckResult,
    Clock,
    HostRefused,
    JournalRecord,
    PublishRecord,
    RunningServer,
    Sandbox,
    TokenResponse,
    WebhookRecord,
)

API = "https://open.tiktokapis.com"


def tokens_for(sandbox: Sandbox) -> tuple[str, int]:
    tokens: TokenResponse = sandbox.issue_tokens("awacmescheduler01", "ana_makes", ["video"])
    return tokens["access_token"], tokens["expires_in"]


async def fetch(url: str) -> int:
    async with httpx.AsyncClient() as http:
        return (await http.get(url)).status_code


@pytest.mark.tiktok_scenario("unaudited-app", seed=7)
def test_typed(tiktok_sandbox: Sandbox, tiktok_server: RunningServer, tmp_path: Path) -> None:
    token, lifetime = tokens_for(tiktok_sandbox)
    with tiktok_sandbox.intercept(other_hosts="refuse", hosts=["api.internal"]):
        assert requests.get(f"{API}/_sandbox/health").status_code == asyncio.run(fetch(API))
    try:
        requests.get(tiktok_server.url)
    except HostRefused as refused:
        print(refused)

    @tiktok_sandbox.intercept()
    def decorated(n: int) -> str:
        return str(n)

    label: str = decorated(1)
    records: list[JournalRecord] = tiktok_sandbox.journal(endpoint="video_init", error_code="ok")
    publishes: list[PublishRecord] = tiktok_sandbox.publishes(creator="pia_private1")
    statuses: list[str] = publishes[0].statuses if publishes else []
    hooks: list[WebhookRecord] = tiktok_sandbox.webhooks(status="delivered")
    content: dict[str, object] = hooks[0].content if hooks else {}
    tiktok_sandbox.advance(lifetime + 1)
    fault_id: str = tiktok_sandbox.add_fault(endpoint="video_init", nth=1, status=503)
    settled: bool = tiktok_sandbox.settle(1.0)
    report: AuditReport = tiktok_sandbox.audit("awunauditeddemo01", since="2026-01-01T00:00:00Z")
    failing: list[CheckResult] = report.failures
    report.assert_ready(allow_warnings=True)
    with Sandbox("default", clock=Clock.frozen_at(0)) as other:
        print(other.clock.isoformat(), label, records, statuses, content, fault_id, settled)
        print(failing, report.check("chunk_plan_valid").verdict)
    store = MemoryTokenStore(Token(access_token=token, expires_at=lifetime))
    with TikTokClient("awacmescheduler01", "secret", token_store=store, base_url=API) as tiktok:
        tiktok.post_video(tmp_path / "clip.mp4", PostInfo(privacy_level="SELF_ONLY"))
"""

MISTAKES = """
from mock_server import Sandbox


def wrong(sandbox: Sandbox) -> None:
    sandbox.issue_tokens("k", "u", [])["expires"]
    sandbox.publishes()[0].statuz
    sandbox.intercept(other_hosts="block")
"""


def mypy_strict(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "mypy", "--strict", "--config-file", "pyproject.toml"),
            *("--no-error-summary", "--hide-error-context", *map(str, files), *PUBLIC),
        ],
        cwd=REPO,
        env={**os.environ, "MYPYPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def user_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("user_project")
    (root / "test_user_code.py").write_text(USER_CODE)
    (root / "mistakes.py").write_text(MISTAKES)
    return root / "test_user_code.py", root / "mistakes.py"


def test_the_public_surface_and_typed_user_code_pass_mypy_strict(
    user_files: tuple[Path, Path],
) -> None:
    checked = mypy_strict(user_files[0])
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_mistakes_in_user_code_are_caught(user_files: tuple[Path, Path]) -> None:
    checked = mypy_strict(user_files[1])
    errors = [line for line in checked.stdout.splitlines() if ": error: " in line]
    assert [e.split(":")[1] for e in errors] == ["6", "7", "8"], checked.stdout
    assert '"expires"' in errors[0] and "statuz" in errors[1] and "Literal['block']" in errors[2]
