"""Checks of the harness's own parts: the generator, the fault wrapper, the checks.

The harness can only find duplicates and lost items if these parts work, so
each is shown to catch the fault it is meant to catch.
"""

from __future__ import annotations

import random

import pytest

from bench.checks import check_issues
from bench.core import fitted_exponent, n_log_n_exponent
from bench.faults import FaultInjectingTracker, FaultRates
from bench.generate import generate_series
from bench.report import BEGIN_MARKER, END_MARKER, update_document
from bench.core import Figure, Section
from syncd.errors import AmbiguousWriteError, TransientTrackerError
from syncd.tracker import Issue, IssueDraft, IssueState


def test_generator_is_deterministic():
    first = generate_series("unikraft", 120, seed=3)
    second = generate_series("unikraft", 120, seed=3)

    assert [f.text for f in first.files] == [f.text for f in second.files]
    assert first.distinct_items == 120


@pytest.mark.parametrize("dialect", ["unikraft", "checkbox"])
def test_generator_open_items_are_listed(dialect):
    series = generate_series(dialect, 200, seed=5)
    last = series.files[-1]

    assert last.open_items
    for _, text in last.open_items:
        # The checkbox dialect lowers the first letter after "to".
        assert text[1:] in last.text or dialect == "checkbox"


def test_unikraft_series_carries_items_forward():
    series = generate_series("unikraft", 200, seed=5, new_per_meeting=10)
    previous = {serial for serial, _ in series.files[3].open_items}
    current = {serial for serial, _ in series.files[4].open_items}

    assert previous & current
    assert current - previous


def _issue(number, text, state=IssueState.OPEN, body_prefix=""):
    return Issue(
        number=number,
        ref=f"t#{number}",
        url=f"http://127.0.0.1/t/{number}",
        title=text,
        body=f"{body_prefix}{text}",
        state=state,
    )


def test_checks_find_duplicates_and_losses():
    open_items = ((1, "Port the zalo queue."), (2, "Fix the morin flag."))
    issues = [
        _issue(10, "Port the zalo queue"),
        _issue(11, "Port the zalo queue", state=IssueState.CLOSED),
    ]

    outcome = check_issues(issues, open_items)

    assert outcome.duplicates == 1
    assert outcome.lost == 1


def test_checks_pass_one_issue_per_item():
    open_items = ((1, "Port the zalo queue."),)

    outcome = check_issues([_issue(10, "Port the zalo queue")], open_items)

    assert outcome.duplicates == 0
    assert outcome.lost == 0


class _Recorder:
    """A stand-in inner tracker: records creates, nothing else is needed here."""

    name = "t"
    kind = "local"

    def __init__(self):
        from syncd.tracker import RequestStats

        self.stats = RequestStats()
        self.created = []

    def create(self, draft):
        self.created.append(draft)
        return _issue(len(self.created), draft.title)

    def close_session(self):
        pass


def test_fault_wrapper_drops_after_commit():
    inner = _Recorder()
    rates = FaultRates(server_error=0, rate_limited=0, timeout=0, drop_after_commit=1.0)
    tracker = FaultInjectingTracker(inner, random.Random(1), rates)

    with pytest.raises(AmbiguousWriteError):
        tracker.create(IssueDraft(title="x", body="y"))

    assert len(inner.created) == 1
    assert tracker.injected["drop-after-commit"] == 1


def test_fault_wrapper_fails_before_sending():
    inner = _Recorder()
    rates = FaultRates(server_error=1.0, rate_limited=0, timeout=0, drop_after_commit=0)
    tracker = FaultInjectingTracker(inner, random.Random(1), rates)

    with pytest.raises(TransientTrackerError):
        tracker.create(IssueDraft(title="x", body="y"))

    assert inner.created == []
    assert tracker.injected["5xx"] == 1


def test_fault_wrapper_disabled_is_transparent():
    inner = _Recorder()
    tracker = FaultInjectingTracker(inner, random.Random(1), FaultRates(server_error=1.0))
    tracker.enabled = False

    tracker.create(IssueDraft(title="x", body="y"))

    assert len(inner.created) == 1
    assert not tracker.injected


def test_exponent_of_n_log_n_cost():
    sizes = [1_000, 10_000, 100_000]
    import math

    seconds = [size * math.log(size) * 1e-7 for size in sizes]

    assert fitted_exponent(sizes, seconds) == pytest.approx(n_log_n_exponent(1_000, 100_000))
    assert fitted_exponent(sizes, [size**2 for size in sizes]) == pytest.approx(2.0)


def test_report_keeps_other_sections(tmp_path):
    document = tmp_path / "benchmarks.md"
    document.write_text(f"# Intro\n\n{BEGIN_MARKER}\n{END_MARKER}\n\nOutro\n")
    first = Section("parse", "Parse", figures=[Figure("throughput", 30.0, "MB/s")])
    second = Section("plan", "Plan", not_measured="engine missing")

    update_document(document, [first, second], 1.0, ["parse", "plan"])
    update_document(document, [Section("plan", "Plan", figures=[Figure("t", 2.0, "s")])], 1.0, ["parse", "plan"])
    text = document.read_text()

    assert "throughput" in text
    assert "engine missing" not in text
    assert text.startswith("# Intro")
    assert text.rstrip().endswith("Outro")
    assert text.index("### Parse") < text.index("### Plan")
