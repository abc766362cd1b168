"""Drive the sync engine through faults and process kills, and count the damage.

One run replays a generated series meeting by meeting into an embedded
tracker (a real SQLite file). Each sync goes through ``FaultInjectingTracker``
(5xx, 429 with Retry-After, timeouts, connections dropped after a write was
committed), and some syncs run in a child process that is killed with SIGKILL
at a random moment. After every sync the tracker is checked for duplicate
issues. After the last meeting, two clean syncs must leave every open item
with exactly one open issue.

The same code is the short form that ``make test`` runs and the long form
of ``make soak``; only the budget differs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.checks import check_issues
from bench.faults import FaultInjectingTracker, FaultRates
from bench.generate import generate_series
from bench.inprocess import sync_with_trackers
from syncd.errors import SyncdError
from syncd.tracker import Issue, IssueState
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

MANAGED_LABEL = "syncd"
FAKE_REPO = "acme/ops"
# Seconds the adapter waits for the fake; an injected timeout delays longer.
FAKE_TIMEOUT = 1.0
# An injected timeout lets the fake store a create FAKE_TIMEOUT + 0.5 s after
# it started, so a wait a little longer than that covers every late create.
UNKNOWN_CREATE_WAIT = FAKE_TIMEOUT + 1.5
SECONDARY_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit and have been temporarily blocked "
    "from content creation. Please retry your request again later."
)
TARGET_NAME = "minutes"
NO_PACING = PacingSettings(min_write_interval=0.0, writes_per_minute=None, writes_per_hour=None)
PRESETS = {"unikraft": ("unikraft", Carry.FORWARD), "checkbox": ("ember", Carry.ACCUMULATE)}


@dataclass
class RunSpec:
    """Everything a child process needs to rebuild the settings of one run."""

    folder: str
    state_dir: str
    tracker_path: str
    dialect: str
    seed: int
    rates: dict = field(default_factory=dict)
    # "local" for the embedded tracker with faults injected by the wrapper;
    # "github" for the GitHub adapter against the fake, which injects HTTP
    # faults itself.
    tracker_kind: str = "local"
    tracker_options: dict = field(default_factory=dict)
    environ: dict = field(default_factory=dict)

    def settings(self) -> Settings:
        preset, carry = PRESETS[self.dialect]
        return Settings(
            sources=(SourceSettings(name="minutes", root=Path(self.folder), dialect=preset),),
            targets=(
                TargetSettings(name=TARGET_NAME, kind="local", options={"path": self.tracker_path}),
            ),
            default_target=TARGET_NAME,
            series=(SeriesRule(match="*", policy=SeriesPolicy(carry=carry)),),
            # The harness checks the engine, not the mass-close guard or the
            # pacing, so neither may stop a run.
            guards=Guards(
                max_close=1_000_000,
                max_close_fraction=1.0,
                unknown_create_wait=UNKNOWN_CREATE_WAIT,
            ),
            pacing=NO_PACING,
            state_dir=Path(self.state_dir),
        )


@dataclass
class HarnessReport:
    name: str
    runs: int = 0
    # Runs through the GitHub adapter and fake; the others use the embedded tracker.
    fake_runs: int = 0
    syncs: int = 0
    faults: Counter = field(default_factory=Counter)
    kills: int = 0
    duplicates: int = 0
    lost: int = 0
    failed_syncs: int = 0
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def closing_line(self) -> str:
        faults = sum(self.faults.values())
        by_kind = ", ".join(f"{kind} {count}" for kind, count in sorted(self.faults.items()))
        return (
            f"{self.name}: runs={self.runs} ({self.fake_runs} against the GitHub fake)"
            f" syncs={self.syncs} faults injected={faults}"
            f" ({by_kind or 'none'}) kills={self.kills} duplicates found={self.duplicates}"
            f" items lost={self.lost} in {self.seconds:.1f} s"
        )


def make_tracker(
    spec: RunSpec, rng: random.Random | None, on_fault=None
) -> FaultInjectingTracker:
    """Open the run's embedded tracker, injecting faults when ``rng`` is given."""

    if spec.tracker_kind == "github":
        from syncd_adapters.github import GitHubTracker

        inner = GitHubTracker(
            TARGET_NAME,
            spec.tracker_options,
            state_dir=Path(spec.state_dir) / "adapter",
            environ=spec.environ,
            pacing=NO_PACING,
            # Retries wait in virtual time, so backoff costs no real seconds.
            sleep=lambda seconds: None,
        )
    else:
        from syncd_adapters.local import LocalTracker

        inner = LocalTracker(TARGET_NAME, spec.tracker_path)
    tracker = FaultInjectingTracker(
        inner, rng or random.Random(0), FaultRates(**spec.rates), on_fault=on_fault
    )
    # Against the fake, the faults come from the fake's HTTP responses.
    tracker.enabled = rng is not None and spec.tracker_kind == "local"
    return tracker


def sync_once(spec: RunSpec, tracker: FaultInjectingTracker) -> None:
    """Run one sync in this process through ``tracker``.

    An error that reaches this function is what a user would see: the sync
    failed, and the next one must repair what it left.
    """

    settings = spec.settings()
    try:
        sync_with_trackers(settings, {TARGET_NAME: tracker}, engine_pacing=settings.pacing)
    finally:
        tracker.close_session()


def read_issues(spec: RunSpec, fake=None):
    """Return the managed issues, read from the fake's memory when there is one."""

    if fake is not None:
        return [issue_from_fake(issue) for issue in fake.issues_in(FAKE_REPO)]
    from syncd_adapters.local import LocalTracker

    # Read-write, because a sync killed while creating the file can leave it
    # without tables, which a read-only open rejects and a write repairs.
    tracker = LocalTracker(TARGET_NAME, spec.tracker_path)
    try:
        return tracker.list_managed(MANAGED_LABEL)
    finally:
        tracker.close_session()


def issue_from_fake(fake_issue) -> Issue:
    """Return the GitHub fake's in-memory issue as the tracker protocol's Issue."""

    return Issue(
        number=fake_issue.number,
        ref=f"{FAKE_REPO}#{fake_issue.number}",
        url="",
        title=fake_issue.title,
        body=fake_issue.body or "",
        state=IssueState(fake_issue.state),
    )


def _arm_http_faults(fake, rng: random.Random) -> list:
    """Arm one to three faults at random points of the next sync's requests."""

    issues = r"/repos/acme/ops/issues(/\d+)?"
    choices = (
        ("5xx", lambda: {"status": 502, "body": {"message": "Bad Gateway"}}),
        (
            "429",
            lambda: {
                "status": 429,
                "headers": {"Retry-After": "1"},
                "body": {"message": SECONDARY_LIMIT_MESSAGE},
            },
        ),
        ("timeout", lambda: {"delay": FAKE_TIMEOUT + 0.5}),
        ("drop-after-commit", lambda: {"after_commit": True, "drop": True}),
    )
    armed = []
    for _ in range(rng.randint(1, 3)):
        kind, arguments = rng.choice(choices)
        method = "POST" if kind == "drop-after-commit" else rng.choice(("GET", "POST", "PATCH"))
        fault = fake.inject(method, issues, skip=rng.randint(0, 12), times=1, **arguments())
        armed.append((kind, fault))
    return armed


def _count_http_faults(fake, armed: list, report: HarnessReport) -> None:
    for kind, fault in armed:
        if fault.hits > fault.skip:
            report.faults[kind] += 1
    fake.clear_faults()


def _sync_with_faults(spec: RunSpec, rng: random.Random, report: HarnessReport) -> None:
    report.syncs += 1
    tracker = make_tracker(spec, rng)
    try:
        sync_once(spec, tracker)
    except SyncdError as error:
        report.failed_syncs += 1
        report.details.append(f"sync failed: {type(error).__name__}: {error}")
    finally:
        report.faults.update(tracker.injected)


def _sync_and_kill(spec: RunSpec, rng: random.Random, report: HarnessReport, budget: float):
    """Run a faulty sync in a child process and SIGKILL it after a random delay."""

    report.syncs += 1
    payload = json.dumps({**dataclasses.asdict(spec), "seed": rng.randrange(2**31)})
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.reliability", "--child", payload],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parent.parent,
        text=True,
    )
    ready = child.stdout.readline()
    if ready.strip() == "ready":
        time.sleep(rng.uniform(0.0, budget))
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            report.kills += 1
    # The child prints one line per injected fault, so faults injected before
    # the kill are counted too.
    for line in child.stdout:
        kind = line.strip().removeprefix("fault ")
        if kind:
            report.faults[kind] += 1
    child.wait()
    child.stdout.close()


def child_main(payload: str) -> int:
    spec = RunSpec(**json.loads(payload))
    # Import everything before "ready", so the kill lands inside the sync.
    from syncd import runner  # noqa: F401
    from syncd.engine import compute_plan  # noqa: F401

    print("ready", flush=True)
    tracker = make_tracker(
        spec, random.Random(spec.seed), on_fault=lambda kind: print(f"fault {kind}", flush=True)
    )
    try:
        sync_once(spec, tracker)
    except SyncdError:
        return 3
    return 0


def run_engine_harness(
    runs: int,
    *,
    work_dir: Path,
    seed: int = 7,
    items: int = 40,
    new_per_meeting: int = 8,
    kill_share: float = 0.25,
    rates: FaultRates = FaultRates(),
    time_budget: float | None = None,
    fake_every: int = 3,
) -> HarnessReport:
    """Replay ``runs`` generated series through faults and kills.

    Every ``fake_every``-th run goes through the GitHub adapter and its fake
    (1: all of them, 0: none). Stops early, after a whole run, when
    ``time_budget`` seconds have passed.
    """

    report = HarnessReport("engine faults")
    started = time.monotonic()
    rate_values = dataclasses.asdict(rates)
    duplicate_numbers: set[tuple[int, int]] = set()

    for run_index in range(runs):
        if time_budget is not None and time.monotonic() - started > time_budget:
            break
        rng = random.Random(f"{seed}:{run_index}")
        dialect = ("unikraft", "checkbox")[run_index % 2]
        use_fake = fake_every > 0 and run_index % fake_every == fake_every - 1
        fake = _start_fake() if use_fake and _fake_available() else None
        series = generate_series(
            dialect, items, seed=seed * 1000 + run_index, new_per_meeting=new_per_meeting
        )
        root = work_dir / f"run-{run_index}"
        folder = root / "minutes"
        folder.mkdir(parents=True)
        spec = RunSpec(
            folder=str(folder),
            state_dir=str(root / "state"),
            tracker_path=str(root / "tracker.sqlite"),
            dialect=dialect,
            seed=run_index,
            rates=rate_values,
        )
        if fake is not None:
            spec.tracker_kind = "github"
            spec.tracker_options, spec.environ = _fake_options(fake)
        try:
            _replay(spec, series, rng, report, duplicate_numbers, run_index, kill_share, fake)
        finally:
            if fake is not None:
                fake.stop()
        report.runs += 1
        report.fake_runs += fake is not None

    report.duplicates = len(duplicate_numbers)
    report.seconds = time.monotonic() - started
    return report


def _replay(spec, series, rng, report, duplicate_numbers, run_index, kill_share, fake) -> None:
    """Sync the series meeting by meeting with faults, then twice cleanly, checking each."""

    folder = Path(spec.folder)
    last_sync_seconds = 0.5
    for meeting in series.files:
        path = folder / meeting.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(meeting.text, encoding="utf-8")
        armed = _arm_http_faults(fake, rng) if fake is not None else []
        if rng.random() < kill_share:
            _sync_and_kill(spec, rng, report, budget=last_sync_seconds * 1.5)
        else:
            sync_started = time.monotonic()
            _sync_with_faults(spec, rng, report)
            last_sync_seconds = max(time.monotonic() - sync_started, 0.05)
        if fake is not None:
            _count_http_faults(fake, armed, report)
        # A duplicate counts even if a later sync closes it again.
        outcome = check_issues(read_issues(spec, fake), meeting.open_items)
        _record(report, run_index, outcome, duplicate_numbers, final=False)

    # Two clean syncs: the first repairs what the faults left, the second
    # must find nothing to do. An item whose create had an unknown outcome
    # is created again only after the wait, so the repair starts after it.
    _wait_out_unknown_creates(spec)
    for _ in range(2):
        report.syncs += 1
        sync_once(spec, make_tracker(spec, None))
    outcome = check_issues(read_issues(spec, fake), series.files[-1].open_items)
    _record(report, run_index, outcome, duplicate_numbers, final=True)


def _wait_out_unknown_creates(spec: RunSpec) -> None:
    """Sleep until every create with an unknown outcome is past its wait."""

    from syncd import runner
    from syncd.engine import StateStore

    with StateStore.open(runner.state_path(spec.settings()), read_only=True) as state:
        starts = [
            datetime.fromisoformat(entry.started)
            for entry in state.unfinished_journal()
            if entry.action == "create"
        ]
    if not starts:
        return
    deadline = max(starts) + timedelta(seconds=UNKNOWN_CREATE_WAIT)
    remaining = (deadline - datetime.now(timezone.utc)).total_seconds()
    time.sleep(min(max(remaining, 0.0), UNKNOWN_CREATE_WAIT))


def _fake_available() -> bool:
    try:
        import syncd_adapters.github  # noqa: F401
        import tests.fakes.github_fake  # noqa: F401
    except ImportError:
        return False
    return True


def _start_fake():
    from tests.fakes.github_fake import GitHubFake

    fake = GitHubFake()
    fake.start()
    fake.add_repo(FAKE_REPO)
    return fake


def _fake_options(fake) -> tuple[dict, dict]:
    from tests.fakes import github_fake

    options = github_fake.tracker_options(fake, FAKE_REPO, timeout=FAKE_TIMEOUT)
    return options, {"SYNCD_FAKE_GITHUB_TOKEN": github_fake.DEFAULT_TOKEN}


def _record(report, run_index, outcome, duplicate_numbers, *, final: bool) -> None:
    new = {(run_index, number) for number in outcome.duplicate_numbers} - duplicate_numbers
    if new:
        duplicate_numbers.update(new)
        report.details += [f"run {run_index}: {line}" for line in outcome.duplicate_details]
    # Between meetings an item may wait for its issue (a failed or pending
    # create is repaired by a later sync), so only the final check counts
    # lost items.
    if final:
        report.lost += outcome.lost
        report.details += [f"run {run_index}: {line}" for line in outcome.lost_details]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        raise SystemExit(child_main(sys.argv[2]))
    raise SystemExit("usage: python -m bench.reliability --child JSON (used by the harness)")
