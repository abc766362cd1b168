"""Failures users meet in the field, on both trackers, at adapter and sync level.

Adapter-level tests call the tracker directly. Where the right outcome is a
property of the whole run ("exactly one issue afterwards", "the other target
still syncs"), the test writes minutes and a config and runs the real
``syncd.runner.sync_run`` against the fake.
"""

from __future__ import annotations

import shutil
import time
import warnings
from pathlib import Path

import pytest

from syncd.errors import (
    AmbiguousWriteError,
    IssueLockedError,
    IssueNotFoundError,
    RateLimitedError,
    TargetUnavailableError,
)
from syncd.marker import marker_key
from syncd.tracker import CloseReason, IssueDraft, IssueState, IssueUpdate
from tests.fakes import runs

PEOPLE = [
    {"name": "Rhea Dunne", "aliases": ["RD"], "github": "rdunne", "gitlab": "rdunne"},
    {"name": "Kai Moller", "aliases": ["KM"], "github": "kmoller", "gitlab": "kmoller"},
]
BASE_CONFIG = {
    "people": PEOPLE,
    "series": [{"match": "*", "carry": "forward", "missing_meetings": 1}],
    "labels": {"managed": "syncd"},
}


def write_minutes(root: Path, series: str, date: str, *lines: str) -> Path:
    path = root / series / f"{date}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "\n".join(lines)
    path.write_text(
        f"---\ntitle: {series} weekly\ndate: {date}\nparticipants: [Rhea Dunne, Kai Moller]\n---\n\n"
        f"## Action items\n\n{body}\n",
        encoding="utf-8",
    )
    return path


class SyncBench:
    """Minutes, a config and a fake of one kind, synced with the real runner."""

    def __init__(
        self,
        kind: str,
        tmp_path: Path,
        *,
        people=PEOPLE,
        members=("rdunne", "kmoller"),
        **target_extra,
    ) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.minutes = tmp_path / "minutes"
        self.minutes.mkdir()
        self.fake = runs.start_fake(kind, members)
        self.configure(dict(BASE_CONFIG, people=people), **target_extra)

    def configure(self, base: dict, **target_extra) -> None:
        """Write the config again with ``base`` and the target options ``target_extra``."""

        self.config = runs.write_config(
            self.tmp_path,
            kind=self.kind,
            fake=self.fake,
            minutes_root=self.minutes,
            base=base,
            **target_extra,
        )

    @property
    def project(self) -> str:
        return "acme/ops" if self.kind == "github" else "acme/infra"

    @property
    def create_path(self) -> str:
        return (
            r"/repos/acme/ops/issues"
            if self.kind == "github"
            else r"/projects/acme%2Finfra/issues"
        )

    def issues(self) -> list:
        return self.fake.issues_in(self.project)

    def number_of(self, issue) -> int:
        return issue.number if self.kind == "github" else issue.iid

    def body_of(self, issue) -> str:
        return (issue.body if self.kind == "github" else issue.description) or ""

    def sync(self) -> runs.RunRecord:
        return runs.run_sync(self.config, self.fake, runs.fake_token(self.kind))

    def close(self) -> None:
        self.fake.stop()


@pytest.fixture(params=["github", "gitlab"])
def bench(request, tmp_path):
    made = SyncBench(request.param, tmp_path)
    try:
        yield made
    finally:
        made.close()


def make_bench(request, kind: str, tmp_path: Path, **kwargs) -> SyncBench:
    made = SyncBench(kind, tmp_path, **kwargs)
    request.addfinalizer(made.close)
    return made


# A create whose response was lost.


@pytest.mark.parametrize("failure", ["server-error", "dropped"])
def test_lost_create_response_leaves_one_issue(bench, failure):
    write_minutes(
        bench.minutes, "ops", "2024-05-02", "RD: Delete the calendar-announce channel."
    )
    if failure == "server-error":
        bench.fake.inject(
            "POST",
            bench.create_path,
            status=502,
            body={"message": "Bad Gateway"},
            after_commit=True,
        )
    else:
        bench.fake.inject("POST", bench.create_path, drop=True, after_commit=True)

    first = bench.sync()
    second = bench.sync()

    assert len(bench.issues()) == 1
    first_creates = [
        entry for entry in first.requests if entry[:2] == ("POST", bench.create_path)
    ]
    # The second run's log starts empty: it sent no create at all.
    assert bench.fake.count("POST", bench.create_path) == 0
    assert len(first_creates) == 1
    assert second.outcome.exit_code() == 0


def test_create_stored_after_timeout_is_sent_once(bench):
    write_minutes(
        bench.minutes, "ops", "2024-05-02", "RD: Delete the calendar-announce channel."
    )
    bench.configure({**BASE_CONFIG, "guards": {"unknown_create_wait": 60}}, timeout=1)
    # The client gives up after 1 s; the fake stores the issue at 3 s.
    server_delay = 3.0
    slow_create = bench.fake.inject("POST", bench.create_path, delay=server_delay)

    first = bench.sync()
    # This run starts before the late issue is stored. It must not send the
    # create again, because the first one may still land.
    second = bench.sync()
    deadline = time.monotonic() + server_delay + 10
    while not bench.issues() and time.monotonic() < deadline:
        time.sleep(0.1)
    third = bench.sync()

    # The fault counts every create request of all three runs.
    assert slow_create.hits == 1
    assert first.outcome.exit_code() == 3
    assert second.outcome.exit_code() in (0, 3)
    issues = bench.issues()
    assert len(issues) == 1
    assert bench.number_of(issues[0]) == 1
    assert third.outcome.exit_code() == 0


def test_lost_local_record_adopts_by_marker(bench):
    write_minutes(
        bench.minutes, "ops", "2024-05-02", "RD: Delete the calendar-announce channel."
    )
    bench.sync()
    # As if the process died after the create but before recording it.
    shutil.rmtree(bench.tmp_path / "state")

    second = bench.sync()

    assert len(bench.issues()) == 1
    assert ("POST", bench.create_path, 201) not in second.requests


def test_ambiguous_create_is_raised_once(rig):
    rig.fake.inject(
        "POST",
        rig.create_path(),
        status=502,
        after_commit=True,
        body={"message": "Bad Gateway"},
    )
    tracker = rig.tracker()

    with pytest.raises(AmbiguousWriteError):
        tracker.create(
            IssueDraft(
                title="Delete the channel",
                body="<!-- syncd:v1 e30= -->",
                labels=("syncd",),
            )
        )

    assert rig.creates() == 1


# Pull requests in GitHub's issue list.


def test_pull_requests_are_never_listed(github_rig):
    number = github_rig.seed(
        "Delete the calendar-announce channel", labels=("syncd",), pull_request=True
    )
    tracker = github_rig.tracker()

    assert tracker.list_managed("syncd") == []
    with pytest.raises(IssueNotFoundError):
        tracker.get(number)


def test_same_titled_pull_request_is_left_alone(request, tmp_path):
    bench = make_bench(request, "github", tmp_path)
    pull = bench.fake.add_issue(
        "acme/ops",
        "Delete the calendar-announce channel",
        "Removes the channel.",
        assignees=("rdunne",),
        pull_request=True,
    )
    write_minutes(
        bench.minutes, "ops", "2024-05-02", "RD: Delete the calendar-announce channel."
    )

    run = bench.sync()

    assert run.outcome.exit_code() == 0
    assert [
        issue.pull_request
        for issue in bench.fake.issues_in("acme/ops", include_pulls=True)
    ] == [True, False]
    assert pull.body == "Removes the channel."
    assert pull.state == "open"
    assert not [
        entry
        for entry in run.requests
        if entry[1].endswith(f"/issues/{pull.number}") and entry[0] != "GET"
    ]


def test_same_titled_unmanaged_issue_is_left_alone(request, tmp_path):
    bench = make_bench(request, "gitlab", tmp_path)
    other = bench.fake.add_issue(
        "acme/infra", "Delete the calendar-announce channel", "Someone's own note."
    )
    write_minutes(
        bench.minutes, "ops", "2024-05-02", "RD: Delete the calendar-announce channel."
    )

    bench.sync()

    assert len(bench.issues()) == 2
    assert other.description == "Someone's own note."
    assert other.labels == []


# Every page is read.


def test_issue_on_a_later_page_is_found(request, bench):
    write_minutes(
        bench.minutes, "ops", "2024-05-02", "RD: Delete the calendar-announce channel."
    )
    bench.configure(BASE_CONFIG, per_page=2)
    bench.sync()
    for index in range(5):
        extra = bench.fake.add_issue(
            bench.project, f"Other managed item {index}", "", labels=("syncd",)
        )
        assert extra is not None
    bench.fake.max_per_page = 2

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        second = bench.sync()

    assert len(bench.issues()) == 6
    assert not [entry for entry in second.requests if entry[0] == "POST"]
    assert (
        second.by_endpoint.get(f"GET {runs.endpoint_of(bench.create_path)} 200", 0) >= 3
    )
    assert not [warning for warning in caught if "pag" in str(warning.message).lower()]


def test_list_follows_every_page(rig):
    for index in range(9):
        rig.seed(f"Item {index}", labels=("syncd",))
    rig.fake.max_per_page = 2
    tracker = rig.tracker(per_page="2")

    assert len(tracker.list_managed("syncd")) == 9


# Project-scoped numbers, never global ids.


def test_gitlab_uses_iid_not_global_id(gitlab_rig):
    iid = gitlab_rig.seed(
        "delete the calendar-announce channel",
        labels=("syncd",),
        number=12,
        issue_id=90412,
    )
    tracker = gitlab_rig.tracker()

    listed = tracker.list_managed("syncd")
    with pytest.raises(IssueNotFoundError) as caught:
        tracker.get(90412)
    closed = tracker.close(iid, CloseReason.COMPLETED)

    assert [issue.number for issue in listed] == [12]
    assert listed[0].ref == "acme/infra#12"
    assert caught.value.ref == "acme/infra#90412"
    assert closed.state is IssueState.CLOSED
    assert gitlab_rig.fake.count("PUT", r"/projects/acme%2Finfra/issues/12") == 1


def test_github_uses_number_not_global_id(github_rig):
    number = github_rig.seed("delete the calendar-announce channel", labels=("syncd",))
    global_id = github_rig.fake.repo("acme/ops").issues[number].id
    tracker = github_rig.tracker()

    issue = tracker.get(number)

    assert issue.number == number != global_id
    assert issue.ref == f"acme/ops#{number}"


def test_done_item_closes_issue_by_its_number(bench):
    write_minutes(
        bench.minutes,
        "ops",
        "2024-05-02",
        "RD: Delete the calendar-announce channel.",
        "KM: Update the rota.",
    )
    bench.sync()
    issue = next(item for item in bench.issues() if "calendar" in item.title.lower())
    number = bench.number_of(issue)
    write_minutes(bench.minutes, "ops", "2024-05-09", "KM: Update the rota.")

    run = bench.sync()

    writes = [
        path
        for method, path, status in run.requests
        if method in ("PATCH", "PUT") and status == 200
    ]
    assert f"{bench.create_path}/{number}" in writes
    assert issue.state == "closed"
    refs = [
        change.get("ref")
        for change in run.outcome.to_json().get("changes", [])
        if change.get("ref")
    ]
    assert f"{bench.project}#{number}" in refs or not refs
    assert len(bench.issues()) == 2


# Secondary rate limits during a large first sync.


def test_secondary_limit_is_waited_out(rig):
    if rig.kind == "github":
        rig.fake.limit_creates(3, window=60, retry_after=60)
    else:
        rig.fake.limit_creates(3, window=60)
    tracker = rig.tracker()

    for index in range(6):
        tracker.create(IssueDraft(title=f"Item {index}", body="", labels=("syncd",)))

    assert len(rig.stored()) == 6
    assert 60.0 in rig.clock.sleeps
    assert rig.creates() == 7


def test_secondary_limit_beyond_budget_leaves_work_pending(rig):
    rig.fake.limit_creates(
        3, window=60, **({"retry_after": 600} if rig.kind == "github" else {})
    )
    tracker = rig.tracker(max_rate_limit_wait="30")
    created = 0

    with pytest.raises(RateLimitedError):
        for index in range(6):
            tracker.create(
                IssueDraft(title=f"Item {index}", body="", labels=("syncd",))
            )
            created += 1

    assert created == 3
    assert rig.creates() == 4
    with pytest.raises(RateLimitedError):
        tracker.create(IssueDraft(title="Later", body="", labels=("syncd",)))
    assert rig.creates() == 4


def test_rate_limited_sync_finishes_on_next_run(bench):
    lines = [
        f"{'RD' if index % 2 else 'KM'}: Follow up on topic {index}."
        for index in range(6)
    ]
    write_minutes(bench.minutes, "ops", "2024-05-02", *lines)
    bench.configure(BASE_CONFIG, max_rate_limit_wait=0)
    bench.fake.limit_creates(3, window=60)

    first = bench.sync()
    assert len(bench.issues()) == 3
    assert first.outcome.exit_code() == 3
    assert first.outcome.to_json()["summary"]["pending"] >= 1

    # Two minutes later the creation window has passed.
    bench.fake.clock = lambda: time.time() + 120
    second = bench.sync()

    assert len(bench.issues()) == 6
    assert len({issue.title for issue in bench.issues()}) == 6
    assert second.outcome.exit_code() == 0


# A target that refuses: issues disabled, no access, missing permission.


def test_issues_disabled_fails_target(rig):
    if rig.kind == "github":
        rig.fake.repo("acme/ops").has_issues = False
    else:
        rig.fake.project("acme/infra").issues_enabled = False
    tracker = rig.tracker()

    with pytest.raises(TargetUnavailableError) as caught:
        tracker.preflight()

    assert f"issues are disabled on {rig.project}" in str(caught.value)
    assert rig.fake.count() == 1


def test_issues_disabled_on_create_is_not_retried(github_rig):
    github_rig.fake.repo("acme/ops").has_issues = False
    tracker = github_rig.tracker()

    with pytest.raises(TargetUnavailableError) as caught:
        tracker.create(IssueDraft(title="Fix the links", body="", labels=("syncd",)))

    assert caught.value.status == 410
    assert "issues are disabled on acme/ops" in str(caught.value)
    assert github_rig.creates() == 1
    assert github_rig.clock.sleeps == []


def test_refusing_targets_leave_the_others_running(request, bench, tmp_path):
    fake = bench.fake
    if bench.kind == "github":
        fake.add_repo("acme/docs", has_issues=False)
        fake.add_repo("acme/infra-private", visible=False)
        names = {
            "ops": "acme/ops",
            "docs": "acme/docs",
            "private": "acme/infra-private",
        }
        key = "repo"
    else:
        fake.add_project("acme/docs", issues_enabled=False)
        fake.add_project("acme/infra-private", visible=False)
        names = {
            "ops": "acme/infra",
            "docs": "acme/docs",
            "private": "acme/infra-private",
        }
        key = "project"
    write_minutes(
        bench.minutes, "ops", "2024-05-02", "RD: Delete the calendar-announce channel."
    )
    write_minutes(
        bench.minutes,
        "docs",
        "2024-05-02",
        "KM: Fix the broken links on the install page.",
    )
    write_minutes(
        bench.minutes, "private", "2024-05-02", "RD: Rotate the backup encryption key."
    )
    import yaml

    config = yaml.safe_load(bench.config.read_text())
    template = config["targets"].pop("main")
    for series, project in names.items():
        config["targets"][series] = dict(template, **{key: project})
    config["routes"] = [{"series": series, "target": series} for series in names]
    bench.config.write_text(yaml.safe_dump(config), encoding="utf-8")

    run = bench.sync()

    text = str(run.outcome.to_json())
    assert len(bench.issues()) == 1
    assert run.outcome.exit_code() == 3
    assert "issues are disabled on acme/docs" in text
    assert "acme/infra-private not found or the token lacks access" in text
    assert not [
        entry
        for entry in run.requests
        if entry[0] == "POST" and "docs" in entry[1] and "labels" not in entry[1]
    ]
    failing = [
        entry for entry in run.requests if "docs" in entry[1] or "private" in entry[1]
    ]
    assert len(failing) == len(set(failing))


def test_missing_write_permission_fails_target(github_rig):
    github_rig.fake.repo("acme/ops").issues_writable = False
    tracker = github_rig.tracker()

    with pytest.raises(TargetUnavailableError) as caught:
        tracker.create(IssueDraft(title="Fix the links", body="", labels=("syncd",)))

    assert caught.value.target_wide
    assert github_rig.creates() == 1


# Comments on a locked issue.


def test_locked_issue_refuses_comment_only(rig):
    number = rig.seed("delete the calendar-announce channel", labels=("syncd",))
    rig.lock(number)
    tracker = rig.tracker()

    listed = tracker.list_managed("syncd")
    with pytest.raises(IssueLockedError) as caught:
        tracker.comment(number, "Closed per the meeting of 9 May.")
    closed = tracker.close(number, CloseReason.COMPLETED)
    created = tracker.create(
        IssueDraft(title="Update the on-call rota", body="", labels=("syncd",))
    )

    assert listed[0].locked is True
    assert caught.value.ref == f"{rig.project}#{number}"
    assert not caught.value.target_wide
    assert closed.state is IssueState.CLOSED
    assert created.number != number


def test_locked_issue_does_not_stop_the_run(bench):
    write_minutes(
        bench.minutes, "ops", "2024-05-02", "RD: Delete the calendar-announce channel."
    )
    bench.sync()
    locked = bench.issues()[0]
    if bench.kind == "github":
        locked.locked = True
    else:
        locked.discussion_locked = True
    write_minutes(
        bench.minutes,
        "ops",
        "2024-05-09",
        "KM: Update the on-call rota.",
        "RD: Archive the 2023 incident notes.",
    )

    run = bench.sync()

    titles = sorted(issue.title for issue in bench.issues())
    assert len(titles) == 3
    assert any("rota" in title for title in titles)
    assert any("incident" in title for title in titles)
    output = run.outcome.to_json()
    assert output["summary"]["create"] == 2
    assert output["summary"]["close"] == 1
    assert output["summary"]["failed"] == 0
    assert output["failures"] == []
    assert output["partial"] is False
    warnings = output["warnings"]
    assert [warning["issue"]["ref"] for warning in warnings] == [
        f"{bench.project}#{bench.number_of(locked)}"
    ]
    assert "conversation is locked" in warnings[0]["warning"]
    assert warnings[0]["outcome"] == "applied"


def test_locked_issue_is_still_closed(bench):
    write_minutes(
        bench.minutes, "ops", "2024-05-02", "RD: Delete the calendar-announce channel."
    )
    bench.sync()
    locked = bench.issues()[0]
    if bench.kind == "github":
        locked.locked = True
    else:
        locked.discussion_locked = True
    write_minutes(bench.minutes, "ops", "2024-05-09", "KM: Update the on-call rota.")

    run = bench.sync()
    again = bench.sync()

    assert locked.state == "closed"
    assert run.outcome.to_json()["summary"]["close"] == 1
    assert again.outcome.to_json()["changes"] == []


# An owner who cannot be assigned.


def test_unassignable_owner_is_left_off(rig):
    tracker = rig.tracker()

    issue = tracker.create(
        IssueDraft(
            title="Delete the channel",
            body="",
            labels=("syncd",),
            assignees=("rdunne-old",),
        )
    )

    assert issue.assignees == ()
    assert any("rdunne-old" in warning for warning in tracker.warnings)
    assert rig.creates() == 1


def test_rejected_assignee_creates_unassigned(github_rig, tmp_path):
    # A stale "assignable" result: the account lost access since it was checked.
    stale = github_rig.tracker(state_dir=tmp_path)
    stale.cache.put_fact("assignable rdunne-old", True)
    stale.close_session()
    tracker = github_rig.tracker(state_dir=tmp_path)

    issue = tracker.create(
        IssueDraft(
            title="Delete the channel",
            body="",
            labels=("syncd",),
            assignees=("rdunne-old",),
        )
    )

    assert issue.assignees == ()
    assert github_rig.creates() == 2
    assert len(github_rig.stored()) == 1
    assert tracker.can_assign("rdunne-old") is False


def test_silently_dropped_assignee_is_reported(github_rig, tmp_path):
    github_rig.fake.drop_invalid_assignees = True
    stale = github_rig.tracker(state_dir=tmp_path)
    stale.cache.put_fact("assignable rdunne-old", True)
    stale.close_session()
    tracker = github_rig.tracker(state_dir=tmp_path)

    issue = tracker.create(
        IssueDraft(
            title="Delete the channel",
            body="",
            labels=("syncd",),
            assignees=("rdunne-old",),
        )
    )

    assert issue.assignees == ()
    assert any("dropped" in warning for warning in tracker.warnings)


def test_dropped_assignee_is_a_warning_of_the_sync(request, tmp_path):
    bench = make_bench(request, "github", tmp_path)
    bench.fake.token_can_assign = False
    write_minutes(
        bench.minutes, "ops", "2024-05-02", "RD: Delete the calendar-announce channel."
    )

    run = bench.sync()

    [issue] = bench.issues()
    assert issue.assignees == []
    [warning] = run.outcome.warnings()
    assert "GitHub dropped assignees ['rdunne']" in warning
    assert run.outcome.result.summary()["warnings"] == 1


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_unassignable_owner_is_not_retried_every_run(request, tmp_path, kind):
    people = [dict(PEOPLE[0], github="rdunne-old", gitlab="rdunne-old"), PEOPLE[1]]
    bench = make_bench(request, kind, tmp_path, people=people)
    write_minutes(
        bench.minutes, "ops", "2024-05-02", "RD: Delete the calendar-announce channel."
    )

    first = bench.sync()
    second = bench.sync()

    issues = bench.issues()
    assert len(issues) == 1
    assert issues[0].assignees == []
    assert "rdunne-old" in bench.body_of(issues[0]) or "Rhea Dunne" in bench.body_of(
        issues[0]
    )
    assert "rdunne-old" in str(first.outcome.to_json())
    assert marker_key(bench.body_of(issues[0]))
    assert not [entry for entry in second.requests if entry[0] != "GET"]


def test_listed_pull_request_is_never_written(github_rig):
    number = github_rig.seed("Delete the channel", labels=("syncd",), pull_request=True)
    tracker = github_rig.tracker()
    tracker.list_managed("syncd")

    for write in (
        lambda: tracker.update(number, IssueUpdate(title="Taken over")),
        lambda: tracker.close(number, CloseReason.COMPLETED),
        lambda: tracker.comment(number, "Closed."),
    ):
        with pytest.raises(IssueNotFoundError):
            write()

    assert [method for method, _, _ in github_rig.fake.request_log()] == ["GET"]


def test_rejected_assignee_keeps_the_valid_ones(github_rig, tmp_path):
    stale = github_rig.tracker(state_dir=tmp_path)
    stale.cache.put_fact("assignable rdunne-old", True)
    stale.close_session()
    tracker = github_rig.tracker(state_dir=tmp_path)

    issue = tracker.create(
        IssueDraft(
            title="Two owners",
            body="",
            labels=("syncd",),
            assignees=("kmoller", "rdunne-old"),
        )
    )

    assert issue.assignees == ("kmoller",)
    assert github_rig.creates() == 2
    assert tracker.can_assign("kmoller") is True
    assert github_rig.tracker(state_dir=tmp_path).can_assign("rdunne-old") is False
