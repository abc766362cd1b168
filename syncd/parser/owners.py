"""Reading owners off the start (or end) of an entry's first line.

Every function here takes one line of text and a compiled dialect and
returns what it found. None of them decides whether the entry is an item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# One owner token: initials, a name or a group word, in any script.
# Apostrophes and hyphens may join parts ("O'Neil", "Jean-Luc").
_TOKEN = re.compile(r"@?[^\W\d_](?:[\w'’\-]*[\w])?")
# A handle, optionally followed by one capital initial ("@Tom D"), which some
# minutes use as a pseudo-handle for a person without a known account.
_HANDLE = re.compile(r"@[^\W_][\w.\-]*[\w](?: [A-Z](?![\w@]))?|@[^\W_](?: [A-Z](?![\w@]))?")
_COLON_PREFIX = re.compile(
    r"^(?P<owners>[^:()\[\]]{1,80}?)\s*(?P<qualifier>\([^()]{0,80}\))?\s*:(?!:|//)(?P<rest>.*)$",
    re.DOTALL,
)
_LEADING_PAREN = re.compile(r"^(?:\((?P<p>[^()]{1,60})\)|\[(?P<b>[^\[\]]{1,60})\](?![(\[:]))\s*[:\-–—]?\s*(?P<rest>\S.*)$", re.DOTALL)
_PAREN_GROUP = re.compile(r"\(([^()]{1,80})\)")
_MARKUP = re.compile(r"~~|\*\*|__")
_NEXT_WORD = re.compile(r"\s*(\S+)")


_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)")


def _blank_code(text: str) -> str:
    """Replace code spans in ``text`` by NUL characters (code is never an owner).

    NUL cannot be part of a token, so a parenthesis holding code is no owner.
    """

    if "`" not in text:
        return text
    return _CODE_SPAN.sub(lambda match: "\0" * len(match.group(0)), text)


def strip_markup(text: str) -> str:
    """Text with strike and strong markers removed, for matching owners."""

    if "~~" in text or "**" in text or "__" in text:
        return _MARKUP.sub("", text)
    return text


@dataclass(slots=True)
class OwnerMatch:
    """Owners found in a line.

    ``text`` is the task text that remains (None: keep the whole entry).
    ``owner_only`` is set when the line contains owners and nothing else.
    ``note`` when the prefix is on the note stoplist.
    """

    owners: tuple[str, ...] = ()
    text: str | None = None
    owner_only: bool = False
    note: bool = False
    placeholder: bool = False


def split_tokens(text: str, compiled) -> tuple[str, ...] | None:
    """Split ``text`` into owner tokens, or None when it is not a token list.

    The same few owner prefixes recur in every file of a series, so results
    are kept per dialect (``compiled.token_memo``).
    """

    memo = compiled.token_memo
    found = memo.get(text, _MISSING)
    if found is _MISSING:
        found = _split_tokens(text, compiled)
        if len(memo) >= _TOKEN_MEMO_LIMIT:
            memo.clear()
        memo[text] = found
    return found


_MISSING = object()
_TOKEN_MEMO_LIMIT = 20_000


def _split_tokens(text: str, compiled) -> tuple[str, ...] | None:
    text = text.strip()
    if not text:
        return None
    parts = compiled.separator.split(text)
    tokens = []
    not_owners = compiled.not_owners
    for part in parts:
        part = part.strip()
        if not part:
            return None
        if part[0] == "@":
            if _HANDLE.fullmatch(part) is None:
                return None
        elif _TOKEN.fullmatch(part) is None:
            return None
        # Upper-case initials ("AS", "AT") are names even when the same
        # letters in lower case are a stop word.
        is_initials = len(part) >= 2 and part.isupper()
        if not is_initials and part.casefold() in not_owners:
            return None
        tokens.append(part)
    return tuple(tokens)


def _strip_placeholder_word(text: str, compiled) -> str | None:
    """Strip a leading placeholder word (``TODO RD`` -> ``RD``), or return None without one."""

    first, _, rest = text.partition(" ")
    if first.casefold() in compiled.placeholder_owners:
        return rest.strip()
    return None


def colon_prefix(line: str, compiled, *, depth: int = 0) -> OwnerMatch | None:
    """Read an ``OWNERS: text`` prefix, or return None when the line has no colon prefix."""

    split = split_colon_prefix(line)
    if split is None:
        return None
    prefix, qualifier, rest = split
    # Most prefixes have been read before in this run.
    reading = compiled.token_memo.get((prefix, qualifier is None), _MISSING)
    if reading is _MISSING:
        reading = _prefix_reading(prefix, qualifier is None, compiled)
    if reading is _NOTE:
        return OwnerMatch((), None, False, True)
    if reading is _PLACEHOLDER:
        # "TODO: text" is a placeholder for the owner, but "TODO: RD: text" names RD.
        if depth == 0:
            inner = colon_prefix(rest, compiled, depth=1)
            if inner is not None and inner.owners:
                return inner
        return OwnerMatch((), rest, False, False, True)
    if reading is None:
        return OwnerMatch()
    if qualifier:
        rest = f"{qualifier} {rest}".strip() if rest.strip() else rest
        if not rest.strip() or rest.strip() == qualifier:
            return OwnerMatch(reading, None, True)
    elif not rest.strip():
        return OwnerMatch(reading, None, True)
    return OwnerMatch(reading, rest)


def split_colon_prefix(line: str) -> tuple[str, str | None, str] | None:
    """Split ``OWNERS (qualifier): text`` into its three parts, or return None."""

    colon = line.find(":")
    if colon < 0:
        # Without a colon the pattern would fail only after trying every
        # prefix length.
        return None
    plain = strip_markup(line).strip()
    head = line[:colon]
    if (
        plain is line
        and 0 < len(head) <= 80
        and "(" not in head
        and ")" not in head
        and "[" not in head
        and "]" not in head
        and line[colon + 1 : colon + 2] != ":"
        and line[colon + 1 : colon + 3] != "//"
    ):
        # The usual "RD: text", found by slicing. With no markup, no outer
        # spaces and no bracket before the first colon, _COLON_PREFIX
        # matches up to that colon and gives the same three parts.
        return head.strip(), None, line[colon + 1 :].lstrip()
    return split_colon_prefix_by_pattern(line)


def split_colon_prefix_by_pattern(line: str) -> tuple[str, str | None, str] | None:
    """``split_colon_prefix`` for any line, by the full pattern."""

    plain = strip_markup(line).strip()
    match = _COLON_PREFIX.match(plain)
    if match is None:
        return None
    if plain is line:
        # No markup and no spaces around: the colon the pattern matched is
        # the line's first colon, so the raw rest is the matched rest.
        rest = match.group("rest").lstrip()
    else:
        rest = _raw_rest(line)
    return match.group("owners").strip(), match.group("qualifier"), rest


_NOTE = object()
_PLACEHOLDER = object()


def _prefix_reading(prefix: str, unqualified: bool, compiled):
    """What an owner prefix is: _NOTE, _PLACEHOLDER, a token tuple, or None.

    It depends on the prefix alone, and prefixes recur, so it is kept in
    ``compiled.token_memo`` beside the token lists (under a tuple key).
    """

    key = (prefix, unqualified)
    memo = compiled.token_memo
    found = memo.get(key, _MISSING)
    if found is not _MISSING:
        return found
    first_word = prefix.split(None, 1)[0].casefold() if prefix else ""
    found = _MISSING
    if first_word.strip("*_~`") in compiled.note_first_words or not first_word.isalnum():
        if compiled.title_of(prefix) in compiled.note_prefixes:
            found = _NOTE
    if found is _MISSING and unqualified and prefix.casefold() in compiled.placeholder_owners:
        found = _PLACEHOLDER
    if found is _MISSING:
        unplaced = _strip_placeholder_word(prefix, compiled)
        found = split_tokens(prefix if unplaced is None else unplaced, compiled)
    if len(memo) >= _TOKEN_MEMO_LIMIT:
        memo.clear()
    memo[key] = found
    return found


def _raw_rest(line: str) -> str:
    """Return the raw text after the prefix colon, Markdown kept."""

    index = line.find(":")
    if index >= 0 and line[index + 1 : index + 2] != ":" and not line.startswith("://", index):
        # The usual case: the first colon is the prefix colon.
        stripped = line[index + 1 :].lstrip()
        if stripped[:2] not in ("**", "__"):
            return stripped
    index = 0
    while True:
        index = line.find(":", index)
        if index < 0:
            return ""
        if line.startswith("::", index) or line.startswith("://", index):
            index += 3
            continue
        break
    rest = line[index + 1 :]
    stripped = rest.lstrip()
    for mark in ("**", "__"):
        if stripped.startswith(mark) and line.lstrip().startswith(mark):
            stripped = stripped[len(mark) :].lstrip()
    return stripped


def handle_owner(line: str, compiled, *, task_box: bool = False) -> OwnerMatch | None:
    """Read ``@handle to text``, ``@handle`` alone, or a handle before to/will later on.

    With ``task_box`` (the entry is a ``- [ ]`` task), a handle at the start
    names the owner whatever follows it: ``- [x] @kim delete the channel``.
    """

    plain = strip_markup(line).strip()
    match = _HANDLE.match(plain)
    if match is not None:
        handle = match.group(0)
        after = plain[match.end() :]
        if not after.strip():
            return OwnerMatch(owners=(handle,), owner_only=True)
        word = after.split(None, 1)[0].casefold().rstrip(":,")
        if after.lstrip().startswith(":"):
            return OwnerMatch(owners=(handle,), text=after.lstrip()[1:].strip() or None)
        if word in compiled.name_verbs:
            return OwnerMatch(owners=(handle,))
        if task_box:
            # The task is what follows the handle, as written.
            return OwnerMatch(owners=(handle,), text=_after_handle(line) or None)
        return None
    # A handle later in the line that is followed by to/will ("... — @X to
    # make a recommendation"), or one that ends the line ("... @Nicholas M").
    # Code spans are blanked first, and an "@" inside a word (an email
    # address) is not a handle.
    plain = _blank_code(plain)
    content_end = len(plain.rstrip())
    for found in _HANDLE.finditer(plain):
        start, end = found.start(), found.end()
        if start > 0 and (plain[start - 1].isalnum() or plain[start - 1] in "._-"):
            continue
        if end >= content_end:
            return OwnerMatch(owners=(found.group(0),))
        # Look at the next word and the character before the handle without
        # slicing the rest of the line, which would make long lines quadratic.
        next_word = _NEXT_WORD.match(plain, end)
        word = next_word.group(1).casefold() if next_word else ""
        if word in compiled.name_verbs and start > 0 and plain[start - 1] in " \t—–-":
            before = start - 1
            while before >= 0 and plain[before] in " \t":
                before -= 1
            if before < 0 or plain[before] in "—–-":
                return OwnerMatch(owners=(found.group(0),))
    return None


def _after_handle(line: str) -> str:
    """Return the raw text after a line's leading handle, Markdown kept."""

    stripped = line.strip()
    # Bold or struck handles ("**@kim** text") keep their closing marks off
    # the task text.
    for mark in ("**", "__", "~~"):
        if stripped.startswith(mark):
            closing = stripped.find(mark, len(mark))
            if closing > 0 and stripped[len(mark) : closing].lstrip().startswith("@"):
                return stripped[closing + len(mark) :].strip()
    match = _HANDLE.match(stripped)
    return stripped[match.end() :].strip() if match is not None else stripped


def _names_before(text: str, compiled, known) -> list[str] | None:
    """Return the firm owner names in ``text`` (the words before to/will), hedges dropped."""

    tokens: list[str] = []
    for segment in re.split(r"\s*,\s*", text.strip()):
        if not segment:
            continue
        words = segment.split()
        if words and words[0].casefold() in compiled.hedge_words:
            # "hopefully Fedor and Shigeki", "maybe others": not committed.
            break
        names = split_tokens(segment, compiled)
        if names is None:
            return None
        tokens.extend(names)
    if not tokens:
        return None
    for token in tokens:
        if known is not None and not known(token):
            return None
    return tokens


def name_to(line: str, compiled, known=None) -> OwnerMatch | None:
    """Read ``Name to text`` or ``Name and Name will text``, keeping the whole entry as text."""

    plain = strip_markup(line).strip()
    for verb in compiled.name_verb_pattern.finditer(plain):
        names = _names_before(plain[: verb.start()], compiled, known)
        if names is not None:
            return OwnerMatch(owners=tuple(names))
        # Only the first to/will can follow the owners.
        return None
    return None


def leading_paren(line: str, compiled) -> OwnerMatch | None:
    """Read a leading ``(Name) text`` or ``[XX] text``."""

    plain = line.strip()
    match = _LEADING_PAREN.match(plain)
    if match is None:
        return None
    inside = match.group("p") if match.group("p") is not None else match.group("b")
    if inside.strip().casefold() in ("x", " ", ""):
        return None
    tokens = split_tokens(inside, compiled)
    if tokens is None or any("_" in token for token in tokens):
        return None
    if any(token.casefold() in compiled.paren_stop for token in tokens):
        return None
    return OwnerMatch(owners=tuple(tokens), text=match.group("rest"))


def trailing_paren(line: str, compiled, known=None) -> OwnerMatch | None:
    """Find a parenthesis naming the owner: ``... (Name)``, ``(Jen, maybe with X)``."""

    plain = _blank_code(strip_markup(line))
    groups = list(_PAREN_GROUP.finditer(plain))
    for group in reversed(groups):
        inside = group.group(1).strip()
        first = re.split(r"\s*[,;]\s*", inside, maxsplit=1)[0]
        verb = compiled.name_verb_pattern.search(first)
        if verb is not None:
            first = first[: verb.start()]
        tokens = split_tokens(first, compiled)
        if tokens is None or any("_" in token for token in tokens):
            continue
        if any(token.casefold() in compiled.paren_stop for token in tokens):
            continue
        if known is not None and not all(known(token) for token in tokens):
            continue
        return OwnerMatch(owners=tuple(tokens))
    return None
