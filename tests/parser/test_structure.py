"""Markdown structure decides where items can be: sections, fences, comments."""

from __future__ import annotations

import pytest

from tests.parser.helpers import owners_by_line, parse, rows

BOTH_PATHS = pytest.mark.parametrize("sections_only", [True, False], ids=["sections", "whole"])


@BOTH_PATHS
def test_nested_and_tilde_fences_hide_lines(sections_only):
    data = (
        "## Writing actions\n"
        "\n"
        "`````text\n"
        "A sample:\n"
        "```\n"
        "JM: Not a real task.\n"
        "```\n"
        "- [ ] @ghost to do a sample thing\n"
        "`````\n"
        "\n"
        "~~~\n"
        "## Action items\n"
        "PT: Also only an example.\n"
        "~~~\n"
        "\n"
        "## Action items\n"
        "AB: Water the plants.\n"
    )

    document = parse(data, dialect="ember", sections_only=sections_only)

    assert rows(document) == [(17, 17, ["AB"], "task", "Water the plants.", False)]


@BOTH_PATHS
def test_unclosed_fence_runs_to_end(sections_only):
    data = "## Action items\nAB: Real one.\n\n```\nJM: inside the fence\n\n## Action items\nPT: still fenced\n"

    assert owners_by_line(parse(data, sections_only=sections_only)) == {2: ["AB"]}


@BOTH_PATHS
def test_fence_closes_only_on_match(sections_only):
    data = "## Action items\n````\n```\nJM: fenced\n~~~~\n````\nPT: after the fence\n"

    assert owners_by_line(parse(data, sections_only=sections_only)) == {7: ["PT"]}


def test_inline_backticks_not_fence():
    data = "## Action items\n```code``` is inline here\n\nJM: Still in the section.\n"

    assert owners_by_line(parse(data)) == {2: [], 4: ["JM"]}


def test_indented_code_block_never_yields_items():
    data = "## Action items\n\n    JM: this is code\n\nPT: this is not\n"

    assert owners_by_line(parse(data)) == {5: ["PT"]}


def test_html_comments_never_yield_items():
    data = (
        "## Action items\n"
        "<!--\n"
        "JM: commented out\n"
        "-->\n"
        "PT: Fix the lamp. <!-- AB: hidden too -->\n"
        "<!-- CD: one-line comment -->\n"
    )

    document = parse(data)

    assert [(item.line, item.owners, item.text) for item in document.items] == [
        (5, ("PT",), "Fix the lamp.")
    ]


@BOTH_PATHS
def test_setext_headings_open_and_close_sections(sections_only):
    data = (
        "Decisions\n"
        "=========\n"
        "JM: We keep the old printer.\n"
        "\n"
        "Action items\n"
        "------------\n"
        "JM: Recycle the toner.\n"
        "PT: Label the shelves.\n"
        "\n"
        "Notes\n"
        "-----\n"
        "A retro remark\n"
        "---\n"
        "AB: enjoyed the snacks.\n"
    )

    document = parse(data, sections_only=sections_only)

    assert [(item.line, item.owners) for item in document.items] == [(7, ("JM",)), (8, ("PT",))]


def test_heading_without_space_counts():
    data = "###TODOs and Decisions\nJM: One.\n###Discussion\nPT: not an action\n"

    assert owners_by_line(parse(data)) == {2: ["JM"]}


def test_section_ends_at_same_level():
    data = (
        "## Action items\n"
        "JM: First.\n"
        "### Reviews\n"
        "PT: Still inside.\n"
        "#### Deeper\n"
        "AB: Inside too.\n"
        "## Discussion\n"
        "CD: Outside.\n"
        "# Top\n"
        "EF: Outside as well.\n"
    )

    assert owners_by_line(parse(data)) == {2: ["JM"], 4: ["PT"], 6: ["AB"]}


def test_titles_match_after_normalising():
    for heading in (
        "## :wrench: TODOs and Decisions",
        "## 🔧 **TODOs & Decisions**",
        "### tasks / decisions",
        "# ACTION ITEMS:",
        "##  :closed_book:  *Next steps*",
    ):
        document = parse(f"{heading}\nJM: Something.\n")
        assert owners_by_line(document) == {2: ["JM"]}, heading


def test_titles_containing_action_word_rejected():
    for heading in ("## Interactions", "## Action item review", "## Previous action items",
                    "## Closing remarks and action items"):
        assert parse(f"{heading}\nJM: Something.\n").items == [], heading


def test_speaker_lines_outside_sections_skipped():
    data = "## Discussion\nJM: I think we should move.\n\n## Action items\nJM: Move the desk.\n"

    assert owners_by_line(parse(data)) == {5: ["JM"]}


def test_heading_in_list_item_ignored():
    data = "- ## Action items\n  JM: nested\n\nPT: top level\n"

    assert parse(data).items == []
