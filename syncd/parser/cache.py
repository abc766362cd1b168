"""A cache of parsed documents in an SQLite file in the state folder.

A file is parsed again only when its bytes, its path, its series, the
dialect or the parser itself changed: the key is a hash of all of these, so
a stale entry is never returned, only left unused.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path

from syncd.model import Document, Meeting, Problem, Severity
from syncd.parser.core import parse_bytes
from syncd.parser.dialect import Dialect
from syncd.parser.extract import new_item

logger = logging.getLogger(__name__)

# Bump when a parser change alters what a given input parses to.
PARSER_VERSION = "7"


def dialect_fingerprint(dialect: Dialect) -> str:
    values = [
        (item.name, getattr(dialect, item.name)) for item in fields(dialect) if item.name != "compiled"
    ]
    return hashlib.sha256(repr(values).encode("utf-8")).hexdigest()


class ParseCache:
    """Parse through an SQLite cache at ``path``.

    ``read_only`` (for a dry run or ``syncd parse``) never writes; a missing
    cache file then just means every file is parsed.
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.hits = 0
        self.misses = 0
        self._db: sqlite3.Connection | None = None
        self._fingerprints: dict[int, tuple[Dialect, str]] = {}
        # Why the cache is off, when it is: a cache that cannot be opened only
        # costs time, so parsing goes on without it.
        self.problem: str | None = None
        try:
            if read_only:
                if self.path.exists():
                    self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, timeout=30)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS documents ("
                    " key TEXT PRIMARY KEY, path TEXT NOT NULL, document TEXT NOT NULL)"
                )
                self._db.commit()
        except (sqlite3.DatabaseError, OSError) as error:
            self.problem = f"parse cache {self.path} cannot be used: {error}"
            logger.warning("%s; parsing every file", self.problem)
            if self._db is not None:
                self._db.close()
            self._db = None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> "ParseCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _fingerprint(self, dialect: Dialect) -> str:
        cached = self._fingerprints.get(id(dialect))
        if cached is None or cached[0] is not dialect:
            cached = (dialect, dialect_fingerprint(dialect))
            self._fingerprints[id(dialect)] = cached
        return cached[1]

    def key(
        self,
        data: bytes,
        path: str,
        dialect: Dialect,
        series: str | None,
        max_bytes: int,
        known_names: Iterable[str] = (),
    ) -> str:
        digest = hashlib.sha256()
        for part in (PARSER_VERSION, self._fingerprint(dialect), path, series or "", str(max_bytes)):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        if dialect.name_mode == "known":
            # Only then do roster names change what a file parses to.
            for name in sorted(set(known_names)):
                digest.update(name.encode("utf-8"))
                digest.update(b"\0")
        digest.update(hashlib.sha256(data).digest())
        return digest.hexdigest()

    def parse(
        self,
        data: bytes,
        *,
        path: str,
        dialect: Dialect,
        series: str | None = None,
        max_bytes: int = 2_000_000,
        known_names: Iterable[str] = (),
    ) -> Document:
        """Return the cached Document for these inputs, parsing only on a miss."""

        known_names = tuple(known_names)
        key = self.key(data, path, dialect, series, max_bytes, known_names)
        if self._db is not None:
            try:
                row = self._db.execute(
                    "SELECT document FROM documents WHERE key = ?", (key,)
                ).fetchone()
            except sqlite3.DatabaseError:
                row = None
            if row is not None:
                try:
                    document = document_from_json(json.loads(row[0]))
                except (ValueError, KeyError, TypeError):
                    document = None
                if document is not None:
                    self.hits += 1
                    return document
        self.misses += 1
        document = parse_bytes(
            data,
            path=path,
            dialect=dialect,
            series=series,
            max_bytes=max_bytes,
            known_names=known_names,
        )
        if self._db is not None and not self.read_only:
            try:
                with self._db:
                    self._db.execute(
                        "INSERT OR REPLACE INTO documents (key, path, document) VALUES (?, ?, ?)",
                        (
                            key,
                            path,
                            json.dumps(
                                document_to_json(document),
                                ensure_ascii=False,
                                separators=(",", ":"),
                            ),
                        ),
                    )
            except sqlite3.DatabaseError:
                # A cache that cannot be written only costs time.
                pass
        return document


def _problem_to_json(problem: Problem) -> dict:
    return {
        "path": problem.path,
        "line": problem.line,
        "message": problem.message,
        "severity": problem.severity.value,
    }


def _problem_from_json(data: dict) -> Problem:
    return Problem(data["path"], data["line"], data["message"], Severity(data["severity"]))


def document_to_json(document: Document) -> dict:
    """Everything in a Document (context and extras too), for the cache."""

    meeting = document.meeting
    return {
        "path": document.path,
        "meeting": {
            "series": meeting.series,
            "date": meeting.date.isoformat() if meeting.date else None,
            "title": meeting.title,
            "participants": list(meeting.participants),
            "teams": list(meeting.teams),
            "extra": [list(pair) for pair in meeting.extra],
        },
        # Items as short lists rather than objects: a cache hit decodes them
        # all, and keys would double the text to decode.
        "items": [
            [
                item.line,
                item.end_line,
                list(item.owners),
                item.kind.value,
                item.text,
                item.done,
                item.context,
            ]
            for item in document.items
        ],
        "errors": [_problem_to_json(problem) for problem in document.errors],
        "warnings": [_problem_to_json(problem) for problem in document.warnings],
        "content_hash": document.content_hash,
        "blank": document.blank,
        "action_sections": document.action_sections,
    }


def document_from_json(data: dict) -> Document:
    meeting = data["meeting"]
    return Document(
        path=data["path"],
        meeting=Meeting(
            series=meeting["series"],
            date=datetime.date.fromisoformat(meeting["date"]) if meeting["date"] else None,
            title=meeting["title"],
            participants=tuple(meeting["participants"]),
            teams=tuple(meeting["teams"]),
            extra=tuple(tuple(pair) for pair in meeting["extra"]),
        ),
        items=[
            new_item(line, end_line, tuple(owners), kind, text, done, context)
            for line, end_line, owners, kind, text, done, context in data["items"]
        ],
        errors=[_problem_from_json(problem) for problem in data["errors"]],
        warnings=[_problem_from_json(problem) for problem in data["warnings"]],
        content_hash=data["content_hash"],
        blank=data["blank"],
        action_sections=data["action_sections"],
    )
