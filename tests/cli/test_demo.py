"""What ``make run`` runs, on a copy of the example so the checkout stays clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def run_demo(project: Path) -> subprocess.CompletedProcess:
    code = (
        "import sys; from pathlib import Path; from syncd import demo; "
        f"sys.exit(demo.main(Path({str(project / 'config' / 'example.yaml')!r})))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        capture_output=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "LANG": "C"},
    )


def test_demo_runs_twice_and_second_run_changes_nothing(tmp_path):
    shutil.copytree(PROJECT_ROOT / "config", tmp_path / "config")
    shutil.copytree(PROJECT_ROOT / "examples", tmp_path / "examples")
    tracker = tmp_path / ".syncd-demo" / "tracker.db"

    first = run_demo(tmp_path)
    tracker_after_first = tracker.read_bytes()
    second = run_demo(tmp_path)

    first_output = first.stdout.decode("utf-8")
    second_output = second.stdout.decode("utf-8")
    assert first.returncode == 0, first.stderr.decode("utf-8")
    assert "$ syncd plan" in first_output
    assert "+ create" in first_output
    assert "Write the on-call handbook draft." in first_output
    assert second.returncode == 0, second.stderr.decode("utf-8")
    assert "No changes" in second_output
    assert "+ create" not in second_output
    assert tracker.read_bytes() == tracker_after_first
