"""One run of syncd: read the sources, plan against the trackers, apply.

The CLI (``plan``, ``sync``, ``status``) and the daemon (``run``) both go
through this module, so a timer run and a one-off run do exactly the same
thing. The steps are separate so each has one job:

1. ``collect_documents`` reads every source and parses every file. A file
   that fails becomes a document with errors; a source that fails becomes a
   source problem. Neither stops the other files.
2. ``open_trackers`` builds one tracker per target. A target that cannot be
   built (no token, bad options) is reported and left out, and the others go
   on. The engine runs the preflight of each built tracker.
3. ``plan_run`` computes the plan; ``sync_run`` also takes the run lock and
   applies it. Dry runs open the trackers and the state read-only, so they
   cannot write even through a bug further down.
"""

from __future__ import annotations

import fnmatch
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from syncd.errors import InputError, SourceError, SyncdError
from syncd.messages import format_location, format_problem, plural, problem_text
from syncd.model import Document, Meeting, Problem, Severity, SourceRevision
from syncd.settings import Settings, SourceSettings
from syncd.sources import Source, open_source
from syncd.tracker import ReadOnlyTracker, Tracker, load_tracker_class

logger = logging.getLogger(__name__)

STATE_FILE_NAME = "state.sqlite"
PARSE_CACHE_NAME = "parse-cache.sqlite"

# Exit codes shared by every command.
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES_PENDING = 2
EXIT_PARTIAL = 3


@dataclass
class Collected:
    """Every document read in one run, and what could not be read."""

    documents: list[Document] = field(default_factory=list)
    source_problems: list[Problem] = field(default_factory=list)
    files: int = 0
    # True when a stop request ended the reading before every file was read.
    stopped: bool = False

    @property
    def file_problems(self) -> list[Problem]:
        return [problem for document in self.documents for problem in document.errors]

    @property
    def failed_files(self) -> int:
        return sum(1 for document in self.documents if document.failed)

    @property
    def items(self) -> int:
        return sum(len(document.items) for document in self.documents)


@dataclass
class OpenTrackers:
    """The trackers that passed preflight, and a problem for each that did not."""

    trackers: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    errors: dict[str, SyncdError] = field(default_factory=dict)

    def close(self) -> None:
        for tracker in self.trackers.values():
            unwrapped = (
                tracker.wrapped if isinstance(tracker, ReadOnlyTracker) else tracker
            )
            try:
                unwrapped.close_session()
            except SyncdError as error:
                logger.warning("closing tracker %s failed: %s", unwrapped.name, error)


@dataclass
class RunOutcome:
    """The result of a plan or sync run: documents read, problems, plan and writes."""

    collected: Collected
    target_problems: list[Problem]
    plan: Any
    result: Any = None
    dry_run: bool = True
    seconds: float = 0.0
    # RequestStats per target name, for the metrics file.
    tracker_stats: dict = field(default_factory=dict)

    @property
    def partly_failed(self) -> bool:
        """Whether some files, sources, targets or writes failed, or a guard stopped closes."""

        if self.result is not None and self.result.partial:
            return True
        return bool(
            self.plan.partial
            or self.plan.guard_tripped
            or self.collected.file_problems
            or self.collected.source_problems
            or self.target_problems
        )

    def exit_code(self, *, detailed: bool = False) -> int:
        """Return 3 when the run partly failed, else 2 for pending changes when
        ``detailed`` (``syncd plan``), else 0."""

        if self.partly_failed:
            return EXIT_PARTIAL
        if detailed and self.plan.has_changes:
            return EXIT_CHANGES_PENDING
        return EXIT_OK

    def problems(self) -> list[Problem]:
        """Return every problem of the run that is not a plan warning.

        These are the problems of files, sources and targets, then the
        plan's own, such as an issue deleted on the tracker. A target that
        failed preflight is left out of the plan's part, because the report
        names it on its own line.
        """

        found = (
            self.collected.source_problems
            + self.collected.file_problems
            + self.target_problems
        )
        seen = {(problem.path, problem.line, problem.message) for problem in found}
        failed_targets = tuple(f"target {name}: " for name in self.plan.failed_targets)
        for entry in self.plan.problems:
            path = entry.get("path")
            line = entry.get("line")
            message = entry["message"]
            if entry.get("severity") == "warning" or (path, line, message) in seen:
                continue
            if path is None and message.startswith(failed_targets):
                continue
            seen.add((path, line, message))
            found.append(Problem(path=path or "", line=line, message=message))
        return found

    def warnings(self) -> list[str]:
        """Return each warning of the run as ``path:line: message`` text."""

        found = [
            format_problem(warning)
            for document in self.collected.documents
            for warning in document.warnings
        ]
        if self.result is not None:
            for applied in self.result.warnings:
                where = applied.ref or applied.change.ref or applied.change.key or ""
                found.append(f"{where}: warning: {applied.warning}")
        for problem in self.plan.problems:
            if problem.get("severity") == "warning":
                location = format_location(
                    problem.get("path") or "", problem.get("line")
                )
                found.append(f"{location}: warning: {problem.get('message')}")
        return found

    def to_json(self) -> dict:
        from syncd.planview import plan_summary, result_summary

        body = dict((self.result if self.result is not None else self.plan).to_json())
        # The per-action counts are of issues; labels and comments have their own.
        if self.result is not None:
            body["summary"] = result_summary(self.result)
        else:
            body["summary"] = plan_summary(self.plan)
        body["dry_run"] = self.dry_run
        body["files"] = {
            "read": self.collected.files,
            "failed": self.collected.failed_files,
            "items": self.collected.items,
        }
        # The engine reports a target it was not given only by name, so the
        # error that kept the tracker from being built is added here.
        problems = list(body.get("problems", []))
        problems += [problem.to_json() for problem in self.target_problems]
        body["problems"] = problems
        return body


def problem_json(problem: Problem) -> dict:
    data = problem.to_json()
    data["severity"] = problem.severity.value
    return data


# Step 1: read and parse.


def state_path(settings: Settings) -> Path:
    return settings.state_dir / STATE_FILE_NAME


def dialect_name_for(settings: Settings, source: SourceSettings, series: str) -> str:
    """Return the dialect for a series: the first matching rule's, else the source's."""

    for rule in settings.series:
        if rule.dialect is not None and fnmatch.fnmatchcase(series, rule.match):
            return rule.dialect
    return source.dialect


def make_roster(settings: Settings):
    from syncd.roster import Roster

    return Roster(settings.people, settings.groups)


_DATED_NAME = re.compile(r"^(?P<prefix>.*?)[-_. ]*\d{4}-?\d{2}-?\d{2}")


def series_of(
    path: str, source: SourceSettings, series_for_path: Callable[..., str]
) -> str:
    """Return the series of the file at ``path``, relative to its source root.

    A file at the top of the source belongs to the series named like the
    source, so messages never name a series ``.``.

    State written before this rule records top-level items under the series
    ``.``. The next sync still matches them to their issues and updates each
    issue once for the new series name.
    """

    series = series_for_path(path, source.series_depth)
    if not source.series_from_file_name:
        return source.name if series == "." else series
    match = _DATED_NAME.match(PurePosixPath(path).stem)
    prefix = match.group("prefix").strip("-_. ") if match else ""
    # A prefix that repeats the folder name (app-compat/app-compat-2023-11-15.md)
    # is the folder's own series written another way.
    if not prefix or prefix == PurePosixPath(series).name:
        return source.name if series == "." else series
    return prefix if series == "." else f"{series}/{prefix}"


class _DialectCache:
    def __init__(self) -> None:
        self._loaded: dict[str, Any] = {}

    def get(self, name: str):
        if name not in self._loaded:
            from syncd.parser import load_dialect

            self._loaded[name] = load_dialect(name)
        return self._loaded[name]


@contextmanager
def _parse_cache(settings: Settings, read_only: bool) -> Iterator[Any]:
    """Yield the parse cache in the state folder, or None when there is none."""

    try:
        from syncd.parser import ParseCache
    except ImportError:
        yield None
        return
    if read_only:
        # Even a read-only SQLite open may create side files, and a dry run
        # writes nothing; parsing afresh costs about a second per 350 files.
        yield None
        return
    path = settings.state_dir / PARSE_CACHE_NAME
    cache = ParseCache(path, read_only=read_only)
    try:
        yield cache
    finally:
        close = getattr(cache, "close", None)
        if close is not None:
            close()


def collect_documents(
    settings: Settings,
    *,
    read_only: bool,
    should_stop: Callable[[], bool] | None = None,
) -> Collected:
    """Read and parse every file of every source."""

    from syncd.parser import parse_bytes, series_for_path

    collected = Collected()
    dialects = _DialectCache()
    known_names = tuple(make_roster(settings).known_names())
    with _parse_cache(settings, read_only) as cache:
        for source_settings in settings.sources:
            source = None
            try:
                source = open_source(
                    source_settings, state_dir=settings.state_dir, read_only=read_only
                )
                source.prepare()
                paths = source.list_files()
            except OSError as os_error:
                error = SourceError(source_settings.name, f"cannot be read: {os_error}")
            except SourceError as source_error:
                error = source_error
            else:
                error = None
                if not paths:
                    # An empty view of the minutes (a wrong root or glob, an
                    # empty checkout) must not look like every item was done.
                    error = SourceError(
                        source_settings.name,
                        f"has no minutes files: nothing in {source.describe()} "
                        f"matches include {list(source_settings.include)}"
                        + (
                            f" and exclude {list(source_settings.exclude)}"
                            if source_settings.exclude
                            else ""
                        ),
                        hint="check the source's root, include and exclude",
                    )
            if error is not None:
                logger.error("source %s failed: %s", source_settings.name, error)
                collected.source_problems.append(
                    Problem(
                        path=source_settings.name,
                        line=None,
                        message=problem_text(error),
                    )
                )
                if source is not None:
                    source.close()
                continue
            revision = source.revision()
            try:
                for path in paths:
                    if should_stop is not None and should_stop():
                        # A partial view must not drive closes, so the run
                        # notes it as a failed source and writes nothing.
                        collected.stopped = True
                        collected.source_problems.append(
                            Problem(
                                path=source_settings.name,
                                line=None,
                                message="stopped before every file was read; "
                                "nothing was written",
                            )
                        )
                        return collected
                    collected.files += 1
                    series = series_of(path, source_settings, series_for_path)
                    document = _parse_one(
                        source,
                        path,
                        series,
                        settings,
                        dialects,
                        cache,
                        parse_bytes,
                        known_names,
                    )
                    document.source = revision_for_path(revision, path)
                    collected.documents.append(document)
            finally:
                source.close()
    logger.info(
        "read %s (%d failed), %s",
        plural(collected.files, "file"),
        collected.failed_files,
        plural(collected.items, "item"),
    )
    return collected


def revision_for_path(revision: SourceRevision, path: str) -> SourceRevision:
    """Fill ``{path}`` in the source's permalink template for one file.

    The engine fills ``{line}`` per item. Each path segment is URL-quoted,
    so a file name with spaces still gives a working link.
    """

    template = revision.web_url
    if template is None or "{path}" not in template:
        return revision
    return replace(revision, web_url=template.replace("{path}", quote(path)))


def _parse_one(
    source: Source,
    path: str,
    series: str,
    settings: Settings,
    dialects: _DialectCache,
    cache: Any,
    parse_bytes: Callable[..., Document],
    known_names: tuple[str, ...],
) -> Document:
    try:
        data = source.read_file(path)
        dialect = dialects.get(dialect_name_for(settings, source.settings, series))
        options = {
            "path": path,
            "dialect": dialect,
            "series": series,
            "max_bytes": source.settings.max_file_bytes,
            "known_names": known_names,
        }
        if cache is not None:
            return cache.parse(data, **options)
        return parse_bytes(data, **options)
    except InputError as error:
        message = problem_text(error)
        line = error.line
    except SyncdError as error:
        message, line = problem_text(error), None
    except OSError as error:
        message, line = f"cannot be read: {error}", None
    logger.warning("%s: %s", path, message)
    return Document(
        path=path,
        meeting=Meeting(series=series, date=None),
        errors=[
            Problem(path=path, line=line, message=message, severity=Severity.ERROR)
        ],
    )


def open_state(path: Path, *, read_only: bool):
    """Open the state file; a read-only open creates no file, not even SQLite's side files."""

    from syncd.engine import StateStore

    return StateStore.open(path, read_only=read_only)


# Step 2: trackers.


def open_trackers(settings: Settings, *, read_only: bool) -> OpenTrackers:
    """Build one tracker per target; the engine runs each one's preflight."""

    opened = OpenTrackers()
    for target in settings.targets:
        try:
            tracker_class = load_tracker_class(target.kind)
            tracker: Tracker = tracker_class.from_settings(
                target,
                state_dir=settings.state_dir,
                read_only=read_only,
                pacing=settings.pacing,
            )
        except SyncdError as error:
            logger.error("target %s cannot be used: %s", target.name, error)
            opened.errors[target.name] = error
            opened.problems.append(
                Problem(
                    path=f"target {target.name}", line=None, message=problem_text(error)
                )
            )
            continue
        opened.trackers[target.name] = (
            ReadOnlyTracker(tracker) if read_only else tracker
        )
    return opened


# Step 3: plan and apply.


def plan_run(
    settings: Settings,
    *,
    allow_mass_close: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> RunOutcome:
    """Compute the plan without writing anything anywhere."""

    return _run(
        settings,
        apply=False,
        allow_mass_close=allow_mass_close,
        should_stop=should_stop,
    )


def sync_run(
    settings: Settings,
    *,
    dry_run: bool = False,
    allow_mass_close: bool = False,
    should_stop: Callable[[], bool] | None = None,
    lock_wait: float = 0.0,
) -> RunOutcome:
    """Plan and, unless ``dry_run``, apply under the run lock."""

    if dry_run:
        return plan_run(
            settings, allow_mass_close=allow_mass_close, should_stop=should_stop
        )
    from syncd.lock import RunLock

    with RunLock(settings.state_dir, wait=lock_wait, should_stop=should_stop):
        return _run(
            settings,
            apply=True,
            allow_mass_close=allow_mass_close,
            should_stop=should_stop,
        )


def _run(
    settings: Settings,
    *,
    apply: bool,
    allow_mass_close: bool,
    should_stop: Callable[[], bool] | None,
) -> RunOutcome:
    from syncd.engine import apply_plan, compute_plan

    started = time.monotonic()
    read_only = not apply
    collected = collect_documents(
        settings, read_only=read_only, should_stop=should_stop
    )
    if collected.stopped:
        # Only a plan from here on: a stopped run writes nothing at all.
        read_only = True
    opened = open_trackers(settings, read_only=read_only)
    try:
        with open_state(state_path(settings), read_only=read_only) as state:
            plan = compute_plan(
                collected.documents,
                settings=settings,
                trackers=opened.trackers,
                state=state,
                roster=make_roster(settings),
                source_problems=tuple(collected.source_problems),
                allow_mass_close=allow_mass_close,
            )
            result = None
            if not read_only:
                from syncd.progress import Progress

                with Progress(len(plan.changes), "applying changes") as progress:
                    result = apply_plan(
                        plan,
                        trackers=opened.trackers,
                        state=state,
                        pacing=settings.pacing,
                        should_stop=should_stop,
                        on_outcome=lambda outcome: progress.advance(),
                    )
    finally:
        tracker_stats = {
            name: getattr(getattr(tracker, "wrapped", tracker), "stats", None)
            for name, tracker in opened.trackers.items()
        }
        opened.close()
    outcome = RunOutcome(
        collected=collected,
        target_problems=opened.problems,
        plan=plan,
        result=result,
        dry_run=result is None,
        seconds=time.monotonic() - started,
        tracker_stats={
            name: stats for name, stats in tracker_stats.items() if stats is not None
        },
    )
    logger.info(
        "%s finished in %.1f s: %s, %s",
        "sync" if apply else "plan",
        outcome.seconds,
        plural(collected.files, "file"),
        plural(collected.items, "item"),
    )
    return outcome


@dataclass
class StatusReport:
    """The report ``syncd status`` prints: the issues, the last run and unfinished work."""

    issues: list[dict]
    problems: list[Problem]
    last_run: dict | None = None
    failed_writes: list[dict] = field(default_factory=list)
    pending_writes: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "issues": self.issues,
            "last_run": self.last_run,
            "failed_writes": self.failed_writes,
            "pending_writes": self.pending_writes,
            "problems": [problem.to_json() for problem in self.problems],
        }


def _journal_json(entry) -> dict:
    return {
        "target": entry.target,
        "key": entry.key,
        "action": entry.action,
        "error": entry.error,
        "started": entry.started,
    }


def _issue_counts(counts: dict | None, journal) -> dict:
    """Return a run's stored counts with label creations moved out of ``create``.

    The state stores the engine's per-action counts, in which a label the run
    created counts as a ``create``; the journal tells the two apart.
    """

    adjusted = dict(counts or {})
    labels = sum(
        1 for entry in journal if entry.action == "ensure_label" and entry.status == "done"
    )
    if labels and "create" in adjusted:
        adjusted["create"] = max(adjusted["create"] - labels, 0)
        adjusted["labels"] = labels
    return adjusted


def _listed_source_files(settings: Settings) -> set[str] | None:
    """Return the paths of every source's files, or None when that is not known here.

    Only folder sources are listed: a git or http source would need a fetch,
    and ``syncd status`` reaches nothing but the trackers.
    """

    listed: set[str] = set()
    for source_settings in settings.sources:
        if source_settings.kind != "folder":
            return None
        try:
            source = open_source(
                source_settings, state_dir=settings.state_dir, read_only=True
            )
            source.prepare()
            listed.update(source.list_files())
        except (OSError, SourceError) as error:
            logger.info("source %s not listed for status: %s", source_settings.name, error)
            return None
    return listed


def _mark_missing_files(issues: list[dict], listed: set[str] | None) -> None:
    """Set ``present`` on each occurrence and order them by meeting date, then path."""

    for issue in issues:
        occurrences = issue.get("occurrences") or []
        for occurrence in occurrences:
            occurrence["present"] = (
                None if listed is None else occurrence.get("path") in listed
            )
        occurrences.sort(
            key=lambda o: (str(o.get("date") or ""), str(o.get("path") or ""))
        )


def status_run(settings: Settings) -> StatusReport:
    """List every managed issue with its state and where its item was seen."""

    from syncd.engine import build_status

    opened = open_trackers(settings, read_only=True)
    try:
        with open_state(state_path(settings), read_only=True) as state:
            issues = build_status(opened.trackers, state, label=settings.labels.managed)
            _mark_missing_files(issues, _listed_source_files(settings))
            report = StatusReport(issues=issues, problems=opened.problems)
            last = state.last_run()
            if last is not None:
                report.last_run = {
                    "id": last.id,
                    "started": last.started,
                    "finished": last.finished,
                    "outcome": last.outcome,
                    "counts": _issue_counts(
                        last.counts, state.journal(run_id=last.id)
                    ),
                    "errors": last.errors,
                }
                failed = state.journal(run_id=last.id, status="failed")
                report.failed_writes = [_journal_json(entry) for entry in failed]
            report.pending_writes = [
                _journal_json(entry) for entry in state.unfinished_journal()
            ]
    finally:
        opened.close()
    return report
