"""The strict YAML loader: limits on what aliases may expand to."""

from __future__ import annotations

import pytest

from syncd.yamltext import MAX_VALUES, YamlError, load_yaml
from tests.parser.helpers import parse


def nested_aliases(levels: int, width: int) -> str:
    """Return YAML whose last key expands to ``width ** levels`` values."""

    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    for level in range(1, levels):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * width)}]")
    lines.append(f"attendees: *a{levels - 1}")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_rejected_with_line():
    with pytest.raises(YamlError) as raised:
        load_yaml(nested_aliases(levels=9, width=9))

    assert "more than 100,000 values" in raised.value.message
    assert raised.value.line is not None


def test_alias_expansion_under_limit_loads():
    # About 2 ** 16 values in all: each level doubles the one before.
    document = load_yaml(nested_aliases(levels=14, width=2))

    assert len(document.data["attendees"]) == 2
    assert 2**16 < MAX_VALUES


def test_ordinary_alias_keeps_text():
    document = load_yaml("chair: &chair Rhea Dunne\nnotes_by: *chair\n")

    assert document.data == {"chair": "Rhea Dunne", "notes_by": "Rhea Dunne"}


def test_recursive_alias_is_rejected():
    with pytest.raises(YamlError) as raised:
        load_yaml("loop: &loop [1, *loop]\n")

    assert "contains it" in raised.value.message


def test_alias_bomb_fails_only_its_file():
    data = "---\n" + nested_aliases(levels=9, width=9) + "---\n## Action items\nRD: Book the room.\n"

    document = parse(data, path="ops/2024-05-09.md")

    assert document.items == []
    [error] = document.errors
    assert "aliases" in error.message
    assert error.line is not None
