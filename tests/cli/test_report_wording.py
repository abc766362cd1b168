"""The text, JSON and Markdown reports say only what is true of the run.

"No changes: the trackers match the minutes." may appear only when every
target was compared with every file and no close was held back, and the
counts keep issues, labels and comments apart.
"""

from __future__ import annotations

from tests.cli.conftest import CONFIG

MATCH_SENTENCE = "the trackers match the minutes"

# A GitHub target whose token variable is unset: it fails before any request,
# and the address is a closed local port in case it ever tried one.
FAILING_TARGET = """\
  broken:
    kind: github
    repo: example/ops
    base_url: http://127.0.0.1:9
    token_env: SYNCD_TEST_TOKEN_THAT_IS_UNSET
"""


def _route_everything_to_broken(project) -> None:
    text = CONFIG.replace(
        "targets:\n  ops:\n    kind: local\n    path: tracker.db\n",
        "targets:\n" + FAILING_TARGET,
    )
    project.write_config(text)


def test_failed_target_not_called_matching(project):
    _route_everything_to_broken(project)

    run = project.syncd("sync")

    assert run.code == 3
    assert "! target broken failed" in run.stdout
    assert MATCH_SENTENCE not in run.stdout
    assert "Nothing was planned for the failed target broken" in run.stdout


def test_failed_target_plan_markdown(project):
    _route_everything_to_broken(project)

    run = project.syncd("plan", "--format", "markdown")

    assert run.code == 3
    assert MATCH_SENTENCE not in run.stdout
    assert "failed target broken" in run.stdout


def test_refused_closes_said_pending(project):
    # Three open items dropped at once trip the series guard.
    project.write_minutes(
        "ops/2024-05-02.md",
        "---\ndate: 2024-05-02\n---\n\n## Action items\n\n"
        "RD: Delete the calendar-announce channel.\n"
        "KM: Book the room for the June offsite.\n"
        "RD: Renew the TLS certificate.\n",
    )
    project.syncd("sync")
    project.write_minutes(
        "ops/2024-05-09.md",
        "---\ndate: 2024-05-09\n---\n\n## Action items\n\nNothing this week.\n",
    )

    run = project.syncd("sync")

    assert run.code == 3
    assert "! refused to close" in run.stdout
    assert MATCH_SENTENCE not in run.stdout
    assert "3 closes refused by a guard are pending" in run.stdout


def test_failed_file_not_called_matching(project):
    project.syncd("sync")
    (project.minutes / "ops" / "2024-05-09.md").write_text(
        "---\ntitle: a\ntitle: b\n---\n\n## Action items\n\nRD: Never read.\n",
        encoding="utf-8",
    )

    run = project.syncd("sync")

    assert run.code == 3
    assert MATCH_SENTENCE not in run.stdout
    assert "1 file failed and its items were not compared" in run.stdout


def test_clean_second_sync_says_matching(project):
    project.syncd("sync")

    run = project.syncd("sync")

    assert run.code == 0
    assert "No changes: the trackers match the minutes." in run.stdout


def test_labels_counted_apart_from_issues(project):
    run = project.syncd("sync", "--format", "json")

    summary = run.json()["summary"]
    issue_creations = [
        c for c in run.json()["changes"] if c["action"] == "create" and c["subject"] == "issue"
    ]
    assert summary["create"] == len(issue_creations) == 2
    assert summary["labels"] >= 1
    label_creations = [c for c in run.json()["changes"] if c["subject"] == "label"]
    assert summary["labels"] == len(label_creations)


def test_labels_counted_apart_in_text(project):
    run = project.syncd("sync")

    assert "Result: 2 issues created," in run.stdout
    assert "label created" in run.stdout or "labels created" in run.stdout


def test_plan_counts_in_markdown(project):
    run = project.syncd("plan", "--format", "markdown")

    assert "**2** issues to create" in run.stdout
    assert "to create" in run.stdout.split("**2** issues to create", 1)[1]


def test_closing_comment_counted(project):
    project.syncd("sync")
    project.write_minutes(
        "ops/2024-05-09.md",
        "---\ndate: 2024-05-09\n---\n\n## Action items\n\n"
        "KM: Book the room for the June offsite.\n",
    )

    run = project.syncd("sync", "--format", "json")

    summary = run.json()["summary"]
    assert summary["close"] == 1
    assert summary["comments"] == 1


def test_closing_comment_counted_in_text(project):
    project.syncd("sync")
    project.write_minutes(
        "ops/2024-05-09.md",
        "---\ndate: 2024-05-09\n---\n\n## Action items\n\n"
        "KM: Book the room for the June offsite.\n",
    )

    run = project.syncd("sync")

    assert "1 closed" in run.stdout
    assert "1 comment posted" in run.stdout


def test_singular_counts(project):
    project.write_minutes(
        "ops/2024-05-02.md",
        "---\ndate: 2024-05-02\n---\n\n## Action items\n\nRD: Only one thing.\n",
    )

    run = project.syncd("sync")
    status = project.syncd("status")

    assert "read 1 file (0 failed), 1 item," in run.stdout
    assert "1 issue created" in run.stdout
    assert "1 issue, 1 open" in status.stdout
    assert "1 issues" not in run.stdout + status.stdout
    assert "1 files" not in run.stdout


def test_singular_problem_count(project):
    (project.minutes / "ops" / "2024-05-09.md").write_text(
        "---\ntitle: a\ntitle: b\n---\n\n## Action items\n\nRD: Never read.\n",
        encoding="utf-8",
    )

    run = project.syncd("sync")

    assert "\n1 problem (each" in run.stdout
    assert "1 problems" not in run.stdout


def test_plural_helper():
    from syncd.messages import plural

    assert plural(1, "issue") == "1 issue"
    assert plural(0, "issue") == "0 issues"
    assert plural(2, "person", "people") == "2 people"


def test_last_run_counts_labels_apart(project):
    project.syncd("sync")

    text = project.syncd("status").stdout
    counts = project.syncd("status", "--format", "json").json()["last_run"]["counts"]

    assert counts["create"] == 2
    assert counts["labels"] >= 1
    assert "; 2 issues created, " in text.splitlines()[0]
    assert "labels created" in text.splitlines()[0] or "label created" in text.splitlines()[0]


def test_plan_problem_not_called_matching(project):
    from syncd.tracker import IssueDraft
    from syncd_adapters.local import LocalTracker

    assert project.syncd("sync").code == 0
    # A copy of a managed issue, marker included, as a person might make it.
    tracker = LocalTracker("ops", project.tracker_file)
    [original, *_] = tracker.list_managed("syncd")
    tracker.create(
        IssueDraft(title=original.title, body=original.body, labels=("syncd",))
    )

    run = project.syncd("sync")

    assert run.code == 0, run.stdout + run.stderr
    assert MATCH_SENTENCE not in run.stdout
    assert "No changes were made, but there are problems (see below)." in run.stdout
    assert "carry the same item marker" in run.stdout
