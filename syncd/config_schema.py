"""The config schema: the keys each mapping takes, and typed value checks.

``syncd.config`` reads each section with a ``Checker``, which converts the
text values ``syncd.yamltext`` yields (whole numbers, numbers, booleans,
dates, choices, lists) and records every problem with the file, line and
dotted key path. The key tables are also what docs/configuration.md lists,
and a test keeps the two in step.
"""

from __future__ import annotations

import datetime
import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from syncd.errors import ConfigProblem
from syncd.yamltext import KeyPath, YamlDocument

# The schema: for each mapping, its known keys and one line on each. The
# reference in docs/configuration.md lists exactly these key paths, and a
# test keeps the two in step. ``<name>`` stands for a name the user chooses.
TOP_KEYS = {
    "sources": "where minutes are read from, by source name",
    "people": "the people roster, written inline",
    "people_file": "a roster file to read the people and groups from",
    "groups": "group words (Everyone, core) and what they map to",
    "targets": "trackers to keep issues in, by target name",
    "routes": "which series go to which target",
    "default_target": "the target for series no route matches",
    "series": "policies for series matching a glob",
    "policy": "the policy for series no rule matches",
    "labels": "the labels syncd puts on issues",
    "guards": "limits that stop mass closes",
    "pacing": "write pacing per target",
    "state_dir": "the folder for syncd's state file and run lock",
}

SOURCE_KEYS = {
    "kind": "folder, git or http (default folder)",
    "root": "folder source: the folder of minutes",
    "url": "git source: the repository URL; http source: the Markdown export URL",
    "branch": "git source: the branch to read (default: the remote's default branch)",
    "include": "globs of files to read, relative to the root",
    "exclude": "globs of files to leave out",
    "dialect": "the dialect name or file for this source's minutes",
    "series_depth": "how many folder levels name a series",
    "web_url": "permalink template with {revision}, {path} and {line}",
    "max_file_bytes": "files larger than this are reported and skipped",
    "series_from_file_name": "whether the file-name part before the date names a series",
}

PERSON_KEYS = {
    "name": "the person's name as the roster knows it",
    "aliases": "initials, nicknames and spellings used in minutes",
    "github": "GitHub login",
    "gitlab": "GitLab username",
}

GROUP_KEYS = {
    "name": "the group word",
    "aliases": "other spellings of the group word",
    "label": "a label put on the issue instead of assigning people",
    "members": "roster names of the people assigned",
}

TARGET_KEYS = {
    "kind": "the tracker kind: local, github, gitlab or a plugin's name",
}

ROUTE_KEYS = {
    "series": "glob over series names",
    "target": "the target name",
}

POLICY_KEYS = {
    "carry": "forward or accumulate",
    "missing_meetings": "newest meetings an item may miss before it is closed",
    "since": "earliest meeting date whose open items count on a first sync",
    "unowned_items": "whether entries without an owner become issues",
    "reopen": "never, comment or always, for issues a person closed",
}

SERIES_RULE_KEYS = {
    "match": "glob over series names",
    "dialect": "the dialect for series matching this rule",
    **POLICY_KEYS,
}

LABEL_KEYS = {
    "managed": "the label that marks every issue syncd manages",
    "color": "its colour as six hex digits",
    "description": "its description",
    "extra": "more labels put on every new issue",
}

GUARD_KEYS = {
    "max_close": "most issues one run may close",
    "max_close_fraction": "largest share of a target's open issues one run may close",
    "unknown_create_wait": "seconds before an item whose create had an unknown outcome is created again",
}

PACING_KEYS = {
    "min_write_interval": "seconds between two writes to one target",
    "writes_per_minute": "cap on writes per minute per target (null: none)",
    "writes_per_hour": "cap on writes per hour per target (null: none)",
}


def schema_key_paths() -> list[str]:
    """Return every key path in the schema, in the form docs/configuration.md uses."""

    paths = [key for key in TOP_KEYS]
    paths += [f"sources.<name>.{key}" for key in SOURCE_KEYS]
    paths += [f"people[].{key}" for key in PERSON_KEYS]
    paths += [f"groups[].{key}" for key in GROUP_KEYS]
    paths += [f"targets.<name>.{key}" for key in TARGET_KEYS]
    paths += [f"routes[].{key}" for key in ROUTE_KEYS]
    paths += [f"series[].{key}" for key in SERIES_RULE_KEYS]
    paths += [f"policy.{key}" for key in POLICY_KEYS]
    paths += [f"labels.{key}" for key in LABEL_KEYS]
    paths += [f"guards.{key}" for key in GUARD_KEYS]
    paths += [f"pacing.{key}" for key in PACING_KEYS]
    return paths


@dataclass
class Checker:
    """Collects problems for one file, each with its line and key path."""

    path: str
    document: YamlDocument
    problems: list[ConfigProblem] = field(default_factory=list)

    def problem(self, key: KeyPath, message: str) -> None:
        self.problems.append(
            ConfigProblem(
                path=self.path,
                line=self.document.line_of(key),
                key_path=dotted(key),
                message=message,
            )
        )

    def mapping(self, value: Any, key: KeyPath, known: dict[str, str]) -> dict:
        """Return ``value`` as a mapping, reporting unknown keys with a did-you-mean."""

        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(key, f"must be a mapping of keys, not {describe(value)}")
            return {}
        for name in value:
            if name not in known:
                self.problem(key + (name,), _unknown_key_message(name, known))
        return value

    def text(self, value: Any, key: KeyPath, *, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.problem(key, "missing")
            return None
        if not isinstance(value, str):
            self.problem(key, f"must be text, not {describe(value)}")
            return None
        if required and not value.strip():
            self.problem(key, "must not be empty")
            return None
        return value

    def integer(
        self, value: Any, key: KeyPath, *, minimum: int | None = None
    ) -> int | None:
        if value is None:
            return None
        if not isinstance(value, str) or not re.fullmatch(r"[+-]?\d+", value.strip()):
            self.problem(key, f"must be a whole number, not {_show(value)}")
            return None
        number = int(value)
        if minimum is not None and number < minimum:
            self.problem(key, f"must be at least {minimum}, not {number}")
            return None
        return number

    def number(
        self,
        value: Any,
        key: KeyPath,
        *,
        minimum: float = 0.0,
        maximum: float | None = None,
    ) -> float | None:
        if value is None:
            return None
        try:
            number = float(value) if isinstance(value, str) else None
        except ValueError:
            number = None
        if number is None or number != number:
            self.problem(key, f"must be a number, not {_show(value)}")
            return None
        if number < minimum or (maximum is not None and number > maximum):
            upper = "" if maximum is None else f" and at most {maximum:g}"
            self.problem(key, f"must be at least {minimum:g}{upper}, not {number:g}")
            return None
        return number

    def boolean(self, value: Any, key: KeyPath) -> bool | None:
        if value is None:
            return None
        words = {
            "true": True,
            "yes": True,
            "on": True,
            "false": False,
            "no": False,
            "off": False,
        }
        if isinstance(value, str) and value.strip().lower() in words:
            return words[value.strip().lower()]
        self.problem(key, f"must be true or false, not {_show(value)}")
        return None

    def date(self, value: Any, key: KeyPath) -> datetime.date | None:
        if value is None:
            return None
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.problem(key, f"must be a date written YYYY-MM-DD, not {_show(value)}")
        return None

    def choice(self, value: Any, key: KeyPath, choices: tuple[str, ...]) -> str | None:
        if value is None:
            return None
        if isinstance(value, str) and value.strip() in choices:
            return value.strip()
        self.problem(key, f"must be one of {', '.join(choices)}, not {_show(value)}")
        return None

    def text_list(self, value: Any, key: KeyPath) -> tuple[str, ...] | None:
        if value is None:
            return None
        if isinstance(value, str):
            # A single value is a list of one, as people write `include: "*.md"`.
            return (value,)
        if not isinstance(value, list):
            self.problem(key, f"must be a list of text, not {describe(value)}")
            return None
        items = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                items.append(item)
            else:
                self.problem(
                    key + (index,), f"must be non-empty text, not {_show(item)}"
                )
        return tuple(items)


def dotted(key: KeyPath) -> str:
    parts = []
    for part in key:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + part)
    return "".join(parts)


def describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    return f"{value!r}"


def _show(value: Any) -> str:
    return describe(value) if not isinstance(value, str) else repr(value)


def _unknown_key_message(name: str, known: dict[str, str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if close:
        return f"unknown key {name!r}; did you mean {close[0]!r}?"
    return f"unknown key {name!r}; known keys: {', '.join(known)}"
