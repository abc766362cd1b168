"""``syncd retry ITEM`` re-queues one item whose write failed."""

from __future__ import annotations

import subprocess

import pytest

from syncd.engine import StateStore
from tests.ops.github_support import github_config, running_fast_fake, github_environment, issues_by_key
from tests.ops.support import SYNCD, write_minutes


def syncd(tmp_path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SYNCD, "--config", "syncd.yaml", *arguments],
        cwd=tmp_path,
        env=github_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def journal(tmp_path) -> list:
    with StateStore.open(tmp_path / "state" / "state.sqlite", read_only=True) as state:
        return state.journal()


@pytest.fixture
def failed_create(tmp_path):
    """A first sync in which the create of one of two items was rejected."""

    with running_fast_fake() as fake:
        fake.add_repo("acme/ops")
        write_minutes(tmp_path / "minutes" / "weekly", "2026-03-02", ["AB: Write the notes.", "CD: Book the room."])
        github_config(tmp_path, fake)
        fake.inject(
            "POST",
            r"/repos/acme/ops/issues",
            status=422,
            body={"message": "Validation Failed", "errors": [{"code": "custom", "field": "title"}]},
            times=1,
        )
        result = syncd(tmp_path, "sync")
        assert result.returncode == 3, result.stderr
        yield fake


def failed_keys(tmp_path) -> list[str]:
    return [entry.key for entry in journal(tmp_path) if entry.status == "failed"]


def test_retry_settles_failed_write(tmp_path, failed_create):
    (key,) = failed_keys(tmp_path)

    result = syncd(tmp_path, "retry", key)
    assert result.returncode == 0, result.stderr
    assert f"item {key}: 1 failed or unfinished writes cleared" in result.stdout
    assert failed_keys(tmp_path) == []
    assert [entry.status for entry in journal(tmp_path) if entry.key == key] == ["requeued"]

    result = syncd(tmp_path, "sync")
    assert result.returncode == 0, result.stderr
    assert key in issues_by_key(failed_create)
    assert len(issues_by_key(failed_create)) == 2


def test_retry_accepts_key_prefix(tmp_path, failed_create):
    (key,) = failed_keys(tmp_path)
    result = syncd(tmp_path, "retry", key[:8])
    assert result.returncode == 0, result.stderr
    assert key in result.stdout


def test_retry_short_prefix_names_minimum(tmp_path, failed_create):
    (key,) = failed_keys(tmp_path)
    result = syncd(tmp_path, "retry", key[:3])
    assert result.returncode == 1
    assert "too short a key prefix" in result.stderr
    assert "at least 6 characters" in result.stderr


def test_retry_accepts_issue_ref(tmp_path, failed_create):
    (created_key,) = issues_by_key(failed_create)
    (number,) = issues_by_key(failed_create)[created_key]
    result = syncd(tmp_path, "retry", f"acme/ops#{number}")
    assert result.returncode == 0, result.stderr
    assert created_key in result.stdout


def test_retry_unknown_item_fails(tmp_path, failed_create):
    result = syncd(tmp_path, "retry", "no-such-item")
    assert result.returncode == 1
    assert "item 'no-such-item' not found in the state file" in result.stderr


def test_retry_waits_for_lock_holder(tmp_path, failed_create):
    from syncd.lock import EXIT_LOCKED, RunLock

    (key,) = failed_keys(tmp_path)
    with RunLock(tmp_path / "state"):
        result = syncd(tmp_path, "retry", key)
    assert result.returncode == EXIT_LOCKED
    assert "another sync is running" in result.stderr
