"""``syncd sync`` reading minutes from a real git repository and a loopback HTTP export."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.ops.support import PEOPLE, SYNCD, local_issues, syncd_environment, write_minutes
from tests.ops.test_sources_git import git
from tests.ops.test_sources_http import ExportServer

PARTIAL = 3
TEMPLATE = "https://forge.example.invalid/minutes/blob/{revision}/{path}#L{line}"


def source_config(tmp_path: Path, source_lines: str) -> None:
    (tmp_path / "syncd.yaml").write_text(
        f"""sources:
  minutes:
{source_lines}{PEOPLE}targets:
  ops:
    kind: local
    path: tracker.sqlite
    project: ops
state_dir: state
"""
    )


def sync(tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SYNCD, "--config", "syncd.yaml", "sync"],
        cwd=tmp_path,
        env=syncd_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def issue_bodies(tmp_path: Path) -> list[str]:
    connection = sqlite3.connect(tmp_path / "tracker.sqlite")
    try:
        return [row[0] for row in connection.execute("SELECT body FROM issues ORDER BY number")]
    finally:
        connection.close()


@pytest.fixture
def origin(tmp_path) -> Path:
    repository = tmp_path / "origin"
    repository.mkdir()
    git(repository, "init", "--quiet", "--initial-branch=main")
    write_minutes(repository / "weekly", "2026-03-02", ["AB: Write the notes.", "CD: Book the room."])
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "--message", "Minutes")
    return repository


def test_git_source_links_to_commit(tmp_path, origin):
    source_config(tmp_path, f"    kind: git\n    url: {origin}\n    web_url: {TEMPLATE}\n")
    result = sync(tmp_path)
    assert result.returncode == 0, result.stderr

    assert sorted(title for title, _ in local_issues(tmp_path)) == ["Book the room.", "Write the notes."]
    commit = git(origin, "rev-parse", "HEAD")
    link = f"https://forge.example.invalid/minutes/blob/{commit}/weekly/2026-03-02.md#L"
    assert all(link in body for body in issue_bodies(tmp_path))


def test_git_fetch_failure_closes_nothing(tmp_path, origin):
    source_config(tmp_path, f"    kind: git\n    url: {origin}\n")
    assert sync(tmp_path).returncode == 0

    origin.rename(tmp_path / "gone")
    result = sync(tmp_path)

    assert result.returncode == PARTIAL
    assert "fetching the default branch" in result.stderr
    assert [state for _, state in local_issues(tmp_path)] == ["open", "open"]


def test_git_source_follows_new_commits(tmp_path, origin):
    source_config(tmp_path, f"    kind: git\n    url: {origin}\n")
    assert sync(tmp_path).returncode == 0

    write_minutes(
        origin / "weekly", "2026-03-02", ["[x] AB: Write the notes.", "CD: Book the room."]
    )
    git(origin, "commit", "--quiet", "--all", "--message", "Notes written")
    result = sync(tmp_path)

    assert result.returncode == 0, result.stderr
    states = dict(local_issues(tmp_path))
    assert states["Book the room."] == "open"
    assert "closed" in states.values()


@pytest.fixture
def export_server():
    server = ExportServer()
    yield server
    server.close()


def test_http_source_syncs_and_revalidates(tmp_path, export_server):
    minutes = write_minutes(tmp_path / "served", "2026-03-02", ["AB: Write the notes."])
    export_server.routes["/weekly/2026-03-02.md"] = {"body": minutes.read_bytes(), "etag": '"v1"'}
    source_config(tmp_path, f"    kind: http\n    url: {export_server.url('/weekly/2026-03-02.md')}\n")

    first = sync(tmp_path)
    assert first.returncode == 0, first.stderr
    assert local_issues(tmp_path) == [("Write the notes.", "open")]

    second = sync(tmp_path)
    assert second.returncode == 0, second.stderr
    assert export_server.requests[-1]["If-None-Match"] == '"v1"'
    assert "not modified" in second.stderr
    assert local_issues(tmp_path) == [("Write the notes.", "open")]


def test_http_failure_closes_nothing(tmp_path, export_server):
    minutes = write_minutes(tmp_path / "served", "2026-03-02", ["AB: Write the notes."])
    export_server.routes["/notes.md"] = {"body": minutes.read_bytes()}
    source_config(tmp_path, f"    kind: http\n    url: {export_server.url('/notes.md')}\n")
    assert sync(tmp_path).returncode == 0

    # A login page in place of the export must not read as "every item gone".
    export_server.routes["/notes.md"] = {"body": b"<html>Sign in</html>", "type": "text/html"}
    result = sync(tmp_path)
    assert result.returncode == PARTIAL
    assert "web page" in result.stderr
    assert local_issues(tmp_path) == [("Write the notes.", "open")]
