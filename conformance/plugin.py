"""The suite's pytest plugin: target options, profiles, fixtures and the closing summary.

pytest conformance                                  # in-process tiktok-sandbox
python -m conformance --base-url URL [--control-url URL] [--profile thorough]
pytest conformance --conformance-profile thorough
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Generator, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings

from conformance.controller import Controller, SandboxController
from conformance.library import MediaLibrary, MediaServer
from conformance.report import REPORT
from conformance.target import Target, in_process_sandbox

# Examples per property: quick for CI, thorough for a deliberate run.
PROFILES = {"quick": 20, "thorough": 250}
_options: dict[str, Any] = {"profile": "quick", "derandomize": False}
NO_CONTROLLER = "needs the target controller (--control-url or --controller)"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "TikTok Content Posting API conformance")
    group.addoption(
        "--base-url",
        default=os.environ.get("CONFORMANCE_BASE_URL"),
        help="target API base URL (default: tiktok-sandbox in process)",
    )
    group.addoption(
        "--control-url",
        default=os.environ.get("CONFORMANCE_CONTROL_URL"),
        help="base URL of the target's /_sandbox control API, if it has one",
    )
    group.addoption(
        "--controller",
        default=os.environ.get("CONFORMANCE_CONTROLLER"),
        help="module:callable making the target controller from the Target (default: the "
        "/_sandbox control API at --control-url)",
    )
    group.addoption(
        "--conformance-profile",
        dest="conformance_profile",
        choices=sorted(PROFILES),
        default=os.environ.get("CONFORMANCE_PROFILE", "quick"),
    )
    group.addoption(
        "--derandomize",
        action="store_true",
        default=os.environ.get("CI", "") not in ("", "0", "false"),
        help="reproducible example generation (default in CI)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "behaviour(name, ref): a documented behaviour tested")
    _options["profile"] = config.getoption("conformance_profile", "quick")
    _options["derandomize"] = config.getoption("derandomize", False)


def profile() -> str:
    """The chosen profile's name ("quick" or "thorough")."""
    return str(_options["profile"])


def examples() -> settings:
    """Hypothesis settings for a property under the chosen profile."""
    return settings(
        max_examples=PROFILES[_options["profile"]],
        deadline=None,
        derandomize=_options["derandomize"],
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for mark in item.iter_markers("behaviour"):
            REPORT.declare(*mark.args)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" or (report.when == "setup" and report.skipped):
        reason = ""
        if report.skipped and isinstance(report.longrepr, tuple):
            reason = str(report.longrepr[2])  # (path, line, "Skipped: why")
            REPORT.skip(item.nodeid.split("[")[0], reason)
        for mark in item.iter_markers("behaviour"):
            REPORT.outcome(mark.args[0], report.outcome, reason)
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not REPORT.behaviours or _options.get("unreachable"):
        return
    terminalreporter.section("conformance: documented behaviours")
    for line in REPORT.lines():
        terminalreporter.write_line(line)


def reachable(base_url: str, path: str, what: str, *, must_answer_ok: bool = False) -> None:
    """Stop the whole run with one message naming `base_url` when it cannot be reached:
    dozens of identical connection errors say less than one line."""
    problem = ""
    try:
        response = httpx.get(base_url + path, timeout=10.0)
    except httpx.TransportError as exc:
        problem = f"cannot reach the {what} at {base_url} ({type(exc).__name__}: {exc})"
    else:
        if must_answer_ok and response.status_code != 200:
            problem = (
                f"the {what} at {base_url} answered GET {path} with HTTP "
                f"{response.status_code}: {response.text[:200]}"
            )
    if problem:
        _options["unreachable"] = True
        pytest.exit(f"conformance: {problem}", returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    base_url = request.config.getoption("base_url")
    if base_url:
        base_url = base_url.rstrip("/")
        reachable(base_url, "/v2/user/info/", "target")
        remote = Target(base_url, description=f"remote target {base_url}")
        yield remote
        remote.close()
        return
    with in_process_sandbox() as local:
        yield local


@pytest.fixture(scope="session")
def target_controller(
    request: pytest.FixtureRequest, target: Target
) -> Iterator[Controller | None]:
    base_url = request.config.getoption("base_url")
    control_url = request.config.getoption("control_url")
    factory = request.config.getoption("controller")
    if factory:  # another fake's own controller, in Python
        module, _, name = factory.partition(":")
        yield getattr(importlib.import_module(module), name)(target)
        return
    if base_url and not control_url:
        yield None
        return
    if control_url:
        control_url = control_url.rstrip("/")
        reachable(control_url, "/_sandbox/health", "control API", must_answer_ok=True)
    http = Target(control_url).client() if control_url else target.client()
    yield SandboxController(http)
    http.close()


@pytest.fixture
def controller(target_controller: Controller | None) -> Controller:
    """The target controller, reset to a clean state; skips when the target has none."""
    if target_controller is None:
        pytest.skip(NO_CONTROLLER)
    target_controller.reset()
    return target_controller


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> MediaLibrary:
    """Real test media, each file made once per run on first use."""
    return MediaLibrary(tmp_path_factory.mktemp("conformance-media"))


@pytest.fixture(scope="session")
def media_server(media: MediaLibrary) -> Iterator[MediaServer]:
    """The media library served on 127.0.0.1 (a free port) under `media_server.prefix`."""
    with MediaServer(media.root) as server:
        yield server


@pytest.fixture
def http(target: Target) -> Iterator[Any]:
    client = target.client()
    yield client
    client.close()
