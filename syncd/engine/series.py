"""The series model: meetings of one series in date order, and item chains across them.

Each item of each meeting gets a key. An item matched to an item of the
previous meeting (see ``syncd.engine.matching``) inherits its key, so a
reworded or reassigned item keeps its issue; that sequence of items is a
chain. Keys already known from the state file or from issue markers (an
alias: the item's fingerprint and its ordinal among identical items of the
same meeting) win over fresh keys, so the identity survives even when older
minutes are deleted.
"""

from __future__ import annotations

import datetime
import fnmatch
from dataclasses import dataclass, field, replace

from syncd.engine.identity import fingerprint, new_key
from syncd.engine.matching import OLDER_SIMILAR_WITHOUT_OWNER, Entry, pair_items
from syncd.engine.state import Occurrence
from syncd.model import Document, Item, ItemKind
from syncd.settings import Carry, SeriesPolicy, Settings

# How many meetings back an item that skipped meetings is still looked for.
RETURN_WINDOW = 12

AliasKey = tuple[str, str, int]


@dataclass
class Sighting:
    """One item as listed in one meeting."""

    document: Document
    item: Item
    meeting_index: int
    match: (
        str | None
    )  # why it continues the chain ("same text"), None for a chain's start
    # True for an item of a file that could not be read this run, taken from
    # what the file listed when it was last read.
    ghost: bool = False


@dataclass
class Chain:
    """One action item across the meetings of a series, under one key."""

    key: str
    series: str
    sightings: list[Sighting] = field(default_factory=list)

    @property
    def first(self) -> Sighting:
        return self.sightings[0]

    @property
    def last(self) -> Sighting:
        return self.sightings[-1]

    @property
    def done(self) -> bool:
        return self.last.item.done


@dataclass
class SeriesWalk:
    """The chains of one series and the meetings they were read from."""

    series: str
    policy: SeriesPolicy
    meetings: list[Document]
    failed: list[Document]
    chains: dict[str, Chain]
    aliases: dict[AliasKey, str]

    def aliases_of(self, key: str) -> list[list]:
        """Return the ``[fingerprint, ordinal]`` pairs the walk gave ``key``, sorted."""

        if not hasattr(self, "_aliases_by_key"):
            index: dict[str, list[list]] = {}
            for (_, value, ordinal), owner in self.aliases.items():
                index.setdefault(owner, []).append([value, ordinal])
            self._aliases_by_key = {k: sorted(v) for k, v in index.items()}
        return self._aliases_by_key.get(key, [])

    def open_chains(self) -> set[str]:
        """Return the keys of items that are still open according to the minutes."""

        open_keys = set()
        newest = len(self.meetings)
        window = max(1, self.policy.missing_meetings)
        for key, chain in self.chains.items():
            if chain.done:
                continue
            if (
                self.policy.carry is Carry.FORWARD
                and chain.last.meeting_index < newest - window
            ):
                continue
            open_keys.add(key)
        return open_keys


def _adopt_orphan_issues(
    chains, aliases, known_keys, open_issue_titles, person_closed_titles
) -> None:
    """Give new chains the key of an issue no chain claimed, when they match it.

    With a lost state file and an unreadable or deleted earlier meeting, a
    reworded item cannot be linked through the meetings, but its open
    issue's title still names the same work (often the same URL). An issue a
    person closed is a candidate too, but only on a shared URL or the same
    text: otherwise the item would get a second issue while the person's
    close of the first is left alone.
    """

    new_keys = [key for key in chains if key not in known_keys]
    candidates = dict(person_closed_titles)
    candidates.update(open_issue_titles)
    orphans = [
        (key, title)
        for key, title in sorted(candidates.items())
        if key not in chains
    ]
    if not new_keys or not orphans:
        return
    older = [Entry(title, ()) for _, title in orphans]
    aliases_by_key: dict[str, list] = {}
    for alias, key in aliases.items():
        aliases_by_key.setdefault(key, []).append(alias)
    newer = [Entry(chains[key].first.item.text, ()) for key in new_keys]
    for pairing in pair_items(older, newer):
        # A shared URL or the same text is evidence enough; similar words
        # alone must be very similar, since the owners are not known here.
        if (
            pairing.reason.startswith("similar")
            and pairing.score < 1.0 + OLDER_SIMILAR_WITHOUT_OWNER
        ):
            continue
        old_key, new_key_ = orphans[pairing.older][0], new_keys[pairing.newer]
        if old_key not in open_issue_titles and pairing.reason.startswith("similar"):
            continue
        chain = chains.pop(new_key_)
        chain.key = old_key
        which = "open" if old_key in open_issue_titles else "person-closed"
        chain.first.match = f"{pairing.reason} as the {which} issue"
        chains[old_key] = chain
        for alias in aliases_by_key.pop(new_key_, ()):
            aliases[alias] = old_key


class _AnyOf:
    """Membership in any of several collections, without building their union."""

    def __init__(self, *collections) -> None:
        self.collections = collections

    def __contains__(self, value: object) -> bool:
        return any(value in collection for collection in self.collections)


def policy_for(series: str, settings: Settings) -> SeriesPolicy:
    for rule in settings.series:
        if fnmatch.fnmatchcase(series, rule.match):
            return rule.policy
    return settings.default_policy


def target_for(series: str, settings: Settings) -> str | None:
    for route in settings.routes:
        if fnmatch.fnmatchcase(series, route.series):
            return route.target
    if settings.default_target:
        return settings.default_target
    if len(settings.targets) == 1:
        return settings.targets[0].name
    return None


def meeting_order(document: Document) -> tuple:
    date = document.meeting.date or datetime.date.min
    return (date, document.path)


def ghost_meeting(
    document: Document, known: list | tuple
) -> tuple[Document, list[str]] | None:
    """Return a stand-in for an unreadable file, built from what it last listed, and its keys."""

    if not known:
        return None
    ordered = sorted(known, key=lambda entry: entry[1].line)
    date = document.meeting.date
    if date is None and ordered[0][1].date:
        date = datetime.date.fromisoformat(ordered[0][1].date)
    items = [
        Item(
            o.line,
            o.line,
            tuple(o.owners),
            ItemKind.TASK if o.owners else ItemKind.UNOWNED,
            o.text or "",
        )
        for _, o in ordered
    ]
    ghost = Document(
        path=document.path,
        meeting=replace(document.meeting, date=date),
        items=items,
        source=document.source,
    )
    return ghost, [key for key, _ in ordered]


def eligible_items(document: Document, policy: SeriesPolicy) -> list[Item]:
    if policy.since is not None and policy.carry is Carry.ACCUMULATE:
        date = document.meeting.date
        if date is not None and date < policy.since:
            return []
    return [
        item
        for item in document.items
        if item.kind is ItemKind.TASK or policy.unowned_items
    ]


def walk_series(
    series: str,
    documents: list[Document],
    policy: SeriesPolicy,
    known_aliases: dict[AliasKey, str],
    taken_keys: set[str],
    *,
    earlier_versions: dict[str, list[tuple[str, Occurrence]]] | None = None,
    open_issue_titles: dict[str, str] | None = None,
    person_closed_titles: dict[str, str] | None = None,
) -> SeriesWalk:
    """Walk the meetings of one series in date order and build its chains.

    ``known_aliases`` come from the state file and issue markers.
    ``taken_keys`` are keys already in use anywhere; new keys avoid them.
    ``earlier_versions`` maps a file path to the items (key and occurrence)
    it listed when it was last synced. ``open_issue_titles`` are the titles
    of the series' open managed issues by key.

    A file that cannot be read takes part with what it listed when it was
    last read (a ghost meeting), so the items on both sides of it still link
    up; the plan never closes anything because of it.
    """

    earlier_versions = earlier_versions or {}
    known_keys = set(taken_keys)
    failed = [d for d in documents if d.failed]
    ghosts = {}
    for document in failed:
        ghost = ghost_meeting(document, earlier_versions.get(document.path, ()))
        if ghost is not None:
            ghosts[id(ghost[0])] = ghost[1]
            documents = [*documents, ghost[0]]
    meetings = sorted((d for d in documents if not d.failed), key=meeting_order)
    chains: dict[str, Chain] = {}
    aliases: dict[AliasKey, str] = {}
    previous: list[tuple[str, Entry]] = []
    # The keys each meeting listed, and the order chains were started in.
    keys_seen_at: list[set[str]] = []
    chain_order: dict[str, int] = {}
    last_entry: dict[str, Entry] = {}

    for index, document in enumerate(meetings):
        items = (
            document.items
            if id(document) in ghosts
            else eligible_items(document, policy)
        )
        entries = [Entry(item.text, item.owners) for item in items]
        keys: list[str | None] = [None] * len(items)
        reasons: list[str | None] = [None] * len(items)
        claimed: set[str] = set()

        # Ordinals tell identical items of one meeting apart.
        prints = [fingerprint(series, item.text) for item in items]
        ordinals = []
        seen_count: dict[str, int] = {}
        for value in prints:
            ordinals.append(seen_count.get(value, 0))
            seen_count[value] = ordinals[-1] + 1

        def takes_open_issue(older_key: str, item: Item) -> bool:
            # With carry: accumulate an earlier item stays open until it is
            # marked done, so a similar item that is not a tick of it is a
            # new task and must not take over the open item's issue.
            if policy.carry is not Carry.ACCUMULATE or item.done:
                return False
            chain = chains.get(older_key)
            return chain is not None and not chain.done

        def assign(position: int, key: str, reason: str | None) -> None:
            keys[position] = key
            reasons[position] = reason
            claimed.add(key)

        # 0. A ghost meeting's items keep the keys they had when last read.
        for position, key in enumerate(ghosts.get(id(document), ())):
            if key not in claimed:
                assign(position, key, "last read content")

        # 1. The same text as an item of the previous meeting.
        older_entries = [entry for _, entry in previous]
        for pairing in pair_items(older_entries, entries, exact_only=True):
            assign(pairing.newer, previous[pairing.older][0], pairing.reason)

        # 2. A fingerprint seen before under a known key (also after deleted minutes).
        for position in range(len(items)):
            if keys[position] is not None:
                continue
            alias = (series, prints[position], ordinals[position])
            known = aliases.get(alias) or known_aliases.get(alias)
            if known and known not in claimed:
                assign(
                    position, known, "same text" if known in chains else "known item"
                )

        # 3. The same file as last synced: an item corrected in place.
        earlier = [
            (key, Entry(text, owners))
            for key, occurrence in earlier_versions.get(document.path, ())
            if key not in claimed
            for text, owners in [(occurrence.text or "", occurrence.owners)]
        ]
        if earlier and any(key is None for key in keys):
            used_newer = {i for i, key in enumerate(keys) if key is not None}
            for pairing in pair_items(
                [e for _, e in earlier], entries, skip_newer=used_newer
            ):
                key = earlier[pairing.older][0]
                if key not in claimed and (
                    key not in chains or chains[key].last.meeting_index < index
                ):
                    assign(pairing.newer, key, f"edited in place, {pairing.reason}")

        # 4. Shared URLs or similar text with the previous meeting.
        used_older = {i for i, (key, _) in enumerate(previous) if key in claimed}
        used_newer = {i for i, key in enumerate(keys) if key is not None}
        for pairing in pair_items(
            older_entries, entries, skip_older=used_older, skip_newer=used_newer
        ):
            older_key = previous[pairing.older][0]
            if takes_open_issue(older_key, items[pairing.newer]):
                continue
            assign(pairing.newer, older_key, pairing.reason)

        # 5. An item that skipped meetings: chains that ended recently, stricter.
        # Only the meetings inside the window are looked at, not every chain.
        returning = sorted(
            (
                chains[key]
                for seen_at in range(max(0, index - RETURN_WINDOW), index - 1)
                for key in keys_seen_at[seen_at]
                if key not in claimed and chains[key].last.meeting_index == seen_at
            ),
            key=lambda chain: chain_order[chain.key],
        )
        if returning and any(key is None for key in keys):
            returning_entries = [last_entry[c.key] for c in returning]
            used_newer = {i for i, key in enumerate(keys) if key is not None}
            for pairing in pair_items(
                returning_entries, entries, strict=True, skip_newer=used_newer
            ):
                older_key = returning[pairing.older].key
                if takes_open_issue(older_key, items[pairing.newer]):
                    continue
                assign(pairing.newer, older_key, pairing.reason)

        # 6. Everything else starts a new chain.
        for position in range(len(items)):
            if keys[position] is None:
                key = new_key(
                    series, items[position].text, _AnyOf(taken_keys, chains, claimed)
                )
                assign(position, key, None)

        current: list[tuple[str, Entry]] = []
        for position, item in enumerate(items):
            key = keys[position]
            assert key is not None
            chain = chains.get(key)
            if chain is None:
                chain = chains[key] = Chain(key=key, series=series)
                chain_order[key] = len(chain_order)
            ghost = id(document) in ghosts
            chain.sightings.append(
                Sighting(document, item, index, reasons[position], ghost=ghost)
            )
            aliases[(series, prints[position], ordinals[position])] = key
            current.append((key, entries[position]))
            last_entry[key] = entries[position]
        keys_seen_at.append({key for key, _ in current})
        taken_keys.update(keys_seen_at[-1])
        previous = current

    _adopt_orphan_issues(
        chains,
        aliases,
        known_keys,
        open_issue_titles or {},
        person_closed_titles or {},
    )
    return SeriesWalk(
        series=series,
        policy=policy,
        meetings=meetings,
        failed=failed,
        chains=chains,
        aliases=aliases,
    )
