"""apply_plan: the write journal, recovery after a crash, and failure isolation."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from syncd.engine import StateStore, apply_plan, compute_plan
from syncd.engine.state import StateReadOnlyError
from syncd.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    RateLimitedError,
    TransientTrackerError,
    ValidationFailedError,
)
from syncd.marker import marker_key
from syncd.planview import result_summary

from tests.engine.support import meeting, recording_harness, task


class Killed(BaseException):
    """Stands in for the process dying: nothing after it runs."""


def three_items():
    return [
        meeting(
            "2024-05-02",
            [
                task("Delete the channel.", "RD"),
                task("Update the rota.", "KM"),
                task("Book the room.", "LP"),
            ],
        )
    ]


def test_journal_records_intent_and_result(tmp_path):
    harness = recording_harness(tmp_path)
    harness.sync(three_items())

    with StateStore.open(harness.state_path) as state:
        entries = state.journal()
        assert [e.action for e in entries] == [
            "ensure_label",
            "ensure_label",
            "create",
            "create",
            "create",
        ]
        assert {e.status for e in entries} == {"done"}
        assert all(e.finished for e in entries)
        assert state.unfinished_journal() == []
        assert state.last_run().outcome == "ok"


def test_crash_after_create_resumes_without_duplicate(tmp_path):
    harness = recording_harness(tmp_path)
    harness.sync([meeting("2024-05-01", [])])

    # The second create reaches the tracker, then the process dies before
    # the result is recorded.
    created = []

    def die_after_second(draft):
        created.append(draft.title)
        return Killed() if len(created) == 2 else None

    harness.tracker.after_write["create"] = die_after_second
    with pytest.raises(Killed):
        harness.sync(three_items())
    harness.tracker.after_write.clear()
    with StateStore.open(harness.state_path) as state:
        assert [e.action for e in state.unfinished_journal()] == ["create"]

    plan, result = harness.sync(three_items())
    titles = sorted(i.title for i in harness.issues())
    assert titles == ["Book the room.", "Delete the channel.", "Update the rota."]
    assert not result.failures
    with StateStore.open(harness.state_path) as state:
        assert state.unfinished_journal() == []

    plan, _ = harness.sync(three_items())
    assert not plan.has_changes


def test_unfinished_create_is_adopted_in_apply(tmp_path):
    # The plan was computed before the interrupted create landed, so only
    # apply_plan can find the issue by its marker.
    harness = recording_harness(tmp_path)
    harness.sync([meeting("2024-05-01", [])])
    with StateStore.open(harness.state_path) as state:
        plan = compute_plan(
            three_items(),
            settings=harness.settings,
            trackers={"main": harness.tracker},
            state=state,
            roster=harness.roster,
        )
    first = next(c for c in plan.changes if c.action == "create")
    made = harness.tracker.create(first.draft)
    with StateStore.open(harness.state_path) as state:
        state.journal_intent(
            "crashed-run", "main", first.key, "create", {"key": first.key}
        )
        result = apply_plan(plan, trackers={"main": harness.tracker}, state=state)
    assert [o.status for o in result.outcomes] == ["recovered", "applied", "applied"]
    assert result.outcomes[0].ref == made.ref
    assert len(harness.issues()) == 3


def test_ambiguous_create_looks_for_marker(tmp_path):
    harness = recording_harness(tmp_path)
    harness.tracker.after_write["create"] = lambda draft: AmbiguousWriteError(
        "connection reset after send"
    )
    plan, result = harness.sync(three_items()[:1])
    harness.tracker.after_write.clear()

    assert [o.status for o in result.outcomes if o.change.subject == "issue"] == [
        "recovered"
    ] * 3
    assert len(harness.issues()) == 3
    keys = {marker_key(i.body) for i in harness.issues()}
    assert len(keys) == 3


def test_ambiguous_create_not_found_waits(tmp_path):
    harness = recording_harness(tmp_path)
    calls = []

    def first_call_fails(draft):
        calls.append(draft.title)
        return AmbiguousWriteError("timed out") if len(calls) == 1 else None

    # The create did not land yet. It may still land, so the item waits
    # until the configured wait has passed since that create started.
    harness.tracker.faults["create"] = first_call_fails
    minutes = [meeting("2024-05-02", [task("Delete the channel.", "RD")])]
    plan, result = harness.sync(minutes)
    assert [o.status for o in result.outcomes if o.change.subject == "issue"] == [
        "pending"
    ]
    assert result.partial
    assert harness.issues() == []
    with StateStore.open(harness.state_path) as state:
        [unknown_create] = state.unfinished_journal()
    assert unknown_create.action == "create"
    started = datetime.fromisoformat(unknown_create.started)
    wait = timedelta(seconds=harness.settings.guards.unknown_create_wait)

    plan, result = harness.sync(minutes, clock=lambda: started + wait / 2)
    [create] = [c for c in plan.changes if c.subject == "issue"]
    assert "had an unknown outcome" in create.reason
    [outcome] = [o for o in result.outcomes if o.change.subject == "issue"]
    assert outcome.status == "pending"
    assert "created again after" in outcome.error
    assert calls == ["Delete the channel."]
    assert harness.issues() == []

    plan, result = harness.sync(minutes, clock=lambda: started + wait)
    assert [o.status for o in result.outcomes] == ["applied"]
    assert len(harness.issues()) == 1
    with StateStore.open(harness.state_path) as state:
        assert state.unfinished_journal() == []


def test_late_create_within_wait_is_adopted(tmp_path):
    harness = recording_harness(tmp_path)
    stored_late = []

    def store_then_time_out(draft):
        # The server stores the issue but the client never hears back.
        stored_late.append(draft)
        return AmbiguousWriteError("timed out")

    harness.tracker.faults["create"] = store_then_time_out
    minutes = [meeting("2024-05-02", [task("Delete the channel.", "RD")])]
    plan, result = harness.sync(minutes)
    assert [o.status for o in result.outcomes if o.change.subject == "issue"] == [
        "pending"
    ]

    # The issue shows in the list only now, after the run gave up on it.
    del harness.tracker.faults["create"]
    harness.tracker.create(stored_late[0])
    plan, result = harness.sync(minutes)

    assert [c.action for c in plan.changes if c.subject == "issue"] == []
    assert len(harness.issues()) == 1
    with StateStore.open(harness.state_path) as state:
        assert state.unfinished_journal() == []
        [record] = state.issue_records().values()
    assert record.number == harness.issues()[0].number


def test_one_failing_item_does_not_stop_others(tmp_path):
    harness = recording_harness(tmp_path)
    harness.tracker.faults["create"] = lambda draft: (
        ValidationFailedError("title is invalid", field="title")
        if draft.title == "Update the rota."
        else None
    )
    plan, result = harness.sync(three_items())

    assert sorted(i.title for i in harness.issues()) == [
        "Book the room.",
        "Delete the channel.",
    ]
    assert [o.change.item.text for o in result.failures] == ["Update the rota."]
    assert result.partial
    assert result.to_json()["partial"] is True

    # The failed item is retried on the next run, never dropped, and the
    # plan does not call it new.
    harness.tracker.faults.clear()
    plan, result = harness.sync(three_items())
    assert [c.action for c in plan.changes] == ["create"]
    [retried] = plan.changes
    assert (retried.match, retried.reason) == ("known item", "no issue yet")
    assert not result.partial
    assert len(harness.issues()) == 3


def test_target_wide_error_stops_that_target(tmp_path):
    harness = recording_harness(tmp_path)
    harness.sync([meeting("2024-05-01", [])])
    harness.tracker.faults["create"] = lambda draft: AuthenticationError(
        "token expired", target="main"
    )
    plan, result = harness.sync(three_items())

    assert [o.status for o in result.outcomes] == ["failed", "skipped", "skipped"]
    assert "main" in result.failed_targets
    assert harness.issues() == []


def test_rate_limit_leaves_rest_pending(tmp_path):
    harness = recording_harness(tmp_path)
    harness.sync([meeting("2024-05-01", [])])
    calls = []

    def limit_second(draft):
        calls.append(draft)
        return (
            RateLimitedError("secondary rate limit", retry_after=60)
            if len(calls) == 2
            else None
        )

    harness.tracker.faults["create"] = limit_second
    plan, result = harness.sync(three_items())
    assert [o.status for o in result.outcomes] == ["applied", "pending", "pending"]
    assert result.rate_limited == {"main": 60}
    assert len(harness.issues()) == 1

    harness.tracker.faults.clear()
    plan, result = harness.sync(three_items())
    assert len([c for c in plan.changes if c.action == "create"]) == 2
    assert len(harness.issues()) == 3


def test_writes_are_paced_by_the_adapter_alone(tmp_path):
    """A sliding window: no minute ever holds more writes than the cap."""

    from syncd.settings import PacingSettings
    from syncd_adapters._retry import WritePacer

    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    pacer = WritePacer(
        PacingSettings(min_write_interval=0.0, writes_per_minute=5, writes_per_hour=None),
        sleep=sleep,
        clock=lambda: now[0],
    )
    sent = []
    for _ in range(23):
        pacer.wait_turn()
        sent.append(now[0])
        # Uneven work between writes, as real requests take.
        now[0] += 0.3 * (len(sent) % 4)
    for first in sent:
        assert len([t for t in sent if first <= t < first + 60.0]) <= 5


def test_apply_adds_no_pacing_of_its_own(tmp_path):
    import syncd.engine.apply as apply_module

    assert not hasattr(apply_module, "_Pacer")


def test_read_only_state_never_creates_file(tmp_path):
    path = tmp_path / "missing" / "state.db"
    with StateStore.open(path, read_only=True) as state:
        assert state.issue_records() == {}
    assert not path.exists()
    assert not path.parent.exists()


def test_state_file_uses_wal(tmp_path):
    path = tmp_path / "state.db"
    StateStore.open(path).close()
    import sqlite3

    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _folder_snapshot(folder):
    return {
        entry.name: (entry.stat().st_size, entry.stat().st_mtime_ns, entry.read_bytes())
        for entry in sorted(folder.iterdir())
    }


def test_read_only_open_of_a_closed_wal_file_creates_nothing(tmp_path):
    path = tmp_path / "state.db"
    with StateStore.open(path) as state:
        state.set_meta("marker", "kept")
    before = _folder_snapshot(tmp_path)
    assert sorted(before) == ["state.db"]

    with StateStore.open(path, read_only=True) as state:
        assert state.meta("marker") == "kept"
    assert _folder_snapshot(tmp_path) == before


def test_read_only_open_beside_a_live_writer_changes_nothing(tmp_path):
    path = tmp_path / "state.db"
    writer = StateStore.open(path)
    try:
        writer.set_meta("marker", "in the log")
        before = _folder_snapshot(tmp_path)
        assert "state.db-wal" in before

        with StateStore.open(path, read_only=True) as state:
            assert state.meta("marker") == "in the log"
            with pytest.raises(StateReadOnlyError):
                state.set_meta("marker", "changed")
        assert _folder_snapshot(tmp_path) == before
    finally:
        writer.close()


# A close or reopen counts as applied when only its comment fails.


def closing_meetings():
    first = meeting(
        "2024-05-02",
        [task("Delete the channel.", "RD"), task("Update the rota.", "KM")],
    )
    second = meeting("2024-05-09", [task("Update the rota.", "KM")])
    return first, second


def test_locked_close_counts_as_applied(tmp_path):
    harness = recording_harness(tmp_path)
    first, second = closing_meetings()
    harness.sync([first])
    [channel] = [i for i in harness.issues() if i.title == "Delete the channel."]
    harness.tracker.lock(channel.number)

    plan, result = harness.sync([first, second])

    [outcome] = [o for o in result.outcomes if o.change.action == "close"]
    summary = result_summary(result)
    assert outcome.status == "applied"
    assert "conversation is locked" in outcome.warning
    assert result.failures == []
    assert not result.partial
    assert summary["close"] == 1
    assert summary["comments"] == 0
    assert summary["failed"] == 0
    assert summary["warnings"] == 1
    assert result.to_json()["warnings"][0]["issue"]["ref"] == channel.ref
    assert harness.tracker.list_comments(channel.number) == []
    [closed] = [i for i in harness.issues() if i.number == channel.number]
    assert closed.state.value == "closed"

    harness.tracker.writes.clear()
    plan, result = harness.sync([first, second])
    assert plan.changes == []
    assert harness.tracker.writes == []


def test_failed_close_comment_not_resent(tmp_path):
    harness = recording_harness(tmp_path)
    first, second = closing_meetings()
    harness.sync([first])
    harness.tracker.faults["comment"] = lambda number, body: TransientTrackerError(
        "server error 502"
    )

    plan, result = harness.sync([first, second])

    [outcome] = [o for o in result.outcomes if o.change.action == "close"]
    assert outcome.status == "applied"
    assert "comment failed" in outcome.warning
    assert result.failures == []
    assert result.partial
    assert result_summary(result)["close"] == 1

    harness.tracker.faults.clear()
    harness.tracker.writes.clear()
    plan, result = harness.sync([first, second])
    assert plan.changes == []
    assert harness.tracker.writes == []


def test_failed_reopen_comment_keeps_state(tmp_path):
    harness = recording_harness(tmp_path)
    first, second = closing_meetings()
    third = meeting(
        "2024-05-16",
        [task("Delete the channel.", "RD"), task("Update the rota.", "KM")],
    )
    harness.sync([first])
    harness.sync([first, second])
    harness.tracker.faults["comment"] = lambda number, body: TransientTrackerError(
        "server error 502"
    )

    plan, result = harness.sync([first, second, third])

    [outcome] = [o for o in result.outcomes if o.change.action == "reopen"]
    assert outcome.status == "applied"
    assert outcome.warning.startswith("reopened, but the comment failed")
    assert result_summary(result)["reopen"] == 1

    harness.tracker.faults.clear()
    harness.tracker.writes.clear()
    plan, result = harness.sync([first, second, third])
    assert plan.changes == []
    assert harness.tracker.writes == []


def test_rate_limited_comment_stops_target(tmp_path):
    harness = recording_harness(tmp_path)
    first, _ = closing_meetings()
    harness.sync([first])
    second = meeting(
        "2024-05-09", [task("Book the room.", "LP"), task("Send the notes.", "RD")]
    )
    harness.tracker.faults["comment"] = lambda number, body: RateLimitedError(
        "secondary rate limit", retry_after=60
    )

    plan, result = harness.sync([first, second])

    statuses = [(o.change.action, o.status) for o in result.outcomes]
    assert statuses[0] == ("close", "applied")
    assert ("close", "pending") in statuses
    assert ("create", "pending") in statuses
    assert result.rate_limited == {"main": 60}
    assert result.outcomes[0].warning is not None
