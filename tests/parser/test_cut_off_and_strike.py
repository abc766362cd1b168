"""Front matter cut off mid-write, front-matter error lines, and strikes around owners."""

from __future__ import annotations

import pytest

from syncd.model import Severity
from syncd.parser import load_dialect, parse_bytes


@pytest.fixture(scope="module")
def dialect():
    return load_dialect("default")


def test_cut_off_front_matter_is_error(dialect):
    data = (
        b"---\ntitle: Ops weekly\ndate: 2024-05-02\nparticipants: [RD, KM]\ntarg"
    )
    document = parse_bytes(data, path="2024-05-02.md", dialect=dialect)
    assert document.items == []
    assert len(document.errors) == 1
    assert document.errors[0].line == 1
    assert "never closed" in document.errors[0].message


def test_cut_off_front_matter_before_body_is_error(dialect):
    data = (
        b"---\ntitle: Ops weekly\ndate: 2024-05-02\n\n## Action items\n\nRD: Do it.\n"
    )
    document = parse_bytes(data, path="2024-05-02.md", dialect=dialect)
    assert document.items == []
    assert document.errors


def test_opening_rule_without_keys_is_warning(dialect):
    data = b"---\n\nA rule, then prose.\n\n## Action items\n\nRD: Do it.\n"
    document = parse_bytes(data, path="2024-05-02.md", dialect=dialect)
    assert document.errors == []
    assert [item.text for item in document.items] == ["Do it."]
    assert [warning.severity for warning in document.warnings] == [Severity.WARNING]


@pytest.mark.parametrize(
    ("front_matter", "line", "fragment"),
    [
        (
            "---\ntitle: Ops\ndate: 2024-05-02\ntitle: Pasted\n---\n",
            4,
            "duplicate key 'title' at line 4 (first defined at line 2)",
        ),
        ("---\ntitle: Ops\npeople:\n\tRD: rosa\n---\n", 4, "tabs are not allowed"),
    ],
)
def test_front_matter_errors_use_file_lines(dialect, front_matter, line, fragment):
    data = (front_matter + "## Action items\n\nRD: Do it.\n").encode("utf-8")
    document = parse_bytes(data, path="2024-05-02.md", dialect=dialect)
    assert [error.line for error in document.errors] == [line]
    assert fragment in document.errors[0].message


@pytest.mark.parametrize(
    ("entry", "text"),
    [
        ("- ~~KM: Book the room.~~", "~~Book the room.~~"),
        ("- ~~RD: Fix~~ ~~the build.~~", "~~Fix~~ ~~the build.~~"),
        ("- KM: ~~Write the docs.~~", "~~Write the docs.~~"),
        ("- KM: Keep ~~old~~ new wording.", "Keep ~~old~~ new wording."),
    ],
)
def test_strike_markers_stay_balanced(dialect, entry, text):
    data = f"---\ndate: 2024-05-02\n---\n## Action items\n\n{entry}\n".encode("utf-8")
    [item] = parse_bytes(data, path="2024-05-02.md", dialect=dialect).items
    assert item.text == text
    assert item.text.count("~~") % 2 == 0


@pytest.mark.parametrize(
    ("entry", "done"),
    [
        ("- ~~RD: Rotate the keys.~~", True),
        ("- KM: ~~Order the switches.~~", True),
        ("- RD: ~~Part one~~ ~~part two.~~", True),
        ("- RD: ~~`make release`~~", True),
        ("- RD: ~~Read [the guide](https://example.org/guide).~~", True),
        ("- KM: Keep ~~this~~ open.", False),
        ("- KM: ~~Old wording~~ new wording.", False),
        ("- KM: ~Order the switches.~", True),
        ("- KM: Wait ~5 to ~10 minutes.", False),
        ("- KM: ~~~Three tildes.~~~", False),
    ],
)
def test_struck_task_text_is_done(dialect, entry, done):
    data = f"---\ndate: 2024-05-02\n---\n## Action items\n\n{entry}\n".encode("utf-8")
    [item] = parse_bytes(data, path="2024-05-02.md", dialect=dialect).items
    assert item.done is done
