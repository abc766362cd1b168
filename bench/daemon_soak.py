"""Soak ``syncd run`` over many cycles while people edit the issues at random.

The daemon runs as a real child process with a short interval against an
embedded tracker file. During the first part of the budget a new meeting is
added every few cycles; after that only people's edits happen (new titles,
labels, comments, a close now and then), so the daemon's data stops growing
and its resident memory (VmRSS) and open file descriptors must stay flat.
At the end a clean ``syncd sync`` runs and the tracker is checked: every
open item has exactly one open issue, except items whose issue a person
closed (syncd must not reopen those).
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.checks import check_issues
from bench.generate import generate_series
from bench.reliability import issue_from_fake
from syncd.tracker import CloseReason, IssueState, IssueUpdate

TARGET_NAME = "minutes"
MANAGED_LABEL = "syncd"
PERSON = "alex-person"
FAKE_REPO = "acme/ops"
# Allowed growth between the first and the last third of the steady phase.
MAX_RSS_GROWTH_BYTES = 8 * 1024 * 1024
MAX_FD_GROWTH = 2


@dataclass
class DaemonSoakReport:
    tracker: str = "github"
    cycles: int = 0
    meetings: int = 0
    edits: Counter = field(default_factory=Counter)
    rss_start: int = 0
    rss_end: int = 0
    fds_start: int = 0
    fds_end: int = 0
    duplicates: int = 0
    lost: int = 0
    exit_status: int | None = None
    seconds: float = 0.0
    details: list[str] = field(default_factory=list)

    @property
    def rss_flat(self) -> bool:
        return self.rss_end - self.rss_start <= MAX_RSS_GROWTH_BYTES

    @property
    def fds_flat(self) -> bool:
        return self.fds_end - self.fds_start <= MAX_FD_GROWTH

    @property
    def passed(self) -> bool:
        return (
            self.cycles > 0
            and self.duplicates == 0
            and self.lost == 0
            and self.rss_flat
            and self.fds_flat
            and self.exit_status == 0
        )

    def closing_line(self) -> str:
        edits = sum(self.edits.values())
        return (
            f"daemon soak: tracker={self.tracker} cycles={self.cycles} meetings={self.meetings}"
            f" edits by people={edits}"
            f" RSS {self.rss_start / 2**20:.1f} -> {self.rss_end / 2**20:.1f} MiB"
            f" ({'flat' if self.rss_flat else 'GROWING'})"
            f" fds {self.fds_start} -> {self.fds_end} ({'flat' if self.fds_flat else 'GROWING'})"
            f" duplicates found={self.duplicates} items lost={self.lost}"
            f" exit={self.exit_status} in {self.seconds:.1f} s"
        )


def _syncd_command() -> list[str]:
    executable = Path(sys.executable).with_name("syncd")
    if executable.exists():
        return [str(executable)]
    return [sys.executable, "-m", "syncd.cli"]


def _target_lines(tracker_path: Path, fake_options: dict | None) -> list[str]:
    if fake_options is None:
        return ["    kind: local", f"    path: {tracker_path}"]
    lines = ["    kind: github"]
    lines += [f"    {key}: {value}" for key, value in fake_options.items()]
    return lines


def write_config(
    root: Path, folder: Path, tracker_path: Path, fake_options: dict | None = None
) -> Path:
    config = root / "syncd.yaml"
    config.write_text(
        "\n".join(
            [
                "sources:",
                "  minutes:",
                "    kind: folder",
                f"    root: {folder}",
                "    dialect: unikraft",
                "targets:",
                f"  {TARGET_NAME}:",
                *_target_lines(tracker_path, fake_options),
                f"default_target: {TARGET_NAME}",
                "series:",
                "  - match: '*'",
                "    carry: forward",
                "guards:",
                "  max_close: 100000",
                "  max_close_fraction: 1.0",
                "pacing:",
                "  min_write_interval: 0",
                f"state_dir: {root / 'state'}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return config


def _run_arguments(interval: float) -> list[str]:
    """Return the ``syncd run`` options for a short interval, as far as it has them."""

    help_text = subprocess.run(
        [*_syncd_command(), "run", "--help"], capture_output=True, text=True
    ).stdout
    options = []
    if "--interval" in help_text:
        options += ["--interval", str(interval)]
    if "--jitter" in help_text:
        options += ["--jitter", "0"]
    return options


def process_rss(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def process_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class _CycleCounter:
    """Count finished cycles from the daemon's log lines on stderr."""

    def __init__(self, stream) -> None:
        self.cycles = 0
        self.tail: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            with self._changed:
                self.tail = (self.tail + [line.rstrip()])[-30:]
                if "finished in" in line:
                    self.cycles += 1
                    self._changed.notify_all()

    def wait_beyond(self, cycles: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.cycles > cycles, timeout=timeout)


def _person_edit_on_fake(rng: random.Random, fake, report: DaemonSoakReport, closed) -> None:
    """Edit one open issue in the fake's memory, as a person on github.com would."""

    with fake.lock:
        issues = [issue for issue in fake.issues_in(FAKE_REPO) if issue.state == "open"]
        if not issues:
            return
        issue = rng.choice(issues)
        roll = rng.random()
        now = fake.clock()
        if roll < 0.3:
            issue.title = f"{issue.title} (triaged)"
            report.edits["title"] += 1
        elif roll < 0.55:
            fake._ensure_label(fake.repo(FAKE_REPO), "needs-review")
            issue.labels = sorted({*issue.labels, "needs-review"})
            report.edits["label"] += 1
        elif roll < 0.92:
            issue.body = (issue.body or "") + "\n\nNotes from triage."
            report.edits["body"] += 1
        else:
            issue.state = "closed"
            issue.state_reason = "not_planned"
            issue.closed_at = now
            issue.closed_by = PERSON
            closed.add(issue.number)
            report.edits["close"] += 1
        issue.updated_at = now


def _person_edit(rng: random.Random, tracker_path: Path, report: DaemonSoakReport, closed):
    from syncd_adapters.local import LocalTracker

    person = LocalTracker(TARGET_NAME, tracker_path, account=PERSON)
    try:
        issues = [
            issue for issue in person.list_managed(MANAGED_LABEL) if issue.state is IssueState.OPEN
        ]
        if not issues:
            return
        issue = rng.choice(issues)
        roll = rng.random()
        if roll < 0.3:
            person.update(issue.number, IssueUpdate(title=f"{issue.title} (triaged)"))
            report.edits["title"] += 1
        elif roll < 0.55:
            person.ensure_label("needs-review", "fbca04")
            person.update(issue.number, IssueUpdate(add_labels=("needs-review",)))
            report.edits["label"] += 1
        elif roll < 0.8:
            person.comment(issue.number, "Looked at this during triage.")
            report.edits["comment"] += 1
        elif roll < 0.92:
            person.update(issue.number, IssueUpdate(body=issue.body + "\n\nNotes from triage."))
            report.edits["body"] += 1
        else:
            person.close(issue.number, CloseReason.NOT_PLANNED)
            closed.add(issue.number)
            report.edits["close"] += 1
    finally:
        person.close_session()


def run_daemon_soak(
    *,
    work_dir: Path,
    budget_seconds: float,
    items: int = 300,
    interval: float = 0.2,
    seed: int = 11,
    tracker: str = "github",
) -> DaemonSoakReport:
    """Run the daemon for about ``budget_seconds`` and check it afterwards.

    ``tracker`` is ``github`` (the GitHub fake, reached over HTTP by the real
    adapter, so open connections show in the descriptor count) or ``local``
    (an embedded tracker file).
    """

    report = DaemonSoakReport(tracker=tracker)
    rng = random.Random(seed)
    started = time.monotonic()
    work_dir.mkdir(parents=True, exist_ok=True)
    folder = work_dir / "minutes"
    folder.mkdir()
    tracker_path = work_dir / "tracker.sqlite"
    fake = None
    environment = dict(os.environ)
    if tracker == "github":
        from tests.fakes import github_fake

        fake = github_fake.GitHubFake()
        fake.start()
        fake.add_repo(FAKE_REPO)
        fake_options = github_fake.tracker_options(fake, FAKE_REPO)
        environment["SYNCD_FAKE_GITHUB_TOKEN"] = github_fake.DEFAULT_TOKEN
        config = write_config(work_dir, folder, tracker_path, fake_options)
    else:
        config = write_config(work_dir, folder, tracker_path)
    series = generate_series("unikraft", items, seed=seed, new_per_meeting=10)
    growth_deadline = started + budget_seconds * 0.4
    deadline = started + budget_seconds - 5.0
    person_closed: set[int] = set()

    def add_meeting() -> None:
        meeting = series.files[report.meetings]
        path = folder / meeting.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(meeting.text, encoding="utf-8")
        report.meetings += 1

    add_meeting()
    command = [*_syncd_command(), "--config", str(config), "run", *_run_arguments(interval)]
    daemon = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=environment
    )
    counter = _CycleCounter(daemon.stderr)
    samples: list[tuple[int, int]] = []
    try:
        while time.monotonic() < deadline and daemon.poll() is None:
            if not counter.wait_beyond(report.cycles, timeout=max(30.0, interval * 20)):
                report.details.append("no cycle finished for 30 s; last log lines:")
                report.details += counter.tail
                break
            report.cycles = counter.cycles
            growing = time.monotonic() < growth_deadline
            if growing and report.meetings < len(series.files) and rng.random() < 0.5:
                add_meeting()
            elif not growing:
                samples.append((process_rss(daemon.pid), process_fds(daemon.pid)))
            if fake is not None:
                _person_edit_on_fake(rng, fake, report, person_closed)
            else:
                _person_edit(rng, tracker_path, report, person_closed)
    finally:
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
        try:
            report.exit_status = daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            report.exit_status = daemon.wait()
            report.details.append("the daemon did not stop within 60 s of SIGTERM")

    _summarize_samples(report, samples)
    try:
        final = subprocess.run(
            [*_syncd_command(), "--config", str(config), "sync"],
            capture_output=True,
            text=True,
            env=environment,
        )
        if final.returncode not in (0, 3):
            report.details.append(f"final sync exited {final.returncode}: {final.stderr[-500:]}")
        open_items = series.files[report.meetings - 1].open_items
        if fake is not None:
            issues = [issue_from_fake(issue) for issue in fake.issues_in(FAKE_REPO)]
        else:
            issues = _read_local(tracker_path)
        _check_tracker(report, issues, open_items, person_closed)
    finally:
        if fake is not None:
            fake.stop()
    report.seconds = time.monotonic() - started
    return report


def _summarize_samples(report: DaemonSoakReport, samples: list[tuple[int, int]]) -> None:
    if len(samples) < 3:
        report.details.append(f"only {len(samples)} samples in the steady phase")
        if samples:
            report.rss_start = report.rss_end = samples[-1][0]
            report.fds_start = report.fds_end = samples[-1][1]
        return
    third = max(1, len(samples) // 3)
    first, last = samples[:third], samples[-third:]
    report.rss_start = int(statistics.median(rss for rss, _ in first))
    report.rss_end = int(statistics.median(rss for rss, _ in last))
    report.fds_start = max(fds for _, fds in first)
    report.fds_end = max(fds for _, fds in last)


def _read_local(tracker_path: Path):
    from syncd_adapters.local import LocalTracker

    reader = LocalTracker(TARGET_NAME, tracker_path, read_only=True)
    try:
        return reader.list_managed(MANAGED_LABEL)
    finally:
        reader.close_session()


def _check_tracker(report, issues, open_items, person_closed: set[int]) -> None:
    # An issue a person closed stands for its item: syncd keeps it closed.
    shown = [
        issue if issue.number not in person_closed else _as_open(issue) for issue in issues
    ]
    outcome = check_issues(shown, open_items)
    report.duplicates = outcome.duplicates
    report.lost = outcome.lost
    report.details += outcome.details[:20]


def _as_open(issue):
    import dataclasses

    return dataclasses.replace(issue, state=IssueState.OPEN)
