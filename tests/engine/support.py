"""Building blocks for engine tests: meetings, settings, a roster and a sync harness.

The tracker is the real embedded tracker (a SQLite file); a second handle on
the same file acting as another account stands in for a person editing issues.
"""

from __future__ import annotations

import datetime
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from syncd.engine import StateStore, apply_plan, compute_plan
from syncd.model import Document, Group, Item, ItemKind, Meeting, Person, ResolvedOwner
from syncd.settings import (
    Carry,
    Guards,
    LabelSettings,
    ReopenPolicy,
    SeriesPolicy,
    SeriesRule,
    Settings,
    SourceSettings,
    TargetSettings,
)
from syncd.tracker import ReadOnlyTracker
from syncd_adapters.local import LocalTracker

PEOPLE = (
    Person("Rosa Diaz", aliases=("RD",), github="rdiaz", gitlab="rdiaz"),
    Person("Kai Moreno", aliases=("KM",), github="kmoreno", gitlab="kmoreno"),
    Person("Lee Park", aliases=("LP",), github="lpark", gitlab="lpark"),
    Person("Noor Haddad", aliases=("NH",), github="nhaddad", gitlab="nhaddad"),
)
GROUPS = (Group("Everyone", aliases=("All",), label="everyone"),)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


class SimpleRoster:
    """A roster that resolves names and aliases exactly (case-insensitively)."""

    def __init__(self, people=PEOPLE, groups=GROUPS):
        self.people = {}
        for person in people:
            for name in (person.name, *person.aliases):
                self.people[_fold(name)] = person
        self.groups = {}
        for group in groups:
            for name in (group.name, *group.aliases):
                self.groups[_fold(group.name)] = group
                self.groups[_fold(name)] = group

    def resolve(self, token: str, participants=()) -> ResolvedOwner:
        folded = _fold(token)
        if folded in self.people:
            return ResolvedOwner(token=token, person=self.people[folded])
        if folded in self.groups:
            return ResolvedOwner(token=token, group=self.groups[folded])
        return ResolvedOwner(token=token, reason="unknown owner")


def task(
    text: str, *owners: str, line: int = 0, done: bool = False, context: str = ""
) -> Item:
    kind = ItemKind.TASK if owners else ItemKind.UNOWNED
    return Item(
        line=line,
        end_line=line,
        owners=tuple(owners),
        kind=kind,
        text=text,
        done=done,
        context=context,
    )


def meeting(
    date: str,
    items: list[Item],
    *,
    series: str = "ops",
    path: str | None = None,
    errors: list | None = None,
    web_url: str | None = None,
    content_hash: str = "",
) -> Document:
    """Return a meeting's document; items without a line get lines 10, 12, 14, …"""

    numbered = []
    for position, item in enumerate(items):
        if item.line == 0:
            line = 10 + 2 * position
            item = Item(
                line, line, item.owners, item.kind, item.text, item.done, item.context
            )
        numbered.append(item)
    from syncd.model import SourceRevision

    return Document(
        path=path or f"{series}/{date}.md",
        meeting=Meeting(
            series=series, date=datetime.date.fromisoformat(date) if date else None
        ),
        items=numbered,
        errors=list(errors or []),
        source=SourceRevision(web_url=web_url),
        content_hash=content_hash,
    )


def make_settings(
    tmp_path: Path,
    *,
    carry: Carry = Carry.FORWARD,
    missing_meetings: int = 1,
    reopen: ReopenPolicy = ReopenPolicy.COMMENT,
    unowned_items: bool = False,
    since: datetime.date | None = None,
    guards: Guards = Guards(),
    labels: LabelSettings = LabelSettings(),
    targets: tuple[str, ...] = ("main",),
) -> Settings:
    policy = SeriesPolicy(
        carry=carry,
        missing_meetings=missing_meetings,
        since=since,
        unowned_items=unowned_items,
        reopen=reopen,
    )
    return Settings(
        sources=(SourceSettings(name="minutes", root=tmp_path / "minutes"),),
        targets=tuple(
            TargetSettings(
                name=name, kind="local", options={"path": str(tmp_path / "tracker.db")}
            )
            for name in targets
        ),
        default_target=targets[0],
        series=(SeriesRule(match="*", policy=policy),),
        people=PEOPLE,
        groups=GROUPS,
        labels=labels,
        guards=guards,
        state_dir=tmp_path / "state",
    )


@dataclass
class Harness:
    """A target on the embedded tracker, a state file and the sync loop around them."""

    tmp_path: Path
    settings: Settings
    assignable: tuple[str, ...] | None = None
    roster: SimpleRoster = field(default_factory=SimpleRoster)

    def __post_init__(self) -> None:
        self.tracker = LocalTracker(
            "main", self.tmp_path / "tracker.db", assignable=self.assignable
        )

    @property
    def state_path(self) -> Path:
        return self.settings.state_dir / "state.db"

    def person(self, account: str = "alice") -> LocalTracker:
        return self.tracker.as_account(account)

    def plan(self, documents, *, allow_mass_close: bool = False, source_problems=()):
        """Compute a plan as ``syncd plan`` does: read-only tracker and state."""

        reader = LocalTracker(
            "main",
            self.tmp_path / "tracker.db",
            read_only=True,
            assignable=self.assignable,
        )
        with StateStore.open(self.state_path, read_only=True) as state:
            return compute_plan(
                documents,
                settings=self.settings,
                trackers={"main": ReadOnlyTracker(reader)},
                state=state,
                roster=self.roster,
                source_problems=list(source_problems),
                allow_mass_close=allow_mass_close,
            )

    def sync(
        self,
        documents,
        *,
        allow_mass_close: bool = False,
        source_problems=(),
        trackers=None,
        clock=None,
    ):
        trackers = trackers or {"main": self.tracker}
        with StateStore.open(self.state_path) as state:
            plan = compute_plan(
                documents,
                settings=self.settings,
                trackers=trackers,
                state=state,
                roster=self.roster,
                source_problems=list(source_problems),
                allow_mass_close=allow_mass_close,
            )
            result = apply_plan(plan, trackers=trackers, state=state, clock=clock)
        return plan, result

    def issues(self):
        return sorted(
            self.tracker.list_managed(self.settings.labels.managed),
            key=lambda i: i.number,
        )

    def open_issues(self):
        return [i for i in self.issues() if i.state.value == "open"]


WRITE_METHODS = (
    "create",
    "update",
    "close",
    "reopen",
    "comment",
    "ensure_label",
    "ensure_milestone",
)


class RecordingTracker(LocalTracker):
    """The embedded tracker, counting writes and raising chosen errors on them.

    ``faults`` maps a write method's name to a callable that receives the
    call's arguments and returns an exception to raise, or None to let the
    call through. ``after_write`` faults raise after the write was made, like
    a connection that drops before the response arrives.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.writes: list[tuple[str, tuple]] = []
        self.faults: dict = {}
        self.after_write: dict = {}

    def _call(self, name, *args):
        fault = self.faults.get(name)
        error = fault(*args) if fault else None
        if error is not None:
            raise error
        self.writes.append((name, args))
        value = getattr(LocalTracker, name)(self, *args)
        late = self.after_write.get(name)
        error = late(*args) if late else None
        if error is not None:
            raise error
        return value

    def create(self, draft):
        return self._call("create", draft)

    def update(self, number, change):
        return self._call("update", number, change)

    def close(self, number, reason):
        return self._call("close", number, reason)

    def reopen(self, number):
        return self._call("reopen", number)

    def comment(self, number, body):
        return self._call("comment", number, body)

    def ensure_label(self, name, color, description=""):
        return self._call("ensure_label", name, color, description)

    def ensure_milestone(self, title):
        return self._call("ensure_milestone", title)


def recording_harness(
    tmp_path: Path, settings: Settings | None = None, **kwargs
) -> Harness:
    harness = Harness(tmp_path, settings or make_settings(tmp_path), **kwargs)
    harness.tracker = RecordingTracker(
        "main", tmp_path / "tracker.db", assignable=harness.assignable
    )
    return harness
