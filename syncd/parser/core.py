"""parse_bytes: one minutes file in, one Document out, never an exception."""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Iterable

from syncd.model import Document, Meeting, Problem, Severity
from syncd.parser.blocks import HEADING, OTHER, Block, parse_blocks, plain_section
from syncd.parser.dialect import Dialect, compiled_for
from syncd.parser.extract import extract_document
from syncd.parser.meeting import (
    FrontMatterProblem,
    date_from_name,
    date_from_text,
    participants_of,
    series_for_path,
    split_front_matter,
    text_list,
)
from syncd.parser.scan import plan_regions
from syncd.parser.text import DEFAULT_MAX_BYTES, InputProblem, LineIndex, prepare_text
from syncd.roster import derived_initials, fold

# A YAML mapping key at the start of a line, as front matter begins.
_YAML_KEY_LINE = re.compile(r"[A-Za-z_][\w-]*:(?:[ \t]|$)")


def parse_bytes(
    data: bytes,
    *,
    path: str,
    dialect: Dialect,
    series: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    known_names: Iterable[str] = (),
    sections_only: bool = True,
) -> Document:
    """Parse one minutes file.

    Never raises for bad input: a file that cannot be read yields a Document
    with ``errors`` and no items. ``series`` None derives it from ``path``.
    ``known_names`` (roster aliases) count as names for a dialect whose
    ``Name to`` owners must be known. ``sections_only`` lets the parser
    give pyromark only the action sections when that is provably the same;
    False parses the whole text (for tests that check the two agree).
    """

    content_hash = hashlib.sha256(data).hexdigest()
    if series is None:
        series = series_for_path(path)
    try:
        return _parse(
            data, path, dialect, series, max_bytes, known_names, content_hash, sections_only
        )
    except (InputProblem, FrontMatterProblem) as problem:
        return Document(
            path=path,
            meeting=Meeting(series=series, date=date_from_name(path)),
            errors=[Problem(path, problem.line, problem.message)],
            content_hash=content_hash,
        )
    except RecursionError:
        return _failed(path, series, content_hash, "nesting is too deep to parse")
    except Exception as error:  # noqa: BLE001 - one bad file must not stop the run
        return _failed(
            path, series, content_hash, f"internal parser error ({type(error).__name__}: {error})"
        )


def _failed(path: str, series: str, content_hash: str, message: str) -> Document:
    return Document(
        path=path,
        meeting=Meeting(series=series, date=date_from_name(path)),
        errors=[Problem(path, None, message)],
        content_hash=content_hash,
    )


def _parse_body(
    body: str, body_start: int, body_end: int, dialect: Dialect, fast: bool, first_line: int = 1
) -> Block:
    """The block tree of ``body``: whole, or only its action sections.

    ``scan.plan_regions`` decides when parsing only the sections gives the
    same tree for everything that can contain items. Headings outside the
    sections become stand-in heading blocks, so section nesting is still seen.
    ``first_line`` is the file line number the body starts on.
    """

    compiled = compiled_for(dialect)
    plan = plan_regions(body, compiled.titles, compiled.scan_hazard) if fast else None
    if plan is None:
        return parse_blocks(body, base=body_start, end=body_end)
    ascii_body = body.isascii()
    # Character index -> byte offset, counted on from the previous index,
    # because headings and regions come in text order.
    previous_index = previous_bytes = 0

    def byte_offset(index: int) -> int:
        nonlocal previous_index, previous_bytes
        if ascii_body:
            return body_start + index
        previous_bytes += len(body[previous_index:index].encode("utf-8"))
        previous_index = index
        return body_start + previous_bytes

    root = Block(OTHER, body_start, body_end)
    children = root.children
    regions = plan.regions
    region_index = 0
    # Line numbers of region starts, counted on in the same way.
    line_index, line_number = 0, first_line
    for heading in plan.headings:
        region = regions[region_index] if region_index < len(regions) else None
        if region is not None and heading.start >= region[0]:
            if heading.start >= region[1]:
                region_index += 1
                region = regions[region_index] if region_index < len(regions) else None
        if region is not None and region[0] <= heading.start < region[1]:
            if heading.start != region[0]:
                # A sub-heading is read with its region.
                continue
            start, end = region
            line_number += body.count("\n", line_index, start)
            line_index = start
            base = byte_offset(start)
            section = body[start:end]
            blocks = plain_section(section, base, heading.level, heading.text, line_number)
            if blocks is None:
                # The region's root is dropped, so its end offset is never read.
                blocks = parse_blocks(section, base=base, end=body_end).children
            children.extend(blocks)
            continue
        block = Block(HEADING, byte_offset(heading.start), byte_offset(heading.end), heading.level)
        block.text = heading.text
        children.append(block)
    return root


def _parse(data, path, dialect, series, max_bytes, known_names, content_hash, fast=True) -> Document:
    prepared = prepare_text(data, max_bytes=max_bytes)
    text = prepared.text
    front = split_front_matter(text)
    warnings: list[Problem] = []
    if prepared.had_cr_only:
        warnings.append(
            Problem(
                path,
                None,
                "lines end with a carriage return alone (classic Mac OS), so each"
                " one is read as a line break and line numbers may differ from"
                " git's; save the file with LF line endings",
                Severity.WARNING,
            )
        )
    if not front.present and text.startswith("---") and "\n" in text:
        first_line, rest = text.split("\n", 1)
        if first_line.strip() == "---":
            if _YAML_KEY_LINE.match(rest):
                # A key line right after the opening '---' means front matter
                # that was cut off (a half-written save or checkout). Its items
                # cannot be trusted, so nothing that came from it may close.
                raise FrontMatterProblem(
                    "front matter opened by '---' on line 1 is never closed: "
                    "the file may be cut off or still being written",
                    1,
                )
            warnings.append(
                Problem(path, 1, "'---' on line 1 is never closed, so it is not front matter",
                        Severity.WARNING)
            )

    if not front.body_start or text.isascii():
        body_start = front.body_start
    else:
        body_start = len(text[: front.body_start].encode("utf-8"))
    encoded = prepared.encoded
    body = text[front.body_start :] if front.body_start else text
    body_line = text.count("\n", 0, front.body_start) + 1 if front.body_start else 1
    root = _parse_body(body, body_start, len(encoded), dialect, fast, body_line)
    lines = LineIndex(encoded)

    fm = front.data
    participants = participants_of(fm, dialect)
    known = None
    if dialect.name_mode == "known":
        names = {fold(name) for name in participants}
        names |= {fold(derived_initials(name)) for name in participants}
        names |= {fold(name) for name in known_names}
        names |= {fold(word) for word in dialect.group_words}
        known = lambda token: fold(token.lstrip("@")) in names  # noqa: E731

    items, section_count = extract_document(encoded, root, lines, dialect, known)
    # A dialect with inline markers ("Action item: ...") finds items outside
    # any section, so there a file without a section is no sign of lost
    # content.
    action_sections = None if dialect.inline_markers and dialect.markers else section_count

    heading = ""
    for block in root.children:
        if block.kind == HEADING:
            heading = block.text
            break
    date, date_warnings = _meeting_date(path, fm, heading, dialect)
    for line, message in date_warnings:
        warnings.append(Problem(path, line, message, Severity.WARNING))

    if fm:
        title = fm.get("title")
        if not isinstance(title, str):
            title = None
        not_extra = ("title",) + dialect.date_keys
        extra = tuple(
            [
                (str(key), value)
                for key, value in fm.items()
                if isinstance(value, str) and key not in not_extra
            ]
        )
        teams = text_list(fm.get("teams"))
    else:
        title, extra, teams = None, (), ()
    meeting = Meeting(
        series=series,
        date=date,
        title=title,
        participants=participants,
        teams=teams,
        extra=extra,
    )
    return Document(
        path=path,
        meeting=meeting,
        items=items,
        warnings=warnings,
        content_hash=content_hash,
        # The same as ``not text.strip()``, without copying the text.
        blank=not text or text.isspace(),
        action_sections=action_sections,
    )


def _meeting_date(path: str, fm: dict, heading: str, dialect: Dialect):
    found: dict[str, datetime.date] = {}
    warnings: list[tuple[int | None, str]] = []
    for source in dialect.date_sources:
        if source == "filename":
            value = date_from_name(path)
        elif source == "front_matter":
            value = None
            for key in dialect.date_keys:
                raw = fm.get(key)
                if isinstance(raw, str) and raw.strip():
                    value = date_from_text(raw)
                    if value is None:
                        warnings.append((None, f"front matter {key}: {raw!r} is not a date"))
                    break
        else:
            # The first heading is read only when nothing better gave a date.
            value = date_from_text(heading) if heading and not found else None
        if value is not None:
            found[source] = value
    if not found:
        return None, warnings
    # A source listed twice never gives a different date the second time,
    # so ``found`` keeps the order of date_sources and its first date wins.
    chosen = next(iter(found.values()))
    if len(found) > 1:
        for source, value in found.items():
            if value != chosen:
                warnings.append(
                    (None, f"the {source.replace('_', ' ')} gives {value.isoformat()}, "
                           f"but the meeting date is taken as {chosen.isoformat()}")
                )
    return chosen, warnings
