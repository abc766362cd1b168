"""SIGTERM to ``syncd run`` during a sync waits for the write in flight only."""

from __future__ import annotations

import signal
import subprocess
import time

from syncd.engine import StateStore
from tests.ops.github_support import github_config, running_fast_fake, github_environment, issues_by_key, start_sync
from tests.ops.support import SYNCD, write_minutes

ITEMS = [f"AB: Write part {number} of the notes." for number in range(1, 9)]
SLOW_CREATE = 0.4


def test_sigterm_mid_sync_leaves_rest_pending(tmp_path):
    with running_fast_fake() as fake:
        fake.add_repo("acme/ops")
        fake.inject("POST", r"/repos/acme/ops/issues", delay=SLOW_CREATE, times=None)
        write_minutes(tmp_path / "minutes" / "weekly", "2026-03-02", ITEMS)
        github_config(tmp_path, fake)

        daemon = subprocess.Popen(
            [SYNCD, "--config", "syncd.yaml", "run", "--interval", "3600", "--jitter", "0"],
            cwd=tmp_path,
            env=github_environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while fake.count("POST", r"/repos/acme/ops/issues") < 2:
            assert time.monotonic() < deadline, fake.request_log()
            time.sleep(0.02)

        # A create still in its delay is not in the request log yet.
        finished_before_stop = fake.count("POST", r"/repos/acme/ops/issues")
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=30)

        assert daemon.returncode == 0, stderr
        assert "finishing the write in flight" in stderr
        # Only the create in flight finished after the signal: no new one started.
        assert fake.count("POST", r"/repos/acme/ops/issues") <= finished_before_stop + 1
        created = issues_by_key(fake)
        assert 2 <= len(created) < len(ITEMS)

        # Every write that was started also finished: none is left unresolved.
        with StateStore.open(tmp_path / "state" / "state.sqlite", read_only=True) as state:
            assert state.unfinished_journal() == []
            records = state.issue_records()
        for key, numbers in created.items():
            assert records[key].number == numbers[0]

        # The next sync creates the rest, with no duplicates.
        finisher = start_sync(tmp_path)
        _, stderr = finisher.communicate(timeout=60)
        assert finisher.returncode == 0, stderr
        created = issues_by_key(fake)
        assert len(created) == len(ITEMS)
        assert all(len(numbers) == 1 for numbers in created.values())
