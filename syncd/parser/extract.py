"""Finding action sections and turning their entries into items.

The input is the block tree from ``blocks.parse_blocks`` and the prepared
bytes it was parsed from. Sections are found on top-level headings. Inside a
section every paragraph, list item or owner-prefixed line is an entry.
Inline markers (``Action: ...``) are looked for everywhere else when the
dialect enables them. Code blocks, HTML blocks and comments never yield
entries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import attrgetter

from syncd.model import Item, ItemKind
from syncd.parser import owners as owner_forms
from syncd.parser.blocks import CODE, HEADING, HTML, ITEM, LIST, PARAGRAPH, QUOTE, TABLE, Block
from syncd.parser.dialect import Dialect, compiled_for, normalize_title
from syncd.parser.text import LineIndex

_LIST_MARKER = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_CHECKBOX = re.compile(r"^\[[ xX]\](?:[ \t]+|$)")
_PSEUDO_HEADING = re.compile(r" {0,3}(#{1,6})([^\s#][^\n]*)")
# A strike through, as GitHub renders one: text between matching runs of one
# or two tildes, not touching white space on the inside. Three tildes are no
# strike, but four may close one strike and open the next (~~B~~~~ob~~). The
# struck text never spans its own delimiter, so a search from one tilde stops
# at the next one and the pattern stays linear in the text.
_STRUCK = re.compile(
    r"(?:(?<!~)|(?<=[^~]~~))~~(?!~)(?=\S)(?:[^~]|~(?!~))*?(?<=[^\s~])~~(?=~~[^~]|[^~]|$)"
    r"|(?<!~)~(?!~)(?=\S)[^~]*?(?<=[^\s~])~(?!~)",
    re.DOTALL,
)
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_BACKTICK_RUN = re.compile(r"`+")
_ALNUM = re.compile(r"[^\W_]")
_INITIALS_STUB = re.compile(r"^(?:[A-Z][a-z]?){1,3}$")
_MEMO_LIMIT = 20_000
_MISSING = object()
# The lines after the first of a one-line entry (shared, never changed).
_NO_LINES: list[str] = []
# Section levels: a bare title line ("Action Items" with no heading markup)
# runs to the next heading of any level.
_BARE_LEVEL = 7


def remove_comments(text: str) -> str:
    """Remove closed ``<!-- -->`` comments, keeping the line feeds inside them.

    A find loop rather than a regex, so text with many unclosed comment
    openings stays linear.
    """

    parts = []
    position = 0
    while True:
        start = text.find("<!--", position)
        if start < 0:
            break
        end = text.find("-->", start + 4)
        if end < 0:
            break
        parts.append(text[position:start])
        parts.append("\n" * text.count("\n", start, end))
        position = end + 3
    parts.append(text[position:])
    return "".join(parts)


def strip_closing_hashes(text: str) -> str:
    """Remove a heading's optional closing ``#`` run and surrounding spaces."""

    text = text.strip()
    if text.endswith("#"):
        without = text.rstrip("#")
        if not without or without[-1] in " \t":
            text = without.strip()
    return text


@dataclass(slots=True)
class Entry:
    lines: list[tuple[int, str]]
    checked: bool | None = None
    inherited: tuple[str, ...] = ()
    end_line: int = 0
    # Blocks nested under the entry, or None until the first one, because
    # most entries have none.
    context: list[str] | None = None
    marker: bool = False


@dataclass(slots=True)
class _Classified:
    owners: tuple[str, ...] = ()
    text: str = ""
    owner_only: bool = False
    skip: bool = False
    # Filled by extract_items on first use. Both depend only on the entry's
    # lines, like the rest of a classification, so memo hits share them.
    item_text: str | None = None
    text_done: bool = False


class Extractor:
    """Extracts items from one parsed document."""

    def __init__(self, data: bytes, lines: LineIndex, dialect: Dialect, known_names=None) -> None:
        self.data = data
        self.lines = lines
        self.dialect = dialect
        self.compiled = compiled_for(dialect)
        self.known = known_names if dialect.name_mode == "known" else None
        self.memo = self.compiled.classify_memo
        self.placeholder_length = self.compiled.placeholder_length
        # (entry, classification) in document order of discovery.
        self.pending_items: list[tuple[Entry, _Classified]] = []
        # How many action sections ``run`` found.
        self.section_count = 0

    # -- source access ---------------------------------------------------------

    def source(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", "replace")

    def block_lines(self, start: int, end: int, *, list_item: bool = False, checkbox: bool = False):
        """Return the lines of ``[start, end)`` as (line number, text) pairs."""

        data = self.data
        while end > start and data[end - 1] == 10:
            # A block's range ends with its line feed.
            end -= 1
        if end <= start:
            return []
        text = data[start:end].decode("utf-8", "replace")
        if "<!--" in text:
            text = remove_comments(text)
        first = self.lines.line_of(start)
        if "\n" not in text and "\r" not in text and not list_item and not checkbox:
            # One plain line, the usual "XX: task" paragraph.
            stripped = text.strip()
            return [(first, stripped)] if stripped else []
        result: list[tuple[int, str]] = []
        for index, line in enumerate(text.split("\n")):
            if index == 0:
                if list_item:
                    line = _LIST_MARKER.sub("", line, count=1)
                if checkbox:
                    line = _CHECKBOX.sub("", line.lstrip(), count=1)
            if "\r" in line:
                # A lone carriage return breaks the line for Markdown but not
                # for git: the parts share one line number.
                result.extend((first + index, part.strip()) for part in line.split("\r"))
                continue
            result.append((first + index, line.strip()))
        while result and not result[-1][1]:
            result.pop()
        while result and not result[0][1]:
            result.pop(0)
        return result

    # -- sections --------------------------------------------------------------

    def top_blocks(self, root: Block):
        """Yield the top-level blocks, with "###Title" lines in paragraphs split out."""

        check_pseudo = self.dialect.headings_without_space
        for block in root.children:
            # A paragraph that carries its lines was read by plain_section,
            # whose lines all start with a letter, so none is "###Title".
            if block.kind == PARAGRAPH and check_pseudo and block.lines is None:
                data, start, end = self.data, block.start, block.end
                # Look for "#" at a line start without copying the block.
                if data.find(b"#", start, end) >= 0 and (
                    data.find(b"#", start, min(end, start + 4)) >= 0
                    or data.find(b"\n#", start, end) >= 0
                    or data.find(b"\n #", start, end) >= 0
                    or data.find(b"\n  #", start, end) >= 0
                    or data.find(b"\n   #", start, end) >= 0
                ):
                    yield from self._split_pseudo_headings(block)
                    continue
            yield block

    def _split_pseudo_headings(self, block: Block):
        text = self.source(block.start, block.end)
        offset = block.start
        current_start = None
        position = 0
        for line in text.split("\n"):
            line_start = offset + len(text[:position].encode("utf-8"))
            line_end = line_start + len(line.encode("utf-8"))
            match = _PSEUDO_HEADING.fullmatch(line)
            if match and match.group(2)[:1].isalpha():
                if current_start is not None:
                    yield Block(PARAGRAPH, current_start, line_start)
                    current_start = None
                heading = Block(HEADING, line_start, line_end, len(match.group(1)))
                heading.text = strip_closing_hashes(match.group(2))
                yield heading
            elif current_start is None and line.strip():
                current_start = line_start
            position += len(line) + 1
        if current_start is not None:
            yield Block(PARAGRAPH, current_start, block.end)

    def heading_of(self, block: Block) -> tuple[int, str] | None:
        """Return (level, normalised title) when ``block`` acts as a heading, else None."""

        if block.kind == HEADING:
            return block.level, normalize_title(block.text)
        if block.kind == PARAGRAPH and self.dialect.bare_title_lines:
            raw = self.data[block.start : block.end]
            if b"\n" in raw.rstrip(b"\n") or len(raw) > 80:
                return None
            title = normalize_title(raw.decode("utf-8", "replace"))
            if title in self.compiled.titles:
                return _BARE_LEVEL, title
        return None

    def sections(self, root: Block) -> list[list[Block]]:
        compiled = self.compiled
        sections: list[list[Block]] = []
        current: list[Block] | None = None
        current_level = 0
        parents: list[tuple[int, str]] = []
        blocks = self.top_blocks(root) if self.dialect.headings_without_space else root.children
        bare_titles = self.dialect.bare_title_lines
        for block in blocks:
            if block.kind == HEADING:
                level, title = block.level, normalize_title(block.text)
            else:
                heading = self.heading_of(block) if bare_titles else None
                if heading is None:
                    if current is not None:
                        current.append(block)
                    continue
                level, title = heading
            if current is not None and level <= current_level:
                current = None
            if level < _BARE_LEVEL:
                while parents and parents[-1][0] >= level:
                    parents.pop()
            is_action = title in compiled.titles and title not in compiled.review_titles
            if is_action and compiled.ignore_under:
                if any(parent.startswith(compiled.ignore_under) for _, parent in parents):
                    is_action = False
            if level < _BARE_LEVEL:
                parents.append((level, title))
            if current is not None:
                # A sub-heading inside a section stays part of it.
                current.append(block)
                continue
            if is_action:
                current = []
                current_level = level
                sections.append(current)
        return sections

    # -- entries ---------------------------------------------------------------

    def run(self, root: Block) -> None:
        in_sections: set[int] = set()
        markers = self.dialect.inline_markers and self.compiled.marker is not None
        sections = self.sections(root)
        self.section_count = len(sections)
        for section in sections:
            if markers:
                in_sections.update(id(block) for block in section)
            self.section_entries(section)
        if markers:
            for block in self.top_blocks(root):
                if id(block) not in in_sections:
                    self.marker_entries(block)

    def section_entries(self, blocks: list[Block]) -> None:
        last: Entry | None = None
        last_text_end_line = 0
        pending: tuple[str, ...] | None = None
        for block in blocks:
            kind = block.kind
            if kind == HEADING:
                last, pending = None, None
                continue
            if kind == PARAGRAPH:
                lines = block.lines
                if lines is None:
                    lines = self.block_lines(block.start, block.end)
                    if not lines:
                        continue
                if len(lines) == 1:
                    # One line, the usual "XX: task", handled as emit_groups
                    # handles a single group.
                    entry = Entry(lines, None, ())
                    entry.end_line = lines[0][0]
                    result = self.classify(entry)
                    if result is None:
                        last, pending = None, None
                    elif result.owner_only:
                        last, pending = None, result.owners
                    else:
                        last, pending = entry, None
                        self.pending_items.append((entry, result))
                else:
                    last, pending = self.emit_groups(self.group_lines(lines), None, ())
                last_text_end_line = lines[-1][0]
            elif kind == LIST:
                start_line = self.lines.line_of(block.start)
                adjacent = last is not None and (
                    start_line == last_text_end_line + 1 or last.lines[-1][1].endswith(":")
                )
                if pending is not None:
                    for item in block.children:
                        last = self.list_item(item, pending)
                elif (
                    adjacent
                    and last is not None
                    and not any(self.item_has_owner(item) for item in block.children)
                ):
                    self.extend(last, block)
                else:
                    for item in block.children:
                        last = self.list_item(item, ())
                pending = None
            elif kind in (TABLE, CODE, QUOTE):
                if last is not None:
                    self.extend(last, block)
            # HTML blocks (comments, raw HTML) never hold entries.

    def group_lines(self, lines: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
        """Split lines into entries, starting a new one at each owner-prefixed line."""

        groups: list[list[tuple[int, str]]] = []
        for number, text in lines:
            if groups and not self.starts_entry(text):
                groups[-1].append((number, text))
            else:
                groups.append([(number, text)])
        return groups

    def starts_entry(self, text: str) -> bool:
        if not text:
            return False
        compiled = self.compiled
        if self.dialect.inline_markers and self.marker_match(text) is not None:
            return True
        if self.dialect.colon_owners and ":" in text:
            match = owner_forms.colon_prefix(text, compiled)
            if match is not None and (match.owners or match.note or match.placeholder):
                return True
        return False

    def marker_match(self, text: str):
        compiled = self.compiled
        match = compiled.marker.match(text) if compiled.marker is not None else None
        if match is None:
            return None
        marker = match.group("marker")
        if marker.casefold() in compiled.case_sensitive_markers and not marker.isupper():
            return None
        if match.group("sep") == "," and marker.casefold() != "action":
            return None
        return match

    def emit_groups(self, groups, checked, inherited):
        """Emit entries for line groups and return (last entry, pending owners)."""

        last = None
        pending = None
        for index, group in enumerate(groups):
            entry = Entry(group, checked if index == 0 else None, inherited)
            entry.end_line = group[-1][0]
            result = self.classify(entry)
            if result is None:
                last, pending = None, None
                continue
            if result.owner_only:
                last, pending = None, result.owners
                continue
            pending = None
            last = entry
            self.pending_items.append((entry, result))
        return last, pending

    def list_item(self, item: Block, inherited: tuple[str, ...]) -> Entry | None:
        """Emit the entries of one list item and return the one later blocks extend."""

        lead, rest = self.item_parts(item)
        lead_lines = self.block_lines(
            lead[0], lead[1], list_item=lead[2], checkbox=item.checked is not None
        )
        groups = self.group_lines(lead_lines) if lead_lines else []
        entry = None
        child_owners: tuple[str, ...] | None = None
        if groups:
            first = Entry(groups[0], item.checked, inherited)
            first.end_line = groups[0][-1][0]
            result = self.classify(first)
            if result is not None and result.owner_only:
                child_owners = result.owners
            elif result is not None:
                entry = first
                self.pending_items.append((first, result))
            if len(groups) > 1:
                last, _pending = self.emit_groups(groups[1:], None, ())
                if last is not None:
                    entry = last
        for child in rest:
            if child.kind == LIST:
                for sub in child.children:
                    if child_owners is not None:
                        self.list_item(sub, child_owners)
                    elif entry is None or self.item_has_owner(sub):
                        self.list_item(sub, ())
                    else:
                        self.extend(entry, sub)
            elif child.kind == PARAGRAPH:
                lines = self.block_lines(child.start, child.end)
                if lines and (entry is None or self.starts_entry(lines[0][1])):
                    last, _pending = self.emit_groups(self.group_lines(lines), None, ())
                    if last is not None:
                        entry = last
                elif entry is not None:
                    self.extend(entry, child)
            elif child.kind in (TABLE, CODE, QUOTE) and entry is not None:
                self.extend(entry, child)
        return entry

    def item_parts(self, item: Block):
        """Split a list item into its lead text range and its other child blocks.

        The range is (start, end, has_marker): a tight item's text starts at
        its list marker.
        """

        children = item.children
        if children and children[0].kind == PARAGRAPH:
            # A loose item: its first paragraph starts after the list marker.
            first = children[0]
            return (first.start, first.end, False), children[1:]
        end = children[0].start if children else item.end
        return (item.start, end, True), children

    def item_has_owner(self, item: Block) -> bool:
        lead, _rest = self.item_parts(item)
        lines = self.block_lines(lead[0], lead[1], list_item=lead[2], checkbox=item.checked is not None)
        if not lines:
            return False
        entry = Entry(lines[:1], None, ())
        result = self.classify(entry, dry_run=True)
        return result is not None and bool(result.owners)

    def extend(self, entry: Entry, block: Block) -> None:
        entry.end_line = max(entry.end_line, self.lines.last_line_of(block.start, block.end))
        if block.kind == CODE:
            text = self._code_context(block)
        else:
            text = _dedent(self.source(block.start, block.end))
        if entry.context is None:
            entry.context = [text]
        else:
            entry.context.append(text)

    def _code_context(self, block: Block) -> str:
        """Return a code block as Markdown that stays a code block on its own.

        The block's range starts after its first line's indentation, so that
        indentation is put back before the common indentation is removed.
        Indented code (a pasted log) would read as plain text once its
        indentation is gone, so it is put in a fence.
        """

        data = self.data
        line_start = data.rfind(b"\n", 0, block.start) + 1
        start = block.start if data[line_start : block.start].strip(b" \t") else line_start
        lines = self.source(start, block.end).rstrip("\n").split("\n")
        indents = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip()]
        cut = min(indents, default=0)
        text = "\n".join(line[cut:] for line in lines)
        first = text.split("\n", 1)[0].lstrip(" ")
        if first.startswith("~~~") or (
            # A backtick fence's info string has no backtick in it.
            first.startswith("```") and "`" not in first.lstrip("`")
        ):
            return text
        longest = max((len(run) for run in _BACKTICK_RUN.findall(text)), default=0)
        fence = "`" * max(3, longest + 1)
        return f"{fence}\n{text}\n{fence}"

    # -- inline markers --------------------------------------------------------

    def marker_entries(self, block: Block) -> None:
        prefilter = self.compiled.marker_prefilter
        if prefilter is not None:
            # Removing a comment can join two halves of a word, so a block
            # with one is always read.
            raw = self.data[block.start : block.end]
            if raw.isascii() and b"<!--" not in raw:
                as_written, lower_case = prefilter
                if not any(word in raw for word in as_written):
                    lowered = raw.lower()
                    if not any(word in lowered for word in lower_case):
                        return
        kind = block.kind
        if kind == PARAGRAPH:
            self._marker_lines(self.block_lines(block.start, block.end))
        elif kind == ITEM:
            lead, rest = self.item_parts(block)
            self._marker_lines(
                self.block_lines(lead[0], lead[1], list_item=lead[2], checkbox=block.checked is not None)
            )
            for child in rest:
                self.marker_entries(child)
        elif kind in (LIST, QUOTE):
            for child in block.children:
                self.marker_entries(child)

    def _marker_lines(self, lines) -> None:
        group: list[tuple[int, str]] | None = None
        groups = []
        for number, text in lines:
            if self.marker_match(text) is not None:
                group = [(number, text)]
                groups.append(group)
            elif group is not None and text and not self.starts_entry(text):
                group.append((number, text))
            else:
                group = None
        for group in groups:
            entry = Entry(group, None, (), marker=True)
            entry.end_line = group[-1][0]
            result = self.classify(entry)
            if result is not None and not result.owner_only:
                self.pending_items.append((entry, result))

    # -- one entry -------------------------------------------------------------

    def classify(self, entry: Entry, *, dry_run: bool = False) -> _Classified | None:
        """Owners and text of an entry; None for placeholders and notes.

        The result depends only on the entry's text and flags, and minutes
        copy most entries forward from meeting to meeting, so results are
        kept per dialect. They are not kept when names must be known,
        because the known names vary by file.
        """

        if self.known is not None:
            return self._classify(entry, dry_run)
        lines = entry.lines
        texts = lines[0][1] if len(lines) == 1 else tuple(text for _number, text in lines)
        # A task box changes how a leading handle reads, so it is in the key.
        key = (texts, entry.inherited, entry.marker, dry_run, entry.checked is not None)
        memo = self.memo
        result = memo.get(key, _MISSING)
        if result is _MISSING:
            result = self._classify(entry, dry_run)
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[key] = result
        return result

    def _classify(self, entry: Entry, dry_run: bool) -> _Classified | None:
        dialect, compiled = self.dialect, self.compiled
        lines = entry.lines
        first = lines[0][1]
        following = [text for _number, text in lines[1:]] if len(lines) > 1 else _NO_LINES
        owners: tuple[str, ...] = ()
        text: str | None = None

        if dialect.inline_markers:
            match = self.marker_match(first)
            if match is not None:
                first = first[match.end() :]
                named = match.group("for")
                if named:
                    tokens = owner_forms.split_tokens(named, compiled)
                    if tokens:
                        owners = tuple(tokens)
                        text = first
            elif entry.marker:
                return None

        whole = " ".join([first] + following) if following else first
        if len(whole) <= self.placeholder_length and self._is_placeholder(whole):
            return None

        if not owners and dialect.colon_owners:
            match = owner_forms.colon_prefix(first, compiled)
            if match is not None:
                if match.note:
                    return None
                if match.owner_only:
                    return _Classified(match.owners, "", True)
                if match.owners:
                    owners, text = match.owners, match.text
                elif match.placeholder:
                    if self._is_placeholder(match.text or ""):
                        return None
                    return self._finish(entry, (), match.text or "", following, dry_run)
        if not owners and dialect.handle_owners and "@" in first:
            # A task's leading handle names the owner, unless the parent
            # line named one for its sub-tasks.
            task_box = (
                dialect.task_box_handles and entry.checked is not None and not entry.inherited
            )
            match = owner_forms.handle_owner(first, compiled, task_box=task_box)
            if match is not None:
                if match.owner_only and not following:
                    return _Classified(match.owners, "", True)
                owners = match.owners
                text = match.text
        if not owners and dialect.leading_paren_owners and first[:1] in "([":
            match = owner_forms.leading_paren(first, compiled)
            if match is not None:
                owners, text = match.owners, match.text
        if not owners and dialect.name_to_owners:
            match = owner_forms.name_to(first, compiled, self.known)
            if match is not None:
                owners = match.owners
        if not owners and entry.inherited:
            owners = entry.inherited
        if not owners and dialect.trailing_paren_owners and "(" in first:
            match = owner_forms.trailing_paren(first, compiled, self.known)
            if match is not None:
                owners = match.owners
        if not owners and not following and _INITIALS_STUB.match(first.rstrip(":").strip()):
            # A lone "PV" left in a skeleton: an owner with no task yet.
            return None
        if text is None:
            text = first
        return self._finish(entry, owners, text, following, dry_run)

    def _finish(self, entry, owners, text, following, dry_run) -> _Classified | None:
        full = ("\n".join([text] + following) if following else text).strip()
        if not owners and not self.dialect.unowned_items:
            return None
        if not dry_run and len(full) <= self.placeholder_length and self._is_placeholder(full):
            return None
        return _Classified(owners if type(owners) is tuple else tuple(owners), full)

    def _is_placeholder(self, text: str) -> bool:
        if len(text) > self.compiled.placeholder_length:
            # Longer than any placeholder even with markup and spacing around it.
            return False
        folded = " ".join(owner_forms.strip_markup(text).casefold().split()).strip(" .:;!")
        return not folded or folded in self.compiled.placeholders

    def is_done_text(self, text: str) -> bool:
        """Return whether the entry text marks the entry done, its checkbox aside."""

        dialect = self.dialect
        if dialect.strikethrough_done and "~" in text:
            remaining = _LINK_TARGET.sub("]", _STRUCK.sub("", text))
            if not _ALNUM.search(remaining):
                return True
        stripped = text.rstrip(" .!\t")
        if not stripped or stripped[-1].casefold() not in self.compiled.done_suffix_ends:
            return False
        for suffix in self.compiled.done_suffixes:
            if suffix.isupper():
                if stripped.endswith(suffix) and (
                    len(stripped) == len(suffix) or not stripped[-len(suffix) - 1].isalnum()
                ):
                    return True
            elif stripped.casefold().endswith(suffix.casefold()):
                return True
        return False


_KINDS = {kind.value: kind for kind in ItemKind}
_TASK = ItemKind.TASK
_UNOWNED = ItemKind.UNOWNED
_ITEM_ORDER = attrgetter("line", "end_line")
_new_object = object.__new__


def new_item(line, end_line, owners, kind, text, done, context) -> Item:
    """Build an Item without its dataclass ``__init__``.

    Item is a frozen dataclass, whose ``__init__`` makes one setattr call per
    field. Parsing and cache hits build thousands of them, so this fills the
    instance dictionary in one call instead. The result is an ordinary Item.
    """

    item = _new_object(Item)
    item.__dict__.update(
        line=line,
        end_line=end_line,
        owners=owners,
        kind=_KINDS[kind] if type(kind) is str else kind,
        text=text,
        done=done,
        context=context,
    )
    return item


def _dedent(text: str) -> str:
    lines = text.rstrip("\n").split("\n")
    indents = [len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()]
    if indents:
        cut = min(indents)
        lines = [lines[0]] + [line[cut:] for line in lines[1:]]
    return "\n".join(lines)


def _rebalance_strike(entry_text: str, task_text: str) -> str:
    """Move a strike that opened before the owner prefix into the task text.

    ``~~KM: Book the room.~~`` leaves ``Book the room.~~`` once the prefix is
    cut, and that dangling marker would end up in the issue title.
    """

    if "~~" not in task_text or task_text.count("~~") % 2 == 0:
        return task_text
    if not entry_text.lstrip(" -*+").startswith("~~") or task_text.startswith("~~"):
        return task_text
    return "~~" + task_text


def count_action_sections(data: bytes, root: Block, lines: LineIndex, dialect: Dialect) -> int:
    """Return how many action sections the document parsed into ``root`` has."""

    return len(Extractor(data, lines, dialect).sections(root))


def extract_items(data: bytes, root: Block, lines: LineIndex, dialect: Dialect, known_names=None) -> list[Item]:
    """Extract every item of the document parsed into ``root`` from ``data``."""

    return extract_document(data, root, lines, dialect, known_names)[0]


def extract_document(
    data: bytes, root: Block, lines: LineIndex, dialect: Dialect, known_names=None
) -> tuple[list[Item], int]:
    """Return the items of the document parsed into ``root`` and its action section count.

    One pass gives both, so a parse does not look for the sections twice.
    """

    extractor = Extractor(data, lines, dialect, known_names)
    extractor.run(root)
    items = []
    seen = set()
    checkbox_done = dialect.checkbox_done
    for entry, result in extractor.pending_items:
        entry_lines = entry.lines
        first_line = entry_lines[0][0]
        key = (first_line, result.text)
        if key in seen:
            continue
        seen.add(key)
        if result.item_text is None:
            if len(entry_lines) == 1:
                first_text = entry_lines[0][1]
            else:
                first_text = "\n".join(text for _number, text in entry_lines)
            item_text = result.item_text = _rebalance_strike(first_text, result.text)
            # The strike may cover the whole entry or only the task text
            # after the owner ("KM: ~~Book the room.~~").
            result.text_done = extractor.is_done_text(first_text) or (
                item_text is not first_text and extractor.is_done_text(item_text)
            )
        owners = result.owners
        # The same object new_item builds, without the call.
        item = _new_object(Item)
        item.__dict__.update(
            line=first_line,
            end_line=max(entry.end_line, entry_lines[-1][0]),
            owners=owners,
            kind=_TASK if owners else _UNOWNED,
            text=result.item_text,
            done=True if entry.checked and checkbox_done else result.text_done,
            context="\n".join(entry.context) if entry.context else "",
        )
        items.append(item)
    items.sort(key=_ITEM_ORDER)
    return items, extractor.section_count
