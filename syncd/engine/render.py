"""Issue content: the title, the managed block of the body and the marker.

The body is laid out as::

    <!-- syncd:v1 PAYLOAD -->         the marker, always first
    <!-- syncd:begin -->
    ...                               the managed block, rewritten by syncd
    <!-- syncd:end -->
    ...                               anything people add, never touched

Rendering is deterministic (no timestamps, sorted sets), so an unchanged item
renders to the same bytes and compare-before-write makes no call.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import regex

from syncd.engine.identity import strip_done_marker
from syncd.engine.markdown import ELLIPSIS, close_markdown, cut_markdown
from syncd.marker import (
    MARKER_PATTERN,
    decode_marker,
    encode_marker,
    neutralize_markers,
)

BLOCK_BEGIN = "<!-- syncd:begin -->"
BLOCK_END = "<!-- syncd:end -->"
# Meetings listed in the body's history; older ones are counted, not listed.
HISTORY_LIMIT = 30
# Room kept free under the tracker's body limit for the marker and people's text.
BODY_MARGIN = 2_000

_MENTION = re.compile(r"(?<![\w`/&])@(?=[A-Za-z0-9])")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_SPACE = re.compile(r"\s+")
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")


def neutralize_mentions(text: str) -> str:
    """Return ``text`` with each ``@name`` broken by a zero-width space entity.

    The entity renders as nothing, but GitHub and GitLab no longer see a
    mention, so nobody is notified by an item that quotes a handle. Code spans
    are left alone: mentions inside them never notify.
    """

    parts = []
    position = 0
    for span in _CODE_SPAN.finditer(text):
        parts.append(_MENTION.sub("@&#8203;", text[position : span.start()]))
        parts.append(span.group(0))
        position = span.end()
    parts.append(_MENTION.sub("@&#8203;", text[position:]))
    return "".join(parts)


def truncate_graphemes(text: str, limit: int) -> str:
    """Return ``text`` cut to at most ``limit`` characters at a grapheme boundary.

    A cut text ends with an ellipsis. Cutting inside a grapheme cluster (an
    emoji with a skin tone, a letter with a combining accent) would leave a
    broken character, so whole clusters are kept or dropped.
    """

    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    kept = []
    length = 0
    for cluster in regex.findall(r"\X", text):
        if length + len(cluster) > limit - len(ELLIPSIS):
            break
        kept.append(cluster)
        length += len(cluster)
    return "".join(kept).rstrip() + ELLIPSIS


def render_title(text: str, limit: int) -> str:
    """Return the issue title for an item's text: one line, links as their text."""

    title = _MARKDOWN_LINK.sub(r"\1", strip_done_marker(text))
    title = _SPACE.sub(" ", title).strip()
    if not title:
        title = "Action item"
    return truncate_graphemes(title, limit)


def block_hash(block: str | None) -> str | None:
    if block is None:
        return None
    return hashlib.sha256(block.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class OwnerLine:
    """One owner as written and what it resolved to, for the body."""

    token: str
    resolved: str | None  # "Name (@login)" or a group label, or None
    note: str | None = None  # why it is not assigned


@dataclass(frozen=True)
class Sighting:
    """One meeting that listed the item, as the body shows it."""

    date: str | None
    path: str
    line: int
    link: str | None


@dataclass(frozen=True)
class BlockContent:
    text: str
    owners: tuple[OwnerLine, ...]
    meeting_title: str | None
    latest: Sighting
    history: tuple[Sighting, ...]
    context: str
    done: bool


def _location(sighting: Sighting) -> str:
    where = f"{sighting.path}, line {sighting.line}"
    if sighting.link:
        return f"[{where}]({sighting.link})"
    return f"`{where}`"


def _owner_text(owner: OwnerLine) -> str:
    text = f"`{owner.token}`"
    if owner.resolved:
        text += f" → {neutralize_mentions(owner.resolved)}"
    if owner.note:
        text += f" ({owner.note})"
    return text


def render_block(content: BlockContent, limit: int) -> str:
    """Return the managed block, cut to ``limit`` characters.

    The item context is cut first, with a note pointing at the minutes, then
    the history, so the item text, owners and source always fit.
    """

    head = [
        "",
        "> " + neutralize_mentions(content.text).replace("\n", "\n> "),
        "",
    ]
    if content.owners:
        head.append(
            "- **Owners:** " + ", ".join(_owner_text(owner) for owner in content.owners)
        )
    else:
        head.append("- **Owners:** none named")
    meeting = content.latest.date or "undated meeting"
    if content.meeting_title:
        meeting += f" ({neutralize_mentions(content.meeting_title)})"
    head.append(f"- **Meeting:** {meeting}, {_location(content.latest)}")
    if content.done:
        head.append("- **Status in the minutes:** done")
    head.append("")

    history = ["**Listed in:**", ""]
    shown = content.history[-HISTORY_LIMIT:]
    hidden = len(content.history) - len(shown)
    if hidden:
        history.append(f"- … and {hidden} earlier meetings")
    for sighting in shown:
        history.append(f"- {sighting.date or 'undated'}: {_location(sighting)}")
    history.append("")

    tail = [
        "<sub>Kept in sync with the minutes by syncd. Edits inside this block may be "
        "replaced; add notes below it.</sub>",
    ]

    def assemble(context_lines: list[str], history_lines: list[str]) -> str:
        # Everything between the block's own begin and end comes from the
        # minutes, the roster or the source, so none of it may pass for a marker.
        inner = "\n".join(head + context_lines + history_lines + tail)
        return f"{BLOCK_BEGIN}\n{neutralize_markers(inner)}\n{BLOCK_END}"

    # The context is escaped before it is measured, so a cut fits the limit
    # exactly. Its structure is closed even when it is not cut, because an
    # unclosed fence in the minutes would turn the rest of the body into code.
    context = close_markdown(
        neutralize_markers(neutralize_mentions(content.context.rstrip()))
    )
    context_lines: list[str] = []
    if context.strip():
        context_lines = ["**Context:**", "", context, ""]
    block = assemble(context_lines, history)
    if len(block) <= limit:
        return block

    # Cut the context to what fits, with a note saying where the rest is.
    note = (
        f"*Context truncated: see `{content.latest.path}` line {content.latest.line}.*"
    )
    without_context = assemble(["**Context:**", "", note, ""], history)
    room = limit - len(without_context) - 2
    if context.strip() and room > 200:
        kept = cut_markdown(context, room)
        if kept is not None:
            block = assemble(["**Context:**", "", kept, "", note, ""], history)
            if len(block) <= limit:
                return block
    if len(without_context) <= limit:
        return without_context
    block = assemble(
        ["**Context:**", "", note, ""], ["**Listed in:** see the minutes", ""]
    )
    if len(block) <= limit:
        return block
    # NOTE: only an item text longer than the body limit gets here.
    inner = block[len(BLOCK_BEGIN) + 1 : -len(BLOCK_END) - 1]
    room = limit - len(BLOCK_BEGIN) - len(BLOCK_END) - 2
    kept = cut_markdown(inner, room) or ""
    return f"{BLOCK_BEGIN}\n{kept}\n{BLOCK_END}"


@dataclass(frozen=True)
class BodyParts:
    """An issue body split into the marker, the managed block and people's text."""

    marker: str | None
    prefix: str  # text between the marker and the block
    block: str | None
    suffix: str  # text after the block

    def join(self, marker: str, block: str | None) -> str:
        middle = self.prefix + (block if block is not None else "") + self.suffix
        return f"{marker}\n{middle}" if middle else marker


def split_body(body: str | None) -> BodyParts:
    """Split a body into its parts; a body with no block keeps all its text as prefix."""

    body = body or ""
    marker_match = MARKER_PATTERN.search(body)
    marker = None
    rest = body
    if marker_match is not None:
        marker = marker_match.group(0)
        rest = body[: marker_match.start()] + body[marker_match.end() :]
        if rest.startswith("\n") and marker_match.start() == 0:
            rest = rest[1:]
    begin = rest.find(BLOCK_BEGIN)
    end = rest.find(BLOCK_END, begin + 1) if begin >= 0 else -1
    if begin < 0 or end < 0:
        return BodyParts(marker=marker, prefix=rest, block=None, suffix="")
    end = _block_end(rest, begin, end, marker)
    return BodyParts(
        marker=marker, prefix=rest[:begin], block=rest[begin:end], suffix=rest[end:]
    )


def _block_end(rest: str, begin: int, first_end: int, marker: str | None) -> int:
    """Return the offset just after the end comment that closes the managed block.

    syncd now never writes an end comment inside the block, but a body written
    before minutes text was escaped can contain one there. The real end is the
    one whose block matches the ``block`` hash in the marker. When no candidate
    matches, the first end is taken.
    """

    end = first_end + len(BLOCK_END)
    payload = decode_marker(marker)
    expected = payload.get("block") if payload else None
    if not isinstance(expected, str):
        return end
    candidate = end
    while block_hash(rest[begin:candidate]) != expected:
        following = rest.find(BLOCK_END, candidate)
        if following < 0:
            return end
        candidate = following + len(BLOCK_END)
    return candidate


def render_marker(payload: dict) -> str:
    return encode_marker(payload)
