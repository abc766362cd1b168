"""Plan time and peak memory for 1k, 10k and 100k items, and how cost grows."""

from __future__ import annotations

from bench.core import Context, NotMeasured, Section, benchmark, require


def _engine_api():
    return require("syncd.engine", "compute_plan", "apply_plan", "StateStore")


@benchmark("plan", "Plan time and memory by series size")
def plan_benchmark(context: Context) -> Section:
    _engine_api()
    raise NotMeasured("the plan benchmark is not wired to the engine yet")
