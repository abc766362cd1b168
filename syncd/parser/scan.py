"""Finding the parts of a document worth a full CommonMark parse.

Only action sections (and, in some dialects, inline markers) can contain
items, and they are usually a small part of a file. Some constructs make
heading detection depend on context: HTML blocks, setext underlines,
indented or pseudo headings, and indented fences. When a text has none of
them, every ATX heading at column 0 outside a column-0 fenced code block is
a real top-level heading, because such a line can be neither a lazy
continuation nor part of a container. The text between two such headings
then parses the same on its own as inside the whole file, so only the
sections are given to pyromark.

``plan_regions`` returns None whenever that reasoning does not hold; the
caller then parses the whole text. The result is the same either way (the
tests check it on generated documents); only the time differs.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass

from syncd.parser.dialect import normalize_title
from syncd.parser.extract import strip_closing_hashes

# The lines plan_regions looks at, found in one pass over the text. Each
# alternative starts with a line feed (the text is searched with one put in
# front), which lets the regex engine skip ahead to line starts instead of
# trying every character. A line's first character decides which
# alternative can match, so each line matches at most one of them.
_LINE_START = re.compile(
    # The lookahead rules out most lines at their first character.
    r"\n(?=[ <=\-#`~])(?:"
    # Lines that make the simple reading unsafe wherever they are.
    r"(?=[ <=\-])(?P<hazard> {0,3}<"  # an HTML block may swallow the next lines
    r"| {1,3}#{1,6}(?:[ \t]|$)"  # an indented heading may sit in a list item
    r"| {1,3}(?:```|~~~)"  # an indented fence may belong to a list item
    r")"
    # A line of = or - (a setext underline, or a rule that might be one):
    # unsafe only right under a line of text.
    r"|(?P<underline> {0,3}(?:=+|-+)[ \t]*$)"
    # Column-0 heading-like lines ("## Title", and "###Title", a hazard).
    r"|(?P<hashes>#{1,6})(?P<content>[^\n]*)"
    # Column-0 fence openings.
    r"|(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)"
    r")",
    re.MULTILINE,
)


@dataclass(slots=True)
class Heading:
    level: int
    text: str
    start: int  # character offsets in the text
    end: int


@dataclass(frozen=True)
class RegionPlan:
    headings: list[Heading]
    # (start, end) character ranges, each beginning at an action heading.
    regions: list[tuple[int, int]]


@functools.lru_cache(maxsize=64)
def _closing_fence(char: str, length: int) -> re.Pattern:
    """Compile the pattern of a line closing a fence of ``length`` ``char`` characters."""

    # Searched in the text with a line feed put in front, like _LINE_START.
    return re.compile(r"\n {0,3}" + re.escape(char) + "{" + str(length) + r",}[ \t]*$", re.MULTILINE)


def plan_regions(text: str, titles: frozenset[str], extra_hazard: re.Pattern | None = None):
    """Plan the headings and action-section regions of ``text``, or return None.

    None means the whole text must be parsed.
    """

    lined = "\n" + text
    if extra_hazard is not None and extra_hazard.search(lined) is not None:
        return None
    headings: list[Heading] = []
    # Headings and fences before this offset are inside a fenced block.
    code_end = 0
    for match in _LINE_START.finditer(lined):
        kind = match.lastgroup
        # match.start() is the line's offset in text (lined has one more char).
        start = match.start()
        if kind == "hazard":
            return None
        if kind == "underline":
            # Right under a line of text it makes that text a heading.
            before = lined.rfind("\n", 0, start)
            if before >= 0 and lined[before + 1 : start].strip():
                return None
            continue
        if start < code_end:
            continue
        if kind == "info":
            fence = match.group("fence")
            if fence[0] == "`" and "`" in match.group("info"):
                # Not a fence: an inline code span at the start of a paragraph.
                continue
            # Headings inside the fenced block are code. An unclosed fence
            # runs to the end of the text.
            close = _closing_fence(fence[0], len(fence)).search(lined, match.end())
            code_end = len(lined) if close is None else close.end()
            continue
        content = match.group("content")
        if content and content[0] not in " \t":
            if content[0] == "#":
                continue  # seven or more hashes: a paragraph
            return None  # "###Title": decided by the full parse
        content = content.strip()
        if content.endswith("#"):
            content = strip_closing_hashes(content)
        if "&" in content:
            # Entities render as their characters in a parsed heading.
            content = html.unescape(content)
        headings.append(Heading(len(match.group("hashes")), content, start, match.end() - 1))

    regions: list[tuple[int, int]] = []
    index = 0
    while index < len(headings):
        heading = headings[index]
        if normalize_title(heading.text) not in titles:
            index += 1
            continue
        end_index = index + 1
        while end_index < len(headings) and headings[end_index].level > heading.level:
            end_index += 1
        end = headings[end_index].start if end_index < len(headings) else len(text)
        regions.append((heading.start, end))
        index = end_index
    return RegionPlan(headings, regions)
