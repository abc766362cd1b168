"""``syncd run`` as a real process: notify socket, reload, stop, lock sharing."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from syncd.lock import RunLock
from tests.ops.notifysocket import NotifySocket
from tests.ops.support import SYNCD, local_config, local_issues, syncd_environment, write_minutes


class Daemon:
    """``syncd run`` in a subprocess, with a fake notify socket bound for it."""

    def __init__(self, tmp_path: Path, *arguments: str, watchdog_usec: int = 1_000_000) -> None:
        self.tmp_path = tmp_path
        self.socket = NotifySocket(tmp_path / "notify.sock")
        self.stderr_path = tmp_path / "daemon.log"
        environment = syncd_environment(
            NOTIFY_SOCKET=str(self.socket.path), WATCHDOG_USEC=str(watchdog_usec)
        )
        with open(self.stderr_path, "w") as stderr:
            self.process = subprocess.Popen(
                [SYNCD, "--config", "syncd.yaml", "run", "--jitter", "0", *arguments],
                cwd=tmp_path,
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )

    @property
    def log(self) -> str:
        return self.stderr_path.read_text()

    def wait_for_log(self, text: str, count: int = 1, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while self.log.count(text) < count:
            if self.process.poll() is not None:
                raise AssertionError(f"daemon exited with {self.process.returncode}:\n{self.log}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not logged {count} times:\n{self.log}")
            self.socket.drain()
            time.sleep(0.05)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        status = self.process.wait(timeout=20)
        self.socket.close()
        return status

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.socket.close()


@pytest.fixture
def start_daemon(tmp_path):
    daemons = []

    def start(*arguments: str, **kwargs) -> Daemon:
        daemon = Daemon(tmp_path, *arguments, **kwargs)
        daemons.append(daemon)
        return daemon

    yield start
    for daemon in daemons:
        daemon.kill()


def test_run_notifies_ready_watchdog_stopping(tmp_path, start_daemon):
    write_minutes(tmp_path / "minutes" / "weekly", "2026-03-02", ["AB: Write the notes."])
    local_config(tmp_path)
    daemon = start_daemon("--interval", "3600")

    ready = daemon.socket.wait_for("READY", "1")
    assert ready["MAINPID"] == str(daemon.process.pid)
    daemon.socket.wait_for("WATCHDOG", "1")
    daemon.socket.wait_for("STATUS")
    daemon.wait_for_log("sync finished")
    assert local_issues(tmp_path) == [("Write the notes.", "open")]

    assert daemon.stop() == 0
    assert daemon.socket.count("STOPPING") == 1
    assert "daemon stopped after 1 cycles" in daemon.log


def test_status_line_reports_last_sync(tmp_path, start_daemon):
    write_minutes(tmp_path / "minutes" / "weekly", "2026-03-02", ["AB: Write the notes."])
    local_config(tmp_path)
    daemon = start_daemon("--interval", "3600")
    message = daemon.socket.wait_for("STATUS")
    while "last sync" not in message["STATUS"]:
        message = daemon.socket.wait_for("STATUS", timeout=20)
        daemon.socket.messages.remove(message)
    assert " ok: " in message["STATUS"]
    assert "next in 3600 s" in message["STATUS"]
    assert daemon.stop() == 0


def test_sigint_stops_cleanly(tmp_path, start_daemon):
    write_minutes(tmp_path / "minutes" / "weekly", "2026-03-02", ["AB: Write the notes."])
    local_config(tmp_path)
    daemon = start_daemon("--interval", "3600")
    daemon.wait_for_log("sync finished")
    assert daemon.stop(signal.SIGINT) == 0
    assert "received SIGINT" in daemon.log


def test_sighup_reloads_valid_config(tmp_path, start_daemon):
    write_minutes(tmp_path / "minutes" / "weekly", "2026-03-02", ["AB: Write the notes."])
    write_minutes(tmp_path / "other" / "weekly", "2026-03-02", ["CD: Book the room."])
    local_config(tmp_path)
    daemon = start_daemon("--interval", "3600")
    daemon.wait_for_log("sync finished")

    # The new config reads another folder: its item gets an issue right after
    # the reload, long before the interval is over.
    local_config(tmp_path, root="other")
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_for_log("configuration reloaded")
    daemon.wait_for_log("sync finished", count=2)

    titles = [title for title, _ in local_issues(tmp_path)]
    assert "Book the room." in titles
    assert daemon.stop() == 0
    assert daemon.socket.count("RELOADING") == 1


def test_sighup_keeps_config_when_invalid(tmp_path, start_daemon):
    write_minutes(tmp_path / "minutes" / "weekly", "2026-03-02", ["AB: Write the notes."])
    config = local_config(tmp_path)
    daemon = start_daemon("--interval", "2")
    daemon.wait_for_log("sync finished")

    config.write_text(config.read_text() + "targets: [duplicate key\n")
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_for_log("reload failed, keeping the configuration loaded before")

    # The daemon goes on with the old config: the next cycle runs on schedule.
    daemon.wait_for_log("sync finished", count=2)
    assert daemon.process.poll() is None
    assert "syncd.yaml" in daemon.log
    assert local_issues(tmp_path) == [("Write the notes.", "open")]
    assert daemon.stop() == 0


def test_invalid_config_at_start_exits(tmp_path):
    (tmp_path / "syncd.yaml").write_text("sources: [\n")
    result = subprocess.run(
        [SYNCD, "--config", "syncd.yaml", "run"],
        cwd=tmp_path,
        env=syncd_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "invalid configuration" in result.stderr


def test_failing_cycle_keeps_daemon_alive(tmp_path, start_daemon):
    # The source folder is missing, so every cycle fails; the daemon backs off.
    local_config(tmp_path, root="missing")
    daemon = start_daemon("--interval", "1", "--max-backoff", "1")
    daemon.wait_for_log("retrying in", count=2)
    assert daemon.process.poll() is None

    write_minutes(tmp_path / "missing" / "weekly", "2026-03-02", ["AB: Write the notes."])
    daemon.wait_for_log("succeeded after", timeout=30)
    assert local_issues(tmp_path) == [("Write the notes.", "open")]
    assert daemon.stop() == 0


def test_cycle_skipped_while_lock_held(tmp_path, start_daemon):
    write_minutes(tmp_path / "minutes" / "weekly", "2026-03-02", ["AB: Write the notes."])
    local_config(tmp_path)
    with RunLock(tmp_path / "state"):
        daemon = start_daemon("--interval", "3600")
        daemon.wait_for_log("another sync is running")
        assert local_issues(tmp_path) == []
    assert daemon.stop() == 0
