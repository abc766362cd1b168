"""Front matter: kept as written, strict about mistakes, one file at a time."""

from __future__ import annotations

import dataclasses
import datetime
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.parser import parse_bytes
from syncd.parser.dialect import load_dialect
from syncd.parser.meeting import (
    _simple_yaml,
    date_from_name,
    forget_memos,
    participants_of,
    series_for_path,
    text_list,
)
from syncd.yamltext import load_yaml
from tests.parser.helpers import parse, rows


def test_yaml_11_scalars_keep_text():
    data = (
        "---\n"
        "time: 10:00\n"
        "attendees: [JM, NO, ON]\n"
        "quorum: yes\n"
        "date: 2024-06-03\n"
        "---\n"
        "## Action items\n"
        "NO: Rotate the door codes.\n"
    )

    document = parse(data, path="team/notes.md")

    assert document.errors == []
    assert document.meeting.participants == ("JM", "NO", "ON")
    assert dict(document.meeting.extra)["time"] == "10:00"
    assert dict(document.meeting.extra)["quorum"] == "yes"
    assert document.meeting.date == datetime.date(2024, 6, 3)
    assert document.items[0].owners == ("NO",)


def test_duplicate_key_names_line():
    data = (
        "---\n"
        "title: Weekly\n"
        "room: north\n"
        "room: south\n"
        "---\n"
        "## Action items\n"
        "JM: Book the room.\n"
    )

    document = parse(data)

    assert document.items == []
    [error] = document.errors
    assert error.line == 4
    assert "duplicate key 'room'" in error.message


def test_duplicate_key_fails_one_file():
    broken = parse("---\na: 1\na: 2\n---\n## Action items\nJM: x\n")
    fine = parse("---\na: 1\n---\n## Action items\nJM: x\n")

    assert broken.errors
    assert broken.items == []
    assert fine.errors == []
    assert len(fine.items) == 1


def test_tab_indentation_hint_and_line():
    data = b"---\ntitle: Weekly\nroster:\n\tJM: jmiller\n\tPT: ptan\n---\n\n## Action items\nJM: x\n"

    document = parse(data)

    assert document.items == []
    [error] = document.errors
    assert error.line == 4
    assert "tabs are not allowed for indentation" in error.message


def test_front_matter_list_is_error():
    document = parse("---\n- just\n- a list\n---\n## Action items\nJM: x\n")

    assert document.items == []
    assert "must be a mapping" in document.errors[0].message


def test_unclosed_front_matter_warns():
    document = parse("---\n## Action items\nJM: Close the fence.\n")

    assert document.errors == []
    assert [item.owners for item in document.items] == [("JM",)]
    assert any("never closed" in warning.message for warning in document.warnings)


def test_front_matter_may_end_with_dots():
    document = parse("---\ntitle: Dots\n...\n## Action items\nJM: x\n")

    assert document.meeting.title == "Dots"
    assert rows(document)[0][:3] == (5, 5, ["JM"])


def test_comma_joined_participants_are_split():
    data = "---\nparticipants:\n  - Ana Lima, Bo Chen\n  - Cy\n---\n"

    assert parse(data).meeting.participants == ("Ana Lima", "Bo Chen", "Cy")


def test_file_name_date_beats_front_matter():
    data = "---\ndatetime: 2024-04-25T10:00:00+02:00\n---\n# Weekly\n"

    document = parse(data, path="ops/2024-05-02.md")

    assert document.meeting.date == datetime.date(2024, 5, 2)
    assert any("2024-04-25" in warning.message for warning in document.warnings)


def test_compact_date_in_the_file_name_counts():
    document = parse("# Notes\n", path="archive/20240502_minutes.md")

    assert document.meeting.date == datetime.date(2024, 5, 2)


def test_date_from_first_heading():
    document = parse("# Sync on May 2, 2024\n\nText.\n", path="ops/notes.md")

    assert document.meeting.date == datetime.date(2024, 5, 2)


def test_bad_front_matter_date_warns():
    document = parse("---\ndate: 2024-05-355\n---\n# x\n", path="ops/notes.md")

    assert document.errors == []
    assert document.meeting.date is None
    assert document.warnings


def test_simple_reader_agrees_with_the_yaml_loader():
    samples = [
        "title: Weekly sync\nparticipants:\n  - Ana\n  - Bo Chen\nteams:\n- core\n",
        'title: "Kraft WG, May 2, 2024"\ntags: [notes, weekly]\nempty:\nnothing: ~\n',
        "datetime: 2024-05-02T10:00:00+01:00\nlocation: Room 4 (east)\n",
        "a: 'quoted'\nb: []\nc:\n",
    ]
    for sample in samples:
        simple = _simple_yaml(sample)
        assert simple is not None, sample
        assert simple == load_yaml(sample).data, sample


def test_simple_reader_defers_other_yaml():
    for sample in [
        "a: 1\na: 2\n",
        "a:\n\tb: 1\n",
        "a: [x, [y]]\n",
        "a: 'it''s'\n",
        "# comment\na: 1\n",
        "a: b: c\n",
        "people:\n  JM: jmiller\n",
        "a: >\n  folded\n",
    ]:
        assert _simple_yaml(sample) is None, sample


FRONT_MATTER_LINE = st.one_of(
    st.just(""),
    st.builds(
        "{}:{}".format,
        st.sampled_from(["a", "title", "b-c", "participants"]),
        st.sampled_from(["", " x", " ~", " null", ' "q"', " 'q'", " [a, b]", " []", " a: b",
                         " a #c", " x:", " -x", " @x", " 10:00", " NO", " Bo Chen  "]),
    ),
    st.builds(
        "{}- {}".format,
        st.sampled_from(["", "  ", "    "]),
        st.sampled_from(["Ana", "~", "null", "a: b", "x:", '"q"', "'q'", "#c", "Bo Chen", "-",
                         "[a]", "a #b", "Zoë", "10:00"]),
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(FRONT_MATTER_LINE, max_size=8))
def test_simple_reader_generated_front_matter(lines):
    text = "\n".join(lines) + "\n"

    simple = _simple_yaml(text)

    if simple is not None:
        assert simple == load_yaml(text).data


def test_simple_reader_memo_keeps_context():
    forget_memos()
    listed = "people:\n  - Ana\n  - Bo\ntags: [a, b]\n"
    stray = "title: x\n  - Ana\n"
    indented = "people:\n- Bo\n  - Ana\n"

    first = _simple_yaml(listed)
    first["tags"].append("changed")

    assert _simple_yaml(listed) == {"people": ["Ana", "Bo"], "tags": ["a", "b"]}
    assert _simple_yaml(stray) is None
    assert _simple_yaml(indented) is None


def test_simple_reader_memo_overflow():
    forget_memos()
    texts = [f"key{number}: value {number}\nlist:\n  - entry {number}\n" for number in range(5000)]
    long_value = "x" * 1000
    texts.append(f"long: {long_value}\n")

    for text in texts:
        assert _simple_yaml(text) == load_yaml(text).data
    for text in texts:
        assert _simple_yaml(text) == load_yaml(text).data


def test_series_for_path_cases():
    cases = [
        ("discussions/community/2022/2022-04-28.md", None, "discussions/community"),
        ("discussions\\community\\2022\\notes.md", None, "discussions/community"),
        ("./ops//2024-05/notes.md", None, "ops"),
        ("notes.md", None, "."),
        ("2022/notes.md", None, "."),
        ("a/b/c/notes.md", 2, "a/b"),
        ("a/b/c/notes.md", 0, "."),
        ("a/b/c/notes.md", -1, "."),
        ("a/b/", None, "a/b"),
    ]
    for path, depth, expected in cases:
        assert series_for_path(path, depth) == expected, (path, depth)
    # The same folder again, after the memo has it, at another depth.
    assert series_for_path("a/b/c/other.md") == "a/b/c"
    assert series_for_path("a/b/c/other.md", 1) == "a"


def _series_reference(path: str, depth: int | None) -> str:
    """Fold each folder of ``path`` in turn, with no memo."""

    folders = path.replace("\\", "/").split("/")[:-1]
    series_folders = []
    for folder in folders:
        is_year = re.fullmatch(r"(?:19|20)\d\d(?:-\d\d)?", folder) is not None
        if folder not in ("", ".") and not is_year:
            series_folders.append(folder)
    if depth is not None:
        series_folders = series_folders[: max(depth, 0)]
    return "/".join(series_folders) or "."


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "ops", "2022", "2022-04", "1999", "2100", ".", "", "x y"]), max_size=5),
    st.sampled_from(["/", "\\"]),
    st.sampled_from(["2024-05-02.md", "notes.md", ""]),
    st.one_of(st.none(), st.integers(-1, 4)),
)
def test_series_for_path_generated(folders, separator, name, depth):
    path = separator.join([*folders, name])

    assert series_for_path(path, depth) == _series_reference(path, depth)


def test_date_from_name_cases():
    cases = [
        ("ops/2024-05-02.md", datetime.date(2024, 5, 2)),
        ("ops\\20240502-notes.md", datetime.date(2024, 5, 2)),
        ("2024-05-02/notes.md", None),
        ("ops/2023-02-30-moved-to-2023-03-01.md", datetime.date(2023, 3, 1)),
        ("ops/2023-02-30.md", None),
        ("ops/12024-05-02.md", None),
        ("ops/notes.md", None),
    ]
    for path, expected in cases:
        assert date_from_name(path) == expected, path


def test_participants_mixed_entries():
    dialect = load_dialect("default")
    data = {
        "participants": ["Ana, Bo", None, {"Cy": "cy-handle", " ": 1}, " Dee ", "Ana"],
        "attendees": "Eve, , Bo",
    }

    assert participants_of(data, dialect) == ("Ana", "Bo", "Cy", "Dee", "Eve")
    assert participants_of({"participants": [" Ana ", "", "Bo"]}, dialect) == ("Ana", "Bo")
    assert participants_of({"participants": []}, dialect) == ()
    assert participants_of({"participants": 5}, dialect) == ()


def test_meeting_date_source_order():
    """The first source listed that gives a date wins, and the others warn."""

    good = "---\ndate: 2024-04-25\n---\n# Sync May 1, 2024\n"
    bad = "---\ndate: 2024-05-355\n---\n# Sync May 1, 2024\n"
    not_a_date = "front matter date: '2024-05-355' is not a date"
    cases = [
        (("filename", "front_matter", "heading"), good, datetime.date(2024, 5, 2),
         ["the front matter gives 2024-04-25, but the meeting date is taken as 2024-05-02"]),
        (("filename", "front_matter", "heading"), bad, datetime.date(2024, 5, 2), [not_a_date]),
        (("heading", "filename"), good, datetime.date(2024, 5, 1),
         ["the filename gives 2024-05-02, but the meeting date is taken as 2024-05-01"]),
        (("heading", "front_matter", "heading"), bad, datetime.date(2024, 5, 1), [not_a_date]),
        (("front_matter", "front_matter"), good, datetime.date(2024, 4, 25), []),
        (("front_matter", "front_matter"), bad, None, [not_a_date, not_a_date]),
        (("filename", "filename"), good, datetime.date(2024, 5, 2), []),
        ((), good, None, []),
    ]
    default = load_dialect("default")
    for sources, text, date, messages in cases:
        dialect = dataclasses.replace(default, date_sources=sources, compiled=None)

        document = parse_bytes(text.encode(), path="ops/2024-05-02.md", dialect=dialect)

        assert document.meeting.date == date, sources
        assert [warning.message for warning in document.warnings] == messages, sources


def test_text_list_cases():
    assert text_list("core, ops,, ") == ("core", "ops")
    assert text_list(["core", None, " ops ", "", {"x": 1}, "a, b"]) == ("core", "ops", "a, b")
    assert text_list([]) == ()
    assert text_list(None) == ()
