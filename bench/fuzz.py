"""Fuzz the minutes parser with Hypothesis for a fixed budget.

Two kinds of input: random bytes, and Markdown assembled from the pieces
minutes are made of (front matter, action-section headings, owner lines,
checkboxes, strikethrough, code fences, HTML comments, BOMs, CRLF and lone
CR, tabs, invalid UTF-8). ``parse_bytes`` may return a document (with
errors for bad input) or raise syncd's ``InputError``. Any other exception counts as a crash. Every item it
returns must point at lines that exist in the input.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException

from syncd.errors import InputError
from syncd.parser.text import line_count as parsed_line_count

FRAGMENTS = (
    "---\ntitle: Weekly sync\ndate: 2024-02-30\nparticipants:\n- KoraM\n- VelT\n---\n",
    "---\nkey: one\nkey: two\n---\n",
    "---\n\ttabbed: value\n---\n",
    "## TODOs and Decisions\n",
    "### :wrench: TODOs and Decisions\n",
    "Action items\n============\n",
    "###TODOs and Decisions\n",
    "## Discussions\n",
    "KM: Rework the zelvor queue.\n",
    "KM/VT: Measure the borin cache\n",
    "TODO: Find an owner for the lamith port.\n",
    "VT:\n- first sub task\n- second sub task\n",
    "- [ ] @dev-kora to rewrite the mavel index\n",
    "- [x] @dev-vel to drop the sorun flag\n",
    "- ~~Kora to close the~~ ~~pavel ticket~~\n",
    "- Vel to file the tamor report (done)\n",
    "Action: Kora to ping the farel list.\n",
    "**ACTION ITEM:** Vel to update the zoran doc.\n",
    "```md\n## TODOs\nKM: not an item\n```\n",
    "<!--\nKM: hidden item\n-->\n",
    "    KM: indented code\n",
    "| a | b |\n| - | - |\n| KM: cell | x |\n",
    "Next meeting: Thursday\n",
    "\r\n",
    "\r",
    "\n",
    "\u2028",
    "\t",
    "\ufeff",
    "e\u0301 ",
    "@everyone ",
    "> KM: quoted\n",
    "1. KM: numbered\n",
    "* * *\n",
)

_fragment = st.sampled_from(FRAGMENTS)
_free_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=40
)
_markdown = st.lists(st.one_of(_fragment, _fragment, _free_text), max_size=40).map("".join)
_encoded = st.one_of(
    _markdown.map(lambda text: text.encode("utf-8")),
    _markdown.map(lambda text: text.encode("utf-8") + b"\xff\xfe broken"),
    _markdown.map(lambda text: b"\xef\xbb\xbf" + text.encode("utf-8")),
    st.binary(max_size=2000),
)


@dataclass
class FuzzReport:
    examples: int = 0
    input_errors: int = 0
    crashes: int = 0
    bad_lines: int = 0
    seconds: float = 0.0
    details: list[str] = field(default_factory=list)

    def closing_line(self) -> str:
        return (
            f"parser fuzz: runs={self.examples} input errors={self.input_errors}"
            f" crashes={self.crashes} items outside the input={self.bad_lines}"
            f" in {self.seconds:.1f} s"
        )


def _check_one(data: bytes, parse_bytes, dialect, report: FuzzReport) -> None:
    report.examples += 1
    try:
        document = parse_bytes(data, path="fuzz.md", dialect=dialect, series="fuzz")
    except InputError:
        report.input_errors += 1
        return
    except Exception as error:  # noqa: BLE001 (any other exception is the finding)
        report.crashes += 1
        if len(report.details) < 20:
            report.details.append(f"{type(error).__name__}: {error} on {data[:200]!r}")
        return
    if document.failed:
        # parse_bytes reports most bad input as errors on the document.
        report.input_errors += 1
    line_count = parsed_line_count(data)
    for item in document.items:
        if not (1 <= item.line <= item.end_line <= line_count):
            report.bad_lines += 1
            if len(report.details) < 20:
                report.details.append(
                    f"item lines {item.line}-{item.end_line} outside 1-{line_count}"
                    f" on {data[:200]!r}"
                )


def run_fuzz(
    budget_seconds: float, *, dialects: tuple[str, ...] = ("unikraft", "ember", "nodejs-tsc")
) -> FuzzReport:
    """Feed generated inputs to ``parse_bytes`` until ``budget_seconds`` pass."""

    from syncd.parser import load_dialect, parse_bytes

    report = FuzzReport()
    loaded = [load_dialect(name) for name in dialects]
    started = time.monotonic()
    round_number = 0
    while time.monotonic() - started < budget_seconds:
        dialect = loaded[round_number % len(loaded)]
        round_number += 1

        @settings(
            max_examples=200,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(_encoded)
        def fuzz_round(data: bytes) -> None:
            _check_one(data, parse_bytes, dialect, report)

        try:
            fuzz_round()
        except HypothesisException as error:
            report.details.append(f"hypothesis stopped a round: {error}")
    report.seconds = time.monotonic() - started
    return report
