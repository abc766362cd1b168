"""Compute a sync plan: what to create, update, close, reopen and comment.

``compute_plan`` only reads: it works through ``ReadOnlyTracker`` and a state
store opened read-only, so ``syncd plan`` cannot write anything. The steps:

1. read every target in use (preflight, managed issues, missing labels),
2. walk each series and build its item chains (``syncd.engine.series``),
3. work out, per item key, the issue the minutes call for,
4. diff that against the issue as it is and as syncd last wrote it
   (three-way), keeping what people changed,
5. apply the guards that stop a run from closing issues it should not.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from syncd.engine.changes import MASS_CLOSE_FLAG, Change, FieldChange, ItemRef, Plan
from syncd.engine.content import DesiredIssue, desired_issue, marker_payload
from syncd.engine.lost_content import flag_lost_content, set_aside_blank_files
from syncd.engine.matching import Entry
from syncd.engine.moves import OrphanIssue, adopt_moved_items
from syncd.engine.render import block_hash, split_body, truncate_graphemes
from syncd.engine.series import Chain, SeriesWalk, policy_for, target_for, walk_series
from syncd.engine.state import IssueRecord, Occurrence, StateStore
from syncd.errors import IssueGoneError, IssueNotFoundError, TrackerError
from syncd.marker import decode_marker
from syncd.model import Document, Problem, Severity
from syncd.settings import Carry, ReopenPolicy, Settings
from syncd.tracker import CloseReason, Issue, IssueDraft, IssueState, IssueUpdate

logger = logging.getLogger(__name__)


@dataclass
class TargetView:
    """One target as read at the start of the plan."""

    name: str
    tracker: object
    issues_by_key: dict[str, Issue] = field(default_factory=dict)
    payloads: dict[int, dict] = field(default_factory=dict)
    account: str | None = None
    assignable: dict[str, bool] = field(default_factory=dict)

    def can_assign(self, account: str) -> bool:
        if account not in self.assignable:
            try:
                self.assignable[account] = bool(self.tracker.can_assign(account))
            except TrackerError:
                self.assignable[account] = False
        return self.assignable[account]


# A newest meeting with no items while at least this many open issues of the
# series would close is taken for broken input rather than finished work.
SUSPICIOUS_EMPTY_AFTER = 3


def _suddenly_empty(walk: SeriesWalk, closing: int) -> bool:
    """Return whether a series with many open items lost them all at once."""

    if not walk.meetings:
        return True
    newest = len(walk.meetings) - 1
    listed = any(
        sighting.meeting_index == newest
        for chain in walk.chains.values()
        for sighting in chain.sightings
    )
    return not listed and closing >= SUSPICIOUS_EMPTY_AFTER


def compute_plan(
    documents: list[Document],
    *,
    settings: Settings,
    trackers: Mapping[str, object],
    state: StateStore,
    roster,
    source_problems: list[Problem] | tuple[Problem, ...] = (),
    allow_mass_close: bool = False,
    now: datetime | None = None,
) -> Plan:
    """Return the plan that brings the trackers in line with ``documents``.

    Documents with errors contribute no closes, and neither does any source
    listed in ``source_problems``. A document whose content was lost (an
    empty file, or one without the action section it had at the last sync)
    gets an error appended to its ``errors`` first, so it is one of those.
    Only read methods of the trackers are called. ``now`` is accepted but
    unused: nothing in a plan depends on the clock, which keeps issue bodies
    deterministic.
    """

    planner = _Planner(settings, trackers, state, roster, allow_mass_close)
    return planner.run(documents, list(source_problems))


class _Planner:
    def __init__(
        self,
        settings: Settings,
        trackers,
        state: StateStore,
        roster,
        allow_mass_close: bool,
    ):
        self.settings = settings
        self.trackers = trackers
        self.state = state
        self.roster = roster
        self.allow_mass_close = allow_mass_close
        self.plan = Plan(
            managed_label=settings.labels.managed,
            unknown_create_wait=settings.guards.unknown_create_wait,
        )
        self.views: dict[str, TargetView] = {}
        self.records = state.issue_records()
        # Creates whose outcome is unknown: apply_plan looks for their issues
        # before it sends another, so the plan says so.
        self.unknown_creates = state.unknown_create_starts()

    # Reading the targets.

    def read_targets(self, names: set[str]) -> None:
        wanted_labels = [self.settings.labels.managed, *self.settings.labels.extra]
        wanted_labels += [g.label for g in self.settings.groups if g.label]
        wanted_labels = list(dict.fromkeys(wanted_labels))
        for name in sorted(names):
            tracker = self.trackers.get(name)
            if tracker is None:
                self.fail_target(
                    name, f"target {name!r} is not configured or could not be opened"
                )
                continue
            try:
                tracker.preflight()
                issues = tracker.list_managed(self.settings.labels.managed)
                missing = tracker.missing_labels(wanted_labels)
                account = tracker.current_account()
            except TrackerError as error:
                self.fail_target(name, str(error))
                continue
            view = TargetView(name=name, tracker=tracker, account=account)
            for issue in sorted(issues, key=lambda i: i.number):
                payload = decode_marker(issue.body)
                if payload is None:
                    continue
                view.payloads[issue.number] = payload
                key = payload["key"]
                kept = view.issues_by_key.get(key)
                if kept is None or (
                    kept.state is not IssueState.OPEN and issue.state is IssueState.OPEN
                ):
                    view.issues_by_key[key] = issue
                if kept is not None:
                    self.plan.problems.append(
                        {
                            "path": None,
                            "line": None,
                            "message": f"{name}: issues {kept.ref} and {issue.ref} carry the same item marker; "
                            f"syncd keeps {view.issues_by_key[key].ref} and leaves the other alone",
                        }
                    )
            self.views[name] = view
            for label in missing:
                color = self.settings.labels.color
                description = (
                    self.settings.labels.description
                    if label == self.settings.labels.managed
                    else ""
                )
                self.plan.changes.append(
                    Change(
                        action="create",
                        subject="label",
                        target=name,
                        reason=f"would create label {label}",
                        fields={"label": FieldChange(None, label)},
                        label=(label, color, description),
                    )
                )

    def skip_with_problem(self, decision: "_Decision", message: str) -> None:
        """Skip an item in this run, with a problem at its line.

        An item the minutes still list open is then left without an issue,
        which makes a sync partial.
        """

        last = decision.chain.last if decision.chain is not None else None
        self.plan.problems.append(
            {
                "path": last.document.path if last else None,
                "line": last.item.line if last else None,
                "message": message,
            }
        )
        if decision.desired_open:
            self.plan.items_without_issue.append(decision.key)
        decision.skip = True

    def fail_target(self, name: str, message: str) -> None:
        self.plan.failed_targets[name] = message
        self.plan.problems.append(
            {"path": None, "line": None, "message": f"target {name}: {message}"}
        )

    # The whole computation.

    def run(self, documents: list[Document], source_problems: list[Problem]) -> Plan:
        plan = self.plan
        # What each file listed when it was last synced. It separates minutes
        # that lost their content from a meeting that dropped its items, and
        # it lets the walk follow items edited in place (a corrected typo or
        # owner in the same minutes).
        stored_occurrences = self.state.occurrences()
        earlier_versions: dict[str, list[tuple[str, Occurrence]]] = defaultdict(list)
        items_by_path: dict[str, int] = defaultdict(int)
        for key, occurrences in stored_occurrences.items():
            for occurrence in occurrences:
                items_by_path[occurrence.path] += 1
                if occurrence.text is not None:
                    earlier_versions[occurrence.path].append((key, occurrence))
        documents, set_aside = set_aside_blank_files(documents, items_by_path)
        for problem in set_aside:
            plan.problems.append(dict(problem.to_json(), severity="warning"))
        flag_lost_content(documents, items_by_path)

        by_series: dict[str, list[Document]] = defaultdict(list)
        for document in documents:
            by_series[document.meeting.series].append(document)
            if not document.failed:
                plan.present_paths.add(document.path)
            for problem in document.errors:
                plan.problems.append(problem.to_json())
            if document.failed:
                plan.failed_documents += 1
        for series, series_documents in sorted(by_series.items()):
            warn_undated_meetings(plan, series, series_documents)
        # A target that could not be opened is absent from ``trackers`` and
        # fails on its own below; it says nothing about the minutes, so it
        # must not stop closes in the other targets.
        target_paths = {f"target {target.name}" for target in self.settings.targets}
        blocking_sources = [
            p
            for p in source_problems
            if p.severity is Severity.ERROR and p.path not in target_paths
        ]
        for problem in source_problems:
            plan.problems.append(problem.to_json())
        plan.source_failed = bool(blocking_sources)

        series_targets = {}
        for series in sorted(by_series):
            target = target_for(series, self.settings)
            if target is None:
                plan.problems.append(
                    {
                        "path": None,
                        "line": None,
                        "message": f"series {series}: no route or default target",
                    }
                )
            series_targets[series] = target
        used = {t for t in series_targets.values() if t} | {
            r.target for r in self.records.values()
        }
        self.read_targets(used)

        known_aliases = self.state.aliases()
        taken = set(self.records)
        for view in self.views.values():
            taken.update(view.issues_by_key)
            for payload in view.payloads.values():
                for entry in payload.get("aliases", []):
                    if isinstance(entry, list) and len(entry) == 2:
                        known_aliases.setdefault(
                            (payload.get("series", ""), entry[0], int(entry[1])),
                            payload["key"],
                        )

        open_titles: dict[str, dict[str, str]] = defaultdict(dict)
        person_closed_titles: dict[str, dict[str, str]] = defaultdict(dict)
        for view in self.views.values():
            for key, issue in view.issues_by_key.items():
                payload = view.payloads.get(issue.number, {})
                title = payload.get("title") or issue.title
                series_name = payload.get("series", "")
                if issue.state is IssueState.OPEN:
                    open_titles[series_name][key] = title
                elif issue.closed_by is not None and issue.closed_by != view.account:
                    person_closed_titles[series_name][key] = title

        known_keys = set(taken)
        walks: dict[str, SeriesWalk] = {}
        for series in sorted(by_series):
            policy = policy_for(series, self.settings)
            walks[series] = walk_series(
                series,
                by_series[series],
                policy,
                known_aliases,
                taken,
                earlier_versions=earlier_versions,
                open_issue_titles=open_titles[series],
                person_closed_titles=person_closed_titles[series],
            )
        new_keys = {
            key for walk in walks.values() for key in walk.chains if key not in known_keys
        }
        if new_keys:
            orphans = self.orphan_issues(walks, documents, stored_occurrences)
            adopt_moved_items(walks, orphans, new_keys, series_targets)
        for walk in walks.values():
            plan.aliases.update(walk.aliases)

        decisions = self.decide(walks, series_targets, blocking_sources)
        self.apply_guards(decisions, walks)
        for decision in decisions:
            self.emit(decision)
        return plan

    def orphan_issues(
        self,
        walks: dict[str, SeriesWalk],
        documents: list[Document],
        stored_occurrences: dict[str, list[Occurrence]],
    ) -> list[OrphanIssue]:
        """Return the open or person-closed issues no chain claimed whose minutes are gone.

        An issue's minutes are gone when its series has no file this run, or
        when the state file records where it was listed and none of those
        files is read any more (a file moved to another series folder).
        """

        # NOTE: without a state file the paths are unknown, so a single file
        # moved out of a series that still has other files is not recognised,
        # and its items get new issues in the series they moved to.

        claimed = {key for walk in walks.values() for key in walk.chains}
        present_series = set(walks)
        present_paths = {document.path for document in documents}
        found = []
        for name, view in sorted(self.views.items()):
            for key, issue in sorted(view.issues_by_key.items()):
                if key in claimed:
                    continue
                is_open = issue.state is IssueState.OPEN
                person_closed = (
                    not is_open
                    and issue.closed_by is not None
                    and issue.closed_by != view.account
                )
                if not (is_open or person_closed):
                    continue
                payload = view.payloads.get(issue.number, {})
                series = payload.get("series", "")
                occurrences = stored_occurrences.get(key, [])
                moved_away = bool(occurrences) and not any(
                    occurrence.path in present_paths for occurrence in occurrences
                )
                if series in present_series and not moved_away:
                    continue
                worded = [o for o in occurrences if o.text is not None]
                if worded:
                    first = Entry(worded[0].text, worded[0].owners)
                    last = Entry(worded[-1].text, worded[-1].owners)
                else:
                    title = payload.get("title") or issue.title
                    first = last = Entry(title, ())
                found.append(OrphanIssue(key, series, name, first, last, is_open))
        return found

    # Deciding what each item's issue should be.

    def decide(self, walks, series_targets, blocking_sources) -> list["_Decision"]:
        decisions = []
        seen: set[str] = set()
        for series, walk in sorted(walks.items()):
            open_keys = walk.open_chains()
            for key, chain in walk.chains.items():
                seen.add(key)
                decisions.append(
                    self.decide_one(
                        key,
                        series,
                        series_targets.get(series),
                        walk,
                        chain,
                        key in open_keys,
                        blocking_sources,
                    )
                )
        # Items the state or the markers know but no minutes read this run list.
        orphans = set(self.records)
        for view in self.views.values():
            orphans.update(view.issues_by_key)
        for key in sorted(orphans - seen):
            record = self.records.get(key)
            series = record.series if record else self.marker_series(key)
            walk = walks.get(series)
            policy = policy_for(series, self.settings)
            desired_open = None if policy.carry is Carry.ACCUMULATE else False
            decisions.append(
                self.decide_one(
                    key,
                    series,
                    record.target if record else None,
                    walk,
                    None,
                    desired_open,
                    blocking_sources,
                )
            )
        return decisions

    def marker_series(self, key: str) -> str:
        for view in self.views.values():
            issue = view.issues_by_key.get(key)
            if issue is not None:
                return view.payloads.get(issue.number, {}).get("series", "")
        return ""

    def decide_one(
        self, key, series, routed_target, walk, chain, desired_open, blocking_sources
    ) -> "_Decision":
        record = self.records.get(key)
        issue, target = None, None
        for name, view in self.views.items():
            if key in view.issues_by_key:
                issue, target = view.issues_by_key[key], name
                break
        if target is None:
            target = record.target if record and record.target else routed_target
        decision = _Decision(
            key=key,
            series=series,
            target=target,
            chain=chain,
            walk=walk,
            record=record,
            issue=issue,
        )
        decision.desired_open = desired_open

        if (
            target is None
            or target in self.plan.failed_targets
            or target not in self.views
        ):
            if desired_open and target not in self.plan.failed_targets:
                self.plan.items_without_issue.append(key)
            decision.skip = True
            return decision

        # The state maps this key to an issue the managed list does not contain,
        # because a person removed the label or deleted the issue.
        if issue is None and record is not None and record.number is not None:
            try:
                found = self.views[target].tracker.get(record.number)
            except (IssueNotFoundError, IssueGoneError):
                if not desired_open:
                    # The item is done or dropped, so its issue would be
                    # closed anyway; a deleted one needs nothing more.
                    decision.skip = True
                    return decision
                message = (
                    f"{record.ref}: the issue no longer exists; syncd does not re-create it"
                    f" on its own (run syncd retry --recreate {key} to open a new one,"
                    " or remove the item from the minutes)"
                )
                self.skip_with_problem(decision, message)
                return decision
            except TrackerError as error:
                message = str(error)
                if not message.startswith(record.ref):
                    message = f"{record.ref}: {message}"
                self.skip_with_problem(decision, message)
                return decision
            decision.issue = found

        # Why a close would be unsafe: the input behind it is incomplete.
        if chain is None or not chain.done:
            decision.close_blocked = self.close_blocker(
                decision, walk, blocking_sources
            )
        return decision

    def close_blocker(
        self, decision, walk: SeriesWalk | None, blocking_sources
    ) -> str | None:
        if blocking_sources:
            names = ", ".join(sorted({p.path for p in blocking_sources}))
            return f"a source could not be read ({names})"
        if walk is None:
            return None
        occurrences = self.stored_occurrences(decision.key)
        seen_paths = {o.path for o in occurrences}
        last_date = (
            decision.chain.last.document.meeting.date if decision.chain else None
        )
        for failed in walk.failed:
            failed_date = failed.meeting.date
            if (
                failed.path in seen_paths
                or failed_date is None
                or last_date is None
                or failed_date >= last_date
            ):
                return f"{failed.path} could not be read"
        return None

    # Guards against mass closing.

    def apply_guards(
        self, decisions: list["_Decision"], walks: dict[str, SeriesWalk]
    ) -> None:
        closing = [d for d in decisions if not d.skip and d.would_close()]
        for decision in closing:
            if decision.close_blocked:
                decision.refuse(decision.close_blocked, override=None)

        if self.allow_mass_close:
            return

        # A series that has no readable meeting left, or whose newest meeting
        # lists nothing when the one before listed many items, while issues of
        # it are open: the input is most likely broken (an empty checkout, a
        # truncated file), not all work finished. A short list that runs out
        # (the last item or two dropped) is ordinary and passes.
        for series in sorted({d.series for d in closing}):
            walk = walks.get(series)
            closing_here = sum(1 for d in closing if d.series == series)
            empty = walk is None or _suddenly_empty(walk, closing_here)
            if not empty:
                continue
            if walk is None:
                why = f"series {series or '(none)'} has no minutes file left in the source"
            else:
                why = f"series {series or '(none)'} has no items in its newest meeting"
            for decision in closing:
                if decision.series == series and not decision.refused:
                    decision.refuse(
                        f"{why}, while {closing_here} of its issues are open; "
                        f"pass {MASS_CLOSE_FLAG} if that is right",
                        override=MASS_CLOSE_FLAG,
                    )

        guards = self.settings.guards
        for target in sorted({d.target for d in closing}):
            view = self.views[target]
            open_count = sum(
                1 for i in view.issues_by_key.values() if i.state is IssueState.OPEN
            )
            pending = [d for d in closing if d.target == target and not d.refused]
            too_many = len(pending) > guards.max_close or (
                open_count > guards.max_close
                and len(pending) > guards.max_close_fraction * open_count
            )
            if not too_many:
                continue
            for decision in pending:
                decision.refuse(
                    f"the run would close {len(pending)} of {open_count} open issues in {target} "
                    f"(limit {guards.max_close} or {guards.max_close_fraction:.0%}); pass {MASS_CLOSE_FLAG} if that is right",
                    override=MASS_CLOSE_FLAG,
                )

    # Turning decisions into changes.

    def emit(self, decision: "_Decision") -> None:
        plan = self.plan
        if decision.chain is not None:
            plan.occurrences[decision.key] = [
                Occurrence(
                    s.document.path,
                    s.item.line,
                    _date(s.document),
                    s.item.text,
                    tuple(s.item.owners),
                )
                for s in decision.chain.sightings
                if not s.ghost
            ]
        if decision.skip:
            return
        plan.key_targets[decision.key] = decision.target
        view = self.views[decision.target]
        if decision.refused:
            issue = decision.issue
            plan.refused.append(
                {
                    "tracker": decision.target,
                    "ref": issue.ref if issue else None,
                    "key": decision.key,
                    "reason": decision.refused,
                    "override": decision.override,
                }
            )

        if decision.issue is None:
            self.emit_create(decision, view)
        else:
            self.emit_existing(decision, view)

    def item_ref(self, decision: "_Decision") -> ItemRef | None:
        if decision.chain is None:
            return None
        last = decision.chain.last
        return ItemRef(
            last.document.path,
            last.item.line,
            tuple(last.item.owners),
            last.item.text,
            decision.key,
        )

    def desired(self, decision: "_Decision", view: TargetView) -> DesiredIssue:
        return desired_issue(
            decision.chain,
            settings=self.settings,
            tracker=view.tracker,
            roster=self.roster,
            can_assign=view.can_assign,
            revisions=self.state_revisions(),
            new_revisions=self.plan.revisions,
        )

    def stored_occurrences(self, key: str) -> list[Occurrence]:
        """Return where the item ``key`` was seen as of the last sync."""

        return self.state.occurrences(key).get(key, [])

    def state_revisions(self) -> dict:
        if not hasattr(self, "_revisions"):
            self._revisions = self.state.revisions()
        return self._revisions

    def emit_create(self, decision: "_Decision", view: TargetView) -> None:
        if decision.chain is None or not decision.desired_open:
            return
        desired = self.desired(decision, view)
        self.report_owner_warnings(decision, desired)
        payload = marker_payload(decision, desired)
        body = split_body("").join(payload.marker, desired.block)
        first = decision.chain.first
        record = IssueRecord(
            key=decision.key,
            series=decision.series,
            target=decision.target,
            title=desired.title,
            block_hash=block_hash(desired.block),
            assignees=desired.assignees,
            labels=desired.labels,
            first_path=first.document.path,
            first_line=first.item.line,
            first_date=_date(first.document),
        )
        fields = {
            "title": FieldChange(None, desired.title),
            "assignees": FieldChange([], list(desired.assignees)),
            "labels": FieldChange([], list(desired.labels)),
        }
        # An item matched to a known key (its create was held back or failed
        # in an earlier run) is not new, it just has no issue yet.
        reason = "no issue yet" if decision.chain.last.match else "new item"
        if len(decision.chain.sightings) > 1:
            reason = f"open item first raised {first.document.meeting.date or 'undated'} ({first.document.path}:{first.item.line})"
        unknown_since = self.unknown_creates.get((decision.target, decision.key))
        if unknown_since is not None:
            reason += (
                f"; a create started {unknown_since} had an unknown outcome, so this"
                " one is sent only if no issue with the item's marker shows up within"
                f" {self.settings.guards.unknown_create_wait:g} s of it"
            )
        self.plan.changes.append(
            Change(
                action="create",
                target=decision.target,
                key=decision.key,
                item=self.item_ref(decision),
                fields=fields,
                reason=reason,
                match=decision.chain.last.match,
                draft=IssueDraft(
                    title=desired.title,
                    body=body,
                    labels=desired.labels,
                    assignees=desired.assignees,
                ),
                record=record,
            )
        )

    def report_owner_warnings(
        self, decision: "_Decision", desired: DesiredIssue
    ) -> None:
        last = decision.chain.last
        for warning in desired.warnings:
            self.plan.problems.append(
                {
                    "path": last.document.path,
                    "line": last.item.line,
                    "message": warning,
                    "severity": "warning",
                }
            )

    def emit_existing(self, decision: "_Decision", view: TargetView) -> None:
        plan = self.plan
        issue = decision.issue
        record = decision.record or self.record_from_marker(decision, view)
        is_open = issue.state is IssueState.OPEN
        closed_by_syncd = not is_open and (
            record.closed_by_syncd
            or (issue.closed_by is not None and issue.closed_by == view.account)
        )
        # Keep the mapping current even when nothing is written.
        # The series changes when the item's minutes moved to another series.
        record = record.with_changes(
            number=issue.number,
            ref=issue.ref,
            url=issue.url,
            target=decision.target,
            series=decision.series,
        )
        if is_open and record.closed_by_syncd:
            record = record.with_changes(closed_by_syncd=False)
        if is_open and record.person_close_seen:
            record = record.with_changes(
                person_close_seen=None, person_close_noted=False
            )
        wants_open = decision.desired_open

        changes: list[Change] = []
        last_date = _date(decision.chain.last.document) if decision.chain else None

        # The state: reopen, close or leave alone.
        will_be_open = is_open
        if not is_open and wants_open:
            if closed_by_syncd:
                changes.append(
                    self.reopen_change(
                        decision, issue, record, "listed again in the minutes"
                    )
                )
                record = record.with_changes(closed_by_syncd=False)
                will_be_open = True
            else:
                record, reopen = self.person_closed(decision, issue, record, last_date)
                if reopen is not None:
                    changes.append(reopen)
                    will_be_open = True

        # Content: only for issues that are or will be open. A chain that
        # includes a file that could not be read this run is left as it is:
        # its stored copy lacks the meeting details, so rendering it would
        # rewrite the body now and again once the file is fixed.
        chain_is_complete = decision.chain is not None and not any(
            sighting.ghost for sighting in decision.chain.sightings
        )
        if chain_is_complete and will_be_open:
            record, content_changes = self.content_changes(
                decision, view, issue, record
            )
            changes.extend(content_changes)

        if is_open and wants_open is False and not decision.refused:
            changes.append(self.close_change(decision, issue, record))
            record = record.with_changes(closed_by_syncd=True)

        limit = view.tracker.limits.comment
        for change in changes:
            if change.comment is not None and len(change.comment) > limit:
                change.comment = truncate_graphemes(change.comment, limit)
        if changes:
            plan.changes.extend(changes)
            # The record after the last change is what the state should hold.
            changes[-1].record = record
            for change in changes[:-1]:
                change.record = None
        else:
            plan.unchanged += 1
            plan.unchanged_issues.append(
                {"tracker": decision.target, "ref": issue.ref, "key": decision.key}
            )
            if record != decision.record:
                plan.records[decision.key] = record

    def record_from_marker(
        self, decision: "_Decision", view: TargetView
    ) -> IssueRecord:
        """Rebuild the state of one issue from its marker (a lost or new state file)."""

        issue = decision.issue
        payload = view.payloads.get(issue.number, {})
        first = decision.chain.first if decision.chain else None
        return IssueRecord(
            key=decision.key,
            series=payload.get("series", decision.series),
            target=decision.target,
            number=issue.number,
            ref=issue.ref,
            url=issue.url,
            title=payload.get("title"),
            block_hash=payload.get("block"),
            assignees=tuple(payload.get("assignees", ())),
            labels=tuple(payload.get("labels", ())),
            closed_by_syncd=bool(issue.closed_by and issue.closed_by == view.account),
            first_path=first.document.path if first else None,
            first_line=first.item.line if first else None,
            first_date=_date(first.document) if first else None,
        )

    def person_closed(self, decision, issue: Issue, record: IssueRecord, last_date):
        """Handle an issue a person closed while the minutes still list the item."""

        policy = policy_for(decision.series, self.settings)
        if record.person_close_seen is None:
            # The first sync that notices this close records how far the minutes
            # went at the last sync, so only a newer meeting counts as raising
            # the item again. A meeting added since that sync may be newer
            # than the close, so it counts, at the cost of at most one note
            # when the person closed after reading it. Without stored
            # occurrences (a lost state file) the newest meeting now is used.
            synced_dates = [
                occurrence.date
                for occurrence in self.stored_occurrences(decision.key)
                if occurrence.date
            ]
            seen = max(synced_dates) if synced_dates else last_date
            record = record.with_changes(person_close_seen=seen or "")
        listed_again = bool(
            last_date
            and record.person_close_seen is not None
            and last_date > record.person_close_seen
        )
        self.plan.notes.append(
            {
                "tracker": decision.target,
                "ref": issue.ref,
                "key": decision.key,
                "message": "closed on the tracker by a person; the minutes still list it; left alone",
            }
        )
        if not listed_again or policy.reopen is ReopenPolicy.NEVER:
            return record, None
        last = decision.chain.last
        where = _meeting_location(last)
        if policy.reopen is ReopenPolicy.ALWAYS:
            change = self.reopen_change(
                decision,
                issue,
                record,
                "closed by a person but listed in a newer meeting",
            )
            change.comment = (
                f"syncd reopened this issue: it was closed on the tracker, but the meeting of {where} "
                "lists the item again."
            )
            return record.with_changes(
                person_close_seen=None, person_close_noted=False
            ), change
        if record.person_close_noted:
            return record, None
        comment = (
            f"This issue was closed on the tracker, but the meeting of {where} still lists the item. "
            "syncd leaves the issue closed and will not repeat this note; reopen the issue if the work is not done."
        )
        change = Change(
            action="comment",
            target=decision.target,
            key=decision.key,
            item=self.item_ref(decision),
            number=issue.number,
            ref=issue.ref,
            reason="closed by a person but listed in a newer meeting",
            comment=comment,
        )
        return record.with_changes(person_close_noted=True), change

    def reopen_change(
        self, decision, issue: Issue, record: IssueRecord, reason: str
    ) -> Change:
        last = decision.chain.last
        where = _meeting_location(last)
        return Change(
            action="reopen",
            target=decision.target,
            key=decision.key,
            item=self.item_ref(decision),
            number=issue.number,
            ref=issue.ref,
            fields={"state": FieldChange("closed", "open")},
            reason=reason,
            match=last.match,
            comment=f"syncd reopened this issue: the meeting of {where} lists the item again.",
        )

    def close_change(self, decision, issue: Issue, record: IssueRecord) -> Change:
        chain: Chain | None = decision.chain
        if chain is not None and chain.done:
            last = chain.last
            reason = "marked done in the minutes"
            comment = (
                f"syncd closed this issue as completed: the minutes of {_meeting_location(last)} "
                "mark the item done."
            )
        elif chain is not None:
            last = chain.last
            reason = "no longer listed in the minutes"
            comment = (
                "syncd closed this issue as completed: the item is no longer listed in the minutes. "
                f"The last meeting that listed it was {last.document.meeting.date or 'undated'} "
                f"({last.document.path}, line {last.item.line})."
            )
        else:
            reason = "no longer listed in any minutes read"
            comment = "syncd closed this issue as completed: no meeting of the series lists the item any more."
        return Change(
            action="close",
            target=decision.target,
            key=decision.key,
            item=self.item_ref(decision),
            number=issue.number,
            ref=issue.ref,
            fields={"state": FieldChange("open", "closed")},
            reason=reason,
            comment=comment,
            close_reason=CloseReason.COMPLETED,
        )

    def content_changes(
        self, decision, view: TargetView, issue: Issue, record: IssueRecord
    ):
        """Three-way diff of the fields syncd owns; returns the new record and changes."""

        desired = self.desired(decision, view)
        self.report_owner_warnings(decision, desired)
        parts = split_body(issue.body)
        fields: dict[str, FieldChange] = {}
        conflicts: list[str] = []

        # Title: syncd owns it while nobody edited it.
        new_title = None
        base_title = record.title
        if desired.title != issue.title:
            if base_title is None or issue.title == base_title:
                new_title = desired.title
                fields["title"] = FieldChange(issue.title, desired.title)
            elif desired.title != base_title:
                conflicts.append("title")
        synced_title = (
            desired.title
            if (new_title is not None or issue.title == desired.title)
            else base_title
        )

        # The managed block of the body.
        current_hash = block_hash(parts.block)
        desired_hash = block_hash(desired.block)
        block = parts.block
        synced_hash = record.block_hash
        if parts.block != desired.block:
            if (
                parts.block is None
                and parts.marker is None
                and not parts.prefix.strip()
            ):
                block = desired.block
            elif record.block_hash is None or current_hash == record.block_hash:
                block = desired.block
            elif desired_hash != record.block_hash:
                conflicts.append("body")
        if block == desired.block:
            synced_hash = desired_hash

        # Assignees and labels: add and remove only what syncd set, so people's
        # additions and removals stay.
        base_assignees = set(record.assignees)
        want_assignees = set(desired.assignees)
        now_assignees = set(issue.assignees)
        add_assignees = sorted((want_assignees - base_assignees) - now_assignees)
        remove_assignees = sorted((base_assignees - want_assignees) & now_assignees)
        if add_assignees or remove_assignees:
            after = sorted((now_assignees | set(add_assignees)) - set(remove_assignees))
            fields["assignees"] = FieldChange(sorted(now_assignees), after)

        base_labels = set(record.labels)
        want_labels = set(desired.labels)
        now_labels = set(issue.labels)
        add_labels = sorted((want_labels - base_labels) - now_labels)
        remove_labels = sorted((base_labels - want_labels) & now_labels)
        if not record.labels and self.settings.labels.managed not in now_labels:
            add_labels = sorted(set(add_labels) | {self.settings.labels.managed})
        if add_labels or remove_labels:
            after = sorted((now_labels | set(add_labels)) - set(remove_labels))
            fields["labels"] = FieldChange(sorted(now_labels), after)

        new_record = record.with_changes(
            title=synced_title,
            block_hash=synced_hash,
            assignees=desired.assignees,
            labels=desired.labels,
        )
        payload = marker_payload(decision, desired, record=new_record)
        new_body = parts.join(payload.marker, block)
        body_update = None
        if new_body != (issue.body or ""):
            body_update = new_body
            if block != parts.block:
                fields["body"] = FieldChange(parts.block, block)
            else:
                fields["marker"] = FieldChange(parts.marker, payload.marker)

        changes: list[Change] = []
        if (
            body_update is not None
            or new_title is not None
            or add_assignees
            or remove_assignees
            or add_labels
            or remove_labels
        ):
            changes.append(
                Change(
                    action="update",
                    target=decision.target,
                    key=decision.key,
                    item=self.item_ref(decision),
                    number=issue.number,
                    ref=issue.ref,
                    fields=fields,
                    reason="the minutes changed"
                    if set(fields) - {"marker"}
                    else "refresh the sync marker",
                    match=decision.chain.last.match,
                    update=IssueUpdate(
                        title=new_title,
                        body=body_update,
                        add_labels=tuple(add_labels),
                        remove_labels=tuple(remove_labels),
                        add_assignees=tuple(add_assignees),
                        remove_assignees=tuple(remove_assignees),
                    ),
                )
            )

        if conflicts:
            new_record, comment = self.conflict(
                decision, issue, new_record, conflicts, desired
            )
            if comment is not None:
                changes.append(comment)
        return new_record, changes

    def conflict(
        self,
        decision,
        issue: Issue,
        record: IssueRecord,
        fields: list[str],
        desired: DesiredIssue,
    ):
        """Report a field both people and the minutes changed; comment once per new value."""

        values = {"title": desired.title, "body": block_hash(desired.block)}
        signature = "|".join(f"{name}={values[name]}" for name in sorted(fields))
        self.plan.conflicts.append(
            {
                "tracker": decision.target,
                "ref": issue.ref,
                "key": decision.key,
                "fields": sorted(fields),
                "message": "edited on the tracker and changed in the minutes; the tracker's version is kept",
            }
        )
        if record.conflict_noted == signature:
            return record, None
        last = decision.chain.last
        lines = [
            f"syncd did not update the {' and '.join(sorted(fields))} of this issue: "
            "it was edited here and the minutes changed too, so the edit here is kept.",
            "",
            f"The minutes of {_meeting_location(last)} now say:",
            "",
            "> " + desired.quoted_text.replace("\n", "\n> "),
        ]
        comment = Change(
            action="comment",
            target=decision.target,
            key=decision.key,
            item=self.item_ref(decision),
            number=issue.number,
            ref=issue.ref,
            reason=f"conflict on {', '.join(sorted(fields))}",
            comment="\n".join(lines),
        )
        return record.with_changes(conflict_noted=signature), comment


@dataclass
class _Decision:
    key: str
    series: str
    target: str | None
    chain: Chain | None
    walk: SeriesWalk | None
    record: IssueRecord | None
    issue: Issue | None
    desired_open: bool | None = None
    skip: bool = False
    close_blocked: str | None = None
    refused: str | None = None
    override: str | None = None

    def would_close(self) -> bool:
        return (
            self.issue is not None
            and self.issue.state is IssueState.OPEN
            and self.desired_open is False
        )

    def refuse(self, reason: str, override: str | None) -> None:
        self.refused = reason
        self.override = override


def warn_undated_meetings(plan: Plan, series: str, documents: list[Document]) -> None:
    """Warn about each undated file with items in a series that has dated ones.

    An undated meeting sorts before every dated one, so in a series that
    carries its list forward its items count as dropped by the next meeting.
    """

    readable = [document for document in documents if not document.failed]
    if not any(document.meeting.date for document in readable):
        return
    for document in readable:
        if document.meeting.date is None and document.items:
            plan.problems.append(
                {
                    "path": document.path,
                    "line": None,
                    "message": "no meeting date in the file name, front matter or"
                    f" first heading, so it counts as the oldest meeting of series"
                    f" {document.meeting.series or '(none)'}; add a date to its name",
                    "severity": "warning",
                }
            )


def _meeting_location(sighting) -> str:
    """Return where a sighting is, as ``2024-05-02 (ops/2024-05-02.md, line 9)``."""

    date = sighting.document.meeting.date or "an undated meeting"
    return f"{date} ({sighting.document.path}, line {sighting.item.line})"


def _date(document: Document) -> str | None:
    return document.meeting.date.isoformat() if document.meeting.date else None
