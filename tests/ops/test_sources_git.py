"""The git source against real repositories in temporary folders."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from syncd.errors import InputError, SourceError
from syncd.settings import SourceSettings
from syncd.sources import open_source
from syncd.sources_git import GitSource, guess_web_url, redact_url

MINUTES = """---
title: Weekly
date: 2026-03-02
---
# Action items
- AB: Write the release notes.
"""


def git(repository: Path, *arguments: str) -> str:
    completed = subprocess.run(
        ["git", "-C", str(repository), *arguments],
        capture_output=True,
        text=True,
        check=True,
        env={
            "GIT_AUTHOR_NAME": "Test",
            "GIT_AUTHOR_EMAIL": "test@example.invalid",
            "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.invalid",
            "PATH": "/usr/bin:/bin",
        },
    )
    return completed.stdout.strip()


@pytest.fixture
def origin(tmp_path) -> Path:
    repository = tmp_path / "origin"
    repository.mkdir()
    git(repository, "init", "--quiet", "--initial-branch=main")
    (repository / "weekly" / "2026").mkdir(parents=True)
    (repository / "weekly" / "2026" / "03-02.md").write_text(MINUTES)
    (repository / "README.txt").write_text("not minutes\n")
    (repository / "weekly" / "link.md").symlink_to("2026/03-02.md")
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "--message", "First minutes")
    return repository


def make_source(url: str, state_dir: Path, **changes) -> GitSource:
    settings = SourceSettings(name="minutes", kind="git", url=url, **changes)
    source = open_source(settings, state_dir=state_dir)
    assert isinstance(source, GitSource)
    return source


def test_fetch_lists_and_reads_files(origin, tmp_path):
    source = make_source(str(origin), tmp_path / "state")
    source.prepare()

    assert source.list_files() == ["weekly/2026/03-02.md"]
    assert source.read_file("weekly/2026/03-02.md") == MINUTES.encode()
    assert source.commit == git(origin, "rev-parse", "HEAD")
    assert source.kept_repository.is_dir()
    source.close()


def test_second_fetch_sees_new_commit(origin, tmp_path):
    source = make_source(str(origin), tmp_path / "state")
    source.prepare()
    first = source.commit

    (origin / "weekly" / "2026" / "03-09.md").write_text(MINUTES.replace("03-02", "03-09"))
    git(origin, "add", "--all")
    git(origin, "commit", "--quiet", "--message", "Second minutes")
    source.prepare()

    assert source.commit != first
    assert source.commit == git(origin, "rev-parse", "HEAD")
    assert source.list_files() == ["weekly/2026/03-02.md", "weekly/2026/03-09.md"]
    source.close()


def test_branch_is_read_not_default(origin, tmp_path):
    git(origin, "checkout", "--quiet", "-b", "archive")
    (origin / "weekly" / "2026" / "03-02.md").write_text(MINUTES.replace("release", "archive"))
    git(origin, "commit", "--quiet", "--all", "--message", "Archive")
    git(origin, "checkout", "--quiet", "main")

    source = make_source(str(origin), tmp_path / "state", branch="archive")
    source.prepare()
    assert b"archive notes" in source.read_file("weekly/2026/03-02.md")
    assert source.commit == git(origin, "rev-parse", "archive")
    source.close()


def test_revision_records_commit_for_permalinks(origin, tmp_path):
    template = "https://forge.example.invalid/minutes/blob/{revision}/{path}#L{line}"
    source = make_source(str(origin), tmp_path / "state", web_url=template)
    source.prepare()
    revision = source.revision()
    assert revision.revision == source.commit
    assert revision.web_url == template.replace("{revision}", source.commit)
    source.close()


def test_missing_branch_is_source_error(origin, tmp_path):
    source = make_source(str(origin), tmp_path / "state", branch="no-such-branch")
    with pytest.raises(SourceError) as raised:
        source.prepare()
    assert "no-such-branch" in str(raised.value)
    assert raised.value.source == "minutes"


def test_failed_fetch_does_not_reuse_old_commit(origin, tmp_path):
    source = make_source(str(origin), tmp_path / "state")
    source.prepare()

    moved = origin.with_name("moved")
    origin.rename(moved)
    with pytest.raises(SourceError, match="fetching the default branch"):
        source.prepare()
    with pytest.raises(SourceError):
        source.list_files()


def test_dry_run_writes_nothing_to_state(origin, tmp_path):
    state_dir = tmp_path / "state"
    source = make_source(str(origin), state_dir)
    source.read_only = True
    source.prepare()
    assert source.list_files() == ["weekly/2026/03-02.md"]
    assert not state_dir.exists()
    source.close()


def test_dry_run_borrows_kept_objects(origin, tmp_path):
    state_dir = tmp_path / "state"
    writer = make_source(str(origin), state_dir)
    writer.prepare()
    writer.close()
    kept_before = sorted(path.name for path in writer.kept_repository.rglob("*"))

    reader = make_source(str(origin), state_dir)
    reader.read_only = True
    reader.prepare()
    assert reader.read_file("weekly/2026/03-02.md") == MINUTES.encode()
    reader.close()
    assert sorted(path.name for path in writer.kept_repository.rglob("*")) == kept_before


def test_oversized_file_is_input_error(origin, tmp_path):
    source = make_source(str(origin), tmp_path / "state", max_file_bytes=10)
    source.prepare()
    with pytest.raises(InputError, match="more than the limit"):
        source.read_file("weekly/2026/03-02.md")
    source.close()


def test_non_utf8_file_name_fails_alone(origin, tmp_path):
    latin1_name = os.fsdecode(b"caf\xe9.md")
    (origin / "weekly" / latin1_name).write_bytes(b"## Action items\n\n- KM: Sort it.\n")
    git(origin, "add", "--all")
    git(origin, "commit", "--quiet", "--message", "A Latin-1 name")
    source = make_source(str(origin), tmp_path / "state")
    source.prepare()

    listed = source.list_files()

    assert "weekly/caf\\xe9.md" in listed
    assert source.read_file("weekly/2026/03-02.md") == MINUTES.encode()
    with pytest.raises(InputError, match="not valid UTF-8"):
        source.read_file("weekly/caf\\xe9.md")
    source.close()


def test_ext_transport_is_rejected(tmp_path):
    source = make_source("ext::sh -c touch% /tmp/syncd-pwned", tmp_path / "state")
    with pytest.raises(SourceError):
        source.prepare()
    assert not Path("/tmp/syncd-pwned").exists()


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://github.com/acme/minutes.git", "https://github.com/acme/minutes/blob/{revision}/{path}#L{line}"),
        ("git@github.com:acme/minutes.git", "https://github.com/acme/minutes/blob/{revision}/{path}#L{line}"),
        ("https://gitlab.com/acme/team/minutes", "https://gitlab.com/acme/team/minutes/-/blob/{revision}/{path}#L{line}"),
        ("/srv/minutes.git", None),
    ],
)
def test_guess_web_url(url, expected):
    assert guess_web_url(url) == expected


def test_redact_url_drops_credentials():
    assert redact_url("https://bot:secret@forge.example.invalid/x.git") == "https://forge.example.invalid/x.git"


def test_stale_git_locks_are_removed(origin, tmp_path):
    source = make_source(str(origin), tmp_path / "state")
    source.prepare()
    source.close()

    # What a sync killed during a fetch leaves behind.
    repository = source.kept_repository
    (repository / "shallow.lock").write_text("")
    (repository / "refs" / "syncd").mkdir(parents=True, exist_ok=True)
    (repository / "refs" / "syncd" / "source.lock").write_text("")

    source.prepare()
    assert source.list_files() == ["weekly/2026/03-02.md"]
    assert list(repository.rglob("*.lock")) == []
    source.close()


def test_fetch_error_names_git_message(tmp_path):
    source = make_source(str(tmp_path / "missing"), tmp_path / "state")
    with pytest.raises(SourceError) as raised:
        source.prepare()
    assert "fatal:" in str(raised.value)
