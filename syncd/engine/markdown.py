"""Cutting Markdown from the minutes without leaving a construct open.

An issue body continues after the item's context with the truncation note,
the meeting history, the footer and the block's end comment, and people's
notes follow below. A context that leaves a code fence or an HTML block open
would turn all of that into code or hide it, so the context is closed first.
Whether anything is left open is decided by a CommonMark parser
(markdown-it-py), not by counting fence lines, because a fence inside a list
item or a quote ends with its container.
"""

from __future__ import annotations

import re

import regex
from markdown_it import MarkdownIt

ELLIPSIS = "…"

_COMMENT_OPEN = "<!--"
_COMMENT_CLOSE = "-->"
# Block tokens whose content is shown as code or hidden as raw HTML.
_OPAQUE_TOKENS = ("fence", "code_block", "html_block")
# List markers in front of a fence, replaced by spaces in the closing line.
_LIST_MARKER = re.compile(r"[-*+]|\d{1,9}[.)]")
# Closing attempts before an open construct is cut off instead.
_MAX_CLOSE_ATTEMPTS = 4

_PARSER = MarkdownIt("commonmark")


def _open_construct(text: str):
    """Return the block token that ``text`` leaves open at its end, or None.

    A probe paragraph is parsed after ``text``, as the rest of the issue body
    would be. When the probe lands in code or raw HTML, the token that contains
    it is the open construct.
    """

    probe = "syncd probe paragraph"
    while probe in text:
        probe += " again"
    for token in _PARSER.parse(f"{text}\n\n{probe}\n"):
        if token.type in _OPAQUE_TOKENS and probe in token.content and token.map:
            return token
    return None


def _closing_fence(lines: list[str], token) -> str:
    """Return a line that closes the fence ``token`` inside its containers."""

    opener = lines[token.map[0]]
    prefix = opener[: opener.find(token.markup)]
    # A quote marker stays so the closer is in the same quote, and a list
    # marker becomes spaces so the closer stays in the same list item.
    prefix = _LIST_MARKER.sub(lambda marker: " " * len(marker.group(0)), prefix)
    return prefix + token.markup


def close_markdown(text: str) -> str:
    """Return ``text`` with an open code fence closed and an open HTML block cut off.

    An HTML block that never closes (an unclosed ``<!--``, say) would hide
    everything after it, so it is dropped from its first line on. A fence
    that a closing line cannot close is dropped the same way.
    """

    if "```" not in text and "~~~" not in text and "<" not in text:
        # No fence and no HTML block can start, so nothing needs a parse.
        return text
    for attempt in range(_MAX_CLOSE_ATTEMPTS + 1):
        token = _open_construct(text)
        if token is None:
            return text
        lines = text.split("\n")
        if token.type == "fence" and attempt < _MAX_CLOSE_ATTEMPTS:
            text = text.rstrip() + "\n" + _closing_fence(lines, token)
        else:
            text = "\n".join(lines[: token.map[0]]).rstrip()
    return text


def _grapheme_prefix(text: str, limit: int) -> str:
    """Return the longest run of whole grapheme clusters of ``text`` within ``limit``."""

    kept = []
    length = 0
    for cluster in regex.findall(r"\X", text):
        if length + len(cluster) > limit:
            break
        kept.append(cluster)
        length += len(cluster)
    return "".join(kept)


def _before_comment(text: str, end: int) -> int:
    """Return ``end``, or the start of the HTML comment that spans offset ``end``."""

    start = text.rfind(_COMMENT_OPEN, 0, end)
    if start < 0:
        return end
    close = text.find(_COMMENT_CLOSE, start + len(_COMMENT_OPEN))
    if 0 <= close < end - len(_COMMENT_CLOSE) + 1:
        return end
    return start


def cut_markdown(text: str, limit: int) -> str | None:
    """Return ``text`` cut to at most ``limit`` characters, with its structure closed.

    A cut text ends with an ellipsis, and with a closing fence line when the
    cut fell inside a code fence. The cut is at a grapheme-cluster boundary
    and never inside an HTML comment. Returns None when not even the
    ellipsis and the closing lines fit.
    """

    text = close_markdown(text)
    if len(text) <= limit:
        return text
    budget = limit - len(ELLIPSIS)
    while budget > 0:
        kept = _grapheme_prefix(text, budget)
        kept = kept[: _before_comment(text, len(kept))]
        # The ellipsis can turn a closing fence into an opener, so the
        # structure is closed after it is added.
        cut = close_markdown(kept.rstrip() + ELLIPSIS)
        if len(cut) <= limit:
            return cut
        budget -= len(cut) - limit
    return None
