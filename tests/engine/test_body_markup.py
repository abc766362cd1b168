"""The issue body's own markup: markers that minutes text cannot forge."""

from __future__ import annotations

import pytest

from syncd.engine.render import (
    BLOCK_BEGIN,
    BLOCK_END,
    block_hash,
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
    # A body written before minutes text was escaped: the block holds a
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
