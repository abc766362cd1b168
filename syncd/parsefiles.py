"""``syncd parse``: the files named on the command line, with their series.

A file inside a configured folder source gets the series, and unless
``--dialect`` is given the dialect, that a sync would give it. Any other
file gets its series from its path relative to the working folder, or from
its parent folder's name when it lies outside the working folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

from syncd.model import Document, Meeting, Problem
from syncd.settings import Settings, SourceSettings


def check_parse_paths(paths: list[str]) -> str | None:
    """Return the usage error for the first path that is not a file, else None."""

    for path in paths:
        if os.path.isdir(path):
            return (
                f"{path} is a folder, and syncd parse reads only the files it is "
                f"given: pass them (such as {os.path.join(path, '*.md')}), or make "
                "the folder the root of a config source and run syncd plan"
            )
        if not os.path.exists(path):
            return f"{path}: no such file"
    return None


def _source_holding(
    absolute: Path, settings: Settings | None
) -> tuple[SourceSettings, str] | None:
    """Return the folder source whose root contains ``absolute``, and the path within it."""

    if settings is None:
        return None
    for source in settings.sources:
        if source.kind != "folder" or source.root is None:
            continue
        root = source.root.resolve()
        if absolute.is_relative_to(root):
            return source, absolute.relative_to(root).as_posix()
    return None


def series_for_parse_path(
    path: str, settings: Settings | None
) -> tuple[str, SourceSettings | None]:
    """Return the series of the file at ``path`` and the source that contains it, if any."""

    from syncd.parser import series_for_path
    from syncd.runner import series_of

    absolute = Path(path).resolve()
    containing = _source_holding(absolute, settings)
    if containing is not None:
        source, relative = containing
        return series_of(relative, source, series_for_path), source

    working_folder = Path.cwd().resolve()
    if absolute.is_relative_to(working_folder):
        series = series_for_path(absolute.relative_to(working_folder).as_posix())
        if series != ".":
            return series, None
    # Outside the working folder, or directly in it: the nearest folder that
    # is not a year folder names the series.
    folded = series_for_path(absolute.as_posix())
    return folded.rsplit("/", 1)[-1] if folded != "." else absolute.parent.name, None


def _read_document(path: str, series: str, dialect, known_names) -> Document:
    from syncd.parser import parse_bytes

    try:
        data = Path(path).read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        return Document(
            path=path,
            meeting=Meeting(series=series, date=None),
            errors=[Problem(path, None, f"cannot read file: {reason}")],
        )
    return parse_bytes(
        data, path=path, dialect=dialect, series=series, known_names=known_names
    )


def parse_files(
    paths: list[str],
    *,
    settings: Settings | None,
    dialect: str | None,
    roster,
    output_format: str,
    stdout: TextIO,
) -> int:
    """Parse ``paths`` and print them as JSON or text; return 0, or 3 when a file had errors.

    Raises ConfigError for an unknown dialect.
    """

    import json

    from syncd.parser import load_dialect
    from syncd.parser.command import write_text_report
    from syncd.roster import Roster
    from syncd.runner import dialect_name_for

    loaded_dialects: dict[str, object] = {}
    known_names = tuple(roster.known_names()) if roster is not None else ()
    documents = []
    for path in paths:
        series, source = series_for_parse_path(path, settings)
        name = dialect
        if name is None and source is not None:
            name = dialect_name_for(settings, source, series)
        if name is None:
            name = (
                settings.sources[0].dialect
                if settings and settings.sources
                else "default"
            )
        if name not in loaded_dialects:
            loaded_dialects[name] = load_dialect(name)
        documents.append(
            _read_document(path, series, loaded_dialects[name], known_names)
        )

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
    return 3 if any(document.errors for document in documents) else 0
