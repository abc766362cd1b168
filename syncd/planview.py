"""Plan and result rendering: terraform-like text and Markdown for a pull request.

The JSON form is ``Plan.to_json`` / ``SyncResult.to_json``; this module only
turns the same data into text for people.
"""

from __future__ import annotations

from syncd.engine.changes import ACTIONS, Change, Plan

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


def _summary_line(counts: dict[str, int], verb: str) -> str:
    if verb == "plan":
        parts = [f"{counts.get(action, 0)} to {action}" for action in ACTIONS]
    else:
        parts = [f"{counts.get(action, 0)} {_past(action)}" for action in ACTIONS]
    parts.append(f"{counts.get('unchanged', 0)} unchanged")
    if counts.get("conflict"):
        parts.append(f"{counts['conflict']} conflicts")
    if counts.get("refused"):
        parts.append(f"{counts['refused']} closes refused")
    for extra in ("failed", "pending"):
        if counts.get(extra):
            parts.append(f"{counts[extra]} {extra}")
    return ("Plan: " if verb == "plan" else "Result: ") + ", ".join(parts) + "."


def _past(action: str) -> str:
    return {
        "create": "created",
        "update": "updated",
        "close": "closed",
        "reopen": "reopened",
        "comment": "commented",
    }[action]


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


def render_plan_text(plan: Plan) -> str:
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
        lines.append("No changes: the trackers match the minutes.")
    lines.append(_summary_line(plan.summary(), "plan"))
    return "\n".join(lines) + "\n"


def render_result_text(result) -> str:
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
    other = _other_lines(result.plan)
    for target, message in sorted(result.failed_targets.items()):
        if target not in result.plan.failed_targets:
            other.append(f"! target {target} failed: {message}")
    if other:
        if lines:
            lines.append("")
        lines.extend(other)
    if not result.outcomes:
        lines.append("No changes: the trackers match the minutes.")
    lines.append(_summary_line(result.summary(), "result"))
    return "\n".join(lines) + "\n"


def _markdown_escape(text: str) -> str:
    text = " ".join(text.split())
    for character in ("|", "<", ">"):
        text = text.replace(character, "\\" + character)
    return text.replace("@", "@&#8203;")


def render_plan_markdown(plan: Plan) -> str:
    """Return the plan as Markdown, for a pull-request comment."""

    counts = plan.summary()
    lines = ["### syncd plan", ""]
    lines.append(
        ", ".join(f"**{counts.get(action, 0)}** to {action}" for action in ACTIONS)
        + f", {counts.get('unchanged', 0)} unchanged"
    )
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
        lines += ["No changes: the trackers match the minutes.", ""]
    other = _other_lines(plan)
    if other:
        lines += ["**Needs attention:**", ""]
        lines += [f"- {_markdown_escape(line.lstrip('! ').strip())}" for line in other]
        lines.append("")
    return "\n".join(lines)
