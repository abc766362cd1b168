"""Config loading: schema checks with locations, overrides and path resolution."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from syncd.config import (
    find_config,
    load_config,
    override_source,
    override_trackers,
    parse_tracker_override,
    schema_key_paths,
)
from syncd.errors import ConfigError, SyncdError
from syncd.settings import Carry, ReopenPolicy

PROJECT_ROOT = Path(__file__).resolve().parent.parent

MINIMAL = """\
sources:
  minutes:
    root: minutes
targets:
  main:
    kind: local
    path: tracker.db
"""


def write_config(folder: Path, text: str, name: str = "syncd.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path) -> list:
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    return raised.value.problems


def test_minimal_config_loads(tmp_path):
    settings = load_config(write_config(tmp_path, MINIMAL))

    assert [source.name for source in settings.sources] == ["minutes"]
    assert settings.sources[0].kind == "folder"
    assert settings.default_target == "main"
    assert settings.labels.managed == "syncd"


def test_relative_paths_resolve_against_config_folder(tmp_path, monkeypatch):
    folder = tmp_path / "etc"
    folder.mkdir()
    config = write_config(folder, MINIMAL + "state_dir: state\n")
    monkeypatch.chdir(tmp_path)

    settings = load_config(Path("etc") / "syncd.yaml")

    assert settings.sources[0].root == folder / "minutes"
    assert settings.targets[0].options["path"] == str(folder / "tracker.db")
    assert settings.state_dir == folder / "state"
    assert config.exists()


def test_unknown_key_suggests_close_match(tmp_path):
    path = write_config(tmp_path, MINIMAL + "gaurds:\n  max_close: 3\n")

    [problem] = problems_of(path)

    assert problem.key_path == "gaurds"
    assert problem.line == 8
    assert "did you mean 'guards'" in problem.message
    assert problem.path == str(path)


def test_nested_unknown_key_has_key_path(tmp_path):
    path = write_config(
        tmp_path,
        """\
        sources:
          minutes:
            root: minutes
            inclde: ["*.md"]
        targets:
          main:
            kind: local
            path: tracker.db
        """,
    )

    [problem] = problems_of(path)

    assert problem.key_path == "sources.minutes.inclde"
    assert problem.line == 4
    assert "did you mean 'include'" in problem.message


def test_every_problem_reported_at_once(tmp_path):
    path = write_config(
        tmp_path,
        MINIMAL + textwrap.dedent("""\
            guards:
              max_close: lots
              max_close_fraction: 2
            series:
              - match: "*"
                carry: sideways
                since: last spring
            labels:
              color: green
            """),
    )

    problems = {problem.key_path: problem for problem in problems_of(path)}

    assert set(problems) == {
        "guards.max_close",
        "guards.max_close_fraction",
        "series[0].carry",
        "series[0].since",
        "labels.color",
    }
    assert problems["guards.max_close"].line == 9
    assert "'lots'" in problems["guards.max_close"].message
    assert problems["series[0].carry"].line == 13
    assert "forward, accumulate" in problems["series[0].carry"].message
    assert "YYYY-MM-DD" in problems["series[0].since"].message


def test_problem_text_names_file_line_and_key(tmp_path):
    path = write_config(tmp_path, MINIMAL + "guards:\n  max_close: -1\n")

    [problem] = problems_of(path)

    assert str(problem) == f"{path}:9: guards.max_close: must be at least 0, not -1"


def test_unknown_create_wait_is_read_in_seconds(tmp_path):
    path = write_config(tmp_path, MINIMAL + "guards:\n  unknown_create_wait: 90\n")

    assert load_config(path).guards.unknown_create_wait == 90.0


def test_negative_unknown_create_wait_is_rejected(tmp_path):
    path = write_config(tmp_path, MINIMAL + "guards:\n  unknown_create_wait: -5\n")

    [problem] = problems_of(path)

    assert problem.key_path == "guards.unknown_create_wait"
    assert problem.line == 9
    assert "must be at least 0, not -5" in problem.message


@pytest.mark.parametrize("word", ["null", "none", "off", "None"])
def test_pacing_cap_switched_off_by_word(tmp_path, word):
    path = write_config(tmp_path, MINIMAL + f"pacing:\n  writes_per_minute: {word}\n")

    assert load_config(path).pacing.writes_per_minute is None


def test_duplicate_key_is_error_with_line(tmp_path):
    path = write_config(tmp_path, MINIMAL + "state_dir: a\nstate_dir: b\n")

    [problem] = problems_of(path)

    assert problem.line == 9
    assert "duplicate key 'state_dir'" in problem.message


def test_tab_indentation_has_hint(tmp_path):
    path = tmp_path / "syncd.yaml"
    path.write_text("sources:\n\tminutes:\n\t\troot: x\n", encoding="utf-8")

    [problem] = problems_of(path)

    assert problem.line == 2
    assert "tabs are not allowed" in problem.message


def test_duplicates_and_schema_problems_together(tmp_path):
    text = (
        "sources:\n"
        "  minutes:\n"
        "    root: minutes\n"
        "    root: other\n"
        "targets:\n"
        "  main:\n"
        "    kind: local\n"
        "    path: tracker.db\n"
        "    colour: blue\n"
        "state_dir: a\n"
        "state_dir: b\n"
        "gaurds: {}\n"
    )
    path = write_config(tmp_path, text)

    problems = problems_of(path)

    by_line = {problem.line: problem for problem in problems}
    assert len(problems) == 4
    assert "duplicate key 'root'" in by_line[4].message
    assert by_line[4].key_path == "sources.minutes.root"
    assert "duplicate key 'state_dir'" in by_line[11].message
    assert by_line[11].key_path == "state_dir"
    assert by_line[9].key_path == "targets.main.colour"
    assert by_line[12].key_path == "gaurds"


def test_duplicate_key_keeps_first_value(tmp_path):
    text = MINIMAL + "state_dir: first\nstate_dir: second\ngaurds: {}\n"
    path = write_config(tmp_path, text)

    problems = problems_of(path)

    assert [problem.line for problem in problems] == [9, 10]


def test_tab_error_says_fix_first(tmp_path):
    path = tmp_path / "syncd.yaml"
    path.write_text("sources:\n\tminutes:\n\t\troot: x\n", encoding="utf-8")

    [problem] = problems_of(path)

    assert "fix this first; other problems may be hidden" in problem.message


def test_yaml_loader_still_raises_by_default():
    from syncd.yamltext import YamlError, load_yaml

    with pytest.raises(YamlError) as raised:
        load_yaml("a: 1\na: 2\n")

    assert raised.value.line == 2


def test_yaml_loader_collects_duplicates():
    from syncd.yamltext import load_yaml

    found = []
    document = load_yaml("a: 1\nb:\n  c: x\n  c: y\na: 2\n", collect_duplicates=found)

    assert document.data == {"a": "1", "b": {"c": "x"}}
    assert [(entry.line, entry.key_path) for entry in found] == [
        (4, ("b", "c")),
        (5, ("a",)),
    ]


def test_empty_config_is_error(tmp_path):
    path = write_config(tmp_path, "# nothing yet\n")

    [problem] = problems_of(path)

    assert "empty" in problem.message


def test_missing_sources_and_targets(tmp_path):
    path = write_config(tmp_path, "state_dir: state\n")

    keys = {problem.key_path for problem in problems_of(path)}

    assert keys == {"sources", "targets"}


def test_missing_file_is_config_error(tmp_path):
    [problem] = problems_of(tmp_path / "absent.yaml")

    assert problem.message == "config file not found"


def test_scalars_keep_their_text(tmp_path):
    path = write_config(
        tmp_path,
        MINIMAL + textwrap.dedent("""\
            people:
              - name: Nils Olsen
                aliases: [NO, on]
                github: "0123"
            """),
    )

    settings = load_config(path)

    assert settings.people[0].aliases == ("NO", "on")
    assert settings.people[0].github == "0123"


def test_policies_and_rules(tmp_path):
    path = write_config(
        tmp_path,
        MINIMAL + textwrap.dedent("""\
            policy:
              carry: accumulate
              reopen: never
            series:
              - match: "discussions/*"
                carry: forward
                missing_meetings: 2
                since: 2022-01-01
                unowned_items: no
                dialect: unikraft
            """),
    )

    settings = load_config(path)
    [rule] = settings.series

    assert settings.default_policy.carry is Carry.ACCUMULATE
    assert settings.default_policy.reopen is ReopenPolicy.NEVER
    assert rule.policy.carry is Carry.FORWARD
    assert rule.policy.missing_meetings == 2
    assert rule.policy.since.isoformat() == "2022-01-01"
    assert rule.policy.unowned_items is False
    # A rule starts from the default policy and overrides what it names.
    assert rule.policy.reopen is ReopenPolicy.NEVER
    assert rule.dialect == "unikraft"


@pytest.mark.parametrize(
    ("source", "key_path", "fragment"),
    [
        ("kind: git\n    branch: main", "sources.minutes", "needs url"),
        (
            "kind: http\n    url: ftp://example.invalid/x.md",
            "sources.minutes.url",
            "http://",
        ),
        (
            "kind: folder\n    root: m\n    url: https://example.invalid",
            "sources.minutes.url",
            "only git",
        ),
        ("kind: svn\n    root: m", "sources.minutes.kind", "folder, git, http"),
        ("root: m\n    include: [/etc/*.md]", "sources.minutes.include[0]", "relative"),
        (
            "root: m\n    web_url: https://example.invalid/{path}",
            "sources.minutes.web_url",
            "{line}",
        ),
        (
            "root: m\n    max_file_bytes: 0",
            "sources.minutes.max_file_bytes",
            "at least 1",
        ),
    ],
)
def test_source_problems(tmp_path, source, key_path, fragment):
    path = write_config(
        tmp_path,
        f"sources:\n  minutes:\n    {source}\ntargets:\n  main:\n    kind: local\n    path: t.db\n",
    )

    problems = problems_of(path)

    assert [problem.key_path for problem in problems] == [key_path]
    assert fragment in problems[0].message


def test_git_and_http_sources_load(tmp_path):
    path = write_config(
        tmp_path,
        """\
        sources:
          notes:
            kind: git
            url: https://git.example.invalid/team/notes.git
            branch: main
            web_url: https://git.example.invalid/team/notes/blob/{revision}/{path}#L{line}
          export:
            kind: http
            url: https://wiki.example.invalid/minutes.md
        targets:
          main:
            kind: local
            path: t.db
        """,
    )

    settings = load_config(path)

    assert [source.kind for source in settings.sources] == ["git", "http"]
    assert settings.sources[0].branch == "main"
    assert settings.sources[0].root is None


def test_unknown_tracker_kind(tmp_path):
    path = write_config(
        tmp_path, "sources:\n  m:\n    root: m\ntargets:\n  main:\n    kind: jira\n"
    )

    [problem] = problems_of(path)

    assert problem.key_path == "targets.main.kind"
    assert "unknown tracker kind 'jira'" in problem.message


def test_local_target_options_checked(tmp_path):
    path = write_config(
        tmp_path,
        "sources:\n  m:\n    root: m\ntargets:\n  main:\n    kind: local\n    pth: t.db\n",
    )

    keys = sorted(problem.key_path for problem in problems_of(path))

    assert keys == ["targets.main.path", "targets.main.pth"]


def test_route_to_unknown_target(tmp_path):
    path = write_config(
        tmp_path,
        MINIMAL + "routes:\n  - series: 'ops/*'\n    target: mian\n",
    )

    [problem] = problems_of(path)

    assert problem.key_path == "routes[0].target"
    assert problem.line == 10
    assert "did you mean 'main'" in problem.message


def test_several_targets_need_default_or_routes(tmp_path):
    path = write_config(
        tmp_path,
        MINIMAL + "  other:\n    kind: local\n    path: other.db\n",
    )

    [problem] = problems_of(path)

    assert problem.key_path == "default_target"


def test_group_members_must_be_people(tmp_path):
    path = write_config(
        tmp_path,
        MINIMAL
        + "people:\n  - name: Ana\ngroups:\n  - name: core\n    members: [Ana, Bob]\n",
    )

    [problem] = problems_of(path)

    assert problem.key_path == "groups.0.members.1"
    assert "'Bob'" in problem.message


def test_people_file_is_read(tmp_path):
    (tmp_path / "people.yaml").write_text(
        "people:\n  - name: Ana Lima\n    aliases: [AL]\n    github: ana-lima-example\n",
        encoding="utf-8",
    )
    path = write_config(tmp_path, MINIMAL + "people_file: people.yaml\n")

    settings = load_config(path)

    assert [person.name for person in settings.people] == ["Ana Lima"]
    assert settings.people[0].github == "ana-lima-example"


def test_missing_people_file(tmp_path):
    path = write_config(tmp_path, MINIMAL + "people_file: nobody.yaml\n")

    [problem] = problems_of(path)

    assert problem.key_path == "people_file"
    assert "not found" in problem.message


# Finding the config file.


def test_find_config_prefers_explicit(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNCD_CONFIG", str(tmp_path / "env.yaml"))

    assert find_config(tmp_path / "given.yaml") == tmp_path / "given.yaml"


def test_find_config_uses_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNCD_CONFIG", str(tmp_path / "env.yaml"))

    assert find_config(None, cwd=tmp_path) == tmp_path / "env.yaml"


def test_find_config_uses_working_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SYNCD_CONFIG", raising=False)
    write_config(tmp_path, MINIMAL)

    assert find_config(None, cwd=tmp_path) == tmp_path / "syncd.yaml"


def test_find_config_reports_every_place(tmp_path, monkeypatch):
    monkeypatch.delenv("SYNCD_CONFIG", raising=False)
    monkeypatch.setattr("syncd.config.SYSTEM_CONFIG", tmp_path / "etc" / "syncd.yaml")

    with pytest.raises(ConfigError) as raised:
        find_config(None, cwd=tmp_path)

    message = raised.value.problems[0].message
    assert "--config" in message
    assert "SYNCD_CONFIG" in message


# Overrides.


def test_override_source_replaces_root(tmp_path):
    settings = load_config(write_config(tmp_path, MINIMAL))

    replaced = override_source(settings, tmp_path / "checkout")

    assert replaced.sources[0].root == tmp_path / "checkout"
    assert replaced.sources[0].include == settings.sources[0].include


def test_override_source_turns_git_into_folder(tmp_path):
    settings = load_config(
        write_config(
            tmp_path,
            "sources:\n  m:\n    kind: git\n    url: https://git.example.invalid/n.git\n"
            "targets:\n  t:\n    kind: local\n    path: t.db\n",
        )
    )

    replaced = override_source(settings, tmp_path)

    assert replaced.sources[0].kind == "folder"
    assert replaced.sources[0].url is None


def test_override_source_rejects_several_sources(tmp_path):
    settings = load_config(
        write_config(
            tmp_path,
            MINIMAL.replace(
                "    root: minutes\n", "    root: a\n  more:\n    root: b\n"
            ),
        )
    )

    with pytest.raises(SyncdError) as raised:
        override_source(settings, tmp_path)

    assert "2 sources" in str(raised.value)


def test_override_trackers_moves_targets_and_state(tmp_path):
    settings = load_config(
        write_config(
            tmp_path,
            MINIMAL.replace(
                "kind: local\n    path: tracker.db", "kind: github\n    repo: acme/ops"
            ),
        )
    )

    replaced = override_trackers(settings, tmp_path / "rehearsal.db")

    [target] = replaced.targets
    assert target.kind == "local"
    assert target.name == "main"
    assert target.options == {"path": str(tmp_path / "rehearsal.db"), "project": "main"}
    assert replaced.state_dir == tmp_path / "rehearsal.db.state"


@pytest.mark.parametrize("value", ["github:x", "local:", "local", "/tmp/x.db"])
def test_tracker_override_syntax(value):
    with pytest.raises(SyncdError):
        parse_tracker_override(value)


# Shipped configs and the reference.


@pytest.mark.parametrize("name", ["example.yaml", "unikraft.yaml"])
def test_shipped_configs_load(name):
    settings = load_config(PROJECT_ROOT / "config" / name)

    assert settings.sources
    assert settings.targets


def test_reference_lists_every_key():
    reference = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([^`]+)` \|", reference, flags=re.MULTILINE))

    schema = set(schema_key_paths())

    assert schema - documented == set(), "keys missing from docs/configuration.md"
    assert {
        key for key in documented - schema if not key.startswith("targets.<name>.")
    } == set()


def test_adapter_option_typo_suggests_option(tmp_path):
    path = write_config(
        tmp_path,
        "sources:\n  m:\n    root: m\ntargets:\n  gh:\n    kind: github\n"
        "    repo: acme/ops\n    token_evn: OPS_TOKEN\n",
    )

    problems = {problem.key_path: problem for problem in problems_of(path)}

    assert "did you mean 'token_env'" in problems["targets.gh.token_evn"].message
    assert problems["targets.gh.token_evn"].line == 8


def test_unknown_dialect_suggests_bundled(tmp_path):
    path = write_config(
        tmp_path,
        MINIMAL.replace(
            "    root: minutes\n", "    root: minutes\n    dialect: unikraf\n"
        ),
    )

    [problem] = problems_of(path)

    assert problem.key_path == "sources.minutes.dialect"
    assert problem.line == 4
    assert "did you mean 'unikraft'" in problem.message


def test_dialect_file_problem_keeps_its_location(tmp_path):
    (tmp_path / "ours.yaml").write_text(
        "section_titles: [todos]\nno_such_setting: 1\n", encoding="utf-8"
    )
    path = write_config(
        tmp_path,
        MINIMAL.replace(
            "    root: minutes\n", "    root: minutes\n    dialect: ours.yaml\n"
        ),
    )

    [problem] = problems_of(path)

    assert problem.key_path == "sources.minutes.dialect"
    assert f"{tmp_path / 'ours.yaml'}:2" in problem.message


def test_empty_folder_root_is_error(tmp_path):
    path = write_config(tmp_path, MINIMAL.replace("root: minutes", "root:"))

    [problem] = problems_of(path)

    assert problem.key_path == "sources.minutes"
    assert "needs root" in problem.message


def test_local_git_url_resolves_against_config(tmp_path):
    path = write_config(
        tmp_path,
        "sources:\n  m:\n    kind: git\n    url: ../notes.git\n"
        "targets:\n  t:\n    kind: local\n    path: t.db\n",
    )

    settings = load_config(path)

    assert settings.sources[0].url == str(tmp_path.parent / "notes.git")
