"""Data read from minutes: documents, meetings, action items and people.

These types are shared by the parser, the engine and the output code, so they
carry no behaviour beyond small conveniences and import nothing from syncd.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field


class ItemKind(str, enum.Enum):
    TASK = "task"
    UNOWNED = "unowned"


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """An error or warning about one input file, with its location.

    An error means the file's items cannot be trusted, so nothing that came
    from the file may be closed. A warning leaves the items usable.
    """

    path: str
    line: int | None
    message: str
    severity: Severity = Severity.ERROR

    def to_json(self) -> dict:
        return {"path": self.path, "line": self.line, "message": self.message}


@dataclass(frozen=True)
class Meeting:
    series: str
    date: datetime.date | None
    title: str | None = None
    participants: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    # Other front-matter scalars as the author wrote them ("10:00" stays text).
    extra: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict:
        return {
            "series": self.series,
            "date": self.date.isoformat() if self.date else None,
            "title": self.title,
            "participants": list(self.participants),
        }


@dataclass(frozen=True)
class Item:
    """One action item as written in one meeting's minutes.

    ``owners`` are the owner tokens as written, in order. ``text`` is the task
    without its owner prefix, with Markdown kept. ``context`` is the block
    nested under the entry (sub-bullets, a table, a pasted log), copied into
    the issue body but never part of the item's identity.
    """

    line: int
    end_line: int
    owners: tuple[str, ...]
    kind: ItemKind
    text: str
    done: bool = False
    context: str = ""

    def to_json(self) -> dict:
        return {
            "line": self.line,
            "end_line": self.end_line,
            "owners": list(self.owners),
            "kind": self.kind.value,
            "text": self.text,
            "done": self.done,
        }


@dataclass(frozen=True)
class SourceRevision:
    """Where a document came from, for links from issues back to the minutes.

    ``web_url`` is a template with ``{line}`` for a permalink to one line at a
    pinned revision, or None when the source is not a git repository on a
    forge.
    """

    revision: str | None = None
    web_url: str | None = None


@dataclass
class Document:
    """One minutes file: one meeting, its items and its problems."""

    path: str
    meeting: Meeting
    items: list[Item] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    source: SourceRevision = field(default_factory=SourceRevision)
    content_hash: str = ""
    # Facts the parser found about the file's text, so the engine can tell
    # minutes that lost their content from a meeting that dropped its items.
    # ``blank`` is True for a file of zero bytes or only whitespace.
    # ``action_sections`` is the number of action sections found, or None
    # when unknown (a document that was not parsed from a file) or when the
    # dialect also reads items marked inline outside any section.
    blank: bool = False
    action_sections: int | None = None

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "meeting": self.meeting.to_json(),
            "items": [item.to_json() for item in self.items],
            "errors": [problem.to_json() for problem in self.errors],
            "warnings": [problem.to_json() for problem in self.warnings],
        }


@dataclass(frozen=True)
class Person:
    """A roster entry: how minutes refer to someone and their tracker accounts."""

    name: str
    aliases: tuple[str, ...] = ()
    github: str | None = None
    gitlab: str | None = None


@dataclass(frozen=True)
class Group:
    """A group word such as ``Everyone`` or ``core``.

    A group maps either to a label put on the issue, or to a list of people
    (roster names) who are all assigned.
    """

    name: str
    aliases: tuple[str, ...] = ()
    label: str | None = None
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResolvedOwner:
    """An owner token after roster lookup.

    Exactly one of ``person`` and ``group`` is set when the token resolved;
    both are None for an unknown or ambiguous token, and ``reason`` says which.
    """

    token: str
    person: Person | None = None
    group: Group | None = None
    reason: str | None = None
