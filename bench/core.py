"""The benchmark runner's building blocks: figures, sections, the registry.

A benchmark is a function that takes a ``Context`` and returns a ``Section``
of figures. It raises ``NotMeasured`` when something it needs is missing (an
interface not built yet, no corpus on this machine), and the runner records
the reason in place of figures: a figure is never guessed.
"""

from __future__ import annotations

import math
import os
import platform
import resource
import shlex
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class NotMeasured(Exception):
    """A benchmark could not run here. The message gives the reason."""


@dataclass
class Figure:
    """One measured value and, next to it, the best value possible.

    ``minimum`` is the lowest possible cost (requests, seconds) or the target
    the figure must reach, as text. ``verdict`` is ``ok``, ``MISSED`` or
    empty when there is nothing to compare with.
    """

    name: str
    value: float | int | str
    unit: str = ""
    minimum: str = ""
    verdict: str = ""
    note: str = ""

    def formatted_value(self) -> str:
        if isinstance(self.value, float):
            return _format_float(self.value)
        return str(self.value)


@dataclass
class Section:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Further Markdown blocks (tables), printed after the notes.
    tables: list[str] = field(default_factory=list)
    not_measured: str | None = None
    seconds: float = 0.0

    def add(self, *args, **kwargs) -> Figure:
        figure = Figure(*args, **kwargs)
        self.figures.append(figure)
        return figure


@dataclass
class Context:
    """Paths and effort settings passed to every benchmark."""

    root: Path
    corpus: Path | None
    work_dir: Path
    quick: bool = False


@dataclass(frozen=True)
class Benchmark:
    key: str
    title: str
    function: Callable[[Context], Section]


REGISTRY: list[Benchmark] = []


def benchmark(key: str, title: str) -> Callable:
    """Register a benchmark function under ``key``, in definition order."""

    def register(function: Callable[[Context], Section]) -> Callable[[Context], Section]:
        REGISTRY.append(Benchmark(key, title, function))
        return function

    return register


def run_benchmark(entry: Benchmark, context: Context) -> Section:
    started = time.perf_counter()
    try:
        section = entry.function(context)
    except NotMeasured as reason:
        section = Section(entry.key, entry.title, not_measured=str(reason))
    section.key = entry.key
    section.title = entry.title
    section.seconds = time.perf_counter() - started
    return section


def verdict(passed: bool) -> str:
    return "ok" if passed else "MISSED"


def _format_float(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 0.01:
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{value:.2e}"


def timed(function: Callable[[], object]) -> tuple[float, object]:
    """Run ``function`` once and return (wall seconds, its result)."""

    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def traced_peak(function: Callable[[], object]) -> tuple[int, object]:
    """Run ``function`` under tracemalloc and return (peak bytes, its result).

    tracemalloc counts Python allocations only and slows the code down, so
    benchmarks time a separate, untraced run.
    """

    tracemalloc.start()
    try:
        result = function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, result


def max_rss_bytes() -> int:
    """Peak resident set size of this process so far (Linux reports KiB)."""

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def fitted_exponent(sizes: list[int], seconds: list[float]) -> float:
    """Least-squares slope of log(seconds) against log(size).

    Cost proportional to n gives 1; n log n over 1k..100k gives about 1.11;
    n squared gives 2.
    """

    xs = [math.log(size) for size in sizes]
    ys = [math.log(max(value, 1e-9)) for value in seconds]
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    numerator = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
    denominator = sum((x - mean_x) ** 2 for x in xs)
    return numerator / denominator


def n_log_n_exponent(smallest: int, largest: int) -> float:
    """Return the slope of a pure n log n cost between two sizes on a log-log plot."""

    ratio = (largest * math.log(largest)) / (smallest * math.log(smallest))
    return math.log(ratio) / math.log(largest / smallest)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_description() -> dict[str, str]:
    return {
        "CPU": cpu_model(),
        "cores (nproc)": str(os.cpu_count()),
        "Python": platform.python_version(),
        "OS": f"{platform.system()} {platform.release()}",
        # Other work on a shared machine slows the figures down, and the load
        # average at the time of the run shows how much there was.
        "load average (1, 5, 15 min)": ", ".join(f"{load:.2f}" for load in os.getloadavg()),
    }


def command_line(module: str = "bench") -> str:
    """Return the command that produced these figures, as a user would type it."""

    # Folders are named by what they hold, so no path of this machine
    # reaches the recorded figures.
    placeholders = {"--corpus": "CORPUS", "--doc": "DOC"}
    words: list[str] = []
    arguments = iter(sys.argv[1:])
    for argument in arguments:
        option, equals, _value = argument.partition("=")
        if option in placeholders:
            words.append(f"{option}={placeholders[option]}" if equals else option)
            if not equals:
                next(arguments, None)
                words.append(placeholders[option])
            continue
        words.append(argument)
    return shlex.join(["python", "-m", module, *words])


def require(module_name: str, *names: str) -> list:
    """Import ``names`` from ``module_name`` or raise NotMeasured naming what is missing."""

    import importlib

    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise NotMeasured(f"{module_name} cannot be imported ({error.msg})") from None
    missing = [name for name in names if not hasattr(module, name)]
    if missing:
        listed = ", ".join(f"{module_name}.{name}" for name in missing)
        raise NotMeasured(f"{listed} not available yet")
    return [getattr(module, name) for name in names]
