"""Schemathesis, run from its own command line against a served sandbox with the sandbox's own
OpenAPI document (`/_sandbox/openapi.json`), finds no server error and no answer that
contradicts the document: not its status codes, content types or response schemas. Every phase
runs (examples, coverage, fuzzing, and the stateful phase along the document's links).

It runs with the hooks of `tests/schemathesis/hooks.py` (what the document cannot say: raw video
bodies, a live token per request) and under `tests/schemathesis/netguard/`, which refuses and
records any attempt to resolve or reach a host that is not loopback: the run must make none (no
telemetry, no report upload, no remote reference). It writes no report, and its caches go to a
temporary directory.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.served import ROOT, environment, served

HERE = ROOT / "tests" / "schemathesis"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
EXAMPLES_PER_OPERATION = 25
RUN_SECONDS = 300


def schemathesis() -> str:
    beside = Path(sys.executable).parent / "schemathesis"
    found = str(beside) if beside.exists() else shutil.which("schemathesis")
    assert found, "schemathesis is not installed (it is in the test extra)"
    return found


@pytest.mark.server
def test_schemathesis_finds_nothing_against_the_served_document(tmp_path: Path) -> None:
    attempts = tmp_path / "netguard.log"
    attempts.touch()
    with served() as url:
        env = environment(
            SANDBOX_URL=url,
            SCHEMATHESIS_HOOKS="tests.schemathesis.hooks",
            PYTHONPATH=os.pathsep.join([str(HERE / "netguard"), str(ROOT)]),
            NETGUARD_LOG=str(attempts),
        )
        command = [
            schemathesis(), "run", f"{url}/_sandbox/openapi.json", "--url", url,
            "--checks", ",".join(CHECKS),
            "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", str(EXAMPLES_PER_OPERATION),
            "--seed", "1",
            "--generation-database", "none",
            "--generation-with-security-parameters", "false",
            "--request-timeout", "10",
            "--no-color",
        ]  # fmt: skip
        done = subprocess.run(
            command,
            cwd=tmp_path,  # no schemathesis.toml; its caches (.hypothesis...) stay here
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_SECONDS,
            check=False,
        )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-8000:]
    cases = re.search(r"(\d+) generated, (\d+) passed", output)
    assert cases and cases[1] == cases[2] and int(cases[1]) > 0, output[-4000:]
    # No check failed (warnings, e.g. for inputs the sandbox refuses as documented, are fine).
    assert not re.search(r"^\s*❌", output.split("SUMMARY")[-1], re.M), output[-4000:]
    assert "Failures:" not in output, output[-4000:]
    links = re.search(r"API Links:\s+(\d+) covered", output)
    assert links and int(links[1]) > 0, "the stateful phase followed no link:\n" + output[-4000:]
    assert attempts.read_text() == "", "reached for a host that is not loopback"
    assert not (tmp_path / "schemathesis-report").exists(), "wrote reports"
