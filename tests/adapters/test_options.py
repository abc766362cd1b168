"""Option validation, and the smaller rules of each adapter."""

from __future__ import annotations

import pytest

from syncd.errors import ConfigError, IssueMovedError, RateLimitedError
from syncd.tracker import CloseReason, IssueDraft, IssueState, IssueUpdate
from syncd_adapters.github import GitHubTracker
from syncd_adapters.gitlab import GitLabTracker


def problem_keys(tracker_class, options) -> list[str]:
    return [key for key, _ in tracker_class.validate_options(options)]


def test_github_options_valid():
    options = {
        "repo": "acme/ops",
        "base_url": "https://ghe.example.com/api/v3",
        "timeout": "10",
        "per_page": "50",
    }

    assert GitHubTracker.validate_options(options) == []


def test_gitlab_options_valid():
    options = {
        "project": "acme/platform/infra",
        "base_url": "https://gitlab.example.com",
        "writes_per_hour": "none",
    }

    assert GitLabTracker.validate_options(options) == []


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({}, "repo"),
        ({"repo": "acme"}, "repo"),
        ({"repo": "acme/ops", "base_url": "ftp://example.com"}, "base_url"),
        ({"repo": "acme/ops", "per_page": "500"}, "per_page"),
        ({"repo": "acme/ops", "colour": "red"}, "colour"),
        ({"repo": "acme/ops", "token": "secret"}, "token"),
        (
            {"repo": "acme/ops", "token_env": "A", "token_credential": "b"},
            "token_credential",
        ),
        ({"repo": "acme/ops", "min_write_interval": "soon"}, "min_write_interval"),
    ],
)
def test_github_option_problems(options, key):
    assert problem_keys(GitHubTracker, options) == [key]


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({}, "project"),
        ({"project": "infra"}, "project"),
        ({"project": "acme/infra", "not_planned_label": "a,b"}, "not_planned_label"),
        (
            {"project": "acme/infra", "token_credential": "../etc/token"},
            "token_credential",
        ),
    ],
)
def test_gitlab_option_problems(options, key):
    assert problem_keys(GitLabTracker, options) == [key]


def test_numeric_gitlab_project_is_accepted():
    assert GitLabTracker.validate_options({"project": "77"}) == []


def test_constructor_reports_problems_with_key_path():
    with pytest.raises(ConfigError) as caught:
        GitHubTracker("ops", {"repo": "bad"}, environ={"GITHUB_TOKEN": "x"})

    assert caught.value.problems[0].key_path == "targets.ops.repo"


def test_gitlab_base_url_may_name_api_root(gitlab_rig):
    tracker = gitlab_rig.tracker(base_url=gitlab_rig.fake.origin + "/api/v4")

    tracker.preflight()

    assert gitlab_rig.fake.count("GET", r"/projects/acme%2Finfra", 200) == 1


# GitLab close reasons and moved issues.


def test_gitlab_not_planned_label_is_hidden(gitlab_rig):
    tracker = gitlab_rig.tracker()
    issue = tracker.create(
        IssueDraft(title="Drop the plan", body="", labels=("syncd",))
    )

    closed = tracker.close(issue.number, CloseReason.NOT_PLANNED)
    stored_labels = gitlab_rig.stored()[0].labels
    reopened = tracker.reopen(issue.number)

    assert closed.state_reason == "not_planned"
    assert closed.labels == ("syncd",)
    assert "syncd::not-planned" in stored_labels
    assert reopened.state is IssueState.OPEN
    assert gitlab_rig.stored()[0].labels == ("syncd",)


def test_gitlab_moved_issue_is_reported(gitlab_rig):
    number = gitlab_rig.seed("Moved", labels=("syncd",))
    gitlab_rig.fake.project("acme/infra").issues[number].moved_to_id = 123456
    gitlab_rig.fake.project("acme/infra").issues[number].state = "closed"

    with pytest.raises(IssueMovedError) as caught:
        gitlab_rig.tracker().get(number)

    assert caught.value.ref == f"acme/infra#{number}"


def test_gitlab_reset_header_alone_sets_wait(gitlab_rig):
    reset = int(gitlab_rig.clock.now) + 15
    gitlab_rig.fake.inject(
        "GET",
        r"/projects/acme%2Finfra",
        status=429,
        body={"message": "Too many"},
        headers={"RateLimit-Reset": str(reset)},
    )
    tracker = gitlab_rig.tracker()

    tracker.preflight()

    assert gitlab_rig.clock.sleeps == [16.0]


def test_gitlab_http_date_retry_after(gitlab_rig):
    gitlab_rig.fake.inject(
        "GET",
        r"/projects/acme%2Finfra",
        status=429,
        body="Retry later",
        content_type="text/plain",
        headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"},
    )
    tracker = gitlab_rig.tracker()

    tracker.preflight()

    assert gitlab_rig.clock.sleeps == [0.0]


# Listing edges.


def test_empty_page_ends_listing(rig):
    rig.seed("One", labels=("syncd",))
    link = f'<{rig.fake.origin}{rig.fake.prefix}{rig.list_path()}?page=2>; rel="next"'
    rig.fake.inject("GET", rig.list_path(), status=200, body=[], headers={"Link": link})

    assert rig.tracker().list_managed("syncd") == []
    assert rig.fake.count() == 1


def test_list_never_uses_search(github_rig):
    github_rig.fake.search_lag = 600
    tracker = github_rig.tracker()
    created = tracker.create(IssueDraft(title="Fresh", body="", labels=("syncd",)))

    listed = tracker.list_managed("syncd")

    assert [issue.number for issue in listed] == [created.number]
    assert github_rig.fake.count(path=r"/search/.*") == 0


def test_labels_are_cached_for_the_run(rig):
    tracker = rig.tracker()

    tracker.ensure_label("syncd", "0e8a16")
    tracker.ensure_label("syncd", "0e8a16")
    missing = tracker.missing_labels(["syncd", "Other"])

    assert missing == ["Other"]
    labels_path = (
        r"/repos/acme/ops/labels"
        if rig.kind == "github"
        else r"/projects/acme%2Finfra/labels"
    )
    assert rig.fake.count("GET", labels_path) == 1
    assert rig.fake.count("POST", labels_path) == 1


def test_existing_label_race_is_not_an_error(rig):
    tracker = rig.tracker()
    tracker.missing_labels(["syncd"])
    rig.seed("Someone else's", labels=("syncd",))

    tracker.ensure_label("syncd", "0e8a16")

    assert tracker.missing_labels(["syncd"]) == []


def test_milestone_created_once_and_cleared(rig):
    tracker = rig.tracker()
    first = tracker.create(
        IssueDraft(title="A", body="", labels=("syncd",), milestone="Q3")
    )
    second = tracker.create(
        IssueDraft(title="B", body="", labels=("syncd",), milestone="Q3")
    )

    cleared = tracker.update(first.number, IssueUpdate(milestone=None))

    milestones_path = (
        r"/repos/acme/ops/milestones"
        if rig.kind == "github"
        else r"/projects/acme%2Finfra/milestones"
    )
    assert first.milestone == second.milestone == "Q3"
    assert cleared.milestone is None
    assert rig.fake.count("POST", milestones_path) == 1
    assert tracker.missing_milestones(["Q3", "Q4"]) == ["Q4"]


def test_assignees_added_and_removed(rig):
    tracker = rig.tracker()
    issue = tracker.create(
        IssueDraft(title="A", body="", labels=("syncd",), assignees=("rdunne",))
    )

    changed = tracker.update(
        issue.number,
        IssueUpdate(add_assignees=("kmoller",), remove_assignees=("rdunne",)),
    )

    assert changed.assignees == ("kmoller",)


def test_blocked_target_sends_nothing(github_rig):
    github_rig.fake.exhaust_rate_limit(reset_in=7200)
    tracker = github_rig.tracker(max_rate_limit_wait="10")
    with pytest.raises(RateLimitedError):
        tracker.preflight()

    for call in (
        lambda: tracker.create(IssueDraft(title="A", body="")),
        lambda: tracker.get(1),
    ):
        with pytest.raises(RateLimitedError):
            call()

    assert github_rig.fake.count() == 1
