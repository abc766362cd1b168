"""Print benchmark sections as a table and record them in docs/benchmarks.md.

Only the text between ``BEGIN_MARKER`` and ``END_MARKER`` is rewritten, so
the hand-written explanation around it stays as it is. A run of some
benchmarks only (``--only``) replaces only those sections and keeps the
others from the previous run.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

from bench.core import Section, command_line, machine_description

BEGIN_MARKER = "<!-- bench:figures:begin (written by python -m bench; do not edit) -->"
END_MARKER = "<!-- bench:figures:end -->"
_SECTION_PATTERN = re.compile(
    r"<!-- bench:section (?P<key>[\w-]+) -->\n(?P<body>.*?)<!-- bench:section-end -->\n",
    re.DOTALL,
)


def render_terminal(sections: list[Section]) -> str:
    rows = [("figure", "value", "unit", "minimum / target", "verdict")]
    for section in sections:
        rows.append((f"[{section.title}]", "", "", "", ""))
        if section.not_measured:
            rows.append(("  not measured", section.not_measured, "", "", ""))
            continue
        for figure in section.figures:
            name = f"{figure.name} ({figure.note})" if figure.note else figure.name
            rows.append(
                (
                    f"  {name}",
                    figure.formatted_value(),
                    figure.unit,
                    figure.minimum,
                    figure.verdict,
                )
            )
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    widths = [min(width, 60) for width in widths]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def render_section_markdown(section: Section) -> str:
    lines = [f"<!-- bench:section {section.key} -->", f"### {section.title}", ""]
    if section.not_measured:
        lines.append(f"Not yet measured: {section.not_measured}")
        lines.append("")
    else:
        lines.append("| figure | value | unit | minimum possible / target | verdict |")
        lines.append("| --- | ---: | --- | --- | --- |")
        for figure in section.figures:
            name = figure.name if not figure.note else f"{figure.name} ({figure.note})"
            lines.append(
                f"| {_escape(name)} | {figure.formatted_value()} | {figure.unit} "
                f"| {_escape(figure.minimum)} | {figure.verdict} |"
            )
        lines.append("")
        for note in section.notes:
            lines.append(f"- {note}")
        if section.notes:
            lines.append("")
        for table in section.tables:
            lines.append(table.rstrip("\n"))
            lines.append("")
    lines.append(f"Took {section.seconds:.1f} s.")
    lines.append("")
    lines.append("<!-- bench:section-end -->")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def _header(total_seconds: float) -> str:
    machine = machine_description()
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Recorded {today} by `{command_line()}` in {total_seconds:.0f} s on:",
        "",
    ]
    for name, value in machine.items():
        lines.append(f"- {name}: {value}")
    lines.append("")
    return "\n".join(lines)


def update_document(
    path: Path, sections: list[Section], total_seconds: float, order: list[str]
) -> None:
    """Replace the figures block of ``path`` with ``sections``.

    Sections from an earlier run that were not run this time are kept, and
    all appear in ``order`` (the registry's), then any unknown ones.
    """

    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN_MARKER not in text or END_MARKER not in text:
        text = text.rstrip("\n") + f"\n\n## Figures\n\n{BEGIN_MARKER}\n{END_MARKER}\n"

    before, rest = text.split(BEGIN_MARKER, 1)
    old_block, after = rest.split(END_MARKER, 1)

    old_sections = {
        match.group("key"): match.group(0) for match in _SECTION_PATTERN.finditer(old_block)
    }
    new_sections = {section.key: render_section_markdown(section) for section in sections}
    merged = {**old_sections, **new_sections}
    order = [key for key in order if key in merged]
    order += [key for key in merged if key not in order]

    block = "\n" + _header(total_seconds) + "\n" + "\n".join(merged[key] for key in order)
    path.write_text(before + BEGIN_MARKER + block + END_MARKER + after, encoding="utf-8")
