"""Conditional requests: stored ETags make a sync with nothing new cost only 304s."""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.settings import TargetSettings
from syncd.tracker import CloseReason, IssueDraft, IssueUpdate
from tests.adapters.rigs import RIGS
from tests.fakes import github_fake, runs
from tests.fakes.runs import sync_example


def test_second_list_is_not_modified(rig, tmp_path):
    rig.seed("One", labels=("syncd",))
    tracker = rig.tracker(state_dir=tmp_path)

    first = tracker.list_managed("syncd")
    second = tracker.list_managed("syncd")

    assert first == second
    assert rig.fake.count("GET", rig.list_path(), 200) == 1
    assert rig.fake.count("GET", rig.list_path(), 304) == 1
    assert tracker.stats.not_modified == 1


def test_changed_issue_is_read_again(rig, tmp_path):
    number = rig.seed("One", labels=("syncd",))
    tracker = rig.tracker(state_dir=tmp_path)
    tracker.list_managed("syncd")

    rig.tracker().update(number, IssueUpdate(title="One, reworded"))
    issues = tracker.list_managed("syncd")

    assert [issue.title for issue in issues] == ["One, reworded"]
    assert rig.fake.count("GET", rig.list_path(), 200) == 2


def test_every_page_is_revalidated(rig, tmp_path):
    for index in range(5):
        rig.seed(f"Item {index}", labels=("syncd",))
    rig.fake.max_per_page = 2
    rig.tracker(state_dir=tmp_path).list_managed("syncd")
    rig.fake.reset_log()

    issues = rig.tracker(state_dir=tmp_path).list_managed("syncd")

    assert len(issues) == 5
    assert (
        rig.fake.request_log() == [("GET", rig.list_path().replace("\\", ""), 304)] * 3
    )


def test_stored_etags_survive_restart(rig, tmp_path):
    rig.seed("One", labels=("syncd",))
    first = rig.tracker(state_dir=tmp_path)
    first.list_managed("syncd")
    first.close_session()

    second = rig.tracker(state_dir=tmp_path)
    second.list_managed("syncd")

    assert rig.fake.count("GET", rig.list_path(), 304) == 1


def test_not_modified_costs_no_rate_limit(github_rig, tmp_path):
    github_rig.seed("One", labels=("syncd",))
    tracker = github_rig.tracker(state_dir=tmp_path)
    tracker.list_managed("syncd")
    remaining = tracker.stats.rate_limit_remaining

    tracker.list_managed("syncd")

    assert tracker.stats.rate_limit_remaining == remaining


def test_dry_run_tracker_writes_no_files(rig, tmp_path):
    options = dict(rig.tracker().options)
    target = TargetSettings(name="main", kind=rig.kind, options=options)
    state_dir = tmp_path / "state"
    environ_key = options["token_env"]

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(environ_key, rig.token)
        tracker = type(rig.tracker()).from_settings(
            target, state_dir=state_dir, read_only=True
        )
        tracker.list_managed("syncd")
        tracker.close_session()

    assert not state_dir.exists()


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_noop_second_sync_costs_only_304s(kind, tmp_path):
    first, second = sync_example(kind, tmp_path, runs=2)

    assert first.outcome.exit_code() == 0
    assert first.statuses[201] >= 3
    assert second.outcome.exit_code() == 0
    assert second.requests
    assert set(second.statuses) == {304}


def test_closer_is_read_once_per_close(github_rig, tmp_path):
    # Closed through a tracker with another cache, as by a person on the web.
    other = github_rig.tracker()
    issue = other.create(IssueDraft(title="Done soon", body="", labels=("syncd",)))
    other.close(issue.number, CloseReason.COMPLETED)
    single = rf"/repos/acme/ops/issues/{issue.number}"
    tracker = github_rig.tracker(state_dir=tmp_path)

    first = tracker.list_managed("syncd")
    second = github_rig.tracker(state_dir=tmp_path).list_managed("syncd")

    assert first[0].closed_by == github_fake.DEFAULT_LOGIN
    assert second[0].closed_by == github_fake.DEFAULT_LOGIN
    assert github_rig.fake.count("GET", single) == 1


def test_own_close_needs_no_closer_read(github_rig, tmp_path):
    tracker = github_rig.tracker(state_dir=tmp_path)
    issue = tracker.create(IssueDraft(title="Done soon", body="", labels=("syncd",)))
    tracker.list_managed("syncd")
    tracker.close(issue.number, CloseReason.COMPLETED)
    tracker.close_session()
    single = rf"/repos/acme/ops/issues/{issue.number}"

    listed = github_rig.tracker(state_dir=tmp_path).list_managed("syncd")

    assert listed[0].closed_by == github_fake.DEFAULT_LOGIN
    assert github_rig.fake.count("GET", single) == 0


def sync_a_close(kind: str, tmp_path):
    """Sync two items, close one by dropping it, then sync once more.

    Returns the closing run, the quiet run after it and the issues.
    """

    from tests.adapters.test_field_cases import SyncBench, write_minutes

    bench = SyncBench(kind, tmp_path)
    try:
        write_minutes(
            bench.minutes,
            "ops",
            "2024-05-02",
            "RD: Book the room.",
            "KM: Send the agenda.",
        )
        bench.sync()
        write_minutes(bench.minutes, "ops", "2024-05-09", "KM: Send the agenda.")
        closing = bench.sync()
        quiet = bench.sync()
        return closing, quiet, bench.issues()
    finally:
        bench.close()


def test_sync_close_needs_no_closer_read(tmp_path):
    closing, quiet, issues = sync_a_close("github", tmp_path)

    closed = [issue for issue in issues if issue.state == "closed"]
    assert len(closed) == 1
    single = f"/repos/acme/ops/issues/{closed[0].number}"
    assert [entry for entry in closing.requests if entry[:2] == ("GET", single)] == []
    assert [entry for entry in quiet.requests if entry[:2] == ("GET", single)] == []


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_noop_after_closing_run_costs_only_304s(kind, tmp_path):
    closing, quiet, _issues = sync_a_close(kind, tmp_path)

    assert closing.outcome.to_json()["summary"]["close"] == 1
    assert set(quiet.statuses) == {304}


@pytest.mark.parametrize("kind", ["github", "gitlab"])
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    managed=st.integers(min_value=0, max_value=8),
    unmanaged=st.integers(min_value=0, max_value=3),
    page_size=st.integers(min_value=1, max_value=4),
    closed_every=st.integers(min_value=1, max_value=4),
)
def test_listing_is_complete_for_any_paging(
    kind, tmp_path_factory, managed, unmanaged, page_size, closed_every
):
    rig = RIGS[kind](tmp_path_factory.mktemp("rig"))
    try:
        for index in range(managed):
            state = "closed" if index % closed_every == 0 else "open"
            rig.seed(f"Managed {index}", labels=("syncd",), state=state)
        for index in range(unmanaged):
            rig.seed(f"Other {index}", labels=("other",))
        rig.fake.max_per_page = page_size
        state_dir = rig.tmp_path / "cache"

        first = rig.tracker(state_dir=state_dir, per_page=str(page_size))
        listed = first.list_managed("syncd")
        first.close_session()
        again = rig.tracker(state_dir=state_dir, per_page=str(page_size))
        relisted = again.list_managed("syncd")

        expected = sorted(
            item.number for item in rig.stored() if "syncd" in item.labels
        )
        assert sorted(issue.number for issue in listed) == expected
        assert relisted == listed
        assert again.stats.not_modified == max(1, -(-managed // page_size))
        assert again.stats.total == again.stats.not_modified
    finally:
        rig.close()


def write_many_items(bench, count: int) -> None:
    from tests.adapters.test_field_cases import write_minutes

    lines = [f"RD: Review chapter {index} of the handbook." for index in range(count)]
    write_minutes(bench.minutes, "ops", "2024-05-02", *lines)


def list_reads(bench) -> list[tuple[int, int]]:
    """Return (page, status) of each read of the issue list in the last sync."""

    reads = []
    for entry in bench.fake.requests:
        if entry.method == "GET" and entry.path == bench.create_path:
            query = urllib.parse.parse_qs(entry.query)
            reads.append((int(query.get("page", ["1"])[0]), entry.status))
    return reads


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_first_sync_overhead_is_constant(kind, tmp_path):
    from tests.adapters.test_field_cases import SyncBench

    overheads = {}
    for count in (30, 250):
        folder = tmp_path / f"items-{count}"
        folder.mkdir()
        bench = SyncBench(kind, folder)
        try:
            write_many_items(bench, count)
            first = bench.sync()
        finally:
            bench.close()
        creates = first.by_endpoint.get(f"POST {runs.endpoint_of(bench.create_path)} 201")
        assert creates == count
        overheads[count] = len(first.requests) - creates

    assert overheads[250] == overheads[30]


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_later_pages_read_once_after_big_sync(kind, tmp_path):
    from tests.adapters.test_field_cases import SyncBench

    bench = SyncBench(kind, tmp_path)
    try:
        write_many_items(bench, 250)
        bench.sync()
        second = bench.sync()
        second_lists = list_reads(bench)
        third = bench.sync()
        third_lists = list_reads(bench)
    finally:
        bench.close()

    assert second_lists == [(1, 304), (2, 200), (3, 200)]
    others = [entry for entry in second.requests if entry[1] != bench.create_path]
    assert {status for _, _, status in others} == {304}
    assert len(third_lists) <= 3
    assert set(third.statuses) == {304}


def reads_by_path(bench) -> dict[str, int]:
    """Return how many GET requests the last sync sent to each path (issue list by page)."""

    counts: dict[str, int] = {}
    for entry in bench.fake.requests:
        if entry.method != "GET":
            continue
        key = entry.path
        if entry.path == bench.create_path:
            page = urllib.parse.parse_qs(entry.query).get("page", ["1"])[0]
            key = f"{entry.path} page {page}"
        counts[key] = counts.get(key, 0) + 1
    return counts


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_refresh_repeats_only_reads_the_writes_changed(kind, tmp_path):
    from tests.adapters.test_field_cases import SyncBench, write_minutes

    bench = SyncBench(kind, tmp_path)
    lines = [f"RD: Review chapter {index} of the handbook." for index in range(150)]
    repository = "/repos/acme/ops" if kind == "github" else "/projects/acme%2Finfra"
    first_page = f"{bench.create_path} page 1"
    try:
        write_minutes(bench.minutes, "ops", "2024-05-02", *lines)
        for _ in range(3):
            bench.sync()

        # The oldest issue sits on the second page of the newest-first list:
        # an edit there changes neither the first page nor the repository.
        lines[0] = "RD: Review chapter 0 of the handbook again."
        write_minutes(bench.minutes, "ops", "2024-05-02", *lines)
        edited = bench.sync()
        edited_reads = reads_by_path(bench)

        # A newer issue sits on the first page, and a close changes the
        # repository's open issue count.
        lines[149] = "RD: Review chapter 149 of the handbook again."
        write_minutes(bench.minutes, "ops", "2024-05-02", *lines[1:])
        changed = bench.sync()
        changed_reads = reads_by_path(bench)
    finally:
        bench.close()

    assert edited.outcome.exit_code() == 0
    assert changed.outcome.exit_code() == 0
    assert edited_reads[first_page] == 1
    assert edited_reads[repository] == 1
    assert all(count == 1 for count in edited_reads.values()), edited_reads
    assert changed_reads[first_page] == 2
    assert changed_reads[repository] == 2
