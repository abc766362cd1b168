"""Generate synthetic meeting-minutes series for benchmarks and soak runs.

Two dialects are produced:

- ``unikraft``: YAML front matter and a "TODOs and Decisions" section of
  ``XX: task`` lines. Each meeting's list is the previous meeting's list,
  edited: most items are carried forward, some reworded or reassigned, some
  dropped, and new ones added. This is the ``carry: forward`` shape.
- ``checkbox``: an "Action items" section of ``- [ ] @handle to task`` entries
  (the ember preset). Each meeting lists its own new items, and a few of the
  previous meeting's items come back ticked. This is the ``carry: accumulate``
  shape.

All text is made of invented words, so no sentence comes from real minutes,
and item texts are far apart in fuzzy similarity unless one is deliberately
reworded from another. The output depends only on the arguments and the seed.

    python -m bench.generate --dialect unikraft --items 10000 --out /tmp/series
"""

from __future__ import annotations

import argparse
import datetime
import random
from dataclasses import dataclass, field
from pathlib import Path

DIALECTS = ("unikraft", "checkbox")

# Invented syllables: words built from them appear in no real minutes.
_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ou")
_CODAS = ("", "", "n", "r", "s", "l", "k", "th")

_VERBS = (
    "Review",
    "Port",
    "Document",
    "Benchmark",
    "Fix",
    "Rewrite",
    "Test",
    "Package",
    "Upstream",
    "Profile",
    "Split",
    "Merge",
)
_LINKS = ("for", "in", "against", "on", "before", "with")


@dataclass
class SyntheticItem:
    """One action item as the generator tracks it across meetings."""

    serial: int
    owner: str
    text: str
    # Set when a meeting lists the item for the last time.
    dropped_at: int | None = None


@dataclass(frozen=True)
class ListedEntry:
    """One item line as written: its 1-based line, owner as written, text, done flag."""

    line: int
    owner: str
    text: str
    done: bool = False


@dataclass
class GeneratedFile:
    """One minutes file: its path relative to the series root and its text."""

    relative_path: str
    text: str
    # (serial, text) of every item open as of this meeting, for the checks of
    # the reliability harness.
    open_items: tuple[tuple[int, str], ...] = ()
    # What a parser must find: one entry per listed item.
    entries: tuple[ListedEntry, ...] = ()
    date: datetime.date | None = None


@dataclass
class GeneratedSeries:
    dialect: str
    files: list[GeneratedFile] = field(default_factory=list)
    distinct_items: int = 0

    @property
    def total_bytes(self) -> int:
        return sum(len(generated.text.encode("utf-8")) for generated in self.files)

    def write(self, root: Path) -> list[Path]:
        """Write every file under ``root`` and return their paths."""

        paths = []
        for generated in self.files:
            path = root / generated.relative_path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(generated.text, encoding="utf-8", newline="\n")
            paths.append(path)
        return paths


class _Words:
    """A seeded source of invented words and item texts."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def word(self) -> str:
        syllables = self._rng.randint(2, 3)
        parts = []
        for _ in range(syllables):
            parts.append(self._rng.choice(_ONSETS))
            parts.append(self._rng.choice(_VOWELS))
        parts.append(self._rng.choice(_CODAS))
        return "".join(parts)

    def task_text(self) -> str:
        words = [self.word() for _ in range(self._rng.randint(3, 6))]
        link = self._rng.choice(_LINKS)
        split = self._rng.randint(1, len(words) - 1)
        phrase = " ".join(words[:split]) + f" {link} the " + " ".join(words[split:])
        return f"{self._rng.choice(_VERBS)} the {phrase}."

    def reword(self, text: str) -> str:
        """Change one word near the end, as people do when they edit an item."""

        body = text.rstrip(".").split(" ")
        position = self._rng.randint(max(1, len(body) - 3), len(body) - 1)
        body[position] = self.word()
        return " ".join(body) + "."


def _roster(rng: random.Random, size: int) -> list[tuple[str, str]]:
    """Return (initials, handle) pairs with unique initials."""

    letters = "ABCDEFGHJKLMNPRSTVWZ"
    people = []
    # Prefixes that dialects treat as notes, not owners ("PS: ...", "NB: ...").
    seen = {"PS", "NB"}
    while len(people) < size:
        initials = rng.choice(letters) + rng.choice(letters)
        if initials in seen:
            continue
        seen.add(initials)
        people.append((initials, f"dev-{initials.lower()}{len(people)}"))
    return people


def _meeting_date(start: datetime.date, index: int) -> datetime.date:
    return start + datetime.timedelta(days=7 * index)


def _unikraft_file(
    date: datetime.date, entries: list[SyntheticItem], words: _Words, people: list
) -> tuple[str, list[ListedEntry]]:
    # Participant names whose derived initials are the owner prefixes
    # ("KalorR" for "KR"), the way real front matter spells them.
    participants = [f"- {initials[0]}{words.word()}{initials[1]}" for initials, _ in people]
    discussion = " ".join(words.word() for _ in range(40))
    lines = [
        "---",
        f'title: "Synthetic WG, {date.isoformat()}"',
        f"datetime: {date.isoformat()}T11:00:00+02:00",
        "participants:",
        *participants,
        "---",
        "",
        "## Agenda",
        "",
        "- Status update",
        "",
        "## Discussions",
        "",
        f"{people[0][0]}: {discussion.capitalize()}.",
        "",
        "## TODOs and Decisions",
        "",
    ]
    listed = []
    for entry in entries:
        listed.append(ListedEntry(len(lines) + 1, entry.owner, entry.text))
        lines.append(f"{entry.owner}: {entry.text}")
        lines.append("")
    return "\n".join(lines), listed


def _checkbox_file(
    date: datetime.date,
    new_entries: list[SyntheticItem],
    ticked: list[SyntheticItem],
    words: _Words,
) -> tuple[str, list[ListedEntry]]:
    discussion = " ".join(words.word() for _ in range(40))
    lines = [
        f"# {date.isoformat()}",
        "",
        "## Topics",
        "",
        f"- {discussion.capitalize()}.",
        "",
        "## Action items",
        "",
    ]
    listed = []
    for done, group in ((True, ticked), (False, new_entries)):
        box = "[x]" if done else "[ ]"
        for entry in group:
            text = _lower_first(entry.text)
            listed.append(ListedEntry(len(lines) + 1, f"@{entry.owner}", text, done))
            lines.append(f"- {box} @{entry.owner} to {text}")
    lines.append("")
    return "\n".join(lines), listed


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def generate_series(
    dialect: str,
    items: int,
    *,
    seed: int = 1,
    new_per_meeting: int = 25,
    series_name: str = "synthetic",
    start: datetime.date = datetime.date(2020, 1, 6),
) -> GeneratedSeries:
    """Build a series with ``items`` distinct action items.

    In the ``unikraft`` dialect each meeting adds ``new_per_meeting`` items
    and carries about as many from the previous meeting, of which one in ten
    is reworded and one in twenty reassigned. Dropped items never come back,
    so the last meeting's list is exactly the open set.
    """

    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}: use one of {', '.join(DIALECTS)}")
    if items < 1:
        raise ValueError(f"items must be at least 1, not {items}")

    rng = random.Random(f"{dialect}:{items}:{seed}")
    words = _Words(rng)
    people = _roster(rng, 12)
    series = GeneratedSeries(dialect=dialect, distinct_items=items)
    open_items: list[SyntheticItem] = []
    # Checkbox dialect: the items the previous meeting listed, which the next
    # one may list again ticked.
    listed_last: list[SyntheticItem] = []
    serial = 0
    meeting = 0

    while serial < items:
        date = _meeting_date(start, meeting)
        new_count = min(new_per_meeting, items - serial)
        new_entries = []
        for _ in range(new_count):
            initials, handle = rng.choice(people)
            owner = initials if dialect == "unikraft" else handle
            new_entries.append(SyntheticItem(serial, owner, words.task_text()))
            serial += 1

        if dialect == "unikraft":
            carried = _carry_forward(rng, open_items, words, people, new_per_meeting)
            open_items = carried + new_entries
            text, listed = _unikraft_file(date, open_items, words, people)
        else:
            ticked = [entry for entry in listed_last if rng.random() < 0.2]
            ticked_serials = {entry.serial for entry in ticked}
            open_items = [entry for entry in open_items if entry.serial not in ticked_serials]
            open_items += new_entries
            listed_last = new_entries
            text, listed = _checkbox_file(date, new_entries, ticked, words)

        relative = f"{series_name}/{date.year}/{date.isoformat()}.md"
        snapshot = tuple((entry.serial, entry.text) for entry in open_items)
        series.files.append(GeneratedFile(relative, text, snapshot, tuple(listed), date))
        meeting += 1

    return series


def _carry_forward(
    rng: random.Random,
    previous: list[SyntheticItem],
    words: _Words,
    people: list,
    keep: int,
) -> list[SyntheticItem]:
    """Keep up to ``keep`` of the previous items, rewording and reassigning a few."""

    survivors = [entry for entry in previous if rng.random() < 0.85][-keep:]
    for entry in survivors:
        roll = rng.random()
        if roll < 0.10:
            entry.text = words.reword(entry.text)
        elif roll < 0.15:
            entry.owner = rng.choice(people)[0]
    return survivors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dialect", choices=DIALECTS, default="unikraft")
    parser.add_argument("--items", type=int, default=1000, help="distinct action items")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    arguments = parser.parse_args(argv)

    series = generate_series(arguments.dialect, arguments.items, seed=arguments.seed)
    paths = series.write(arguments.out)
    print(
        f"wrote {len(paths)} files, {series.total_bytes} bytes, "
        f"{series.distinct_items} items to {arguments.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
