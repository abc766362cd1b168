"""Items marked done in place, read by the real parser, close their issues."""

from __future__ import annotations

import pytest

from syncd.engine.identity import normalize_text
from syncd.parser import load_dialect, parse_bytes
from tests.engine.support import Harness, make_settings

HEADER = b"---\ntitle: Ops weekly\ndate: 2024-05-02\n---\n\n## Action items\n\n"


def parsed(lines: bytes):
    return parse_bytes(
        HEADER + lines,
        path="ops/2024-05-02.md",
        dialect=load_dialect("default"),
        series="ops",
    )


@pytest.mark.parametrize(
    "finished_line",
    [
        b"- RD: Order the cables. (done)\n",
        b"- RD: Order the cables. DONE\n",
    ],
)
def test_item_marked_done_in_place_closes_its_issue(tmp_path, finished_line):
    harness = Harness(tmp_path, make_settings(tmp_path))
    before = parsed(b"- RD: Order the cables.\n- KM: Book the room.\n")
    harness.sync([before])
    cables = next(i for i in harness.issues() if "cables" in i.title)

    after = parsed(finished_line + b"- KM: Book the room.\n")
    assert after.items[0].done
    plan, _ = harness.sync([after])

    # The managed block records the done status; the title stays as it was.
    assert sorted(c.action for c in plan.changes) == ["close", "update"]
    update = next(c for c in plan.changes if c.action == "update")
    assert set(update.fields) == {"body"}
    issues = harness.issues()
    assert len(issues) == 2
    closed = next(i for i in issues if i.number == cables.number)
    assert closed.state.value == "closed"
    assert closed.title == "Order the cables."


def test_done_marker_is_no_part_of_identity():
    assert normalize_text("Order the cables. (done)") == normalize_text(
        "Order the cables."
    )
    assert normalize_text("~~Order the cables.~~") == normalize_text(
        "Order the cables."
    )
