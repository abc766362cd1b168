"""How a person's close is treated when the minutes list the item again.

The meeting that lists the item again can land in the same sync that first
sees the person's close (the timer ran before the close, the minutes were
pushed after it). It is still newer than anything syncd had synced, so the
reopen policy applies to it.
"""

from __future__ import annotations

import pytest

from syncd.model import Problem
from syncd.settings import Carry, ReopenPolicy
from syncd.tracker import CloseReason, IssueState
from tests.engine.support import Harness, make_settings, meeting, task


@pytest.mark.parametrize(
    ("policy", "expected_state", "expected_notes"),
    [
        (ReopenPolicy.NEVER, IssueState.CLOSED, 0),
        (ReopenPolicy.COMMENT, IssueState.CLOSED, 1),
        (ReopenPolicy.ALWAYS, IssueState.OPEN, 1),
    ],
)
def test_newer_meeting_in_same_sync(tmp_path, policy, expected_state, expected_notes):
    harness = Harness(
        tmp_path, make_settings(tmp_path, carry=Carry.ACCUMULATE, reopen=policy)
    )
    old = meeting("2024-05-02", [task("Delete the channel.", "RD")])
    harness.sync([old])
    [issue] = harness.issues()
    harness.person().close(issue.number, CloseReason.COMPLETED)

    newer = meeting("2024-05-09", [task("Delete the channel.", "RD")])
    for _ in range(3):
        harness.sync([old, newer])

    issue = harness.issues()[0]
    notes = [
        comment
        for comment in harness.tracker.list_comments(issue.number)
        if "lists the item" in comment.body
    ]
    assert issue.state is expected_state
    assert len(notes) == expected_notes


def test_close_without_newer_meeting_gets_no_note(tmp_path):
    harness = Harness(
        tmp_path,
        make_settings(tmp_path, carry=Carry.ACCUMULATE, reopen=ReopenPolicy.COMMENT),
    )
    old = meeting("2024-05-02", [task("Delete the channel.", "RD")])
    harness.sync([old])
    [issue] = harness.issues()
    harness.person().close(issue.number, CloseReason.COMPLETED)

    for _ in range(3):
        harness.sync([old])

    assert harness.tracker.list_comments(issue.number) == []
    assert harness.issues()[0].state is IssueState.CLOSED


def test_lost_state_keeps_person_closed_issue(tmp_path):
    """A reworded item with the issue's URL joins the person-closed issue.

    The state file is lost and the meeting that first listed the item cannot
    be read any more, so only the shared URL links the reworded item to its
    closed issue. A second issue would duplicate work the person closed.
    """

    harness = Harness(
        tmp_path,
        make_settings(tmp_path, carry=Carry.ACCUMULATE, reopen=ReopenPolicy.NEVER),
    )
    url = "https://example.org/acme/ops/pull/101"
    first = meeting("2024-05-02", [task(f"Review the audit. See {url}", "RD")])
    harness.sync([first])
    [issue] = harness.issues()
    harness.person().close(issue.number, CloseReason.COMPLETED)

    harness.state_path.unlink()
    unreadable = meeting(
        "2024-05-02",
        [],
        errors=[Problem("ops/2024-05-02.md", 3, "front matter: duplicate key")],
    )
    reworded = meeting("2024-05-16", [task(f"Finish the audit review. See {url}", "RD")])
    harness.sync([unreadable, reworded])

    issues = harness.issues()
    assert [found.number for found in issues] == [issue.number]
    assert issues[0].state is IssueState.CLOSED
