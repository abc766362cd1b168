"""The state file: what syncd last wrote to each issue, and the write journal.

One SQLite file in WAL mode. It stores, per item key, the issue it maps to
and the values syncd last synced, which are the base of the three-way diff.
It also stores the item's aliases (fingerprints it was known by), every
meeting where it was seen, and a journal of writes (intent before the call,
result after), so a run killed at any point can resume without duplicates.
The same base values travel in each issue's body marker, so a lost state
file is rebuilt from the tracker.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS issues (
    key TEXT PRIMARY KEY,
    series TEXT NOT NULL,
    target TEXT NOT NULL,
    number INTEGER,
    ref TEXT,
    url TEXT,
    title TEXT,
    block_hash TEXT,
    assignees TEXT NOT NULL DEFAULT '[]',
    labels TEXT NOT NULL DEFAULT '[]',
    closed_by_syncd INTEGER NOT NULL DEFAULT 0,
    person_close_seen TEXT,
    person_close_noted INTEGER NOT NULL DEFAULT 0,
    conflict_noted TEXT,
    first_path TEXT,
    first_line INTEGER,
    first_date TEXT
);
CREATE TABLE IF NOT EXISTS aliases (
    series TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (series, fingerprint, ordinal)
);
CREATE TABLE IF NOT EXISTS occurrences (
    key TEXT NOT NULL,
    path TEXT NOT NULL,
    line INTEGER NOT NULL,
    date TEXT,
    text TEXT,
    owners TEXT,
    PRIMARY KEY (key, path, line)
);
CREATE INDEX IF NOT EXISTS occurrences_by_path ON occurrences (path);
CREATE TABLE IF NOT EXISTS revisions (
    path TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    web_url TEXT NOT NULL,
    PRIMARY KEY (path, content_hash)
);
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    target TEXT NOT NULL,
    key TEXT,
    action TEXT NOT NULL,
    intent TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT,
    error TEXT,
    started TEXT NOT NULL,
    finished TEXT
);
CREATE INDEX IF NOT EXISTS journal_by_key ON journal (key, status);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    started TEXT NOT NULL,
    finished TEXT,
    outcome TEXT,
    counts TEXT,
    errors TEXT
);
"""


def _utc_now() -> str:
    # Milliseconds, because apply_plan measures waits of a few seconds from
    # a journal entry's start.
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class IssueRecord:
    """The state of one item key's issue, as syncd last synced it.

    ``title``, ``block_hash``, ``assignees`` and ``labels`` are the values
    syncd last wrote: the base of the three-way diff. ``person_close_seen``
    is the date of the newest meeting that listed the item when syncd first
    saw that a person had closed the issue.
    """

    key: str
    series: str
    target: str
    number: int | None = None
    ref: str | None = None
    url: str | None = None
    title: str | None = None
    block_hash: str | None = None
    assignees: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    closed_by_syncd: bool = False
    person_close_seen: str | None = None
    person_close_noted: bool = False
    conflict_noted: str | None = None
    first_path: str | None = None
    first_line: int | None = None
    first_date: str | None = None

    def with_changes(self, **changes) -> "IssueRecord":
        return replace(self, **changes)


@dataclass(frozen=True)
class Occurrence:
    """One meeting where an item was seen: the file (relative path), line and date."""

    path: str
    line: int
    date: str | None
    text: str | None = None
    owners: tuple[str, ...] = ()


@dataclass
class JournalEntry:
    id: int
    run_id: str
    target: str
    key: str | None
    action: str
    intent: dict
    status: str
    result: dict | None = None
    error: str | None = None
    started: str = ""
    finished: str | None = None


@dataclass
class RunRecord:
    id: str
    started: str
    finished: str | None = None
    outcome: str | None = None
    counts: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)


class StateReadOnlyError(RuntimeError):
    """A write was attempted on a state store opened read-only (a dry run)."""


class StateStore:
    """The SQLite state file. Open with ``StateStore.open``."""

    def __init__(
        self, connection: sqlite3.Connection, *, path: Path | None, read_only: bool
    ):
        self._db = connection
        self.path = path
        self.read_only = read_only

    @classmethod
    def open(cls, path: Path | str, read_only: bool = False) -> "StateStore":
        """Open the state file at ``path``.

        Read-only opens never create or change anything: a missing file is an
        empty state held in memory.
        """

        path = Path(path)
        if read_only:
            copy_dir = None
            if not path.exists():
                connection = sqlite3.connect(":memory:")
                connection.executescript(_SCHEMA)
            elif not Path(f"{path}-wal").exists():
                # No write-ahead log: every commit is in the main file, and
                # immutable=1 makes SQLite read it without creating -wal or
                # -shm files (which plain mode=ro does for a WAL database).
                connection = sqlite3.connect(
                    f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True
                )
            else:
                # A writer may be live, and mode=ro would still create or
                # touch the -shm file. Read a private copy of the file and its
                # log instead; a commit racing the copy is at worst not seen.
                copy_dir = Path(tempfile.mkdtemp(prefix="syncd-state-"))
                copy = copy_dir / path.name
                shutil.copyfile(path, copy)
                shutil.copyfile(f"{path}-wal", f"{copy}-wal")
                connection = sqlite3.connect(copy)
                connection.execute("PRAGMA query_only=ON")
            connection.row_factory = sqlite3.Row
            store = cls(connection, path=path, read_only=True)
            store._copy_dir = copy_dir
            return store

        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=30)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(_SCHEMA)
        _add_missing_columns(connection)
        connection.execute(
            "INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        connection.commit()
        return cls(connection, path=path, read_only=False)

    @classmethod
    def in_memory(cls) -> "StateStore":
        connection = sqlite3.connect(":memory:")
        connection.row_factory = sqlite3.Row
        connection.executescript(_SCHEMA)
        return cls(connection, path=None, read_only=False)

    def close(self) -> None:
        self._db.close()
        copy_dir = getattr(self, "_copy_dir", None)
        if copy_dir is not None:
            shutil.rmtree(copy_dir, ignore_errors=True)
            self._copy_dir = None

    def __enter__(self) -> "StateStore":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _write(self, sql: str, parameters: tuple = ()) -> sqlite3.Cursor:
        if self.read_only:
            raise StateReadOnlyError(f"state file {self.path} is open read-only")
        cursor = self._db.execute(sql, parameters)
        self._db.commit()
        return cursor

    # Settings the status command needs without a config.

    def meta(self, name: str) -> str | None:
        row = self._db.execute(
            "SELECT value FROM meta WHERE name = ?", (name,)
        ).fetchone()
        return row["value"] if row else None

    def set_meta(self, name: str, value: str) -> None:
        self._write(
            "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value)
        )

    # Issues.

    def issue_records(self) -> dict[str, IssueRecord]:
        rows = self._db.execute("SELECT * FROM issues").fetchall()
        return {row["key"]: _record_from_row(row) for row in rows}

    def issue_record(self, key: str) -> IssueRecord | None:
        row = self._db.execute("SELECT * FROM issues WHERE key = ?", (key,)).fetchone()
        return _record_from_row(row) if row else None

    def save_issue(self, record: IssueRecord) -> None:
        self._write(
            "INSERT OR REPLACE INTO issues (key, series, target, number, ref, url, title,"
            " block_hash, assignees, labels, closed_by_syncd, person_close_seen,"
            " person_close_noted, conflict_noted, first_path, first_line, first_date)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.key,
                record.series,
                record.target,
                record.number,
                record.ref,
                record.url,
                record.title,
                record.block_hash,
                json.dumps(list(record.assignees)),
                json.dumps(list(record.labels)),
                int(record.closed_by_syncd),
                record.person_close_seen,
                int(record.person_close_noted),
                record.conflict_noted,
                record.first_path,
                record.first_line,
                record.first_date,
            ),
        )

    # Aliases: the fingerprints (with an ordinal for identical items in one
    # meeting) an item key was known by.

    def aliases(self) -> dict[tuple[str, str, int], str]:
        rows = self._db.execute("SELECT series, fingerprint, ordinal, key FROM aliases")
        return {(r["series"], r["fingerprint"], r["ordinal"]): r["key"] for r in rows}

    def save_aliases(self, aliases: dict[tuple[str, str, int], str]) -> None:
        if self.read_only:
            raise StateReadOnlyError(f"state file {self.path} is open read-only")
        self._db.executemany(
            "INSERT OR REPLACE INTO aliases (series, fingerprint, ordinal, key) VALUES (?, ?, ?, ?)",
            [(s, f, o, k) for (s, f, o), k in aliases.items()],
        )
        self._db.commit()

    # Occurrences.

    def occurrences(self, key: str | None = None) -> dict[str, list[Occurrence]]:
        if key is None:
            rows = self._db.execute(
                "SELECT * FROM occurrences ORDER BY date, path, line"
            )
        else:
            rows = self._db.execute(
                "SELECT * FROM occurrences WHERE key = ? ORDER BY date, path, line",
                (key,),
            )
        found: dict[str, list[Occurrence]] = {}
        for row in rows:
            owners = tuple(json.loads(row["owners"])) if row["owners"] else ()
            found.setdefault(row["key"], []).append(
                Occurrence(row["path"], row["line"], row["date"], row["text"], owners)
            )
        return found

    def replace_occurrences(
        self, key: str, occurrences: list[Occurrence], present_paths: set[str]
    ) -> None:
        """Store ``occurrences`` for ``key``, replacing the old ones from ``present_paths``.

        Occurrences in files that were not read this run (deleted or moved
        minutes) are kept, so the history of where an item was seen survives.
        """

        if self.read_only:
            raise StateReadOnlyError(f"state file {self.path} is open read-only")
        existing = self._db.execute(
            "SELECT path, line FROM occurrences WHERE key = ?", (key,)
        ).fetchall()
        stale = [
            (key, row["path"], row["line"])
            for row in existing
            if row["path"] in present_paths
        ]
        self._db.executemany(
            "DELETE FROM occurrences WHERE key = ? AND path = ? AND line = ?", stale
        )
        self._db.executemany(
            "INSERT OR REPLACE INTO occurrences (key, path, line, date, text, owners)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (key, o.path, o.line, o.date, o.text, json.dumps(list(o.owners)))
                for o in occurrences
            ],
        )
        self._db.commit()

    # Pinned revisions: the first revision at which a file had its content.

    def revisions(self) -> dict[tuple[str, str], str]:
        rows = self._db.execute("SELECT path, content_hash, web_url FROM revisions")
        return {(r["path"], r["content_hash"]): r["web_url"] for r in rows}

    def save_revisions(self, revisions: dict[tuple[str, str], str]) -> None:
        if self.read_only:
            raise StateReadOnlyError(f"state file {self.path} is open read-only")
        self._db.executemany(
            "INSERT OR IGNORE INTO revisions (path, content_hash, web_url) VALUES (?, ?, ?)",
            [(p, h, u) for (p, h), u in revisions.items()],
        )
        self._db.commit()

    # Journal.

    def journal_intent(
        self, run_id: str, target: str, key: str | None, action: str, intent: dict
    ) -> int:
        cursor = self._write(
            "INSERT INTO journal (run_id, target, key, action, intent, status, started)"
            " VALUES (?, ?, ?, ?, ?, 'pending', ?)",
            (
                run_id,
                target,
                key,
                action,
                json.dumps(intent, sort_keys=True),
                _utc_now(),
            ),
        )
        return int(cursor.lastrowid)

    def journal_result(
        self,
        entry_id: int,
        *,
        status: str,
        result: dict | None = None,
        error: str | None = None,
    ) -> None:
        self._write(
            "UPDATE journal SET status = ?, result = ?, error = ?, finished = ? WHERE id = ?",
            (
                status,
                json.dumps(result, sort_keys=True) if result is not None else None,
                error,
                _utc_now(),
                entry_id,
            ),
        )

    def unfinished_journal(self, target: str | None = None) -> list[JournalEntry]:
        """Return writes whose intent was recorded but whose result never was."""

        sql = "SELECT * FROM journal WHERE status = 'pending'"
        parameters: tuple = ()
        if target is not None:
            sql += " AND target = ?"
            parameters = (target,)
        return [
            _journal_from_row(row)
            for row in self._db.execute(sql + " ORDER BY id", parameters)
        ]

    def unknown_create_starts(self) -> dict[tuple[str, str], str]:
        """Return the start of the newest unfinished create per (target, item key)."""

        starts: dict[tuple[str, str], str] = {}
        for entry in self.unfinished_journal():
            if entry.action == "create" and entry.key:
                # Entries come in id order, so a later one is a newer create.
                starts[(entry.target, entry.key)] = entry.started
        return starts

    def journal(
        self, *, run_id: str | None = None, status: str | None = None
    ) -> list[JournalEntry]:
        clauses, parameters = [], []
        if run_id is not None:
            clauses.append("run_id = ?")
            parameters.append(run_id)
        if status is not None:
            clauses.append("status = ?")
            parameters.append(status)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.execute(
            f"SELECT * FROM journal{where} ORDER BY id", tuple(parameters)
        )
        return [_journal_from_row(row) for row in rows]

    def settle_journal(
        self, entry_id: int, status: str, error: str | None = None
    ) -> None:
        """Mark an unfinished write as resolved by a later run (found or abandoned)."""

        self.journal_result(entry_id, status=status, error=error)

    # Runs.

    def start_run(self) -> str:
        run_id = uuid.uuid4().hex
        if not self.read_only:
            self._write(
                "INSERT INTO runs (id, started) VALUES (?, ?)", (run_id, _utc_now())
            )
        return run_id

    def finish_run(self, run_id: str, outcome: str, counts: dict, errors: list) -> None:
        self._write(
            "UPDATE runs SET finished = ?, outcome = ?, counts = ?, errors = ? WHERE id = ?",
            (
                _utc_now(),
                outcome,
                json.dumps(counts, sort_keys=True),
                json.dumps(errors),
                run_id,
            ),
        )

    def last_run(self) -> RunRecord | None:
        row = self._db.execute(
            "SELECT * FROM runs ORDER BY started DESC, rowid DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        return RunRecord(
            id=row["id"],
            started=row["started"],
            finished=row["finished"],
            outcome=row["outcome"],
            counts=json.loads(row["counts"]) if row["counts"] else {},
            errors=json.loads(row["errors"]) if row["errors"] else [],
        )


def _add_missing_columns(connection: sqlite3.Connection) -> None:
    # Columns added after the first state files were written.
    columns = {row[1] for row in connection.execute("PRAGMA table_info(occurrences)")}
    for name in ("text", "owners"):
        if name not in columns:
            connection.execute(f"ALTER TABLE occurrences ADD COLUMN {name} TEXT")


def _record_from_row(row: sqlite3.Row) -> IssueRecord:
    return IssueRecord(
        key=row["key"],
        series=row["series"],
        target=row["target"],
        number=row["number"],
        ref=row["ref"],
        url=row["url"],
        title=row["title"],
        block_hash=row["block_hash"],
        assignees=tuple(json.loads(row["assignees"])),
        labels=tuple(json.loads(row["labels"])),
        closed_by_syncd=bool(row["closed_by_syncd"]),
        person_close_seen=row["person_close_seen"],
        person_close_noted=bool(row["person_close_noted"]),
        conflict_noted=row["conflict_noted"],
        first_path=row["first_path"],
        first_line=row["first_line"],
        first_date=row["first_date"],
    )


def _journal_from_row(row: sqlite3.Row) -> JournalEntry:
    return JournalEntry(
        id=row["id"],
        run_id=row["run_id"],
        target=row["target"],
        key=row["key"],
        action=row["action"],
        intent=json.loads(row["intent"]),
        status=row["status"],
        result=json.loads(row["result"]) if row["result"] else None,
        error=row["error"],
        started=row["started"],
        finished=row["finished"],
    )
