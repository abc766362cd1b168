"""``syncd sync`` killed with SIGKILL at 50 points of a run, then run once more.

The GitHub fake kills the sync process from inside its request handler,
either before it handles the n-th request or after it has committed it and
before the response is sent. The second kind is the hard case: the tracker
has the new issue, but syncd never learns its number. After each kill one
more complete run must leave:

- no duplicate issue: each item key is on exactly one issue;
- every open item with its open issue, and the closed item closed;
- a consistent state file: SQLite's integrity check passes, no write is
  left unresolved in the journal, and every state record points at the
  issue that carries its key;
- nothing left to do: one more run makes no write.

Two scenarios are killed: a first sync that creates everything, and a later
sync that rewords, reassigns, closes and creates.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from syncd.engine import StateStore
from tests.fakes import _server
from tests.fakes.github_fake import GitHubFake
from tests.fakes.github_fake import DEFAULT_TOKEN
from tests.ops.github_support import TOKEN_ENV, NoDelayHandler, github_config, issues_by_key
from tests.ops.support import write_minutes

KILL_POINTS = 50
# Seconds syncd waits before it creates again an item whose create was cut
# off. The fake stores a request in full or not at all before the kill, so a
# short wait is enough here. The adapters' tests cover the wait itself.
UNKNOWN_CREATE_WAIT = 1.0

FIRST_MINUTES = [
    "AB: Write the release notes.",
    "CD: Book the room.",
    "AB: Order the badges.",
    "CD: Send the agenda.",
    "AB: Update the wiki.",
    "CD: Test the projector.",
]
# The same meeting edited later: one item reworded, one reassigned, one done
# and two added.
LATER_MINUTES = [
    "AB: Write the release notes for 2.0.",
    "AB: Book the room.",
    "[x] AB: Order the badges.",
    "CD: Send the agenda.",
    "AB: Update the wiki.",
    "CD: Test the projector.",
    "AB: Print the handouts.",
    "CD: Call the caterer.",
]
ACCOUNTS = {"AB": "alice", "CD": "bob"}


def expected_issues(minutes: list[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Map each item's title to the state and assignees its issue must have."""

    expected = {}
    for line in minutes:
        done = line.startswith("[x] ")
        owner, _, title = line.removeprefix("[x] ").partition(": ")
        expected[title] = ("closed" if done else "open", (ACCOUNTS[owner],))
    return expected


# The later sync rewords an item, so its old title is gone from the tracker.
EXPECTED = {"first": expected_issues(FIRST_MINUTES), "later": expected_issues(LATER_MINUTES)}


class KillingFake(GitHubFake):
    """The GitHub fake with a trap: SIGKILL ``victim`` at request ``kill_at``."""

    def __init__(self) -> None:
        super().__init__()
        self._server.RequestHandlerClass = NoDelayHandler
        self.add_repo("acme/ops", collaborators=("alice", "bob"))
        self.kill_at: int | None = None
        self.after_commit = False
        self.seen = 0
        self.killed = False
        self._victim: int | None = None
        self._victim_known = threading.Event()

    def arm(self, kill_at: int, after_commit: bool) -> None:
        """Count requests from zero and kill the victim at request ``kill_at``."""

        with self.lock:
            self.kill_at, self.after_commit = kill_at, after_commit
            self.seen = 0
            self.killed = False
            self._victim = None
            self._victim_known.clear()

    def set_victim(self, pid: int) -> None:
        # Not under self.lock: route() may be waiting for this while holding it.
        self._victim = pid
        self._victim_known.set()

    def disarm(self) -> None:
        self.kill_at = None

    def route(self, request):
        self.seen += 1
        trap = self.kill_at is not None and self.seen == self.kill_at
        if trap and not self.after_commit:
            self._kill()
            return _server.Response(503, {"message": "killed before handling"})
        response = super().route(request)
        if trap:
            self._kill()
        return response

    def _kill(self) -> None:
        if not self._victim_known.wait(timeout=10):
            raise AssertionError("the test never named the process to kill")
        # Set first: the test may see the process gone before this thread runs on.
        self.killed = True
        os.kill(self._victim, signal.SIGKILL)
        # Wait until the process is a zombie, so it cannot read the response.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _process_state(self._victim) not in ("Z", "X", None):
            time.sleep(0.001)


def _process_state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as stat_file:
            return stat_file.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


class ForkServer:
    """The client side of tests/ops/forkserver.py."""

    def __init__(self) -> None:
        root = Path(__file__).resolve().parents[2]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.ops.forkserver"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _call(self, request: dict) -> dict:
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def start(self, cwd: Path, *argv: str) -> int:
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(cwd),
            "LC_ALL": "C.UTF-8",
            TOKEN_ENV: DEFAULT_TOKEN,
        }
        reply = self._call(
            {
                "op": "run",
                "cwd": str(cwd),
                "argv": list(argv),
                "env": environment,
                "stdout": str(cwd / "stdout.txt"),
                "stderr": str(cwd / "stderr.txt"),
            }
        )
        return reply["pid"]

    def wait(self, pid: int) -> int:
        return self._call({"op": "wait", "pid": pid})["status"]

    def run(self, cwd: Path, *argv: str) -> int:
        return self.wait(self.start(cwd, *argv))

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def forkserver():
    server = ForkServer()
    yield server
    server.close()


@dataclass(frozen=True)
class KillPoint:
    scenario: str
    request: int
    after_commit: bool
    label: str


def prepare(tmp_path: Path, fake: KillingFake, forkserver: ForkServer, scenario: str) -> None:
    """Write the config and the minutes, and run the sync that comes before the killed one."""

    tmp_path.mkdir(parents=True, exist_ok=True)
    config = github_config(tmp_path, fake)
    text = config.read_text()
    text = text.replace("aliases: [AB]", "aliases: [AB]\n    github: alice")
    text = text.replace("aliases: [CD]", "aliases: [CD]\n    github: bob")
    text += f"guards:\n  unknown_create_wait: {UNKNOWN_CREATE_WAIT}\n"
    config.write_text(text)
    folder = tmp_path / "minutes" / "weekly"
    write_minutes(folder, "2026-03-02", FIRST_MINUTES)
    if scenario == "later":
        status = forkserver.run(tmp_path, "--config", "syncd.yaml", "sync")
        assert status == 0, (tmp_path / "stderr.txt").read_text()
        write_minutes(folder, "2026-03-02", LATER_MINUTES)


def calibrate(base: Path, forkserver: ForkServer, scenario: str) -> list[tuple[str, str]]:
    """Return (method, path) of each request the scenario's sync makes when not killed."""

    fake = KillingFake().start()
    try:
        prepare(base / f"calibrate-{scenario}", fake, forkserver, scenario)
        fake.reset_log()
        status = forkserver.run(base / f"calibrate-{scenario}", "--config", "syncd.yaml", "sync")
        assert status == 0
        return [(method, path) for method, path, _ in fake.request_log()]
    finally:
        fake.stop()


def choose_kill_points(requests_by_scenario: dict[str, list[tuple[str, str]]]) -> list[KillPoint]:
    """Pick 50 points: before every request and after every write, then after reads."""

    writes, befores, reads = [], [], []
    for scenario, requests in requests_by_scenario.items():
        for index, (method, path) in enumerate(requests, start=1):
            name = f"{scenario}-{index:02d}-{method}-{path.strip('/').replace('/', '_')}"
            befores.append(KillPoint(scenario, index, False, f"{name}-before"))
            after = KillPoint(scenario, index, True, f"{name}-after-commit")
            (reads if method == "GET" else writes).append(after)
    points = writes + befores + reads
    assert len(points) >= KILL_POINTS, f"only {len(points)} kill points: {requests_by_scenario}"
    return points[:KILL_POINTS]


def check_tracker_and_state(tmp_path: Path, fake: KillingFake, scenario: str, label: str) -> None:
    keys = issues_by_key(fake)
    duplicates = {key: numbers for key, numbers in keys.items() if len(numbers) > 1}
    assert duplicates == {}, f"{label}: duplicate issues {duplicates}"

    # Exactly one issue per item, with the item's title, state and assignee.
    issues = fake.issues_in("acme/ops")
    found = {issue.title: (issue.state, tuple(sorted(issue.assignees))) for issue in issues}
    assert len(found) == len(issues), f"{label}: repeated titles {sorted(found)}"
    assert found == EXPECTED[scenario], f"{label}: issues {found}"

    state_path = tmp_path / "state" / "state.sqlite"
    connection = sqlite3.connect(state_path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok", label
    finally:
        connection.close()
    number_of = {key: numbers[0] for key, numbers in keys.items()}
    with StateStore.open(state_path, read_only=True) as state:
        unfinished = state.unfinished_journal()
        assert unfinished == [], f"{label}: unresolved writes {unfinished}"
        records = state.issue_records()
    for key, number in number_of.items():
        assert key in records, f"{label}: issue #{number} with key {key} has no state record"
        assert records[key].number == number, f"{label}: state maps {key} to #{records[key].number}"


@pytest.fixture(scope="module")
def kill_points(tmp_path_factory, forkserver) -> list[KillPoint]:
    requests = {
        scenario: calibrate(tmp_path_factory.mktemp("calibrate"), forkserver, scenario)
        for scenario in ("first", "later")
    }
    return choose_kill_points(requests)


def test_kill_points_cover_hard_case(kill_points):
    assert len(kill_points) == KILL_POINTS
    # A create that the tracker committed but whose response the killed sync
    # never read.
    labels = [point.label for point in kill_points if point.after_commit]
    assert any("-POST-repos_acme_ops_issues-after-commit" in label for label in labels)


def run_trial(trial: Path, forkserver: ForkServer, point: KillPoint) -> str | None:
    """Kill one sync at ``point``, run once more, and return what is wrong, if anything."""

    fake = KillingFake().start()
    try:
        prepare(trial, fake, forkserver, point.scenario)
        fake.reset_log()

        # The killed run.
        fake.arm(point.request, point.after_commit)
        pid = forkserver.start(trial, "--config", "syncd.yaml", "sync")
        fake.set_victim(pid)
        status = forkserver.wait(pid)
        fake.disarm()
        if status != -signal.SIGKILL or not fake.killed:
            return f"{point.label}: not killed (status {status})"
        # A create cut off by the kill may have landed, so the next run
        # creates that item again only once the wait has passed.
        with StateStore.open(trial / "state" / "state.sqlite", read_only=True) as state:
            cut_off_creates = [
                entry for entry in state.unfinished_journal() if entry.action == "create"
            ]
        if cut_off_creates:
            time.sleep(UNKNOWN_CREATE_WAIT)

        # One more complete run recovers.
        status = forkserver.run(trial, "--config", "syncd.yaml", "sync")
        if status != 0:
            stderr = (trial / "stderr.txt").read_text()[-1500:]
            return f"{point.label}: recovery run exited {status}: {stderr}"
        try:
            check_tracker_and_state(trial, fake, point.scenario, point.label)
        except AssertionError as error:
            return str(error)

        # And a run after that has nothing left to write.
        fake.reset_log()
        status = forkserver.run(trial, "--config", "syncd.yaml", "sync")
        writes = [entry for entry in fake.request_log() if entry[0] != "GET"]
        if status != 0 or writes:
            return f"{point.label}: third run exited {status} and wrote {writes}"
        return None
    finally:
        fake.stop()


def test_sigkill_at_any_point_recovers(tmp_path, kill_points):
    # Trials are independent, so a few run side by side, each worker with its
    # own fork server (a server handles one command at a time).
    workers = 3
    servers = [ForkServer() for _ in range(workers)]
    idle_servers: queue.Queue[ForkServer] = queue.Queue()
    for server in servers:
        idle_servers.put(server)

    def trial(number: int, point: KillPoint) -> str | None:
        server = idle_servers.get()
        try:
            return run_trial(tmp_path / f"trial-{number:02d}", server, point)
        finally:
            idle_servers.put(server)

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(trial, number, point) for number, point in enumerate(kill_points)]
            failures = [future.result() for future in futures]
    finally:
        for server in servers:
            server.close()

    failures = [failure for failure in failures if failure is not None]
    assert failures == [], "\n".join(failures)
