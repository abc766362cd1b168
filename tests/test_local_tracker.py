"""The embedded tracker beyond the shared contract: files, projects, accounts."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from syncd.errors import (
    DryRunWriteError,
    IssueLockedError,
    TargetUnavailableError,
    ValidationFailedError,
)
from syncd.settings import TargetSettings
from syncd.tracker import (
    CloseReason,
    IssueDraft,
    IssueState,
    IssueUpdate,
    load_tracker_class,
)
from syncd_adapters.local import LOCAL_LIMITS, LocalTracker


def folder_snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    return {
        path.name: (
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted(folder.iterdir())
    }


@pytest.fixture
def tracker(tmp_path):
    made = LocalTracker("ops", tmp_path / "tracker.db")
    yield made
    made.close_session()


def test_entry_point_finds_local_tracker():
    assert load_tracker_class("local") is LocalTracker


def test_current_account_is_syncd(tracker):
    assert tracker.current_account() == "syncd"


def test_ref_and_url_name_project_and_number(tracker):
    issue = tracker.create(IssueDraft("Book the room", "body"))

    assert issue.ref == "ops#1"
    assert issue.url.startswith("file://")
    assert issue.url.endswith("#ops/1")


def test_timestamps_are_utc_iso(tmp_path):
    ticks = iter(["2024-05-02T10:00:00Z", "2024-05-09T10:00:00Z"])
    tracker = LocalTracker("ops", tmp_path / "t.db", clock=lambda: next(ticks))

    created = tracker.create(IssueDraft("Book the room", "body"))
    updated = tracker.update(created.number, IssueUpdate(title="Book the big room"))

    assert created.created_at == "2024-05-02T10:00:00Z"
    assert updated.created_at == "2024-05-02T10:00:00Z"
    assert updated.updated_at == "2024-05-09T10:00:00Z"


def test_close_by_person_records_person(tracker):
    issue = tracker.create(IssueDraft("Book the room", "body", labels=("syncd",)))

    tracker.as_account("rosa").close(issue.number, CloseReason.NOT_PLANNED)

    closed = tracker.get(issue.number)
    assert closed.closed_by == "rosa"
    assert closed.state_reason == "not_planned"


def test_reopen_clears_closer(tracker):
    issue = tracker.create(IssueDraft("Book the room", "body"))
    tracker.close(issue.number, CloseReason.COMPLETED)

    reopened = tracker.reopen(issue.number)

    assert reopened.state is IssueState.OPEN
    assert reopened.closed_by is None
    assert reopened.state_reason == "reopened"


def test_projects_in_one_file_are_separate(tmp_path):
    ops = LocalTracker("ops", tmp_path / "shared.db")
    docs = LocalTracker("docs", tmp_path / "shared.db")

    ops_issue = ops.create(IssueDraft("Ops item", "body", labels=("syncd",)))
    docs_issue = docs.create(IssueDraft("Docs item", "body", labels=("syncd",)))

    assert ops_issue.number == docs_issue.number == 1
    assert [issue.title for issue in ops.list_managed("syncd")] == ["Ops item"]
    assert [issue.title for issue in docs.list_managed("syncd")] == ["Docs item"]


def test_locked_issue_rejects_comments(tracker):
    issue = tracker.create(IssueDraft("Book the room", "body"))
    tracker.lock(issue.number)

    with pytest.raises(IssueLockedError):
        tracker.comment(issue.number, "closing")

    assert tracker.close(issue.number, CloseReason.COMPLETED).state is IssueState.CLOSED


def test_unassignable_account_rejected(tmp_path):
    tracker = LocalTracker("ops", tmp_path / "t.db", assignable=["rosa"])

    with pytest.raises(ValidationFailedError) as raised:
        tracker.create(IssueDraft("Book the room", "body", assignees=("ghost",)))

    assert raised.value.field == "assignees"
    assert tracker.can_assign("rosa")
    assert not tracker.can_assign("ghost")


def test_title_over_limit_rejected(tracker):
    with pytest.raises(ValidationFailedError) as raised:
        tracker.create(IssueDraft("x" * (LOCAL_LIMITS.title + 1), "body"))

    assert raised.value.field == "title"


def test_unknown_milestone_rejected(tracker):
    with pytest.raises(ValidationFailedError) as raised:
        tracker.create(IssueDraft("Book the room", "body", milestone="Q9"))

    assert raised.value.field == "milestone"


def test_labels_compare_without_case(tracker):
    tracker.ensure_label("Syncd", "0e8a16")

    assert tracker.missing_labels(["syncd", "SYNCD", "other"]) == ["other"]


def test_list_all_includes_unmanaged(tracker):
    tracker.create(IssueDraft("Managed", "body", labels=("syncd",)))
    tracker.create(IssueDraft("By a person", "body"))

    assert [issue.title for issue in tracker.list_all()] == ["Managed", "By a person"]


# Read-only opens.


def test_read_only_missing_file_stays_missing(tmp_path):
    path = tmp_path / "absent.db"
    tracker = LocalTracker("ops", path, read_only=True)

    assert tracker.list_managed("syncd") == []
    tracker.preflight()
    assert tracker.missing_labels(["syncd"]) == ["syncd"]
    assert list(tmp_path.iterdir()) == []


def test_read_only_open_changes_no_file(tmp_path):
    writer = LocalTracker("ops", tmp_path / "t.db")
    writer.create(IssueDraft("Book the room", "body", labels=("syncd",)))
    writer.close_session()
    before = folder_snapshot(tmp_path)

    reader = LocalTracker("ops", tmp_path / "t.db", read_only=True)
    listed = reader.list_managed("syncd")
    reader.get(1)
    reader.list_comments(1)
    reader.close_session()

    assert [issue.title for issue in listed] == ["Book the room"]
    assert folder_snapshot(tmp_path) == before


def test_read_only_sees_writes_of_open_writer(tmp_path):
    writer = LocalTracker("ops", tmp_path / "t.db")
    writer.create(IssueDraft("First", "body", labels=("syncd",)))

    reader = LocalTracker("ops", tmp_path / "t.db", read_only=True)
    writer.create(IssueDraft("Second", "body", labels=("syncd",)))

    assert [issue.title for issue in reader.list_managed("syncd")] == [
        "First",
        "Second",
    ]
    writer.close_session()
    reader.close_session()


@pytest.mark.parametrize(
    "write",
    [
        lambda t: t.create(IssueDraft("x", "y")),
        lambda t: t.update(1, IssueUpdate(title="x")),
        lambda t: t.close(1, CloseReason.COMPLETED),
        lambda t: t.reopen(1),
        lambda t: t.comment(1, "x"),
        lambda t: t.ensure_label("x", "ededed"),
        lambda t: t.ensure_milestone("x"),
    ],
)
def test_read_only_rejects_writes(tmp_path, write):
    LocalTracker("ops", tmp_path / "t.db").create(IssueDraft("Book the room", "body"))
    reader = LocalTracker("ops", tmp_path / "t.db", read_only=True)

    with pytest.raises(DryRunWriteError):
        write(reader)


def test_damaged_file_is_target_unavailable(tmp_path):
    path = tmp_path / "t.db"
    path.write_bytes(b"this is not a database" * 100)

    for read_only in (True, False):
        with pytest.raises(TargetUnavailableError) as raised:
            LocalTracker("ops", path, read_only=read_only).preflight()
        assert str(path) in str(raised.value)


def test_other_sqlite_file_is_target_unavailable(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")

    with pytest.raises(TargetUnavailableError):
        LocalTracker("ops", path, read_only=True).preflight()


def test_folder_path_is_target_unavailable(tmp_path):
    with pytest.raises(TargetUnavailableError):
        LocalTracker("ops", tmp_path).preflight()


# Construction from the config.


def test_validate_options():
    assert LocalTracker.validate_options({"path": "t.db"}) == []
    problems = dict(
        LocalTracker.validate_options({"pth": "t.db", "assignable": "rosa"})
    )

    assert set(problems) == {"path", "pth", "assignable"}


def test_from_settings_honours_read_only(tmp_path):
    target = TargetSettings(
        "ops", "local", {"path": str(tmp_path / "t.db"), "project": "team"}
    )

    tracker = LocalTracker.from_settings(target, state_dir=tmp_path, read_only=True)

    assert tracker.read_only is True
    assert tracker.project == "team"
    assert tracker.list_managed("syncd") == []
    assert not (tmp_path / "t.db").exists()


def test_label_case_means_same_label(tracker):
    tracker.ensure_label("syncd", "0e8a16")

    issue = tracker.create(IssueDraft("Book the room", "body", labels=("Syncd",)))
    listed = tracker.list_managed("SYNCD")
    removed = tracker.update(issue.number, IssueUpdate(remove_labels=("SyncD",)))

    assert issue.labels == ("syncd",)
    assert [i.number for i in listed] == [issue.number]
    assert removed.labels == ()


def test_unwritable_folder_is_target_unavailable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")

    with pytest.raises(TargetUnavailableError):
        LocalTracker("ops", blocker / "sub" / "t.db").preflight()


def test_concurrent_creates_get_distinct_numbers(tmp_path):
    import threading

    path = tmp_path / "t.db"
    LocalTracker("ops", path).preflight()
    numbers: list[int] = []
    errors: list[Exception] = []

    def create_some(worker: int) -> None:
        tracker = LocalTracker("ops", path)
        try:
            for index in range(10):
                draft = IssueDraft(f"Item {worker}-{index}", "body", labels=("syncd",))
                numbers.append(tracker.create(draft).number)
        except Exception as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)
        finally:
            tracker.close_session()

    threads = [
        threading.Thread(target=create_some, args=(worker,)) for worker in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(numbers) == list(range(1, 41))
