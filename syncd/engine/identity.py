"""Item identity: normalised text, fingerprints, keys and the URLs an item names.

An item's key never depends on the file path, the line or the item's position
in the list, so a renamed file or an inserted line keeps every issue. The key
of a new chain of items is derived from the series and the normalised text;
later items matched to it inherit the key (see ``syncd.engine.matching``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Emphasis and code marks change how an item looks, not what it asks for.
_MARKUP = re.compile(r"[*_`~]+")
_SPACE = re.compile(r"\s+")
_TRAILING_PUNCTUATION = re.compile(r"[\s.;:,!]+$")
# A done marker at the end of an item ("(done)", "[done]", "DONE") says the
# work is finished; it is no part of what the item asks for. The parser keeps
# it in the text and sets Item.done.
_DONE_MARKER = re.compile(
    r"[\s\-\u2013\u2014]*(?:(?i:\(\s*done\s*\)|\[\s*done\s*\])|\bDONE)(?P<tail>[\s.;:,!]*)$"
)
_STRIKETHROUGH = re.compile(r"^\s*~~(.*)~~([\s.;:,!]*)$", re.DOTALL)


def strip_done_marker(text: str) -> str:
    """Return ``text`` without a trailing done marker or a strike-through around it."""

    struck = _STRIKETHROUGH.match(text)
    if struck:
        text = struck.group(1) + struck.group(2)
    stripped = _DONE_MARKER.sub(lambda found: found["tail"].strip(), text)
    return stripped if stripped.strip() else text
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
_URL = re.compile(r"https?://[^\s<>()\[\]\"']+", re.IGNORECASE)
_URL_TRAILER = ".,;:!?)"
# Issue and pull-request URLs on GitHub, GitLab and similar forges. The short
# form keeps the project and the number, which is what identifies the work.
_ISSUE_URL = re.compile(
    r"https?://[^/\s]+/(?P<project>[^\s]+?)/(?:-/)?(?P<kind>pull|pulls|issues|merge_requests)"
    r"/(?P<number>\d+)",
    re.IGNORECASE,
)


def normalize_text(text: str) -> str:
    """Return ``text`` NFC-normalised, case-folded, without markup and extra spaces."""

    text = strip_done_marker(unicodedata.normalize("NFC", text))
    text = _MARKDOWN_LINK.sub(r"\1 \2", text)
    text = _MARKUP.sub("", text)
    text = _SPACE.sub(" ", text).strip().casefold()
    return _TRAILING_PUNCTUATION.sub("", text)


def fingerprint(series: str, text: str) -> str:
    """Return a short stable hash of an item's series and normalised text."""

    data = f"{unicodedata.normalize('NFC', series)}\n{normalize_text(text)}"
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]


def new_key(series: str, text: str, taken: set[str] | frozenset[str]) -> str:
    """Return the key for a new chain: its fingerprint, made unique against ``taken``.

    Two identical items in one meeting are two items, so the second gets
    ``-2``, the third ``-3`` and so on.
    """

    base = fingerprint(series, text)
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"


def item_urls(text: str) -> frozenset[str]:
    """Return the issue and pull-request URLs in ``text``, in a comparable short form.

    Other URLs are kept whole but without a scheme, query or trailing slash.
    """

    found = set()
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_URL_TRAILER)
        issue = _ISSUE_URL.match(url)
        if issue:
            kind = (
                "pull"
                if issue["kind"].lower() in ("pull", "pulls", "merge_requests")
                else "issues"
            )
            found.add(f"{issue['project'].lower()}/{kind}/{issue['number']}")
            continue
        url = url.split("#", 1)[0].split("?", 1)[0].rstrip("/")
        found.add(re.sub(r"^https?://", "", url, flags=re.IGNORECASE).lower())
    return frozenset(found)


def text_without_urls(text: str) -> str:
    """Return the normalised text with each URL replaced by its last path segment."""

    def shorten(match: re.Match) -> str:
        url = match.group(0).rstrip(_URL_TRAILER).rstrip("/")
        return url.rsplit("/", 1)[-1]

    return normalize_text(_URL.sub(shorten, text))
