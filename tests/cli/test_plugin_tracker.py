"""A tracker from another package, found through the entry-point group.

The test installs a tiny distribution on PYTHONPATH whose entry point adds a
tracker kind ``memo``, then syncs to it through the CLI without any change to
syncd.
"""

from __future__ import annotations

import textwrap

from tests.cli.conftest import CONFIG

PLUGIN_MODULE = '''
from syncd_adapters.local import LocalTracker


class MemoTracker(LocalTracker):
    """The embedded tracker under another kind name, standing in for Jira or Gitea."""

    kind = "memo"
'''


def install_plugin(folder) -> None:
    folder.mkdir()
    (folder / "memo_tracker.py").write_text(
        textwrap.dedent(PLUGIN_MODULE), encoding="utf-8"
    )
    info = folder / "memo_tracker-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: memo-tracker\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[syncd.trackers]\nmemo = memo_tracker:MemoTracker\n", encoding="utf-8"
    )


def test_plugin_tracker_kind_syncs(project, tmp_path):
    plugins = tmp_path / "plugins"
    install_plugin(plugins)
    project.write_config(CONFIG.replace("kind: local", "kind: memo"))
    env = {"PYTHONPATH": str(plugins)}

    validate = project.syncd("config", "validate", env=env)
    sync = project.syncd("sync", "--format", "json", env=env)
    status = project.syncd("status", "--format", "json", env=env)

    assert validate.code == 0, validate.stdout
    assert sync.code == 0, sync.stderr
    assert len(status.json()["issues"]) == 2


def test_unknown_kind_without_plugin(project):
    project.write_config(CONFIG.replace("kind: local", "kind: memo"))

    run = project.syncd("config", "validate")

    assert run.code == 1
    assert "unknown tracker kind 'memo'" in run.stdout
