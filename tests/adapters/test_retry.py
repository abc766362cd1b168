"""The retry and pacing layer on its own, on a simulated clock."""

from __future__ import annotations

import pytest
from syncd_adapters._retry import (
    RequestRunner,
    RetryPolicy,
    WritePacer,
    pacing_from_options,
    validate_retry_options,
)

from syncd.errors import (
    AmbiguousWriteError,
    IssueNotFoundError,
    RateLimitedError,
    TransientTrackerError,
)
from syncd.settings import PacingSettings
from tests.adapters.rigs import SimClock


NO_PACING = PacingSettings(0, None, None)


def make_runner(
    clock: SimClock, *, pacing: PacingSettings = NO_PACING, **policy
) -> RequestRunner:
    pacer = WritePacer(pacing, clock=clock.time, sleep=clock.sleep)
    return RequestRunner(
        RetryPolicy(**policy), pacer, clock=clock.time, sleep=clock.sleep, target="t"
    )


class Script:
    """An operation that raises the given errors in turn, then returns "done"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def test_transient_errors_back_off_with_jitter():
    clock = SimClock()
    runner = make_runner(clock, backoff_initial=0.5, backoff_max=8.0, jitter=0.5)
    operation = Script(TransientTrackerError("502"), TransientTrackerError("502"))

    assert runner.run(operation, write=False, description="GET x") == "done"

    assert operation.calls == 3
    assert len(clock.sleeps) == 2
    assert 0.5 <= clock.sleeps[0] <= 1.0
    assert 1.0 <= clock.sleeps[1] <= 1.5


def test_attempts_are_bounded():
    clock = SimClock()
    runner = make_runner(clock, max_attempts=3)
    operation = Script(*[TransientTrackerError("503")] * 5)

    with pytest.raises(TransientTrackerError):
        runner.run(operation, write=False, description="GET x")

    assert operation.calls == 3


def test_ambiguous_write_is_never_retried():
    clock = SimClock()
    runner = make_runner(clock)
    operation = Script(AmbiguousWriteError("lost response"))

    with pytest.raises(AmbiguousWriteError):
        runner.run(operation, write=True, description="POST issues")

    assert operation.calls == 1
    assert clock.sleeps == []


def test_permanent_errors_are_not_retried():
    clock = SimClock()
    runner = make_runner(clock)
    operation = Script(IssueNotFoundError("gone"))

    with pytest.raises(IssueNotFoundError):
        runner.run(operation, write=False, description="GET issue")

    assert operation.calls == 1


def test_retry_after_is_honoured():
    clock = SimClock()
    runner = make_runner(clock)
    operation = Script(RateLimitedError("slow down", retry_after=42))

    runner.run(operation, write=True, description="POST issues")

    assert clock.sleeps == [42]


def test_reset_time_is_honoured():
    clock = SimClock()
    runner = make_runner(clock)
    operation = Script(RateLimitedError("primary", reset_at=clock.now + 30))

    runner.run(operation, write=False, description="GET x")

    assert clock.sleeps == [31.0]


def test_long_limit_blocks_later_calls():
    clock = SimClock()
    runner = make_runner(clock, max_rate_limit_wait=60)
    operation = Script(RateLimitedError("primary", reset_at=clock.now + 900))
    later = Script()

    with pytest.raises(RateLimitedError):
        runner.run(operation, write=False, description="GET x")
    with pytest.raises(RateLimitedError) as caught:
        runner.run(later, write=False, description="GET y")

    assert later.calls == 0
    assert caught.value.reset_at == pytest.approx(clock.now + 901)
    clock.advance(902)
    assert runner.run(later, write=False, description="GET y") == "done"


def test_wait_budget_ends_waiting():
    clock = SimClock()
    runner = make_runner(clock, wait_budget=100, max_rate_limit_wait=90)
    operation = Script(
        RateLimitedError("slow", retry_after=60),
        RateLimitedError("slow", retry_after=60),
    )

    with pytest.raises(RateLimitedError):
        runner.run(operation, write=True, description="POST issues")

    assert clock.sleeps == [60]
    assert runner.waited == 60


def test_pacer_spaces_writes():
    clock = SimClock()
    pacer = WritePacer(
        PacingSettings(1.0, None, None), clock=clock.time, sleep=clock.sleep
    )

    for _ in range(3):
        pacer.wait_turn()

    assert clock.sleeps == [1.0, 1.0]


def test_pacer_keeps_per_minute_cap():
    clock = SimClock()
    pacer = WritePacer(
        PacingSettings(0.0, 3, None), clock=clock.time, sleep=clock.sleep
    )

    for _ in range(4):
        pacer.wait_turn()

    assert clock.sleeps == [60.0]


def test_pacer_keeps_per_hour_cap():
    clock = SimClock()
    pacer = WritePacer(
        PacingSettings(0.0, None, 2), clock=clock.time, sleep=clock.sleep
    )

    for _ in range(3):
        pacer.wait_turn()

    assert clock.sleeps == [3600.0]


def test_reads_are_not_paced():
    clock = SimClock()
    runner = make_runner(clock, pacing=PacingSettings(5.0, None, None))

    for _ in range(3):
        runner.run(Script(), write=False, description="GET x")

    assert clock.sleeps == []


def test_pacing_options_override_settings():
    pacing = pacing_from_options(
        {
            "min_write_interval": "0.5",
            "writes_per_minute": "none",
            "writes_per_hour": "100",
        },
        PacingSettings(),
    )

    assert pacing == PacingSettings(
        min_write_interval=0.5, writes_per_minute=None, writes_per_hour=100
    )


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"max_attempts": "0"}, "max_attempts"),
        ({"max_attempts": "two"}, "max_attempts"),
        ({"timeout": "-1"}, "timeout"),
        ({"writes_per_minute": "1.5"}, "writes_per_minute"),
        ({"wait_budget": True}, "wait_budget"),
    ],
)
def test_invalid_retry_options_are_reported(options, key):
    problems = validate_retry_options(options)

    assert [problem_key for problem_key, _ in problems] == [key]
