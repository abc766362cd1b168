"""The example minutes, replayed meeting by meeting through the real CLI.

Each meeting of examples/minutes/platform is copied into an empty source
folder and synced, as a team's repository grows week by week. The series
adds, rewords, reassigns, drops and finishes items, and each of those must
land on the same issue.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli.conftest import run_syncd

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = PROJECT_ROOT / "config" / "example.yaml"
MEETINGS = sorted((PROJECT_ROOT / "examples" / "minutes" / "platform").glob("*.md"))


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    """Sync after each meeting; return each run's JSON and the final status."""

    work = tmp_path_factory.mktemp("example")
    source = work / "minutes"
    (source / "platform").mkdir(parents=True)
    common = ["--config", str(EXAMPLE_CONFIG), "--source", str(source)]
    common += ["--tracker", f"local:{work / 'tracker.db'}", "--format", "json"]
    runs = []
    for meeting in MEETINGS:
        shutil.copyfile(meeting, source / "platform" / meeting.name)
        run = run_syncd("sync", *common)
        assert run.code == 0, run.stderr
        runs.append(run.json())
    status = run_syncd("status", *common)
    again = run_syncd("sync", *common)
    return runs, status.json()["issues"], again.json()


def issue_titled(issues: list[dict], prefix: str) -> dict:
    [issue] = [issue for issue in issues if issue["title"].startswith(prefix)]
    return issue


def issue_changes(report: dict) -> list[dict]:
    return [change for change in report["changes"] if change.get("subject") != "label"]


def test_example_has_four_meetings():
    assert [meeting.name for meeting in MEETINGS] == [
        "2025-01-06.md",
        "2025-01-13.md",
        "2025-01-20.md",
        "2025-01-27.md",
    ]


def test_first_meeting_opens_three_issues(replay):
    runs, _, _ = replay

    created = [c for c in issue_changes(runs[0]) if c["action"] == "create"]

    assert len(created) == 3


def test_reworded_item_keeps_its_issue(replay):
    runs, issues, _ = replay

    backups = issue_titled(issues, "Set up nightly backups")
    rewords = [
        c
        for c in issue_changes(runs[1])
        if c["action"] == "update" and "title" in c.get("fields", {})
    ]

    assert [c["issue"]["ref"] for c in rewords] == [backups["ref"]]
    assert (
        rewords[0]["fields"]["title"]["before"]
        == "Set up the staging database backups."
    )
    assert len(backups["occurrences"]) == 4


def test_reassigned_item_follows_owners(replay):
    runs, issues, _ = replay

    handbook = issue_titled(issues, "Write the on-call handbook draft.")
    after_second = [
        c["fields"]["assignees"]["after"]
        for c in issue_changes(runs[1])
        if c["issue"]["ref"] == handbook["ref"] and "assignees" in c.get("fields", {})
    ]

    assert after_second == [["chen-wu-example"]]
    assert handbook["assignees"] == ["bruno-diaz-example", "chen-wu-example"]
    assert handbook["state"] == "open"


def test_dropped_items_are_closed(replay):
    runs, issues, _ = replay

    ssds = issue_titled(issues, "Order two spare SSDs")
    keys = issue_titled(issues, "Rotate the deploy keys")

    assert ssds["state"] == "closed"
    assert ssds["state_reason"] == "completed"
    assert [
        c["action"] for c in issue_changes(runs[2]) if c["issue"]["ref"] == ssds["ref"]
    ] == ["close"]
    assert keys["state"] == "closed"


def test_done_item_is_closed(replay):
    _, issues, _ = replay

    backups = issue_titled(issues, "Set up nightly backups")

    assert backups["state"] == "closed"
    assert backups["state_reason"] == "completed"


def test_group_owner_gets_label(replay):
    _, issues, _ = replay

    template = issue_titled(issues, "Read the new incident template")

    assert "everyone" in template["labels"]
    assert template["assignees"] == []


def test_one_issue_per_item(replay):
    _, issues, _ = replay

    assert len(issues) == 6
    assert sorted(issue["state"] for issue in issues) == ["closed"] * 3 + ["open"] * 3


def test_replay_then_sync_changes_nothing(replay):
    _, _, again = replay

    assert issue_changes(again) == []
