"""Dialect files: bundled presets, user copies, and the errors they report."""

from __future__ import annotations

import re
from dataclasses import fields, replace
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.errors import ConfigError
from syncd.parser import bundled_dialects, load_dialect
from syncd.parser.dialect import (
    Dialect,
    compiled_for,
    dialect_from_text,
    dialect_to_yaml,
    normalize_title,
)
from tests.parser.helpers import parse

PRESETS = ["default", "unikraft", "rust-lang-team", "conda", "ember", "nodejs-tsc"]


def _settings(dialect: Dialect) -> dict:
    return {item.name: getattr(dialect, item.name) for item in fields(dialect) if item.name != "compiled"}


def test_every_preset_is_bundled_and_loads():
    assert set(PRESETS) <= set(bundled_dialects())
    for name in PRESETS:
        assert load_dialect(name).name == name


def test_default_file_matches_built_ins():
    loaded = load_dialect("default")

    assert _settings(replace(loaded, description="")) == _settings(Dialect())


def test_copied_preset_loads_from_path(tmp_path):
    text = (resources.files("syncd.dialects") / "ember.yaml").read_text(encoding="utf-8")
    copy = tmp_path / "my-team.yaml"
    copy.write_text(text, encoding="utf-8")

    loaded = load_dialect(str(copy))

    assert _settings(replace(loaded, name="ember")) == _settings(load_dialect("ember"))


def test_edited_copy_changes_behaviour(tmp_path):
    dialect_file = tmp_path / "ours.yaml"
    dialect_file.write_text(
        "name: ours\nsections:\n  titles: [\"follow-ups\"]\nowners:\n  name_to: false\n",
        encoding="utf-8",
    )
    data = "## Follow-ups\n- Kim to call the vendor.\n- KL: Send the invoice.\n"

    document = parse(data, dialect=str(dialect_file))

    assert [item.owners for item in document.items] == [(), ("KL",)]


def test_rendered_yaml_round_trips():
    for name in PRESETS:
        dialect = load_dialect(name)
        again = dialect_from_text(dialect_to_yaml(dialect), origin="rendered.yaml")
        assert _settings(again) == _settings(dialect)


def test_unknown_keys_reported_with_location():
    text = "name: x\nowners:\n  colon_prefix: true\n  colon_prefixes: false\nsurprise: 1\n"

    with pytest.raises(ConfigError) as raised:
        dialect_from_text(text, origin="team.yaml")

    problems = {(problem.line, problem.key_path) for problem in raised.value.problems}
    assert problems == {(4, "owners.colon_prefixes"), (5, "surprise")}
    assert all(problem.path == "team.yaml" for problem in raised.value.problems)
    assert "team.yaml:4: owners.colon_prefixes: unknown key" in str(raised.value)


def test_wrong_types_reported_with_lines():
    text = (
        "done:\n"
        "  checkbox: sometimes\n"
        "sections:\n"
        "  titles: action items\n"
        "owners:\n"
        "  names: everybody\n"
        "dates:\n"
        "  sources: [filename, moon]\n"
        "inline_markers:\n"
        "  markers: [\"::\"]\n"
    )

    with pytest.raises(ConfigError) as raised:
        dialect_from_text(text, origin="bad.yaml")

    found = {problem.key_path: problem.line for problem in raised.value.problems}
    assert found == {
        "done.checkbox": 2,
        "sections.titles": 4,
        "owners.names": 6,
        "dates.sources.1": 8,
        "inline_markers.markers": 10,
    }


def test_dialect_yaml_error_names_line():
    with pytest.raises(ConfigError) as raised:
        dialect_from_text("owners:\n  handles: true\n  handles: false\n", origin="dup.yaml")

    [problem] = raised.value.problems
    assert problem.line == 3
    assert "duplicate key" in problem.message


def test_unknown_preset_name_lists_the_bundled_ones():
    with pytest.raises(ConfigError) as raised:
        load_dialect("klingon")

    assert "unikraft" in str(raised.value)


def test_missing_dialect_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError):
        load_dialect(str(tmp_path / "absent.yaml"))


def test_unowned_items_can_be_switched_off(tmp_path):
    dialect_file = tmp_path / "owned-only.yaml"
    dialect_file.write_text("entries:\n  unowned_items: false\n", encoding="utf-8")

    document = parse("## Action items\nA decision.\n\nKL: A task.\n", dialect=str(dialect_file))

    assert [item.owners for item in document.items] == [("KL",)]


def test_date_sources_order_is_configurable(tmp_path):
    dialect_file = tmp_path / "front-first.yaml"
    dialect_file.write_text(
        "dates:\n  sources: [front_matter, filename]\n  front_matter_keys: [held_on]\n",
        encoding="utf-8",
    )
    data = "---\nheld_on: 2024-04-25\n---\n# Notes\n"

    document = parse(data, dialect=str(dialect_file), path="ops/2024-05-02.md")

    assert document.meeting.date.isoformat() == "2024-04-25"


def test_participant_keys_are_configurable(tmp_path):
    dialect_file = tmp_path / "present.yaml"
    dialect_file.write_text("dates:\n  participant_keys: [present]\n", encoding="utf-8")
    data = "---\npresent: [Kim, Lee]\nparticipants: [Nobody]\n---\n"

    document = parse(data, dialect=str(dialect_file))

    assert document.meeting.participants == ("Kim", "Lee")


def test_known_names_mode_needs_a_participant(tmp_path):
    dialect_file = tmp_path / "known.yaml"
    dialect_file.write_text("owners:\n  names: known\n", encoding="utf-8")
    data = "---\nparticipants: [Kim Lund]\n---\n## Action items\n- Kim to x\n- KL to y\n- Lee to z\n"

    document = parse(data, dialect=str(dialect_file))

    assert [item.owners for item in document.items] == [(), ("KL",), ()]


def _reference_hazard(dialect: Dialect) -> re.Pattern:
    """The scan hazard written plainly: one backtracking alternative per word list."""

    def words(phrase: str) -> str:
        return r"[\W_]+".join(re.escape(word) for word in normalize_title(phrase).split())

    prefix = r"\n[ \t>*_+\-\d.)\[\]xX]*"
    alternatives = []
    if dialect.inline_markers and dialect.markers:
        alternatives.append(prefix + "(?:" + "|".join(words(m) for m in dialect.markers) + r")\b")
    if dialect.bare_title_lines and dialect.section_titles:
        alternatives.append(
            prefix + "(?:" + "|".join(words(t) for t in dialect.section_titles) + r")[\W_]*$"
        )
    return re.compile("|".join(alternatives), re.IGNORECASE | re.MULTILINE)


HAZARD_DIALECTS = [
    load_dialect("ember"),
    load_dialect("nodejs-tsc"),
    # Words that start with characters of the run before a word ("x", a digit).
    dialect_from_text(
        "inline_markers:\n  enabled: true\n  markers: [xaction, 2do, go]\n"
        "sections:\n  bare_title_lines: true\n  titles: [x-items, Next steps]\n",
        origin="test.yaml",
    ),
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from([" ", "\t", "- ", "* ", "> ", "1. ", "[x] ", "**", "x", "X", "2", "_",
                             "action", "Action item", "AI", "ai", "go", "xaction", "2do",
                             "x-items", "next steps", "TODOs", ":", " and ", "ok", "."]),
            max_size=6,
        ).map("".join),
        max_size=5,
    ),
    st.sampled_from(range(len(HAZARD_DIALECTS))),
)
def test_scan_hazard_matches_plain_pattern(lines, index):
    dialect = HAZARD_DIALECTS[index]
    text = "\n" + "\n".join(lines)

    found = compiled_for(dialect).scan_hazard.search(text) is not None

    assert found == (_reference_hazard(dialect).search(text) is not None)


def _reference_title(text: str) -> str:
    """normalize_title written out in full, with no shortcut for plain ASCII titles."""

    text = re.sub(r":[a-z0-9_+-]+:", " ", text.casefold().replace("&", " and "))
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="aZ09 _:&-!é🔧*\t", max_size=16))
def test_normalize_title_matches_reference(text):
    normalize_title.cache_clear()

    assert normalize_title(text) == _reference_title(text)


def test_normalize_title_plain_and_decorated():
    assert normalize_title("  TODOs  and Decisions ") == "todos and decisions"
    assert normalize_title(":wrench: TODOs & Decisions") == "todos and decisions"
