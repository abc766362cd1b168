"""Item identity, matching between meetings, and issue rendering."""

from __future__ import annotations

import unicodedata

import pytest

from syncd.engine.identity import fingerprint, item_urls, new_key, normalize_text
from syncd.engine.matching import Entry, pair_items
from syncd.engine.render import (
    BLOCK_BEGIN,
    BLOCK_END,
    neutralize_mentions,
    render_title,
    split_body,
    truncate_graphemes,
)


def test_normalize_folds_case_space_and_form():
    decomposed = unicodedata.normalize("NFD", "Ștefan: Review  the   **PR**.")
    assert normalize_text(decomposed) == normalize_text("ștefan: review the pr")


def test_fingerprint_ignores_location_but_not_series():
    assert fingerprint("ops", "Delete the channel.") == fingerprint(
        "ops", "delete the  channel"
    )
    assert fingerprint("ops", "Delete the channel.") != fingerprint(
        "infra", "Delete the channel."
    )


def test_new_key_avoids_taken_keys():
    base = fingerprint("ops", "Send the reminder.")
    assert new_key("ops", "Send the reminder.", set()) == base
    assert new_key("ops", "Send the reminder.", {base}) == f"{base}-2"
    assert new_key("ops", "Send the reminder.", {base, f"{base}-2"}) == f"{base}-3"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Review https://github.com/acme/ops/pull/12.", {"acme/ops/pull/12"}),
        ("See https://gitlab.com/acme/infra/-/merge_requests/7", {"acme/infra/pull/7"}),
        (
            "Track https://github.com/acme/ops/issues/3#issuecomment-1",
            {"acme/ops/issues/3"},
        ),
        ("Read https://example.org/docs/?page=2", {"example.org/docs"}),
        ("No links here", set()),
    ],
)
def test_item_urls_short_forms(text, expected):
    assert item_urls(text) == frozenset(expected)


def pairs(older, newer):
    return [(p.older, p.newer, p.reason.split()[0]) for p in pair_items(older, newer)]


def test_matching_prefers_exact_then_url_then_similar():
    older = [
        Entry("Update the rota.", ("KM",)),
        Entry("Review https://example.org/acme/ops/pull/5", ("RD",)),
        Entry("Schedule discussion on runtime and tooling.", ("RD",)),
    ]
    newer = [
        Entry("Schedule discussion on runtime.", ("RD",)),
        Entry("Approve https://example.org/acme/ops/pull/5", ("LP",)),
        Entry("Update the rota.", ("NH",)),
    ]
    assert sorted(pairs(older, newer)) == [
        (0, 2, "same"),
        (1, 1, "same"),
        (2, 0, "similar"),
    ]
    reasons = {p.newer: p.reason for p in pair_items(older, newer)}
    assert reasons[1] == "same URL"
    assert reasons[0].startswith("similar 0.")


def test_different_urls_never_match():
    older = [Entry("Approve https://example.org/acme/ops/pull/288", ("RD",))]
    newer = [Entry("Approve https://example.org/acme/ops/pull/173", ("RD",))]
    assert pair_items(older, newer) == []


def test_split_item_keeps_issue_on_closest_successor():
    older = [Entry("Find someone to review https://example.org/a/b/pull/65", ("RD",))]
    newer = [
        Entry("Update https://example.org/a/b/pull/65", ("MR",)),
        Entry("Review https://example.org/a/b/pull/65", ("CC",)),
    ]
    assert [(p.older, p.newer) for p in pair_items(older, newer)] == [(0, 1)]


def test_unrelated_items_stay_apart():
    older = [Entry("Look into tests for the frame allocator.", ("FP",))]
    newer = [Entry("Look into using openat() in the loader.", ("FP",))]
    assert pair_items(older, newer) == []


def test_identical_items_pair_in_order():
    older = [Entry("Send the reminder.", ("RD",)), Entry("Send the reminder.", ("RD",))]
    newer = [Entry("Send the reminder.", ("RD",)), Entry("Send the reminder.", ("RD",))]
    assert [(p.older, p.newer) for p in pair_items(older, newer)] == [(0, 0), (1, 1)]


def test_truncate_keeps_grapheme_clusters():
    family = "👨‍👩‍👧"
    text = "a" + family * 5
    cut = truncate_graphemes(text, 1 + len(family) * 2 + 1)
    assert cut == "a" + family * 2 + "…"
    accent = "e\u0301" * 10
    assert truncate_graphemes(accent, 6) == "e\u0301" * 2 + "…"
    assert truncate_graphemes("short", 10) == "short"


def test_title_is_one_line_with_link_text():
    assert (
        render_title("Read [the guide](https://example.org)\n  today", 256)
        == "Read the guide today"
    )
    assert len(render_title("x" * 400, 256)) == 256


def test_mentions_neutralised_outside_code():
    text = "Ask @alice, mail bob@example.org, keep `@carol` and ``@dave``."
    result = neutralize_mentions(text)
    assert "@&#8203;alice" in result
    assert "bob@example.org" in result
    assert "`@carol`" in result
    assert "``@dave``" in result


def test_split_body_keeps_people_text():
    body = f"<!-- syncd:v1 eyJrZXkiOiJrIn0= -->\nabove\n{BLOCK_BEGIN}\nmanaged\n{BLOCK_END}\nbelow"
    parts = split_body(body)
    assert parts.marker == "<!-- syncd:v1 eyJrZXkiOiJrIn0= -->"
    assert parts.prefix == "above\n"
    assert parts.block == f"{BLOCK_BEGIN}\nmanaged\n{BLOCK_END}"
    assert parts.suffix == "\nbelow"
    assert parts.join("<!-- new -->", "NEW") == "<!-- new -->\nabove\nNEWbelow".replace(
        "NEWbelow", "NEW\nbelow"
    )


def test_split_body_without_block():
    parts = split_body("written by a person")
    assert parts.marker is None
    assert parts.block is None
    assert parts.prefix == "written by a person"
