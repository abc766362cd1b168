"""Check a tracker's issues against the items a generated series left open.

The checks use only what a person could see on the tracker (titles, bodies,
states, markers) and the generator's own record of which items are open, so
they do not trust the engine's bookkeeping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from syncd.marker import marker_key
from syncd.tracker import Issue, IssueState

_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    return _SPACE.sub(" ", text).strip().rstrip(".").casefold()


@dataclass
class Outcome:
    """Duplicates and losses found in one check."""

    # Issues beyond the first for one item: more than one issue (open or
    # closed) showing the item's text, or one marker key on several open
    # issues. Each extra issue counts once.
    duplicates: int = 0
    # Open items without an open issue showing their text.
    lost: int = 0
    # Open issues whose text matches no open item.
    stale_open: int = 0
    duplicate_details: list[str] = field(default_factory=list)
    lost_details: list[str] = field(default_factory=list)
    duplicate_numbers: set[int] = field(default_factory=set)

    @property
    def details(self) -> list[str]:
        return self.duplicate_details + self.lost_details


def check_issues(issues: list[Issue], open_items: tuple[tuple[int, str], ...]) -> Outcome:
    """Compare ``issues`` with ``open_items``, the (serial, text) pairs still open."""

    outcome = Outcome()
    searchable = [(issue, normalize(f"{issue.title}\n{issue.body}")) for issue in issues]
    extra_numbers: set[int] = set()
    matched_open: set[int] = set()

    for serial, text in open_items:
        wanted = normalize(text)
        showing = sorted(
            (issue for issue, haystack in searchable if wanted in haystack),
            key=lambda issue: issue.number,
        )
        if len(showing) > 1:
            extra_numbers.update(issue.number for issue in showing[1:])
            numbers = ", ".join(f"#{issue.number}" for issue in showing)
            outcome.duplicate_details.append(
                f"item {serial} has {len(showing)} issues: {numbers}"
            )
        open_showing = [issue for issue in showing if issue.state is IssueState.OPEN]
        if not open_showing:
            outcome.lost += 1
            outcome.lost_details.append(f"item {serial} has no open issue: {text!r}")
        matched_open.update(issue.number for issue in open_showing)

    by_key: dict[str, list[int]] = {}
    for issue in issues:
        key = marker_key(issue.body)
        if key is not None and issue.state is IssueState.OPEN:
            by_key.setdefault(key, []).append(issue.number)
    for key, numbers in by_key.items():
        if len(numbers) > 1:
            extra_numbers.update(sorted(numbers)[1:])
            outcome.duplicate_details.append(
                f"marker key {key} is on {len(numbers)} open issues"
            )

    outcome.duplicate_numbers = extra_numbers
    outcome.duplicates = len(extra_numbers)
    outcome.stale_open = sum(
        1
        for issue in issues
        if issue.state is IssueState.OPEN and issue.number not in matched_open
    )
    return outcome
