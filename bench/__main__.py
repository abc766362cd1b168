"""Run syncd's benchmarks, print the figures and record them in docs/benchmarks.md.

    python -m bench                  # everything (what `make bench` runs)
    python -m bench --only parse     # one benchmark; other recorded figures stay
    python -m bench --quick          # smaller sizes, to try the runner out
    python -m bench --no-record      # print only
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

# Importing a benchmark module registers it; the runner keeps this order.
from bench import parse_throughput  # noqa: F401, I001
from bench import plan_scaling  # noqa: F401
from bench import sync_requests  # noqa: F401
from bench import rate_limit  # noqa: F401
from bench.core import PROJECT_ROOT, REGISTRY, Context, run_benchmark
from bench.report import render_terminal, update_document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only",
        action="append",
        choices=[entry.key for entry in REGISTRY],
        help="run only this benchmark (repeatable)",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        # The parse benchmark notes when no corpus of real minutes is given.
        default=Path(os.environ["SYNCD_BENCH_CORPUS"])
        if os.environ.get("SYNCD_BENCH_CORPUS")
        else None,
        help="folder of real minutes to measure parsing on (default: $SYNCD_BENCH_CORPUS)",
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument(
        "--no-record", action="store_true", help="print the figures without writing docs"
    )
    parser.add_argument(
        "--doc",
        type=Path,
        default=PROJECT_ROOT / "docs" / "benchmarks.md",
        help="Markdown file whose figures block is rewritten (default: %(default)s)",
    )
    arguments = parser.parse_args(argv)
    # Syncs against the fakes log rate limits and retries; the table is the output.
    logging.basicConfig(level=logging.ERROR)

    selected = [
        entry for entry in REGISTRY if not arguments.only or entry.key in arguments.only
    ]
    corpus = arguments.corpus if arguments.corpus and arguments.corpus.is_dir() else None
    started = time.perf_counter()
    sections = []
    with tempfile.TemporaryDirectory(prefix="syncd-bench-") as work_dir:
        context = Context(
            root=PROJECT_ROOT, corpus=corpus, work_dir=Path(work_dir), quick=arguments.quick
        )
        for entry in selected:
            print(f"running {entry.key}: {entry.title} ...", file=sys.stderr, flush=True)
            section = run_benchmark(entry, context)
            print(f"  done in {section.seconds:.1f} s", file=sys.stderr, flush=True)
            sections.append(section)
    total_seconds = time.perf_counter() - started

    print(render_terminal(sections))
    print(f"\ntotal {total_seconds:.1f} s")
    if not arguments.no_record and not arguments.quick:
        order = [entry.key for entry in REGISTRY]
        update_document(arguments.doc, sections, total_seconds, order)
        print(f"recorded in {arguments.doc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
