"""How both adapters read each failure a GitHub or GitLab server can send.

Each test arms one failure on the fake, drives the real client over HTTP and
checks the syncd error type, the number of requests sent (nothing is retried
twice) and what the server stored.
"""

from __future__ import annotations

import time

import pytest

from syncd.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    IssueMovedError,
    IssueNotFoundError,
    RateLimitedError,
    TargetUnavailableError,
    TransientTrackerError,
    ValidationFailedError,
)
from syncd.tracker import IssueDraft, IssueUpdate
from tests.fakes.github_fake import SECONDARY_LIMIT_MESSAGE


def wait_for(condition, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


DRAFT = IssueDraft(
    title="Rotate the backup key",
    body="<!-- syncd:v1 e30= -->\nBody.",
    labels=("syncd",),
)


# Server errors, timeouts, dropped connections.


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_error_on_read_is_retried(rig, status):
    rig.seed("Existing", labels=("syncd",))
    rig.fake.inject(
        "GET", rig.list_path(), status=status, body={"message": "Server Error"}, times=2
    )
    tracker = rig.tracker()

    issues = tracker.list_managed("syncd")

    assert [issue.title for issue in issues] == ["Existing"]
    assert rig.fake.count("GET", rig.list_path()) == 3
    assert len(rig.clock.sleeps) == 2


def test_server_errors_exhaust_attempts(rig):
    rig.fake.inject(
        "GET", rig.list_path(), status=502, body={"message": "Server Error"}, times=None
    )
    tracker = rig.tracker(max_attempts="3")

    with pytest.raises(TransientTrackerError) as caught:
        tracker.list_managed("syncd")

    assert caught.value.status == 502
    assert not isinstance(caught.value, AmbiguousWriteError)
    assert rig.fake.count("GET", rig.list_path()) == 3


def test_server_error_after_create_is_not_resent(rig):
    rig.fake.inject(
        "POST",
        rig.create_path(),
        status=502,
        body={"message": "Server Error"},
        after_commit=True,
    )
    tracker = rig.tracker()

    with pytest.raises(AmbiguousWriteError):
        tracker.create(DRAFT)

    assert rig.creates() == 1
    assert len(rig.stored()) == 1


def test_dropped_connection_after_create_is_ambiguous(rig):
    rig.fake.inject("POST", rig.create_path(), drop=True, after_commit=True)
    tracker = rig.tracker()

    with pytest.raises(AmbiguousWriteError):
        tracker.create(DRAFT)

    assert rig.creates() == 1
    assert len(rig.stored()) == 1


def test_dropped_comment_is_not_resent(rig):
    number = rig.seed("Existing", labels=("syncd",))
    rig.fake.inject("POST", rig.comments_path(number), drop=True, after_commit=True)
    tracker = rig.tracker()

    with pytest.raises(AmbiguousWriteError):
        tracker.comment(number, "Closed per the meeting of 9 May.")

    assert rig.fake.count("POST", rig.comments_path(number)) == 1


def test_dropped_connection_on_update_is_retried(rig):
    number = rig.seed("Old title", labels=("syncd",))
    rig.fake.inject(
        "PATCH" if rig.kind == "github" else "PUT", rig.issue_path(number), drop=True
    )
    tracker = rig.tracker()

    updated = tracker.update(number, IssueUpdate(title="New title"))

    assert updated.title == "New title"


def test_slow_read_times_out_then_succeeds(rig):
    rig.seed("Existing", labels=("syncd",))
    rig.fake.inject("GET", rig.list_path(), delay=1.4)
    tracker = rig.tracker(timeout="1")

    issues = tracker.list_managed("syncd")

    assert len(issues) == 1
    # The slow request is logged when the fake finishes it, after the retry.
    assert wait_for(lambda: rig.fake.count("GET", rig.list_path()) == 2)


def test_slow_create_is_ambiguous(rig):
    rig.fake.inject("POST", rig.create_path(), delay=1.4)
    tracker = rig.tracker(timeout="1")

    with pytest.raises(AmbiguousWriteError) as caught:
        tracker.create(DRAFT)

    assert "timed out" in str(caught.value)
    assert wait_for(lambda: rig.creates() == 1)
    assert wait_for(lambda: len(rig.stored()) == 1)


def test_malformed_json_on_read_is_retried(rig):
    rig.seed("Existing", labels=("syncd",))
    rig.fake.inject("GET", rig.list_path(), status=200, body=b"{broken")
    tracker = rig.tracker()

    assert len(tracker.list_managed("syncd")) == 1
    assert rig.fake.count("GET", rig.list_path()) == 2


def test_malformed_json_after_create_is_ambiguous(rig):
    rig.fake.inject(
        "POST", rig.create_path(), status=201, body=b"{broken", after_commit=True
    )
    tracker = rig.tracker()

    with pytest.raises(AmbiguousWriteError):
        tracker.create(DRAFT)

    assert len(rig.stored()) == 1


def test_html_error_page_is_transient(gitlab_rig):
    gitlab_rig.fake.inject(
        "GET",
        gitlab_rig.list_path(),
        status=200,
        body="<html>maintenance</html>",
        content_type="text/html",
    )
    tracker = gitlab_rig.tracker()

    assert tracker.list_managed("syncd") == []
    assert gitlab_rig.fake.count("GET", gitlab_rig.list_path()) == 2


def test_resource_lock_conflict_is_retried(gitlab_rig):
    gitlab_rig.fake.inject(
        "POST",
        gitlab_rig.create_path(),
        status=409,
        reason="Resource lock",
        body={"message": "409 Conflict: Resource lock"},
    )
    tracker = gitlab_rig.tracker()

    tracker.create(DRAFT)

    assert gitlab_rig.creates() == 2
    assert len(gitlab_rig.stored()) == 1


# Authentication and access.


def test_bad_token_is_authentication_error(rig):
    tracker = rig.tracker(token="not-a-valid-token")

    with pytest.raises(AuthenticationError) as caught:
        tracker.preflight()

    assert caught.value.target_wide
    assert rig.fake.count() == 1


def test_missing_project_is_target_unavailable(rig):
    options = (
        {"repo": "acme/missing"}
        if rig.kind == "github"
        else {"project": "acme/missing"}
    )
    tracker = rig.tracker(**options)

    with pytest.raises(TargetUnavailableError) as caught:
        tracker.preflight()

    assert "not found or the token lacks access" in str(caught.value)
    assert rig.fake.count() == 1


def test_missing_issue_is_issue_not_found(rig):
    tracker = rig.tracker()

    with pytest.raises(IssueNotFoundError) as caught:
        tracker.get(4242)

    assert caught.value.ref == f"{rig.project}#4242"
    assert not caught.value.target_wide


# Validation.


def test_rejected_field_names_the_field(rig):
    rig.fake.inject(
        "POST",
        rig.create_path(),
        status=422 if rig.kind == "github" else 400,
        body=(
            {
                "message": "Validation Failed",
                "errors": [
                    {"resource": "Issue", "field": "milestone", "code": "invalid"}
                ],
            }
            if rig.kind == "github"
            else {"message": {"milestone": ["is invalid"]}}
        ),
    )
    tracker = rig.tracker()

    with pytest.raises(ValidationFailedError) as caught:
        tracker.create(DRAFT)

    assert caught.value.field == "milestone"
    assert rig.creates() == 1


def test_long_title_and_body_fit_limits(rig):
    tracker = rig.tracker()
    marker = "<!-- syncd:v1 eyJrZXkiOiJrIn0= -->"
    draft = IssueDraft(
        title="T" * 400, body=marker + "x" * 2_000_000, labels=("syncd",)
    )

    issue = tracker.create(draft)

    assert len(issue.title) == tracker.limits.title
    assert len(issue.body) == tracker.limits.body
    assert issue.body.startswith(marker)
    assert "Truncated by syncd" in issue.body


# Rate limits.


def test_primary_limit_waits_for_reset(github_rig):
    github_rig.fake.exhaust_rate_limit(reset_in=30)
    tracker = github_rig.tracker()

    tracker.preflight()

    assert github_rig.fake.count("GET", r"/repos/acme/ops", 403) == 1
    assert github_rig.fake.count("GET", r"/repos/acme/ops", 200) == 1
    assert 30 <= sum(github_rig.clock.sleeps) <= 32


def test_long_primary_limit_stops_the_target(github_rig):
    github_rig.fake.exhaust_rate_limit(reset_in=3600)
    tracker = github_rig.tracker(max_rate_limit_wait="60")

    with pytest.raises(RateLimitedError) as caught:
        tracker.preflight()
    with pytest.raises(RateLimitedError):
        tracker.list_managed("syncd")

    assert caught.value.reset_at == pytest.approx(github_rig.clock.now + 3600, abs=2)
    assert github_rig.fake.count() == 1
    assert github_rig.clock.sleeps == []


def test_rate_limit_429_with_retry_after(rig):
    headers = {"Retry-After": "7"}
    rig.fake.inject(
        "GET",
        rig.list_path(),
        status=429,
        body={"message": "Too Many Requests"},
        headers=headers,
    )
    tracker = rig.tracker()

    tracker.list_managed("syncd")

    assert rig.clock.sleeps == [7.0]
    assert rig.fake.count("GET", rig.list_path()) == 2


def test_gitlab_throttle_honours_retry_after(gitlab_rig):
    gitlab_rig.fake.throttle(retry_after=20)
    tracker = gitlab_rig.tracker()

    tracker.preflight()

    assert gitlab_rig.clock.sleeps == [20.0]


def test_secondary_limit_without_retry_after_waits_a_minute(github_rig):
    github_rig.fake.inject(
        "POST",
        github_rig.create_path(),
        status=403,
        body={"message": SECONDARY_LIMIT_MESSAGE},
    )
    tracker = github_rig.tracker()

    tracker.create(DRAFT)

    assert github_rig.clock.sleeps == [60.0]
    assert len(github_rig.stored()) == 1


def test_forbidden_without_rate_limit_is_not_retried(github_rig):
    github_rig.fake.repo("acme/ops").issues_writable = False
    tracker = github_rig.tracker()

    with pytest.raises(TargetUnavailableError) as caught:
        tracker.create(DRAFT)

    assert "Issues read and write" in caught.value.hint
    assert github_rig.creates() == 1
    assert github_rig.clock.sleeps == []


# Pagination.


def test_every_page_is_read(rig):
    for index in range(7):
        rig.seed(f"Item {index}", labels=("syncd",))
    rig.seed("Unmanaged")
    rig.fake.max_per_page = 2
    tracker = rig.tracker()

    issues = tracker.list_managed("syncd")

    assert sorted(issue.title for issue in issues) == [
        f"Item {index}" for index in range(7)
    ]
    assert rig.fake.count("GET", rig.list_path()) == 4


def test_next_link_to_another_host_is_rejected(rig):
    # 127.0.0.1 and localhost are different hosts to both clients.
    link = f'<http://localhost:1{rig.list_path()}?page=2>; rel="next"'
    rig.fake.inject(
        "GET", rig.list_path(), status=200, body=[{"number": 1}], headers={"Link": link}
    )
    tracker = rig.tracker()

    with pytest.raises(TargetUnavailableError) as caught:
        tracker.list_managed("syncd")

    assert "outside" in str(caught.value)
    assert rig.fake.count() == 1


# Truncated bodies and redirected writes.


def test_truncated_list_body_is_retried(rig):
    rig.seed("Existing", labels=("syncd",))
    rig.fake.inject("GET", rig.list_path(), truncate=True)
    tracker = rig.tracker()

    assert len(tracker.list_managed("syncd")) == 1
    assert rig.fake.count("GET", rig.list_path()) == 2


def test_truncated_create_body_is_ambiguous(rig):
    rig.fake.inject("POST", rig.create_path(), truncate=True)
    tracker = rig.tracker()

    with pytest.raises(AmbiguousWriteError):
        tracker.create(DRAFT)

    assert rig.creates() == 1
    assert len(rig.stored()) == 1


def test_gitlab_redirected_write_is_moved(gitlab_rig):
    number = gitlab_rig.seed("Old home", labels=("syncd",))
    location = f"{gitlab_rig.fake.url}/projects/acme%2Farchive/issues/1"
    gitlab_rig.fake.inject(
        "PUT",
        gitlab_rig.issue_path(number),
        status=301,
        body={"message": "301 Moved Permanently"},
        headers={"Location": location},
    )
    tracker = gitlab_rig.tracker()

    with pytest.raises(IssueMovedError) as caught:
        tracker.update(number, IssueUpdate(title="New title"))

    assert caught.value.ref == f"acme/infra#{number}"
