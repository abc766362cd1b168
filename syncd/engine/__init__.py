"""Compute a sync plan from documents and tracker state, then apply it.

The engine imports no CLI, YAML or HTTP code. ``compute_plan`` only reads
(trackers through ``ReadOnlyTracker``, the state file opened read-only);
``apply_plan`` makes exactly the plan's writes and journals each one.
"""

from syncd.engine.apply import Outcome, SyncResult, apply_plan
from syncd.engine.changes import Change, FieldChange, ItemRef, Plan
from syncd.engine.plan import compute_plan
from syncd.engine.state import IssueRecord, StateStore
from syncd.engine.status import build_status

__all__ = [
    "Change",
    "FieldChange",
    "IssueRecord",
    "ItemRef",
    "Outcome",
    "Plan",
    "StateStore",
    "SyncResult",
    "apply_plan",
    "build_status",
    "compute_plan",
]
