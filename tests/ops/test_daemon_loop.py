"""The daemon loop in a real process, with a scripted cycle and settings loader.

These tests drive ``syncd.daemon.Daemon`` directly, so each behaviour (reload,
backoff, stop between writes) is checked without a tracker. The tests in
test_daemon_cli.py run the real ``syncd run`` command.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from syncd.daemon import CycleResult, Daemon, DaemonOptions
from tests.ops.notifysocket import NotifySocket

# The child reads a JSON "config" naming a label, and every cycle appends that
# label to a log file. "fail" makes the cycle raise; an invalid file fails to load.
CHILD_SCRIPT = r"""
import json, sys, time
from pathlib import Path
from syncd import logsetup
from syncd.daemon import CycleResult, Daemon, DaemonOptions
from syncd.errors import ConfigError, ConfigProblem, SourceError

config_path, log_path, interval = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
logsetup.configure(0)

def load_settings():
    try:
        return json.loads(config_path.read_text())
    except ValueError as error:
        raise ConfigError([ConfigProblem(str(config_path), 1, "", str(error))])

def run_cycle(settings, should_stop):
    for step in range(settings.get("writes", 1)):
        if should_stop():
            break
        with log_path.open("a") as log:
            log.write(f"{settings['label']} start {step}\n")
        time.sleep(settings.get("write_seconds", 0))
        with log_path.open("a") as log:
            log.write(f"{settings['label']} done {step}\n")
    if settings.get("fail"):
        raise SourceError("minutes", "source is down")
    return CycleResult(ok=True, summary="1 written")

options = DaemonOptions(interval=interval, jitter=0.0, backoff_initial=0.2, backoff_max=0.8)
sys.exit(Daemon(load_settings, run_cycle, options).run())
"""


class Child:
    def __init__(self, tmp_path: Path, config: dict, interval: float = 0.3) -> None:
        self.config_path = tmp_path / "config.json"
        self.log_path = tmp_path / "cycles.log"
        self.socket = NotifySocket(tmp_path / "notify.sock")
        self.write_config(config)
        environment = {
            **os.environ,
            "NOTIFY_SOCKET": str(self.socket.path),
            "WATCHDOG_USEC": "400000",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD_SCRIPT, str(self.config_path), str(self.log_path), str(interval)],
            env=environment,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.socket.wait_for("READY", "1")

    def write_config(self, config: dict | str) -> None:
        text = config if isinstance(config, str) else json.dumps(config)
        self.config_path.write_text(text)

    def log_lines(self) -> list[str]:
        if not self.log_path.exists():
            return []
        return self.log_path.read_text().splitlines()

    def wait_for_log(self, predicate, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.log_lines()
            if predicate(lines):
                return lines
            self.socket.drain()
            time.sleep(0.05)
        raise AssertionError(f"log condition not met: {self.log_lines()}")

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=15)
        self.socket.close()
        return self.process.returncode, stderr

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
        self.socket.close()


@pytest.fixture
def spawn(tmp_path):
    children = []

    def start(config: dict, interval: float = 0.3) -> Child:
        child = Child(tmp_path, config, interval)
        children.append(child)
        return child

    yield start
    for child in children:
        child.kill()


def test_notify_ready_watchdog_stopping(spawn):
    child = spawn({"label": "a"})
    child.socket.wait_for("WATCHDOG", "1")
    child.wait_for_log(lambda lines: len(lines) >= 4)

    status, stderr = child.stop()
    assert status == 0, stderr
    assert child.socket.count("STOPPING") == 1
    assert child.socket.count("WATCHDOG") >= 1


def test_sigterm_finishes_write_in_flight(spawn):
    child = spawn({"label": "a", "writes": 3, "write_seconds": 1.0}, interval=60)
    child.wait_for_log(lambda lines: lines and lines[-1] == "a start 0")

    status, stderr = child.stop()
    assert status == 0, stderr

    # The write in flight finished, and no later write started.
    assert child.log_lines() == ["a start 0", "a done 0"]
    assert "finishing the write in flight" in stderr


def test_sighup_reloads_valid_config(spawn):
    child = spawn({"label": "old"})
    child.wait_for_log(lambda lines: "old done 0" in lines)

    child.write_config({"label": "new"})
    child.process.send_signal(signal.SIGHUP)
    child.wait_for_log(lambda lines: "new done 0" in lines)

    status, stderr = child.stop()
    assert status == 0
    assert "configuration reloaded" in stderr
    assert child.socket.count("RELOADING") == 1


def test_sighup_keeps_old_config_when_invalid(spawn):
    child = spawn({"label": "old"})
    child.wait_for_log(lambda lines: "old done 0" in lines)

    child.write_config("{not json")
    child.process.send_signal(signal.SIGHUP)
    child.socket.wait_for("RELOADING", "1")
    count_before = child.log_lines().count("old done 0")
    child.wait_for_log(lambda lines: lines.count("old done 0") >= count_before + 2)

    status, stderr = child.stop()
    assert status == 0
    assert "reload failed, keeping the configuration loaded before" in stderr
    assert str(child.config_path) in stderr
    assert all(line.startswith("old ") for line in child.log_lines())


def test_failing_cycle_backs_off_and_recovers(spawn):
    child = spawn({"label": "down", "fail": True})
    child.wait_for_log(lambda lines: lines.count("down done 0") >= 3)
    assert child.process.poll() is None

    child.write_config({"label": "up"})
    child.process.send_signal(signal.SIGHUP)
    child.wait_for_log(lambda lines: "up done 0" in lines)

    status, stderr = child.stop()
    assert status == 0
    assert "cycle 1 failed: source is down" in stderr
    assert "retrying in" in stderr


class RecordingNotifier:
    enabled = False

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.sent.append(name)


def make_daemon(**option_changes) -> Daemon:
    options = DaemonOptions(**{"jitter": 0.0, **option_changes})
    return Daemon(lambda: {}, lambda settings, stop: None, options, notifier=RecordingNotifier())


def test_backoff_doubles_up_to_maximum():
    daemon = make_daemon(interval=100, backoff_initial=10, backoff_max=45)
    delays = []
    for _ in range(4):
        daemon.consecutive_failures += 1
        delays.append(daemon.next_delay(CycleResult(ok=False, summary="")))
    assert delays == [10, 20, 40, 45]


def test_success_sleeps_interval_with_jitter():
    daemon = make_daemon(interval=100, jitter=5)
    for _ in range(20):
        delay = daemon.next_delay(CycleResult(ok=True, summary=""))
        assert 100 <= delay <= 105


def test_rate_limit_waits_for_retry_after():
    daemon = make_daemon(interval=100, backoff_initial=10)
    daemon.consecutive_failures = 1
    assert daemon.next_delay(CycleResult(ok=False, summary="", retry_after=300)) == 300


def test_failed_reload_keeps_schedule(spawn):
    child = spawn({"label": "old"}, interval=60)
    child.wait_for_log(lambda lines: "old done 0" in lines)

    child.write_config("{not json")
    child.process.send_signal(signal.SIGHUP)
    child.socket.wait_for("RELOADING", "1")
    child.socket.wait_for("STATUS", "reload failed: invalid configuration, the old one stays in use")
    # No extra cycle: the next one is still about a minute away.
    time.sleep(0.5)
    assert child.log_lines() == ["old start 0", "old done 0"]

    # A valid configuration syncs at once, without waiting for the interval.
    child.write_config({"label": "new"})
    child.process.send_signal(signal.SIGHUP)
    child.wait_for_log(lambda lines: "new done 0" in lines)
    status, _ = child.stop()
    assert status == 0
