"""Matching of action items between meetings of one series.

A meeting's list is usually the previous meeting's list, edited: items are
kept, reworded, reassigned, split and dropped. Each item of the newer meeting
is paired with at most one item of the older one, best pairs first:

1. the same normalised text (``same text``),
2. a shared issue or pull-request URL, ranked by how similar the rest of the
   text is (``same URL``),
3. similar text by rapidfuzz, with a shared owner lowering the threshold
   (``similar 0.91``).

Two items that name URLs but no URL in common are never paired, however alike
their words are: ``Approve pull/288`` and ``Approve pull/173`` are two tasks.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from functools import cached_property

from rapidfuzz import fuzz, process

from syncd.engine.identity import item_urls, normalize_text, text_without_urls

# Similarity (0..1) two texts need to match without a shared URL. A shared
# owner is evidence that the item is the same one, so it lowers the bar.
# NOTE: chosen on one real copied-forward series of 52 meetings, where 0.80
# linked the most hand-labelled pairs and made the fewest false links.
# Other series may need other values.
SIMILAR_WITH_OWNER = 0.80
SIMILAR_WITHOUT_OWNER = 0.88
# A text that contains the other's words whole scores this share of a match.
SUBSET_DISCOUNT = 0.9
SUBSET_MIN_WORDS = 3
# Share of the shorter text's characters that its shared words must cover
# before a token-set ratio can pass; below it the ratio is not computed.
SUBSET_SHARE = 0.7
# Matching an item against an older meeting than the previous one (an item
# that skipped meetings) needs a higher score, because more unrelated items compete.
OLDER_SIMILAR_WITH_OWNER = 0.86
OLDER_SIMILAR_WITHOUT_OWNER = 0.93
# Unpaired remainders up to this many pairs are compared whole for similar
# text (in rapidfuzz's C loop); larger ones go through a trigram index and
# keep this many candidates per newer item.
FUZZY_FULL_LIMIT = 50_000
FUZZY_CANDIDATES = 16


@dataclass(frozen=True)
class Entry:
    """One item prepared for matching: its text forms, URLs and owner tokens."""

    text: str
    owners: tuple[str, ...]
    normalized: str = field(init=False)
    bare: str = field(init=False)
    urls: frozenset[str] = field(init=False)
    owner_set: frozenset[str] = field(init=False)

    @cached_property
    def words(self) -> frozenset[str]:
        return frozenset(self.bare.split())

    @cached_property
    def word_count(self) -> int:
        return len(self.bare.split())

    @cached_property
    def sorted_words(self) -> str:
        return " ".join(sorted(self.bare.split()))

    @cached_property
    def trigrams(self) -> frozenset[str]:
        padded = f"  {self.bare} "
        return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))

    def __post_init__(self) -> None:
        object.__setattr__(self, "normalized", normalize_text(self.text))
        object.__setattr__(self, "bare", text_without_urls(self.text))
        object.__setattr__(self, "urls", item_urls(self.text))
        object.__setattr__(
            self, "owner_set", frozenset(o.casefold() for o in self.owners)
        )


@dataclass(frozen=True)
class Pairing:
    """An older item (by index) paired with a newer one, and why."""

    older: int
    newer: int
    score: float
    reason: str


def similarity(left: str, right: str) -> float:
    """Return how alike two normalised texts are, from 0 to 1.

    An item extended or cut by a few words (``Write the guide`` and ``Write
    the guide chapter two``) counts as alike through rapidfuzz's token-set
    ratio, discounted and only for texts of three words or more, so one
    common word alone never makes two items alike.
    """

    if not left or not right:
        return 0.0
    score = max(fuzz.ratio(left, right), fuzz.token_sort_ratio(left, right))
    if min(len(left.split()), len(right.split())) >= SUBSET_MIN_WORDS:
        score = max(score, SUBSET_DISCOUNT * fuzz.token_set_ratio(left, right))
    return score / 100.0


def score_pair(
    older: Entry, newer: Entry, *, strict: bool = False
) -> tuple[float, str] | None:
    """Return the score and reason for pairing two items, or None when they differ."""

    shared_owner = bool(older.owner_set & newer.owner_set)
    owner_bonus = 0.05 if shared_owner else 0.0

    if older.normalized == newer.normalized:
        return 3.0 + owner_bonus, "same text"

    if older.urls and newer.urls:
        shared = older.urls & newer.urls
        if not shared:
            return None
        overlap = len(shared) / len(older.urls | newer.urls)
        words = similarity(older.bare, newer.bare)
        if strict and words < 0.5 and not shared_owner:
            return None
        return 2.0 + overlap / 2 + words / 2 + owner_bonus, "same URL"

    words = similarity(older.bare, newer.bare)
    if strict:
        threshold = (
            OLDER_SIMILAR_WITH_OWNER if shared_owner else OLDER_SIMILAR_WITHOUT_OWNER
        )
    else:
        threshold = SIMILAR_WITH_OWNER if shared_owner else SIMILAR_WITHOUT_OWNER
    if words < threshold:
        return None
    return 1.0 + words + owner_bonus, f"similar {words:.2f}"


def _all_similar_pairs(
    older: list[Entry],
    newer: list[Entry],
    older_left: list[int],
    newer_left: list[int],
    strict: bool,
) -> list[tuple[int, int]]:
    """Return every pair that one of the scores behind ``similarity`` could pass.

    Each score runs in rapidfuzz's C loop over the whole remainder, the
    token-sort ratio as a plain ratio of texts whose words were sorted once.
    """

    floor = 100 * (OLDER_SIMILAR_WITH_OWNER if strict else SIMILAR_WITH_OWNER)
    plain = [older[i].bare for i in older_left]
    sorted_words = [older[i].sorted_words for i in older_left]
    # The token-set ratio counts only between texts of three words or more,
    # and it passes the floor only when the words the two texts share make
    # up most of one of them (or as the token-sort ratio does, checked
    # above), so it is computed only for pairs whose shared words do.
    by_word: dict[str, list[int]] = {}
    for position, older_index in enumerate(older_left):
        if older[older_index].word_count >= SUBSET_MIN_WORDS:
            for word in older[older_index].words:
                by_word.setdefault(word, []).append(position)

    lengths = [len(text) for text in plain]
    common_limit = max(8, len(older_left) // 2)

    pairs = []
    for newer_index in newer_left:
        entry = newer[newer_index]
        if not entry.bare:
            continue
        found: set[int] = set()
        for query, choices in ((entry.bare, plain), (entry.sorted_words, sorted_words)):
            for _, _, position in process.extract(
                query, choices, scorer=fuzz.ratio, score_cutoff=floor, limit=None
            ):
                found.add(position)
        if entry.word_count >= SUBSET_MIN_WORDS:
            # Words most older texts contain ("the", "on") are counted as
            # shared with every candidate, which only lets more pairs through,
            # and are not walked item by item.
            shared: dict[int, int] = {}
            common_chars = 0
            for word in entry.words:
                holders = by_word.get(word, ())
                if len(holders) > common_limit:
                    common_chars += len(word) + 1
                    continue
                for position in holders:
                    shared[position] = shared.get(position, 0) + len(word) + 1
            own_length = len(entry.bare)
            for position, chars in shared.items():
                if position in found:
                    continue
                shorter = min(own_length, lengths[position])
                if chars + common_chars < SUBSET_SHARE * shorter:
                    continue
                if fuzz.token_set_ratio(
                    entry.bare, plain[position], score_cutoff=floor / SUBSET_DISCOUNT
                ):
                    found.add(position)
        pairs.extend((older_left[position], newer_index) for position in sorted(found))
    return pairs


def _fuzzy_candidates(
    older: list[Entry],
    newer: list[Entry],
    older_left: list[int],
    newer_left: list[int],
    strict: bool = False,
) -> list[tuple[int, int]]:
    """Return the (older, newer) pairs worth scoring by similar text.

    Up to ``FUZZY_FULL_LIMIT`` pairs, rapidfuzz's C loop keeps every pair
    that one of the three scores behind ``similarity`` could pass, so
    nothing is lost. Past it, an inverted index of character trigrams picks
    for each newer item the older items that share the most trigrams with
    it, at most ``FUZZY_CANDIDATES`` of them, so the cost stays linear in
    the items: texts 0.80 alike share most of their trigrams.
    """

    if not older_left or not newer_left:
        return []
    if len(older_left) * len(newer_left) <= FUZZY_FULL_LIMIT:
        return _all_similar_pairs(older, newer, older_left, newer_left, strict)

    index: dict[str, list[int]] = {}
    for older_index in older_left:
        for gram in older[older_index].trigrams:
            index.setdefault(gram, []).append(older_index)
    # A trigram that half the older items share says nothing about any pair.
    common = max(FUZZY_CANDIDATES, len(older_left) // 2)
    pairs = []
    for newer_index in newer_left:
        counts: dict[int, int] = {}
        for gram in newer[newer_index].trigrams:
            holders = index.get(gram)
            if holders is None or len(holders) > common:
                continue
            for older_index in holders:
                counts[older_index] = counts.get(older_index, 0) + 1
        best = heapq.nlargest(
            FUZZY_CANDIDATES, counts.items(), key=lambda entry: (entry[1], -entry[0])
        )
        pairs.extend((older_index, newer_index) for older_index, _ in best)
    return pairs


def _greedy(candidates: list[Pairing], used_older: set[int], used_newer: set[int]):
    # Prefer the pair whose positions in the two lists are closest when scores
    # tie: copied-forward lists keep their order.
    candidates.sort(key=lambda p: (-p.score, abs(p.older - p.newer), p.newer, p.older))
    pairings = []
    for pairing in candidates:
        if pairing.older in used_older or pairing.newer in used_newer:
            continue
        used_older.add(pairing.older)
        used_newer.add(pairing.newer)
        pairings.append(pairing)
    return pairings


def pair_items(
    older: list[Entry],
    newer: list[Entry],
    *,
    strict: bool = False,
    skip_older: set[int] | frozenset[int] = frozenset(),
    skip_newer: set[int] | frozenset[int] = frozenset(),
    exact_only: bool = False,
) -> list[Pairing]:
    """Pair items one to one, best score first; ties go to the closest positions.

    The greedy order keeps the result deterministic and puts exact matches
    ahead of URL matches ahead of fuzzy ones, so a split item keeps its issue
    on the successor that resembles it most.

    No step compares every older item with every newer one: equal texts and
    shared URLs are found through dictionaries, and similar texts are looked
    for only among the items still unpaired after that, through a trigram
    index (``_fuzzy_candidates``). With ``exact_only`` only equal texts pair.
    """

    older_left = [i for i in range(len(older)) if i not in skip_older]
    newer_left = [i for i in range(len(newer)) if i not in skip_newer]

    by_text: dict[str, list[int]] = {}
    by_url: dict[str, list[int]] = {}
    for older_index in older_left:
        entry = older[older_index]
        by_text.setdefault(entry.normalized, []).append(older_index)
        for url in entry.urls:
            by_url.setdefault(url, []).append(older_index)

    candidates: list[Pairing] = []
    for newer_index in newer_left:
        entry = newer[newer_index]
        related = set(by_text.get(entry.normalized, ()))
        if not exact_only:
            for url in entry.urls:
                related.update(by_url.get(url, ()))
        for older_index in related:
            scored = score_pair(older[older_index], entry, strict=strict)
            if scored is None:
                continue
            if exact_only and scored[1] != "same text":
                continue
            candidates.append(Pairing(older_index, newer_index, *scored))

    used_older: set[int] = set()
    used_newer: set[int] = set()
    pairings = _greedy(candidates, used_older, used_newer)

    if not exact_only:
        # Similar text, only for what is still unpaired. Two items that both
        # name URLs were settled above: with none in common they never pair.
        older_rest = [i for i in older_left if i not in used_older]
        newer_rest = [i for i in newer_left if i not in used_newer]
        fuzzy: list[Pairing] = []
        for older_index, newer_index in _fuzzy_candidates(
            older, newer, older_rest, newer_rest, strict
        ):
            old_entry, new_entry = older[older_index], newer[newer_index]
            if old_entry.urls and new_entry.urls:
                continue
            scored = score_pair(old_entry, new_entry, strict=strict)
            if scored is not None:
                fuzzy.append(Pairing(older_index, newer_index, *scored))
        pairings.extend(_greedy(fuzzy, used_older, used_newer))

    pairings.sort(key=lambda p: p.newer)
    return pairings
