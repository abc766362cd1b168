"""A strict YAML loader that keeps scalars as the author wrote them.

PyYAML's SafeLoader follows YAML 1.1, so ``NO`` becomes False, ``10:00``
becomes 600 and ``2024-05-02`` a date, and a duplicated key silently keeps
the last value. Minutes front matter and syncd's config must not lose text
that way, so this loader:

- resolves every plain scalar to a string, except an empty value or ``~`` or
  ``null``, which is None; callers convert strings by their own schema;
- rejects a duplicated mapping key, naming both lines, or on request
  collects every duplicate and keeps the first value;
- records the 1-based line of every mapping key and sequence entry, so
  errors can point at the key that is wrong;
- turns PyYAML's errors into ``YamlError`` with a line and a hint, for
  example for a tab used as indentation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

KeyPath = tuple[str | int, ...]


class YamlError(Exception):
    """Invalid YAML. ``line`` is 1-based within the text given, or None."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class DuplicateKey(NamedTuple):
    """A mapping key given twice: the 1-based line of the repeat, the message, the key path."""

    line: int
    message: str
    key_path: KeyPath


@dataclass
class YamlDocument:
    """Loaded data and the line of each key path (``("targets", "ops", "repo")``)."""

    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, path: KeyPath) -> int | None:
        """Return the line of ``path``, or of its nearest parent that has one."""

        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


_NULL_WORDS = frozenset({"", "~", "null", "Null", "NULL"})


# libyaml's parser, when PyYAML was built with it, is about ten times faster;
# front matter is read for every minutes file, so it matters for throughput.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TextLoader(_BaseLoader):
    """A SafeLoader with no implicit resolvers except null."""


# Drop every implicit resolver (bool, int, float, timestamp, merge, ...), then
# add back only null, so "NO" and "10:00" stay strings.
_TextLoader.yaml_implicit_resolvers = {}
_TextLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null",
    yaml.resolver.Resolver.yaml_implicit_resolvers["~"][0][1],
    ["~", "n", "N", ""],
)


# The maximum number of values one text may load into. Aliases let a few
# lines of YAML expand to billions of values ("billion laughs"), which would
# stall a sync and exhaust memory. Real front matter and configs stay far
# below this.
MAX_VALUES = 100_000


class _Expansion:
    """Counts the values built so far and the nodes on the current path."""

    def __init__(self) -> None:
        self.values = 0
        self.open_nodes: set[int] = set()

    def enter(self, node: yaml.Node) -> None:
        line = node.start_mark.line + 1
        if id(node) in self.open_nodes:
            raise YamlError("an alias refers to a value that contains it", line)
        self.values += 1
        if self.values > MAX_VALUES:
            raise YamlError(
                f"the YAML expands to more than {MAX_VALUES:,} values through"
                " aliases (*name); write the values out instead",
                line,
            )


def _build(
    node: yaml.Node,
    path: KeyPath,
    lines: dict[KeyPath, int],
    loader,
    duplicates: list[DuplicateKey] | None = None,
    expansion: _Expansion | None = None,
) -> Any:
    if isinstance(node, ScalarNode):
        if expansion is not None:
            expansion.enter(node)
        lines.setdefault(path, node.start_mark.line + 1)
        return _build_scalar(node)
    if expansion is None:
        return _build_collection(node, path, lines, loader, duplicates, None)
    expansion.enter(node)
    expansion.open_nodes.add(id(node))
    try:
        return _build_collection(node, path, lines, loader, duplicates, expansion)
    finally:
        expansion.open_nodes.discard(id(node))


def _build_scalar(node: ScalarNode) -> Any:
    if node.tag == "tag:yaml.org,2002:null":
        return None
    if node.tag == "tag:yaml.org,2002:binary":
        raise YamlError("binary values are not supported", node.start_mark.line + 1)
    # An explicit tag such as !!int still yields the text; the caller's
    # schema decides what the text means.
    return node.value


def _build_collection(
    node: yaml.Node,
    path: KeyPath,
    lines: dict[KeyPath, int],
    loader,
    duplicates: list[DuplicateKey] | None,
    expansion: _Expansion | None,
) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, SequenceNode):
        result = []
        for index, child in enumerate(node.value):
            child_path = path + (index,)
            lines[child_path] = child.start_mark.line + 1
            result.append(
                _build(child, child_path, lines, loader, duplicates, expansion)
            )
        return result
    if isinstance(node, MappingNode):
        result: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlError("merge keys (<<) are not supported", key_node.start_mark.line + 1)
            if not isinstance(key_node, ScalarNode):
                raise YamlError("mapping keys must be plain text", key_node.start_mark.line + 1)
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                message = (
                    f"duplicate key {key!r} at line {line} (first defined at line {seen[key]})"
                )
                if duplicates is None:
                    raise YamlError(message, line)
                # Keep the first value and go on, so the caller can report
                # this together with every other problem of the text.
                duplicates.append(DuplicateKey(line, message, path + (key,)))
                continue
            seen[key] = line
            child_path = path + (key,)
            lines[child_path] = line
            result[key] = _build(
                value_node, child_path, lines, loader, duplicates, expansion
            )
        return result
    raise YamlError(f"unsupported YAML node {node.tag}", node.start_mark.line + 1)


def _hint_for(problem: str, text: str = "", line: int | None = None) -> str:
    tab_hint = " (tabs are not allowed for indentation in YAML: indent with spaces)"
    if "'\\t'" in problem or "\\t" in problem:
        return tab_hint
    # libyaml's messages do not name the character; look at the line itself.
    if line is not None:
        lines = text.split("\n")
        if 0 < line <= len(lines) and lines[line - 1].lstrip(" ").startswith("\t"):
            return tab_hint
    return ""


def load_yaml(
    text: str, collect_duplicates: list[DuplicateKey] | None = None
) -> YamlDocument:
    """Load one YAML document from ``text``.

    An empty document loads as None. Raises YamlError for invalid YAML,
    duplicate keys or several documents in one text. With
    ``collect_duplicates``, a duplicate key does not raise: the first value
    is kept and a ``DuplicateKey`` is appended to that list.
    """

    loader = _TextLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or error.context or "invalid YAML"
        raise YamlError(f"{problem}{_hint_for(problem, text, line)}", line) from None
    except yaml.YAMLError as error:
        raise YamlError(f"invalid YAML: {error}", None) from None
    finally:
        loader.dispose()
    if node is None:
        return YamlDocument(None, {})
    lines: dict[KeyPath, int] = {}
    # Only an alias (*name) can repeat or nest values, so a text without one
    # is built without counting them.
    expansion = _Expansion() if "*" in text else None
    data = _build(node, (), lines, loader, collect_duplicates, expansion)
    return YamlDocument(data, lines)
