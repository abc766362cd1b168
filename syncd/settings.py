"""The validated configuration, as plain data.

``syncd.config`` builds these from YAML and reports every problem with its
file, line and key path. The engine and the adapters take these types, so
they never see YAML.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field
from pathlib import Path

from syncd.model import Group, Person


class Carry(str, enum.Enum):
    # The newest meeting's list is the open set: an item missing from the
    # newest meetings is done.
    FORWARD = "forward"
    # Items stay open until a later meeting marks them done.
    ACCUMULATE = "accumulate"


class ReopenPolicy(str, enum.Enum):
    NEVER = "never"
    COMMENT = "comment"
    ALWAYS = "always"


@dataclass(frozen=True)
class SeriesPolicy:
    """How the items of one meeting series are carried from meeting to meeting.

    ``missing_meetings`` is how many of the newest meetings an item may be
    absent from, in a ``forward`` series, before its issue is closed.
    ``since`` bounds how far back accumulated items count on a first sync.
    ``unowned_items`` makes entries without an owner into issues.
    ``reopen`` applies to an issue a person closed while newer meetings still
    list the item. An issue syncd itself closed is always reopened when a
    later meeting lists the item again.
    """

    carry: Carry = Carry.ACCUMULATE
    missing_meetings: int = 1
    since: datetime.date | None = None
    unowned_items: bool = False
    reopen: ReopenPolicy = ReopenPolicy.COMMENT


@dataclass(frozen=True)
class SeriesRule:
    """Applies ``policy`` (and an optional dialect) to series matching ``match``.

    ``match`` is a glob over series names, for example ``discussions/*``.
    """

    match: str
    policy: SeriesPolicy
    dialect: str | None = None


@dataclass(frozen=True)
class SourceSettings:
    """Where minutes are read from.

    ``kind`` is ``folder``, ``git`` or ``http``. For a folder, ``root`` is the
    folder; for git, ``url`` and ``branch`` name the repository and the
    checkout lives under the state folder; for http, ``url`` is a Markdown
    export. ``include`` and ``exclude`` are globs relative to the root.
    ``series_depth`` overrides how a file's series is derived (None: the
    folder relative to the root, with year folders folded into their parent).
    ``web_url`` is a permalink template with ``{revision}``, ``{path}`` and
    ``{line}`` for links from issues to the minutes.
    """

    name: str
    kind: str = "folder"
    root: Path | None = None
    url: str | None = None
    branch: str | None = None
    include: tuple[str, ...] = ("**/*.md",)
    exclude: tuple[str, ...] = ()
    dialect: str = "default"
    series_depth: int | None = None
    web_url: str | None = None
    max_file_bytes: int = 2_000_000
    # When True, the part of a file name before its date names a series
    # inside the folder: ``gsoc/plat-rearch-2023-06-13.md`` belongs to
    # ``gsoc/plat-rearch``, not to ``gsoc``.
    series_from_file_name: bool = False


@dataclass(frozen=True)
class TargetSettings:
    """A tracker to keep issues in.

    ``kind`` names an entry point in the ``syncd.trackers`` group. ``options``
    are the adapter's own settings (``repo``, ``project``, ``base_url``,
    ``path``, ``token_env``, ``token_file``, ``token_credential`` and so on),
    already validated by the adapter's ``validate_options``.
    """

    name: str
    kind: str
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """Send items of series matching ``series`` (a glob) to ``target``."""

    series: str
    target: str


@dataclass(frozen=True)
class LabelSettings:
    """``managed`` marks every issue syncd manages and is how it finds them.

    ``extra`` are added to every new issue. A person may remove them.
    """

    managed: str = "syncd"
    color: str = "0e8a16"
    description: str = "Action item from meeting minutes, kept in sync by syncd"
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class Guards:
    """Limits that stop a run before it closes many issues at once.

    A run that would close more than ``max_close`` issues, or more than
    ``max_close_fraction`` of a target's open managed issues, stops before
    closing anything unless ``--allow-mass-close`` is given. The fraction
    applies only when the target has more than ``max_close`` open issues.
    ``unknown_create_wait`` keeps one item from being created twice.
    """

    max_close: int = 10
    max_close_fraction: float = 0.25
    # Seconds after the start of a create whose outcome is unknown (a timeout,
    # a lost connection, a killed run) before that item may be created again,
    # if no issue with its marker has appeared by then. A server can store
    # a create after the client gave up on it, and lists may lag. GitHub ends
    # a request after 10 s ("Troubleshooting the REST API", Timeouts), and
    # Omnibus GitLab's default worker timeout is 60 s.
    unknown_create_wait: float = 300.0


@dataclass(frozen=True)
class PacingSettings:
    """Write pacing per target: the minimum gap and per-minute and per-hour caps.

    The caps are a sliding window. The defaults stay a margin below GitHub's
    published content-creation limits (80 per minute, 500 per hour), so that
    clock drift between syncd and the server never lets an 81st write into
    one of the server's minutes.
    """

    min_write_interval: float = 0.75
    writes_per_minute: int | None = 75
    writes_per_hour: int | None = 475


@dataclass(frozen=True)
class Settings:
    sources: tuple[SourceSettings, ...]
    targets: tuple[TargetSettings, ...]
    routes: tuple[Route, ...] = ()
    default_target: str | None = None
    series: tuple[SeriesRule, ...] = ()
    default_policy: SeriesPolicy = SeriesPolicy()
    people: tuple[Person, ...] = ()
    groups: tuple[Group, ...] = ()
    labels: LabelSettings = LabelSettings()
    guards: Guards = Guards()
    pacing: PacingSettings = PacingSettings()
    state_dir: Path = Path(".syncd")
    # The file the settings were read from, for messages.
    origin: str = ""
