"""Two syncs started at once against a slow tracker open exactly one issue.

A timer run and a manual ``syncd sync`` are separate processes, so systemd's
one-copy-per-unit rule does not keep them apart. Without the run lock both
would list the empty tracker before either creates, and the item would get
two issues.
"""

from __future__ import annotations

import signal
import time

import pytest

from syncd.lock import EXIT_LOCKED
from tests.fakes.github_fake import running_fake
from tests.ops.github_support import github_config, issues_by_key, start_sync
from tests.ops.support import write_minutes

# Seconds the fake waits before each response, so that both runs overlap.
SLOW_RESPONSE = 0.25


@pytest.fixture
def slow_fake():
    with running_fake() as fake:
        fake.add_repo("acme/ops")
        fake.inject(None, ".*", delay=SLOW_RESPONSE, times=None)
        yield fake


@pytest.fixture
def minutes(tmp_path):
    write_minutes(tmp_path / "minutes" / "weekly", "2026-03-02", ["AB: Write the notes."])


def wait_for_requests(fake, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while fake.count() < count:
        assert time.monotonic() < deadline, f"fewer than {count} requests: {fake.request_log()}"
        time.sleep(0.02)


def test_second_run_exits_with_lock_status(tmp_path, slow_fake, minutes):
    github_config(tmp_path, slow_fake)
    first = start_sync(tmp_path)
    second = start_sync(tmp_path)

    statuses = {}
    stderrs = {}
    for process in (first, second):
        _, stderrs[process.pid] = process.communicate(timeout=60)
        statuses[process.pid] = process.returncode

    assert sorted(statuses.values()) == [0, EXIT_LOCKED]
    loser = next(pid for pid, status in statuses.items() if status == EXIT_LOCKED)
    winner = next(pid for pid, status in statuses.items() if status == 0)
    assert "another sync is running" in stderrs[loser]
    assert f"pid {winner}" in stderrs[loser]
    assert len(issues_by_key(slow_fake)) == 1
    assert all(len(numbers) == 1 for numbers in issues_by_key(slow_fake).values())


def test_losing_run_exits_promptly(tmp_path, slow_fake, minutes):
    github_config(tmp_path, slow_fake)
    # A run that makes several writes, so it still holds the lock when the
    # second run starts.
    items = [f"AB: Write part {number} of the notes." for number in range(1, 7)]
    write_minutes(tmp_path / "minutes" / "weekly", "2026-03-02", items)
    first = start_sync(tmp_path)
    wait_for_requests(slow_fake, 1)

    second = start_sync(tmp_path)
    _, stderr = second.communicate(timeout=30)

    assert second.returncode == EXIT_LOCKED
    assert "another sync is running" in stderr
    # The second run gave up without waiting for the first to finish.
    assert first.poll() is None
    first.communicate(timeout=60)
    assert first.returncode == 0


def test_waiting_run_sees_the_issue(tmp_path, slow_fake, minutes):
    github_config(tmp_path, slow_fake)
    first = start_sync(tmp_path, "--lock-wait", "120")
    second = start_sync(tmp_path, "--lock-wait", "120")
    outputs = [process.communicate(timeout=120) for process in (first, second)]

    assert first.returncode == 0, outputs[0][1]
    assert second.returncode == 0, outputs[1][1]
    keys = issues_by_key(slow_fake)
    assert len(keys) == 1
    assert all(len(numbers) == 1 for numbers in keys.values())
    assert slow_fake.count("POST", r"/repos/acme/ops/issues") == 1
    assert any("waiting up to" in stderr for _, stderr in outputs)


def test_lock_released_when_holder_killed(tmp_path, slow_fake, minutes):
    github_config(tmp_path, slow_fake)
    holder = start_sync(tmp_path)
    wait_for_requests(slow_fake, 2)
    holder.send_signal(signal.SIGKILL)
    holder.communicate(timeout=30)

    # The kernel dropped the dead run's lock: the next run starts at once.
    successor = start_sync(tmp_path)
    _, stderr = successor.communicate(timeout=60)
    assert successor.returncode == 0, stderr
    assert "another sync is running" not in stderr
    keys = issues_by_key(slow_fake)
    assert len(keys) == 1
    assert all(len(numbers) == 1 for numbers in keys.values())
