"""Read syncd's YAML config into ``syncd.settings.Settings``.

The file is loaded with ``syncd.yamltext`` (every scalar stays text, duplicate
keys are errors, every key has a line), then each section is read and
checked against the key tables of ``syncd.config_schema``. Every problem is
collected, with the file, line and dotted key path, and raised together as
one ``ConfigError``, so ``syncd config validate`` can list them all at
once. A key the schema does not have is an error with a did-you-mean, never
silently ignored.

Relative paths (a folder source's ``root``, ``people_file``, ``state_dir``
and any target option named ``path`` or ending in ``_file``) resolve against
the folder that contains the config file, so a config works from any
working directory.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from syncd.errors import ConfigError, ConfigProblem, SyncdError
from syncd.model import Group, Person
from syncd.settings import (
    Carry,
    Guards,
    LabelSettings,
    PacingSettings,
    ReopenPolicy,
    Route,
    SeriesPolicy,
    SeriesRule,
    Settings,
    SourceSettings,
    TargetSettings,
)
from syncd.config_schema import (
    GUARD_KEYS,
    LABEL_KEYS,
    PACING_KEYS,
    POLICY_KEYS,
    ROUTE_KEYS,
    SERIES_RULE_KEYS,
    SOURCE_KEYS,
    TOP_KEYS,
    Checker,
    describe,
    dotted,
)
from syncd.config_schema import schema_key_paths  # noqa: F401 - part of this API
from syncd.yamltext import DuplicateKey, KeyPath, YamlDocument, YamlError, load_yaml

ENV_CONFIG = "SYNCD_CONFIG"
DEFAULT_CONFIG_NAME = "syncd.yaml"
SYSTEM_CONFIG = Path("/etc/syncd/syncd.yaml")

SOURCE_KINDS = ("folder", "git", "http")


def _resolve(base: Path, value: str) -> Path:
    path = Path(os.path.expanduser(value))
    return Path(os.path.normpath(path if path.is_absolute() else base / path))


# Sections.


def _read_sources(
    checker: Checker, data: Any, base: Path
) -> tuple[SourceSettings, ...]:
    key: KeyPath = ("sources",)
    if data is None:
        checker.problem(key, "missing: give at least one source of minutes")
        return ()
    if not isinstance(data, dict):
        checker.problem(key, "must be a mapping of source names to sources")
        return ()
    if not data:
        checker.problem(key, "must name at least one source")
    sources = []
    for name, raw in data.items():
        source = _read_source(checker, name, raw, ("sources", name), base)
        if source is not None:
            sources.append(source)
    return tuple(sources)


def _read_source(
    checker: Checker, name: str, raw: Any, key: KeyPath, base: Path
) -> SourceSettings | None:
    if not isinstance(raw, dict):
        checker.problem(
            key, f"must be a mapping with kind, root and so on, not {describe(raw)}"
        )
        return None
    raw = checker.mapping(raw, key, SOURCE_KEYS)
    kind = checker.choice(raw.get("kind"), key + ("kind",), SOURCE_KINDS) or "folder"
    values: dict[str, Any] = {"name": name, "kind": kind}

    root = checker.text(raw.get("root"), key + ("root",))
    url = checker.text(raw.get("url"), key + ("url",))
    branch = checker.text(raw.get("branch"), key + ("branch",))
    if kind == "folder":
        if raw.get("root") is None:
            checker.problem(key, "a folder source needs root: the folder of minutes")
        if url is not None:
            checker.problem(key + ("url",), "only git and http sources take a url")
        if branch is not None:
            checker.problem(key + ("branch",), "only git sources take a branch")
        if root is not None:
            values["root"] = _resolve(base, root)
    else:
        if root is not None:
            checker.problem(key + ("root",), f"a {kind} source takes url, not root")
        if url is None:
            checker.problem(key, f"a {kind} source needs url")
        elif kind == "http" and not re.match(r"https?://", url):
            checker.problem(
                key + ("url",), f"must start with http:// or https://, not {url!r}"
            )
        elif kind == "git" and not _looks_like_git_url(url):
            checker.problem(key + ("url",), f"is not a git URL or path: {url!r}")
        if kind == "http" and branch is not None:
            checker.problem(key + ("branch",), "only git sources take a branch")
        if kind == "git" and url is not None and url.startswith(("./", "../", "~")):
            # A repository on this machine, named like any other config path.
            url = str(_resolve(base, url))
        values["url"] = url
        values["branch"] = branch

    include = checker.text_list(raw.get("include"), key + ("include",))
    if include is not None:
        values["include"] = include
    exclude = checker.text_list(raw.get("exclude"), key + ("exclude",))
    if exclude is not None:
        values["exclude"] = exclude
    for glob_key in ("include", "exclude"):
        for index, pattern in enumerate(values.get(glob_key, ())):
            if pattern.startswith("/") or ".." in Path(pattern).parts:
                checker.problem(
                    key + (glob_key, index),
                    f"must be relative to the source root, not {pattern!r}",
                )
    dialect = checker.text(raw.get("dialect"), key + ("dialect",))
    if dialect is not None:
        values["dialect"] = _dialect_reference(base, dialect)
    depth = checker.integer(raw.get("series_depth"), key + ("series_depth",), minimum=0)
    if depth is not None:
        values["series_depth"] = depth
    web_url = checker.text(raw.get("web_url"), key + ("web_url",))
    if web_url is not None:
        if "{line}" not in web_url or "{path}" not in web_url:
            checker.problem(key + ("web_url",), "must contain {path} and {line}")
        values["web_url"] = web_url
    by_name = checker.boolean(
        raw.get("series_from_file_name"), key + ("series_from_file_name",)
    )
    if by_name is not None:
        values["series_from_file_name"] = by_name
    size = checker.integer(
        raw.get("max_file_bytes"), key + ("max_file_bytes",), minimum=1
    )
    if size is not None:
        values["max_file_bytes"] = size
    return SourceSettings(**values)


def _looks_like_git_url(url: str) -> bool:
    return bool(
        re.match(r"(https?|ssh|git|file)://", url)
        or re.match(r"[\w.-]+@[\w.-]+:", url)
        or url.startswith(("/", "./", "../", "~"))
    )


def _dialect_reference(base: Path, dialect: str) -> str:
    # A name of a bundled dialect stays a name; a file path resolves
    # against the config folder like every other path.
    if dialect.endswith((".yaml", ".yml")) or "/" in dialect:
        return str(_resolve(base, dialect))
    return dialect


def _read_roster(
    checker: Checker, data: dict, base: Path
) -> tuple[tuple[Person, ...], tuple[Group, ...]]:
    """Read the inline roster and the ``people_file`` in the roster file format."""

    from syncd.roster import load_roster, roster_from_data

    people: list[Person] = []
    groups: list[Group] = []
    inline = {
        key: data[key] for key in ("people", "groups") if data.get(key) is not None
    }
    if inline:
        document = YamlDocument(inline, checker.document.lines)
        try:
            people, groups = roster_from_data(document, origin=checker.path)
        except ConfigError as error:
            checker.problems.extend(error.problems)
    people_file = checker.text(data.get("people_file"), ("people_file",))
    if people_file is not None:
        path = _resolve(base, people_file)
        if not path.is_file():
            checker.problem(("people_file",), f"roster file not found: {path}")
        else:
            try:
                file_people, file_groups = load_roster(path)
            except ConfigError as error:
                checker.problems.extend(error.problems)
            else:
                people += file_people
                groups += file_groups
    return tuple(people), tuple(groups)


def _read_targets(
    checker: Checker, data: Any, base: Path
) -> tuple[TargetSettings, ...]:
    key: KeyPath = ("targets",)
    if data is None:
        checker.problem(
            key, "missing: give at least one target, e.g. a local tracker file"
        )
        return ()
    if not isinstance(data, dict) or not data:
        checker.problem(key, "must be a mapping of target names to targets")
        return ()
    targets = []
    for name, raw in data.items():
        target_key = key + (name,)
        if not isinstance(raw, dict):
            checker.problem(
                target_key,
                f"must be a mapping with kind and options, not {describe(raw)}",
            )
            continue
        kind = checker.text(raw.get("kind"), target_key + ("kind",), required=True)
        if kind is None:
            continue
        options = {option: value for option, value in raw.items() if option != "kind"}
        tracker_class = _tracker_class(checker, kind, target_key + ("kind",))
        if tracker_class is None:
            continue
        known = set(getattr(tracker_class, "known_options", ())) | {"kind"}
        for problem in tracker_class.validate_options(options):
            option, message = _split_option_problem(problem, options)
            if option and option not in known and "did you mean" not in message:
                message += _did_you_mean(option, known)
            checker.problem(target_key + ((option,) if option else ()), message)
        targets.append(
            TargetSettings(
                name=name, kind=kind, options=_resolve_options(base, options)
            )
        )
    return tuple(targets)


def _did_you_mean(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _split_option_problem(
    problem: tuple[str, str] | str, options: dict
) -> tuple[str, str]:
    """Return (option, message) from a (key, message) pair or ``"key: message"`` text."""

    if isinstance(problem, tuple):
        return problem
    option, separator, message = str(problem).partition(": ")
    if separator and re.fullmatch(r"[A-Za-z_][\w-]*", option):
        return option, message
    return "", str(problem)


def _tracker_class(checker: Checker, kind: str, key: KeyPath):
    from syncd.tracker import load_tracker_class

    try:
        return load_tracker_class(kind)
    except SyncdError as error:
        hint = f" ({error.hint})" if error.hint else ""
        checker.problem(key, f"{error}{hint}")
    except ImportError as error:
        checker.problem(key, f"the {kind!r} tracker cannot be loaded: {error}")
    return None


def _resolve_options(base: Path, options: dict) -> dict:
    resolved = {}
    for name, value in options.items():
        if isinstance(value, str) and (name == "path" or name.endswith("_file")):
            resolved[name] = str(_resolve(base, value))
        else:
            resolved[name] = value
    return resolved


def _read_routes(
    checker: Checker, data: Any, target_names: set[str]
) -> tuple[Route, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        checker.problem(("routes",), "must be a list of {series, target} rules")
        return ()
    routes = []
    for index, raw in enumerate(data):
        key: KeyPath = ("routes", index)
        raw = checker.mapping(raw, key, ROUTE_KEYS)
        series = checker.text(raw.get("series"), key + ("series",), required=True)
        target = checker.text(raw.get("target"), key + ("target",), required=True)
        if target is not None and target_names and target not in target_names:
            checker.problem(
                key + ("target",), _unknown_target_message(target, target_names)
            )
        if series is not None and target is not None:
            routes.append(Route(series=series, target=target))
    return tuple(routes)


def _unknown_target_message(target: str, target_names: set[str]) -> str:
    close = difflib.get_close_matches(target, sorted(target_names), n=1)
    suggestion = f"; did you mean {close[0]!r}?" if close else ""
    return f"no target is named {target!r}{suggestion} (targets: {', '.join(sorted(target_names))})"


def _read_policy(
    checker: Checker, raw: dict, key: KeyPath, base: SeriesPolicy
) -> SeriesPolicy:
    values: dict[str, Any] = {}
    carry = checker.choice(
        raw.get("carry"), key + ("carry",), tuple(c.value for c in Carry)
    )
    if carry is not None:
        values["carry"] = Carry(carry)
    missing = checker.integer(
        raw.get("missing_meetings"), key + ("missing_meetings",), minimum=1
    )
    if missing is not None:
        values["missing_meetings"] = missing
    since = checker.date(raw.get("since"), key + ("since",))
    if since is not None:
        values["since"] = since
    unowned = checker.boolean(raw.get("unowned_items"), key + ("unowned_items",))
    if unowned is not None:
        values["unowned_items"] = unowned
    reopen = checker.choice(
        raw.get("reopen"),
        key + ("reopen",),
        tuple(policy.value for policy in ReopenPolicy),
    )
    if reopen is not None:
        values["reopen"] = ReopenPolicy(reopen)
    return replace(base, **values)


def _read_series(
    checker: Checker, data: Any, default: SeriesPolicy, base: Path
) -> tuple[SeriesRule, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        checker.problem(
            ("series",), "must be a list of rules, each with match and a policy"
        )
        return ()
    rules = []
    for index, raw in enumerate(data):
        key: KeyPath = ("series", index)
        raw = checker.mapping(raw, key, SERIES_RULE_KEYS)
        match = checker.text(raw.get("match"), key + ("match",), required=True)
        dialect = checker.text(raw.get("dialect"), key + ("dialect",))
        policy = _read_policy(checker, raw, key, default)
        if match is not None:
            rules.append(
                SeriesRule(
                    match=match,
                    policy=policy,
                    dialect=(
                        None if dialect is None else _dialect_reference(base, dialect)
                    ),
                )
            )
    return tuple(rules)


def _read_labels(checker: Checker, data: Any) -> LabelSettings:
    raw = checker.mapping(data, ("labels",), LABEL_KEYS)
    values: dict[str, Any] = {}
    managed = checker.text(raw.get("managed"), ("labels", "managed"))
    if managed is not None:
        if not managed.strip() or "," in managed:
            checker.problem(
                ("labels", "managed"),
                f"must be one label name without commas, not {managed!r}",
            )
        values["managed"] = managed.strip()
    color = checker.text(raw.get("color"), ("labels", "color"))
    if color is not None:
        color = color.lstrip("#")
        if not re.fullmatch(r"[0-9a-fA-F]{6}", color):
            checker.problem(
                ("labels", "color"),
                f"must be six hex digits such as 0e8a16, not {color!r}",
            )
        values["color"] = color.lower()
    description = checker.text(raw.get("description"), ("labels", "description"))
    if description is not None:
        values["description"] = description
    extra = checker.text_list(raw.get("extra"), ("labels", "extra"))
    if extra is not None:
        values["extra"] = extra
    return LabelSettings(**values)


def _read_guards(checker: Checker, data: Any) -> Guards:
    raw = checker.mapping(data, ("guards",), GUARD_KEYS)
    values: dict[str, Any] = {}
    max_close = checker.integer(
        raw.get("max_close"), ("guards", "max_close"), minimum=0
    )
    if max_close is not None:
        values["max_close"] = max_close
    fraction = checker.number(
        raw.get("max_close_fraction"), ("guards", "max_close_fraction"), maximum=1.0
    )
    if fraction is not None:
        values["max_close_fraction"] = fraction
    wait = checker.number(
        raw.get("unknown_create_wait"), ("guards", "unknown_create_wait")
    )
    if wait is not None:
        values["unknown_create_wait"] = wait
    return Guards(**values)


def _read_pacing(checker: Checker, data: Any) -> PacingSettings:
    raw = checker.mapping(data, ("pacing",), PACING_KEYS)
    values: dict[str, Any] = {}
    interval = checker.number(
        raw.get("min_write_interval"), ("pacing", "min_write_interval")
    )
    if interval is not None:
        values["min_write_interval"] = interval
    for name in ("writes_per_minute", "writes_per_hour"):
        if name not in raw:
            continue
        value = raw.get(name)
        # The same words switch a cap off here as in a target's options.
        if isinstance(value, str) and value.strip().lower() in ("none", "off"):
            values[name] = None
        else:
            values[name] = checker.integer(value, ("pacing", name), minimum=1)
    return PacingSettings(**values)


# Entry points.


def find_config(explicit: str | os.PathLike | None, *, cwd: Path | None = None) -> Path:
    """Return the config file to use.

    An explicit ``--config`` wins, then ``$SYNCD_CONFIG``, then
    ``./syncd.yaml``, then ``/etc/syncd/syncd.yaml``. Raises ConfigError when
    none exists.
    """

    if explicit:
        return Path(explicit)
    from_env = os.environ.get(ENV_CONFIG)
    if from_env:
        return Path(from_env)
    local = (cwd or Path.cwd()) / DEFAULT_CONFIG_NAME
    if local.exists():
        return local
    if SYSTEM_CONFIG.exists():
        return SYSTEM_CONFIG
    raise ConfigError(
        [
            ConfigProblem(
                path=DEFAULT_CONFIG_NAME,
                line=None,
                key_path="",
                message=(
                    f"no config file found: pass --config FILE, set ${ENV_CONFIG}, or create "
                    f"./{DEFAULT_CONFIG_NAME} or {SYSTEM_CONFIG}"
                ),
            )
        ]
    )


def load_config(path: str | os.PathLike) -> Settings:
    """Read and check the config file at ``path``; raise ConfigError listing every problem."""

    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            [ConfigProblem(str(path), None, "", "config file not found")]
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            [ConfigProblem(str(path), None, "", "is a folder, not a config file")]
        ) from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            [
                ConfigProblem(
                    str(path), None, "", f"is not valid UTF-8 (byte {error.start})"
                )
            ]
        ) from None
    except OSError as error:
        raise ConfigError(
            [ConfigProblem(str(path), None, "", f"cannot be read: {error.strerror}")]
        ) from None
    return parse_config(text, path=str(path), base=path.resolve().parent)


def parse_config(text: str, *, path: str, base: Path) -> Settings:
    """Check config ``text`` read from ``path``; relative paths resolve against ``base``."""

    duplicates: list[DuplicateKey] = []
    try:
        document = load_yaml(text, collect_duplicates=duplicates)
    except YamlError as error:
        # The text cannot be read as YAML past this point, so no other
        # problem of the file can be found until this one is fixed.
        message = f"{error.message}; fix this first; other problems may be hidden"
        raise ConfigError([ConfigProblem(path, error.line, "", message)]) from None
    checker = Checker(path=path, document=document)
    for duplicate in duplicates:
        checker.problems.append(
            ConfigProblem(
                path=path,
                line=duplicate.line,
                key_path=dotted(duplicate.key_path),
                message=duplicate.message,
            )
        )
    if document.data is None:
        checker.problem((), "the config file is empty: it needs sources and targets")
        raise ConfigError(checker.problems)
    data = checker.mapping(document.data, (), TOP_KEYS)
    if not isinstance(document.data, dict):
        raise ConfigError(checker.problems)

    sources = _read_sources(checker, data.get("sources"), base)
    _check_unique_source_roots(checker, sources)

    people, groups = _read_roster(checker, data, base)

    targets = _read_targets(checker, data.get("targets"), base)
    target_names = {target.name for target in targets}
    routes = _read_routes(checker, data.get("routes"), target_names)
    default_target = checker.text(data.get("default_target"), ("default_target",))
    if (
        default_target is not None
        and target_names
        and default_target not in target_names
    ):
        checker.problem(
            ("default_target",), _unknown_target_message(default_target, target_names)
        )
    if default_target is None and len(targets) == 1:
        default_target = targets[0].name
    if default_target is None and len(targets) > 1 and not routes:
        checker.problem(
            ("default_target",),
            "several targets and no routes: name the default_target",
        )

    policy_raw = checker.mapping(data.get("policy"), ("policy",), POLICY_KEYS)
    default_policy = _read_policy(checker, policy_raw, ("policy",), SeriesPolicy())
    series = _read_series(checker, data.get("series"), default_policy, base)

    labels = _read_labels(checker, data.get("labels"))
    guards = _read_guards(checker, data.get("guards"))
    pacing = _read_pacing(checker, data.get("pacing"))
    state_dir_text = checker.text(data.get("state_dir"), ("state_dir",))
    state_dir = _resolve(base, state_dir_text or ".syncd")

    _check_dialects(checker, sources, series)

    if checker.problems:
        raise ConfigError(checker.problems)
    return Settings(
        sources=sources,
        targets=targets,
        routes=routes,
        default_target=default_target,
        series=series,
        default_policy=default_policy,
        people=people,
        groups=groups,
        labels=labels,
        guards=guards,
        pacing=pacing,
        state_dir=state_dir,
        origin=path,
    )


def validate_config_file(
    path: str | os.PathLike,
) -> tuple[Settings | None, list[ConfigProblem]]:
    """Check the config at ``path`` as ``syncd config validate`` does.

    Beyond ``load_config``, it reports a folder source whose root does not
    exist. Loading alone accepts that, because ``--source`` may replace it.
    """

    try:
        settings = load_config(path)
    except ConfigError as error:
        return None, list(error.problems)
    document = load_yaml(Path(path).read_bytes().decode("utf-8-sig"), [])
    problems = []
    for source in settings.sources:
        if (
            source.kind == "folder"
            and source.root is not None
            and not source.root.is_dir()
        ):
            key = ("sources", source.name, "root")
            problems.append(
                ConfigProblem(
                    path=str(path),
                    line=document.line_of(key),
                    key_path=dotted(key),
                    message=f"folder {source.root} does not exist",
                )
            )
    return settings, problems


def _check_unique_source_roots(
    checker: Checker, sources: tuple[SourceSettings, ...]
) -> None:
    seen: dict[str, str] = {}
    for source in sources:
        where = (
            str(source.root)
            if source.root is not None
            else f"{source.url}@{source.branch}"
        )
        if where in seen:
            checker.problem(
                ("sources", source.name),
                f"reads the same minutes as source {seen[where]!r}; each item would be seen twice",
            )
        seen[where] = source.name


def _check_dialects(
    checker: Checker,
    sources: tuple[SourceSettings, ...],
    series: tuple[SeriesRule, ...],
) -> None:
    from syncd.parser import bundled_dialects, load_dialect

    references = [
        (("sources", source.name, "dialect"), source.dialect) for source in sources
    ]
    references += [
        (("series", index, "dialect"), rule.dialect)
        for index, rule in enumerate(series)
        if rule.dialect is not None
    ]
    loaded: dict[str, str | None] = {}
    for key, name in references:
        if name not in loaded:
            loaded[name] = _dialect_problem(load_dialect, name)
            if loaded[name] is not None and "/" not in name:
                loaded[name] += _did_you_mean(name, set(bundled_dialects()))
        if loaded[name] is not None:
            checker.problem(key, loaded[name])


def _dialect_problem(load_dialect, name: str) -> str | None:
    try:
        load_dialect(name)
    except ConfigError as error:
        # A problem inside a dialect file keeps that file's own location.
        return "; ".join(
            str(problem) if problem.line is not None else problem.message
            for problem in error.problems
        )
    except SyncdError as error:
        return f"{error}" + (f" ({error.hint})" if error.hint else "")
    return None


# Overrides from the command line.


def override_source(settings: Settings, root: str | os.PathLike) -> Settings:
    """Replace the root of a one-source config with the folder ``root``.

    A git or http source becomes a folder source over ``root``, keeping its
    globs and dialect, so a checkout can be rehearsed without fetching.
    """

    if len(settings.sources) != 1:
        names = ", ".join(source.name for source in settings.sources)
        raise SyncdError(
            f"--source replaces the root of a one-source config, but {settings.origin} has "
            f"{len(settings.sources)} sources ({names})",
            hint="edit the config, or write a one-source config for the rehearsal",
        )
    source = settings.sources[0]
    replaced = replace(
        source, kind="folder", root=Path(root).resolve(), url=None, branch=None
    )
    return replace(settings, sources=(replaced,))


def override_trackers(settings: Settings, path: str | os.PathLike) -> Settings:
    """Send every target to the embedded tracker file at ``path``.

    Each target keeps its name and becomes a project of its own in the file.
    The state folder moves next to the file (``PATH.state``), so a rehearsal
    never mixes its state with the real targets' state.
    """

    path = Path(path).resolve()
    targets = tuple(
        TargetSettings(
            name=target.name,
            kind="local",
            options={"path": str(path), "project": target.name},
        )
        for target in settings.targets
    )
    state_dir = path.with_name(path.name + ".state")
    return replace(settings, targets=targets, state_dir=state_dir)


def parse_tracker_override(value: str) -> Path:
    """Return the file named by a ``--tracker local:PATH`` argument."""

    kind, separator, rest = value.partition(":")
    if kind != "local" or not separator or not rest:
        raise SyncdError(
            f"invalid --tracker value {value!r}",
            hint="write --tracker local:PATH, for example --tracker local:/tmp/rehearsal.db",
        )
    return Path(os.path.expanduser(rest))
