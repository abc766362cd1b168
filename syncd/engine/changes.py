"""The plan's data: changes, their JSON form, and the plan itself.

``Plan.to_json`` and ``SyncResult.to_json`` follow the versioned JSON
contract that ``syncd plan`` and ``syncd sync`` print: a list of changes with
``action``, ``item``, ``issue``, ``fields``, ``reason`` and ``match``, a
summary count per action, and the conflicts, problems and refused closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from syncd.engine.state import IssueRecord, Occurrence
from syncd.tracker import CloseReason, IssueDraft, IssueUpdate

JSON_VERSION = 1
ACTIONS = ("create", "update", "close", "reopen", "comment")
MASS_CLOSE_FLAG = "--allow-mass-close"


@dataclass(frozen=True)
class FieldChange:
    before: Any
    after: Any

    def to_json(self) -> dict:
        return {"before": self.before, "after": self.after}


@dataclass(frozen=True)
class ItemRef:
    """The item a change is about, as the newest meeting lists it."""

    path: str
    line: int
    owners: tuple[str, ...]
    text: str
    key: str

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "owners": list(self.owners),
            "text": self.text,
            "key": self.key,
        }


@dataclass
class Change:
    """One write to a tracker, with what it is for and what it needs to run.

    ``subject`` is ``issue`` for changes to issues and ``label`` for the
    label bootstrap. ``record`` is the item's state after the change
    succeeds; ``apply_plan`` stores it.
    """

    action: str
    target: str
    reason: str
    key: str | None = None
    item: ItemRef | None = None
    number: int | None = None
    ref: str | None = None
    fields: dict[str, FieldChange] = field(default_factory=dict)
    match: str | None = None
    subject: str = "issue"
    draft: IssueDraft | None = None
    update: IssueUpdate | None = None
    comment: str | None = None
    close_reason: CloseReason | None = None
    label: tuple[str, str, str] | None = None
    record: IssueRecord | None = None

    def to_json(self) -> dict:
        data = {
            "action": self.action,
            "subject": self.subject,
            "item": self.item.to_json() if self.item else None,
            "issue": {"tracker": self.target, "ref": self.ref},
            "fields": {name: change.to_json() for name, change in self.fields.items()},
            "reason": self.reason,
            "match": self.match,
        }
        if self.close_reason is not None:
            data["close_reason"] = self.close_reason.value
        if self.comment is not None:
            data["comment"] = self.comment
        return data


@dataclass
class Plan:
    """The writes a sync would make. ``compute_plan`` builds it and ``apply_plan`` runs it."""

    changes: list[Change] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    unchanged: int = 0
    unchanged_issues: list[dict] = field(default_factory=list)
    failed_targets: dict[str, str] = field(default_factory=dict)
    # Bookkeeping that apply_plan stores without writing to any tracker.
    records: dict[str, IssueRecord] = field(default_factory=dict)
    occurrences: dict[str, list[Occurrence]] = field(default_factory=dict)
    aliases: dict[tuple[str, str, int], str] = field(default_factory=dict)
    revisions: dict[tuple[str, str], str] = field(default_factory=dict)
    present_paths: set[str] = field(default_factory=set)
    key_targets: dict[str, str] = field(default_factory=dict)
    managed_label: str = "syncd"
    failed_documents: int = 0
    # Keys of items that a problem leaves without an issue in this run, such
    # as an issue deleted on the tracker. A sync with any is partial.
    items_without_issue: list[str] = field(default_factory=list)
    # Seconds apply_plan waits, after a create with an unknown outcome,
    # before it creates that item again (``Guards.unknown_create_wait``).
    unknown_create_wait: float = 300.0

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def guard_tripped(self) -> bool:
        return any(entry.get("override") for entry in self.refused)

    @property
    def partial(self) -> bool:
        """Whether part of the input or a target could not be used."""

        return bool(self.failed_targets or self.failed_documents or self.source_failed)

    source_failed: bool = False

    def summary(self) -> dict[str, int]:
        counts = {action: 0 for action in ACTIONS}
        for change in self.changes:
            counts[change.action] += 1
        counts["unchanged"] = self.unchanged
        counts["conflict"] = len(self.conflicts)
        counts["refused"] = len(self.refused)
        return counts

    def to_json(self) -> dict:
        return {
            "version": JSON_VERSION,
            "changes": [change.to_json() for change in self.changes],
            "summary": self.summary(),
            "conflicts": list(self.conflicts),
            "problems": list(self.problems),
            "refused": list(self.refused),
            "notes": list(self.notes),
            "unchanged": list(self.unchanged_issues),
            "failed_targets": dict(self.failed_targets),
        }
