"""Minutes that lost their content close nothing; a meeting that drops items still closes them.

The documents come from the real parser (default dialect), because the
parser's facts about a file (blank, action sections) decide the outcome.
"""

from __future__ import annotations

from syncd.engine import StateStore
from syncd.parser import load_dialect, parse_bytes
from syncd.tracker import IssueState

from tests.engine.support import Harness, make_settings

FRONT_MATTER = "---\ntitle: Ops weekly\n---\n\n"


def parsed(path: str, text: str):
    series = path.rsplit("/", 1)[0]
    return parse_bytes(
        text.encode("utf-8"), path=path, dialect=load_dialect("default"), series=series
    )


def minutes(path: str, *lines: str, heading: str = "## Action items"):
    body = "".join(f"{line}\n" for line in lines)
    return parsed(path, f"{FRONT_MATTER}{heading}\n\n{body}")


def closes(plan) -> list:
    return [c for c in plan.changes if c.action == "close"]


def problem_paths(plan) -> set[str]:
    return {p["path"] for p in plan.problems}


def test_emptied_files_close_nothing(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    names = ["a", "b", "c", "d", "e"]
    full = [
        minutes(f"{name}/2024-05-02.md", f"RD: {name} one.", f"KM: {name} two.")
        for name in names
    ]
    harness.sync(full)
    assert len(harness.open_issues()) == 10

    emptied = [parsed(f"{name}/2024-05-02.md", "") for name in names]
    plan, result = harness.sync(emptied)

    assert len(harness.open_issues()) == 10
    assert closes(plan) == []
    assert result.partial
    assert problem_paths(plan) == {f"{name}/2024-05-02.md" for name in names}
    assert all("the file is empty" in p["message"] for p in plan.problems)
    assert all(document.failed for document in emptied)


def test_emptied_two_item_series_closes_nothing(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    harness.sync([minutes("ops/2024-05-02.md", "RD: One.", "KM: Two.")])

    plan, result = harness.sync([parsed("ops/2024-05-02.md", "")])

    assert len(harness.open_issues()) == 2
    assert closes(plan) == []
    assert not plan.guard_tripped
    assert result.partial
    [problem] = plan.problems
    assert problem["path"] == "ops/2024-05-02.md"


def test_whitespace_only_file_closes_nothing(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    harness.sync([minutes("ops/2024-05-02.md", "RD: One.", "KM: Two.")])

    plan, result = harness.sync([parsed("ops/2024-05-02.md", " \n\n\t\r\n  \n")])

    assert len(harness.open_issues()) == 2
    assert closes(plan) == []
    assert result.partial
    [problem] = plan.problems
    assert problem["path"] == "ops/2024-05-02.md"
    assert "contains only whitespace" in problem["message"]


def test_file_without_its_action_section_closes_nothing(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    harness.sync([minutes("ops/2024-05-02.md", "RD: One.", "KM: Two.")])

    front_matter_only = parsed("ops/2024-05-02.md", FRONT_MATTER)
    plan, result = harness.sync([front_matter_only])

    assert len(harness.open_issues()) == 2
    assert closes(plan) == []
    assert result.partial
    [problem] = plan.problems
    assert problem["path"] == "ops/2024-05-02.md"
    assert "no action section" in problem["message"]
    assert "listed 2 items at the last sync" in problem["message"]

    notes_only = parsed(
        "ops/2024-05-02.md", FRONT_MATTER + "## Notes\n\nWe talked about the rota.\n"
    )
    plan, result = harness.sync([notes_only])

    assert len(harness.open_issues()) == 2
    assert closes(plan) == []
    assert result.partial


def test_newest_meeting_emptied_keeps_older_items_open(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    older = minutes("ops/2024-05-02.md", "RD: One.", "KM: Two.")
    newer = minutes("ops/2024-05-09.md", "RD: One.", "KM: Two.")
    harness.sync([older, newer])

    plan, result = harness.sync([older, parsed("ops/2024-05-09.md", "")])

    assert len(harness.open_issues()) == 2
    assert closes(plan) == []
    assert result.partial


def test_new_empty_file_left_out(tmp_path):
    # A placeholder for the next meeting would be the series' newest meeting,
    # and as such it would close every item of a carry: forward series. It
    # never listed anything, so nothing was lost: it is left out, and the
    # run is not a failed one.
    harness = Harness(tmp_path, make_settings(tmp_path))
    older = minutes("ops/2024-05-02.md", "RD: One.", "KM: Two.")
    harness.sync([older])

    for placeholder in ("", " \n\n"):
        plan, result = harness.sync([older, parsed("ops/2024-05-09.md", placeholder)])

        assert len(harness.open_issues()) == 2
        assert closes(plan) == []
        assert not result.partial
        [problem] = plan.problems
        assert problem["path"] == "ops/2024-05-09.md"
        assert problem["severity"] == "warning"
        assert "left out until it lists items" in problem["message"]

    filled = minutes("ops/2024-05-09.md", "RD: One.")
    plan, result = harness.sync([older, filled])

    assert [issue.title for issue in harness.open_issues()] == ["One."]
    assert not result.partial


def test_placeholder_that_listed_items_is_an_error_again(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    older = minutes("ops/2024-05-02.md", "RD: One.", "KM: Two.")
    harness.sync([older, parsed("ops/2024-05-09.md", "")])
    harness.sync([older, minutes("ops/2024-05-09.md", "RD: One.", "KM: Two.")])

    plan, result = harness.sync([older, parsed("ops/2024-05-09.md", "")])

    assert len(harness.open_issues()) == 2
    assert result.partial
    [problem] = plan.problems
    assert "the file is empty" in problem["message"]
    assert "severity" not in problem


def test_other_series_sync_beside_emptied_file(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    ops = minutes("ops/2024-05-02.md", "RD: One.", "KM: Two.")
    infra_first = minutes("infra/2024-05-02.md", "LP: Patch the router.", "NH: Order cables.")
    harness.sync([ops, infra_first])

    infra_next = minutes(
        "infra/2024-05-09.md", "LP: Patch the router.", "KM: Label the rack."
    )
    plan, result = harness.sync(
        [parsed("ops/2024-05-02.md", ""), infra_first, infra_next]
    )

    open_titles = sorted(issue.title for issue in harness.open_issues())
    assert open_titles == ["Label the rack.", "One.", "Patch the router.", "Two."]
    assert [c.item.text for c in closes(plan)] == ["Order cables."]
    assert [c.fields["title"].after for c in plan.changes if c.action == "create"] == [
        "Label the rack."
    ]
    closed = [i for i in harness.issues() if i.state is IssueState.CLOSED]
    assert [issue.title for issue in closed] == ["Order cables."]
    assert result.partial


def test_meeting_that_drops_items_still_closes(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    harness.sync([minutes("ops/2024-05-02.md", "RD: One.", "KM: Two.")])

    fewer = minutes("ops/2024-05-02.md", "RD: One.")
    plan, result = harness.sync([fewer])

    assert len(closes(plan)) == 1
    assert [issue.title for issue in harness.open_issues()] == ["One."]
    assert not result.partial
    assert plan.problems == []

    none_left = minutes("ops/2024-05-02.md")
    plan, result = harness.sync([none_left])

    assert len(closes(plan)) == 1
    assert harness.open_issues() == []
    assert not result.partial
    assert plan.problems == []


def test_file_that_never_listed_items_is_no_problem(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    ops = minutes("ops/2024-05-02.md", "RD: One.")
    notes = parsed("ops/notes.md", FRONT_MATTER + "## Notes\n\nNothing to do.\n")

    plan, result = harness.sync([ops, notes])

    assert plan.problems == []
    assert not result.partial
    assert len(harness.open_issues()) == 1


def test_emptied_file_keeps_its_stored_items(tmp_path):
    # Once the file is restored, its items still map to their issues and
    # the state still records what the file listed.
    harness = Harness(tmp_path, make_settings(tmp_path))
    full = minutes("ops/2024-05-02.md", "RD: One.", "KM: Two.")
    harness.sync([full])
    numbers = [issue.number for issue in harness.issues()]

    harness.sync([parsed("ops/2024-05-02.md", "")])
    with StateStore.open(harness.state_path, read_only=True) as state:
        paths = {o.path for found in state.occurrences().values() for o in found}
    assert paths == {"ops/2024-05-02.md"}

    plan, result = harness.sync([full])

    assert not plan.has_changes
    assert not result.partial
    assert [issue.number for issue in harness.open_issues()] == numbers


def test_undated_file_in_dated_series_warns(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    dated = minutes("ops/2024-05-02.md", "RD: Old item.")
    undated = minutes("ops/notes.md", "RD: Old item.", "KM: Brand new thing.")

    plan = harness.plan([dated, undated])

    [warning] = [p for p in plan.problems if p["path"] == "ops/notes.md"]
    assert warning["severity"] == "warning"
    assert "counts as the oldest meeting of series ops" in warning["message"]
    assert not plan.partial


def test_undated_series_does_not_warn(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))

    plan = harness.plan([minutes("ops/notes.md", "RD: Only item.")])

    assert plan.problems == []


def test_inline_marker_item_can_be_dropped(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    dialect = load_dialect("nodejs-tsc")
    heading = "# TSC meeting\n\n## Agenda\n\n* Release\n"

    def meeting_file(body: str):
        return parse_bytes(
            (heading + body).encode("utf-8"),
            path="tsc/2024-05-02.md",
            dialect=dialect,
            series="tsc",
        )

    harness.sync([meeting_file("  * **Action item**: @rdiaz to update the notes.\n")])
    assert len(harness.open_issues()) == 1

    plan, result = harness.sync([meeting_file("  * Discussed, nothing to do.\n")])

    assert [change.action for change in closes(plan)] == ["close"]
    assert not result.partial
    assert harness.open_issues() == []


def test_vanished_series_refusal_names_missing_files(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    alpha = minutes("alpha/2024-05-02.md", "RD: One.", "KM: Two.", "RD: Three.")
    beta = minutes("beta/2024-05-02.md", "KM: Four.")
    harness.sync([alpha, beta])

    plan = harness.plan([minutes("beta/2024-05-09.md", "KM: Four.")])

    assert closes(plan) == []
    reasons = {entry["reason"] for entry in plan.refused}
    assert reasons == {
        "series alpha has no minutes file left in the source, while 3 of its "
        "issues are open; pass --allow-mass-close if that is right"
    }
