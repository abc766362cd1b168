"""Run metrics as a Prometheus textfile, for node_exporter's textfile collector.

After each sync the file is rewritten atomically (a temporary file in the same
folder, then a rename), so the collector never reads half a file. It contains
gauges for the last run and ``_total`` counters that add up over runs. The
counters are carried from the previous file, so they survive restarts of a
timer-driven syncd and reset only when the file is deleted, which Prometheus
handles as a counter reset.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

# Writes per action. ``label`` counts labels syncd created in a project.
ACTIONS = ("create", "update", "close", "reopen", "comment", "label")

_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?P<labels>\{[^}]*\})?\s+(?P<value>\S+)$")


@dataclass
class RunMetrics:
    """The counts of one sync, in the terms of the metrics file.

    ``changes`` counts applied writes per action. ``api_requests`` and
    ``rate_limit_remaining`` are per target name.
    """

    success: bool
    duration_seconds: float
    finished_at: float = field(default_factory=time.time)
    changes: dict[str, int] = field(default_factory=dict)
    failed_changes: int = 0
    pending_changes: int = 0
    conflicts: int = 0
    file_errors: int = 0
    source_errors: int = 0
    target_errors: int = 0
    # A sync that ended early with an error of its own (invalid config, state
    # file that cannot be opened).
    run_errors: int = 0
    files: int = 0
    items: int = 0
    api_requests: dict[str, int] = field(default_factory=dict)
    rate_limit_remaining: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return (
            self.failed_changes
            + self.file_errors
            + self.source_errors
            + self.target_errors
            + self.run_errors
        )


def from_outcome(outcome, success: bool) -> RunMetrics:
    """Build ``RunMetrics`` from a ``syncd.runner.RunOutcome``."""

    metrics = RunMetrics(success=success, duration_seconds=outcome.seconds)
    collected = outcome.collected
    metrics.files = collected.files
    metrics.items = collected.items
    metrics.file_errors = len(collected.file_problems)
    metrics.source_errors = len(collected.source_problems)
    failed_targets = {problem.path.removeprefix("target ") for problem in outcome.target_problems}
    failed_targets.update(getattr(outcome.plan, "failed_targets", None) or {})
    if outcome.result is not None:
        failed_targets.update(getattr(outcome.result, "failed_targets", None) or {})
    metrics.target_errors = len(failed_targets)

    result = outcome.result
    if result is not None:
        summary = result.summary()
        metrics.changes = {action: 0 for action in ACTIONS}
        for change_outcome in result.outcomes:
            if change_outcome.status not in ("applied", "recovered"):
                continue
            change = change_outcome.change
            action = "label" if getattr(change, "subject", "issue") == "label" else change.action
            metrics.changes[action] = metrics.changes.get(action, 0) + 1
        metrics.failed_changes = int(summary.get("failed", 0))
        metrics.pending_changes = int(summary.get("pending", 0))
        metrics.conflicts = int(summary.get("conflict", 0))

    for target, stats in getattr(outcome, "tracker_stats", {}).items():
        metrics.api_requests[target] = stats.total
        if stats.rate_limit_remaining is not None:
            metrics.rate_limit_remaining[target] = stats.rate_limit_remaining
    return metrics


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{name}="{_escape(str(value))}"' for name, value in sorted(labels.items()))
    return "{" + inner + "}"


def read_counters(path: Path) -> dict[str, float]:
    """Read the ``_total`` samples of an earlier file, keyed by name and labels."""

    counters: dict[str, float] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return counters
    for line in text.splitlines():
        match = _SAMPLE.match(line.strip())
        if match is None or not match["name"].endswith("_total"):
            continue
        try:
            counters[match["name"] + (match["labels"] or "")] = float(match["value"])
        except ValueError:
            continue
    return counters


def render(metrics: RunMetrics, previous: dict[str, float] | None = None) -> str:
    """Render the textfile, adding this run to the counters in ``previous``."""

    previous = previous or {}
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[dict, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            key = name + _labels(**labels)
            if kind == "counter":
                value = previous.get(key, 0.0) + value
            lines.append(f"{key} {_number(value)}")

    family("syncd_last_run_timestamp_seconds", "gauge",
           "Unix time the last sync finished.", [({}, metrics.finished_at)])
    family("syncd_last_run_success", "gauge",
           "1 if the last sync finished without errors, else 0.", [({}, int(metrics.success))])
    family("syncd_last_run_duration_seconds", "gauge",
           "How long the last sync took.", [({}, metrics.duration_seconds)])
    family("syncd_last_run_files", "gauge", "Minutes files read by the last sync.", [({}, metrics.files)])
    family("syncd_last_run_items", "gauge", "Action items found by the last sync.", [({}, metrics.items)])
    family("syncd_last_run_changes", "gauge", "Writes applied by the last sync, per action.",
           [({"action": action}, metrics.changes.get(action, 0)) for action in ACTIONS])
    family("syncd_changes_total", "counter", "Writes applied, per action.",
           [({"action": action}, metrics.changes.get(action, 0)) for action in ACTIONS])
    error_kinds = {
        "change": metrics.failed_changes,
        "file": metrics.file_errors,
        "source": metrics.source_errors,
        "target": metrics.target_errors,
        "run": metrics.run_errors,
    }
    family("syncd_last_run_errors", "gauge", "Errors in the last sync, per kind.",
           [({"kind": kind}, count) for kind, count in error_kinds.items()])
    family("syncd_errors_total", "counter", "Errors, per kind.",
           [({"kind": kind}, count) for kind, count in error_kinds.items()])
    family("syncd_runs_total", "counter", "Syncs run, per result.",
           [({"result": "success"}, int(metrics.success)),
            ({"result": "failure"}, int(not metrics.success))])
    family("syncd_last_run_pending_changes", "gauge",
           "Changes left for the next sync (rate limit, stop).", [({}, metrics.pending_changes)])
    family("syncd_last_run_conflicts", "gauge",
           "Items whose issue a person changed in a way syncd will not overwrite.",
           [({}, metrics.conflicts)])
    family("syncd_last_run_api_requests", "gauge", "Tracker API requests in the last sync, per target.",
           [({"target": target}, count) for target, count in sorted(metrics.api_requests.items())])
    family("syncd_api_requests_total", "counter", "Tracker API requests, per target.",
           [({"target": target}, count) for target, count in sorted(metrics.api_requests.items())])
    family("syncd_rate_limit_remaining", "gauge",
           "Requests left in the tracker's rate limit window after the last sync, per target.",
           [({"target": target}, count) for target, count in sorted(metrics.rate_limit_remaining.items())])
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def write_textfile(path: Path, metrics: RunMetrics) -> bool:
    """Write the metrics file atomically. Return False, after logging why, on failure.

    A metrics file that cannot be written never fails the sync itself.
    """

    path = Path(path)
    try:
        text = render(metrics, read_counters(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            # node_exporter runs as another user: the file must be world-readable.
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        logger.warning("could not write the metrics file %s: %s", path, error)
        return False
    logger.debug("wrote metrics to %s", path)
    return True
