"""Sections of plain paragraphs are read without pyromark, with the same blocks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.parser.blocks import Block, parse_blocks, plain_section
from syncd.parser.extract import strip_closing_hashes


def _shape(blocks: list[Block]) -> list[tuple]:
    return [(block.kind, block.start, block.end, block.level, block.text) for block in blocks]


def _heading(text: str) -> tuple[int, str]:
    first = text.split("\n", 1)[0]
    hashes = len(first) - len(first.lstrip("#"))
    return hashes, strip_closing_hashes(first[hashes:])


PLAIN = [
    "## TODOs and Decisions\n\nAB: review the patch\n\nCD: write notes\n",
    "## :wrench: TODOs and Decisions\nAB: one\ncontinued here\n\n\nCD: two",
    "### Action items ###\n\nAB: café für Zoë\n  \t\nEf: last line without a feed",
    "## Tasks\n",
    "## Tasks",
    "# TODO\n\nRD: x   \n\n",
]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_section_matches_pyromark(text):
    level, title = _heading(text)
    blocks = plain_section(text, 7, level, title)
    assert blocks is not None
    assert _shape(blocks) == _shape(parse_blocks(text, base=7).children)


NOT_PLAIN = [
    "## Tasks\n\n- AB: a list\n",
    "## Tasks\n\n    AB: indented code\n",
    "## Tasks\n\n1. AB: ordered\n",
    "## *Tasks*\n\nAB: x\n",
    "## Tasks &amp; more\n\nAB: x\n",
    "## Tasks\n\nAB: x\n| a | b |\n",
    "## Tasks\n\nÉlodie: not an ASCII letter first\n",
    "## Tasks\n\nAB: x\rCD: y\n",
]


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_other_sections_are_parsed(text):
    level, title = _heading(text)
    assert plain_section(text, 0, level, title) is None


LINE = st.one_of(
    st.just(""),
    st.sampled_from([" ", "\t", "  \t "]),
    st.text(alphabet="abXY: ,./-é🚀`*_[]()<>|#~\t", min_size=1, max_size=12).map(lambda rest: "A" + rest),
    st.text(alphabet="aB -*1.>#|`<\t", min_size=1, max_size=6),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(LINE, max_size=8), st.booleans())
def test_plain_section_agrees_with_pyromark(lines, final_feed):
    text = "## Action items\n" + "\n".join(lines) + ("\n" if final_feed else "")
    blocks = plain_section(text, 3, 2, "Action items")
    if blocks is not None:
        assert _shape(blocks) == _shape(parse_blocks(text, base=3).children)
