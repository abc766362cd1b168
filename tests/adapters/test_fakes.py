"""The fakes themselves: official schemas, the clients' own object APIs, running alone.

The adapters use the clients' request layers; these tests also drive
PyGithub's and python-gitlab's high-level objects against the fakes, so a
fake that is kinder than the real service (wrong URLs, loose Link headers,
missing fields) fails here.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import warnings

import github
import gitlab
import pytest
from github import Auth

from syncd.errors import TransientTrackerError
from syncd.tracker import CloseReason, IssueDraft, IssueUpdate
from tests.fakes import github_fake, gitlab_fake, runs
from tests.fakes.schemas import SchemaCheck, validator


def _workload(tracker) -> None:
    tracker.ensure_label("syncd", "0e8a16", "managed")
    tracker.ensure_milestone("Q3")
    issue = tracker.create(
        IssueDraft(
            title="Rotate the key",
            body="<!-- syncd:v1 e30= -->\nText",
            labels=("syncd",),
            assignees=("rdunne",),
            milestone="Q3",
        )
    )
    tracker.update(
        issue.number,
        IssueUpdate(title="Rotate the keys", add_labels=("ops",), milestone=None),
    )
    tracker.comment(issue.number, "A note.")
    tracker.list_comments(issue.number)
    tracker.close(issue.number, CloseReason.NOT_PLANNED)
    tracker.list_managed("syncd")
    tracker.get(issue.number)
    tracker.missing_labels(["syncd", "other"])


def test_responses_match_official_schemas(rig):
    check = SchemaCheck(rig.kind)
    rig.fake.schema_check = check

    _workload(rig.tracker())

    assert check.errors == []
    assert check.checked.get("issue", 0) >= 4
    assert check.checked.get("label", 0) >= 1
    assert (
        check.checked.get("issue-comment" if rig.kind == "github" else "note", 0) >= 1
    )


def test_schema_check_catches_a_bad_issue():
    errors = list(validator("github", "issue").iter_errors({"number": "one"}))

    assert errors


def test_github_error_bodies_match_schemas(github_rig):
    tracker = github_rig.tracker()
    basic = github_rig.fake.error(404, "Not Found").body
    invalid = github_rig.fake.validation_failed("Issue", "title", "missing_field").body

    assert list(validator("github", "basic-error").iter_errors(basic)) == []
    assert list(validator("github", "validation-error").iter_errors(invalid)) == []
    assert tracker.limits.body == 65_536


# PyGithub's object API against the GitHub fake.


@pytest.mark.parametrize("prefix", ["", "/api/v3"])
def test_pygithub_objects_work_against_fake(tmp_path, prefix):
    with github_fake.running_fake(prefix=prefix) as fake:
        fake.add_repo("acme/ops", collaborators=("rdunne",))
        fake.max_per_page = 2
        client = github.Github(
            auth=Auth.Token(github_fake.DEFAULT_TOKEN),
            base_url=fake.url,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            per_page=2,
            timeout=5,
        )
        repo = client.get_repo("acme/ops")
        milestone = repo.create_milestone("Q3")
        created = [
            repo.create_issue(
                title=f"Item {index}", labels=["syncd"], milestone=milestone
            )
            for index in range(5)
        ]
        fake.add_issue(
            "acme/ops", "A pull request", pull_request=True, labels=("syncd",)
        )

        listed = list(repo.get_issues(state="all", labels=["syncd"]))
        issue = repo.get_issue(created[0].number)
        issue.edit(milestone=None, state="closed", state_reason="not_planned")
        issue.add_to_labels("extra")
        issue.remove_from_labels("syncd")
        issue.add_to_assignees("rdunne")
        comment = issue.create_comment("Done.")
        again = repo.get_issue(created[0].number)

        assert len(listed) == 6
        assert sum(1 for item in listed if item.pull_request is not None) == 1
        assert again.milestone is None
        assert again.state_reason == "not_planned"
        assert [label.name for label in again.labels] == ["extra"]
        assert [user.login for user in again.assignees] == ["rdunne"]
        assert comment.body == "Done."
        assert repo.get_issues(state="all").totalCount == 6
        assert again.update() is False
        client.close()


def test_pygithub_reads_primary_rate_limit(github_rig):
    client = github.Github(
        auth=Auth.Token(github_fake.DEFAULT_TOKEN),
        base_url=github_rig.fake.url,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    github_rig.fake.exhaust_rate_limit(reset_in=100)

    with pytest.raises(github.RateLimitExceededException):
        client.get_repo("acme/ops")
    client.close()


def test_pygithub_bad_credentials(github_rig):
    client = github.Github(
        auth=Auth.Token("wrong"), base_url=github_rig.fake.url, retry=None
    )

    with pytest.raises(github.BadCredentialsException):
        client.get_repo("acme/ops")
    client.close()


def test_transferred_issue_redirects(github_rig):
    github_rig.fake.add_repo("acme/archive", collaborators=("rdunne",))
    number = github_rig.seed("Moved away", labels=("syncd",))
    github_rig.fake.transfer_issue("acme/ops", number, "acme/archive")
    tracker = github_rig.tracker()

    from syncd.errors import IssueMovedError

    with pytest.raises(IssueMovedError) as caught:
        tracker.get(number)

    assert "acme/archive" in caught.value.location
    assert github_rig.fake.count("GET", rf"/repos/acme/ops/issues/{number}", 301) == 1


def test_deleted_issue_is_gone(github_rig):
    number = github_rig.seed("Deleted", labels=("syncd",))
    github_rig.fake.delete_issue("acme/ops", number)

    from syncd.errors import IssueGoneError

    with pytest.raises(IssueGoneError):
        github_rig.tracker().get(number)


def test_enterprise_prefix_is_used(tmp_path):
    from tests.adapters.rigs import GitHubRig

    rig = GitHubRig(tmp_path, prefix="/api/v3")
    try:
        tracker = rig.tracker()
        tracker.preflight()
        issue = tracker.create(
            IssueDraft(title="On Enterprise", body="", labels=("syncd",))
        )

        assert issue.url.startswith(rig.fake.origin)
        assert rig.fake.requests[0].raw_path == "/api/v3/repos/acme/ops"
        assert [issue.title for issue in tracker.list_managed("syncd")] == [
            "On Enterprise"
        ]
    finally:
        rig.close()


# python-gitlab's object API against the GitLab fake.


def test_python_gitlab_objects_work_against_fake():
    with gitlab_fake.running_fake() as fake:
        fake.add_project("acme/infra", members=("rdunne",))
        fake.max_per_page = 2
        client = gitlab.Gitlab(
            fake.origin, private_token=gitlab_fake.DEFAULT_TOKEN, timeout=5
        )
        project = client.projects.get("acme/infra")
        for index in range(5):
            project.issues.create(
                {"title": f"Item {index}", "labels": ["syncd", "ops"]}
            )

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first_page = project.issues.list(labels=["syncd"])
        everything = project.issues.list(labels=["syncd"], get_all=True)
        issue = project.issues.get(everything[0].iid)
        issue.state_event = "close"
        issue.save()
        note = issue.notes.create({"body": "Done."})
        again = project.issues.get(issue.iid)

        assert len(first_page) == 2
        assert any(
            "pagination" in str(warning.message).lower()
            or "get_all" in str(warning.message)
            for warning in caught
        )
        assert len(everything) == 5
        assert again.state == "closed"
        assert again.attributes["closed_by"]["username"] == gitlab_fake.DEFAULT_USERNAME
        assert note.body == "Done."
        with pytest.raises(gitlab.exceptions.GitlabGetError) as missing:
            project.issues.get(again.id)
        assert missing.value.response_code == 404
        assert client.projects.get(project.id).path_with_namespace == "acme/infra"


def test_python_gitlab_obeys_fake_429():
    with gitlab_fake.running_fake() as fake:
        fake.add_project("acme/infra")
        client = gitlab.Gitlab(
            fake.origin, private_token=gitlab_fake.DEFAULT_TOKEN, timeout=5
        )
        fake.throttle(retry_after=30)

        with pytest.raises(gitlab.exceptions.GitlabGetError) as caught:
            client.projects.get("acme/infra", obey_rate_limit=False)

        assert caught.value.response_code == 429


def test_decoded_slash_in_project_is_not_found(gitlab_rig):
    request = urllib.request.Request(
        f"{gitlab_rig.fake.url}/projects/acme/infra",
        headers={"PRIVATE-TOKEN": gitlab_fake.DEFAULT_TOKEN},
    )

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)

    assert caught.value.code == 404


# Each fake runs on its own.


@pytest.mark.parametrize(
    ("module", "path"),
    [
        ("tests.fakes.github_fake", "/repos/acme/ops"),
        ("tests.fakes.gitlab_fake", "/api/v4/projects/acme%2Finfra"),
    ],
)
def test_fake_runs_alone(module, path):
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=runs.REPO_ROOT,
    )
    try:
        url = process.stdout.readline().strip()
        origin = url.split("/api/")[0]
        assert url.startswith("http://127.0.0.1:")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(origin + path, timeout=5)
        assert caught.value.code == 401
        body = json.loads(caught.value.read())
        assert "message" in body
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def test_stale_list_hides_new_issue(github_rig):
    number = github_rig.seed("Not listed yet", labels=("syncd",))
    github_rig.fake.hidden_from_lists.add(("acme/ops", number))
    tracker = github_rig.tracker()

    assert tracker.list_managed("syncd") == []
    assert tracker.get(number).title == "Not listed yet"


def test_fake_reports_its_own_errors(github_rig):
    github_rig.fake.repo("acme/ops").issues[github_rig.seed("Broken")].labels.append(
        "ghost"
    )

    with pytest.raises(TransientTrackerError):
        github_rig.tracker(max_attempts="1").list_managed("")

    assert github_rig.fake.internal_errors
