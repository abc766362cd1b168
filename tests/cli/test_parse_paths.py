"""``syncd parse``: which paths it takes and the series each file gets."""

from __future__ import annotations

from tests.cli.conftest import MEETING_ONE, run_syncd


def _series(run) -> list[str]:
    return [document["meeting"]["series"] for document in run.json()["documents"]]


def test_folder_is_usage_error(project):
    run = project.syncd("parse", str(project.minutes))

    assert run.code == 1
    assert f"{project.minutes} is a folder" in run.stderr
    assert "config source" in run.stderr
    assert run.stdout == ""


def test_missing_path_is_usage_error(project):
    missing = project.root / "nope.md"

    run = project.syncd("parse", str(missing))

    assert run.code == 1
    assert f"{missing}: no such file" in run.stderr


def test_help_says_files_only():
    run = run_syncd("parse", "--help")

    assert "a folder is rejected" in run.stdout


def test_absolute_path_outside_working_folder(tmp_path):
    meeting = tmp_path / "notes" / "ops" / "2024" / "2024-05-02.md"
    meeting.parent.mkdir(parents=True)
    meeting.write_text(MEETING_ONE, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    run = run_syncd("parse", "--format", "json", str(meeting), cwd=elsewhere)

    assert run.code == 0
    assert _series(run) == ["ops"]


def test_relative_path_keeps_its_folders(tmp_path):
    meeting = tmp_path / "notes" / "ops" / "2024-05-02.md"
    meeting.parent.mkdir(parents=True)
    meeting.write_text(MEETING_ONE, encoding="utf-8")

    run = run_syncd("parse", "--format", "json", "notes/ops/2024-05-02.md", cwd=tmp_path)

    assert _series(run) == ["notes/ops"]


def test_file_in_working_folder_named_by_folder(tmp_path):
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "2024-05-02.md").write_text(MEETING_ONE, encoding="utf-8")

    run = run_syncd("parse", "--format", "json", "2024-05-02.md", cwd=tmp_path / "ops")

    assert _series(run) == ["ops"]


def test_file_in_source_gets_sync_series(project, tmp_path):
    nested = project.minutes / "ops" / "2024-05-02.md"
    top = project.write_minutes("2024-05-03.md", MEETING_ONE)

    run = project.syncd(
        "parse", "--format", "json", str(nested), str(top), cwd=tmp_path
    )

    assert run.code == 0
    assert _series(run) == ["ops", "minutes"]


def test_top_level_file_series_in_sync(project):
    project.write_minutes("2024-05-03.md", MEETING_ONE.replace("2024-05-02", "2024-05-03"))

    run = project.syncd("plan", "--format", "json")

    paths = {change["item"]["path"] for change in run.json()["changes"] if change["item"]}
    assert "2024-05-03.md" in paths
    assert "series ." not in run.stdout


def test_empty_source_says_no_minutes_files(project):
    project.syncd("sync")
    (project.minutes / "ops" / "2024-05-02.md").unlink()

    run = project.syncd("sync")
    status = project.syncd("status", "--format", "json").json()["issues"]

    assert run.code == 3
    assert "minutes: error: has no minutes files" in run.stdout
    assert "series . " not in run.stdout
    assert {issue["state"] for issue in status} == {"open"}
