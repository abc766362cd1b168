"""The series model: carry forward and accumulate, first syncs over history, routing."""

from __future__ import annotations

import datetime

from syncd.engine import StateStore, build_status
from syncd.settings import Carry, Route, TargetSettings
from syncd.tracker import IssueState
from syncd_adapters.local import LocalTracker

from tests.engine.support import Harness, make_settings, meeting, task


def history():
    return [
        meeting(
            "2024-01-04",
            [task("Write the handbook.", "RD"), task("Fix the mirror.", "KM")],
        ),
        meeting(
            "2024-01-11",
            [
                task("Write the handbook.", "RD"),
                task("Fix the mirror.", "KM", done=True),
            ],
        ),
        meeting(
            "2024-01-18",
            [
                task("Write the handbook chapter two.", "RD"),
                task("Plan the offsite.", "LP"),
            ],
        ),
        meeting("2024-01-25", [task("Plan the offsite.", "LP")]),
    ]


def test_first_sync_opens_only_open_items(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    plan, _ = harness.sync(history())

    assert [c.action for c in plan.changes if c.subject == "issue"] == ["create"]
    [issue] = harness.issues()
    assert issue.title == "Plan the offsite."
    assert "2024-01-18" in issue.body
    create = next(c for c in plan.changes if c.subject == "issue")
    assert create.reason == "open item first raised 2024-01-18 (ops/2024-01-18.md:12)"

    with StateStore.open(harness.state_path) as state:
        [entry] = build_status({"main": harness.tracker}, state)
    assert [(o["path"], o["date"]) for o in entry["occurrences"]] == [
        ("ops/2024-01-18.md", "2024-01-18"),
        ("ops/2024-01-25.md", "2024-01-25"),
    ]


def test_replayed_history_links_and_closes(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    meetings = history()
    for count in range(1, len(meetings) + 1):
        harness.sync(meetings[:count])

    issues = {i.title: i for i in harness.issues()}
    assert set(issues) == {
        "Write the handbook chapter two.",
        "Fix the mirror.",
        "Plan the offsite.",
    }
    assert issues["Write the handbook chapter two."].state is IssueState.CLOSED
    assert issues["Fix the mirror."].state is IssueState.CLOSED
    assert issues["Plan the offsite."].state is IssueState.OPEN
    comments = harness.tracker.list_comments(issues["Fix the mirror."].number)
    assert any("mark the item done" in c.body for c in comments)
    comments = harness.tracker.list_comments(
        issues["Write the handbook chapter two."].number
    )
    assert any("last meeting that listed it was 2024-01-18" in c.body for c in comments)


def test_missing_meetings_tolerates_a_skip(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path, missing_meetings=2))
    one = meeting("2024-01-04", [task("Fix the mirror.", "KM")])
    two = meeting("2024-01-11", [])
    three = meeting("2024-01-18", [task("Fix the mirror.", "KM")])
    harness.sync([one])
    harness.sync([one, two])
    assert len(harness.open_issues()) == 1
    harness.sync([one, two, three])
    assert len(harness.open_issues()) == 1
    four = meeting("2024-01-25", [])
    five = meeting("2024-02-01", [])
    plan, _ = harness.sync([one, two, three, four, five], allow_mass_close=True)
    assert harness.open_issues() == []


def test_accumulate_keeps_items_until_done(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path, carry=Carry.ACCUMULATE))
    one = meeting(
        "2024-01-04", [task("Fix the mirror.", "KM"), task("Renew the grant.", "RD")]
    )
    two = meeting("2024-01-11", [task("Order the badges.", "LP")])
    harness.sync([one, two])
    assert len(harness.open_issues()) == 3

    three = meeting("2024-01-18", [task("Fix the mirror.", "KM", done=True)])
    harness.sync([one, two, three])
    assert sorted(i.title for i in harness.open_issues()) == [
        "Order the badges.",
        "Renew the grant.",
    ]


def test_accumulate_since_ignores_older_meetings(tmp_path):
    settings = make_settings(
        tmp_path, carry=Carry.ACCUMULATE, since=datetime.date(2024, 1, 10)
    )
    harness = Harness(tmp_path, settings)
    old = meeting("2024-01-04", [task("Fix the mirror.", "KM")])
    new = meeting("2024-01-11", [task("Order the badges.", "LP")])
    harness.sync([old, new])
    assert [i.title for i in harness.issues()] == ["Order the badges."]


def test_unowned_items_follow_policy(tmp_path):
    minutes = [
        meeting(
            "2024-01-04",
            [task("We keep the Tuesday slot."), task("Fix the mirror.", "KM")],
        )
    ]
    skipping = Harness(tmp_path / "skip", make_settings(tmp_path / "skip"))
    skipping.sync(minutes)
    assert [i.title for i in skipping.issues()] == ["Fix the mirror."]

    keeping = Harness(
        tmp_path / "keep", make_settings(tmp_path / "keep", unowned_items=True)
    )
    keeping.sync(minutes)
    assert sorted(i.title for i in keeping.issues()) == [
        "Fix the mirror.",
        "We keep the Tuesday slot.",
    ]


def test_series_are_routed_to_targets(tmp_path):
    base = make_settings(tmp_path, targets=("main", "infra"))
    settings = base.__class__(
        **{
            **base.__dict__,
            "routes": (Route(series="infra*", target="infra"),),
            "targets": (
                TargetSettings(name="main", kind="local", options={}),
                TargetSettings(name="infra", kind="local", options={}),
            ),
        }
    )
    harness = Harness(tmp_path, settings)
    infra = LocalTracker("infra", tmp_path / "tracker.db")
    minutes = [
        meeting("2024-01-04", [task("Fix the mirror.", "KM")], series="infra-weekly"),
        meeting("2024-01-04", [task("Order the badges.", "LP")], series="ops"),
    ]
    harness.sync(minutes, trackers={"main": harness.tracker, "infra": infra})
    assert [i.title for i in harness.issues()] == ["Order the badges."]
    assert [i.title for i in infra.list_managed("syncd")] == ["Fix the mirror."]


def test_lost_state_is_rebuilt_from_markers(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    meetings = history()
    for count in range(1, len(meetings) + 1):
        harness.sync(meetings[:count])
    [issue] = harness.open_issues()
    from syncd.tracker import IssueUpdate

    harness.person().update(issue.number, IssueUpdate(title="Plan the June offsite"))
    harness.state_path.unlink()

    plan, _ = harness.sync(meetings)
    assert not plan.has_changes
    assert harness.open_issues()[0].title == "Plan the June offsite"
    assert len(harness.issues()) == 3


def test_reword_after_lost_state_keeps_issue(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    one = meeting("2024-01-04", [task("Write the handbook.", "RD")], path="ops/one.md")
    harness.sync([one])
    harness.state_path.unlink()
    # The older file is gone too: only the marker's aliases tie the items.
    two = meeting("2024-01-11", [task("Write the handbook.", "KM")], path="ops/two.md")
    plan, _ = harness.sync([two])
    assert len(harness.issues()) == 1
    assert harness.issues()[0].assignees == ("kmoreno",)


def test_status_uses_the_synced_label(tmp_path):
    from syncd.settings import LabelSettings

    harness = Harness(
        tmp_path, make_settings(tmp_path, labels=LabelSettings(managed="from-minutes"))
    )
    harness.sync(history())
    with StateStore.open(harness.state_path, read_only=True) as state:
        status = build_status({"main": harness.tracker}, state)
    assert [entry["title"] for entry in status] == ["Plan the offsite."]
    assert status[0]["labels"] == ["from-minutes"]
    assert status[0]["state"] == "open"
    assert status[0]["url"]


def test_lost_state_and_deleted_minutes_keep_issue(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    url = "https://example.org/acme/ops/pull/41"
    harness.sync(
        [meeting("2024-01-04", [task(f"Review {url}", "RD")], path="ops/one.md")]
    )
    harness.state_path.unlink()

    # The first file is gone and the item was reworded: only the open
    # issue's title still ties the item to its issue.
    plan, _ = harness.sync(
        [
            meeting(
                "2024-01-11",
                [task(f"Approve {url} after the fix", "KM")],
                path="ops/two.md",
            )
        ]
    )
    assert [c.action for c in plan.changes] == ["update"]
    assert plan.changes[0].match == "same URL as the open issue"
    [issue] = harness.issues()
    assert issue.assignees == ("kmoreno",)


def test_similar_new_item_never_takes_an_open_items_issue(tmp_path):
    """In accumulate mode an earlier item stays open, so it keeps its issue."""

    harness = Harness(tmp_path, make_settings(tmp_path, carry=Carry.ACCUMULATE))
    first = meeting("2024-05-02", [task("Review the zifaizu in the biper.", "RD")])
    harness.sync([first])

    second = meeting(
        "2024-05-09", [task("Review the zifaizu in the biper vugasou.", "RD")]
    )
    plan, _ = harness.sync([first, second])

    assert [c.action for c in plan.changes] == ["create"]
    titles = sorted(issue.title for issue in harness.open_issues())
    assert titles == [
        "Review the zifaizu in the biper vugasou.",
        "Review the zifaizu in the biper.",
    ]


def test_ticked_rewording_still_closes_the_open_item(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path, carry=Carry.ACCUMULATE))
    first = meeting("2024-05-02", [task("Review the zifaizu in the biper.", "RD")])
    harness.sync([first])

    second = meeting(
        "2024-05-09",
        [task("Review the zifaizu in the biper now.", "RD", done=True)],
    )
    harness.sync([first, second])

    assert len(harness.issues()) == 1
    assert harness.open_issues() == []
