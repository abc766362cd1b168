"""The people roster: who an owner token in the minutes refers to.

A token resolves, in this order:

1. to the one roster person or group that has it as name, alias or tracker
   login, compared without case and diacritics (``stefan`` finds ``Ștefan``,
   ``@razvand`` finds the person whose GitHub login is ``razvand``);
2. otherwise to the one meeting participant whose derived initials are the
   token (``RăzvanD`` -> ``RD``), when exactly one participant has them.

A token that matches no one is unknown, and one that matches several people
is ambiguous. Both are reported and never guessed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path

from syncd.errors import ConfigError, ConfigProblem
from syncd.model import Group, Person, ResolvedOwner
from syncd.yamltext import YamlDocument, YamlError, load_yaml


def fold(text: str) -> str:
    """``Ștefan`` -> ``stefan``: case folded, diacritics removed, ``@`` dropped."""

    decomposed = unicodedata.normalize("NFKD", text.strip().lstrip("@").casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def derived_initials(name: str) -> str:
    """``RăzvanD``, ``Răzvan Deaconescu`` -> ``RD``; ``PaulU`` -> ``PU``."""

    words: list[str] = []
    for part in name.replace("-", " ").replace(".", " ").replace("_", " ").split():
        current = ""
        for char in part:
            if char.isupper() and current:
                words.append(current)
                current = char
            else:
                current += char
        if current:
            words.append(current)
    return "".join(word[0] for word in words if word[0].isalpha()).upper()


class Roster:
    """People and groups, indexed by every spelling that refers to them."""

    def __init__(self, people: Sequence[Person] = (), groups: Sequence[Group] = ()) -> None:
        self.people = tuple(people)
        self.groups = tuple(groups)
        self._index: dict[str, list[Person | Group]] = {}
        self._by_name: dict[str, Person] = {}
        for person in self.people:
            self._by_name.setdefault(fold(person.name), person)
            spellings = {person.name, *person.aliases}
            if person.github:
                spellings.add(person.github)
            if person.gitlab:
                spellings.add(person.gitlab)
            for spelling in spellings:
                self._add(spelling, person)
        for group in self.groups:
            for spelling in {group.name, *group.aliases}:
                self._add(spelling, group)

    def _add(self, spelling: str, target: Person | Group) -> None:
        key = fold(spelling)
        if not key:
            return
        targets = self._index.setdefault(key, [])
        if target not in targets:
            targets.append(target)

    def known_names(self) -> list[str]:
        """Every spelling in the roster, for dialects whose owners must be known."""

        return list(self._index)

    def person_named(self, name: str) -> Person | None:
        return self._by_name.get(fold(name))

    def resolve(self, token: str, participants: Sequence[str] = ()) -> ResolvedOwner:
        key = fold(token)
        matches = self._index.get(key, [])
        if len(matches) == 1:
            target = matches[0]
            if isinstance(target, Group):
                return ResolvedOwner(token, group=target)
            return ResolvedOwner(token, person=target)
        if len(matches) > 1:
            names = ", ".join(sorted(match.name for match in matches))
            return ResolvedOwner(token, reason=f"ambiguous: {token!r} may be {names}")

        # Initials derived from this meeting's participants.
        candidates = []
        for participant in participants:
            if fold(participant) == key or fold(derived_initials(participant)) == key:
                if participant not in candidates:
                    candidates.append(participant)
        if len(candidates) == 1:
            participant = candidates[0]
            person = self._participant_person(participant)
            if person is None:
                return ResolvedOwner(
                    token,
                    reason=f"{token!r} is participant {participant!r}, who is not in the roster",
                )
            return ResolvedOwner(token, person=person)
        if len(candidates) > 1:
            names = ", ".join(candidates)
            return ResolvedOwner(
                token, reason=f"ambiguous: {token!r} fits the participants {names}"
            )
        return ResolvedOwner(token, reason=f"unknown owner {token!r}")

    def _participant_person(self, participant: str) -> Person | None:
        matches = self._index.get(fold(participant), [])
        people = [match for match in matches if isinstance(match, Person)]
        return people[0] if len(people) == 1 else None


def load_roster(path: Path) -> tuple[list[Person], list[Group]]:
    """Read a roster YAML file. Raises ConfigError with file, line and key."""

    origin = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problem = ConfigProblem(origin, None, "", f"cannot read roster: {error}")
        raise ConfigError([problem], what="roster") from None
    try:
        document = load_yaml(text)
    except YamlError as error:
        problem = ConfigProblem(origin, error.line, "", error.message)
        raise ConfigError([problem], what="roster") from None
    return roster_from_data(document, origin=origin)


def roster_from_data(
    document: YamlDocument, *, origin: str, base: tuple = ()
) -> tuple[list[Person], list[Group]]:
    """People and groups from loaded YAML (``people:`` and ``groups:`` keys).

    ``base`` is the key path of the roster inside a larger file (a config),
    for error locations. Each person is a mapping with ``name``, ``aliases``,
    ``github`` and ``gitlab``; each group has ``name``, ``aliases`` and
    either ``label`` or ``members``. ``people`` may also be a mapping from
    the name to the rest.
    """

    problems: list[ConfigProblem] = []
    data = document.data
    for part in base:
        data = data.get(part) if isinstance(data, dict) else None

    def problem(path: tuple, message: str) -> None:
        full = base + path
        problems.append(
            ConfigProblem(origin, document.line_of(full), ".".join(str(p) for p in full), message)
        )

    if data is None:
        return [], []
    if not isinstance(data, dict):
        problem = ConfigProblem(
            origin,
            document.line_of(base),
            ".".join(map(str, base)),
            "a roster must be a mapping with people and groups",
        )
        raise ConfigError([problem], what="roster")
    for key in data:
        if key not in ("people", "groups"):
            problem((key,), "unknown key (known: people, groups)")

    people = _entries(data.get("people"), ("people",), problem, _PERSON_KEYS)
    groups = _entries(data.get("groups"), ("groups",), problem, _GROUP_KEYS)
    persons: list[Person] = []
    for path, entry in people:
        persons.append(
            Person(
                name=entry["name"],
                aliases=tuple(entry.get("aliases", ())),
                github=entry.get("github"),
                gitlab=entry.get("gitlab"),
            )
        )
    names = {fold(person.name) for person in persons}
    group_list: list[Group] = []
    for path, entry in groups:
        if entry.get("label") and entry.get("members"):
            problem(path, "a group has either a label or members, not both")
        for index, member in enumerate(entry.get("members", ())):
            if fold(member) not in names:
                problem(path + ("members", index), f"{member!r} is not a person in the roster")
        group_list.append(
            Group(
                name=entry["name"],
                aliases=tuple(entry.get("aliases", ())),
                label=entry.get("label"),
                members=tuple(entry.get("members", ())),
            )
        )
    if problems:
        raise ConfigError(problems, what="roster")
    return persons, group_list


_PERSON_KEYS = {"name": "text", "aliases": "words", "github": "text", "gitlab": "text"}
_GROUP_KEYS = {"name": "text", "aliases": "words", "label": "text", "members": "words"}


def _entries(value, path: tuple, problem, schema: dict) -> list[tuple[tuple, dict]]:
    if value is None:
        return []
    if isinstance(value, dict):
        # people: {Name: {aliases: [...]}} or {Name: login}
        listed = []
        for name, rest in value.items():
            if isinstance(rest, str):
                rest = {"github": rest}
            if rest is None:
                rest = {}
            if not isinstance(rest, dict):
                problem(path + (name,), "must be a mapping (aliases, github, gitlab) or a login")
                continue
            listed.append((path + (name,), {"name": name, **rest}))
        raw = listed
    elif isinstance(value, list):
        raw = [(path + (index,), entry) for index, entry in enumerate(value)]
    else:
        problem(path, "must be a list of entries")
        return []
    result = []
    for entry_path, entry in raw:
        if not isinstance(entry, dict):
            problem(entry_path, "must be a mapping with at least a name")
            continue
        clean: dict = {}
        ok = True
        for key, item in entry.items():
            kind = schema.get(key)
            if kind is None:
                problem(entry_path + (key,), f"unknown key (known: {', '.join(schema)})")
                ok = False
            elif kind == "text":
                if item is not None and not isinstance(item, str):
                    problem(entry_path + (key,), "must be text")
                    ok = False
                elif item:
                    clean[key] = item.strip()
            else:
                if isinstance(item, str):
                    item = [item]
                if item is None:
                    item = []
                if not isinstance(item, list) or not all(isinstance(word, str) for word in item):
                    problem(entry_path + (key,), "must be a list of text entries")
                    ok = False
                else:
                    clean[key] = [word.strip() for word in item if word.strip()]
        if not clean.get("name"):
            problem(entry_path, "needs a name")
            ok = False
        if ok:
            result.append((entry_path, clean))
    return result
