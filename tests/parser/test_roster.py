"""Owner tokens resolved to people and groups, never guessed."""

from __future__ import annotations

import pytest

from syncd.errors import ConfigError
from syncd.model import Group, Person
from syncd.roster import Roster, derived_initials, load_roster

PEOPLE = [
    Person("Ștefana Ionescu", aliases=("SI", "Stefi"), github="stefi-i", gitlab="sionescu"),
    Person("Kim Lund", aliases=("KL",), github="klund"),
    Person("Kai Lee", aliases=("Kai",), github="kailee"),
]
GROUPS = [
    Group("Everyone", aliases=("all",), label="everyone"),
    Group("core", members=("Kim Lund", "Kai Lee")),
]


def test_aliases_match_without_case_or_diacritics():
    roster = Roster(PEOPLE, GROUPS)

    for token in ("SI", "si", "stefi", "STEFI", "Ștefana Ionescu", "stefana ionescu"):
        assert roster.resolve(token).person.github == "stefi-i", token


def test_tracker_logins_and_handles_resolve():
    roster = Roster(PEOPLE, GROUPS)

    assert roster.resolve("@klund").person.name == "Kim Lund"
    assert roster.resolve("sionescu").person.name == "Ștefana Ionescu"


def test_group_words_resolve_to_groups():
    roster = Roster(PEOPLE, GROUPS)

    assert roster.resolve("all").group.label == "everyone"
    assert roster.resolve("Core").group.members == ("Kim Lund", "Kai Lee")


def test_unknown_token_is_reported_not_guessed():
    resolved = Roster(PEOPLE, GROUPS).resolve("ZZ")

    assert resolved.person is None
    assert resolved.group is None
    assert "unknown" in resolved.reason


def test_alias_shared_by_two_people_is_ambiguous():
    roster = Roster([Person("Kim Lund", aliases=("K",)), Person("Kai Lee", aliases=("K",))])

    resolved = roster.resolve("k")

    assert resolved.person is None
    assert "ambiguous" in resolved.reason
    assert "Kai Lee" in resolved.reason


@pytest.mark.parametrize(
    "name, initials",
    [("RăzvanD", "RD"), ("Răzvan Deaconescu", "RD"), ("PaulU", "PU"), ("Ana", "A"), ("Jean-Luc Picard", "JLP")],
)
def test_derived_initials(name, initials):
    assert derived_initials(name) == initials


def test_initials_derived_from_participants_when_unambiguous():
    roster = Roster([Person("ȘtefanaI", github="stefi-i"), Person("KimL", github="klund")])

    assert roster.resolve("SI", participants=["ȘtefanaI", "KimL"]).person.github == "stefi-i"
    assert roster.resolve("KL", participants=["ȘtefanaI", "KimL"]).person.github == "klund"


def test_initials_two_participants_share_are_ambiguous():
    roster = Roster([Person("KimL"), Person("KaiL")])

    resolved = roster.resolve("KL", participants=["KimL", "KaiL"])

    assert resolved.person is None
    assert "ambiguous" in resolved.reason


def test_participant_outside_roster_reported():
    resolved = Roster().resolve("BO", participants=["BenO"])

    assert resolved.person is None
    assert "not in the roster" in resolved.reason


def test_roster_alias_wins_over_participant_initials():
    roster = Roster([Person("Kim Lund", aliases=("KL",), github="klund"), Person("KaiL")])

    assert roster.resolve("KL", participants=["KaiL"]).person.github == "klund"


def test_load_roster_reads_both_layouts(tmp_path):
    path = tmp_path / "people.yaml"
    path.write_text(
        "people:\n"
        "  - name: Kim Lund\n"
        "    aliases: [KL, Kimmy]\n"
        "    github: klund\n"
        "    gitlab: kim.lund\n"
        "groups:\n"
        "  - name: Everyone\n"
        "    aliases: [all]\n"
        "    label: everyone\n"
        "  - name: core\n"
        "    members: [Kim Lund]\n",
        encoding="utf-8",
    )

    people, groups = load_roster(path)

    assert people == [Person("Kim Lund", ("KL", "Kimmy"), "klund", "kim.lund")]
    assert groups[1].members == ("Kim Lund",)

    mapping = tmp_path / "short.yaml"
    mapping.write_text("people:\n  Kim Lund: klund\n  Kai Lee:\n    aliases: [Kai]\n", encoding="utf-8")
    people, _ = load_roster(mapping)
    assert people[0].github == "klund"
    assert people[1].aliases == ("Kai",)


def test_roster_errors_name_file_line_and_key(tmp_path):
    path = tmp_path / "people.yaml"
    path.write_text(
        "people:\n"
        "  - name: Kim Lund\n"
        "    githb: klund\n"
        "  - aliases: [X]\n"
        "groups:\n"
        "  - name: core\n"
        "    members: [Nobody]\n",
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as raised:
        load_roster(path)

    found = {(problem.line, problem.key_path) for problem in raised.value.problems}
    assert found == {(3, "people.0.githb"), (4, "people.1"), (7, "groups.0.members.0")}


def test_roster_yaml_error_names_line(tmp_path):
    path = tmp_path / "people.yaml"
    path.write_text("people:\n  - name: A\n  - name: B\n    name: C\n", encoding="utf-8")

    with pytest.raises(ConfigError) as raised:
        load_roster(path)

    assert raised.value.problems[0].line == 4
