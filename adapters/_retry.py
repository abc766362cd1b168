"""The one retry and pacing layer of the tracker adapters.

PyGithub and python-gitlab can both retry on their own. The adapters switch
that off (PyGithub ``retry=None``, python-gitlab ``obey_rate_limit=False`` and
``retry_transient_errors=False``), so this module alone decides whether a
request is sent again:

- reads and idempotent writes are retried after transient errors, with
  exponential backoff and jitter;
- a rate limit is waited out when the server gives the wait (``Retry-After``
  or a reset time) and the wait is within ``max_rate_limit_wait``; a longer
  limit raises RateLimitedError at once, and every later call raises it
  without a request until the limit resets, so the engine leaves the rest of
  the work for the next run;
- a create or a comment whose outcome is unknown (AmbiguousWriteError) is
  never sent again, because the server may have stored it.

Waiting goes through an injectable ``clock`` and ``sleep``, so tests run
without real sleeps.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import tenacity
from syncd_adapters._options import read_number

from syncd.errors import AmbiguousWriteError, RateLimitedError, TransientTrackerError
from syncd.settings import PacingSettings

log = logging.getLogger(__name__)

T = TypeVar("T")

# A secondary rate limit without Retry-After: GitHub documents waiting at
# least one minute.
DEFAULT_SECONDARY_WAIT = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long the adapters retry, in attempts and seconds."""

    max_attempts: int = 4
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    jitter: float = 0.5
    # The maximum single wait for a rate limit. A longer one ends the run.
    max_rate_limit_wait: float = 120.0
    # The total waiting one tracker may do in one run, retries and rate
    # limits together, so a timer job finishes before systemd stops it.
    wait_budget: float = 300.0

    @classmethod
    def from_options(cls, options: Mapping) -> RetryPolicy:
        """Return the policy with the values the target's options give."""

        default = cls()
        return cls(
            max_attempts=read_number(
                options, "max_attempts", default.max_attempts, integer=True
            ),
            max_rate_limit_wait=read_number(
                options, "max_rate_limit_wait", default.max_rate_limit_wait
            ),
            wait_budget=read_number(options, "wait_budget", default.wait_budget),
        )


# Option name -> (whole numbers only, "none" allowed).
NUMBER_OPTIONS = {
    "max_attempts": (True, False),
    "max_rate_limit_wait": (False, False),
    "wait_budget": (False, False),
    "min_write_interval": (False, False),
    "writes_per_minute": (True, True),
    "writes_per_hour": (True, True),
    "timeout": (False, False),
}


def validate_retry_options(options: Mapping) -> list[tuple[str, str]]:
    problems = []
    for key, (integer, nullable) in NUMBER_OPTIONS.items():
        try:
            value = read_number(options, key, None, integer=integer, nullable=nullable)
        except ValueError as error:
            problems.append((key, str(error)))
            continue
        if key in ("max_attempts", "timeout") and value == 0:
            problems.append((key, "must be greater than 0"))
    return problems


def pacing_from_options(options: Mapping, default: PacingSettings) -> PacingSettings:
    """Return ``default`` with any pacing values the target's options override.

    A cap of 0 or ``none`` switches that cap off.
    """

    return PacingSettings(
        min_write_interval=read_number(
            options, "min_write_interval", default.min_write_interval
        ),
        writes_per_minute=read_number(
            options,
            "writes_per_minute",
            default.writes_per_minute,
            integer=True,
            nullable=True,
        ),
        writes_per_hour=read_number(
            options,
            "writes_per_hour",
            default.writes_per_hour,
            integer=True,
            nullable=True,
        ),
    )


class WritePacer:
    """Spaces writes ``min_write_interval`` apart within per-minute and per-hour caps."""

    def __init__(
        self,
        settings: PacingSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._sleep = sleep
        self._recent: collections.deque[float] = collections.deque()

    def wait_turn(self) -> float:
        """Sleep until the next write is allowed; return the seconds slept."""

        delay = self._delay_needed(self._clock())
        if delay > 0:
            log.debug("pacing writes: waiting %.2f s", delay)
            self._sleep(delay)
        self._recent.append(self._clock())
        return delay

    def _delay_needed(self, now: float) -> float:
        while self._recent and now - self._recent[0] >= 3600:
            self._recent.popleft()
        delay = 0.0
        if self._recent:
            delay = self._recent[-1] + self.settings.min_write_interval - now
        caps = (
            (self.settings.writes_per_minute, 60.0),
            (self.settings.writes_per_hour, 3600.0),
        )
        for cap, window in caps:
            if not cap:
                continue
            in_window = [stamp for stamp in self._recent if now - stamp < window]
            if len(in_window) >= cap:
                # The oldest write in the window must leave it first.
                delay = max(delay, in_window[-cap] + window - now)
        return max(delay, 0.0)


class RequestRunner:
    """Runs one tracker call, with pacing for writes and retries by the policy."""

    def __init__(
        self,
        policy: RetryPolicy,
        pacer: WritePacer,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        target: str = "",
    ) -> None:
        self.policy = policy
        self.pacer = pacer
        self.clock = clock
        self.sleep = sleep
        self.target = target
        self.waited = 0.0
        self.retries = 0
        # Unix time before which every call fails fast: a rate limit longer
        # than the policy allows was seen.
        self.blocked_until: float | None = None
        self._blocking_error: RateLimitedError | None = None

    def run(self, operation: Callable[[], T], *, write: bool, description: str) -> T:
        """Call ``operation`` until it succeeds or the policy gives up.

        ``operation`` must raise only syncd.errors types. A create or comment
        marks an unknown outcome with AmbiguousWriteError, which is raised at
        once.
        """

        def attempt() -> T:
            self._fail_if_blocked()
            if write:
                self.pacer.wait_turn()
            return operation()

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(self._should_retry),
            wait=self._wait_seconds,
            stop=tenacity.stop_after_attempt(self.policy.max_attempts),
            sleep=self._sleep_and_count,
            before_sleep=lambda state: self._log_retry(state, description),
            reraise=True,
        )
        return retrying(attempt)

    def _fail_if_blocked(self) -> None:
        if self.blocked_until is None:
            return
        if self.clock() >= self.blocked_until:
            self.blocked_until = None
            self._blocking_error = None
            return
        error = self._blocking_error
        raise RateLimitedError(
            f"rate limited until {time.strftime('%H:%M:%S', time.gmtime(self.blocked_until))}"
            " UTC; the remaining work is left for the next run",
            reset_at=self.blocked_until,
            retry_after=error.retry_after if error else None,
            target=self.target,
            status=error.status if error else None,
        )

    def _rate_limit_wait(self, error: RateLimitedError) -> float:
        if error.retry_after is not None:
            return max(error.retry_after, 0.0)
        if error.reset_at is not None:
            # One second more, as GitHub's reset time is rounded down.
            return max(error.reset_at - self.clock() + 1.0, 0.0)
        return DEFAULT_SECONDARY_WAIT

    def _should_retry(self, error: BaseException) -> bool:
        if isinstance(error, AmbiguousWriteError):
            return False
        if isinstance(error, RateLimitedError):
            wait = self._rate_limit_wait(error)
            within_budget = self.waited + wait <= self.policy.wait_budget
            if wait <= self.policy.max_rate_limit_wait and within_budget:
                return True
            self.blocked_until = self.clock() + wait
            self._blocking_error = error
            log.warning(
                "target %s: rate limited for %.0f s, longer than allowed; "
                "stopping its requests for this run",
                self.target,
                wait,
            )
            return False
        if isinstance(error, TransientTrackerError):
            return self.waited + self.policy.backoff_max <= self.policy.wait_budget
        return False

    def _wait_seconds(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RateLimitedError):
            return self._rate_limit_wait(error)
        backoff = tenacity.wait_exponential_jitter(
            multiplier=self.policy.backoff_initial,
            max=self.policy.backoff_max,
            jitter=self.policy.jitter,
        )
        return backoff(state)

    def _sleep_and_count(self, seconds: float) -> None:
        self.waited += seconds
        self.retries += 1
        self.sleep(seconds)

    def _log_retry(self, state: tenacity.RetryCallState, description: str) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "target %s: %s failed (%s); retry %d in %.1f s",
            self.target,
            description,
            error,
            state.attempt_number,
            state.next_action.sleep if state.next_action else 0.0,
        )
