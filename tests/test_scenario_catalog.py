"""docs/scenarios.md is generated from the scenario files and must not go stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server.cli import main
from mock_server.scenario import builtin_names, load_scenario
from mock_server.scenario_docs import REGENERATE, render_catalog

CATALOG = Path(__file__).resolve().parents[1] / "docs" / "scenarios.md"


def test_docs_scenarios_md_is_up_to_date() -> None:
    assert CATALOG.is_file(), f"docs/scenarios.md is missing; generate it with: {REGENERATE}"
    if CATALOG.read_text(encoding="utf-8") != render_catalog():
        pytest.fail(f"docs/scenarios.md is stale; regenerate it with: {REGENERATE}")


def test_catalog_names_every_scenario_with_what_it_reproduces() -> None:
    text = render_catalog()
    for name in builtin_names():
        scenario = load_scenario(name)
        assert f"\n## {name}\n" in text
        assert f"(#{name})" in text  # in the index
        assert " ".join(scenario.reproduces.split()) in text
        for app in scenario.apps:
            assert f"`{app['client_key']}`" in text
        for creator in scenario.creators:
            assert f"`{creator['username']}`" in text


def test_cli_prints_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "--markdown"]) == 0
    assert capsys.readouterr().out == render_catalog()
