"""The behaviour every tracker adapter must share, as the engine relies on it.

These tests use only the ``syncd.tracker.Tracker`` interface, so the same
test proves the embedded tracker, the GitHub adapter and the GitLab adapter.
"""

from __future__ import annotations

import pytest

from syncd.errors import DryRunWriteError, IssueNotFoundError, TrackerError
from syncd.marker import encode_marker, marker_key
from syncd.tracker import (
    UNSET,
    CloseReason,
    IssueDraft,
    IssueState,
    IssueUpdate,
    ReadOnlyTracker,
)

MANAGED = "syncd"
MISSING_NUMBER = 987654
UNKNOWN_ACCOUNT = "no-such-account-0"


def _draft(title="Book the room for the offsite", **fields) -> IssueDraft:
    fields.setdefault("body", f"{encode_marker({'key': title})}\nBook it before June.")
    fields.setdefault("labels", (MANAGED,))
    return IssueDraft(title=title, **fields)


# Creating and reading.


def test_create_returns_open_issue(tracker):
    issue = tracker.create(_draft(labels=(MANAGED, "from-minutes")))

    assert issue.number > 0
    assert issue.state is IssueState.OPEN
    assert issue.title == "Book the room for the offsite"
    assert issue.body.endswith("Book it before June.")
    assert issue.labels == ("from-minutes", MANAGED)
    assert str(issue.number) in issue.ref
    assert issue.url
    assert issue.closed_by is None


def test_create_numbers_increase(tracker):
    first = tracker.create(_draft("First item"))
    second = tracker.create(_draft("Second item"))

    assert second.number > first.number
    assert first.ref != second.ref


def test_get_equals_created_issue(tracker):
    created = tracker.create(_draft())

    fetched = tracker.get(created.number)

    assert fetched.number == created.number
    assert fetched.title == created.title
    assert fetched.body == created.body
    assert fetched.labels == created.labels
    assert fetched.state is IssueState.OPEN
    assert tracker.get(created.number) == fetched


def test_body_round_trips_unicode_and_marker(tracker):
    body = f"{encode_marker({'key': 'k-ünï'})}\nPrüfen 🚀 👩‍💻 🇩🇪\n\n- nested"
    issue = tracker.create(_draft("Check the cafe wiki 🚀", body=body))

    fetched = tracker.get(issue.number)

    assert fetched.body == body
    assert fetched.title == "Check the cafe wiki 🚀"
    assert marker_key(fetched.body) == "k-ünï"


def test_create_with_assignee_and_milestone(tracker):
    account = tracker.current_account()
    tracker.ensure_milestone("Q3")

    issue = tracker.create(_draft(assignees=(account,), milestone="Q3"))

    assert issue.assignees == (account,)
    assert issue.milestone == "Q3"
    assert tracker.get(issue.number).milestone == "Q3"


def test_get_missing_number_raises_not_found(tracker):
    with pytest.raises(IssueNotFoundError):
        tracker.get(MISSING_NUMBER)


def test_write_missing_number_raises_not_found(tracker):
    with pytest.raises(IssueNotFoundError):
        tracker.update(MISSING_NUMBER, IssueUpdate(title="New title"))
    with pytest.raises(IssueNotFoundError):
        tracker.close(MISSING_NUMBER, CloseReason.COMPLETED)


# Partial updates.


def test_update_title_keeps_body_and_labels(tracker):
    issue = tracker.create(_draft(labels=(MANAGED, "team-ops")))

    updated = tracker.update(issue.number, IssueUpdate(title="Book the big room"))

    assert updated.title == "Book the big room"
    assert updated.body == issue.body
    assert updated.labels == issue.labels
    assert tracker.get(issue.number).title == "Book the big room"


def test_update_body_only(tracker):
    issue = tracker.create(_draft())
    body = f"{encode_marker({'key': 'same'})}\nReworded text."

    updated = tracker.update(issue.number, IssueUpdate(body=body))

    assert updated.body == body
    assert updated.title == issue.title


def test_add_labels_keeps_other_labels(tracker):
    issue = tracker.create(_draft(labels=(MANAGED, "priority-high")))

    updated = tracker.update(issue.number, IssueUpdate(add_labels=("from-minutes",)))

    assert updated.labels == ("from-minutes", "priority-high", MANAGED)


def test_remove_labels_keeps_other_labels(tracker):
    issue = tracker.create(_draft(labels=(MANAGED, "priority-high", "from-minutes")))

    updated = tracker.update(issue.number, IssueUpdate(remove_labels=("from-minutes",)))

    assert updated.labels == ("priority-high", MANAGED)
    assert tracker.get(issue.number).labels == ("priority-high", MANAGED)


def test_add_and_remove_assignee(tracker):
    account = tracker.current_account()
    issue = tracker.create(_draft())

    added = tracker.update(issue.number, IssueUpdate(add_assignees=(account,)))
    removed = tracker.update(issue.number, IssueUpdate(remove_assignees=(account,)))

    assert added.assignees == (account,)
    assert removed.assignees == ()
    assert removed.labels == issue.labels


def test_milestone_set_kept_and_cleared(tracker):
    tracker.ensure_milestone("Q2")
    issue = tracker.create(_draft())

    with_milestone = tracker.update(issue.number, IssueUpdate(milestone="Q2"))
    untouched = tracker.update(
        issue.number, IssueUpdate(title="Other title", milestone=UNSET)
    )
    cleared = tracker.update(issue.number, IssueUpdate(milestone=None))

    assert with_milestone.milestone == "Q2"
    assert untouched.milestone == "Q2"
    assert cleared.milestone is None


def test_empty_update_changes_nothing(tracker):
    issue = tracker.create(_draft())

    updated = tracker.update(issue.number, IssueUpdate())

    assert updated.title == issue.title
    assert updated.body == issue.body
    assert updated.labels == issue.labels


# Closing, reopening, comments.


@pytest.mark.parametrize("reason", [CloseReason.COMPLETED, CloseReason.NOT_PLANNED])
def test_close_records_reason_and_closer(tracker, reason):
    issue = tracker.create(_draft())

    closed = tracker.close(issue.number, reason)

    assert closed.state is IssueState.CLOSED
    assert closed.state_reason == reason.value
    fetched = tracker.get(issue.number)
    assert fetched.state is IssueState.CLOSED
    assert fetched.state_reason == reason.value
    assert fetched.closed_by == tracker.current_account()


def test_reopen_closed_issue(tracker):
    issue = tracker.create(_draft())
    tracker.close(issue.number, CloseReason.COMPLETED)

    reopened = tracker.reopen(issue.number)

    assert reopened.state is IssueState.OPEN
    assert tracker.get(issue.number).state is IssueState.OPEN
    assert reopened.labels == issue.labels


def test_comment_is_listed_with_author(tracker):
    issue = tracker.create(_draft())

    comment = tracker.comment(
        issue.number, "Closed: no longer listed since 2024-05-09."
    )
    comments = tracker.list_comments(issue.number)

    assert comment.body == "Closed: no longer listed since 2024-05-09."
    assert [c.body for c in comments] == ["Closed: no longer listed since 2024-05-09."]
    assert comments[0].author == tracker.current_account()


def test_comments_keep_order(tracker):
    issue = tracker.create(_draft())

    for text in ("first", "second", "third"):
        tracker.comment(issue.number, text)

    assert [c.body for c in tracker.list_comments(issue.number)] == [
        "first",
        "second",
        "third",
    ]


# Listing managed issues.


def test_list_managed_includes_closed_issues(tracker):
    open_issue = tracker.create(_draft("Open item"))
    closed_issue = tracker.create(_draft("Closed item"))
    tracker.close(closed_issue.number, CloseReason.NOT_PLANNED)

    listed = {issue.number: issue for issue in tracker.list_managed(MANAGED)}

    assert set(listed) == {open_issue.number, closed_issue.number}
    assert listed[closed_issue.number].state is IssueState.CLOSED
    assert listed[open_issue.number].state is IssueState.OPEN


def test_list_managed_filters_by_label(tracker):
    managed = tracker.create(_draft("Managed item"))
    tracker.create(_draft("Someone else's issue", labels=("bug",)))

    listed = [issue.number for issue in tracker.list_managed(MANAGED)]

    assert listed == [managed.number]


def test_list_managed_is_complete(tracker):
    # More than one page on fakes that serve small pages.
    created = {
        tracker.create(_draft(f"Item number {index}")).number for index in range(25)
    }

    listed = [issue.number for issue in tracker.list_managed(MANAGED)]

    assert set(listed) == created
    assert len(listed) == len(created)


def test_list_managed_returns_full_issues(tracker):
    issue = tracker.create(_draft(labels=(MANAGED, "team-ops")))

    [listed] = tracker.list_managed(MANAGED)

    assert listed.number == issue.number
    assert listed.title == issue.title
    assert listed.body == issue.body
    assert listed.labels == tuple(sorted((MANAGED, "team-ops")))


def test_list_managed_empty_tracker(tracker):
    assert tracker.list_managed(MANAGED) == []


# Labels, milestones, accounts, limits.


def test_ensure_label_is_idempotent(tracker):
    assert tracker.missing_labels(["syncd-contract"]) == ["syncd-contract"]

    tracker.ensure_label("syncd-contract", "0e8a16", "Managed by syncd")
    tracker.ensure_label("syncd-contract", "0e8a16", "Managed by syncd")

    assert tracker.missing_labels(["syncd-contract", "other"]) == ["other"]


def test_ensure_milestone_is_idempotent(tracker):
    assert tracker.missing_milestones(["Q4"]) == ["Q4"]

    tracker.ensure_milestone("Q4")
    tracker.ensure_milestone("Q4")

    assert tracker.missing_milestones(["Q4", "Q5"]) == ["Q5"]


def test_can_assign_own_account_only(tracker):
    assert tracker.can_assign(tracker.current_account()) is True
    assert tracker.can_assign(UNKNOWN_ACCOUNT) is False


def test_current_account_is_stable_text(tracker):
    account = tracker.current_account()

    assert isinstance(account, str)
    assert account
    assert tracker.current_account() == account


def test_limits_are_positive(tracker):
    limits = tracker.limits

    assert limits.title > 0
    assert limits.body >= 65_000 or limits.body > 1_000
    assert limits.comment > 0


def test_preflight_passes(tracker):
    tracker.preflight()


# Dry runs.


def test_read_only_wrapper_rejects_writes(tracker):
    issue = tracker.create(_draft())
    read_only = ReadOnlyTracker(tracker)

    writes = [
        lambda: read_only.create(_draft("Never created")),
        lambda: read_only.update(issue.number, IssueUpdate(title="Never")),
        lambda: read_only.close(issue.number, CloseReason.COMPLETED),
        lambda: read_only.reopen(issue.number),
        lambda: read_only.comment(issue.number, "never"),
        lambda: read_only.ensure_label("never", "ededed"),
        lambda: read_only.ensure_milestone("never"),
    ]
    for write in writes:
        with pytest.raises(DryRunWriteError):
            write()

    assert [i.number for i in tracker.list_managed(MANAGED)] == [issue.number]
    assert tracker.get(issue.number) == read_only.get(issue.number)
    assert tracker.get(issue.number).title == issue.title


def test_errors_are_syncd_types(tracker):
    with pytest.raises(TrackerError) as raised:
        tracker.get(MISSING_NUMBER)

    assert isinstance(raised.value, IssueNotFoundError)
    assert raised.value.__class__.__module__ == "syncd.errors"


# Edge cases the engine relies on.


def test_comment_on_missing_issue_raises_not_found(tracker):
    with pytest.raises(IssueNotFoundError):
        tracker.comment(MISSING_NUMBER, "hello")


def test_close_twice_keeps_issue_closed(tracker):
    issue = tracker.create(_draft())
    tracker.close(issue.number, CloseReason.COMPLETED)

    again = tracker.close(issue.number, CloseReason.COMPLETED)

    assert again.state is IssueState.CLOSED
    assert tracker.get(issue.number).state is IssueState.CLOSED


def test_reopen_open_issue_keeps_it_open(tracker):
    issue = tracker.create(_draft())

    reopened = tracker.reopen(issue.number)

    assert reopened.state is IssueState.OPEN


def test_timestamps_are_set(tracker):
    issue = tracker.create(_draft())

    assert issue.created_at
    assert issue.updated_at
    assert tracker.get(issue.number).created_at == issue.created_at


def test_label_with_space_and_emoji_round_trips(tracker):
    issue = tracker.create(_draft(labels=(MANAGED, "needs review ✨")))

    listed = tracker.list_managed(MANAGED)

    assert "needs review ✨" in tracker.get(issue.number).labels
    assert [i.number for i in listed] == [issue.number]


def test_new_issue_is_not_locked(tracker):
    assert tracker.create(_draft()).locked is False
