"""The block structure of a Markdown text, with byte ranges, from pyromark.

pyromark (pulldown-cmark) is a CommonMark parser that reports the UTF-8 byte
range of every event. Only block-level structure is kept here: headings with
their plain text, paragraphs, lists and items (with task-list markers),
code blocks, HTML blocks, tables and block quotes. Item text is read back
from the source by range, so the Markdown an author wrote is kept as is.
"""

from __future__ import annotations

import re
from typing import Any

import pyromark

_OPTIONS = (
    pyromark.Options.ENABLE_TABLES
    | pyromark.Options.ENABLE_TASKLISTS
    | pyromark.Options.ENABLE_STRIKETHROUGH
)
_MARKDOWN = pyromark.Markdown(options=_OPTIONS)

HEADING = "heading"
PARAGRAPH = "paragraph"
LIST = "list"
ITEM = "item"
CODE = "code"
HTML = "html"
TABLE = "table"
QUOTE = "quote"
OTHER = "other"

# pyromark tag name -> block kind. Tags not listed here (emphasis, links,
# table rows and cells, ...) are inline or internal and are not kept.
_BLOCK_TAGS = {
    "Paragraph": PARAGRAPH,
    "Heading": HEADING,
    "List": LIST,
    "Item": ITEM,
    "CodeBlock": CODE,
    "HtmlBlock": HTML,
    "Table": TABLE,
    "BlockQuote": QUOTE,
    "FootnoteDefinition": OTHER,
    "DefinitionList": OTHER,
    "MetadataBlock": CODE,
}
_HEADING_LEVELS = {"H1": 1, "H2": 2, "H3": 3, "H4": 4, "H5": 5, "H6": 6}


class Block:
    """One block: ``start`` and ``end`` are byte offsets in the parsed text."""

    __slots__ = ("kind", "start", "end", "children", "level", "checked", "text", "lines")

    def __init__(self, kind: str, start: int, end: int, level: int = 0) -> None:
        self.kind = kind
        self.start = start
        self.end = end
        self.children: list[Block] = []
        self.level = level
        # For an item: True or False when it has a task-list box, else None.
        self.checked: bool | None = None
        # For a heading: its plain text (emphasis and code marks removed).
        self.text = ""
        # For a paragraph read without pyromark: its (line number, stripped
        # text) pairs, as the extractor would read them back from the bytes.
        self.lines: list[tuple[int, str]] | None = None

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Block({self.kind}, {self.start}-{self.end}, {len(self.children)} children)"


def _tag_name(value) -> str:
    if type(value) is str:
        return value
    for key in value:
        return key
    return ""


def parse_blocks(text: str, base: int = 0, end: int | None = None) -> Block:
    """Parse ``text`` and return a root block holding the top-level blocks.

    ``base`` is added to every offset, for text cut out of a larger file.
    ``end`` is the root's end offset when the caller knows it (``base`` plus
    the UTF-8 length of ``text``), which saves encoding the text again.
    """

    if end is None:
        end = base + len(text.encode("utf-8"))
    root = Block(OTHER, base, end)
    stack = [root]
    heading: Block | None = None
    heading_parts: list[str] = []
    # pyromark's stubs type events as a union that the dict lookups below do
    # not fit, so they are read as plain Python values.
    events: Any = _MARKDOWN.events_with_range(text)
    for event, span in events:
        if type(event) is str:
            # SoftBreak, HardBreak, Rule.
            if heading is not None and event != "Rule":
                heading_parts.append(" ")
            continue
        # Text is most of the events, so it is tested first.
        if "Text" in event:
            if heading is not None:
                heading_parts.append(event["Text"])
            continue
        value = event.get("Start")
        if value is not None:
            kind = _BLOCK_TAGS.get(value if type(value) is str else _tag_name(value))
            if kind is None:
                continue
            block = Block(kind, span["start"] + base, span["end"] + base)
            if kind == HEADING:
                block.level = _HEADING_LEVELS.get(value["Heading"]["level"], 6)
                heading = block
                heading_parts = []
            stack[-1].children.append(block)
            stack.append(block)
            continue
        value = event.get("End")
        if value is not None:
            if _BLOCK_TAGS.get(value if type(value) is str else _tag_name(value)) is None:
                continue
            block = stack.pop()
            if block is heading:
                block.text = "".join(heading_parts)
                heading = None
            continue
        if heading is not None:
            if "Code" in event:
                heading_parts.append(event["Code"])
        elif "TaskListMarker" in event:
            for block in reversed(stack):
                if block.kind == ITEM:
                    if block.checked is None:
                        block.checked = bool(event["TaskListMarker"])
                    break
    return root


# Heading text that parses to itself: no escapes, code, emphasis, links,
# HTML, entities, strikethrough or hashes.
_PLAIN_HEADING = re.compile(r"[^\\`*_\[\]<>!&~#\r\n]+")


def plain_section(
    text: str, base: int, level: int, title: str, first_line: int | None = None
) -> list[Block] | None:
    """Return the blocks of a section of plain paragraphs without parsing it, or None.

    ``text`` starts with a column-0 ATX heading of ``level`` whose text is
    ``title``. When every other non-blank line starts with an ASCII letter,
    no line can open or close any block but a paragraph, so the blocks are
    the heading and one paragraph per run of non-blank lines, with the byte
    ranges pyromark gives them. None means: parse the text.

    With ``first_line`` (the line number of the heading), each paragraph
    also carries its lines, so the extractor need not decode them again.
    """

    if "\r" in text or _PLAIN_HEADING.fullmatch(title) is None or title != title.strip():
        return None
    ascii_text = text.isascii()
    size = len(text) if ascii_text else len(text.encode("utf-8"))
    lines = text.split("\n")
    # Comments inside a line are removed when the extractor reads it, so
    # such a section leaves the lines to the extractor.
    keep_lines = first_line is not None and "<!--" not in text
    number = (first_line or 0) + 1
    first = lines[0]
    position = min((len(first) if ascii_text else len(first.encode("utf-8"))) + 1, size)
    heading = Block(HEADING, base, base + position, level)
    heading.text = title
    blocks = [heading]
    paragraph: Block | None = None
    paragraph_lines: list[tuple[int, str]] = []
    for line in lines[1:]:
        lead = line[:1]
        if lead.isalpha() and lead.isascii():
            if paragraph is None:
                paragraph = Block(PARAGRAPH, base + position, 0)
                paragraph_lines = []
                if keep_lines:
                    paragraph.lines = paragraph_lines
                blocks.append(paragraph)
            paragraph_lines.append((number, line.strip()))
        elif not line.strip(" \t"):
            if paragraph is not None:
                paragraph.end = base + position
                paragraph = None
        else:
            return None
        position += (len(line) if ascii_text else len(line.encode("utf-8"))) + 1
        number += 1
    if paragraph is not None:
        paragraph.end = base + min(position, size)
    return blocks
