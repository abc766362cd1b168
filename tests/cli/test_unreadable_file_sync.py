"""A minutes file that stops parsing leaves the issues it produced untouched.

The items of an unreadable file still take part in the sync from what the
file listed when it was last read, but that copy lacks the meeting details,
so the sync must not rewrite those issues from it.
"""

from __future__ import annotations

import sqlite3

import pytest

BROKEN_FRONT_MATTER = {
    "duplicate key": "---\ntitle: Ops weekly\ndate: 2024-05-02\ntitle: Pasted template\n---\n",
    "tab indentation": "---\ntitle: Ops weekly\ndate: 2024-05-02\npeople:\n\tRD: rosa\n---\n",
}


def issue_rows(tracker_file):
    with sqlite3.connect(tracker_file) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        ]
        assert "issues" in tables
        return connection.execute(
            "SELECT number, title, body, state, updated_at FROM issues ORDER BY number"
        ).fetchall()


@pytest.mark.parametrize("breakage", sorted(BROKEN_FRONT_MATTER))
def test_broken_file_writes_nothing(project, breakage):
    first = project.syncd("sync", "--config", str(project.config), "--format", "json")
    assert first.code == 0, first.stderr
    before = issue_rows(project.tracker_file)
    assert len(before) == 2

    path = project.minutes / "ops/2024-05-02.md"
    text = path.read_text(encoding="utf-8")
    body = text.split("---\n", 2)[2]
    path.write_text(BROKEN_FRONT_MATTER[breakage] + body, encoding="utf-8")

    second = project.syncd("sync", "--config", str(project.config), "--format", "json")
    assert second.code == 3, second.stdout + second.stderr
    report = second.json()
    writes = [
        change
        for change in report["changes"]
        if change["action"] in ("create", "update", "close", "reopen", "comment")
    ]
    assert writes == []
    assert issue_rows(project.tracker_file) == before
