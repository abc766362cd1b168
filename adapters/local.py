"""The embedded tracker: issues kept in a SQLite file on this machine.

It is the default target, so the whole job runs with no token and no network,
and ``--tracker local:PATH`` sends a real config's targets to it for a
rehearsal. It behaves like GitHub or GitLab as far as syncd can tell: issues
have per-project numbers, open and closed states, close reasons, labels,
milestones, assignees, comments, timestamps and the account that closed
them. One file may hold several projects (one per target name), each with its
own numbering.

Opened with ``read_only=True`` it uses SQLite's ``mode=ro``, so a plan cannot
change the file, and a file that does not exist yet reads as an empty
tracker without being created.
"""

from __future__ import annotations

import datetime
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from syncd.errors import (
    DryRunWriteError,
    IssueLockedError,
    IssueNotFoundError,
    TargetUnavailableError,
    TrackerError,
    TransientTrackerError,
    ValidationFailedError,
)
from syncd.tracker import (
    UNSET,
    CloseReason,
    Comment,
    Issue,
    IssueDraft,
    IssueState,
    IssueUpdate,
    Tracker,
    TrackerLimits,
)

if TYPE_CHECKING:
    from syncd.settings import PacingSettings, TargetSettings

# The same limits as GitHub, so a rehearsal on the embedded tracker meets the
# same truncation as a real run.
LOCAL_LIMITS = TrackerLimits(title=256, body=65_536, comment=65_536)

DEFAULT_ACCOUNT = "syncd"
DEFAULT_LABEL_COLOR = "ededed"
# Seconds a write waits for another process's transaction before failing.
BUSY_TIMEOUT_MS = 5_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS issues (
    project TEXT NOT NULL,
    number INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    state_reason TEXT,
    milestone TEXT,
    locked INTEGER NOT NULL DEFAULT 0,
    author TEXT NOT NULL,
    closed_by TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_at TEXT,
    PRIMARY KEY (project, number)
);
CREATE TABLE IF NOT EXISTS issue_labels (
    project TEXT NOT NULL,
    number INTEGER NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (project, number, label)
);
CREATE TABLE IF NOT EXISTS issue_assignees (
    project TEXT NOT NULL,
    number INTEGER NOT NULL,
    account TEXT NOT NULL,
    PRIMARY KEY (project, number, account)
);
CREATE TABLE IF NOT EXISTS labels (
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    color TEXT NOT NULL,
    description TEXT NOT NULL,
    PRIMARY KEY (project, name)
);
CREATE TABLE IF NOT EXISTS milestones (
    project TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open',
    PRIMARY KEY (project, title)
);
CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    number INTEGER NOT NULL,
    body TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS issue_labels_by_label ON issue_labels (project, label);
"""


def read_only_uri(path: Path) -> str:
    """Return a SQLite URI that reads ``path`` without creating any file.

    Opening a WAL database with ``mode=ro`` creates its ``-wal`` and ``-shm``
    files when they are missing, which a dry run must not do. No ``-wal``
    file means every commit is in the main file, so it is read as immutable.
    Otherwise the side files exist already and ``mode=ro`` creates nothing.
    """

    uri = f"{path.resolve().as_uri()}?mode=ro"
    if not Path(f"{path}-wal").exists():
        uri += "&immutable=1"
    return uri


def _utc_now() -> str:
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


class LocalTracker(Tracker):
    """A tracker project stored in a SQLite file.

    ``project`` names the project inside the file (default: the target
    name). ``account`` is who the tracker acts as; tests use another account
    to stand in for a person editing an issue. ``assignable`` restricts the
    accounts that may be assigned, like a repository's collaborators; None
    lets every account be assigned.
    """

    kind = "local"
    known_options = frozenset({"path", "project", "assignable"})

    def __init__(
        self,
        name: str,
        path: str | Path,
        *,
        project: str | None = None,
        account: str = DEFAULT_ACCOUNT,
        assignable: list[str] | tuple[str, ...] | None = None,
        read_only: bool = False,
        clock: Callable[[], str] = _utc_now,
    ) -> None:
        super().__init__(name)
        self.path = Path(path)
        self.project = project or name
        self.account = account
        self.assignable = None if assignable is None else frozenset(assignable)
        self.read_only = read_only
        self._clock = clock
        self._connection: sqlite3.Connection | None = None

    # Construction from the config.

    @classmethod
    def validate_options(cls, options: dict) -> list[tuple[str, str]]:
        problems = []
        if not options.get("path"):
            problems.append(
                ("path", "missing: give the SQLite file, e.g. path: tracker.db")
            )
        for key in ("project", "path"):
            value = options.get(key)
            if value is not None and not isinstance(value, str):
                problems.append((key, "must be text"))
        assignable = options.get("assignable")
        if assignable is not None and not (
            isinstance(assignable, list) and all(isinstance(a, str) for a in assignable)
        ):
            problems.append(("assignable", "must be a list of account names"))
        known = cls.known_options
        for key in options:
            if key not in known:
                problems.append(
                    (
                        key,
                        f"unknown option for a local target (known: {', '.join(sorted(known))})",
                    )
                )
        return problems

    @classmethod
    def from_settings(
        cls,
        target: TargetSettings,
        *,
        state_dir: Path,
        read_only: bool = False,
        pacing: PacingSettings | None = None,
    ) -> LocalTracker:
        # Writes to a local file need no pacing, so ``pacing`` is ignored.
        options = target.options
        path = Path(options.get("path") or state_dir / "tracker.db")
        return cls(
            target.name,
            path,
            project=options.get("project"),
            assignable=options.get("assignable"),
            read_only=read_only,
        )

    def as_account(self, account: str) -> LocalTracker:
        """Return a tracker on the same file and project acting as ``account``."""

        return LocalTracker(
            self.name,
            self.path,
            project=self.project,
            account=account,
            assignable=None if self.assignable is None else sorted(self.assignable),
            read_only=self.read_only,
            clock=self._clock,
        )

    # Connection handling.

    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None:
            return self._connection
        try:
            if self.read_only:
                connection = self._connect_read_only()
            else:
                connection = self._connect_read_write()
        except (sqlite3.Error, OSError) as error:
            raise TargetUnavailableError(
                f"cannot open the embedded tracker file {self.path}: {error}",
                target=self.name,
                hint="check that the path is a syncd tracker file and is readable",
            ) from None
        self._connection = connection
        return connection

    def _connect_read_only(self) -> sqlite3.Connection:
        if not self.path.exists():
            # A dry run against a tracker that was never written: an empty
            # tracker, held in memory so nothing is created on disk.
            connection = sqlite3.connect(":memory:")
            connection.executescript(SCHEMA)
            return connection
        connection = sqlite3.connect(
            read_only_uri(self.path), uri=True, timeout=BUSY_TIMEOUT_MS / 1000
        )
        # Reading the schema proves the file is a SQLite database.
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        tables = {
            row[0] for row in connection.execute("SELECT name FROM sqlite_master")
        }
        if not tables:
            # A file with no tables at all is what a sync killed while
            # creating the tracker leaves behind: it holds no issues yet.
            connection.close()
            connection = sqlite3.connect(":memory:")
            connection.executescript(SCHEMA)
            return connection
        if "issues" not in tables:
            connection.close()
            raise sqlite3.DatabaseError("the file has no syncd issues table")
        return connection

    def _connect_read_write(self) -> sqlite3.Connection:
        if self.path.is_dir():
            raise sqlite3.OperationalError(f"{self.path} is a folder")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            self._create_file()
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.executescript(SCHEMA)
        return connection

    def _create_file(self) -> None:
        """Create the tracker file with its tables in one step.

        The schema is built in a temporary file beside the target and linked
        into place, so a process killed on the way leaves either no tracker
        file or a complete one. Linking fails when another process created the
        file first, and that file is used as it is.
        """

        handle, temporary = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".new", dir=self.path.parent
        )
        os.close(handle)
        try:
            building = sqlite3.connect(temporary)
            try:
                building.execute("PRAGMA journal_mode = WAL")
                building.executescript(SCHEMA)
                building.commit()
            finally:
                building.close()
            try:
                os.link(temporary, self.path)
            except FileExistsError:
                pass
            except OSError:
                # A file system without hard links: a rename, which may
                # replace a file another process created a moment ago.
                if not self.path.exists():
                    os.replace(temporary, self.path)
        finally:
            for leftover in (temporary, f"{temporary}-wal", f"{temporary}-shm"):
                with suppress(FileNotFoundError):
                    os.unlink(leftover)

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        connection = self._connect()
        try:
            yield connection
        except sqlite3.OperationalError as error:
            raise self._translate(error) from None
        except sqlite3.DatabaseError as error:
            raise TargetUnavailableError(
                f"embedded tracker file {self.path} is damaged: {error}",
                target=self.name,
            ) from None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:
            raise DryRunWriteError(
                f"embedded tracker {self.name!r} was opened read-only for a dry run"
            )
        connection = self._connect()
        try:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                yield connection
        except sqlite3.OperationalError as error:
            raise self._translate(error) from None
        except sqlite3.DatabaseError as error:
            raise TargetUnavailableError(
                f"embedded tracker file {self.path} is damaged: {error}",
                target=self.name,
            ) from None

    def _translate(self, error: sqlite3.OperationalError) -> TrackerError:
        message = str(error)
        if "locked" in message or "busy" in message:
            return TransientTrackerError(
                f"embedded tracker file {self.path} is busy: {message}",
                target=self.name,
            )
        return TrackerError(
            f"embedded tracker file {self.path}: {message}", target=self.name
        )

    def close_session(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # Reads.

    @property
    def limits(self) -> TrackerLimits:
        return LOCAL_LIMITS

    def preflight(self) -> None:
        with self._read() as connection:
            connection.execute("SELECT count(*) FROM issues").fetchone()

    def list_managed(self, label: str) -> list[Issue]:
        with self._read() as connection:
            name = self._label_spellings(connection).get(label.casefold(), label)
            rows = connection.execute(
                "SELECT number FROM issue_labels WHERE project = ? AND label = ?"
                " ORDER BY number",
                (self.project, name),
            ).fetchall()
            return [self._load(connection, number) for (number,) in rows]

    def list_all(self) -> list[Issue]:
        """Return every issue of the project, managed or not, by number."""

        with self._read() as connection:
            rows = connection.execute(
                "SELECT number FROM issues WHERE project = ? ORDER BY number",
                (self.project,),
            ).fetchall()
            return [self._load(connection, number) for (number,) in rows]

    def get(self, number: int) -> Issue:
        with self._read() as connection:
            return self._load(connection, number)

    def list_comments(self, number: int) -> list[Comment]:
        with self._read() as connection:
            self._require(connection, number)
            rows = connection.execute(
                "SELECT id, body, author, created_at FROM comments"
                " WHERE project = ? AND number = ? ORDER BY id",
                (self.project, number),
            ).fetchall()
        return [
            Comment(id=row[0], body=row[1], author=row[2], created_at=row[3])
            for row in rows
        ]

    def missing_labels(self, names: list[str]) -> list[str]:
        with self._read() as connection:
            existing = self._label_names(connection)
        return [name for name in names if name.casefold() not in existing]

    def missing_milestones(self, titles: list[str]) -> list[str]:
        with self._read() as connection:
            existing = self._milestone_titles(connection)
        return [title for title in titles if title not in existing]

    def can_assign(self, account: str) -> bool:
        if not account or account != account.strip():
            return False
        if self.assignable is None:
            return True
        return account == self.account or account in self.assignable

    def current_account(self) -> str:
        return self.account

    # Writes.

    def create(self, draft: IssueDraft) -> Issue:
        self._check_text("title", draft.title, self.limits.title)
        self._check_text("body", draft.body, self.limits.body, allow_empty=True)
        self._check_assignees(draft.assignees)
        with self._write() as connection:
            if draft.milestone is not None:
                self._require_milestone(connection, draft.milestone)
            row = connection.execute(
                "SELECT coalesce(max(number), 0) + 1 FROM issues WHERE project = ?",
                (self.project,),
            ).fetchone()
            number = row[0]
            now = self._clock()
            connection.execute(
                "INSERT INTO issues (project, number, title, body, state, milestone,"
                " author, created_at, updated_at) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?)",
                (
                    self.project,
                    number,
                    draft.title,
                    draft.body,
                    draft.milestone,
                    self.account,
                    now,
                    now,
                ),
            )
            self._add_labels(connection, number, draft.labels)
            self._add_assignees(connection, number, draft.assignees)
            return self._load(connection, number)

    def update(self, number: int, change: IssueUpdate) -> Issue:
        if change.title is not None:
            self._check_text("title", change.title, self.limits.title)
        if change.body is not None:
            self._check_text("body", change.body, self.limits.body, allow_empty=True)
        self._check_assignees(change.add_assignees)
        with self._write() as connection:
            self._require(connection, number)
            if change.is_empty():
                return self._load(connection, number)
            if change.title is not None:
                self._set(connection, number, "title", change.title)
            if change.body is not None:
                self._set(connection, number, "body", change.body)
            if change.milestone is not UNSET:
                if change.milestone is not None:
                    self._require_milestone(connection, change.milestone)
                self._set(connection, number, "milestone", change.milestone)
            self._add_labels(connection, number, change.add_labels)
            spellings = self._label_spellings(connection)
            connection.executemany(
                "DELETE FROM issue_labels WHERE project = ? AND number = ? AND label = ?",
                [
                    (self.project, number, spellings.get(label.casefold(), label))
                    for label in change.remove_labels
                ],
            )
            self._add_assignees(connection, number, change.add_assignees)
            connection.executemany(
                "DELETE FROM issue_assignees WHERE project = ? AND number = ? AND account = ?",
                [
                    (self.project, number, account)
                    for account in change.remove_assignees
                ],
            )
            self._touch(connection, number)
            return self._load(connection, number)

    def close(self, number: int, reason: CloseReason) -> Issue:
        reason = CloseReason(reason)
        with self._write() as connection:
            issue = self._load(connection, number)
            if issue.state is IssueState.CLOSED and issue.state_reason == reason.value:
                return issue
            now = self._clock()
            connection.execute(
                "UPDATE issues SET state = 'closed', state_reason = ?, closed_by = ?,"
                " closed_at = ?, updated_at = ? WHERE project = ? AND number = ?",
                (reason.value, self.account, now, now, self.project, number),
            )
            return self._load(connection, number)

    def reopen(self, number: int) -> Issue:
        with self._write() as connection:
            issue = self._load(connection, number)
            if issue.state is IssueState.OPEN:
                return issue
            connection.execute(
                "UPDATE issues SET state = 'open', state_reason = 'reopened', closed_by = NULL,"
                " closed_at = NULL, updated_at = ? WHERE project = ? AND number = ?",
                (self._clock(), self.project, number),
            )
            return self._load(connection, number)

    def comment(self, number: int, body: str) -> Comment:
        self._check_text("comment", body, self.limits.comment)
        with self._write() as connection:
            issue = self._load(connection, number)
            if issue.locked:
                raise IssueLockedError(
                    f"{issue.ref} is locked, so comments are rejected",
                    target=self.name,
                    ref=issue.ref,
                    status=403,
                )
            now = self._clock()
            cursor = connection.execute(
                "INSERT INTO comments (project, number, body, author, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (self.project, number, body, self.account, now),
            )
            self._touch(connection, number)
            return Comment(
                id=cursor.lastrowid, body=body, author=self.account, created_at=now
            )

    def ensure_label(self, name: str, color: str, description: str = "") -> None:
        with self._write() as connection:
            if name.casefold() in self._label_names(connection):
                return
            connection.execute(
                "INSERT INTO labels (project, name, color, description) VALUES (?, ?, ?, ?)",
                (self.project, name, color, description),
            )

    def ensure_milestone(self, title: str) -> None:
        with self._write() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO milestones (project, title) VALUES (?, ?)",
                (self.project, title),
            )

    def lock(self, number: int, locked: bool = True) -> Issue:
        """Lock or unlock an issue's conversation, as a maintainer would."""

        with self._write() as connection:
            self._require(connection, number)
            self._set(connection, number, "locked", int(locked))
            return self._load(connection, number)

    # Helpers.

    def _ref(self, number: int) -> str:
        return f"{self.project}#{number}"

    def _url(self, number: int) -> str:
        return f"{self.path.resolve().as_uri()}#{self.project}/{number}"

    def _require(self, connection: sqlite3.Connection, number: int) -> None:
        row = connection.execute(
            "SELECT 1 FROM issues WHERE project = ? AND number = ?",
            (self.project, number),
        ).fetchone()
        if row is None:
            raise IssueNotFoundError(
                f"issue {self._ref(number)} not found",
                target=self.name,
                ref=self._ref(number),
                status=404,
            )

    def _load(self, connection: sqlite3.Connection, number: int) -> Issue:
        row = connection.execute(
            "SELECT title, body, state, state_reason, milestone, locked, closed_by,"
            " created_at, updated_at FROM issues WHERE project = ? AND number = ?",
            (self.project, number),
        ).fetchone()
        if row is None:
            raise IssueNotFoundError(
                f"issue {self._ref(number)} not found",
                target=self.name,
                ref=self._ref(number),
                status=404,
            )
        labels = connection.execute(
            "SELECT label FROM issue_labels WHERE project = ? AND number = ? ORDER BY label",
            (self.project, number),
        ).fetchall()
        assignees = connection.execute(
            "SELECT account FROM issue_assignees WHERE project = ? AND number = ?"
            " ORDER BY account",
            (self.project, number),
        ).fetchall()
        return Issue(
            number=number,
            ref=self._ref(number),
            url=self._url(number),
            title=row[0],
            body=row[1],
            state=IssueState(row[2]),
            state_reason=row[3],
            labels=tuple(label for (label,) in labels),
            assignees=tuple(account for (account,) in assignees),
            milestone=row[4],
            locked=bool(row[5]),
            closed_by=row[6],
            created_at=row[7],
            updated_at=row[8],
        )

    def _set(
        self, connection: sqlite3.Connection, number: int, column: str, value
    ) -> None:
        # ``column`` comes from this class only, never from input.
        connection.execute(
            f"UPDATE issues SET {column} = ? WHERE project = ? AND number = ?",
            (value, self.project, number),
        )

    def _touch(self, connection: sqlite3.Connection, number: int) -> None:
        self._set(connection, number, "updated_at", self._clock())

    def _label_names(self, connection: sqlite3.Connection) -> set[str]:
        rows = connection.execute(
            "SELECT name FROM labels WHERE project = ?", (self.project,)
        ).fetchall()
        return {name.casefold() for (name,) in rows}

    def _milestone_titles(self, connection: sqlite3.Connection) -> set[str]:
        rows = connection.execute(
            "SELECT title FROM milestones WHERE project = ?", (self.project,)
        ).fetchall()
        return {title for (title,) in rows}

    def _require_milestone(self, connection: sqlite3.Connection, title: str) -> None:
        if title not in self._milestone_titles(connection):
            raise ValidationFailedError(
                f"milestone {title!r} does not exist in {self.project}",
                field="milestone",
                target=self.name,
                hint="create it first (ensure_milestone)",
            )

    def _add_labels(self, connection: sqlite3.Connection, number: int, labels) -> None:
        # Like GitHub and GitLab, a label that does not exist yet is created
        # with a neutral colour when it is first put on an issue, and a name
        # that differs from an existing label only in case means that label.
        existing = self._label_spellings(connection)
        for label in labels:
            name = existing.get(label.casefold())
            if name is None:
                connection.execute(
                    "INSERT INTO labels (project, name, color, description)"
                    " VALUES (?, ?, ?, '')",
                    (self.project, label, DEFAULT_LABEL_COLOR),
                )
                name = existing[label.casefold()] = label
            connection.execute(
                "INSERT OR IGNORE INTO issue_labels (project, number, label)"
                " VALUES (?, ?, ?)",
                (self.project, number, name),
            )

    def _label_spellings(self, connection: sqlite3.Connection) -> dict[str, str]:
        rows = connection.execute(
            "SELECT name FROM labels WHERE project = ?", (self.project,)
        ).fetchall()
        return {name.casefold(): name for (name,) in rows}

    def _add_assignees(
        self, connection: sqlite3.Connection, number: int, accounts
    ) -> None:
        connection.executemany(
            "INSERT OR IGNORE INTO issue_assignees (project, number, account) VALUES (?, ?, ?)",
            [(self.project, number, account) for account in accounts],
        )

    def _check_assignees(self, accounts) -> None:
        for account in accounts:
            if not self.can_assign(account):
                raise ValidationFailedError(
                    f"account {account!r} cannot be assigned in {self.project}",
                    field="assignees",
                    target=self.name,
                )

    def _check_text(
        self, field: str, text: str, limit: int, allow_empty: bool = False
    ) -> None:
        if not isinstance(text, str):
            raise ValidationFailedError(
                f"{field} must be text", field=field, target=self.name
            )
        if not allow_empty and not text.strip():
            raise ValidationFailedError(
                f"{field} is empty", field=field, target=self.name
            )
        if len(text) > limit:
            raise ValidationFailedError(
                f"{field} is {len(text)} characters, more than the limit of {limit}",
                field=field,
                target=self.name,
            )
