"""Plan time and peak memory for 1k, 10k and 100k items, and how cost grows.

Documents are built straight from the generator's record of what each file
lists, so the figures measure ``compute_plan`` alone, not the parser. The
tracker is an empty embedded tracker and the state store is new, which is
the first sync of a long history: the costliest plan, since every meeting
has to be matched against the one before it.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from pathlib import Path

from bench.core import (
    PROJECT_ROOT,
    Context,
    NotMeasured,
    Section,
    benchmark,
    fitted_exponent,
    n_log_n_exponent,
    max_rss_bytes,
    require,
    verdict,
)
from bench.generate import GeneratedSeries, generate_series
from syncd.model import Document, Item, ItemKind, Meeting
from syncd.settings import (
    Carry,
    Guards,
    PacingSettings,
    SeriesPolicy,
    SeriesRule,
    Settings,
    SourceSettings,
    TargetSettings,
)

TARGET_NAME = "minutes"
CARRY = {"unikraft": Carry.FORWARD, "checkbox": Carry.ACCUMULATE}
# Slack on the fitted exponent for timing noise between sizes.
EXPONENT_SLACK = 0.1
# A size whose predicted plan time is longer is reported as not measured, so
# that the whole bench stays under ten minutes.
MAX_SECONDS_PER_SIZE = 90.0
# Measured in place of 10,000 items when that size would take too long, so
# that the exponent still has two sizes to fit.
FALLBACK_SIZE = 3_000


def documents_for(series: GeneratedSeries, series_name: str = "synthetic") -> list[Document]:
    """Return the Documents a correct parser yields for ``series``."""

    documents = []
    for generated in series.files:
        items = [
            Item(
                line=entry.line,
                end_line=entry.line,
                owners=(entry.owner,),
                kind=ItemKind.TASK,
                text=entry.text,
                done=entry.done,
            )
            for entry in generated.entries
        ]
        meeting = Meeting(series=series_name, date=generated.date)
        documents.append(Document(path=generated.relative_path, meeting=meeting, items=items))
    return documents


def bench_settings(dialect: str, work_dir: Path) -> Settings:
    return Settings(
        sources=(SourceSettings(name="minutes", root=work_dir / "minutes"),),
        targets=(
            TargetSettings(
                name=TARGET_NAME, kind="local", options={"path": str(work_dir / "tracker.sqlite")}
            ),
        ),
        default_target=TARGET_NAME,
        series=(SeriesRule(match="*", policy=SeriesPolicy(carry=CARRY[dialect])),),
        guards=Guards(max_close=10**9, max_close_fraction=1.0),
        pacing=PacingSettings(min_write_interval=0.0, writes_per_minute=None, writes_per_hour=None),
        state_dir=work_dir / "state",
    )


def plan_once(documents: list[Document], settings: Settings, work_dir: Path):
    """Compute one first-sync plan on a new state store and an empty tracker."""

    compute_plan, StateStore = require("syncd.engine", "compute_plan", "StateStore")
    from syncd_adapters.local import LocalTracker

    tracker = LocalTracker(TARGET_NAME, work_dir / "tracker.sqlite")
    try:
        with StateStore.open(work_dir / "state.sqlite") as state:
            return compute_plan(
                documents,
                settings=settings,
                trackers={TARGET_NAME: tracker},
                state=state,
                # The settings name no people, so there is no roster to consult.
                roster=None,
                allow_mass_close=True,
            )
    finally:
        tracker.close_session()


def measure_in_child(dialect: str, size: int, work_dir: Path) -> dict:
    """Plan one size in a fresh process and return its seconds and peak RSS growth.

    A fresh process per size keeps one size's garbage out of the next one's
    memory figure, and ``ru_maxrss`` costs nothing, unlike tracemalloc.
    """

    work_dir.mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-m", "bench.plan_scaling", dialect, str(size), str(work_dir)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    if done.returncode != 0:
        raise NotMeasured(
            f"the plan of {size:,} {dialect} items failed: {done.stderr.strip()[-300:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _reset_peak_rss() -> int:
    """Reset the kernel's peak-RSS mark (VmHWM) and return the current RSS in bytes.

    Writing 5 to /proc/self/clear_refs resets VmHWM on Linux 4.0 and later.
    Where that fails, the process-lifetime peak (ru_maxrss) is the baseline.
    """

    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return max_rss_bytes()
    return _status_bytes("VmRSS")


def _status_bytes(field_name: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1]) * 1024
    return max_rss_bytes()


def child_main(dialect: str, size: int, work_dir: Path) -> int:
    series = generate_series(dialect, size)
    documents = documents_for(series)
    settings = bench_settings(dialect, work_dir)
    del series
    # Import what the plan needs first, so neither figure includes imports.
    require("syncd.engine", "compute_plan", "StateStore")
    import syncd_adapters.local  # noqa: F401

    gc.collect()
    baseline = _reset_peak_rss()
    started = time.perf_counter()
    plan = plan_once(documents, settings, work_dir)
    seconds = time.perf_counter() - started
    figures = {
        "seconds": seconds,
        "rss_growth": _status_bytes("VmHWM") - baseline,
        "meetings": len(documents),
        "changes": len(getattr(plan, "changes", ())),
    }
    print(json.dumps(figures))
    return 0


@benchmark("plan", "Plan time and memory by series size")
def plan_benchmark(context: Context) -> Section:
    require("syncd.engine", "compute_plan", "StateStore")

    section = Section("plan", "Plan time and memory by series size")
    sizes = [1_000, 10_000] if context.quick else [1_000, 10_000, 100_000]
    cap = 30.0 if context.quick else MAX_SECONDS_PER_SIZE
    for dialect in ("unikraft", "checkbox"):
        measured_sizes: list[int] = []
        seconds: list[float] = []
        queue = list(sizes)
        while queue:
            size = queue.pop(0)
            if len(seconds) >= 2:
                slope = max(fitted_exponent(measured_sizes, seconds), 1.0)
            else:
                slope = 1.5
            predicted = seconds[-1] * (size / measured_sizes[-1]) ** slope if seconds else 0.0
            label = f"{dialect}, {size:,} items"
            if predicted > cap and len(seconds) == 1 and FALLBACK_SIZE not in measured_sizes:
                # Two sizes are needed for an exponent: try a smaller second one.
                queue[:0] = [FALLBACK_SIZE, size]
                continue
            if predicted > cap:
                section.add(
                    f"{label}: plan time",
                    "not measured",
                    "",
                    note=f"about {predicted:,.0f} s predicted from the smaller sizes, over "
                    f"the {cap:.0f} s cap per size",
                )
                continue
            work_dir = context.work_dir / f"plan-{dialect}-{size}"
            figures = measure_in_child(dialect, size, work_dir)
            measured_sizes.append(size)
            seconds.append(figures["seconds"])
            label = f"{label}, {figures['meetings']:,} meetings"
            section.add(
                f"{label}: plan time", figures["seconds"], "s", note=f"{figures['changes']:,} changes"
            )
            section.add(f"{label}: peak RSS growth", figures["rss_growth"] / 2**20, "MiB")
            section.add(f"{label}: time per item", figures["seconds"] / size * 1e6, "µs")

        if len(seconds) >= 2:
            bound = n_log_n_exponent(measured_sizes[0], measured_sizes[-1])
            exponent = fitted_exponent(measured_sizes, seconds)
            section.add(
                f"{dialect}: fitted exponent of plan time against items",
                exponent,
                "",
                f"<= {bound:.2f} (n log n over {measured_sizes[0]:,}..{measured_sizes[-1]:,})"
                f" + {EXPONENT_SLACK} slack",
                verdict(exponent <= bound + EXPONENT_SLACK),
            )
    section.notes.append(
        "unikraft: carry forward, each meeting lists about 50 items of which 25 are new, so "
        "only the newest meeting's items are open. checkbox: accumulate, 25 new items per "
        "meeting and a fifth of them ticked in the next one."
    )
    section.notes.append(
        "Each size runs in a fresh process. Peak RSS growth is ru_maxrss after the plan minus "
        "ru_maxrss before it, with the documents already built."
    )
    return section


if __name__ == "__main__":
    raise SystemExit(child_main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])))
