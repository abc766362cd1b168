"""Wall time of a first sync of 300 items under GitHub's content-creation limit.

GitHub allows at most 80 content-creating requests per minute (and 500 per
hour). The GitHub fake enforces 80 issue creates per sliding 60-second
window and rejects the 81st with a secondary rate limit and ``Retry-After``.

Time is virtual: the adapter's pacing and retry layer takes ``clock``,
``monotonic`` and ``sleep`` as arguments, and the fake takes ``clock``. All
three are bound to one ``VirtualClock``, whose ``sleep`` returns at once and
moves the clock forward by the requested seconds. Nothing else is scaled:
HTTP, parsing and planning run in real time and count towards the figure.
The engine's own pacer (``apply_plan(pacing=...)``) sleeps in real time, so
it is left off here and the adapter paces alone, with the same settings.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

from bench.core import Context, Section, benchmark, require, verdict
from bench.sync_requests import TARGET_NAME, FakeTarget, _settings, _write_meeting
from syncd.settings import PacingSettings

ITEMS = 300
CREATES_PER_MINUTE = 80
# One-off runs allowed to finish the first sync when a run leaves work over.
MAX_RUNS = 5
_PACING_KEYS = ("min_write_interval", "writes_per_minute", "writes_per_hour")


class VirtualClock:
    """A clock that runs at real speed plus every second slept so far.

    ``sleep`` moves the clock forward and returns without blocking.
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self.slept = 0.0
        self.sleeps = 0

    def time(self) -> float:
        return time.time() + self._offset

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self._offset += seconds
            self.slept += seconds
            self.sleeps += 1


def first_sync(work_dir: Path, pacing: PacingSettings) -> dict:
    """Sync 300 new items against the rate-limited fake until all exist."""

    from bench.inprocess import sync_with_trackers

    folder = work_dir / "minutes"
    folder.mkdir(parents=True)
    _write_meeting(folder, ITEMS)
    clock = VirtualClock()
    target = FakeTarget("github", work_dir / "adapter-state")
    target.fake.clock = clock.time
    target.fake.limit_creates(CREATES_PER_MINUTE, window=60.0, retry_after=60.0)
    target.options = {
        key: value for key, value in target.options.items() if key not in _PACING_KEYS
    }
    settings = _settings(folder, work_dir / "state", target)

    started = clock.monotonic()
    real_started = time.monotonic()
    runs = 0
    try:
        while runs < MAX_RUNS:
            runs += 1
            tracker = target.tracker(
                pacing=pacing, clock=clock.time, monotonic=clock.monotonic, sleep=clock.sleep
            )
            try:
                sync_with_trackers(settings, {TARGET_NAME: tracker})
            finally:
                tracker.close_session()
            if len(target.fake.issues_in("acme/ops")) >= ITEMS:
                break
        log = target.requests()
    finally:
        target.stop()
    creates = limited = 0
    for method, path, status in log:
        if method == "POST" and path.endswith("/issues"):
            creates += status == 201
            limited += status in (403, 429)
    return {
        "seconds": clock.monotonic() - started,
        "real_seconds": time.monotonic() - real_started,
        "slept": clock.slept,
        "runs": runs,
        "creates": creates,
        "limited": limited,
        "requests": len(log),
    }


@benchmark("rate-limit", "First sync of 300 items at 80 content-creating requests per minute")
def rate_limit_benchmark(context: Context) -> Section:
    require("syncd.engine", "compute_plan", "apply_plan", "StateStore")
    require("tests.fakes.github_fake", "GitHubFake", "tracker_options")
    require("syncd_adapters.github", "GitHubTracker")

    section = Section("rate-limit", "First sync of 300 items at 80 content-creating requests per minute")
    even = ITEMS / CREATES_PER_MINUTE * 60.0
    burst = (math.ceil(ITEMS / CREATES_PER_MINUTE) - 1) * 60.0
    ideal = f"{burst:.0f} s in bursts of 80, {even:.0f} s at an even 80 per minute"
    cases = (
        ("default pacing", PacingSettings()),
        (
            "pacing set to 80 writes per minute",
            PacingSettings(min_write_interval=0.0, writes_per_minute=80, writes_per_hour=450),
        ),
    )
    for label, pacing in cases:
        figures = first_sync(context.work_dir / label.replace(" ", "-"), pacing)
        caps = (
            f"min gap {pacing.min_write_interval:g} s, {pacing.writes_per_minute}/min, "
            f"{pacing.writes_per_hour}/h"
        )
        section.add(
            f"{label} ({caps}): wall time",
            figures["seconds"],
            "s",
            ideal,
            verdict(figures["creates"] >= ITEMS and figures["seconds"] <= even * 1.1),
            note=f"{figures['runs']} run(s), {figures['creates']} creates",
        )
        section.add(f"{label}: secondary-limit responses", figures["limited"], "responses", "0")
        section.add(f"{label}: virtual seconds slept", figures["slept"], "s")
        section.add(f"{label}: real seconds", figures["real_seconds"], "s")
    section.notes.append(
        "Time is virtual: the adapter's clock, monotonic clock and sleep and the fake's clock "
        "share one clock whose sleep advances it at once by the requested seconds; HTTP, "
        "parsing and planning run in real time. The engine's real-time pacer is off."
    )
    return section
