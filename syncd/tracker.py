"""The tracker protocol: what syncd needs from GitHub, GitLab or the embedded tracker.

Every adapter implements ``Tracker`` and passes the shared contract suite in
``tests/contract``. Adapters raise only ``syncd.errors.TrackerError``
subclasses. Trackers are found through the ``syncd.trackers`` entry-point
group, so another package can add one without changing syncd.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from syncd.errors import DryRunWriteError, SyncdError

if TYPE_CHECKING:
    from pathlib import Path

    from syncd.settings import PacingSettings, TargetSettings

ENTRY_POINT_GROUP = "syncd.trackers"


class IssueState(str, enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class CloseReason(str, enum.Enum):
    COMPLETED = "completed"
    NOT_PLANNED = "not_planned"


@dataclass(frozen=True)
class TrackerLimits:
    """Length limits in characters, enforced before a request is sent."""

    title: int
    body: int
    comment: int


@dataclass(frozen=True)
class Issue:
    """An issue as the tracker reports it.

    ``number`` is what a person sees: the GitHub number, the GitLab iid or the
    embedded tracker's number, never a global id. ``ref`` is the display form
    (``acme/ops#12``). Labels and assignees are sorted, so two reads of an
    unchanged issue compare equal. ``closed_by`` is the account that closed
    it, which tells a close by syncd from a close by a person.
    """

    number: int
    ref: str
    url: str
    title: str
    body: str
    state: IssueState
    state_reason: str | None = None
    labels: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    milestone: str | None = None
    locked: bool = False
    closed_by: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True)
class IssueDraft:
    title: str
    body: str
    labels: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    milestone: str | None = None


class _Unset(enum.Enum):
    UNSET = "unset"


UNSET = _Unset.UNSET


@dataclass(frozen=True)
class IssueUpdate:
    """A partial update: only the fields given are sent.

    Labels and assignees are changed by adding and removing named values, never
    by replacing the whole set, so values a person added survive. ``milestone``
    is UNSET to leave it alone, None to clear it, or a milestone title.
    """

    title: str | None = None
    body: str | None = None
    add_labels: tuple[str, ...] = ()
    remove_labels: tuple[str, ...] = ()
    add_assignees: tuple[str, ...] = ()
    remove_assignees: tuple[str, ...] = ()
    milestone: str | None | _Unset = UNSET

    def is_empty(self) -> bool:
        return (
            self.title is None
            and self.body is None
            and not self.add_labels
            and not self.remove_labels
            and not self.add_assignees
            and not self.remove_assignees
            and self.milestone is UNSET
        )


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    author: str | None = None
    created_at: str | None = None


@dataclass
class RequestStats:
    """Counts of HTTP requests one adapter made, for status and benchmarks."""

    by_endpoint: dict[str, int] = field(default_factory=dict)
    not_modified: int = 0
    rate_limit_remaining: int | None = None

    def count(self, method: str, endpoint: str, status: int) -> None:
        key = f"{method} {endpoint} {status}"
        self.by_endpoint[key] = self.by_endpoint.get(key, 0) + 1
        if status == 304:
            self.not_modified += 1

    @property
    def total(self) -> int:
        return sum(self.by_endpoint.values())


class Tracker(abc.ABC):
    """One target: a GitHub repository, a GitLab project or an embedded tracker file.

    ``name`` is the target's name in the config. Read methods may be called
    on a tracker wrapped in ``ReadOnlyTracker``; write methods may not.
    """

    kind: str = ""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stats = RequestStats()
        # Warnings for the run report, such as an assignee the tracker
        # dropped. The engine adds those raised by a write to its outcome.
        self.warnings: list[str] = []

    @property
    @abc.abstractmethod
    def limits(self) -> TrackerLimits: ...

    # Reads.

    @abc.abstractmethod
    def preflight(self) -> None:
        """Check that the target exists and accepts issues.

        Raise AuthenticationError or TargetUnavailableError when it does not,
        so a dry run can report the problem before any write is tried.
        """

    @abc.abstractmethod
    def list_managed(self, label: str) -> list[Issue]:
        """List every issue, open and closed, that carries ``label``.

        All pages are read and pull requests are left out. The list must be
        complete: a missing issue would be re-created as a duplicate.
        """

    @abc.abstractmethod
    def get(self, number: int) -> Issue: ...

    @abc.abstractmethod
    def list_comments(self, number: int) -> list[Comment]: ...

    @abc.abstractmethod
    def missing_labels(self, names: list[str]) -> list[str]:
        """Return the names among ``names`` that the project has no label for."""

    @abc.abstractmethod
    def missing_milestones(self, titles: list[str]) -> list[str]: ...

    @abc.abstractmethod
    def can_assign(self, account: str) -> bool:
        """Return whether ``account`` may be assigned issues in this project."""

    @abc.abstractmethod
    def current_account(self) -> str:
        """Return the account syncd acts as, to tell its own closes from people's."""

    # Writes.

    @abc.abstractmethod
    def create(self, draft: IssueDraft) -> Issue: ...

    @abc.abstractmethod
    def update(self, number: int, change: IssueUpdate) -> Issue: ...

    @abc.abstractmethod
    def close(self, number: int, reason: CloseReason) -> Issue: ...

    @abc.abstractmethod
    def reopen(self, number: int) -> Issue: ...

    @abc.abstractmethod
    def comment(self, number: int, body: str) -> Comment: ...

    @abc.abstractmethod
    def ensure_label(self, name: str, color: str, description: str = "") -> None: ...

    @abc.abstractmethod
    def ensure_milestone(self, title: str) -> None: ...

    def close_session(self) -> None:
        """Release connections and files. The tracker is unusable afterwards."""

    # Construction from the config.

    @classmethod
    def validate_options(cls, options: dict) -> list[tuple[str, str]]:
        """Check a target's adapter options from the config.

        ``options`` holds the target's keys other than ``kind``, as text.
        Return (key, message) pairs, one per problem; ``syncd config
        validate`` reports them with the file, line and key path.
        """

        return []

    @classmethod
    def from_settings(
        cls,
        target: "TargetSettings",
        *,
        state_dir: "Path",
        read_only: bool = False,
        pacing: "PacingSettings | None" = None,
    ) -> "Tracker":
        """Build the tracker for one configured target.

        ``read_only`` is True for plans and dry runs: the tracker must then
        not create files or change anything, even before the ReadOnlyTracker
        wrapper is applied. ``pacing`` is the config's write pacing. The
        default passes the options as keyword arguments to the constructor.
        """

        return cls(target.name, **target.options)


_WRITE_METHODS = frozenset(
    {"create", "update", "close", "reopen", "comment", "ensure_label", "ensure_milestone"}
)


class ReadOnlyTracker:
    """A tracker that forwards reads and raises DryRunWriteError on any write.

    ``syncd plan`` and ``syncd sync --dry-run`` use it, so a dry run cannot
    write even if the engine has a bug.
    """

    def __init__(self, tracker: Tracker) -> None:
        self._tracker = tracker

    @property
    def wrapped(self) -> Tracker:
        return self._tracker

    def __getattr__(self, name: str) -> Any:
        if name in _WRITE_METHODS:
            raise DryRunWriteError(
                f"dry run tried to call {name}() on tracker {self._tracker.name!r}"
            )
        return getattr(self._tracker, name)


def load_tracker_class(kind: str) -> type[Tracker]:
    """Find the tracker class registered under ``kind`` in the entry-point group."""

    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name == kind:
            return entry_point.load()
    known = sorted(entry_point.name for entry_point in entry_points(group=ENTRY_POINT_GROUP))
    raise SyncdError(
        f"unknown tracker kind {kind!r}",
        hint=f"use one of: {', '.join(known)}, or install the package that provides it",
    )
