"""``syncd parse``: show what syncd reads from minutes files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TextIO

from syncd.errors import ConfigError
from syncd.model import Document, Meeting, Problem
from syncd.parser.core import parse_bytes
from syncd.parser.dialect import load_dialect
from syncd.roster import Roster

EXIT_OK = 0
EXIT_FILE_ERRORS = 3


def _expand(paths: list[str]) -> list[str]:
    """Paths as given; a folder stands for the Markdown files under it."""

    expanded = []
    for path in paths:
        if os.path.isdir(path):
            for found in sorted(Path(path).rglob("*.md")):
                expanded.append(str(found))
        else:
            expanded.append(path)
    return expanded


def parse_paths(paths: list[str], dialect, known_names=()) -> list[Document]:
    documents = []
    for path in _expand(paths):
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            reason = error.strerror or str(error)
            documents.append(
                Document(
                    path=path,
                    meeting=Meeting(series="", date=None),
                    errors=[Problem(path, None, f"cannot read file: {reason}")],
                )
            )
            continue
        documents.append(parse_bytes(data, path=path, dialect=dialect, known_names=known_names))
    return documents


def run_parse_command(
    paths: list[str],
    *,
    dialect: str,
    roster: Roster | tuple | None,
    output_format: str,
    stdout: TextIO,
) -> int:
    """Parse ``paths`` and print them as JSON or as text for people.

    Returns 0, or 3 when any file had errors. Raises ConfigError for an
    unknown dialect.
    """

    loaded = load_dialect(dialect)
    if isinstance(roster, tuple):
        # load_roster returns (people, groups); accept that as a roster too.
        roster = Roster(*roster)
    known = roster.known_names() if roster is not None else ()
    documents = parse_paths(paths, loaded, known)
    if output_format == "json":
        json.dump(
            {"documents": [document.to_json() for document in documents]},
            stdout,
            ensure_ascii=False,
            indent=1,
        )
        stdout.write("\n")
    else:
        write_text_report(documents, roster or Roster(), stdout)
    return EXIT_FILE_ERRORS if any(document.errors for document in documents) else EXIT_OK


def _owner_cell(token: str, roster: Roster, participants) -> tuple[str, str | None]:
    resolved = roster.resolve(token, participants)
    if resolved.person is not None:
        account = resolved.person.github or resolved.person.gitlab
        label = f"{token}={resolved.person.name}"
        return (f"{label} (@{account})" if account else label), None
    if resolved.group is not None:
        group = resolved.group
        detail = f"label {group.label}" if group.label else ", ".join(group.members)
        return f"{token}=group {group.name}" + (f" ({detail})" if detail else ""), None
    return f"{token}?", resolved.reason


def write_text_report(documents: list[Document], roster: Roster, stdout: TextIO) -> None:
    for index, document in enumerate(documents):
        if index:
            stdout.write("\n")
        meeting = document.meeting
        stdout.write(f"{document.path}\n")
        date = meeting.date.isoformat() if meeting.date else "no date"
        title = f", {meeting.title}" if meeting.title else ""
        stdout.write(f"  meeting: {meeting.series or '-'} {date}{title}\n")
        if meeting.participants:
            stdout.write(f"  participants: {', '.join(meeting.participants)}\n")
        for problem in document.errors:
            location = f"line {problem.line}: " if problem.line else ""
            stdout.write(f"  error: {location}{problem.message}\n")
        if document.errors:
            continue
        if not document.items:
            stdout.write("  no action items\n")
        unresolved: list[str] = []
        rows = []
        for item in document.items:
            cells = []
            for token in item.owners:
                cell, reason = _owner_cell(token, roster, meeting.participants)
                cells.append(cell)
                if reason and reason not in unresolved:
                    unresolved.append(reason)
            lines = f"{item.line}" if item.end_line == item.line else f"{item.line}-{item.end_line}"
            first_line = item.text.split("\n", 1)[0]
            if len(first_line) > 70:
                first_line = first_line[:69] + "…"
            rows.append(
                (lines, ", ".join(cells) or "-", item.kind.value, "yes" if item.done else "", first_line)
            )
        if rows:
            header = ("lines", "owners", "kind", "done", "text")
            widths = [max(len(row[column]) for row in rows + [header]) for column in range(4)]
            stdout.write(
                "  " + "  ".join(header[column].ljust(widths[column]) for column in range(4))
                + "  text\n"
            )
            for row in rows:
                stdout.write(
                    "  " + "  ".join(row[column].ljust(widths[column]) for column in range(4))
                    + f"  {row[4]}\n"
                )
        for problem in document.warnings:
            location = f"line {problem.line}: " if problem.line else ""
            stdout.write(f"  warning: {location}{problem.message}\n")
        for reason in unresolved:
            stdout.write(f"  warning: {reason}\n")


__all__ = ["run_parse_command", "write_text_report", "parse_paths", "ConfigError"]
