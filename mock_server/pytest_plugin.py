"""The pytest plugin, active wherever tiktok-sandbox is installed (entry point `pytest11`).

def test_posts_a_clip(tiktok_sandbox):               # a fresh sandbox per test, frozen clock
    with tiktok_sandbox.intercept():                 # unmodified code -> the sandbox
        my_app.post_video("clip.mp4")
    (publish,) = tiktok_sandbox.publishes()
    assert publish.status == "PROCESSING_UPLOAD"

@pytest.mark.tiktok_scenario("unaudited-app", seed=7)    # per test, class or module
@pytest.mark.tiktok_intercept(other_hosts="refuse")      # the whole test intercepted

pytest --tiktok-scenario unaudited-app --tiktok-seed 7   # the run's defaults

Fixtures: `tiktok_sandbox` (a `Sandbox`), `tiktok_server` (the same sandbox served on a free
loopback port), and two seams to override in a conftest: `tiktok_webhook_sender` (default: a
`RecordingWebhookSender` answering 200) and `tiktok_fetcher` (default: None, the real fetcher).
Loading the plugin imports the `mock_server` package (and with it the server's libraries,
about half a second on a first start); no sandbox is built until a fixture asks for one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mock_server.runtime.fetcher import UrlFetcher
    from mock_server.runtime.webhooks import WebhookSender
    from mock_server.sandbox import RunningServer, Sandbox
    from mock_server.scenario import Scenario

# Where the fixture's frozen clock starts, unless the scenario sets its own `clock.start`.
FROZEN_AT = datetime(2026, 1, 1, tzinfo=UTC)

SCENARIO_MARKER = "tiktok_scenario"
INTERCEPT_MARKER = "tiktok_intercept"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tiktok-sandbox", "tiktok-sandbox fixtures")
    group.addoption(
        "--tiktok-scenario",
        dest="tiktok_scenario",
        metavar="NAME_OR_PATH",
        default=None,
        help="scenario of the tiktok_sandbox fixture when no tiktok_scenario marker names one: "
        "a built-in name (tiktok-sandbox scenarios) or a YAML path (default: default)",
    )
    group.addoption(
        "--tiktok-seed",
        dest="tiktok_seed",
        metavar="N",
        type=int,
        default=None,
        help="seed of the tiktok_sandbox fixture when no marker gives one (default: the "
        "scenario's)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{SCENARIO_MARKER}(scenario=None, seed=None): the scenario (a built-in name or a YAML "
        "path, relative to the test file) and seed of the tiktok_sandbox fixture",
    )
    config.addinivalue_line(
        "markers",
        f"{INTERCEPT_MARKER}(other_hosts='passthrough', hosts=()): route httpx and requests "
        "calls to TikTok's hosts to the tiktok_sandbox fixture for the whole test",
    )
    seed = config.getoption("tiktok_seed", None)
    if seed is not None and seed < 0:
        raise pytest.UsageError(f"--tiktok-seed: expected a non-negative integer, got {seed}")
    name = config.getoption("tiktok_scenario", None)
    if name is not None:
        from mock_server.scenario import ScenarioError, load_scenario

        try:
            load_scenario(_option_path(config, name))
        except ScenarioError as exc:
            raise pytest.UsageError(f"--tiktok-scenario: {exc}") from exc


def pytest_report_header(config: pytest.Config) -> str | None:
    name = config.getoption("tiktok_scenario", None)
    seed = config.getoption("tiktok_seed", None)
    if name is None and seed is None:
        return None
    seed_text = "the scenario's" if seed is None else str(seed)
    return f"tiktok-sandbox: scenario {name or 'default'}, seed {seed_text}"


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def tiktok_webhook_sender() -> WebhookSender:
    """How the sandbox fixture sends webhooks: recorded and answered 200 (override it)."""
    from mock_server.runtime.webhooks import RecordingWebhookSender

    return RecordingWebhookSender()


@pytest.fixture
def tiktok_fetcher() -> UrlFetcher | None:
    """How the sandbox fixture pulls PULL_FROM_URL media; None: real GETs (override it, e.g.
    with `StaticFetcher({url: bytes})`)."""
    return None


@pytest.fixture
def tiktok_sandbox(
    request: pytest.FixtureRequest,
    tiktok_webhook_sender: WebhookSender,
    tiktok_fetcher: UrlFetcher | None,
) -> Iterator[Sandbox]:
    """A fresh in-process sandbox for each test, on a frozen clock, closed afterwards."""
    from mock_server.runtime.clock import Clock
    from mock_server.sandbox import Sandbox

    scenario, seed = _scenario_for(request)
    start = FROZEN_AT if scenario.clock_start is None else scenario.clock_start
    with Sandbox(
        scenario,
        seed=seed,
        clock=Clock.frozen_at(start),
        fetcher=tiktok_fetcher,
        webhook_sender=tiktok_webhook_sender,
    ) as sandbox:
        yield sandbox


@pytest.fixture
def tiktok_server(tiktok_sandbox: Sandbox) -> Iterator[RunningServer]:
    """`tiktok_sandbox` served on a free loopback port: `tiktok_server.url`."""
    with tiktok_sandbox.serve() as server:
        yield server


@pytest.fixture(autouse=True)
def _tiktok_intercept_marker(request: pytest.FixtureRequest) -> Iterator[None]:
    """Applies `@pytest.mark.tiktok_intercept` (a no-op for tests without it)."""
    marker = request.node.get_closest_marker(INTERCEPT_MARKER)
    if marker is None:
        yield
        return
    if marker.args:
        pytest.fail(
            f"@pytest.mark.{INTERCEPT_MARKER} takes keyword arguments only "
            "(other_hosts=..., hosts=[...])",
            pytrace=False,
        )
    sandbox: Sandbox = request.getfixturevalue("tiktok_sandbox")
    try:
        interceptor = sandbox.intercept(**marker.kwargs)
    except (TypeError, ValueError) as exc:
        pytest.fail(f"@pytest.mark.{INTERCEPT_MARKER}: {exc}", pytrace=False)
    with interceptor:
        yield


# -- scenario and seed: the closest marker, then the command line ---------------------------


def _scenario_for(request: pytest.FixtureRequest) -> tuple[Scenario, int | None]:
    from mock_server.scenario import Scenario, ScenarioError, load_scenario

    chosen: Any = None
    seed: Any = None
    for marker in request.node.iter_markers(SCENARIO_MARKER):  # closest first
        args = _marker_args(marker)
        if chosen is None and args.get("scenario") is not None:
            chosen = args["scenario"]
            if isinstance(chosen, str | Path):
                chosen = _marker_path(request, chosen)
        if seed is None and args.get("seed") is not None:
            seed = args["seed"]
    config = request.config
    if chosen is None:
        option = config.getoption("tiktok_scenario", None)
        chosen = "default" if option is None else _option_path(config, option)
    if seed is None:
        seed = config.getoption("tiktok_seed", None)
    if seed is not None and (type(seed) is not int or seed < 0):
        pytest.fail(
            f"@pytest.mark.{SCENARIO_MARKER}: seed: expected a non-negative integer, got {seed!r}",
            pytrace=False,
        )
    if isinstance(chosen, Scenario):
        return chosen, seed
    if not isinstance(chosen, str | Path):
        pytest.fail(
            f"@pytest.mark.{SCENARIO_MARKER}: expected a scenario name, a path or a Scenario, "
            f"got {chosen!r}",
            pytrace=False,
        )
    try:
        return load_scenario(chosen), seed
    except ScenarioError as exc:
        pytest.fail(f"@pytest.mark.{SCENARIO_MARKER}: {exc}", pytrace=False)


def _marker_args(marker: pytest.Mark) -> dict[str, Any]:
    extra = sorted(set(marker.kwargs) - {"scenario", "seed"})
    if len(marker.args) > 1 or extra or ("scenario" in marker.kwargs and marker.args):
        pytest.fail(
            f"@pytest.mark.{SCENARIO_MARKER} takes a scenario and seed=N, got "
            f"args {marker.args!r} and kwargs {marker.kwargs!r}",
            pytrace=False,
        )
    args = dict(marker.kwargs)
    if marker.args:
        args["scenario"] = marker.args[0]
    return args


def _is_path(value: str | Path) -> bool:
    text = str(value)
    return isinstance(value, Path) or text.endswith((".yaml", ".yml")) or "/" in text


def _marker_path(request: pytest.FixtureRequest, value: str | Path) -> str | Path:
    """A relative scenario path in a marker is read from the test file's directory."""
    if not _is_path(value) or Path(value).is_absolute():
        return value
    return request.path.parent / value


def _option_path(config: pytest.Config, value: str) -> str | Path:
    """A relative scenario path on the command line is read from where pytest was run."""
    if not _is_path(value) or Path(value).is_absolute():
        return value
    return config.invocation_params.dir / value
