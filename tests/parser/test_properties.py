"""Generated minutes: every generated item is found, with its line and owners.

The grammar draws on the features dialects describe. It writes section
titles with decoration, colon owners joined in several ways, owner-only
lines with a list under them, checkboxes, Name-to entries, continuation
lines and sub-bullets. It also writes decoys that must never become items:
speaker lines outside the section, fenced code, HTML comments,
placeholders and notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.parser import load_dialect, parse_bytes
from syncd.parser.text import line_count

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

INITIALS = ["AB", "CD", "EfG", "HJ", "Kl", "MNo", "PQ", "RsT"]
NAMES = ["Kim", "Lee", "Ana", "Bo", "Ștefan", "Zoë"]
WORDS = ["review", "the", "draft", "budget", "lamp", "release", "patch", "notes", "wiki",
         "café", "🚀", "`code`", "*plan*", "[link](https://example.org/x)", "cables", "issue"]
TITLES = ["Action items", "TODOs and Decisions", "Next steps", "Tasks", "TODO", "Actions"]
SEPARATORS = ["/", " / ", ", ", "+", " + ", " & ", " and "]


@dataclass
class Minutes:
    lines: list[str] = field(default_factory=list)
    expected: list[tuple[int, tuple[str, ...], bool]] = field(default_factory=list)

    def add(self, line: str = "") -> int:
        self.lines.append(line)
        return len(self.lines)

    def text(self) -> bytes:
        return ("\n".join(self.lines) + "\n").encode("utf-8")


task_text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(
    lambda words: "Do " + " ".join(words) + "."
)
owner_list = st.lists(st.sampled_from(INITIALS + NAMES), min_size=1, max_size=3, unique=True)


@st.composite
def title_line(draw, level: int) -> str:
    title = draw(st.sampled_from(TITLES))
    title = draw(st.sampled_from([title, title.upper(), title.lower()]))
    decoration = draw(st.sampled_from(["", ":wrench: ", "🔧 ", "**", "*"]))
    closing = decoration if decoration in ("**", "*") else ""
    return "#" * level + " " + decoration + title + closing


@st.composite
def decoys(draw, minutes: Minutes) -> None:
    """Things that look like items but are not."""

    kind = draw(st.sampled_from(["fence", "tilde", "comment", "placeholder", "note", "none"]))
    owner = draw(st.sampled_from(INITIALS))
    if kind == "fence":
        minutes.add("```")
        minutes.add(f"{owner}: fenced example.")
        minutes.add("```")
    elif kind == "tilde":
        minutes.add("~~~~")
        minutes.add("```")
        minutes.add(f"- [ ] {owner}: still fenced")
        minutes.add("~~~~")
    elif kind == "comment":
        minutes.add("<!--")
        minutes.add(f"{owner}: commented out.")
        minutes.add("-->")
    elif kind == "placeholder":
        minutes.add(draw(st.sampled_from(["TODO", "* TODO", "- TBD", "TO FILL"])))
    elif kind == "note":
        minutes.add(draw(st.sampled_from(["Next meeting: Monday.", "Next time: the budget."])))
    if kind != "none":
        minutes.add()


@st.composite
def entry(draw, minutes: Minutes) -> None:
    kind = draw(st.sampled_from(["colon", "bullet", "checkbox", "name_to", "owner_only", "nested"]))
    owners = draw(owner_list)
    separator = draw(st.sampled_from(SEPARATORS))
    prefix = separator.join(owners)
    text = draw(task_text)
    if kind == "colon":
        line = minutes.add(f"{prefix}: {text}")
        minutes.expected.append((line, tuple(owners), False))
        if draw(st.booleans()):
            minutes.add("continued on a wrapped line")
    elif kind == "bullet":
        line = minutes.add(f"- {prefix}: {text}")
        minutes.expected.append((line, tuple(owners), False))
    elif kind == "checkbox":
        checked = draw(st.booleans())
        line = minutes.add(f"- [{'x' if checked else ' '}] {prefix}: {text}")
        minutes.expected.append((line, tuple(owners), checked))
    elif kind == "name_to":
        names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=2, unique=True))
        verb = draw(st.sampled_from(["to", "will"]))
        line = minutes.add(f"- {' and '.join(names)} {verb} {text[3:]}")
        minutes.expected.append((line, tuple(names), False))
    elif kind == "owner_only":
        minutes.add(f"{prefix}:")
        for _ in range(draw(st.integers(1, 3))):
            line = minutes.add(f"- {draw(task_text)}")
            minutes.expected.append((line, tuple(owners), False))
    else:
        line = minutes.add(f"- {prefix}: {text}")
        minutes.expected.append((line, tuple(owners), False))
        minutes.add("  - a detail that belongs to it")
        sub_owner = draw(st.sampled_from(INITIALS))
        sub = minutes.add(f"  - {sub_owner}: {draw(task_text)}")
        minutes.expected.append((sub, (sub_owner,), False))
    minutes.add()


@st.composite
def minutes_documents(draw) -> Minutes:
    minutes = Minutes()
    if draw(st.booleans()):
        minutes.add("---")
        minutes.add("title: Weekly")
        minutes.add("participants:")
        minutes.add("  - Kim Lund")
        minutes.add("---")
    minutes.add("# Weekly meeting")
    minutes.add()
    minutes.add("## Discussion")
    minutes.add(f"{draw(st.sampled_from(INITIALS))}: {draw(task_text)}")
    minutes.add()
    level = draw(st.integers(2, 3))
    minutes.add(draw(title_line(level)))
    minutes.add()
    for _ in range(draw(st.integers(0, 6))):
        draw(decoys(minutes))
        draw(entry(minutes))
    minutes.add("#" * level + " Afterwards")
    minutes.add(f"{draw(st.sampled_from(INITIALS))}: {draw(task_text)}")
    return minutes


@SETTINGS
@given(minutes_documents(), st.sampled_from(["default", "unikraft"]), st.booleans())
def test_generated_items_found_exactly(minutes, dialect, crlf):
    data = minutes.text()
    if crlf:
        data = data.replace(b"\n", b"\r\n")

    document = parse_bytes(data, path="team/2024-05-02.md", dialect=load_dialect(dialect))

    assert document.errors == []
    found = [(item.line, item.owners, item.done) for item in document.items]
    assert found == minutes.expected


@SETTINGS
@given(
    minutes_documents(),
    st.sampled_from(["<div>", "Title\n---", "  ## Action items", "###TODOs", "Actions:", "Action: x"]),
    st.sampled_from(["default", "ember", "nodejs-tsc", "conda"]),
)
def test_sections_only_parse_is_same(minutes, hazard, dialect_name):
    dialect = load_dialect(dialect_name)
    for extra in ("", hazard):
        data = minutes.text() + extra.encode()
        fast = parse_bytes(data, path="a.md", dialect=dialect)
        whole = parse_bytes(data, path="a.md", dialect=dialect, sections_only=False)
        assert fast == whole


MARKDOWN_PIECES = st.sampled_from(
    ["#", "## Action items", "\n", "\r", "\r\n", " ", "\t", "- ", "* [ ] ", "[x]", "1. ", "> ",
     "```", "~~~", "~~", "**", "__", "<!--", "-->", "<div>", "RD:", "TODO:", "@h", "(x)", "|a|b|",
     "---", "===", "Action:", "\u2028", "\ufeff", "e\u0301", "🚀", ":", "[", "]", "(", ")", "&amp;",
     "    ", "x to y", "---\ntitle: t\n---\n"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(MARKDOWN_PIECES | st.text(max_size=8), max_size=60), st.sampled_from(
    ["default", "unikraft", "rust-lang-team", "conda", "ember", "nodejs-tsc"]))
def test_random_markdown_never_raises(pieces, dialect):
    data = "".join(pieces).encode("utf-8", "surrogatepass")

    document = parse_bytes(data, path="fuzz/2024-01-01.md", dialect=load_dialect(dialect))

    assert not any("internal parser error" in problem.message for problem in document.errors)
    for item in document.items:
        assert 1 <= item.line <= item.end_line <= line_count(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data):
    document = parse_bytes(data, path="fuzz.md", dialect=load_dialect("default"))

    assert not any("internal parser error" in problem.message for problem in document.errors)
    if document.errors:
        assert document.items == []


# Inputs that make a careless regex or slice quadratic; each stays linear, so
# at this size a regression shows up as a test run minutes long.
LARGE = 20_000
PATHOLOGICAL = {
    "deep_list": "## Action items\n" + "".join("  " * depth + "- RD: x\n" for depth in range(200)),
    "deep_quote": "## Action items\n" + "> " * 2000 + "RD: x\n",
    "brackets": "## Action items\nRD: " + "[" * LARGE + "\n",
    "emphasis": "## Action items\nRD: " + "*a" * LARGE + "\n",
    "strikes": "## Action items\nRD: " + "~~a " * LARGE + "\n",
    "single_strikes": "## Action items\nRD: " + "~a " * LARGE + "\n",
    "strike_runs": "## Action items\nRD: " + "~~a~~ ~" * LARGE + "\n",
    "backticks": "## Action items\n- x " + "`a" * LARGE + "\n",
    "comments": "## Action items\nRD: " + "<!--" * LARGE + "\n",
    "parentheses": "## Action items\n- x " + "(a)" * LARGE + "\n",
    "spaces": "## Action items\n" + " " * LARGE + "x\n#a" + " " * LARGE + "b\n",
    "hashes": "###a" + " " * LARGE + "#x\n",
    "colon_after_spaces": "## Action items\n" + "a" * 70 + " " * LARGE + ":\n",
    "front_matter_spaces": "---\ntitle: a" + " " * LARGE + "b\n---\n",
    "handles": "## Action items\n- x " + "@a " * LARGE + "\n",
    "separators": "## Action items\n" + "A/" * LARGE + "B: x\n",
    "names": "## Action items\n- " + "Kim, " * LARGE + "to x\n",
}


@pytest.mark.parametrize("dialect", ["default", "rust-lang-team", "conda", "ember", "nodejs-tsc"])
@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_input_parses(name, dialect):
    data = PATHOLOGICAL[name].encode()

    document = parse_bytes(data, path="big.md", dialect=load_dialect(dialect))

    assert document.errors == []
