"""A tracker wrapper that injects the faults real trackers produce.

``FaultInjectingTracker`` wraps any ``Tracker``. At seeded random it makes a
call fail the way an adapter reports a failing server: a 5xx, a 429 with
``Retry-After`` or a timeout. A write may also lose its connection after the
server committed it, which the caller sees as ``AmbiguousWriteError`` even
though the write happened. Every injected fault is counted by kind.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from syncd.errors import AmbiguousWriteError, RateLimitedError, TransientTrackerError
from syncd.tracker import (
    CloseReason,
    Comment,
    Issue,
    IssueDraft,
    IssueUpdate,
    Tracker,
    TrackerLimits,
)

FAULT_KINDS = ("5xx", "429", "timeout", "drop-after-commit")


@dataclass(frozen=True)
class FaultRates:
    """Probability per call of each fault; ``drop_after_commit`` applies to writes."""

    server_error: float = 0.03
    rate_limited: float = 0.03
    timeout: float = 0.03
    drop_after_commit: float = 0.05
    # Retry-After of an injected 429 in seconds, short so that runs stay quick.
    retry_after: float = 0.01


class FaultInjectingTracker(Tracker):
    """Forward every call to ``inner``, failing some of them on purpose.

    Set ``enabled`` to False for a clean run, for example the final sync after
    which the harness checks that nothing was lost or duplicated.
    """

    def __init__(
        self,
        inner: Tracker,
        rng: random.Random,
        rates: FaultRates,
        on_fault: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(inner.name)
        self.kind = inner.kind
        self.inner = inner
        self.stats = inner.stats
        self.rng = rng
        self.rates = rates
        self.enabled = True
        self.injected: Counter[str] = Counter()
        self._on_fault = on_fault

    @property
    def limits(self) -> TrackerLimits:
        return self.inner.limits

    def _count(self, kind: str) -> None:
        self.injected[kind] += 1
        if self._on_fault is not None:
            self._on_fault(kind)

    def _before(self, operation: str) -> None:
        if not self.enabled:
            return
        roll = self.rng.random()
        rates = self.rates
        if roll < rates.server_error:
            self._count("5xx")
            raise TransientTrackerError(
                f"injected 502 Bad Gateway on {operation}", target=self.name, status=502
            )
        roll -= rates.server_error
        if roll < rates.rate_limited:
            self._count("429")
            raise RateLimitedError(
                f"injected 429 Too Many Requests on {operation}",
                retry_after=rates.retry_after,
                target=self.name,
                status=429,
            )
        roll -= rates.rate_limited
        if roll < rates.timeout:
            self._count("timeout")
            raise TransientTrackerError(f"injected timeout on {operation}", target=self.name)

    def _after_write(self, operation: str) -> None:
        if self.enabled and self.rng.random() < self.rates.drop_after_commit:
            self._count("drop-after-commit")
            raise AmbiguousWriteError(
                f"injected connection drop after {operation} was committed",
                target=self.name,
            )

    def _read(self, operation: str, *args):
        self._before(operation)
        return getattr(self.inner, operation)(*args)

    def _write(self, operation: str, *args):
        self._before(operation)
        result = getattr(self.inner, operation)(*args)
        self._after_write(operation)
        return result

    # Reads.

    def preflight(self) -> None:
        self._read("preflight")

    def list_managed(self, label: str) -> list[Issue]:
        return self._read("list_managed", label)

    def get(self, number: int) -> Issue:
        return self._read("get", number)

    def list_comments(self, number: int) -> list[Comment]:
        return self._read("list_comments", number)

    def missing_labels(self, names: list[str]) -> list[str]:
        return self._read("missing_labels", names)

    def missing_milestones(self, titles: list[str]) -> list[str]:
        return self._read("missing_milestones", titles)

    def can_assign(self, account: str) -> bool:
        return self._read("can_assign", account)

    def current_account(self) -> str:
        # Adapters look the account up once per session, so no fault is
        # injected here.
        return self.inner.current_account()

    # Writes.

    def create(self, draft: IssueDraft) -> Issue:
        return self._write("create", draft)

    def update(self, number: int, change: IssueUpdate) -> Issue:
        return self._write("update", number, change)

    def close(self, number: int, reason: CloseReason) -> Issue:
        return self._write("close", number, reason)

    def reopen(self, number: int) -> Issue:
        return self._write("reopen", number)

    def comment(self, number: int, body: str) -> Comment:
        return self._write("comment", number, body)

    def ensure_label(self, name: str, color: str, description: str = "") -> None:
        self._write("ensure_label", name, color, description)

    def ensure_milestone(self, title: str) -> None:
        self._write("ensure_milestone", title)

    def close_session(self) -> None:
        self.inner.close_session()

    def __getattr__(self, name: str):
        # Adapter extras (list_all, as_account) pass through unchanged.
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)
