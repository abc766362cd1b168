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

from dataclasses import dataclass, field

from rapidfuzz import fuzz

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
# Matching an item against an older meeting than the previous one (an item
# that skipped meetings) needs a higher score, because more unrelated items compete.
OLDER_SIMILAR_WITH_OWNER = 0.86
OLDER_SIMILAR_WITHOUT_OWNER = 0.93


@dataclass(frozen=True)
class Entry:
    """One item prepared for matching: its text forms, URLs and owner tokens."""

    text: str
    owners: tuple[str, ...]
    normalized: str = field(init=False)
    bare: str = field(init=False)
    urls: frozenset[str] = field(init=False)
    owner_set: frozenset[str] = field(init=False)

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


def pair_items(
    older: list[Entry],
    newer: list[Entry],
    *,
    strict: bool = False,
    skip_older: set[int] | frozenset[int] = frozenset(),
    skip_newer: set[int] | frozenset[int] = frozenset(),
) -> list[Pairing]:
    """Pair items one to one, best score first; ties go to the earlier items.

    The greedy order keeps the result deterministic and puts exact matches
    ahead of URL matches ahead of fuzzy ones, so a split item keeps its issue
    on the successor that resembles it most.
    """

    candidates: list[Pairing] = []
    for newer_index, new_entry in enumerate(newer):
        if newer_index in skip_newer:
            continue
        for older_index, old_entry in enumerate(older):
            if older_index in skip_older:
                continue
            scored = score_pair(old_entry, new_entry, strict=strict)
            if scored is None:
                continue
            score, reason = scored
            candidates.append(Pairing(older_index, newer_index, score, reason))

    # Prefer the pair whose positions in the two lists are closest when scores
    # tie: copied-forward lists keep their order.
    candidates.sort(key=lambda p: (-p.score, abs(p.older - p.newer), p.newer, p.older))
    used_older: set[int] = set()
    used_newer: set[int] = set()
    pairings = []
    for pairing in candidates:
        if pairing.older in used_older or pairing.newer in used_newer:
            continue
        used_older.add(pairing.older)
        used_newer.add(pairing.newer)
        pairings.append(pairing)
    pairings.sort(key=lambda p: p.newer)
    return pairings
