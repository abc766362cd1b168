"""The README and the config reference keep the facts a new user relies on."""

from __future__ import annotations

import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
CONFIGURATION = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"## {title}")
    following = README.find("\n## ", start + 1)
    return README[start : following if following != -1 else None]


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"```\n(.*?)```", text, flags=re.S)


def test_readme_has_two_setup_commands():
    [block] = _code_blocks(_section("Set up"))

    commands = [line.split("#")[0].strip() for line in block.splitlines()]
    assert [command for command in commands if command] == ["make run", "make test"]


def test_readme_links_every_guide():
    for guide in ("benchmarks", "operations", "trackers", "parser", "engine"):
        assert f"(docs/{guide}.md)" in README, guide


def test_real_world_example_reads_local_checkout():
    section = _section("A first real-world example")
    first_block = _code_blocks(section)[0]

    assert not first_block.lstrip().startswith("git clone")
    assert "--source CHECKOUT" in first_block
    assert "fetches the git URL" in " ".join(section.split())
    assert "--tracker local:" in section


def test_readme_says_replay_needs_mass_close():
    text = " ".join(README.split())

    assert "--allow-mass-close" in text
    assert "`--sync-args=--allow-mass-close`" in text


def test_reference_gives_base_url_defaults():
    row = next(line for line in CONFIGURATION.splitlines() if "`targets.<name>.base_url`" in line)

    assert "`https://api.github.com` for `github`" in row
    assert "`https://gitlab.com` for `gitlab`" in row
