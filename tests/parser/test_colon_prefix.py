"""The quick split of an ``OWNERS: text`` line agrees with the full pattern."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from syncd.parser.owners import split_colon_prefix, split_colon_prefix_by_pattern

# Characters that change how the prefix is read: colons, slashes, brackets,
# markup, white space of several kinds, and letters beyond ASCII.
ALPHABET = "ABrd :/()[]*_~.,&@-\t\u00a0\u2003éŞ\n"


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=30))
@example("RD: Review the patch.")
@example("RD/MP : pair up")
@example("A" * 80 + ": text")
@example("A" * 81 + ": text")
@example("A" * 78 + "   : text")
@example("RD:: not a prefix")
@example("see https://example.org: no")
@example(": no owners")
@example("RD\u2003: wide space before the colon")
@example("RD (lead): text")
def test_split_agrees_with_pattern(line):
    assert split_colon_prefix(line) == split_colon_prefix_by_pattern(line)


@pytest.mark.parametrize(
    ("line", "parts"),
    [
        ("RD: Review the patch.", ("RD", None, "Review the patch.")),
        ("RD/MP : pair up", ("RD/MP", None, "pair up")),
        ("RD (lead): text", ("RD", "(lead)", "text")),
        ("**RD**: text", ("RD", None, "text")),
        ("no prefix here", None),
    ],
)
def test_split_parts(line, parts):
    assert split_colon_prefix(line) == parts
