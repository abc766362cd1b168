"""Properties of config checking over generated input."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.config import parse_config
from syncd.config_schema import TOP_KEYS
from syncd.errors import ConfigError

MINIMAL = """\
sources:
  minutes:
    root: minutes
targets:
  main:
    kind: local
    path: tracker.db
"""

key_names = st.text(
    alphabet=string.ascii_lowercase + "_", min_size=1, max_size=20
).filter(lambda name: name not in TOP_KEYS)


def problems_of(text: str) -> list:
    with pytest.raises(ConfigError) as raised:
        parse_config(text, path="syncd.yaml", base=Path("/config"))
    return raised.value.problems


@settings(max_examples=60, deadline=None)
@given(name=key_names, blank_lines=st.integers(min_value=0, max_value=5))
def test_unknown_top_key_is_located(name, blank_lines):
    text = MINIMAL + "\n" * blank_lines + f"{name}: 1\n"

    [problem] = problems_of(text)

    assert problem.key_path == name
    assert problem.line == 8 + blank_lines
    assert f"unknown key {name!r}" in problem.message


@settings(max_examples=60, deadline=None)
@given(value=st.integers(min_value=0, max_value=10**9))
def test_whole_numbers_accepted(value):
    text = MINIMAL + f"guards:\n  max_close: {value}\n"

    loaded = parse_config(text, path="syncd.yaml", base=Path("/config"))

    assert loaded.guards.max_close == value


@settings(max_examples=60, deadline=None)
@given(
    value=st.text(
        alphabet=string.ascii_letters + ".:-", min_size=1, max_size=12
    ).filter(lambda text: text.strip() and text.lower() not in ("null", "~"))
)
def test_non_numbers_rejected_with_key(value):
    text = MINIMAL + f'guards:\n  max_close: "{value}"\n'

    [problem] = problems_of(text)

    assert problem.key_path == "guards.max_close"
    assert problem.line == 9


@settings(max_examples=40, deadline=None)
@given(count=st.integers(min_value=1, max_value=8))
def test_every_problem_is_reported(count):
    extra = "".join(f"unknown_{index}: x\n" for index in range(count))

    problems = problems_of(MINIMAL + extra)

    assert [problem.key_path for problem in problems] == [
        f"unknown_{i}" for i in range(count)
    ]
