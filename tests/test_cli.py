"""The `tiktok-sandbox` command, run as users run it: a subprocess on a free loopback port."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from mock_server import Sandbox
from mock_server.cli import main

STARTUP_DEADLINE = 60.0  # seconds: generous, a slow CI machine still passes
STOP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "mock_server", *args]


@contextmanager
def running(*args: str) -> Iterator[subprocess.Popen[str]]:
    """Start the sandbox; always stop it (kill as a last resort) when the block ends."""
    proc = subprocess.Popen(
        command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=STOP_TIMEOUT)


def wait_for_health(proc: subprocess.Popen[str], base_url: str) -> dict[str, object]:
    """Poll /_sandbox/health until it answers, the process dies, or the deadline passes."""
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{base_url}/_sandbox/health", timeout=5)
        except httpx.TransportError:
            try:
                proc.wait(timeout=0.1)  # waits between attempts, and notices an early exit
            except subprocess.TimeoutExpired:
                continue
            _, err = proc.communicate()
            pytest.fail(f"the sandbox exited with {proc.returncode} during start-up:\n{err}")
        else:
            assert response.status_code == 200, response.text
            data: dict[str, object] = response.json()
            return data
    pytest.fail(f"the sandbox did not answer within {STARTUP_DEADLINE} s")


def stop(proc: subprocess.Popen[str], signum: int) -> tuple[str, str]:
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=STOP_TIMEOUT)
    return out, err


@pytest.mark.server
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_prints_a_table_answers_and_stops_cleanly(signum: int) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running("serve", "--port", str(port), "--seed", "3") as proc:
        health = wait_for_health(proc, base)
        assert health["status"] == "ok"
        assert health["scenario"] == "default"
        assert health["seed"] == 3
        out, err = stop(proc, signum)
        assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert base in out
    assert f"{base}/_sandbox/" in out
    expected = Sandbox("default", seed=3).state.world
    for app in expected.apps.values():
        for text in (app.client_key, app.client_secret, app.stage):
            assert text in out, text
        line = next(line for line in out.splitlines() if app.client_key in line)
        assert app.client_secret in line and app.stage in line
    for creator in expected.creators.values():
        assert creator.username in out, creator.username
        assert creator.nickname in out, creator.nickname


def non_loopback_address() -> str | None:
    """This machine's address on its default route, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@pytest.mark.server
def test_serve_binds_loopback_by_default() -> None:
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to probe")
    port = free_port()
    with running("serve", "--port", str(port)) as proc:
        wait_for_health(proc, f"http://127.0.0.1:{port}")
        with pytest.raises(OSError), socket.create_connection((address, port), timeout=5):
            pass
        stop(proc, signal.SIGTERM)
        assert proc.returncode == 0


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ("no_such_scenario", "unknown scenario 'no_such_scenario'"),
        ("/nonexistent/dir/missing.yaml", "no such scenario file"),
    ],
)
def test_bad_scenario_exits_with_a_clear_message(scenario: str, message: str) -> None:
    result = subprocess.run(
        command("serve", "--port", str(free_port()), "--scenario", scenario),
        capture_output=True,
        text=True,
        timeout=STOP_TIMEOUT,
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_scenario_file_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text("apps:\n  - name: A\n    stage: production\n")
    result = subprocess.run(
        command("serve", "--port", str(free_port()), "--scenario", str(path)),
        capture_output=True,
        text=True,
        timeout=STOP_TIMEOUT,
    )
    assert result.returncode != 0
    assert "wrong.yaml" in result.stderr
    assert "apps[0].stage" in result.stderr
    assert "Traceback" not in result.stderr


def test_port_in_use_exits_with_a_clear_message() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        result = subprocess.run(
            command("serve", "--port", str(port)),
            capture_output=True,
            text=True,
            timeout=STOP_TIMEOUT,
        )
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_port_out_of_range_exits_with_a_clear_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "99999"]) == 1
    assert "cannot listen on 127.0.0.1:99999" in capsys.readouterr().err


def test_bad_scenario_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    handler = signal.getsignal(signal.SIGINT)
    assert main(["serve", "--scenario", "no_such_scenario"]) == 2
    assert "unknown scenario" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is handler  # the caller's handlers are restored


def test_scenarios_command_lists_default() -> None:
    script = Path(sys.executable).with_name("tiktok-sandbox")
    assert script.exists(), "pyproject.toml installs the tiktok-sandbox command"
    result = subprocess.run(
        [str(script), "scenarios"], capture_output=True, text=True, timeout=STOP_TIMEOUT
    )
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert "default" in names


def test_scenarios_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    default = next(line for line in lines if line.split()[0] == "default")
    assert "audited" in default  # the description follows the name


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert "usage" in capsys.readouterr().err


@pytest.mark.server
def test_serve_on_the_pure_python_stack_says_so() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running("serve", "--port", str(port), "--http", "h11", "--loop", "asyncio") as proc:
        assert wait_for_health(proc, base)["status"] == "ok"
        out, _ = stop(proc, signal.SIGTERM)
    assert "HTTP stack     h11 + asyncio" in out, out


def test_the_summary_shows_the_first_rows_of_a_large_state_and_counts_the_rest() -> None:
    from mock_server.cli import SUMMARY_ROWS, startup_summary

    with Sandbox("default", seed=1) as sandbox, sandbox.client() as http:
        names = [f"row_{i:03d}" for i in range(60)]
        made = http.post("/_sandbox/apps", json={"creators": [{"username": n} for n in names]})
        assert made.status_code == 201, made.text
        creators = len(sandbox.state.world.creators)
        summary = startup_summary(sandbox.state, "http://127.0.0.1:8080")
    rows = [
        line
        for line in summary.splitlines()
        if line.split(" ", 1)[0] in sandbox.state.world.creators
    ]
    assert len(rows) == SUMMARY_ROWS
    assert f"... and {creators - SUMMARY_ROWS} more creators (GET /_sandbox/creators" in summary
    assert "more apps" not in summary  # the default scenario's few apps are all shown
