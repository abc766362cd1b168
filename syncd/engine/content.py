"""What an item's issue should contain: title, managed block, assignees and labels.

Owners are resolved through the roster. Only resolved people with an account
on the tracker that may be assigned there are assigned; any other owner is
named in the body, and the plan carries a warning for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from syncd.engine.render import (
    BODY_MARGIN,
    BlockContent,
    OwnerLine,
    Sighting,
    block_hash,
    neutralize_mentions,
    render_block,
    render_marker,
    render_title,
)
from syncd.engine.series import Chain
from syncd.model import Document, ResolvedOwner
from syncd.settings import Settings

# Marker aliases kept per issue: enough to recognise an item's recent wordings.
MARKER_ALIASES = 20


@dataclass(frozen=True)
class DesiredIssue:
    title: str
    block: str
    assignees: tuple[str, ...]
    labels: tuple[str, ...]
    quoted_text: str
    warnings: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class MarkerPayload:
    payload: dict
    marker: str


def account_for(person, tracker_kind: str) -> str | None:
    """Return the person's login on a tracker of ``tracker_kind``."""

    if tracker_kind == "github":
        return person.github
    if tracker_kind == "gitlab":
        return person.gitlab
    # The embedded tracker and third-party kinds take whichever login is known.
    return person.github or person.gitlab


def resolve_token(roster, token: str, document: Document) -> ResolvedOwner:
    """Resolve one owner token with the roster, passing the meeting's participants."""

    if roster is None:
        return ResolvedOwner(token=token, reason="no roster configured")
    return roster.resolve(token, participants=document.meeting.participants)


def resolve_owners(
    tokens: tuple[str, ...],
    document: Document,
    *,
    roster,
    tracker_kind: str,
    can_assign: Callable[[str], bool],
) -> tuple[list[OwnerLine], list[str], list[str], list[str]]:
    """Return owner lines for the body, accounts to assign, labels to add and warnings."""

    lines: list[OwnerLine] = []
    assignees: list[str] = []
    labels: list[str] = []
    warnings: list[str] = []

    def person_line(token: str, person) -> OwnerLine:
        account = account_for(person, tracker_kind)
        if account is None:
            return OwnerLine(
                token, person.name, f"no {tracker_kind} account in the roster"
            )
        if not can_assign(account):
            warnings.append(
                f"owner {token} ({account}) cannot be assigned on this tracker; the issue names them instead"
            )
            return OwnerLine(
                token, f"{person.name} (@{account})", "cannot be assigned here"
            )
        assignees.append(account)
        return OwnerLine(token, f"{person.name} (@{account})")

    for token in tokens:
        resolved = resolve_token(roster, token, document)
        if resolved.person is not None:
            lines.append(person_line(token, resolved.person))
        elif resolved.group is not None:
            group = resolved.group
            if group.label:
                labels.append(group.label)
                lines.append(
                    OwnerLine(token, f"group {group.name}, label {group.label}")
                )
            members = []
            for member in group.members:
                member_resolved = resolve_token(roster, member, document)
                if member_resolved.person is not None:
                    members.append(person_line(member, member_resolved.person))
            if group.members:
                names = (
                    ", ".join(line.resolved or line.token for line in members)
                    or "no known members"
                )
                lines.append(OwnerLine(token, f"group {group.name}: {names}"))
            elif not group.label:
                lines.append(OwnerLine(token, f"group {group.name}"))
        else:
            reason = resolved.reason or "unknown owner"
            lines.append(OwnerLine(token, None, reason))
            warnings.append(f"owner {token} is not assigned: {reason}")
    return lines, sorted(set(assignees)), sorted(set(labels)), warnings


def sighting_link(
    document: Document, line: int, revisions: dict, new_revisions: dict
) -> str | None:
    """Return a permalink to ``line`` at the first revision this content was seen at.

    Pinning to the first revision keeps links (and so bodies) stable while the
    file is unchanged, even though the repository moves on.
    """

    template = document.source.web_url
    if not template:
        return None
    if document.content_hash:
        cache_key = (document.path, document.content_hash)
        pinned = revisions.get(cache_key) or new_revisions.get(cache_key)
        if pinned is None:
            new_revisions[cache_key] = template
        else:
            template = pinned
    return template.replace("{line}", str(line))


def desired_issue(
    chain: Chain,
    *,
    settings: Settings,
    tracker,
    roster,
    can_assign: Callable[[str], bool],
    revisions: dict,
    new_revisions: dict,
) -> DesiredIssue:
    last = chain.last
    limits = tracker.limits
    owners, assignees, group_labels, warnings = resolve_owners(
        tuple(last.item.owners),
        last.document,
        roster=roster,
        tracker_kind=getattr(tracker, "kind", ""),
        can_assign=can_assign,
    )
    history = tuple(
        Sighting(
            date=s.document.meeting.date.isoformat()
            if s.document.meeting.date
            else None,
            path=s.document.path,
            line=s.item.line,
            link=sighting_link(s.document, s.item.line, revisions, new_revisions),
        )
        for s in chain.sightings
    )
    content = BlockContent(
        text=last.item.text,
        owners=tuple(owners),
        meeting_title=last.document.meeting.title,
        latest=history[-1],
        history=history,
        context=last.item.context,
        done=last.item.done,
    )
    block = render_block(content, max(1000, limits.body - BODY_MARGIN))
    labels = sorted({settings.labels.managed, *settings.labels.extra, *group_labels})
    return DesiredIssue(
        title=render_title(last.item.text, limits.title),
        block=block,
        assignees=tuple(assignees),
        labels=tuple(labels),
        quoted_text=neutralize_mentions(last.item.text),
        warnings=tuple(warnings),
    )


def marker_payload(decision, desired: DesiredIssue, record=None) -> MarkerPayload:
    """Return the marker for an issue: its key and the values syncd synced.

    With ``record`` (an existing issue) the synced values are the record's,
    which keep the base of fields a person edited; without, the new issue's.
    """

    aliases = []
    if decision.walk is not None:
        aliases = decision.walk.aliases_of(decision.key)[-MARKER_ALIASES:]
    payload = {
        "key": decision.key,
        "series": decision.series,
        "title": record.title if record is not None else desired.title,
        "block": record.block_hash if record is not None else block_hash(desired.block),
        "assignees": list(
            record.assignees if record is not None else desired.assignees
        ),
        "labels": list(record.labels if record is not None else desired.labels),
        "aliases": aliases,
    }
    return MarkerPayload(payload=payload, marker=render_marker(payload))
