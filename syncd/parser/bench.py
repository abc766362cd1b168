"""Parse throughput, for the benchmarks: cold parsing and cache hits."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from syncd.parser import meeting
from syncd.parser.cache import ParseCache
from syncd.parser.core import parse_bytes
from syncd.parser.dialect import Dialect, compiled_for, load_dialect, normalize_title


def _files(paths: Iterable[str | Path]) -> list[tuple[str, bytes]]:
    found = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found.extend((str(item), item.read_bytes()) for item in sorted(path.rglob("*.md")))
        else:
            found.append((str(path), path.read_bytes()))
    return found


def forget_memos(dialects: Iterable[Dialect]) -> None:
    """Drop what earlier parses left in memory, so the next parse starts cold.

    Parsing keeps five memos: heading titles (``normalize_title``), front
    matter lines and series folders (``syncd.parser.meeting``) and, per
    dialect, entry classifications and owner prefixes. A cold pass over a
    corpus must start with all five empty, as in a fresh process.
    """

    normalize_title.cache_clear()
    meeting.forget_memos()
    for dialect in dialects:
        compiled_for(dialect).forget()


def bench_parse(
    paths: Iterable[str | Path],
    *,
    dialect: str | Dialect | Callable[[str], Dialect] = "default",
    repeat: int = 3,
) -> dict:
    """Time parsing every Markdown file under ``paths``.

    ``dialect`` is a name, a Dialect, or a function from a file path to its
    Dialect. Files are read into memory first, so disk speed does not count.
    Returns the best of ``repeat`` runs, in CPU seconds of this process:
    ``cold_*`` parses every file from scratch, and ``cached_*`` reads every
    file from a ParseCache filled by a first pass.
    """

    files = _files(paths)
    if callable(dialect) and not isinstance(dialect, Dialect):
        dialect_for = dialect
    else:
        fixed = load_dialect(dialect) if isinstance(dialect, str) else dialect
        dialect_for = lambda _path: fixed  # noqa: E731
    chosen = [(path, data, dialect_for(path)) for path, data in files]
    total_bytes = sum(len(data) for _path, data, _dialect in chosen)
    dialects = {id(item[2]): item[2] for item in chosen}.values()

    items = 0
    cold = float("inf")
    for _ in range(max(repeat, 1)):
        forget_memos(dialects)
        started = time.process_time()
        items = sum(
            len(parse_bytes(data, path=path, dialect=used).items) for path, data, used in chosen
        )
        cold = min(cold, time.process_time() - started)

    cached = float("inf")
    with tempfile.TemporaryDirectory() as folder:
        with ParseCache(Path(folder) / "parse.sqlite") as cache:
            for path, data, used in chosen:
                cache.parse(data, path=path, dialect=used)
            for _ in range(max(repeat, 1)):
                started = time.process_time()
                for path, data, used in chosen:
                    cache.parse(data, path=path, dialect=used)
                cached = min(cached, time.process_time() - started)

    megabytes = total_bytes / 1e6
    return {
        "files": len(chosen),
        "bytes": total_bytes,
        "items": items,
        "cold_seconds": cold,
        "cold_mb_per_s": megabytes / cold if cold else float("inf"),
        "cached_seconds": cached,
        "cached_mb_per_s": megabytes / cached if cached else float("inf"),
    }


def main(argv: list[str] | None = None) -> int:
    """Print bench_parse figures for the Markdown files under the given paths."""

    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m syncd.parser.bench", description=main.__doc__
    )
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--dialect", default="default", help="preset or file for files no --folder-dialect names")
    parser.add_argument(
        "--folder-dialect",
        action="append",
        default=[],
        metavar="FOLDER=DIALECT",
        help="preset for files whose first folder under a path is FOLDER (repeatable)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--passes-only",
        type=int,
        metavar="N",
        help="run N cold passes and time nothing, for an instruction count "
        "(valgrind --tool=callgrind) that the machine's load does not move",
    )
    arguments = parser.parse_args(argv)

    fallback = load_dialect(arguments.dialect)
    by_folder = {}
    for pair in arguments.folder_dialect:
        folder, _, name = pair.partition("=")
        by_folder[folder] = load_dialect(name)
    roots = [path.resolve() for path in arguments.paths]

    def dialect_for(path: str) -> Dialect:
        resolved = Path(path).resolve()
        for root in roots:
            if resolved.is_relative_to(root) and resolved != root:
                first = resolved.relative_to(root).parts[0]
                return by_folder.get(first, fallback)
        return fallback

    if arguments.passes_only is not None:
        chosen = [(path, data, dialect_for(path)) for path, data in _files(arguments.paths)]
        dialects = {id(item[2]): item[2] for item in chosen}.values()
        for _ in range(arguments.passes_only):
            forget_memos(dialects)
            for path, data, used in chosen:
                parse_bytes(data, path=path, dialect=used)
        return 0

    figures = bench_parse(arguments.paths, dialect=dialect_for, repeat=arguments.repeat)
    print(
        f"{figures['files']} files, {figures['bytes']:,} bytes, {figures['items']} items: "
        f"cold {figures['cold_seconds']:.3f} s ({figures['cold_mb_per_s']:.1f} MB/s), "
        f"cached {figures['cached_seconds']:.3f} s ({figures['cached_mb_per_s']:.1f} MB/s), "
        f"CPU seconds, best of {max(arguments.repeat, 1)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
