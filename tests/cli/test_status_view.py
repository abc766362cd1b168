"""``syncd status``: every occurrence with its date, and closed issues in full."""

from __future__ import annotations

from tests.cli.conftest import MEETING_TWO

THIRD_MEETING = """\
---
date: 2024-05-16
---

## Action items

KM: Rotate the staging database password.
RD: Delete the calendar-announce channel.
"""


def _issue(status: dict, title: str) -> dict:
    return next(issue for issue in status["issues"] if issue["title"] == title)


def _block(text: str, title: str) -> str:
    """Return the lines of one issue in the text status, headline first."""

    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if title in line)
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith(" "):
            break
        block.append(line)
    return "\n".join(block)


def test_renamed_file_marked_gone(project):
    project.write_minutes("ops/2024-05-09.md", MEETING_TWO)
    project.syncd("sync")
    (project.minutes / "ops" / "2024-05-09.md").rename(
        project.minutes / "ops" / "2024-05-09-ops.md"
    )
    project.syncd("sync")

    text = project.syncd("status").stdout
    status = project.syncd("status", "--format", "json").json()

    block = _block(text, "Rotate the staging database password.")
    assert "seen: ops/2024-05-09.md:13 (2024-05-09; file no longer in the source)" in block
    assert "seen: ops/2024-05-09-ops.md:13 (2024-05-09)" in block
    occurrences = _issue(status, "Rotate the staging database password.")["occurrences"]
    present = {o["path"]: o["present"] for o in occurrences}
    assert present == {"ops/2024-05-09.md": False, "ops/2024-05-09-ops.md": True}


def test_closed_issue_shows_assignees_and_seen(project):
    project.write_minutes("ops/2024-05-09.md", MEETING_TWO)
    project.syncd("sync")
    project.write_minutes("ops/2024-05-16.md", THIRD_MEETING)
    project.syncd("sync")

    text = project.syncd("status").stdout

    block = _block(text, "Book the room for the June offsite.")
    assert "closed (completed)" in block
    assert "assignees: kai-example" in block
    assert "seen: ops/2024-05-02.md:16 (2024-05-02)" in block
    assert "seen: ops/2024-05-09.md:12 (2024-05-09)" in block


def test_occurrences_ordered_by_date(project):
    project.write_minutes("ops/2024-05-09.md", MEETING_TWO)
    project.syncd("sync")

    status = project.syncd("status", "--format", "json").json()

    occurrences = _issue(status, "Book the room for the June offsite.")["occurrences"]
    assert [o["date"] for o in occurrences] == ["2024-05-02", "2024-05-09"]
