"""``syncd status``: every managed issue with its state and where its item was seen."""

from __future__ import annotations

from collections.abc import Mapping

from syncd.engine.state import StateStore
from syncd.errors import TrackerError
from syncd.marker import marker_key

DEFAULT_LABEL = "syncd"


def build_status(
    trackers: Mapping[str, object], state: StateStore, *, label: str | None = None
) -> list[dict]:
    """Return one entry per managed issue, read from the trackers and the state file.

    ``occurrences`` lists every meeting where the issue's item was seen
    (path relative to the source root, line, date). An issue the state maps
    but a tracker cannot list is reported from the state alone, with
    ``state`` None and the tracker's error.
    """

    records = state.issue_records()
    occurrences = state.occurrences()
    label = label or state.meta("managed_label") or DEFAULT_LABEL
    entries = []
    listed: set[tuple[str, int]] = set()

    for name in sorted(trackers):
        tracker = trackers[name]
        try:
            issues = tracker.list_managed(label)
        except TrackerError as error:
            for record in records.values():
                if record.target == name and record.number is not None:
                    entry = _entry_from_record(record, occurrences.get(record.key, []))
                    entry["error"] = str(error)
                    entries.append(entry)
                    listed.add((name, record.number))
            continue
        by_number = {r.number: r for r in records.values() if r.target == name}
        for issue in sorted(issues, key=lambda i: i.number):
            key = marker_key(issue.body)
            record = by_number.get(issue.number)
            if key is None and record is None:
                continue
            key = key or record.key
            listed.add((name, issue.number))
            entries.append(
                {
                    "tracker": name,
                    "ref": issue.ref,
                    "url": issue.url,
                    "number": issue.number,
                    "state": issue.state.value,
                    "state_reason": issue.state_reason,
                    "title": issue.title,
                    "assignees": list(issue.assignees),
                    "labels": list(issue.labels),
                    "milestone": issue.milestone,
                    "key": key,
                    "occurrences": [_occurrence(o) for o in occurrences.get(key, [])],
                }
            )

    for record in sorted(records.values(), key=lambda r: (r.target, r.number or 0)):
        if record.number is None or (record.target, record.number) in listed:
            continue
        if record.target in trackers:
            entry = _entry_from_record(record, occurrences.get(record.key, []))
            entry["error"] = (
                "not in the tracker's list of managed issues (label removed or issue deleted)"
            )
            entries.append(entry)
    return entries


def _occurrence(occurrence) -> dict:
    return {"path": occurrence.path, "line": occurrence.line, "date": occurrence.date}


def _entry_from_record(record, occurrences) -> dict:
    return {
        "tracker": record.target,
        "ref": record.ref,
        "url": record.url,
        "number": record.number,
        "state": None,
        "state_reason": None,
        "title": record.title,
        "assignees": list(record.assignees),
        "labels": list(record.labels),
        "milestone": None,
        "key": record.key,
        "occurrences": [_occurrence(o) for o in occurrences],
    }
