"""End-to-end behaviour of plan and sync on the embedded tracker, one fault kind per test."""

from __future__ import annotations

import hashlib

import pytest

from syncd.engine import StateStore
from syncd.errors import TransientTrackerError
from syncd.marker import decode_marker
from syncd.model import Problem
from syncd.settings import Carry, Guards, LabelSettings, ReopenPolicy
from syncd.tracker import IssueState, IssueUpdate
from syncd_adapters.local import LocalTracker

from tests.engine.support import (
    Harness,
    make_settings,
    meeting,
    recording_harness,
    task,
)


def file_digest(path) -> str | None:
    if not path.exists():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Identity does not depend on the file path or the line.


def test_renamed_file_and_moved_line_keep_issue(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    before = meeting(
        "2024-05-02",
        [task("Delete the calendar-announce channel.", "RD", line=9)],
        path="minutes/2024-05-02-ops.md",
    )
    harness.sync([before])
    [original] = harness.issues()

    renamed = meeting(
        "2024-05-02",
        [
            task("Book the room for the June offsite.", "KM", line=9),
            task("Delete the calendar-announce channel.", "RD", line=10),
        ],
        path="minutes/2024-05-02-ops-weekly.md",
    )
    plan, result = harness.sync([renamed])

    issues = harness.issues()
    assert len(issues) == 2
    assert issues[0].number == original.number
    assert issues[0].state is IssueState.OPEN
    assert [c.action for c in plan.changes if c.action == "create"] == ["create"]
    assert not [c for c in plan.changes if c.action == "close"]
    assert decode_marker(issues[0].body)["key"] == decode_marker(original.body)["key"]
    assert "minutes/2024-05-02-ops-weekly.md" in issues[0].body


def test_reworded_and_reassigned_item_updates_same_issue(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    first = meeting(
        "2024-05-02", [task("Review https://example.org/acme/ops/pull/12", "RD")]
    )
    harness.sync([first])
    second = meeting(
        "2024-05-09",
        [task("Approve https://example.org/acme/ops/pull/12 after the fix", "KM")],
    )
    plan, _ = harness.sync([first, second])

    [issue] = harness.issues()
    assert issue.state is IssueState.OPEN
    assert issue.assignees == ("kmoreno",)
    assert [c.match for c in plan.changes if c.action == "update"] == ["same URL"]


def test_identical_items_in_one_meeting_stay_two(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    minutes = meeting(
        "2024-05-02",
        [task("Send the reminder.", "RD"), task("Send the reminder.", "RD")],
    )
    harness.sync([minutes])
    assert len(harness.open_issues()) == 2

    plan, _ = harness.sync([minutes])
    assert not plan.has_changes


# A file or source that cannot be read closes nothing.


def test_unreadable_file_closes_nothing(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    older = meeting(
        "2024-05-02",
        [task("Delete the channel.", "RD"), task("Update the rota.", "KM")],
        path="ops/2024-05-02.md",
    )
    harness.sync([older])
    before = {i.number: i.updated_at for i in harness.issues()}

    broken = meeting(
        "",
        [],
        path="ops/2024-05-02.md",
        errors=[Problem("ops/2024-05-02.md", 3, "front matter is not closed")],
    )
    newer = meeting(
        "2024-05-09",
        [task("Rotate the staging password.", "KM")],
        path="ops/2024-05-09.md",
    )
    plan, result = harness.sync([broken, newer])

    issues = harness.issues()
    assert [i.state for i in issues] == [IssueState.OPEN] * 3
    assert {i.number: i.updated_at for i in issues if i.number in before} == before
    assert [c.action for c in plan.changes] == ["create"]
    assert result.partial
    assert any("front matter is not closed" in p["message"] for p in plan.problems)


def test_newest_file_unreadable_closes_nothing(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    older = meeting("2024-05-02", [task("Delete the channel.", "RD")])
    harness.sync([older])
    broken = meeting(
        "2024-05-09",
        [],
        errors=[Problem("ops/2024-05-09.md", None, "invalid UTF-8 at byte 12")],
    )
    plan, _ = harness.sync([older, broken])

    assert harness.open_issues()
    assert not [c for c in plan.changes if c.action == "close"]
    assert not plan.has_changes


def test_unreadable_source_closes_nothing(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    harness.sync([meeting("2024-05-02", [task("Delete the channel.", "RD")])])
    plan, result = harness.sync(
        [], source_problems=[Problem("minutes", None, "git fetch failed")]
    )

    assert len(harness.open_issues()) == 1
    assert not plan.has_changes
    assert result.partial


def test_unreachable_target_changes_nothing(tmp_path):
    harness = recording_harness(tmp_path)
    first = meeting("2024-05-02", [task("Delete the channel.", "RD")])
    harness.sync([first])
    records_before = StateStore.open(harness.state_path).issue_records()

    class Down(LocalTracker):
        def list_managed(self, label):
            raise TransientTrackerError("connection refused", target="main")

    down = Down("main", tmp_path / "tracker.db")
    second = meeting("2024-05-09", [task("Rotate the password.", "KM")])
    plan, result = harness.sync([first, second], trackers={"main": down})

    assert plan.changes == []
    assert "main" in plan.failed_targets
    assert result.partial
    assert StateStore.open(harness.state_path).issue_records() == records_before


# Guards against closing everything at once.


def test_empty_source_refuses_mass_close(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    full = meeting("2024-05-02", [task(f"Task number {n}.", "RD") for n in range(3)])
    harness.sync([full])

    empty = meeting("2024-05-02", [])
    dry = harness.plan([empty])
    assert len(dry.refused) == 3
    assert all(r["override"] == "--allow-mass-close" for r in dry.refused)

    plan, result = harness.sync([empty])
    assert len(harness.open_issues()) == 3
    assert plan.guard_tripped
    assert not [c for c in plan.changes if c.action == "close"]

    harness.sync([empty], allow_mass_close=True)
    assert harness.open_issues() == []


def test_last_item_of_a_series_drops_without_override(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    first = meeting("2024-05-02", [task("Order the cables.", "RD")])
    harness.sync([first])

    finished = meeting("2024-05-09", [])
    plan, _ = harness.sync([first, finished])

    assert not plan.guard_tripped
    assert [c.action for c in plan.changes] == ["close"]
    assert harness.open_issues() == []


def test_close_limit_refuses_large_share(tmp_path):
    settings = make_settings(
        tmp_path, guards=Guards(max_close=10, max_close_fraction=0.25)
    )
    harness = Harness(tmp_path, settings)
    first = meeting("2024-05-02", [task(f"Task number {n}.", "RD") for n in range(20)])
    harness.sync([first])

    second = meeting("2024-05-09", [task(f"Task number {n}.", "RD") for n in range(14)])
    plan, _ = harness.sync([first, second])
    assert len(plan.refused) == 6
    assert "--allow-mass-close" in plan.refused[0]["reason"]
    assert len(harness.open_issues()) == 20

    third = meeting("2024-05-16", [task(f"Task number {n}.", "RD") for n in range(17)])
    plan, _ = harness.sync([first, third])
    assert not plan.refused
    assert len(harness.open_issues()) == 17


# Compare before write: nothing changed, nothing written.


def test_unchanged_minutes_make_no_writes(tmp_path):
    harness = recording_harness(tmp_path)
    minutes = [
        meeting(
            "2024-05-02",
            [
                task("Delete the channel.", "RD"),
                task("Update the rota.", "KM", context="- step one\n- step two"),
            ],
        ),
        meeting(
            "2024-05-09",
            [
                task("Delete the channel.", "RD"),
                task("Update the rota.", "KM", context="- step one\n- step two"),
            ],
        ),
    ]
    harness.sync(minutes)
    harness.tracker.writes.clear()

    for _ in range(3):
        plan, _ = harness.sync(minutes)
        assert not plan.has_changes
        assert plan.unchanged == 2
        assert [entry["ref"] for entry in plan.to_json()["unchanged"]] == [
            "main#1",
            "main#2",
        ]
    assert harness.tracker.writes == []


def test_rendering_is_deterministic(tmp_path):
    first = Harness(tmp_path / "a", make_settings(tmp_path / "a"))
    second = Harness(tmp_path / "b", make_settings(tmp_path / "b"))
    minutes = [
        meeting(
            "2024-05-02",
            [task("Delete the channel.", "RD", "KM"), task("Ping @someone.", "LP")],
        )
    ]
    first.sync(minutes)
    second.sync(minutes)
    assert [(i.title, i.body, i.assignees, i.labels) for i in first.issues()] == [
        (i.title, i.body, i.assignees, i.labels) for i in second.issues()
    ]


# A person closed the issue: stays closed.


@pytest.mark.parametrize(
    "policy", [ReopenPolicy.NEVER, ReopenPolicy.COMMENT, ReopenPolicy.ALWAYS]
)
def test_person_closed_issue_stays_closed(tmp_path, policy):
    harness = recording_harness(
        tmp_path, make_settings(tmp_path, carry=Carry.ACCUMULATE, reopen=policy)
    )
    old = meeting("2024-05-02", [task("Delete the channel.", "RD")])
    harness.sync([old])
    [issue] = harness.issues()
    harness.person().close(
        issue.number,
        reason=__import__(
            "syncd.tracker", fromlist=["CloseReason"]
        ).CloseReason.COMPLETED,
    )
    harness.tracker.writes.clear()

    for _ in range(3):
        plan, _ = harness.sync([old])
        assert not plan.has_changes
        assert any(
            "closed on the tracker by a person" in n["message"] for n in plan.notes
        )
    assert harness.tracker.writes == []
    assert harness.issues()[0].state is IssueState.CLOSED


def test_person_closed_issue_listed_again_follows_policy(tmp_path):
    for policy, expect_state, expect_comments in [
        (ReopenPolicy.NEVER, IssueState.CLOSED, 0),
        (ReopenPolicy.COMMENT, IssueState.CLOSED, 1),
        (ReopenPolicy.ALWAYS, IssueState.OPEN, 1),
    ]:
        folder = tmp_path / policy.value
        harness = Harness(
            folder, make_settings(folder, carry=Carry.ACCUMULATE, reopen=policy)
        )
        old = meeting("2024-05-02", [task("Delete the channel.", "RD")])
        harness.sync([old])
        [issue] = harness.issues()
        from syncd.tracker import CloseReason

        harness.person().close(issue.number, CloseReason.COMPLETED)
        harness.sync([old])

        newer = meeting("2024-05-09", [task("Delete the channel.", "RD")])
        for _ in range(3):
            harness.sync([old, newer])
        issue = harness.issues()[0]
        comments = [
            c
            for c in harness.tracker.list_comments(issue.number)
            if "lists the item" in c.body
        ]
        assert issue.state is expect_state, policy
        assert len(comments) == expect_comments, policy


def test_syncd_closed_issue_reopens_when_item_returns(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    one = meeting(
        "2024-05-02",
        [task("Delete the channel.", "RD"), task("Update the rota.", "KM")],
    )
    two = meeting("2024-05-09", [task("Update the rota.", "KM")])
    three = meeting(
        "2024-05-16",
        [task("Update the rota.", "KM"), task("Delete the channel.", "RD")],
    )
    harness.sync([one])
    harness.sync([one, two])
    assert len(harness.open_issues()) == 1

    plan, _ = harness.sync([one, two, three])
    assert [c.action for c in plan.changes if c.action != "update"] == ["reopen"]
    assert len(harness.open_issues()) == 2
    assert len(harness.issues()) == 2
    reopened = [i for i in harness.issues() if i.title == "Delete the channel."][0]
    assert any(
        "lists the item again" in c.body
        for c in harness.tracker.list_comments(reopened.number)
    )


# Fields people own survive updates.


def test_human_fields_survive_reassignment(tmp_path):
    harness = Harness(
        tmp_path, make_settings(tmp_path, labels=LabelSettings(extra=("from-minutes",)))
    )
    first = meeting("2024-05-02", [task("Delete the channel.", "RD")])
    harness.sync([first])
    [issue] = harness.issues()

    person = harness.person()
    person.ensure_label("priority::high", "ff0000")
    person.ensure_label("team-ops", "00ff00")
    person.ensure_milestone("Q2")
    person.update(
        issue.number,
        IssueUpdate(
            body=issue.body + "\n\nNotes from the team: wait for the audit.",
            add_labels=("priority::high", "team-ops"),
            milestone="Q2",
            add_assignees=("nhaddad",),
        ),
    )

    corrected = meeting("2024-05-02", [task("Delete the channel.", "KM")])
    plan, _ = harness.sync([corrected])
    [issue] = harness.issues()
    assert issue.assignees == ("kmoreno", "nhaddad")
    assert issue.labels == ("from-minutes", "priority::high", "syncd", "team-ops")
    assert issue.milestone == "Q2"
    assert issue.title == "Delete the channel."
    assert issue.body.endswith("Notes from the team: wait for the audit.")
    assert "Kai Moreno" in issue.body
    assert not [c for c in plan.changes if c.action in ("create", "close")]


def test_person_edited_title_is_kept(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    harness.sync([meeting("2024-05-02", [task("Delete the channel.", "RD")])])
    [issue] = harness.issues()
    harness.person().update(
        issue.number, IssueUpdate(title="Delete the #announce channel")
    )

    # The item changes in a way that leaves the title alone: no conflict.
    plan, _ = harness.sync([meeting("2024-05-02", [task("Delete the channel.", "KM")])])
    assert harness.issues()[0].title == "Delete the #announce channel"
    assert plan.conflicts == []

    # Both sides change the title: the person's title stays, one comment says so.
    reworded = [meeting("2024-05-02", [task("Delete the old channel.", "KM")])]
    plan, _ = harness.sync(reworded)
    assert harness.issues()[0].title == "Delete the #announce channel"
    assert plan.conflicts and plan.conflicts[0]["fields"] == ["title"]
    assert [c.action for c in plan.changes] == ["update", "comment"]

    plan, _ = harness.sync(reworded)
    assert not plan.has_changes
    assert plan.conflicts
    comments = harness.tracker.list_comments(issue.number)
    assert len([c for c in comments if "did not update" in c.body]) == 1


def test_person_edit_inside_block_is_conflict(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    first = meeting("2024-05-02", [task("Delete the channel.", "RD")])
    harness.sync([first])
    [issue] = harness.issues()
    edited = issue.body.replace(
        "> Delete the channel.", "> Delete the channel (after the audit)."
    )
    harness.person().update(issue.number, IssueUpdate(body=edited))

    # The person's edit stays while the minutes leave the block alone.
    plan, _ = harness.sync([first])
    assert not plan.has_changes

    plan, _ = harness.sync(
        [first, meeting("2024-05-09", [task("Delete the channel.", "KM")])]
    )
    [issue] = harness.issues()
    assert "> Delete the channel (after the audit)." in issue.body
    assert issue.assignees == ("kmoreno",)
    assert [c["fields"] for c in plan.conflicts] == [["body"]]


# Content limits and mentions.


def test_huge_context_is_truncated_with_marker_kept(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    log = "\n".join(
        f"    row {n:04d}: kernel: oops at 0xdeadbeef in module {n}"
        for n in range(1_800)
    )
    assert len(log) > 90_000
    minutes = [
        meeting("2024-05-02", [task("Investigate the crash.", "RD", context=log)])
    ]
    plan, result = harness.sync(minutes)

    assert not result.failures
    [issue] = harness.issues()
    assert len(issue.body) < 65_536
    assert issue.body.startswith("<!-- syncd:v1 ")
    assert decode_marker(issue.body) is not None
    assert "Context truncated: see `ops/2024-05-02.md` line 10" in issue.body
    plan, _ = harness.sync(minutes)
    assert not plan.has_changes


def test_long_title_cut_at_grapheme(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    text = "Fix " + "👩🏽‍💻" * 80 + " rendering"
    harness.sync([meeting("2024-05-02", [task(text, "RD")])])
    [issue] = harness.issues()
    assert len(issue.title) <= 256
    assert issue.title.endswith("…")
    assert issue.title[:-1].endswith("👩🏽‍💻")


def test_mentions_are_neutralised(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    harness.sync(
        [
            meeting(
                "2024-05-02", [task("Ask @octo-team and @lee about `@keep` it.", "RD")]
            )
        ]
    )
    [issue] = harness.issues()
    assert "@octo-team" not in issue.body
    assert "@&#8203;octo-team" in issue.body
    assert "`@keep`" in issue.body


def test_unassignable_owner_named_not_assigned(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path), assignable=("rdiaz",))
    plan, _ = harness.sync(
        [
            meeting(
                "2024-05-02",
                [task("Update the rota.", "KM"), task("Ping the vendor.", "ZZ")],
            )
        ]
    )
    issues = harness.issues()
    assert [i.assignees for i in issues] == [(), ()]
    assert "Kai Moreno" in issues[0].body
    assert "`ZZ`" in issues[1].body
    warnings = [p["message"] for p in plan.problems]
    assert any("KM" in w and "cannot be assigned" in w for w in warnings)
    assert any("ZZ" in w for w in warnings)


# Dry run writes nothing anywhere.


def test_dry_run_writes_nothing(tmp_path):
    settings = make_settings(tmp_path, labels=LabelSettings(managed="from-minutes"))
    harness = Harness(tmp_path, settings)
    harness.sync([meeting("2024-05-02", [task("Delete the channel.", "RD")])])
    tracker_file = tmp_path / "tracker.db"
    # Start the dry run from a tracker without the managed label.
    import sqlite3

    with sqlite3.connect(tracker_file) as connection:
        connection.execute("DELETE FROM labels")
    harness.tracker.close_session()
    tracker_before = file_digest(tracker_file)
    state_before = file_digest(harness.state_path)

    minutes = [
        meeting(
            "2024-05-09",
            [
                task("Delete the channel.", "RD", done=True),
                task("Update the on-call rota.", "KM"),
            ],
        ),
    ]
    plan = harness.plan(minutes)
    assert file_digest(tracker_file) == tracker_before
    assert file_digest(harness.state_path) == state_before
    described = sorted((c.action, c.subject, c.reason) for c in plan.changes)
    assert ("create", "label", "would create label from-minutes") in described
    assert [c.action for c in plan.changes if c.subject == "issue"] == [
        "update",
        "close",
        "create",
    ] or sorted(c.action for c in plan.changes if c.subject == "issue") == [
        "close",
        "create",
        "update",
    ]

    fresh_state = Harness(tmp_path / "other", make_settings(tmp_path / "other"))
    assert not fresh_state.state_path.exists()
    fresh_state.plan(minutes)
    assert not fresh_state.state_path.exists()

    applied, result = harness.sync(minutes)
    assert [(c.action, c.subject) for c in applied.changes] == [
        (c.action, c.subject) for c in plan.changes
    ]
    assert not result.failures
    assert harness.tracker.missing_labels(["from-minutes"]) == []


def test_unreadable_file_without_state_closes_nothing(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    older = meeting(
        "2024-05-02",
        [task("Delete the channel.", "RD"), task("Update the rota.", "KM")],
        path="ops/2024-05-02.md",
    )
    harness.sync([older])
    harness.state_path.unlink()

    broken = meeting(
        "",
        [],
        path="ops/2024-05-02.md",
        errors=[Problem("ops/2024-05-02.md", 3, "front matter is not closed")],
    )
    newer = meeting(
        "2024-05-09",
        [task("Rotate the staging password.", "KM")],
        path="ops/2024-05-09.md",
    )
    plan, result = harness.sync([broken, newer])

    assert [i.state for i in harness.issues()] == [IssueState.OPEN] * 3
    assert [c.action for c in plan.changes] == ["create"]
    assert {r["reason"] for r in plan.refused} == {
        "ops/2024-05-02.md could not be read"
    }


def test_minutes_link_is_pinned_while_file_unchanged(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    template = (
        "https://forge.example/acme/notes/blob/{revision}/ops/2024-05-02.md#L{line}"
    )
    first = meeting(
        "2024-05-02",
        [task("Delete the channel.", "RD")],
        web_url=template.replace("{revision}", "aaa111"),
        content_hash="h1",
    )
    harness.sync([first])
    [issue] = harness.issues()
    assert (
        "https://forge.example/acme/notes/blob/aaa111/ops/2024-05-02.md#L10"
        in issue.body
    )

    # The repository moved on but this file did not change: no write.
    moved = meeting(
        "2024-05-02",
        [task("Delete the channel.", "RD")],
        web_url=template.replace("{revision}", "bbb222"),
        content_hash="h1",
    )
    plan, _ = harness.sync([moved])
    assert not plan.has_changes

    edited = meeting(
        "2024-05-02",
        [task("Delete the channel.", "KM")],
        web_url=template.replace("{revision}", "ccc333"),
        content_hash="h2",
    )
    harness.sync([edited])
    assert "blob/ccc333/ops/2024-05-02.md#L10" in harness.issues()[0].body


def test_group_owner_becomes_label(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    plan, _ = harness.sync(
        [meeting("2024-05-02", [task("Join the community call.", "Everyone")])]
    )
    [issue] = harness.issues()
    assert "everyone" in issue.labels
    assert issue.assignees == ()
    assert "group Everyone, label everyone" in issue.body


def test_unopened_target_does_not_block_other_closes(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path, targets=("main", "infra")))
    first = meeting("2024-05-02", [task("Delete the channel.", "RD")])
    harness.sync([first])

    problem = Problem("target infra", None, "token is missing")
    plan, result = harness.sync(
        [first, meeting("2024-05-09", [])], source_problems=[problem], allow_mass_close=True
    )
    assert [c.action for c in plan.changes] == ["close"]
    assert harness.open_issues() == []
