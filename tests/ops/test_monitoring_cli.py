"""``syncd sync --metrics-file --ping-url`` against the GitHub fake and a ping server."""

from __future__ import annotations

import subprocess

import pytest

from tests.ops.github_support import github_config, github_environment, running_fast_fake
from tests.ops.support import SYNCD, write_minutes
from tests.ops.test_healthcheck import PingServer
from tests.ops.test_metrics import samples


@pytest.fixture
def ping_server():
    server = PingServer()
    yield server
    server.close()


def sync(tmp_path, ping_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SYNCD, "--config", "syncd.yaml", "sync", "--metrics-file", "metrics/syncd.prom",
         "--ping-url", ping_url],
        cwd=tmp_path,
        env=github_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_metrics_and_ping_after_sync(tmp_path, ping_server):
    with running_fast_fake() as fake:
        fake.add_repo("acme/ops")
        write_minutes(tmp_path / "minutes" / "weekly", "2026-03-02", ["AB: Write the notes.", "CD: Book the room."])
        github_config(tmp_path, fake)
        result = sync(tmp_path, ping_server.url("/ping/check-id"))
        requests_made = fake.count()

    assert result.returncode == 0, result.stderr
    values = samples((tmp_path / "metrics" / "syncd.prom").read_text())
    assert values['syncd_last_run_changes{action="create"}'] == "2"
    assert values['syncd_last_run_changes{action="label"}'] == "1"
    assert values["syncd_last_run_success"] == "1"
    assert values['syncd_last_run_api_requests{target="ops"}'] == str(requests_made)
    assert int(values['syncd_rate_limit_remaining{target="ops"}']) > 0

    paths = [path for path, _ in ping_server.received]
    assert paths == ["/ping/check-id/start", "/ping/check-id"]
    assert ping_server.received[1][1] == b"2 create, 1 label"


def test_failed_sync_pings_fail(tmp_path, ping_server):
    with running_fast_fake() as fake:
        fake.add_repo("acme/ops")
        github_config(tmp_path, fake)
        # No minutes folder: the source cannot be read.
        result = sync(tmp_path, ping_server.url("/ping/check-id"))

    assert result.returncode == 3
    paths = [path for path, _ in ping_server.received]
    assert paths == ["/ping/check-id/start", "/ping/check-id/fail"]
    values = samples((tmp_path / "metrics" / "syncd.prom").read_text())
    assert values["syncd_last_run_success"] == "0"
    assert values['syncd_last_run_errors{kind="source"}'] == "1"
    assert values['syncd_runs_total{result="failure"}'] == "1"


def test_rejected_token_counts_target_error(tmp_path, ping_server):
    with running_fast_fake(tokens={"another-token": "someone"}) as fake:
        fake.add_repo("acme/ops")
        write_minutes(tmp_path / "minutes" / "weekly", "2026-03-02", ["AB: Write the notes."])
        github_config(tmp_path, fake)
        result = sync(tmp_path, ping_server.url("/ping/check-id"))

    assert result.returncode == 3
    values = samples((tmp_path / "metrics" / "syncd.prom").read_text())
    assert values['syncd_last_run_errors{kind="target"}'] == "1"
    assert values["syncd_last_run_success"] == "0"
    assert [path for path, _ in ping_server.received][-1] == "/ping/check-id/fail"
