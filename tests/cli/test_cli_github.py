"""The CLI against the GitHub fake: the real adapter and PyGithub over HTTP.

The fake runs on 127.0.0.1 in this process; syncd runs in a subprocess with
a config whose target points at it.
"""

from __future__ import annotations

import pytest

from tests.cli.conftest import CONFIG, MEETING_ONE, MEETING_TWO
from tests.fakes.github_fake import DEFAULT_TOKEN, running_fake

WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
TOKEN_ENV = "SYNCD_CLI_TEST_GITHUB_TOKEN"


@pytest.fixture
def github(project):
    with running_fake() as fake:
        fake.add_repo("acme/ops", collaborators=("rosa-example", "kai-example"))
        project.write_config(
            CONFIG.replace(
                "    kind: local\n    path: tracker.db\n",
                "    kind: github\n"
                "    repo: acme/ops\n"
                f"    base_url: {fake.url}\n"
                f"    token_env: {TOKEN_ENV}\n"
                "    timeout: 5\n",
            ).replace(
                "state_dir: state", "state_dir: state\npacing:\n  min_write_interval: 0"
            )
        )
        yield fake


def room_issues(fake) -> list:
    """Return the issues of the example's room-booking item."""

    issues = fake.issues_in("acme/ops")
    return [issue for issue in issues if issue.title.startswith("Book")]


def writes(fake) -> list[tuple[str, str, int]]:
    return [entry for entry in fake.request_log() if entry[0] in WRITE_METHODS]


def test_plan_sends_no_writes(project, github):
    run = project.syncd("plan", "--format", "json", env={TOKEN_ENV: DEFAULT_TOKEN})

    assert run.code == 2, run.stderr
    assert writes(github) == []
    assert not project.state_dir.exists()


def test_sync_creates_then_changes_nothing(project, github):
    env = {TOKEN_ENV: DEFAULT_TOKEN}

    first = project.syncd("sync", "--format", "json", env=env)
    created = len([entry for entry in writes(github) if entry[1].endswith("/issues")])
    github.requests.clear()
    second = project.syncd("sync", "--format", "json", env=env)
    status = project.syncd("status", "--format", "json", env=env)

    assert first.code == 0, first.stderr
    assert created == 2
    assert second.code == 0, second.stderr
    assert writes(github) == []
    issues = status.json()["issues"]
    assert sorted(issue["ref"] for issue in issues) == ["acme/ops#1", "acme/ops#2"]
    assert {tuple(issue["assignees"]) for issue in issues} == {
        ("rosa-example",),
        ("kai-example",),
    }


def test_missing_token_fails_target(project, github):
    run = project.syncd("sync", "--format", "json")

    assert run.code == 3
    assert TOKEN_ENV in run.stdout
    assert writes(github) == []
    assert DEFAULT_TOKEN not in run.stdout + run.stderr


def test_token_never_printed(project, github):
    env = {TOKEN_ENV: DEFAULT_TOKEN}

    runs = [
        project.syncd("plan", "-v", "-v", "--format", "json", env=env),
        project.syncd("sync", "-v", "-v", env=env),
        project.syncd("status", "-v", "-v", env=env),
    ]

    for run in runs:
        assert DEFAULT_TOKEN not in run.stdout
        assert DEFAULT_TOKEN not in run.stderr


def test_server_error_not_called_matching(project, github):
    env = {TOKEN_ENV: DEFAULT_TOKEN}
    assert project.syncd("sync", env=env).code == 0
    github.inject(None, r".*", status=500, times=None)

    run = project.syncd("sync", "-q", "--config", str(project.config), env=env)

    assert run.code == 3
    assert "! target ops failed" in run.stdout
    assert "the trackers match the minutes" not in run.stdout
    assert "Nothing was planned for the failed target ops" in run.stdout


def test_marker_text_in_minutes_keeps_updates(project, github):
    env = {TOKEN_ENV: DEFAULT_TOKEN}
    quoted = "  - the footer reads <!-- syncd:end --> at the end\n"
    project.write_minutes(
        "ops/2024-05-02.md",
        MEETING_ONE.replace(
            "RD: Delete the calendar-announce channel.\n",
            "RD: Delete the calendar-announce channel.\n" + quoted,
        ),
    )
    assert project.syncd("sync", env=env).code == 0
    issue = next(
        issue
        for issue in github.issues_in("acme/ops")
        if issue.title.startswith("Delete")
    )
    issue.body = issue.body + "\n\nHuman note: keep this."
    project.write_minutes(
        "ops/2024-05-09.md",
        MEETING_TWO.replace(
            "RD: Delete the calendar-announce channel.\n",
            "RD: Delete the old calendar-announce channel.\n" + quoted,
        ),
    )

    run = project.syncd("sync", "--format", "json", env=env)

    assert run.code == 0, run.stderr
    assert run.json()["conflicts"] == []
    assert "> Delete the old calendar-announce channel." in issue.body
    assert issue.body.endswith("Human note: keep this.")
    assert issue.body.count("<!-- syncd:end -->") == 1


def test_locked_close_exits_zero_with_warning(project, github):
    env = {TOKEN_ENV: DEFAULT_TOKEN}
    assert project.syncd("sync", env=env).code == 0
    locked = next(
        issue
        for issue in github.issues_in("acme/ops")
        if issue.title.startswith("Delete")
    )
    locked.locked = True
    project.write_minutes(
        "ops/2024-05-09.md",
        MEETING_TWO.replace("RD: Delete the calendar-announce channel.\n", ""),
    )

    run = project.syncd("sync", env=env)

    assert run.code == 0, run.stdout + run.stderr
    assert "the comment was not posted because the conversation is locked" in run.stdout
    assert "1 closed" in run.stdout
    assert "1 warning" in run.stdout
    assert " failed." not in run.stdout
    assert "[failed" not in run.stdout
    assert locked.state == "closed"


def test_deleted_issue_reported_in_text(project, github):
    env = {TOKEN_ENV: DEFAULT_TOKEN}
    assert project.syncd("sync", env=env).code == 0
    deleted = room_issues(github)[0]
    github.delete_issue("acme/ops", deleted.number)
    expected = (
        f"ops/2024-05-02.md:16: error: acme/ops#{deleted.number}: "
        "the issue no longer exists"
    )

    sync = project.syncd("sync", env=env)
    plan = project.syncd("plan", env=env)
    plan_json = project.syncd("plan", "--format", "json", env=env)

    assert sync.code == 3, sync.stdout + sync.stderr
    assert expected in sync.stdout
    assert "the trackers match the minutes" not in sync.stdout
    assert "1 item listed in the minutes has no issue" in sync.stdout
    assert plan.code == 0, plan.stdout + plan.stderr
    assert expected in plan.stdout
    assert "the trackers match the minutes" not in plan.stdout
    [problem] = plan_json.json()["problems"]
    assert problem["path"] == "ops/2024-05-02.md"
    assert problem["line"] == 16


def test_retry_recreate_refuses_existing_issue(project, github):
    env = {TOKEN_ENV: DEFAULT_TOKEN}
    assert project.syncd("sync", env=env).code == 0
    unlabelled = room_issues(github)[0]
    # A person removed the managed label: the issue still exists.
    unlabelled.labels = []
    ref = f"acme/ops#{unlabelled.number}"

    retry = project.syncd("retry", "--recreate", ref, env=env)
    sync = project.syncd("sync", env=env)

    assert retry.code == 1, retry.stdout + retry.stderr
    assert f"{ref} still exists (open)" in retry.stderr
    assert "no longer mapped" not in retry.stdout
    books = room_issues(github)
    assert len(books) == 1, sync.stdout


def test_retry_recreate_reopens_deleted_issue(project, github):
    env = {TOKEN_ENV: DEFAULT_TOKEN}
    assert project.syncd("sync", env=env).code == 0
    deleted = room_issues(github)[0]
    github.delete_issue("acme/ops", deleted.number)
    plan = project.syncd("plan", "--format", "json", env=env).json()
    [problem] = plan["problems"]
    key = problem["message"].split("retry --recreate ")[1].split(" ")[0]

    retry = project.syncd("retry", "--recreate", key, env=env)
    sync = project.syncd("sync", env=env)
    again = project.syncd("sync", env=env)

    assert retry.code == 0, retry.stderr
    assert f"no longer mapped to acme/ops#{deleted.number}" in retry.stdout
    assert sync.code == 0, sync.stdout + sync.stderr
    titles = sorted(issue.title for issue in github.issues_in("acme/ops"))
    assert len([title for title in titles if title.startswith("Book")]) == 1
    assert again.code == 0, again.stdout + again.stderr
    assert "the trackers match the minutes" in again.stdout


def test_deleted_issue_of_dropped_item_is_quiet(project, github):
    env = {TOKEN_ENV: DEFAULT_TOKEN}
    assert project.syncd("sync", env=env).code == 0
    project.write_minutes(
        "ops/2024-05-02.md",
        MEETING_ONE.replace("KM: Book the room for the June offsite.\n", ""),
    )
    assert project.syncd("sync", env=env).code == 0
    closed = room_issues(github)[0]
    assert closed.state == "closed"
    github.delete_issue("acme/ops", closed.number)

    sync = project.syncd("sync", env=env)

    assert sync.code == 0, sync.stdout + sync.stderr
    assert "no longer exists" not in sync.stdout
