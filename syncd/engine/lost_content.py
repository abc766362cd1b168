"""Minutes that lost their content for a reason other than a meeting decision.

A failed checkout or a half-written save can leave a minutes file with zero
bytes, only whitespace, or without the action section it had. The parser
reads such a file without errors and finds no items, so the meeting would
look as if it dropped every item, and a ``carry: forward`` series would
close them all. The engine instead takes such a file for unreadable: it gets
an error, and documents with errors close nothing.

A meeting that really drops its items keeps its action section and lists
fewer items, or none, under it. Those closes go ahead as before.

An empty file that listed nothing at the last sync is most often the next
meeting's file, created ahead of the meeting. It cannot have lost items, so
it is set aside with a warning instead: it takes no part in its series
until it lists items, and the run does not count it as failed.
"""

from __future__ import annotations

from collections.abc import Mapping

from syncd.model import Document, Problem, Severity


def lost_content_problem(document: Document, items_at_last_sync: int) -> Problem | None:
    """Return the error for a document whose content was lost, or None when it is usable.

    ``items_at_last_sync`` is how many items the state file records for the
    document's path as of the last sync. An empty or whitespace-only file
    that listed items is an error, because as the newest meeting of a series
    it would close every item of the series. A file without an action
    section is an error only when it listed items at the last sync: a file
    that never listed any may be notes without action items.
    """

    if document.failed or document.items or _is_placeholder(document, items_at_last_sync):
        # A placeholder is reported by set_aside_blank_files instead.
        return None
    advice = (
        "so no issue is closed because of it. Restore the minutes, "
        "or delete the file if it holds no meeting"
    )
    if document.blank:
        size = _blank_size(document)
        return Problem(document.path, None, f"the file {size}, {advice}")
    if document.action_sections == 0 and items_at_last_sync:
        return Problem(
            document.path,
            None,
            f"the file has no action section, but it listed {items_at_last_sync} "
            f"item{'s' if items_at_last_sync != 1 else ''} at the last sync, so no "
            "issue is closed because of it. Restore the section; if the meeting "
            "dropped every item, keep its heading with no items under it",
        )
    return None


def flag_lost_content(documents: list[Document], items_by_path: Mapping[str, int]) -> None:
    """Add an error to each document whose content was lost, in place.

    ``items_by_path`` maps a file path to the number of items the state file
    records for it as of the last sync. The error makes the document a
    failed one, so the runner counts and reports it like a parse error.
    """

    for document in documents:
        problem = lost_content_problem(document, items_by_path.get(document.path, 0))
        if problem is not None:
            document.errors.append(problem)


def set_aside_blank_files(
    documents: list[Document], items_by_path: Mapping[str, int]
) -> tuple[list[Document], list[Problem]]:
    """Split off empty files that listed nothing at the last sync.

    Returns the documents to plan with and a warning for each file set
    aside. Such a file takes no part in its series, so it cannot end or
    close anything.
    """

    usable: list[Document] = []
    warnings: list[Problem] = []
    for document in documents:
        if _is_placeholder(document, items_by_path.get(document.path, 0)):
            size = _blank_size(document)
            warnings.append(
                Problem(
                    document.path,
                    None,
                    f"the file {size}, so it is left out until it lists items",
                    Severity.WARNING,
                )
            )
        else:
            usable.append(document)
    return usable, warnings


def _is_placeholder(document: Document, items_at_last_sync: int) -> bool:
    """Return whether a document is an empty file that listed nothing at the last sync."""

    return (
        document.blank
        and not document.failed
        and not document.items
        and not items_at_last_sync
    )


def _blank_size(document: Document) -> str:
    """Describe a blank document's content for a message."""

    return "is empty" if document.content_hash == _EMPTY_SHA256 else "contains only whitespace"


# The SHA-256 of zero bytes: a file with this content hash is empty.
_EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
