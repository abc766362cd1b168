"""The short form of the reliability harness that ``make test`` runs.

``make soak`` runs the same harness with a budget of minutes. Each test
prints the harness's closing line, so ``pytest -s`` shows the figures.
"""

from __future__ import annotations

import importlib

import pytest


def _require(module_name: str, *names: str) -> None:
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        pytest.skip(f"{module_name} cannot be imported: {error}")
    missing = [name for name in names if not hasattr(module, name)]
    if missing:
        pytest.skip(f"{module_name} has no {', '.join(missing)}")


def test_engine_survives_faults_and_kills(tmp_path):
    _require("syncd.engine", "compute_plan", "apply_plan", "StateStore")
    _require("syncd.parser", "parse_bytes", "load_dialect")
    from bench.reliability import run_engine_harness

    report = run_engine_harness(
        4, work_dir=tmp_path, items=24, new_per_meeting=6, kill_share=0.2, time_budget=25
    )
    print(report.closing_line())

    assert report.runs >= 1, report.details
    assert sum(report.faults.values()) > 0
    assert report.duplicates == 0, report.details
    assert report.lost == 0, report.details


def test_parser_fuzz_short_budget():
    _require("syncd.parser", "parse_bytes", "load_dialect")
    from bench.fuzz import run_fuzz

    report = run_fuzz(6.0)
    print(report.closing_line())

    assert report.examples > 0
    assert report.crashes == 0, report.details
    assert report.bad_lines == 0, report.details


def test_daemon_soak_short(tmp_path):
    _require("syncd.engine", "compute_plan", "apply_plan", "StateStore")
    _require("syncd.parser", "parse_bytes", "load_dialect")
    from bench.daemon_soak import run_daemon_soak, _run_arguments

    if "--interval" not in " ".join(_run_arguments(0.2)):
        pytest.skip("syncd run has no --interval option to run short cycles")

    report = run_daemon_soak(work_dir=tmp_path, budget_seconds=20, items=60)
    print(report.closing_line())

    assert report.cycles > 0, report.details
    assert report.duplicates == 0, report.details
    assert report.lost == 0, report.details
    assert report.fds_flat, report.closing_line()
    assert report.exit_status == 0, report.details
