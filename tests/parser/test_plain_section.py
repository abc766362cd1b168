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


def _read_back(text: str, blocks: list[Block], first_line: int) -> list[list[tuple[int, str]]]:
    """The lines of each paragraph as the extractor reads them from the bytes."""

    from syncd.parser.dialect import load_dialect
    from syncd.parser.extract import Extractor
    from syncd.parser.text import LineIndex

    # The section sits after first_line - 1 lines of other text.
    prefix = "x\n" * (first_line - 1)
    data = (prefix + text).encode("utf-8")
    extractor = Extractor(data, LineIndex(data), load_dialect("unikraft"))
    return [
        extractor.block_lines(block.start, block.end) for block in blocks if block.kind == "paragraph"
    ]


@settings(max_examples=200, deadline=None)
@given(st.lists(LINE, max_size=8), st.booleans(), st.integers(min_value=1, max_value=40))
def test_paragraph_lines_match_what_the_extractor_reads(lines, final_feed, first_line):
    text = "## Action items\n" + "\n".join(lines) + ("\n" if final_feed else "")
    base = len(("x\n" * (first_line - 1)).encode("utf-8"))
    blocks = plain_section(text, base, 2, "Action items", first_line)
    if blocks is None:
        return
    carried = [block.lines for block in blocks if block.kind == "paragraph"]
    if "<!--" in text:
        assert carried == [None] * len(carried)
    else:
        assert carried == _read_back(text, blocks, first_line)


def test_paragraph_lines_are_carried_only_when_asked():
    blocks = plain_section("## Tasks\n\nAB: one\nCD: two\n", 0, 2, "Tasks")
    assert blocks is not None and blocks[1].lines is None
    blocks = plain_section("## Tasks\n\nAB: one\nCD: two\n", 0, 2, "Tasks", 5)
    assert blocks is not None and blocks[1].lines == [(7, "AB: one"), (8, "CD: two")]


def test_lines_with_comments_are_left_to_the_extractor():
    text = "## Tasks\n\nAB: one <!-- aside --> two\n"
    blocks = plain_section(text, 0, 2, "Tasks", 1)
    assert blocks is not None and blocks[1].lines is None
    # The extractor removes the comment when it reads the line.
    assert _read_back(text, blocks, 1) == [[(3, "AB: one  two")]]
