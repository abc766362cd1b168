"""Items whose minutes move to another series folder keep their issues."""

from __future__ import annotations

from syncd.marker import decode_marker
from syncd.settings import Carry
from syncd.tracker import IssueState

from tests.engine.support import Harness, make_settings, meeting, task

ITEMS = [
    ("Delete the calendar-announce channel.", "RD"),
    ("Update the on-call rota.", "KM"),
    ("Renew the TLS certificate.", "LP"),
]


def ops_meeting(series: str, items=ITEMS):
    return meeting(
        "2024-05-02",
        [task(text, owner) for text, owner in items],
        series=series,
        path=f"{series}/2024-05-02.md",
    )


def actions(plan, action: str) -> list:
    return [change for change in plan.changes if change.action == action]


def test_renamed_series_folder_keeps_issues(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    harness.sync([ops_meeting("ops")])
    before = [(issue.number, issue.title) for issue in harness.issues()]

    plan, result = harness.sync([ops_meeting("ops-weekly")])

    assert actions(plan, "create") == []
    assert actions(plan, "close") == []
    assert plan.refused == []
    assert not result.partial
    issues = harness.issues()
    assert [(issue.number, issue.title) for issue in issues] == before
    assert all(issue.state is IssueState.OPEN for issue in issues)
    for issue in issues:
        assert "ops-weekly/2024-05-02.md" in issue.body
        assert decode_marker(issue.body)["series"] == "ops-weekly"

    plan, _ = harness.sync([ops_meeting("ops-weekly")])
    assert not plan.has_changes


def test_renamed_folder_without_state_keeps_issues(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    harness.sync([ops_meeting("ops")])
    before = [issue.number for issue in harness.issues()]
    harness.state_path.unlink()

    plan, result = harness.sync([ops_meeting("ops-weekly")])

    assert actions(plan, "create") == []
    assert actions(plan, "close") == []
    assert not result.partial
    assert [issue.number for issue in harness.open_issues()] == before

    plan, _ = harness.sync([ops_meeting("ops-weekly")])
    assert not plan.has_changes


def test_renamed_folder_with_reworded_item(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    harness.sync([ops_meeting("ops")])
    before = [issue.number for issue in harness.issues()]

    reworded = [*ITEMS[:2], ("Renew the TLS certificate for the API.", "LP")]
    plan, _ = harness.sync([ops_meeting("ops-weekly", reworded)])

    assert actions(plan, "create") == []
    assert actions(plan, "close") == []
    issues = harness.open_issues()
    assert [issue.number for issue in issues] == before
    assert issues[2].title == "Renew the TLS certificate for the API."

    plan, _ = harness.sync([ops_meeting("ops-weekly", reworded)])
    assert not plan.has_changes


def test_file_moved_to_other_series_keeps_issue(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path, carry=Carry.ACCUMULATE))
    ops_first = meeting(
        "2024-05-02", [task("Order the cables.", "RD")], path="ops/2024-05-02.md"
    )
    ops_second = meeting(
        "2024-05-09", [task("Label the rack.", "KM")], path="ops/2024-05-09.md"
    )
    infra = meeting(
        "2024-05-01",
        [task("Patch the router.", "LP")],
        series="infra",
        path="infra/2024-05-01.md",
    )
    harness.sync([ops_first, ops_second, infra])
    before = {issue.title: issue.number for issue in harness.issues()}

    moved = meeting(
        "2024-05-09",
        [task("Label the rack.", "KM")],
        series="infra",
        path="infra/2024-05-09.md",
    )
    plan, result = harness.sync([ops_first, infra, moved])

    assert actions(plan, "create") == []
    assert actions(plan, "close") == []
    assert not result.partial
    issues = harness.open_issues()
    assert {issue.title: issue.number for issue in issues} == before
    [rack] = [issue for issue in issues if issue.title == "Label the rack."]
    assert "infra/2024-05-09.md" in rack.body
    assert decode_marker(rack.body)["series"] == "infra"

    plan, _ = harness.sync([ops_first, infra, moved])
    assert not plan.has_changes


def test_same_item_in_two_series_not_stolen(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    ops = meeting(
        "2024-05-02",
        [task("Update the rota.", "RD")],
        series="ops",
        path="ops/2024-05-02.md",
    )
    infra_first = meeting(
        "2024-05-02",
        [task("Book the room.", "KM")],
        series="infra",
        path="infra/2024-05-02.md",
    )
    harness.sync([ops, infra_first])
    [ops_issue] = [i for i in harness.issues() if i.title == "Update the rota."]

    infra_next = meeting(
        "2024-05-09",
        [task("Book the room.", "KM"), task("Update the rota.", "RD")],
        series="infra",
        path="infra/2024-05-09.md",
    )
    plan, _ = harness.sync([ops, infra_first, infra_next])

    creates = actions(plan, "create")
    assert [change.fields["title"].after for change in creates] == ["Update the rota."]
    assert actions(plan, "close") == []
    assert [c for c in plan.changes if c.number == ops_issue.number] == []
    rota = [i for i in harness.open_issues() if i.title == "Update the rota."]
    assert len(rota) == 2
    assert decode_marker(harness.tracker.get(ops_issue.number).body)["series"] == "ops"
