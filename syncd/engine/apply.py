"""Apply a plan: make exactly its writes, journalled, one item's failure at a time.

Every tracker write is journalled in the state file: the intent before the
call and the result after it. A run killed between the two leaves an intent
without a result; before creating an issue for such an item again, the next
run looks for the item's marker among the managed issues, so a create that
reached the tracker is adopted rather than repeated. An AmbiguousWriteError
on create is handled the same way. An item whose create may still land is
created again only once ``Plan.unknown_create_wait`` seconds have passed
since that create started.

A TrackerError on one item is recorded and the run goes on; an error that
makes the whole target unusable stops that target only; a rate limit stops
writes to that target and leaves its remaining changes pending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from syncd.engine.changes import JSON_VERSION, Change, Plan
from syncd.engine.state import IssueRecord, StateStore
from syncd.errors import (
    AmbiguousWriteError,
    IssueLockedError,
    RateLimitedError,
    TrackerError,
)
from syncd.marker import marker_key
from syncd.messages import error_text
from syncd.settings import PacingSettings
from syncd.tracker import Issue

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    """The outcome of one change: applied, failed, pending, skipped or recovered."""

    change: Change
    status: str
    error: str | None = None
    ref: str | None = None
    # Why the comment that goes with an applied close or reopen was not
    # posted, or None. The close or reopen itself was applied and is not
    # sent again.
    warning: str | None = None
    # The error behind ``warning``. It is not part of the JSON.
    comment_error: TrackerError | None = field(default=None, repr=False)

    @property
    def comment_failed(self) -> bool:
        """Whether the comment failed on an error, not on a locked conversation."""

        return self.comment_error is not None and not isinstance(
            self.comment_error, IssueLockedError
        )

    def to_json(self) -> dict:
        data = self.change.to_json()
        if self.ref and not data["issue"]["ref"]:
            data["issue"]["ref"] = self.ref
        data["outcome"] = self.status
        if self.error:
            data["error"] = self.error
        if self.warning:
            data["warning"] = self.warning
        return data


@dataclass
class SyncResult:
    plan: Plan
    outcomes: list[Outcome] = field(default_factory=list)
    failed_targets: dict[str, str] = field(default_factory=dict)
    rate_limited: dict[str, float | None] = field(default_factory=dict)
    run_id: str | None = None

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def pending(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in ("pending", "skipped")]

    @property
    def warnings(self) -> list[Outcome]:
        """Applied changes with a warning: a comment not posted, or one from the tracker."""

        return [o for o in self.outcomes if o.warning]

    @property
    def partial(self) -> bool:
        """Whether part of the run failed: a change, a target, a file or a source.

        A comment that a locked conversation rejected is a warning only,
        because no later run can post it either. A comment that failed on
        another error makes the run partial although its close or reopen
        counts as applied. So does an item that a problem left without an
        issue, such as one whose issue was deleted on the tracker.
        """

        return bool(
            self.failures
            or self.pending
            or self.failed_targets
            or self.plan.partial
            or self.plan.items_without_issue
            or any(o.comment_failed for o in self.outcomes)
        )

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            if outcome.status in ("applied", "recovered"):
                counts[outcome.change.action] = counts.get(outcome.change.action, 0) + 1
        for action in ("create", "update", "close", "reopen", "comment"):
            counts.setdefault(action, 0)
        counts["unchanged"] = self.plan.unchanged
        counts["failed"] = len(self.failures)
        counts["pending"] = len(self.pending)
        counts["warnings"] = len(self.warnings)
        counts["conflict"] = len(self.plan.conflicts)
        counts["refused"] = len(self.plan.refused)
        return counts

    def to_json(self) -> dict:
        return {
            "version": JSON_VERSION,
            "changes": [outcome.to_json() for outcome in self.outcomes],
            "summary": self.summary(),
            "conflicts": list(self.plan.conflicts),
            "problems": list(self.plan.problems),
            "refused": list(self.plan.refused),
            "notes": list(self.plan.notes),
            "unchanged": list(self.plan.unchanged_issues),
            "failures": [outcome.to_json() for outcome in self.failures],
            "warnings": [outcome.to_json() for outcome in self.warnings],
            "failed_targets": {**self.plan.failed_targets, **self.failed_targets},
            "partial": self.partial,
        }


class _CreatePending(Exception):
    """A create whose outcome is unknown and whose issue the list does not show yet."""


class _TargetStopped(Exception):
    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


def apply_plan(
    plan: Plan,
    *,
    trackers: Mapping[str, object],
    state: StateStore,
    pacing: PacingSettings | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> SyncResult:
    """Run the writes of ``plan`` and store the new state; return what happened.

    ``should_stop`` is checked before each change: once it returns True the
    remaining changes stay pending for the next run, and the change in
    flight finishes first. ``on_outcome`` is called after each change, for a
    progress display. ``clock`` returns the current UTC time, against which
    the wait after a create with an unknown outcome is measured.

    ``pacing`` is accepted for callers that pass the configured settings and
    is not used here: each adapter paces its own writes to its tracker's
    limits (the embedded tracker needs none), so there is one layer only.
    """

    del pacing
    run_id = state.start_run()
    result = SyncResult(plan=plan, run_id=run_id)
    stopped: dict[str, _TargetStopped] = {}
    failed_keys: set[str] = set()
    recovery = _Recovery(
        state,
        trackers,
        plan.managed_label,
        wait=timedelta(seconds=plan.unknown_create_wait),
        clock=clock or _utc_now,
    )

    reported = 0
    for change in plan.changes:
        reported = _report_outcomes(result, reported, on_outcome)
        target = change.target
        if target not in stopped and should_stop is not None and should_stop():
            stopped[target] = _TargetStopped(
                "pending", "not started: syncd was asked to stop"
            )
        if target in stopped:
            result.outcomes.append(
                Outcome(change, stopped[target].status, error_text(stopped[target]))
            )
            continue
        if change.key is not None and change.key in failed_keys:
            result.outcomes.append(
                Outcome(change, "skipped", "an earlier change of this item failed")
            )
            continue
        tracker = trackers.get(target)
        if tracker is None:
            stopped[target] = _TargetStopped("skipped", f"target {target} is not open")
            result.failed_targets[target] = error_text(stopped[target])
            result.outcomes.append(
                Outcome(change, "skipped", error_text(stopped[target]))
            )
            continue
        # Warnings the tracker raises while applying this change (an
        # assignee it dropped, a name cut) belong to the change's outcome.
        warnings_before = len(tracker.warnings)
        try:
            outcome = _apply_change(change, tracker, state, run_id, recovery)
            raised = tracker.warnings[warnings_before:]
            if raised:
                outcome.warning = "; ".join(
                    ([outcome.warning] if outcome.warning else []) + raised
                )
        except _CreatePending as error:
            logger.warning(
                "target %s: create of %s is pending: %s", target, change.key, error
            )
            result.outcomes.append(Outcome(change, "pending", error_text(error)))
            if change.key is not None:
                failed_keys.add(change.key)
            continue
        except RateLimitedError as error:
            _stop_target(target, error, stopped, result)
            result.outcomes.append(Outcome(change, "pending", error_text(error)))
            continue
        except TrackerError as error:
            if error.target_wide:
                _stop_target(target, error, stopped, result)
            else:
                logger.error(
                    "%s %s failed: %s", change.action, change.ref or change.key, error
                )
            if change.key is not None:
                failed_keys.add(change.key)
            result.outcomes.append(Outcome(change, "failed", error_text(error)))
            continue
        result.outcomes.append(outcome)
        comment_error = outcome.comment_error
        if isinstance(comment_error, RateLimitedError) or (
            comment_error is not None and comment_error.target_wide
        ):
            # The change stays applied. Only the writes after it wait, as
            # they would after the same error on a main write.
            _stop_target(target, comment_error, stopped, result)
    reported = _report_outcomes(result, reported, on_outcome)

    _store_bookkeeping(plan, state, result, failed_keys, stopped)
    _settle_interrupted_writes(state, run_id, trackers, stopped, failed_keys)
    outcome_name = "partial" if result.partial else "ok"
    errors = [o.error for o in result.failures if o.error]
    state.finish_run(run_id, outcome_name, result.summary(), errors)
    return result


def _stop_target(
    target: str, error: TrackerError, stopped: dict, result: SyncResult
) -> None:
    """Stop the writes to ``target`` after a rate limit or a target-wide error."""

    if isinstance(error, RateLimitedError):
        stopped[target] = _TargetStopped("pending", f"rate limited: {error}")
        result.rate_limited[target] = error.retry_after
        logger.warning(
            "target %s: rate limited, %s; the remaining writes wait for the next run",
            target,
            error,
        )
    else:
        stopped[target] = _TargetStopped("skipped", f"target failed: {error}")
        result.failed_targets[target] = error_text(error)
        logger.error("target %s failed: %s", target, error)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _report_outcomes(result: SyncResult, reported: int, on_outcome) -> int:
    """Pass the outcomes added since the last call to ``on_outcome``; return the new count."""

    if on_outcome is not None:
        for outcome in result.outcomes[reported:]:
            on_outcome(outcome)
    return len(result.outcomes)


class _Recovery:
    """Finds issues that an interrupted or ambiguous create did make.

    A server may store a create after the client gave up on it, and a list
    may not show a new issue at once. So an item whose earlier create has an
    unknown outcome is created again only after ``wait`` has passed since
    that create started, and only if no issue with its marker shows up.
    """

    def __init__(
        self,
        state: StateStore,
        trackers,
        label: str,
        *,
        wait: timedelta,
        clock: Callable[[], datetime],
    ):
        self.state = state
        self.trackers = trackers
        self.label = label
        self.wait = wait
        self.clock = clock
        self.unfinished: dict[tuple[str, str], list[int]] = {}
        for entry in state.unfinished_journal():
            if entry.action == "create" and entry.key:
                self.unfinished.setdefault((entry.target, entry.key), []).append(
                    entry.id
                )
        self.newest_start = state.unknown_create_starts()

    def find(self, tracker, key: str) -> Issue | None:
        for issue in tracker.list_managed(self.label):
            if marker_key(issue.body) == key:
                return issue
        return None

    def check_wait(self, target: str, key: str) -> None:
        """Raise _CreatePending while the item's unknown create may still land."""

        started_text = self.newest_start.get((target, key))
        if not started_text:
            return
        try:
            started = datetime.fromisoformat(started_text)
        except ValueError:
            # A journal entry without a readable start cannot be timed, so
            # the wait counts from now, as if the create had just started.
            started = self.clock()
        deadline = started + self.wait
        if self.clock() < deadline:
            raise _CreatePending(
                f"a create started {started_text} had an unknown outcome and no issue"
                f" with the item's marker is listed yet; it is created again after"
                f" {deadline.isoformat(timespec='seconds')} if none shows up"
            )

    def settle(self, target: str, key: str, status: str) -> None:
        for entry_id in self.unfinished.pop((target, key), []):
            self.state.settle_journal(entry_id, status)


def _settle_interrupted_writes(
    state: StateStore, run_id: str, trackers, stopped, failed_keys: set[str]
) -> None:
    """Settle the writes that earlier, killed runs left without a result.

    This run planned from what the tracker holds now, so each such write is
    either visible there (the plan adopted the issue a create made) or was
    planned again. Entries of a target that failed or stopped in this run,
    and of items whose change failed, stay unfinished, so the next run still
    looks for the issue a create may have made.
    """

    for entry in state.unfinished_journal():
        if (
            entry.run_id == run_id
            or entry.target in stopped
            or entry.target not in trackers
        ):
            continue
        if entry.key is not None and entry.key in failed_keys:
            continue
        if entry.action == "create":
            record = state.issue_record(entry.key) if entry.key else None
            status = (
                "recovered"
                if record is not None and record.number is not None
                else "abandoned"
            )
        else:
            status = "superseded"
        state.settle_journal(entry.id, status)


def _apply_change(
    change: Change,
    tracker,
    state: StateStore,
    run_id: str,
    recovery: _Recovery,
) -> Outcome:
    if change.subject == "label":
        name, color, description = change.label
        entry = state.journal_intent(
            run_id, change.target, None, "ensure_label", {"label": name}
        )
        tracker.ensure_label(name, color, description)
        state.journal_result(entry, status="done")
        logger.info(
            "target %s: ensured label %s",
            change.target,
            name,
            extra={"target": change.target, "action": "ensure_label", "label": name},
        )
        return Outcome(change, "applied")

    if change.action == "create":
        return _apply_create(change, tracker, state, run_id, recovery)

    number = change.number
    intent = {"number": number, "action": change.action}
    comment_error = None
    if change.action in ("close", "reopen"):
        # The state change comes first and the comment second: a state change
        # that fails posts no comment, so the next run's retry cannot leave
        # the same comment twice.
        if change.action == "close":
            write = lambda: tracker.close(number, change.close_reason)  # noqa: E731
        else:
            write = lambda: tracker.reopen(number)  # noqa: E731
        issue = _journalled(state, run_id, change, change.action, intent, write)
        # The issue changed state whatever happens to the comment, so the
        # state file records it and the next run does not send it again.
        _save_record(state, change, issue)
        if change.comment:
            comment_error = _post_comment(state, run_id, change, intent, tracker)
    elif change.action == "comment":
        _journalled_comment(state, run_id, change, intent, tracker)
        _save_record(state, change, None)
    elif change.action == "update":
        issue = _journalled(
            state,
            run_id,
            change,
            "update",
            intent,
            lambda: tracker.update(number, change.update),
        )
        _save_record(state, change, issue)
    else:
        raise ValueError(f"unknown change action {change.action!r}")

    if comment_error is None:
        return Outcome(change, "applied", ref=change.ref)
    done = _PAST_TENSE[change.action]
    if isinstance(comment_error, IssueLockedError):
        warning = (
            f"{done}, but the comment was not posted because the conversation "
            f"is locked: {error_text(comment_error)}"
        )
    else:
        warning = (
            f"{done}, but the comment failed and is not sent again: "
            f"{error_text(comment_error)}"
        )
    return Outcome(
        change, "applied", ref=change.ref, warning=warning, comment_error=comment_error
    )


def _journalled_comment(
    state: StateStore, run_id: str, change: Change, intent: dict, tracker
) -> None:
    """Post the change's comment on its issue, with a journal entry around it."""

    _journalled(
        state,
        run_id,
        change,
        "comment",
        intent,
        lambda: tracker.comment(change.number, change.comment),
    )


def _post_comment(
    state: StateStore, run_id: str, change: Change, intent: dict, tracker
) -> TrackerError | None:
    """Post the comment of a close or reopen; return the error that stopped it, or None."""

    try:
        _journalled_comment(state, run_id, change, intent, tracker)
    except TrackerError as error:
        log = logger.warning if isinstance(error, IssueLockedError) else logger.error
        log(
            "target %s: %s %s, but its comment was not posted: %s",
            change.target,
            _PAST_TENSE[change.action],
            change.ref,
            error,
        )
        return error
    return None


def _save_record(state: StateStore, change: Change, issue) -> None:
    if change.record is not None:
        record = change.record
        if isinstance(issue, Issue):
            record = record.with_changes(
                number=issue.number, ref=issue.ref, url=issue.url
            )
        state.save_issue(record)


def _journalled(
    state: StateStore,
    run_id: str,
    change: Change,
    action: str,
    intent: dict,
    call,
):
    entry = state.journal_intent(run_id, change.target, change.key, action, intent)
    try:
        value = call()
    except TrackerError as error:
        state.journal_result(entry, status="failed", error=error_text(error))
        raise
    result = {"ref": value.ref} if isinstance(value, Issue) else {}
    state.journal_result(entry, status="done", result=result)
    # One INFO line per external write, so the log is an audit trail. The
    # extra fields appear as keys in --log-format json.
    ref = value.ref if isinstance(value, Issue) else change.ref or f"#{change.number}"
    logger.info(
        "target %s: %s %s (item %s)",
        change.target,
        _PAST_TENSE.get(action, action),
        ref,
        change.key,
        extra={
            "target": change.target,
            "action": action,
            "ref": ref,
            "item": change.key,
        },
    )
    return value


_PAST_TENSE = {
    "close": "closed",
    "reopen": "reopened",
    "comment": "commented on",
    "update": "updated",
}


def _apply_create(
    change: Change,
    tracker,
    state: StateStore,
    run_id: str,
    recovery: _Recovery,
) -> Outcome:
    key = change.key
    # A previous run recorded the intent to create this item but no result:
    # the issue may exist. Adopt it instead of creating a duplicate.
    if (change.target, key) in recovery.unfinished:
        found = recovery.find(tracker, key)
        if found is not None:
            recovery.settle(change.target, key, "recovered")
            _save_created(state, change, found)
            return Outcome(change, "recovered", ref=found.ref)
        recovery.check_wait(change.target, key)
        recovery.settle(change.target, key, "abandoned")

    entry = state.journal_intent(
        run_id, change.target, key, "create", {"key": key, "title": change.draft.title}
    )
    try:
        issue = tracker.create(change.draft)
    except AmbiguousWriteError as error:
        logger.warning(
            "create of %s had an unknown outcome (%s); looking for its marker",
            key,
            error,
        )
        found = recovery.find(tracker, key)
        if found is not None:
            state.journal_result(
                entry, status="done", result={"ref": found.ref, "recovered": True}
            )
            _save_created(state, change, found)
            return Outcome(change, "recovered", ref=found.ref)
        # The list does not show the issue, but the create may still land (or
        # the list may lag). Sending it again could make a duplicate, so the
        # intent stays unfinished and later runs look for the marker again.
        raise _CreatePending(
            f"outcome unknown, looked for again by later runs: {error}"
        ) from error
    except TrackerError as error:
        state.journal_result(entry, status="failed", error=error_text(error))
        raise
    state.journal_result(
        entry, status="done", result={"ref": issue.ref, "number": issue.number}
    )
    _save_created(state, change, issue)
    logger.info(
        "target %s: created %s (item %s): %s",
        change.target,
        issue.ref,
        key,
        change.draft.title,
        extra={
            "target": change.target,
            "action": "create",
            "ref": issue.ref,
            "item": key,
        },
    )
    return Outcome(change, "applied", ref=issue.ref)


def _save_created(state: StateStore, change: Change, issue: Issue) -> None:
    record: IssueRecord = change.record.with_changes(
        number=issue.number, ref=issue.ref, url=issue.url
    )
    state.save_issue(record)


def _store_bookkeeping(
    plan: Plan, state: StateStore, result: SyncResult, failed_keys: set[str], stopped
) -> None:
    """Store aliases, occurrences, pinned revisions and state-only record changes.

    Items of a target that failed or stopped are not marked as synced.
    """

    state.set_meta("managed_label", plan.managed_label)
    state.save_aliases(plan.aliases)
    state.save_revisions(plan.revisions)
    for key, record in plan.records.items():
        if key in failed_keys or record.target in stopped:
            continue
        state.save_issue(record)
    mapped = state.issue_records()
    for key, occurrences in plan.occurrences.items():
        if key not in mapped or key in failed_keys:
            continue
        state.replace_occurrences(key, occurrences, plan.present_paths)
