"""Front matter, meeting dates and series names.

Front matter is read with ``syncd.yamltext``, so ``NO`` stays the text "NO",
``10:00`` stays "10:00" and a duplicated key is an error naming its line.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass, field

from syncd.parser.dialect import Dialect
from syncd.yamltext import YamlDocument, YamlError, load_yaml

_FENCE_LINE = re.compile(r"---[ \t]*")
# A line feed and a closing line: "---" or "...", then spaces or tabs only.
_CLOSE_AFTER_FEED = re.compile(r"\n(?:---|\.\.\.)[ \t]*(?=\n|\Z)")
_YEAR_FOLDER = re.compile(r"(?:19|20)\d\d(?:-\d\d)?")
_NAME_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])(?!\d)")
_ISO_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_US_DATE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)(?!\d)")
_MONTHS = {
    name: index
    for index, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_WORD_DATE = re.compile(
    r"\b(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b",
    re.IGNORECASE,
)


# The common shape of front matter, read without a YAML parser: "key: value"
# lines with plain, simply quoted or flow-list values, and block lists of
# one-line values. Anything else (comments, nesting, tabs, duplicate keys,
# multi-line values) goes to the real loader, which also reports every error.
_SIMPLE_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?:[ ]+(.*))?")
_PLAIN_START = frozenset("-?:,[]{}#&*!|>'\"%@`")
_NULLS = frozenset({"~", "null", "Null", "NULL"})


def _plain(value: str) -> bool:
    return (
        value[0] not in _PLAIN_START
        and ": " not in value
        and " #" not in value
        and not value.endswith(":")
    )


_FLOW_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/+-]*")


def _scalar(value: str):
    """(ok, value) for a one-line scalar of the simple shape."""

    if value[0] == '"':
        inner = value[1:-1]
        if len(value) >= 2 and value[-1] == '"' and '"' not in inner and "\\" not in inner:
            return True, inner
        return False, None
    if value[0] == "'":
        inner = value[1:-1]
        if len(value) >= 2 and value[-1] == "'" and "'" not in inner:
            return True, inner
        return False, None
    if value[0] == "[":
        if value[-1] != "]":
            return False, None
        inner = value[1:-1].strip()
        if not inner:
            return True, []
        words = [word.strip() for word in inner.split(",")]
        if not all(_FLOW_WORD.fullmatch(word) for word in words):
            return False, None
        if any(word in _NULLS for word in words):
            return False, None
        return True, words
    if not _plain(value):
        return False, None
    return True, None if value in _NULLS else value


# Line kinds in the (kind, key, indent, value) rows of _simple_line.
_BLANK = "blank"
_ENTRY = "entry"  # a list entry: indent (spaces before "-") and value
_KEY = "key"  # key and value, a scalar or a flow list
_LIST_KEY = "list key"  # a key with no value on its line
_OTHER = "other"  # a line the simple reader does not handle
_BLANK_ROW = (_BLANK, None, None, None)
_OTHER_ROW = (_OTHER, None, None, None)

# Front matter lines repeat from file to file (keys, participant names), so
# _simple_yaml keeps what _simple_line made of each short line it met. The
# memo is cleared when it reaches its maximum size, or by forget_memos.
_LINE_ROWS: dict[str, tuple] = {}
_LINE_ROWS_MAX = 4096
_LINE_ROWS_MAX_LENGTH = 200


def _simple_line(line: str) -> tuple:
    """Classify one front matter line for _simple_yaml, as a (kind, key, indent, value) row."""

    if not line.strip():
        return _BLANK_ROW
    # Only a line starting with spaces or "-" can be a list entry:
    # spaces, "-", one or more spaces, the value.
    entry = line.lstrip(" ") if line[0] in " -" else ""
    if entry[:2] == "- ":
        item = entry[2:].strip(" ")
        if not item:
            return _OTHER_ROW
        if item[0] in _PLAIN_START or ": " in item or " #" in item or item[-1] == ":":
            ok, scalar = _scalar(item)
            if not ok or not isinstance(scalar, str):
                return _OTHER_ROW
        elif item in _NULLS:
            return _OTHER_ROW
        else:
            # A plain scalar, the usual list entry (_scalar, inlined).
            scalar = item
        return (_ENTRY, None, len(line) - len(entry), scalar)
    if line[0] == " ":
        return _OTHER_ROW
    match = _SIMPLE_KEY.fullmatch(line)
    if match is None:
        return _OTHER_ROW
    key, value = match.group(1), (match.group(2) or "").rstrip(" ")
    if not value:
        return (_LIST_KEY, key, None, None)
    if value[0] in _PLAIN_START or ": " in value or " #" in value or value[-1] == ":":
        ok, scalar = _scalar(value)
        if not ok:
            return _OTHER_ROW
    else:
        # A plain scalar (_scalar, inlined).
        scalar = None if value in _NULLS else value
    return (_KEY, key, None, scalar)


def _simple_yaml(text: str) -> dict | None:
    """Load front matter of the simple shape exactly as load_yaml would, or None.

    Returns the data alone, without the line of each key.
    """

    # NOTE: a line of whitespace other than spaces (U+00A0, U+3000, form
    # feed) counts as blank here, and a value may contain control characters
    # or U+0085, U+2028 and U+2029, although load_yaml rejects both.
    if "\t" in text or "\r" in text:
        return None
    data: dict = {}
    current_list: list | None = None
    list_key = ""
    list_indent = -1
    rows = _LINE_ROWS
    for line in text.split("\n"):
        row = rows.get(line)
        if row is None:
            row = _simple_line(line)
            if len(line) <= _LINE_ROWS_MAX_LENGTH:
                if len(rows) >= _LINE_ROWS_MAX:
                    rows.clear()
                rows[line] = row
        kind, key, indent, value = row
        if kind == _ENTRY:
            if current_list is None:
                return None
            if list_indent != indent:
                if list_indent >= 0:
                    return None
                list_indent = indent
            current_list.append(value)
        elif kind == _KEY or kind == _LIST_KEY:
            if key in data:
                return None
            if current_list is not None and not current_list:
                # "key:" followed by no entries is null, not an empty list.
                data[list_key] = None
            if kind == _LIST_KEY:
                current_list = []
                list_key, list_indent = key, -1
                data[key] = current_list
            else:
                current_list = None
                # A flow list is copied, because the memo keeps the original.
                data[key] = list(value) if type(value) is list else value
        elif kind == _OTHER:
            return None
    if current_list is not None and not current_list:
        data[list_key] = None
    return data or None


def forget_memos() -> None:
    """Empty the memos of this module, so the next parse starts as a new process would."""

    _LINE_ROWS.clear()
    _series_for_folder.cache_clear()


class FrontMatterProblem(Exception):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class FrontMatter:
    """Front matter found at the start of a text. ``body_start`` is a char index."""

    data: dict = field(default_factory=dict)
    body_start: int = 0
    present: bool = False


def split_front_matter(text: str) -> FrontMatter:
    """Find and load YAML front matter: ``---`` on line 1, closed by ``---`` or ``...``.

    Raises FrontMatterProblem for invalid YAML (line numbers are file lines).
    A ``---`` first line that is never closed is a thematic break, not front
    matter.
    """

    first_end = text.find("\n")
    if first_end < 0 or not _FENCE_LINE.fullmatch(text[:first_end]):
        return FrontMatter()
    close = _CLOSE_AFTER_FEED.search(text, first_end)
    if close is None:
        return FrontMatter()
    position = close.start() + 1
    end = text.find("\n", position)
    yaml_text = text[first_end + 1 : position]
    body_start = len(text) if end < 0 else end + 1
    try:
        data = _simple_yaml(yaml_text)
        if data is None:
            # The blank line stands for the opening ``---``, so every line
            # number load_yaml reports, in its messages too, is a line of the
            # file.
            data = load_yaml("\n" + yaml_text).data
    except YamlError as error:
        line = error.line if error.line is not None else 1
        raise FrontMatterProblem(f"front matter: {error.message}", line) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FrontMatterProblem(
            "front matter must be a mapping of keys (like 'date: 2024-05-02')", 2
        )
    return FrontMatter(data=data, body_start=body_start, present=True)


def series_for_path(relative_path: str, depth: int | None = None) -> str:
    """Return the meeting series of a file: its folder, with year folders folded.

    ``discussions/community/2022/2022-04-28.md`` -> ``discussions/community``.
    With ``depth``, only the first ``depth`` folders (after folding) count.
    A file at the top of the tree belongs to the series ``.``.
    """

    folder = relative_path.replace("\\", "/").rpartition("/")[0]
    return _series_for_folder(folder, depth)


# The files of a series share a folder, so each folder is folded once
# until forget_memos empties the memo.
@functools.lru_cache(maxsize=1024)
def _series_for_folder(folder: str, depth: int | None) -> str:
    parts = [part for part in folder.split("/") if part not in ("", ".")]
    folded = [part for part in parts if not _YEAR_FOLDER.fullmatch(part)]
    if depth is not None:
        folded = folded[: max(depth, 0)]
    return "/".join(folded) or "."


def _valid(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def date_from_name(path: str) -> datetime.date | None:
    name = path.rpartition("/")[2]
    if "\\" in name:
        name = name.rpartition("\\")[2]
    first = _NAME_DATE.search(name)
    if first is None:
        return None
    year, month, day = first.groups()
    found = _valid(int(year), int(month), int(day))
    if found:
        return found
    # The first date-like part is no date ("2023-02-30"), so try the others.
    for match in _NAME_DATE.finditer(name):
        found = _valid(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if found:
            return found
    return None


def date_from_text(text: str) -> datetime.date | None:
    """Return the first date written in ``text`` (ISO, US or "May 2, 2024" form)."""

    leading = _ISO_DATE.match(text.lstrip())
    if leading is not None:
        # The usual front-matter value: a date (and time) at the start.
        year, month, day = leading.groups()
        found = _valid(int(year), int(month), int(day))
        if found:
            return found
    candidates = []
    for pattern, order in ((_ISO_DATE, (1, 2, 3)), (_US_DATE, (3, 1, 2))):
        for match in pattern.finditer(text):
            year, month, day = (int(match.group(index)) for index in order)
            found = _valid(year, month, day)
            if found:
                candidates.append((match.start(), found))
                break
    for match in _WORD_DATE.finditer(text):
        found = _valid(int(match.group(3)), _MONTHS[match.group(1).lower()], int(match.group(2)))
        if found:
            candidates.append((match.start(), found))
            break
    return min(candidates)[1] if candidates else None


def participants_of(data: dict, dialect: Dialect) -> tuple[str, ...]:
    """Participant names from front matter; an entry may hold several, comma-joined."""

    names: list[str] = []
    for key in dialect.participant_keys:
        value = data.get(key)
        if isinstance(value, list):
            entries = value
        elif isinstance(value, str):
            entries = [value]
        else:
            continue
        try:
            # Usually every entry is text, and splitting the entries joined
            # by commas gives the parts of each entry in turn.
            joined = ",".join(entries)
        except TypeError:
            for entry in entries:
                if isinstance(entry, str):
                    names.extend(part.strip() for part in entry.split(",") if part.strip())
                elif isinstance(entry, dict):
                    names.extend(str(key).strip() for key in entry if str(key).strip())
        else:
            # Joining adds one comma fewer than there are entries, so more
            # commas mean an entry lists several names.
            if joined.count(",") >= len(entries):
                entries = joined.split(",")
            names.extend(filter(None, map(str.strip, entries)))
    return tuple(dict.fromkeys(names))


def text_list(value) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(filter(None, map(str.strip, value.split(","))))
    if isinstance(value, list):
        try:
            return tuple(filter(None, map(str.strip, value)))
        except TypeError:
            # Some entry is not text: leave those out.
            return tuple(entry.strip() for entry in value if isinstance(entry, str) and entry.strip())
    return ()
