"""Dialects: how one community writes action items, described as data.

A dialect is a YAML file. The bundled presets live in ``syncd/dialects/``;
a user copies one, edits it and passes its path wherever a dialect name is
accepted. Every key is optional: a missing key takes the value of the
``default`` dialect. docs/parser.md describes each key.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path

from syncd.errors import ConfigError, ConfigProblem
from syncd.yamltext import YamlDocument, YamlError, load_yaml

DEFAULT_SECTION_TITLES = (
    "todos and decisions",
    "decisions and todos",
    "todos",
    "todo",
    "tasks / decisions",
    "tasks",
    "action items",
    "action item",
    "actions",
    "next steps",
    "new pr tasks",
    "pr tasks",
    "current action items",
)

# Words that are never owner tokens: pronouns, labels such as "Note:" and
# verbs that start an imperative sentence ("Reach out to", "Punt to").
DEFAULT_NOT_OWNERS = tuple(dict.fromkeys(
    """
    we i you they he she it this that these those there here someone somebody
    anyone anybody nobody people us our who what when where why how which
    note notes nb ps fyi update updates reminder decision decisions question
    questions edit agenda status context example examples eg idea ideas summary
    link links merge merged discussion result results proposal conclusion
    problem problems answer topic topics goal goals plan plans outcome info
    reference see also deadline date time location where when owner owners
    assignee background motivation warning important caution tip hint
    http https mailto
    need needs have has want wants try tries going decide decided agree agreed
    continue remember start started reach talk reply move switch punt respond
    listen write go add send commit return submit port upgrade migrate push
    point promote defer escalate ask get make help wait refer set open close
    attempt able likely expected supposed seems happy ready due time
    aim rename change convert downgrade default redirect map explain speak
    contribute subscribe apply post come stick intend hope wish choose prefer
    like begin keep forget learn seem appear happen tend fail manage offer
    promise propose tell invite allow encourage teach remind warn urge attach
    append compare connect back in on at of for with by from as or and but not
    """.split()
))


@dataclass(frozen=True)
class Dialect:
    """A validated dialect. ``name`` is the preset name or the file path."""

    name: str = "default"
    description: str = ""

    # Sections.
    section_titles: tuple[str, ...] = DEFAULT_SECTION_TITLES
    review_titles: tuple[str, ...] = (
        "previous action items",
        "check in on previous action items",
        "action item review",
    )
    # An action heading nested under a heading starting with one of these
    # (a copy of an older meeting) is not an action section.
    ignore_under: tuple[str, ...] = ()
    # A paragraph that is only a section title ("Action Items", "Actions:")
    # starts a section running to the next heading.
    bare_title_lines: bool = False
    # "###TODOs" (no space after the hashes) counts as a heading.
    headings_without_space: bool = True

    # Inline markers, anywhere in the document.
    inline_markers: bool = False
    markers: tuple[str, ...] = ("action item", "action", "AI")

    # Owner syntax.
    colon_owners: bool = True
    handle_owners: bool = True
    # A handle at the start of a "- [ ]" task names its owner whatever
    # follows ("- [x] @kim delete the channel"). Off where decorators
    # ("@tracked") start tasks.
    task_box_handles: bool = True
    name_to_owners: bool = True
    name_verbs: tuple[str, ...] = ("to", "will")
    # "any": any single word not in not_owners may be a name in "Name to";
    # "known": only roster aliases and participant names.
    name_mode: str = "any"
    leading_paren_owners: bool = False
    trailing_paren_owners: bool = False
    owner_separators: tuple[str, ...] = ("/", ",", "+", "&", "and")
    placeholder_owners: tuple[str, ...] = ("todo", "tbd")
    note_prefixes: tuple[str, ...] = (
        "next meeting",
        "next time",
        "long term",
        "potential project",
        "agenda for next meeting",
    )
    not_owners: tuple[str, ...] = DEFAULT_NOT_OWNERS
    hedge_words: tuple[str, ...] = ("maybe", "perhaps", "hopefully", "possibly", "probably")
    group_words: tuple[str, ...] = ("everyone", "all", "core", "mentors", "students")

    # Entries.
    placeholders: tuple[str, ...] = ("todo", "tbd", "to fill", "-", "...", "tba", "n/a")
    unowned_items: bool = True

    # Done markers.
    checkbox_done: bool = True
    strikethrough_done: bool = True
    done_suffixes: tuple[str, ...] = ("(done)", "DONE")

    # Dates.
    date_sources: tuple[str, ...] = ("filename", "front_matter", "heading")
    date_keys: tuple[str, ...] = ("datetime", "date")
    participant_keys: tuple[str, ...] = ("participants", "attendees")

    # Derived, for fast matching; not read from YAML.
    compiled: "CompiledDialect | None" = field(default=None, compare=False, repr=False)


# YAML layout: section -> key -> (Dialect field, kind). Kinds: "bool",
# "words" (a list of strings), "text", "choice:a|b".
_SCHEMA: dict[str, dict[str, tuple[str, str]]] = {
    "": {"name": ("name", "text"), "description": ("description", "text")},
    "sections": {
        "titles": ("section_titles", "words"),
        "review_titles": ("review_titles", "words"),
        "ignore_under": ("ignore_under", "words"),
        "bare_title_lines": ("bare_title_lines", "bool"),
        "headings_without_space": ("headings_without_space", "bool"),
    },
    "inline_markers": {
        "enabled": ("inline_markers", "bool"),
        "markers": ("markers", "words"),
    },
    "owners": {
        "colon_prefix": ("colon_owners", "bool"),
        "handles": ("handle_owners", "bool"),
        "task_box_handles": ("task_box_handles", "bool"),
        "name_to": ("name_to_owners", "bool"),
        "name_verbs": ("name_verbs", "words"),
        "names": ("name_mode", "choice:any|known"),
        "leading_parenthesis": ("leading_paren_owners", "bool"),
        "trailing_parenthesis": ("trailing_paren_owners", "bool"),
        "separators": ("owner_separators", "words"),
        "placeholders": ("placeholder_owners", "words"),
        "note_prefixes": ("note_prefixes", "words"),
        "not_owners": ("not_owners", "words"),
        "hedge_words": ("hedge_words", "words"),
        "group_words": ("group_words", "words"),
    },
    "entries": {
        "placeholders": ("placeholders", "words"),
        "unowned_items": ("unowned_items", "bool"),
    },
    "done": {
        "checkbox": ("checkbox_done", "bool"),
        "strikethrough": ("strikethrough_done", "bool"),
        "suffixes": ("done_suffixes", "words"),
    },
    "dates": {
        "sources": ("date_sources", "words"),
        "front_matter_keys": ("date_keys", "words"),
        "participant_keys": ("participant_keys", "words"),
    },
}
_DATE_SOURCES = {"filename", "front_matter", "heading"}
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}


def bundled_dialects() -> list[str]:
    """Names of the presets shipped with syncd."""

    folder = resources.files("syncd.dialects")
    return sorted(
        entry.name[: -len(".yaml")]
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )


def load_dialect(name_or_path: str) -> Dialect:
    """Load a bundled preset by name, or a dialect YAML file by path.

    Raises ConfigError naming the file, line and key of every problem.
    """

    if name_or_path in _CACHE:
        return _CACHE[name_or_path]
    looks_like_path = (
        "/" in name_or_path or name_or_path.endswith((".yaml", ".yml")) or Path(name_or_path).exists()
    )
    if looks_like_path:
        path = Path(name_or_path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(
                [
                    ConfigProblem(
                        name_or_path, None, "", f"cannot read dialect file: {error}"
                    )
                ],
                what="dialect file",
            ) from None
        return dialect_from_text(text, origin=name_or_path, name=name_or_path)
    resource = resources.files("syncd.dialects") / f"{name_or_path}.yaml"
    if not resource.is_file():
        known = ", ".join(bundled_dialects())
        raise ConfigError(
            [
                ConfigProblem(
                    name_or_path,
                    None,
                    "",
                    f"no dialect named {name_or_path!r} (bundled: {known}; "
                    "or give the path of a dialect YAML file)",
                )
            ],
            what="dialect file",
        )
    dialect = dialect_from_text(
        resource.read_text(encoding="utf-8"), origin=f"{name_or_path}.yaml", name=name_or_path
    )
    _CACHE[name_or_path] = dialect
    return dialect


_CACHE: dict[str, Dialect] = {}


def dialect_from_text(text: str, *, origin: str, name: str | None = None) -> Dialect:
    """Build a Dialect from YAML text; ``origin`` names the file in errors."""

    try:
        document = load_yaml(text)
    except YamlError as error:
        problem = ConfigProblem(origin, error.line, "", error.message)
        raise ConfigError([problem], what="dialect file") from None
    return dialect_from_data(document, origin=origin, name=name)


def dialect_from_data(document: YamlDocument, *, origin: str, name: str | None = None) -> Dialect:
    data = document.data
    problems: list[ConfigProblem] = []
    values: dict[str, object] = {}

    def problem(path: tuple, message: str) -> None:
        key = ".".join(str(part) for part in path)
        problems.append(ConfigProblem(origin, document.line_of(path), key, message))

    if data is None:
        data = {}
    if not isinstance(data, dict):
        message = "a dialect file must be a mapping of keys"
        problem = ConfigProblem(origin, 1, "", message)
        raise ConfigError([problem], what="dialect file")

    for section, value in data.items():
        if section in _SCHEMA[""]:
            field_name, kind = _SCHEMA[""][section]
            _convert(value, kind, (section,), field_name, values, problem)
            continue
        if section not in _SCHEMA:
            problem((section,), f"unknown key (known: {', '.join(_known_top())})")
            continue
        if value is None:
            continue
        if not isinstance(value, dict):
            problem((section,), "must be a mapping of keys")
            continue
        schema = _SCHEMA[section]
        for key, item in value.items():
            if key not in schema:
                problem((section, key), f"unknown key (known: {', '.join(schema)})")
                continue
            field_name, kind = schema[key]
            _convert(item, kind, (section, key), field_name, values, problem)

    sources = values.get("date_sources")
    if isinstance(sources, tuple):
        for index, source in enumerate(sources):
            if source not in _DATE_SOURCES:
                problem(
                    ("dates", "sources", index),
                    f"unknown date source {source!r} (known: {', '.join(sorted(_DATE_SOURCES))})",
                )
    for key in ("section_titles", "markers"):
        words = values.get(key)
        if isinstance(words, tuple) and not all(normalize_title(word) for word in words):
            problem(_path_of(key), "an entry is empty once punctuation and emoji are removed")

    if problems:
        raise ConfigError(problems, what="dialect file")
    if name is not None and "name" not in values:
        values["name"] = name
    dialect = Dialect(**values)
    return replace(dialect, compiled=CompiledDialect(dialect))


def _path_of(field_name: str) -> tuple:
    for section, schema in _SCHEMA.items():
        for key, (name, _kind) in schema.items():
            if name == field_name:
                return (section, key) if section else (key,)
    return (field_name,)


def _known_top() -> list[str]:
    return [key for key in _SCHEMA if key] + list(_SCHEMA[""])


def _convert(value, kind: str, path: tuple, field_name: str, values: dict, problem) -> None:
    if kind == "bool":
        text = value.lower() if isinstance(value, str) else None
        if text in _TRUE:
            values[field_name] = True
        elif text in _FALSE:
            values[field_name] = False
        else:
            problem(path, f"must be true or false, not {value!r}")
    elif kind == "text":
        if value is not None and not isinstance(value, str):
            problem(path, "must be text")
        else:
            values[field_name] = value or ""
    elif kind == "words":
        if value is None:
            values[field_name] = ()
        elif not isinstance(value, list):
            problem(path, "must be a list of text entries")
        else:
            words = []
            for index, entry in enumerate(value):
                if not isinstance(entry, str):
                    problem(path + (index,), "must be text")
                else:
                    words.append(entry)
            values[field_name] = tuple(words)
    elif kind.startswith("choice:"):
        choices = kind[len("choice:") :].split("|")
        if value not in choices:
            problem(path, f"must be one of {', '.join(choices)}, not {value!r}")
        else:
            values[field_name] = value


def default_dialect() -> Dialect:
    dialect = Dialect()
    return replace(dialect, compiled=CompiledDialect(dialect))


# --- matching helpers shared by the extractor ---------------------------------

_SHORTCODE = re.compile(r":[a-z0-9_+-]+:")
_NON_WORD = re.compile(r"[\W_]+")


# Text that normalize_title only folds and splits into words: ASCII letters,
# digits and spaces, so no shortcode, "&", emoji or punctuation to remove.
_PLAIN_TITLE = re.compile(r"[A-Za-z0-9 ]*")


@functools.lru_cache(maxsize=4096)
def normalize_title(text: str) -> str:
    """Heading text with emoji, shortcodes, emphasis and punctuation removed, folded."""

    if _PLAIN_TITLE.fullmatch(text) is not None:
        return " ".join(text.lower().split())
    # "&" reads as "and": "TODOs & Decisions" is "TODOs and Decisions".
    text = _SHORTCODE.sub(" ", text.casefold().replace("&", " and "))
    return " ".join(_NON_WORD.sub(" ", text).split())


def _scan_hazard(dialect: Dialect) -> re.Pattern | None:
    """Lines that may hold items outside headed sections in this dialect.

    A text with such a line is parsed whole rather than by sections. The
    pattern is searched in the text with a line feed put in front of it.
    """

    def words(phrase: str) -> str:
        return r"[\W_]+".join(re.escape(word) for word in normalize_title(phrase).split())

    # One character class for everything before the word (indentation, list
    # and quote markers, a checkbox, bold), so the search stays linear. The
    # pattern is searched in the text with a line feed put in front: a
    # literal line feed lets the regex engine skip to line starts, where a
    # "^" would be tried at every character.
    before_word = r"[ \t>*_+\-\d.)\[\]xX]"
    words_after = []
    if dialect.inline_markers and dialect.markers:
        words_after.append("(?:" + "|".join(words(m) for m in dialect.markers) + r")\b")
        first_letters = [normalize_title(m)[:1] for m in dialect.markers]
    else:
        first_letters = []
    if dialect.bare_title_lines and dialect.section_titles:
        words_after.append(
            "(?:" + "|".join(words(t) for t in dialect.section_titles) + r")[\W_]*$"
        )
        first_letters += [normalize_title(t)[:1] for t in dialect.section_titles]
    if not words_after:
        return None
    # When no word starts with a character of the class, the class run
    # never has to give a character back, and a possessive run (Python
    # 3.11) saves the regex engine from trying every shorter one.
    possessive = not any(
        re.fullmatch(before_word, letter, re.IGNORECASE) for letter in first_letters if letter
    )
    prefix = r"\n" + before_word + ("*+" if possessive else "*")
    return re.compile(prefix + "(?:" + "|".join(words_after) + ")", re.IGNORECASE | re.MULTILINE)


class CompiledDialect:
    """Sets and patterns derived from a Dialect, built once per dialect."""

    def __init__(self, dialect: Dialect) -> None:
        # Entry text -> classification, filled by the extractor, and owner
        # text -> tokens, filled by owners.split_tokens. Both only ever grow
        # within a run; forget() empties them.
        self.classify_memo: dict = {}
        self.token_memo: dict = {}
        self.titles = frozenset(normalize_title(title) for title in dialect.section_titles)
        self.review_titles = frozenset(normalize_title(title) for title in dialect.review_titles)
        self.ignore_under = tuple(normalize_title(title) for title in dialect.ignore_under)
        self.placeholders = frozenset(
            " ".join(word.casefold().split()) for word in dialect.placeholders
        )
        # Text longer than this cannot be a placeholder, whatever its markup.
        self.placeholder_length = 2 * max((len(word) for word in self.placeholders), default=0) + 12
        self.placeholder_owners = frozenset(word.casefold() for word in dialect.placeholder_owners)
        self.note_prefixes = frozenset(normalize_title(word) for word in dialect.note_prefixes)
        # First words of note prefixes, to skip normalising most owner prefixes.
        self.note_first_words = frozenset(
            prefix.split()[0] for prefix in self.note_prefixes if prefix
        )
        self.not_owners = frozenset(word.casefold() for word in dialect.not_owners)
        self.hedge_words = frozenset(word.casefold() for word in dialect.hedge_words)
        self.group_words = frozenset(word.casefold() for word in dialect.group_words)
        self.name_verbs = frozenset(word.casefold() for word in dialect.name_verbs)
        self.done_suffixes = tuple(dialect.done_suffixes)
        # Last characters of the suffixes, to rule most entries out at once.
        self.done_suffix_ends = frozenset(
            suffix.rstrip(" .!\t")[-1:].casefold() for suffix in dialect.done_suffixes
        ) - {""}
        self.name_verb_pattern = re.compile(
            r"(?<=\s)(?:"
            + "|".join(re.escape(verb) for verb in dialect.name_verbs)
            + r")(?=\s)",
            re.IGNORECASE,
        ) if dialect.name_verbs else re.compile(r"(?!)")
        self.paren_stop = self.not_owners | self.placeholder_owners | frozenset(
            word.strip("()").casefold() for word in dialect.done_suffixes
        )

        words = [re.escape(sep) for sep in dialect.owner_separators if sep.isalpha()]
        symbols = [re.escape(sep) for sep in dialect.owner_separators if not sep.isalpha()]
        parts = []
        if symbols:
            parts.append(r"\s*(?:" + "|".join(symbols) + r")\s*")
        if words:
            parts.append(r"\s+(?:" + "|".join(words) + r")\s+")
        self.separator = re.compile("|".join(parts) if parts else r"(?!)", re.IGNORECASE)

        markers = sorted(
            (" ".join(marker.split()) for marker in dialect.markers), key=len, reverse=True
        )
        marker_alternatives = "|".join(
            r"\s+".join(re.escape(word) for word in marker.split()) for marker in markers
        )
        # "Action:", "**Action item:**", "**Action  **:", "Action item for NAME:",
        # "Action, ...". Upper-case-only markers (AI) must be written that way.
        self.marker = re.compile(
            r"^\s*(?:\*\*|__)?\s*(?P<marker>" + marker_alternatives + r")\s*(?:\*\*|__)?"
            r"(?:\s+for\s+(?P<for>[^:*]{1,60}?))?\s*(?:\*\*|__)?\s*(?P<sep>[:,])(?:\s*(?:\*\*|__))?\s*",
            re.IGNORECASE,
        ) if markers else None
        # A short marker the dialect writes in upper case ("AI") must be
        # written that way, so "Ai" and "ai-assisted" never match.
        self.case_sensitive_markers = frozenset(
            marker.casefold() for marker in markers if marker.isupper() and len(marker) <= 3
        )
        # A block without the first word of any marker holds no marker line:
        # (words to find as written, words to find in lower case), or None.
        # The check runs on ASCII bytes only, because the marker pattern's
        # case folding matches some non-ASCII letters too (Kelvin sign, "ı").
        # Plain substring tests, because a case-blind regex cannot skip
        # ahead the way a search for fixed bytes does.
        as_written: set[bytes] = set()
        lower_case: set[bytes] = set()
        for marker in markers:
            first_word = marker.split()[0] if marker.split() else ""
            if not first_word.isascii():
                as_written = lower_case = set()
                break
            if marker.casefold() in self.case_sensitive_markers:
                as_written.add(first_word.encode("ascii"))
            else:
                lower_case.add(first_word.lower().encode("ascii"))
        self.marker_prefilter = (
            (tuple(sorted(as_written)), tuple(sorted(lower_case)))
            if as_written or lower_case
            else None
        )
        self.scan_hazard = _scan_hazard(dialect)
    @staticmethod
    def title_of(text: str) -> str:
        return normalize_title(text)

    def forget(self) -> None:
        """Empty the memos, so the next parse starts as in a fresh process."""

        self.classify_memo.clear()
        self.token_memo.clear()


def compiled_for(dialect: Dialect) -> CompiledDialect:
    """Return the compiled form of ``dialect``, building it on first use."""

    if dialect.compiled is not None:
        return dialect.compiled
    compiled = _COMPILED.get(id(dialect))
    if compiled is None or compiled[0] is not dialect:
        compiled = (dialect, CompiledDialect(dialect))
        _COMPILED[id(dialect)] = compiled
    return compiled[1]


_COMPILED: dict[int, tuple[Dialect, CompiledDialect]] = {}


def dialect_to_yaml(dialect: Dialect) -> str:
    """Render ``dialect`` as a YAML file a user can copy and edit."""

    lines = [f"name: {dialect.name}"]
    if dialect.description:
        lines.append(f"description: {_quote(dialect.description)}")
    for section, schema in _SCHEMA.items():
        if not section:
            continue
        lines.append(f"{section}:")
        for key, (field_name, kind) in schema.items():
            value = getattr(dialect, field_name)
            if kind == "bool":
                lines.append(f"  {key}: {'true' if value else 'false'}")
            elif kind == "words":
                lines.extend(_flow_list(f"  {key}: ", list(value)))
            else:
                lines.append(f"  {key}: {value}")
    return "\n".join(lines) + "\n"


def _flow_list(lead: str, words: list[str], width: int = 88) -> list[str]:
    """``key: [a, b, c]`` wrapped to ``width`` columns."""

    if not words:
        return [lead + "[]"]
    lines, current = [], lead + "["
    for index, word in enumerate(words):
        piece = _quote(word) + ("]" if index == len(words) - 1 else ",")
        if len(current) + len(piece) + 1 > width and not current.endswith("["):
            lines.append(current.rstrip())
            current = "      "
        current += piece + " "
    lines.append(current.rstrip())
    return lines


def _quote(word: str) -> str:
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


__all__ = [
    "Dialect",
    "bundled_dialects",
    "default_dialect",
    "dialect_from_text",
    "dialect_to_yaml",
    "load_dialect",
    "normalize_title",
]

_FIELD_NAMES = {f.name for f in fields(Dialect)}
