"""The embedded tracker's file: created whole, and read when left without tables."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from syncd.tracker import IssueDraft
from syncd_adapters.local import LocalTracker


def _write_file_without_tables(path):
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.close()


@pytest.mark.parametrize("leftover", ["empty file", "database without tables"])
def test_read_only_open_of_a_half_created_file_reads_no_issues(tmp_path, leftover):
    path = tmp_path / "tracker.db"
    if leftover == "empty file":
        path.write_bytes(b"")
    else:
        _write_file_without_tables(path)
    before = sorted(p.name for p in tmp_path.iterdir())

    tracker = LocalTracker("main", path, read_only=True)
    try:
        assert list(tracker.list_managed("syncd")) == []
    finally:
        tracker.close_session()
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_writing_open_repairs_a_file_without_tables(tmp_path):
    path = tmp_path / "tracker.db"
    _write_file_without_tables(path)
    tracker = LocalTracker("main", path)
    try:
        tracker.create(
            IssueDraft(title="Order the cables.", body="", labels=("syncd",))
        )
        assert [i.title for i in tracker.list_managed("syncd")] == ["Order the cables."]
    finally:
        tracker.close_session()


def test_creation_killed_midway_leaves_no_half_file(tmp_path):
    """A process killed while building the schema leaves no tracker file."""

    path = tmp_path / "tracker.db"
    child = textwrap.dedent(
        f"""
        import os, signal, sys
        import syncd_adapters.local as local

        real_connect = local.sqlite3.connect

        class Dying:
            def __init__(self, connection):
                self.connection = connection
            def execute(self, *args):
                return self.connection.execute(*args)
            def executescript(self, script):
                # Half the schema is written, then the process is killed.
                self.connection.execute(script.split(";")[0])
                self.connection.commit()
                sys.stdout.write("ready\\n")
                sys.stdout.flush()
                os.kill(os.getpid(), signal.SIGKILL)

        local.sqlite3.connect = lambda *a, **k: Dying(real_connect(*a, **k))
        tracker = local.LocalTracker("main", {str(path)!r})
        tracker.list_managed("syncd")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -signal.SIGKILL
    assert "ready" in done.stdout
    assert not path.exists()

    tracker = LocalTracker("main", path, read_only=True)
    try:
        assert list(tracker.list_managed("syncd")) == []
    finally:
        tracker.close_session()
    # Only the hidden temporary file of the killed build may be left.
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == []
