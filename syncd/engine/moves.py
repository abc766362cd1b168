"""Items whose minutes moved to another series keep their issues.

The series is the folder a file is in, and an item's fingerprint includes
the series, so renaming a series folder, or moving a file into another
series folder, makes its items look new to the walk. Without this step the
plan would open a second issue for each of them, while the old issues of
the series that vanished wait to be closed.

After every series is walked, a new chain of one series takes over a
managed issue of another series that no chain claimed, when the item's
text matches and the issue's minutes are gone from where they were: its
series has no file left, or none of the files that listed it at the last
sync is still read. While both series still list an item, neither takes
the other's issue.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from syncd.engine.matching import Entry, pair_items
from syncd.engine.series import Chain, SeriesWalk


@dataclass(frozen=True)
class OrphanIssue:
    """A managed issue that no chain of this run claimed, and whose minutes are gone.

    ``first`` and ``last`` are the item's first and last known wording with
    its owners: from the state file's occurrences, or the title in the
    issue's marker (without owners) when the state file has none.
    ``open`` is False for an issue a person closed.
    """

    key: str
    series: str
    target: str
    first: Entry
    last: Entry
    open: bool


def adopt_moved_items(
    walks: Mapping[str, SeriesWalk],
    orphans: list[OrphanIssue],
    new_keys: Collection[str],
    series_targets: Mapping[str, str | None],
) -> None:
    """Give new chains the key of a matching orphan issue of another series, in place.

    ``new_keys`` are the keys of chains that started in this run. A chain
    takes an issue only in the target its own series is routed to. Items
    are paired by their last wording first, then by their first, with the
    stricter thresholds used for items that skipped meetings, because the
    pairs come from different series. An issue a person closed is taken
    only on the same text or a shared URL, as within a series.
    """

    adopted: set[str] = set()
    for series, walk in sorted(walks.items()):
        target = series_targets.get(series)
        fresh = [key for key in walk.chains if key in new_keys]
        pool = [
            orphan
            for orphan in orphans
            if orphan.series != series and orphan.target == target
        ]
        for wording in ("last", "first"):
            pool = [orphan for orphan in pool if orphan.key not in adopted]
            fresh = [key for key in fresh if key in walk.chains]
            if not fresh or not pool:
                break
            older = [getattr(orphan, wording) for orphan in pool]
            newer = [_entry(getattr(walk.chains[key], wording)) for key in fresh]
            for pairing in pair_items(older, newer, strict=True):
                orphan = pool[pairing.older]
                if not orphan.open and pairing.reason.startswith("similar"):
                    continue
                _rekey(walk, fresh[pairing.newer], orphan, pairing.reason)
                adopted.add(orphan.key)


def _entry(sighting) -> Entry:
    return Entry(sighting.item.text, tuple(sighting.item.owners))


def _rekey(walk: SeriesWalk, new_key: str, orphan: OrphanIssue, reason: str) -> None:
    chain: Chain = walk.chains.pop(new_key)
    chain.key = orphan.key
    state = "open" if orphan.open else "person-closed"
    chain.first.match = f"{reason} as the {state} issue of series {orphan.series}"
    walk.chains[orphan.key] = chain
    for alias, key in walk.aliases.items():
        if key == new_key:
            walk.aliases[alias] = orphan.key
    # The walk caches its aliases by key on first use.
    walk.__dict__.pop("_aliases_by_key", None)
