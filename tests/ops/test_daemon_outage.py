"""``syncd run`` outlives an expired token and a tracker outage."""

from __future__ import annotations

import signal
import subprocess
import time

from tests.fakes.github_fake import DEFAULT_TOKEN
from tests.ops.github_support import github_config, github_environment, issues_by_key, running_fast_fake
from tests.ops.support import SYNCD, write_minutes


def start_daemon(tmp_path) -> subprocess.Popen:
    return subprocess.Popen(
        [SYNCD, "--config", "syncd.yaml", "run", "--interval", "1", "--jitter", "0",
         "--max-backoff", "1"],
        cwd=tmp_path,
        env=github_environment(),
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "daemon.log", "w"),
    )


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_expired_token_then_renewed(tmp_path):
    with running_fast_fake() as fake:
        fake.add_repo("acme/ops")
        write_minutes(tmp_path / "minutes" / "weekly", "2026-03-02", ["AB: Write the notes."])
        config = github_config(tmp_path, fake)
        config.write_text(
            config.read_text().replace("token_env: SYNCD_FAKE_GITHUB_TOKEN", "token_file: token.txt")
        )
        token_file = tmp_path / "token.txt"
        token_file.write_text("expired-token-0000\n")
        daemon = start_daemon(tmp_path)
        log = tmp_path / "daemon.log"
        try:
            # Every cycle fails on authentication, and the daemon keeps going.
            wait_until(lambda: log.read_text().count("retrying in") >= 2)
            assert daemon.poll() is None
            assert issues_by_key(fake) == {}

            # A renewed token is read by the next cycle, without a restart.
            token_file.write_text(DEFAULT_TOKEN + "\n")
            wait_until(lambda: len(issues_by_key(fake)) == 1)
            wait_until(lambda: "succeeded after" in log.read_text())
        finally:
            daemon.send_signal(signal.SIGTERM)
            status = daemon.wait(timeout=30)
        assert status == 0
        assert "expired-token-0000" not in log.read_text()


def test_tracker_outage_then_recovery(tmp_path):
    with running_fast_fake() as fake:
        fake.add_repo("acme/ops")
        write_minutes(tmp_path / "minutes" / "weekly", "2026-03-02", ["AB: Write the notes."])
        github_config(tmp_path, fake)
        outage = fake.inject(None, ".*", status=503, body={"message": "Service Unavailable"}, times=None)
        daemon = start_daemon(tmp_path)
        log = tmp_path / "daemon.log"
        try:
            wait_until(lambda: log.read_text().count("retrying in") >= 2)
            assert daemon.poll() is None

            fake.faults.remove(outage)
            wait_until(lambda: len(issues_by_key(fake)) == 1)
        finally:
            daemon.send_signal(signal.SIGTERM)
            status = daemon.wait(timeout=30)
        assert status == 0
        assert all(len(numbers) == 1 for numbers in issues_by_key(fake).values())
