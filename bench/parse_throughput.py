"""Parse throughput: MB/s and files/s, cold and with the unchanged-file cache."""

from __future__ import annotations

import csv
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bench.core import Context, Section, benchmark, require, verdict
from bench.generate import generate_series
from syncd.parser.bench import forget_memos

# Dialect preset per top-level corpus folder, as the corpus manifest names
# the dialects.
CORPUS_DIALECTS = {
    "unikraft": "unikraft",
    "rust-lang-team": "rust-lang-team",
    "conda-governance": "conda",
    "ember-core-notes": "ember",
    "nodejs-tsc": "nodejs-tsc",
}
SYNTHETIC_DIALECTS = {"unikraft": "unikraft", "checkbox": "ember"}
TARGET_MB_PER_SECOND = 20.0
# Timed passes over one set of files stop after this many seconds.
SECONDS_PER_SET = 15.0


@dataclass
class MinutesFile:
    path: str
    data: bytes
    dialect: str


def corpus_files(corpus: Path) -> list[MinutesFile]:
    """Read every minutes file of the corpus into memory, with its preset.

    The manifest lists the files when it is there; otherwise every ``*.md``
    outside the labels folder counts.
    """

    manifest = corpus / "MANIFEST.tsv"
    if manifest.exists():
        with manifest.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        pairs = [(row["series"], row["path"]) for row in rows]
    else:
        pairs = []
        for path in sorted(corpus.rglob("*.md")):
            series, *rest = path.relative_to(corpus).parts
            if series != "labels" and rest:
                pairs.append((series, "/".join(rest)))
    files = []
    for series, relative in pairs:
        dialect = CORPUS_DIALECTS.get(series)
        path = corpus / series / relative
        if dialect is None or not path.is_file():
            continue
        files.append(MinutesFile(f"{series}/{relative}", path.read_bytes(), dialect))
    return files


def synthetic_files(dialect: str, items: int) -> list[MinutesFile]:
    series = generate_series(dialect, items)
    preset = SYNTHETIC_DIALECTS[dialect]
    return [
        MinutesFile(generated.relative_path, generated.text.encode("utf-8"), preset)
        for generated in series.files
    ]


def _parser_api():
    return require("syncd.parser", "parse_bytes", "load_dialect", "ParseCache")


def _best_and_median(samples: list[float]) -> tuple[float, float]:
    return min(samples), statistics.median(samples)


def measure_cold(files: list[MinutesFile], repeats: int) -> list[float]:
    """Wall seconds of ``repeats`` full passes of parse_bytes over ``files``.

    Every pass starts with the parser's memos empty, as in a fresh process.
    """

    parse_bytes, load_dialect, _ = _parser_api()
    dialects = {name: load_dialect(name) for name in {item.dialect for item in files}}
    samples = []
    while len(samples) < repeats:
        forget_memos(dialects.values())
        started = time.perf_counter()
        for item in files:
            parse_bytes(item.data, path=item.path, dialect=dialects[item.dialect])
        samples.append(time.perf_counter() - started)
        # Slow passes get fewer repeats, so the whole bench stays bounded.
        if sum(samples) > SECONDS_PER_SET:
            break
    return samples


def measure_cached(
    files: list[MinutesFile], repeats: int, cache_dir: Path
) -> tuple[list[float], int]:
    """Time passes over unchanged files after one pass filled the cache.

    Returns the wall seconds of each warm pass and how many files those
    passes parsed again (cache misses), which must be 0.
    """

    parse_bytes, load_dialect, ParseCache = _parser_api()
    dialects = {name: load_dialect(name) for name in {item.dialect for item in files}}
    cache_path = cache_dir / f"parse-cache-{len(files)}-{time.monotonic_ns()}.sqlite"

    with ParseCache(cache_path) as cache:

        def one_pass() -> float:
            started = time.perf_counter()
            for item in files:
                cache.parse(item.data, path=item.path, dialect=dialects[item.dialect])
            return time.perf_counter() - started

        one_pass()
        misses_before = cache.misses
        samples = []
        while len(samples) < repeats and sum(samples) <= SECONDS_PER_SET:
            samples.append(one_pass())
        reparsed = cache.misses - misses_before
    return samples, reparsed


def _add_rows(
    section: Section,
    label: str,
    files: list[MinutesFile],
    samples: list[float],
    reparsed: int | None = None,
) -> None:
    total_bytes = sum(len(item.data) for item in files)
    best, median = _best_and_median(samples)
    throughput = total_bytes / 1_000_000 / best
    if reparsed is None:
        section.add(
            f"{label}, cold: throughput (best of {len(samples)})",
            throughput,
            "MB/s",
            f">= {TARGET_MB_PER_SECOND:g} MB/s",
            verdict(throughput >= TARGET_MB_PER_SECOND),
        )
        section.add(f"{label}, cold: files per second", len(files) / best, "files/s")
        section.add(f"{label}, cold: median pass", median, "s")
        return
    section.add(
        f"{label}, unchanged through the cache: files parsed again in {len(samples)} passes",
        reparsed,
        "files",
        "0",
        verdict(reparsed == 0),
    )
    section.add(
        f"{label}, unchanged through the cache: effective throughput", throughput, "MB/s"
    )
    section.add(
        f"{label}, unchanged through the cache: files per second", len(files) / best, "files/s"
    )


@benchmark("parse", "Parse throughput")
def parse_benchmark(context: Context) -> Section:
    _parser_api()
    section = Section("parse", "Parse throughput")
    repeats = 2 if context.quick else 5
    sets = []
    if context.corpus is not None:
        files = corpus_files(context.corpus)
        total = sum(len(item.data) for item in files)
        sets.append((f"real minutes corpus ({len(files)} files, {total / 1e6:.2f} MB)", files))
    else:
        section.notes.append("No corpus of real minutes on this machine: synthetic series only.")
    # 10,000 items make about as many bytes as the real corpus; the plan
    # benchmark covers the other sizes.
    items = 1_000 if context.quick else 10_000
    for dialect in SYNTHETIC_DIALECTS:
        files = synthetic_files(dialect, items)
        total = sum(len(item.data) for item in files)
        sets.append((f"synthetic {dialect}, {items:,} items ({total / 1e6:.1f} MB)", files))

    for label, files in sets:
        _add_rows(section, label, files, measure_cold(files, repeats))
        samples, reparsed = measure_cached(files, repeats, context.work_dir)
        _add_rows(section, label, files, samples, reparsed)
    section.notes.append(
        "Cold: parse_bytes on bytes already in memory, dialect loaded once, no cache, "
        "the parser's memos emptied before each pass. "
        "Cached: the same files again through ParseCache after one pass filled it."
    )
    return section
