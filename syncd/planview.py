"""Plan and result rendering: terraform-like text and Markdown for a pull request.

The JSON form is ``Plan.to_json`` / ``SyncResult.to_json``; this module only
turns the same data into text for people.
"""

from __future__ import annotations

from syncd.engine.changes import ACTIONS, Change, Plan
from syncd.messages import plural

SYMBOLS = {"create": "+", "update": "~", "close": "-", "reopen": "+", "comment": "#"}
VALUE_WIDTH = 60


def _short(value) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    text = " ".join(str(value).split())
    if len(text) > VALUE_WIDTH:
        text = text[: VALUE_WIDTH - 1] + "…"
    return text


def _subject(change: Change) -> str:
    if change.subject == "label":
        return f"label {change.fields['label'].after} in {change.target}"
    where = change.ref or f"new issue in {change.target}"
    if change.item is not None:
        return f"{where}: {_short(change.item.text)}"
    return where


def _change_lines(change: Change) -> list[str]:
    symbol = SYMBOLS.get(change.action, "?")
    if change.subject == "label":
        return [f"{symbol} create {_subject(change)}"]
    headline = f"{symbol} {change.action} {_subject(change)}"
    if change.action == "close" and change.close_reason is not None:
        headline = f"{symbol} close ({change.close_reason.value}) {_subject(change)}"
    lines = [headline]
    details = []
    if change.item is not None:
        details.append(f"from {change.item.path}:{change.item.line}")
    if change.match:
        details.append(f"matched: {change.match}")
    if change.reason:
        details.append(change.reason)
    if details:
        lines.append("    " + "; ".join(details))
    if change.action == "update":
        for name, field_change in change.fields.items():
            if name in ("body", "marker"):
                lines.append(f"    ~ {name} changed")
                continue
            lines.append(
                f"    ~ {name}: {_short(field_change.before)} -> {_short(field_change.after)}"
            )
    elif change.action == "create":
        for name in ("title", "assignees", "labels"):
            if name in change.fields:
                lines.append(f"    + {name}: {_short(change.fields[name].after)}")
    return lines


_COMMENTING_ACTIONS = ("close", "reopen")
_APPLIED = ("applied", "recovered")


def count_changes(changes) -> dict[str, int]:
    """Count changes by what they write: issues per action, labels and comments.

    The per-action keys count changes to issues only. ``labels`` counts label
    creations, and ``comments`` counts every comment posted: ``comment``
    changes plus the comment that a close or a reopen posts with it.
    """

    counts = {action: 0 for action in ACTIONS}
    counts["labels"] = 0
    counts["comments"] = 0
    for change in changes:
        if change.subject == "label":
            counts["labels"] += 1
            continue
        counts[change.action] = counts.get(change.action, 0) + 1
        if change.action == "comment" or (
            change.action in _COMMENTING_ACTIONS and change.comment
        ):
            counts["comments"] += 1
    return counts


def plan_summary(plan: Plan) -> dict[str, int]:
    """Return the plan's summary: the engine's counts with labels and comments apart."""

    summary = dict(plan.summary())
    summary.update(count_changes(plan.changes))
    return summary


def result_summary(result) -> dict[str, int]:
    """Return what a sync wrote, counted like ``plan_summary``.

    A close or reopen whose comment was not posted (a locked conversation)
    counts as closed or reopened, and its comment is not counted as posted.
    """

    summary = dict(result.summary())
    applied = [o for o in result.outcomes if o.status in _APPLIED]
    summary.update(count_changes([o.change for o in applied]))
    summary["comments"] -= sum(1 for o in applied if o.comment_error is not None)
    return summary


_PAST = {
    "create": "created",
    "update": "updated",
    "close": "closed",
    "reopen": "reopened",
}


def _summary_line(counts: dict[str, int], verb: str) -> str:
    if verb == "plan":
        parts = [
            plural(counts.get("create", 0), "issue") + " to create",
            *(f"{counts.get(a, 0)} to {a}" for a in ("update", "close", "reopen")),
            plural(counts.get("comments", 0), "comment") + " to post",
        ]
        if counts.get("labels"):
            parts.append(plural(counts["labels"], "label") + " to create")
    else:
        parts = [
            plural(counts.get("create", 0), "issue") + " created",
            *(f"{counts.get(a, 0)} {_PAST[a]}" for a in ("update", "close", "reopen")),
            plural(counts.get("comments", 0), "comment") + " posted",
        ]
        if counts.get("labels"):
            parts.append(plural(counts["labels"], "label") + " created")
    parts.append(f"{counts.get('unchanged', 0)} unchanged")
    if counts.get("conflict"):
        parts.append(plural(counts["conflict"], "conflict"))
    if counts.get("refused"):
        parts.append(plural(counts["refused"], "close") + " refused")
    if counts.get("failed"):
        parts.append(f"{counts['failed']} failed")
    if counts.get("pending"):
        parts.append(f"{counts['pending']} pending")
    if counts.get("warnings"):
        parts.append(plural(counts["warnings"], "warning"))
    return ("Plan: " if verb == "plan" else "Result: ") + ", ".join(parts) + "."


def _other_lines(plan: Plan) -> list[str]:
    lines = []
    for conflict in plan.conflicts:
        lines.append(
            f"! conflict {conflict['ref']}: {', '.join(conflict['fields'])} {conflict['message']}"
        )
    for refused in plan.refused:
        lines.append(f"! refused to close {refused['ref']}: {refused['reason']}")
    for note in plan.notes:
        lines.append(f"  {note['ref']}: {note['message']}")
    for target, message in sorted(plan.failed_targets.items()):
        lines.append(f"! target {target} failed: {message}")
    return lines


def _error_problems(plan: Plan) -> list[dict]:
    return [p for p in plan.problems if p.get("severity") != "warning"]


def no_change_lines(
    plan: Plan, failed_targets: dict[str, str] | None = None, failed_files: int = 0
) -> list[str]:
    """Return the sentences shown when nothing is to be written, each one true.

    "The trackers match the minutes" is true only when every target was
    compared with every file, no close was held back by a guard and the plan
    has no problem other than warnings.
    """

    failed = sorted({*plan.failed_targets, *(failed_targets or {})})
    failed_files = max(failed_files, plan.failed_documents)
    lines = []
    if failed:
        names = ", ".join(failed)
        noun = "target" if len(failed) == 1 else "targets"
        lines.append(
            f"Nothing was planned for the failed {noun} {names}: "
            "fix the error above and run again."
        )
    if plan.refused:
        count = len(plan.refused)
        closes = plural(count, "close")
        verb = "is" if count == 1 else "are"
        lines.append(
            f"No changes were made, but {closes} refused by a guard {verb} pending "
            "(see above)."
        )
    if failed_files or plan.source_failed:
        what = plural(failed_files, "file") if failed_files else "a source"
        pronoun = "their" if failed_files > 1 else "its"
        lines.append(
            f"No changes for the minutes that were read, but {what} failed and "
            f"{pronoun} items were not compared."
        )
    if plan.items_without_issue:
        count = len(plan.items_without_issue)
        verb = "has" if count == 1 else "have"
        lines.append(
            f"No changes were made, but {plural(count, 'item')} listed in the "
            f"minutes {verb} no issue because of the problems below."
        )
    elif not lines and _error_problems(plan):
        lines.append("No changes were made, but there are problems (see below).")
    if not lines:
        if plan.conflicts:
            lines.append("No changes: the trackers match the minutes, except the conflicts above.")
        else:
            lines.append("No changes: the trackers match the minutes.")
    return lines


def render_plan_text(plan: Plan, failed_files: int = 0) -> str:
    """Return the plan as text in the style of ``terraform plan``."""

    lines = []
    for change in plan.changes:
        lines.extend(_change_lines(change))
    other = _other_lines(plan)
    if other:
        if lines:
            lines.append("")
        lines.extend(other)
    if not plan.changes:
        lines.extend(no_change_lines(plan, failed_files=failed_files))
    lines.append(_summary_line(plan_summary(plan), "plan"))
    return "\n".join(lines) + "\n"


def render_result_text(result, failed_files: int = 0) -> str:
    """Return what a sync did, one line per change with its outcome."""

    lines = []
    for outcome in result.outcomes:
        change_lines = _change_lines(outcome.change)
        status = (
            ""
            if outcome.status == "applied"
            else f"  [{outcome.status}{': ' + outcome.error if outcome.error else ''}]"
        )
        if outcome.change.action == "create" and outcome.ref:
            change_lines[0] = change_lines[0].replace(
                f"new issue in {outcome.change.target}", outcome.ref
            )
        change_lines[0] += status
        lines.extend(change_lines)
        if outcome.warning:
            lines.append(f"    ! warning: {outcome.warning}")
    other = _other_lines(result.plan)
    for target, message in sorted(result.failed_targets.items()):
        if target not in result.plan.failed_targets:
            other.append(f"! target {target} failed: {message}")
    if other:
        if lines:
            lines.append("")
        lines.extend(other)
    if not result.outcomes:
        lines.extend(
            no_change_lines(result.plan, result.failed_targets, failed_files)
        )
    lines.append(_summary_line(result_summary(result), "result"))
    return "\n".join(lines) + "\n"


def _markdown_escape(text: str) -> str:
    text = " ".join(text.split())
    for character in ("|", "<", ">"):
        text = text.replace(character, "\\" + character)
    return text.replace("@", "@&#8203;")


def _bold_count(count: int, noun: str) -> str:
    return f"**{count}** {noun if count == 1 else noun + 's'}"


def render_plan_markdown(plan: Plan, failed_files: int = 0) -> str:
    """Return the plan as Markdown, for a pull-request comment."""

    counts = plan_summary(plan)
    lines = ["### syncd plan", ""]
    parts = [
        _bold_count(counts.get("create", 0), "issue") + " to create",
        *(f"**{counts.get(a, 0)}** to {a}" for a in ("update", "close", "reopen")),
        _bold_count(counts.get("comments", 0), "comment") + " to post",
    ]
    if counts.get("labels"):
        parts.append(_bold_count(counts["labels"], "label") + " to create")
    lines.append(", ".join(parts) + f", {counts.get('unchanged', 0)} unchanged")
    lines.append("")
    if plan.changes:
        lines += [
            "| | action | issue | item | details |",
            "| --- | --- | --- | --- | --- |",
        ]
        for change in plan.changes:
            symbol = SYMBOLS.get(change.action, "?")
            if change.subject == "label":
                lines.append(
                    f"| {symbol} | create | {change.target} | label `{change.fields['label'].after}` | |"
                )
                continue
            item = _markdown_escape(_short(change.item.text)) if change.item else ""
            location = f"`{change.item.path}:{change.item.line}`" if change.item else ""
            details = "; ".join(
                d
                for d in (change.match and f"matched: {change.match}", change.reason)
                if d
            )
            fields = ", ".join(
                f"{name}" for name in change.fields if name not in ("marker",)
            )
            if fields and change.action == "update":
                details = (
                    f"{details}; changes {fields}" if details else f"changes {fields}"
                )
            action = change.action
            if change.action == "close" and change.close_reason is not None:
                action = f"close ({change.close_reason.value})"
            lines.append(
                f"| {symbol} | {action} | {change.ref or change.target} | {item} {location} | {_markdown_escape(details)} |"
            )
        lines.append("")
    else:
        lines += [*no_change_lines(plan, failed_files=failed_files), ""]
    other = _other_lines(plan)
    if other:
        lines += ["**Needs attention:**", ""]
        lines += [f"- {_markdown_escape(line.lstrip('! ').strip())}" for line in other]
        lines.append("")
    return "\n".join(lines)
