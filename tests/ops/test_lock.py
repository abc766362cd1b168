"""The run lock, against real processes holding it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from syncd.errors import LockHeldError
from syncd.lock import LOCK_FILE_NAME, RunLock, read_holder

# A child process that takes the lock, reports it, and sleeps until killed.
HOLDER_SCRIPT = """
import sys, time
from pathlib import Path
from syncd.lock import RunLock
with RunLock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(60)
"""


def start_holder(state_dir: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER_SCRIPT, str(state_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "locked"
    return process


def test_lock_records_holder(tmp_path):
    with RunLock(tmp_path) as lock:
        holder = read_holder(lock.path)
        assert holder.pid == os.getpid()
        assert holder.started_at is not None
    assert (tmp_path / LOCK_FILE_NAME).read_text() == ""


def test_second_lock_in_process_is_rejected(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(LockHeldError):
            RunLock(tmp_path).acquire()


def test_held_lock_names_holder(tmp_path):
    holder = start_holder(tmp_path)
    try:
        with pytest.raises(LockHeldError) as raised:
            RunLock(tmp_path, wait=0).acquire()
        assert f"pid {holder.pid}" in str(raised.value)
        assert "another sync is running" in str(raised.value)
        assert raised.value.holder.pid == holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_wait_is_bounded(tmp_path):
    holder = start_holder(tmp_path)
    try:
        started = time.monotonic()
        with pytest.raises(LockHeldError) as raised:
            RunLock(tmp_path, wait=0.5).acquire()
        waited = time.monotonic() - started
        assert waited >= 0.5
        # Bounded: the holder sleeps for 60 s, far longer than this.
        assert waited < 30
        assert "after waiting" in str(raised.value)
    finally:
        holder.kill()
        holder.wait()


def test_lock_taken_over_after_sigkill(tmp_path):
    holder = start_holder(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait()

    # The dead holder's record is still in the file, but the kernel lock is gone.
    stale = json.loads((tmp_path / LOCK_FILE_NAME).read_text())
    assert stale["pid"] == holder.pid

    with RunLock(tmp_path, wait=0) as lock:
        assert read_holder(lock.path).pid == os.getpid()


def test_waiting_run_gets_lock_when_holder_exits(tmp_path):
    holder = start_holder(tmp_path)
    try:
        os.kill(holder.pid, signal.SIGTERM)
        with RunLock(tmp_path, wait=10) as lock:
            assert read_holder(lock.path).pid == os.getpid()
    finally:
        holder.kill()
        holder.wait()


def test_torn_lock_file_reads_as_unknown(tmp_path):
    (tmp_path / LOCK_FILE_NAME).write_text('{"pid": 12')
    holder = read_holder(tmp_path / LOCK_FILE_NAME)
    assert holder.pid is None
    assert holder.describe() == "an unknown process"


def test_wait_ends_when_stop_requested(tmp_path):
    holder = start_holder(tmp_path)
    checks = []

    def should_stop() -> bool:
        checks.append(True)
        return len(checks) >= 3

    try:
        with pytest.raises(LockHeldError) as raised:
            RunLock(tmp_path, wait=60, should_stop=should_stop).acquire()
        assert "stopped waiting" in str(raised.value)
        assert len(checks) == 3
    finally:
        holder.kill()
        holder.wait()
