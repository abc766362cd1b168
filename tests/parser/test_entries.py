"""Entries inside an action section, one dialect feature at a time."""

from __future__ import annotations

from tests.parser.helpers import owners_by_line, parse, rows


def section(body: str, title: str = "## Action items") -> str:
    return f"{title}\n{body}"


# -- colon owners ---------------------------------------------------------------


def test_colon_owner_prefix_removed_from_text():
    document = parse(section("JM: Review [the *draft*](https://example.org/d).\n"))

    assert rows(document) == [
        (2, 2, ["JM"], "task", "Review [the *draft*](https://example.org/d).", False)
    ]


def test_several_owners_joined_every_way():
    body = "JM/PT: a\n\nJM + PT: b\n\nJM, PT & AB: c\n\nJM and PT: d\n\nMS / TeoTi: e\n"

    assert owners_by_line(parse(section(body))) == {
        2: ["JM", "PT"],
        4: ["JM", "PT"],
        6: ["JM", "PT", "AB"],
        8: ["JM", "PT"],
        10: ["MS", "TeoTi"],
    }


def test_prefixed_lines_split_a_paragraph():
    body = "JM: first\nPT: second\nwrapped onto a second line\nAB: third\n"

    assert [(line, end) for line, end, *_ in rows(parse(section(body)))] == [(2, 2), (3, 4), (5, 5)]


def test_multi_word_prefix_is_unowned():
    body = "Booking meeting: https://example.org/1\n\nAdd Kim as reviewer: https://example.org/2\n"

    document = parse(section(body))

    assert [(item.owners, item.kind.value) for item in document.items] == [
        ((), "unowned"),
        ((), "unowned"),
    ]
    assert document.items[0].text == "Booking meeting: https://example.org/1"


def test_only_the_first_colon_is_the_prefix():
    document = parse(section("JM: Ping PT, AB: about https://example.org/x\n"))

    assert document.items[0].owners == ("JM",)
    assert document.items[0].text == "Ping PT, AB: about https://example.org/x"


def test_parenthesis_after_the_owners_is_task_text():
    document = parse(section("JM (ask legal): Check the licence.\n"))

    assert document.items[0].owners == ("JM",)
    assert document.items[0].text.startswith("(ask legal)")


def test_owner_only_line_owns_next_list():
    body = "JM (within two weeks):\n1. Draft the plan.\n2. Share it.\n\nPT: Separate task.\n"

    assert rows(parse(section(body))) == [
        (3, 3, ["JM"], "task", "Draft the plan.", False),
        (4, 4, ["JM"], "task", "Share it.", False),
        (6, 6, ["PT"], "task", "Separate task.", False),
    ]


def test_owner_without_task_is_skipped():
    assert parse(section("JM:\n\nPT: \n\nAB\n")).items == []


def test_adjacent_list_continues_entry():
    body = "JM: Approve these:\n- https://example.org/1\n- https://example.org/2\n\nPT: Next.\n"

    document = parse(section(body))

    assert [(item.line, item.end_line, item.owners) for item in document.items] == [
        (2, 4, ("JM",)),
        (6, 6, ("PT",)),
    ]
    assert "https://example.org/2" in document.items[0].context


def test_prefixed_bullets_are_own_tasks():
    body = "JM: https://example.org/1\n- JM: One remark.\n- PT: Another remark.\n"

    assert owners_by_line(parse(section(body))) == {2: ["JM"], 3: ["JM"], 4: ["PT"]}


def test_nested_bullets_join_parent_unless_owned():
    body = "- JM: Plan the move.\n  - pack the books\n    - and the maps\n  - PT: Rent the van.\n"

    document = parse(section(body))

    assert [(item.line, item.end_line, item.owners) for item in document.items] == [
        (2, 4, ("JM",)),
        (5, 5, ("PT",)),
    ]
    assert "pack the books" in document.items[0].context


def test_table_under_entry_is_context():
    body = (
        "- Define the roles, e.g.:\n"
        "\n"
        "| role | meaning |\n"
        "| --- | --- |\n"
        "| lead | decides |\n"
        "\n"
        "JM: Next thing.\n"
    )

    document = parse(section(body))

    assert [(item.line, item.end_line) for item in document.items] == [(2, 6), (8, 8)]
    assert "| lead | decides |" in document.items[0].context


def test_indented_code_under_entry_stays_code():
    body = (
        "KM: Look into the failed import.\n"
        "\n"
        "    ERROR row 1 *rejected*: col_a\n"
        "      at line 2 # not a heading\n"
        "\n"
        "- RD: Check the fenced one.\n"
        "\n"
        "    ```text\n"
        "    a  b\n"
        "    ```\n"
        "\n"
        "- LP: One with backticks.\n"
        "\n"
        "        ```not a fence``` here\n"
    )

    document = parse(section(body))

    assert [item.context for item in document.items] == [
        "```\nERROR row 1 *rejected*: col_a\n  at line 2 # not a heading\n```",
        "```text\na  b\n```",
        "````\n```not a fence``` here\n````",
    ]


def test_long_pasted_log_kept_whole():
    log = "\n".join(f"line {index:05d} of the crash log" for index in range(3300))
    body = f"- JM: Look at this crash.\n\n  ```\n" + "\n".join(
        "  " + line for line in log.split("\n")
    ) + "\n  ```\n"

    document = parse(section(body), max_bytes=10_000_000)

    [item] = document.items
    assert len(item.context) > 90_000
    assert "line 03299 of the crash log" in item.context
    # Heading, entry, blank line, opening fence, the log, closing fence.
    assert item.end_line == 4 + 3300 + 1


# -- placeholders, notes, unowned ----------------------------------------------


def test_placeholders_are_not_items():
    body = "* TODO\n* TBD\n* TO FILL\n* -\n* \n"

    assert parse(section(body)).items == []


def test_todo_owner_placeholder_is_unowned():
    document = parse(section("TODO: Find an owner for the backup job.\n\nTODO JM: Rotate keys.\n"))

    assert [(item.owners, item.text) for item in document.items] == [
        ((), "Find an owner for the backup job."),
        (("JM",), "Rotate keys."),
    ]


def test_placeholder_then_real_owner():
    document = parse(section("ToDo: Everyone: Test the release.\n"))

    assert document.items[0].owners == ("Everyone",)
    assert document.items[0].text == "Test the release."


def test_note_prefixes_are_not_items():
    body = "Next meeting: Tuesday.\n\nNext time: Talk about the budget.\n\nLong term: A new site.\n"

    assert parse(section(body)).items == []


def test_unowned_entries_are_reported_as_unowned():
    document = parse(section("We will pick a date later.\n\nDropping the old API.\n"))

    assert [(item.owners, item.kind.value) for item in document.items] == [
        ((), "unowned"),
        ((), "unowned"),
    ]


# -- Name to / Name will, handles -------------------------------------------------


def test_name_to_and_will_owners():
    body = "- Kim to book the room.\n- Kim and Lee will bring snacks.\n- Ana/Bo to review.\n"

    assert owners_by_line(parse(section(body))) == {
        2: ["Kim"],
        3: ["Kim", "Lee"],
        4: ["Ana", "Bo"],
    }


def test_pronouns_and_verbs_not_owners():
    body = "- We will meet again.\n- Reach out to Kim.\n- Punt to the next call.\n- Need to decide.\n"

    assert all(item.owners == () for item in parse(section(body)).items)


def test_hedged_names_are_not_owners():
    document = parse(section("- Kim, Lee, hopefully Bo and Cy, maybe others, will sort it out.\n"))

    assert document.items[0].owners == ("Kim", "Lee")


def test_handles_and_pseudo_handles():
    body = (
        "- [ ] @kim-l to cut the release\n"
        "- [ ] @Tom D to review the guide\n"
        "- [ ] Write the summary @Ana B\n"
        "- [ ] Help @kim-l with the notes\n"
    )

    assert owners_by_line(parse(section(body), dialect="ember")) == {
        2: ["@kim-l"],
        3: ["@Tom D"],
        4: ["@Ana B"],
        5: [],
    }


def test_handle_alone_owns_children():
    body = (
        "- [ ] @kim-l\n"
        "    - [ ] Draft the proposal\n"
        "        - [ ] try a prototype first\n"
        "    - [ ] @decorator notes\n"
        "- [ ] @Tom D\n"
        "    - [ ] Merge the branch\n"
    )

    document = parse(section(body), dialect="ember")

    assert [(item.line, item.end_line, item.owners) for item in document.items] == [
        (3, 4, ("@kim-l",)),
        (5, 5, ("@kim-l",)),
        (7, 7, ("@Tom D",)),
    ]


def test_handle_starting_a_task_names_its_owner():
    body = (
        "- [x] @rdunne delete the old announce channel\n"
        "- [ ] **@kmoller** update the rota\n"
        "- [ ] @kmoller to check the pager\n"
        "- @bo said the release is fine\n"
        "- [ ] @lee\n"
        "    - [ ] @tracked support in the guide\n"
    )

    document = parse(section(body))

    assert [(item.line, item.owners, item.text, item.done) for item in document.items] == [
        (2, ("@rdunne",), "delete the old announce channel", True),
        (3, ("@kmoller",), "update the rota", False),
        (4, ("@kmoller",), "@kmoller to check the pager", False),
        (5, (), "@bo said the release is fine", False),
        (7, ("@lee",), "@tracked support in the guide", False),
    ]


def test_task_box_handles_can_be_turned_off():
    # Ember minutes start tasks with decorators ("@tracked"), so its preset
    # reads a leading handle as an owner only before to or will.
    document = parse(section("- [ ] @tracked support in the guide (@Tom D)\n"), dialect="ember")

    assert [item.owners for item in document.items] == [("@Tom D",)]


# -- parentheses -------------------------------------------------------------------


def test_leading_parenthesis_or_brackets_name_the_owner():
    body = "* (Kim) Open the issue.\n* [KL] Dig out the old thread.\n* [link](https://x.org) stays text\n"

    document = parse(section(body), dialect="conda")

    assert [(item.owners, item.text) for item in document.items] == [
        (("Kim",), "Open the issue."),
        (("KL",), "Dig out the old thread."),
        ((), "[link](https://x.org) stays text"),
    ]


def test_trailing_parenthesis_names_the_owner_without_hedges():
    body = (
        "- [ ] Ask the vendor about pricing (Kim)\n"
        "- [ ] Talk to the designers (Ana / Bo / Cy)\n"
        "- [ ] Write the guide (Jo, maybe with help from Lee?)\n"
        "- [ ] Check the flag (feature flag?) first (lee)\n"
        "- [ ] Remove the helper (Kim to respond.)\n"
        "- [ ] Rename `thing` (done)\n"
    )

    assert owners_by_line(parse(section(body), dialect="ember")) == {
        2: ["Kim"],
        3: ["Ana", "Bo", "Cy"],
        4: ["Jo"],
        5: ["lee"],
        6: ["Kim"],
        7: [],
    }


# -- done -------------------------------------------------------------------------


def test_done_markers():
    body = (
        "- [x] Kim to book the room.\n"
        "- [X] Lee to bring cables.\n"
        "- [ ] Ana to call.\n"
        "- ~~Bo to email the list.~~\n"
        "- ~~B~~~~o to split the strike~~ [~~like this~~](https://x.org) ~~too~~\n"
        "- Cy to fix the door (done)\n"
        "- Cy to fix the window DONE\n"
        "- Cy to fix the roof, not done yet\n"
        "- ~~Cy~~ to fix the floor\n"
    )

    document = parse(section(body), dialect="rust-lang-team")

    assert [item.done for item in document.items] == [
        True, True, False, True, True, True, True, False, False,
    ]
    assert document.items[4].owners == ("Bo",)


def test_dialect_where_ticked_boxes_mean_discussed():
    document = parse(section("* [x] (KL) Sort the archive.\n"), dialect="conda")

    assert document.items[0].done is False
    assert document.items[0].owners == ("KL",)


# -- inline markers and bare titles ----------------------------------------------------


def test_inline_markers_found_anywhere():
    data = (
        "## Release\n"
        "\n"
        "* Kim: we should ship on Friday.\n"
        "* Action: Lee to tag the release.\n"
        "* Long discussion about dates\n"
        "  **Action item:** Ana will write the notes\n"
        "  and send them round.\n"
        "\n"
        "ACTION ITEM for Bo: Update the calendar.\n"
        "\n"
        "Action item for Cy: Fix the build.\n"
        "\n"
        "* Action, everyone should vote.\n"
        "* AI-assisted review was approved.\n"
        "* AI: Kim to draft the policy.\n"
    )

    document = parse(data, dialect="nodejs-tsc")

    assert [(item.line, item.end_line, item.owners) for item in document.items] == [
        (4, 4, ("Lee",)),
        (6, 7, ("Ana",)),
        (9, 9, ("Bo",)),
        (11, 11, ("Cy",)),
        (13, 13, ()),
        (15, 15, ("Kim",)),
    ]
    assert document.items[2].text == "Update the calendar."


def test_inline_markers_in_any_case_and_across_comments():
    data = (
        "## Release\n"
        "\n"
        "Plain talk without the word.\n"
        "\n"
        "* acTION: Lee to tag the release.\n"
        "* Act<!-- a note -->ion: Kim to write the notes.\n"
        "* Nothing here either.\n"
    )

    document = parse(data, dialect="nodejs-tsc")

    assert [(item.line, item.owners) for item in document.items] == [(5, ("Lee",)), (6, ("Kim",))]


def test_short_upper_case_marker_counts_only_as_written():
    # Each paragraph is its own block, so the quick check that skips blocks
    # without a marker word checks each spelling alone.
    data = "## Notes\n\nAi: Kim to go.\n\nai: Lee to go.\n\nAI: Bo to go.\n\nACTION: Cy to go.\n"

    document = parse(data, dialect="nodejs-tsc")

    assert [(item.line, item.owners) for item in document.items] == [(7, ("Bo",)), (9, ("Cy",))]


def test_inline_markers_off_by_default():
    assert parse("## Notes\nAction: Kim to go.\n").items == []


def test_bare_title_line_opens_section():
    data = "## Topic\n\nActions:\n\n* Kim to test the patch.\n* Lee will review.\n\n## Next\n* Bo to x\n"

    assert owners_by_line(parse(data, dialect="nodejs-tsc")) == {5: ["Kim"], 6: ["Lee"]}
    assert parse(data).items == []


def test_last_meeting_copy_is_skipped():
    data = (
        "## Previous meetings\n"
        "### Last meeting\n"
        "#### Action items\n"
        "* (KL) Old task.\n"
        "## Action items\n"
        "* (KL) Current task.\n"
    )

    assert owners_by_line(parse(data, dialect="conda")) == {6: ["KL"]}


def test_stop_word_initials_stay_owners():
    body = "AS: Sort the mail.\n\nAT/IN: Tidy the shelf.\n\nAs: not initials\n"

    assert owners_by_line(parse(section(body))) == {2: ["AS"], 4: ["AT", "IN"], 6: []}


def test_email_address_is_not_a_handle():
    document = parse(section("- [ ] Check who reads security@example.org\n"), dialect="ember")

    assert document.items[0].owners == ()


def test_code_spans_never_name_an_owner():
    body = "- [ ] Add a modifier `<div {{(helper)}}>` soon\n- [ ] Drop the hook (`mount()` in `Route`)\n"

    assert [item.owners for item in parse(section(body), dialect="ember").items] == [(), ()]
