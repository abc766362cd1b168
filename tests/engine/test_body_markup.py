"""The issue body's own markup: markers minutes cannot forge, cuts that stay closed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
from markdown_it import MarkdownIt

from syncd.engine.markdown import cut_markdown
from syncd.engine.render import (
    BLOCK_BEGIN,
    BLOCK_END,
    BlockContent,
    Sighting,
    block_hash,
    render_block,
    split_body,
)
from syncd.marker import (
    MARKER_PATTERN,
    decode_marker,
    encode_marker,
    neutralize_markers,
)
from syncd.tracker import IssueUpdate

from tests.engine.support import Harness, make_settings, meeting, task

FORGED_MARKER = encode_marker({"key": "forged-key", "series": "ops"})
MARKER_LOOKALIKES = (
    BLOCK_END,
    BLOCK_BEGIN,
    FORGED_MARKER,
    "<!--syncd:end-->",
    "<!--   SYNCD:End -->",
    "<!-- syncd:v2 anything -->",
)


@pytest.mark.parametrize("text", MARKER_LOOKALIKES)
def test_neutralize_markers_breaks_lookalikes(text):
    result = neutralize_markers(f"see {text} here")

    assert BLOCK_END not in result
    assert BLOCK_BEGIN not in result
    assert MARKER_PATTERN.search(result) is None
    assert "<!--" not in result
    assert neutralize_markers(result) == result


def test_neutralize_markers_keeps_other_comments():
    text = "<!-- a note for the minutes --> and `<!-- html -->`"

    assert neutralize_markers(text) == text


def test_block_with_marker_text_splits_whole(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    context = "\n".join(f"  - quoted: {text}" for text in MARKER_LOOKALIKES)
    minutes = [
        meeting(
            "2024-05-02",
            [task(f"Ping {FORGED_MARKER} the team.", "RD", context=context)],
        )
    ]
    harness.sync(minutes)

    [issue] = harness.issues()
    parts = split_body(issue.body)
    assert issue.body.count(BLOCK_END) == 1
    assert issue.body.count(BLOCK_BEGIN) == 1
    assert len(MARKER_PATTERN.findall(issue.body)) == 1
    assert parts.block is not None
    assert parts.block.endswith(BLOCK_END)
    assert parts.suffix == ""
    assert decode_marker(issue.body)["key"] != "forged-key"
    plan, _ = harness.sync(minutes)
    assert not plan.has_changes


def test_marker_text_in_minutes_allows_update(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    context = f"  - see {BLOCK_END} here"
    first = meeting(
        "2024-05-02", [task("Ping the team about the rota.", "RD", context=context)]
    )
    harness.sync([first])
    [issue] = harness.issues()
    note = "Human note: keep this."
    harness.person().update(issue.number, IssueUpdate(body=issue.body + "\n\n" + note))

    second = meeting(
        "2024-05-09",
        [task("Ping the team about the new rota.", "RD", context=context)],
    )
    plan, result = harness.sync([first, second])

    [issue] = harness.issues()
    assert plan.conflicts == []
    assert not result.failures
    assert "> Ping the team about the new rota." in issue.body
    assert issue.body.endswith(note)
    plan, _ = harness.sync([first, second])
    assert not plan.has_changes


def test_split_body_finds_end_by_marker_hash():
    # A body written before minutes text was escaped: the block contains a
    # copy of the end comment, and a person's note follows the real end.
    block = f"{BLOCK_BEGIN}\n> see {BLOCK_END} here\n\nfooter\n{BLOCK_END}"
    marker = encode_marker({"key": "k", "block": block_hash(block)})
    body = f"{marker}\n{block}\n\nHuman note."

    parts = split_body(body)

    assert parts.marker == marker
    assert parts.block == block
    assert parts.suffix == "\n\nHuman note."


def test_split_body_without_hash_match_takes_first_end():
    block = f"{BLOCK_BEGIN}\nmanaged\n{BLOCK_END}"
    marker = encode_marker({"key": "k", "block": "0" * 16})
    body = f"{marker}\n{block}\nbelow {BLOCK_END}"

    parts = split_body(body)

    assert parts.block == block
    assert parts.suffix == f"\nbelow {BLOCK_END}"


# Cutting the context to the body limit.

MARKDOWN = MarkdownIt("commonmark")
SENTINEL = "Sentinel paragraph after the cut."
FRAGMENTS = (
    "```",
    "```python",
    "````",
    "~~~",
    "  ```",
    "<!-- a comment",
    "still hidden -->",
    "<!-- whole comment -->",
    "use `<!--` to open a comment",
    "<!-- syncd:end -->",
    "<pre>",
    "</pre>",
    "> ```",
    "> quoted code",
    "  - ```sh",
    "    make test",
    "plain text with words",
    "- a bullet",
    "",
)


def rendered_as_paragraph(markdown: str, text: str) -> bool:
    """Return whether ``text`` renders as prose, not as code or hidden HTML."""

    tokens = MARKDOWN.parse(markdown)
    hidden = any(
        text in token.content
        for token in tokens
        if token.type in ("fence", "code_block", "html_block")
    )
    shown = any(token.type == "inline" and text in token.content for token in tokens)
    return shown and not hidden


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=30),
    limit=st.integers(min_value=1, max_value=400),
)
def test_cut_markdown_leaves_nothing_open(lines, limit):
    text = "\n".join(lines)

    cut = cut_markdown(text, limit)

    if cut is None:
        assert limit < 10
        return
    assert len(cut) <= limit
    assert rendered_as_paragraph(f"{cut}\n\n{SENTINEL}", SENTINEL)


def test_cut_markdown_keeps_short_text():
    assert cut_markdown("short", 10) == "short"
    assert cut_markdown("```\ncode\n```", 100) == "```\ncode\n```"


def test_cut_markdown_closes_fence_with_opener():
    text = "  ~~~~ log\n" + "line\n" * 50 + "  ~~~~"

    cut = cut_markdown(text, 40)

    assert cut.endswith("…\n  ~~~~")
    assert len(cut) <= 40


def test_cut_markdown_never_splits_comment():
    text = "before <!-- a comment that runs on " + "x" * 100 + " --> after"

    assert cut_markdown(text, 60) == "before…"


def fenced_content(context: str) -> BlockContent:
    latest = Sighting(date="2024-05-02", path="ops/2024-05-02.md", line=7, link=None)
    return BlockContent(
        text="Investigate the export failures.",
        owners=(),
        meeting_title=None,
        latest=latest,
        history=(latest,),
        context=context,
        done=False,
    )


def test_render_block_cut_points_keep_structure():
    rows = "\n".join(f"row {n} " + "x" * 60 for n in range(60))
    context = f"  ```\n{rows}\n  ```\n\n<!-- a note\n{rows}\n-->\nafter"
    content = fenced_content(context)
    full = render_block(content, 1_000_000)

    for limit in range(1_000, len(full) + 50, 97):
        block = render_block(content, limit)
        body = f"{block}\n\n{SENTINEL}"

        assert len(block) <= limit
        assert block.startswith(BLOCK_BEGIN + "\n")
        assert block.endswith("\n" + BLOCK_END)
        assert block.count(BLOCK_END) == 1
        assert split_body(body).block == block
        assert rendered_as_paragraph(body, SENTINEL)
        assert rendered_as_paragraph(body, "Kept in sync with the minutes")
        if block != full:
            assert rendered_as_paragraph(body, "Context truncated")


def test_unclosed_fence_in_minutes_is_closed():
    block = render_block(fenced_content("```\nlog line\n"), 10_000)

    assert "```\nlog line\n```" in block
    assert rendered_as_paragraph(block, "Kept in sync with the minutes")


def test_fenced_log_cut_to_body_limit(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    log = "\n".join(f"row {n} " + "x" * 80 for n in range(1_000))
    minutes = [
        meeting(
            "2024-05-02",
            [task("Investigate the export failures.", "RD", context=f"```\n{log}\n```")],
        )
    ]
    harness.sync(minutes)

    [issue] = harness.issues()
    body = f"{issue.body}\n\n{SENTINEL}"
    assert len(issue.body) <= 65_536
    assert MARKER_PATTERN.match(issue.body)
    assert issue.body.endswith(BLOCK_END)
    assert rendered_as_paragraph(body, "Context truncated")
    assert rendered_as_paragraph(body, "Kept in sync with the minutes")
    assert rendered_as_paragraph(body, SENTINEL)
    plan, _ = harness.sync(minutes)
    assert not plan.has_changes
