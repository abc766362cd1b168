"""The long form of the reliability harness (what ``make soak`` runs).

    python -m bench.soak                       # default budget, about 10 minutes
    python -m bench.soak --budget 120          # seconds, split over the parts
    python -m bench.soak --only engine --runs 200

Each part prints one closing line with its figures (runs, faults injected,
duplicates found, items lost), and the lines are recorded in
docs/benchmarks.md unless ``--no-record`` is given. The exit status is 1 when
any part found a duplicate, a lost item, a parser crash or growth in memory
or open files.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench.core import PROJECT_ROOT, command_line, machine_description

BEGIN_MARKER = "<!-- soak:figures:begin (written by python -m bench.soak; do not edit) -->"
END_MARKER = "<!-- soak:figures:end -->"
PARTS = ("engine", "daemon", "fuzz")
# Share of the budget each part gets.
BUDGET_SHARES = {"engine": 0.5, "daemon": 0.3, "fuzz": 0.2}
DEFAULT_BUDGET_SECONDS = 600.0


def run_part(part: str, budget: float, work_dir: Path, arguments) -> tuple[str, bool]:
    """Run one part and return its closing line and whether it passed."""

    if part == "engine":
        from bench.reliability import run_engine_harness

        report = run_engine_harness(
            arguments.runs, work_dir=work_dir / "engine", seed=arguments.seed, time_budget=budget
        )
        for detail in report.details[:20]:
            print(f"  {detail}", file=sys.stderr)
        return report.closing_line(), report.duplicates == 0 and report.lost == 0
    if part == "daemon":
        from bench.daemon_soak import run_daemon_soak

        report = run_daemon_soak(work_dir=work_dir / "daemon", budget_seconds=budget)
        for detail in report.details[:20]:
            print(f"  {detail}", file=sys.stderr)
        return report.closing_line(), report.passed
    from bench.fuzz import run_fuzz

    report = run_fuzz(budget)
    for detail in report.details[:20]:
        print(f"  {detail}", file=sys.stderr)
    return report.closing_line(), report.crashes == 0 and report.bad_lines == 0


def record(path: Path, lines: list[str], seconds: float) -> None:
    text = path.read_text(encoding="utf-8")
    if BEGIN_MARKER not in text or END_MARKER not in text:
        text = text.rstrip("\n") + f"\n\n## Reliability harness\n\n{BEGIN_MARKER}\n{END_MARKER}\n"
    before, rest = text.split(BEGIN_MARKER, 1)
    old_block, after = rest.split(END_MARKER, 1)
    # Keep the closing lines of parts that did not run this time.
    new_parts = {line.split(":", 1)[0] for line in lines}
    kept = [
        line
        for line in old_block.split("```text", 1)[-1].split("```", 1)[0].splitlines()
        if line.strip() and ":" in line and line.split(":", 1)[0] not in new_parts
    ]
    kept_parts = sorted({line.split(":", 1)[0] for line in kept})
    lines = [*lines, *kept]
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = ", ".join(f"{name} {value}" for name, value in machine_description().items())
    command = command_line("bench.soak")
    block = [
        "",
        f"Recorded {today} by `{command}` in {seconds:.0f} s ({machine}).",
        *(
            [f"The lines of {', '.join(kept_parts)} are kept from an earlier run."]
            if kept_parts
            else []
        ),
        "",
        "```text",
        *lines,
        "```",
        "",
    ]
    path.write_text(before + BEGIN_MARKER + "\n".join(block) + END_MARKER + after, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--budget",
        type=float,
        default=DEFAULT_BUDGET_SECONDS,
        help="seconds for all parts together (default: %(default)s)",
    )
    parser.add_argument("--only", action="append", choices=PARTS, help="run only this part")
    parser.add_argument(
        "--runs", type=int, default=1000, help="most engine runs within the budget (default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=7, help="seed of the engine runs, to reproduce a finding"
    )
    parser.add_argument("--no-record", action="store_true", help="do not write docs/benchmarks.md")
    arguments = parser.parse_args(argv)
    # The syncs log every injected fault they meet; only the closing lines matter here.
    logging.basicConfig(level=logging.CRITICAL)

    parts = [part for part in PARTS if not arguments.only or part in arguments.only]
    share_total = sum(BUDGET_SHARES[part] for part in parts)
    started = time.monotonic()
    lines = []
    passed_all = True
    with tempfile.TemporaryDirectory(prefix="syncd-soak-") as work_dir:
        for part in parts:
            budget = arguments.budget * BUDGET_SHARES[part] / share_total
            print(f"running {part} for up to {budget:.0f} s ...", file=sys.stderr, flush=True)
            try:
                line, passed = run_part(part, budget, Path(work_dir), arguments)
            except Exception as error:  # noqa: BLE001 (a harness failure is reported, not hidden)
                traceback.print_exc()
                line, passed = f"{part}: could not run ({type(error).__name__}: {error})", False
            print(line, flush=True)
            lines.append(line)
            passed_all = passed_all and passed
    seconds = time.monotonic() - started
    if not arguments.no_record:
        record(PROJECT_ROOT / "docs" / "benchmarks.md", lines, seconds)
    return 0 if passed_all else 1


if __name__ == "__main__":
    raise SystemExit(main())
