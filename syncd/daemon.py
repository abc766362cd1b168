"""``syncd run``: sync every interval until stopped.

The loop runs one sync (a cycle), sleeps for the interval plus a random
jitter, and repeats. Signals are handled between steps, never inside a write:

- SIGTERM and SIGINT set a stop flag. The cycle in progress checks it through
  ``should_stop`` after the write in flight, and the loop exits with status 0.
  A second SIGINT interrupts at once, for a person at a terminal.
- SIGHUP reloads the configuration after the cycle in progress. An invalid
  configuration is logged and the one already loaded stays in use.

A failing cycle is logged and retried after a delay that doubles with each
consecutive failure, so a tracker that is down for an hour neither kills the
daemon nor gets hammered by it.

Under systemd (``Type=notify``) the daemon sends READY, STATUS, WATCHDOG and
STOPPING messages. A thread sends the watchdog pings while the main loop is
idle or inside a cycle that has not passed ``cycle_timeout``. A cycle that
hangs past it stops the pings, so systemd kills and restarts the daemon.
"""

from __future__ import annotations

import datetime
import logging
import os
import random
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from syncd.errors import (
    ConfigError,
    LockHeldError,
    RateLimitedError,
    SourceError,
    SyncdError,
    TrackerError,
)
from syncd.healthcheck import HealthCheck, find_ping_url
from syncd.metrics import RunMetrics, write_textfile
from syncd.metrics import from_outcome as metrics_from_outcome
from syncd.notify import Notifier, watchdog_interval
from syncd.settings import Settings

logger = logging.getLogger(__name__)

METRICS_FILE_ENV = "SYNCD_METRICS_FILE"


@dataclass(frozen=True)
class DaemonOptions:
    """Timing of the loop, all in seconds.

    ``jitter`` is the upper bound of a uniformly random delay added to every
    sleep. ``backoff_initial`` is the delay after the first failed cycle,
    doubled per further failure up to ``backoff_max``.
    """

    interval: float = 900.0
    jitter: float = 60.0
    backoff_initial: float = 60.0
    backoff_max: float = 3600.0
    cycle_timeout: float = 3600.0
    # Delay before retrying a cycle skipped because another run held the lock.
    lock_retry: float = 30.0


@dataclass
class CycleResult:
    """The result of one cycle, for the log, the STATUS line and the backoff."""

    ok: bool
    summary: str
    retry_after: float | None = None


# One cycle: takes the settings and a stop check, returns what it did.
CycleFunction = Callable[[Settings, Callable[[], bool]], CycleResult]


class Daemon:
    """The ``syncd run`` loop around a cycle function and a settings loader.

    ``load_settings`` reads and validates the configuration file and raises
    ``ConfigError`` when it is invalid. ``run_cycle`` runs one sync.
    """

    def __init__(
        self,
        load_settings: Callable[[], Settings],
        run_cycle: CycleFunction,
        options: DaemonOptions = DaemonOptions(),
        notifier: Notifier | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.load_settings = load_settings
        self.run_cycle = run_cycle
        self.options = options
        self.notifier = notifier if notifier is not None else Notifier()
        self.rng = rng if rng is not None else random.Random()

        self.settings: Settings | None = None
        self.consecutive_failures = 0
        self.cycles = 0
        self.last_result: CycleResult | None = None

        self._wakeup = threading.Event()
        self._stop_requested = False
        self._reload_requested = False
        self._interrupts = 0
        self._cycle_started: float | None = None
        self._watchdog_stop = threading.Event()
        self._watchdog_thread: threading.Thread | None = None
        self._hang_reported = False

    # Signals.

    def request_stop(self, reason: str = "stop requested") -> None:
        if not self._stop_requested:
            logger.info("%s: finishing the write in flight, then exiting", reason)
        self._stop_requested = True
        self._wakeup.set()

    def request_reload(self) -> None:
        logger.info("reload requested: the configuration is read again after this step")
        self._reload_requested = True
        self._wakeup.set()

    def should_stop(self) -> bool:
        return self._stop_requested

    def _on_signal(self, signum: int, _frame) -> None:
        if signum == signal.SIGHUP:
            self.request_reload()
            return
        if signum == signal.SIGINT:
            self._interrupts += 1
            if self._interrupts > 1:
                raise KeyboardInterrupt
        self.request_stop(f"received {signal.Signals(signum).name}")

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)

    # The loop.

    def run(self) -> int:
        """Run cycles until a stop is requested. Return the exit status.

        An invalid configuration at start-up raises ``ConfigError``: there is
        no old configuration to fall back on.
        """

        self.settings = self.load_settings()
        self.install_signal_handlers()
        logger.info(
            "daemon started: syncing every %.0f s (jitter up to %.0f s)",
            self.options.interval,
            self.options.jitter,
        )
        self.notifier.ready(status="starting the first sync")
        self._start_watchdog()
        next_cycle_at = time.monotonic()
        try:
            while not self._stop_requested:
                self._sleep_until(next_cycle_at)
                if self._stop_requested:
                    break
                if self._reload_requested:
                    # A new configuration syncs at once. After a failed reload
                    # the old schedule goes on.
                    if self.reload():
                        next_cycle_at = time.monotonic()
                    continue
                if time.monotonic() < next_cycle_at:
                    continue
                result = self.run_one_cycle()
                if self._stop_requested:
                    break
                delay = self.next_delay(result)
                self._report_idle(result, delay)
                next_cycle_at = time.monotonic() + delay
        finally:
            self.notifier.stopping(status="stopping")
            self._stop_watchdog()
            logger.info("daemon stopped after %d cycles", self.cycles)
        return 0

    def reload(self) -> bool:
        """Read the configuration again and keep the old one if the new one is invalid."""

        self._reload_requested = False
        self.notifier.reloading()
        try:
            new_settings = self.load_settings()
        except ConfigError as error:
            logger.error(
                "reload failed, keeping the configuration loaded before: %s", error
            )
            self.notifier.ready(status="reload failed: invalid configuration, the old one stays in use")
            return False
        except SyncdError as error:
            logger.error("reload failed, keeping the configuration loaded before: %s", error)
            self.notifier.ready(status="reload failed")
            return False
        self.settings = new_settings
        self.consecutive_failures = 0
        logger.info("configuration reloaded")
        self.notifier.ready(status="configuration reloaded")
        return True

    def run_one_cycle(self) -> CycleResult:
        """Run one cycle, turning every exception into a failed result."""

        assert self.settings is not None
        self.cycles += 1
        self.notifier.status(f"syncing (cycle {self.cycles})")
        self._cycle_started = time.monotonic()
        self._hang_reported = False
        try:
            result = self.run_cycle(self.settings, self.should_stop)
        except LockHeldError as error:
            logger.warning("cycle %d skipped: %s", self.cycles, error)
            result = CycleResult(
                ok=True, summary="skipped: another run holds the lock",
                retry_after=self.options.lock_retry,
            )
        except RateLimitedError as error:
            retry_after = error.retry_after
            if retry_after is None and error.reset_at is not None:
                retry_after = max(0.0, error.reset_at - time.time())
            logger.error("cycle %d failed: rate limited: %s", self.cycles, error)
            result = CycleResult(ok=False, summary=f"rate limited: {error}", retry_after=retry_after)
        except SyncdError as error:
            logger.error("cycle %d failed: %s", self.cycles, error)
            result = CycleResult(ok=False, summary=str(error))
        except Exception as error:  # noqa: BLE001 - one bad cycle must not kill the daemon
            logger.exception("cycle %d failed with an unexpected error", self.cycles)
            result = CycleResult(ok=False, summary=f"unexpected error: {error!r}")
        finally:
            self._cycle_started = None

        if result.ok:
            if self.consecutive_failures:
                logger.info(
                    "cycle %d succeeded after %d failed cycles",
                    self.cycles,
                    self.consecutive_failures,
                )
            self.consecutive_failures = 0
        else:
            self.consecutive_failures += 1
        self.last_result = result
        return result

    def next_delay(self, result: CycleResult) -> float:
        """Return the seconds to sleep after ``result``, jitter included."""

        if result.ok:
            delay = self.options.interval
        else:
            exponent = min(self.consecutive_failures - 1, 30)
            delay = min(self.options.backoff_initial * 2**exponent, self.options.backoff_max)
        if result.retry_after is not None:
            delay = result.retry_after if result.ok else max(delay, result.retry_after)
        return delay + self.rng.uniform(0, self.options.jitter)

    def _report_idle(self, result: CycleResult, delay: float) -> None:
        finished = datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M UTC")
        outcome = "ok" if result.ok else "failed"
        status = f"last sync {finished} {outcome}: {result.summary}; next in {delay:.0f} s"
        if not result.ok:
            status += f" (failure {self.consecutive_failures} in a row)"
            logger.info("retrying in %.0f s", delay)
        self.notifier.status(status[:400])

    def _sleep_until(self, moment: float) -> None:
        # The event wakes the loop early on a stop or reload request.
        self._wakeup.clear()
        if self._stop_requested or self._reload_requested:
            return
        self._wakeup.wait(timeout=max(0.0, moment - time.monotonic()))

    # Watchdog.

    def _start_watchdog(self) -> None:
        interval = watchdog_interval()
        if interval is None or not self.notifier.enabled:
            return
        logger.debug("sending watchdog pings every %.1f s", interval)
        self.notifier.watchdog()
        self._watchdog_thread = threading.Thread(
            target=self._watchdog_loop, args=(interval,), name="watchdog", daemon=True
        )
        self._watchdog_thread.start()

    def _watchdog_loop(self, interval: float) -> None:
        while not self._watchdog_stop.wait(interval):
            if self._loop_alive():
                self.notifier.watchdog()

    def _loop_alive(self) -> bool:
        started = self._cycle_started
        if started is None:
            return True
        running_for = time.monotonic() - started
        if running_for <= self.options.cycle_timeout:
            return True
        if not self._hang_reported:
            logger.error(
                "cycle %d has run for %.0f s, past the limit of %.0f s: "
                "stopping watchdog pings so that systemd restarts the daemon",
                self.cycles,
                running_for,
                self.options.cycle_timeout,
            )
            self._hang_reported = True
        return False

    def _stop_watchdog(self) -> None:
        self._watchdog_stop.set()
        if self._watchdog_thread is not None:
            self._watchdog_thread.join(timeout=5)


# Command-line glue for ``syncd run``, ``syncd retry`` and the monitoring
# options of ``syncd sync``. syncd.cli registers these.


def add_monitoring_arguments(parser) -> None:
    parser.add_argument(
        "--lock-wait", type=float, default=0.0, metavar="SECONDS",
        help="wait up to SECONDS for another run to release the run lock (default 0: "
        "exit at once with status 75)",
    )
    parser.add_argument(
        "--metrics-file", metavar="PATH", default=os.environ.get(METRICS_FILE_ENV) or None,
        help="write Prometheus metrics to PATH after each sync (default: $SYNCD_METRICS_FILE)",
    )
    parser.add_argument(
        "--ping-url", metavar="URL", default=None,
        help="Healthchecks-style URL to ping after each sync, URL/fail on failure "
        "(default: $SYNCD_PING_URL, then the ping-url systemd credential)",
    )


class Monitor:
    """Writes the metrics file and sends health check pings for each sync."""

    def __init__(self, metrics_file: str | None, ping_url: str | None) -> None:
        self.metrics_file = Path(metrics_file) if metrics_file else None
        url = find_ping_url(ping_url)
        self.health = HealthCheck(url) if url else None

    @classmethod
    def from_arguments(cls, arguments) -> Monitor:
        return cls(getattr(arguments, "metrics_file", None), getattr(arguments, "ping_url", None))

    def started(self) -> None:
        if self.health is not None:
            self.health.start()

    def finished(self, outcome) -> None:
        ok = not outcome.partly_failed
        if self.metrics_file is not None:
            write_textfile(self.metrics_file, metrics_from_outcome(outcome, success=ok))
        if self.health is not None:
            self.health.report(ok, describe_outcome(outcome))

    def failed(self, error: BaseException, seconds: float) -> None:
        if self.metrics_file is not None:
            metrics = RunMetrics(success=False, duration_seconds=seconds)
            if isinstance(error, SourceError):
                metrics.source_errors = 1
            elif isinstance(error, TrackerError):
                metrics.target_errors = 1
            else:
                metrics.run_errors = 1
            write_textfile(self.metrics_file, metrics)
        if self.health is not None:
            self.health.failure(f"sync failed: {error}")


def describe_outcome(outcome) -> str:
    """Return one line such as ``2 create, 1 close, 1 failed; 3 problems``."""

    metrics = metrics_from_outcome(outcome, success=not outcome.partly_failed)
    counts = dict(metrics.changes)
    counts["failed"] = metrics.failed_changes
    counts["pending"] = metrics.pending_changes
    parts = [f"{count} {action}" for action, count in counts.items() if count]
    text = ", ".join(parts) or "no changes"
    problems = len(outcome.problems())
    if problems:
        text += f"; {problems} problems"
    return text


def monitored_sync(settings: Settings, arguments, monitor: Monitor, should_stop=None):
    """Run one sync through the runner, with metrics and pings around it."""

    from syncd.runner import sync_run

    started = time.monotonic()
    # NOTE: /start is sent before the runner takes the run lock, so a run that
    # then finds the lock held leaves a start ping that the holder's own
    # success or failure ping completes.
    monitor.started()
    try:
        outcome = sync_run(
            settings,
            allow_mass_close=getattr(arguments, "allow_mass_close", False),
            should_stop=should_stop,
            lock_wait=getattr(arguments, "lock_wait", 0.0),
        )
    except LockHeldError:
        # Another run is syncing: that run reports, and this one did nothing.
        raise
    except SyncdError as error:
        monitor.failed(error, time.monotonic() - started)
        raise
    monitor.finished(outcome)
    return outcome


def failed_targets_of(outcome) -> dict[str, str]:
    """Return the message per target that failed in the plan or while applying it."""

    failed = dict(getattr(outcome.plan, "failed_targets", None) or {})
    if outcome.result is not None:
        failed.update(getattr(outcome.result, "failed_targets", None) or {})
    return failed


def sync_cycle_function(arguments, monitor: Monitor) -> CycleFunction:
    """Return the cycle function ``syncd run`` uses: one monitored sync."""

    def run_cycle(settings: Settings, should_stop: Callable[[], bool]) -> CycleResult:
        outcome = monitored_sync(settings, arguments, monitor, should_stop=should_stop)
        result = outcome.result
        retry_after = None
        rate_limited = getattr(result, "rate_limited", {}) if result is not None else {}
        waits = [seconds for seconds in rate_limited.values() if seconds is not None]
        if waits:
            retry_after = max(waits)
        # Files that fail to parse stay broken until someone edits them, so
        # they do not count as a failed cycle. Unreachable sources and
        # targets, failed writes and rate limits may pass, so they back off.
        failed_targets = failed_targets_of(outcome)
        # The plan records these without logging them, and a daemon's log
        # must show every error it goes on after.
        for target, message in sorted(failed_targets.items()):
            logger.error("target %s failed: %s", target, message)
        transient = bool(
            outcome.collected.source_problems
            or outcome.target_problems
            or failed_targets
            or rate_limited
            or (result is not None and result.failures)
        )
        return CycleResult(ok=not transient, summary=describe_outcome(outcome), retry_after=retry_after)

    return run_cycle


def add_run_arguments(parser) -> None:
    add_monitoring_arguments(parser)
    defaults = DaemonOptions()
    parser.add_argument(
        "--interval", type=float, default=defaults.interval, metavar="SECONDS",
        help=f"seconds between syncs (default {defaults.interval:.0f})",
    )
    parser.add_argument(
        "--jitter", type=float, default=defaults.jitter, metavar="SECONDS",
        help=f"add a random delay of up to SECONDS to each wait (default {defaults.jitter:.0f})",
    )
    parser.add_argument(
        "--max-backoff", type=float, default=defaults.backoff_max, metavar="SECONDS",
        help="maximum wait after failed syncs; waits double from "
        f"{defaults.backoff_initial:.0f} s up to this (default {defaults.backoff_max:.0f})",
    )
    parser.add_argument(
        "--cycle-timeout", type=float, default=defaults.cycle_timeout, metavar="SECONDS",
        help="stop the systemd watchdog pings when one sync runs longer than this, so "
        f"systemd restarts the daemon (default {defaults.cycle_timeout:.0f})",
    )


def run_handler(arguments, out) -> int:
    """``syncd run``: the daemon."""

    del out
    from syncd.cli import load_settings

    for name in ("interval", "jitter", "max_backoff", "cycle_timeout", "lock_wait"):
        if getattr(arguments, name) < 0:
            raise SyncdError(f"--{name.replace('_', '-')} must be 0 or more, not {getattr(arguments, name)}")
    if arguments.interval == 0:
        raise SyncdError("--interval must be more than 0 seconds")
    options = DaemonOptions(
        interval=arguments.interval,
        jitter=arguments.jitter,
        backoff_initial=min(DaemonOptions.backoff_initial, arguments.interval),
        backoff_max=max(arguments.max_backoff, min(DaemonOptions.backoff_initial, arguments.interval)),
        cycle_timeout=arguments.cycle_timeout,
    )
    monitor = Monitor.from_arguments(arguments)
    daemon = Daemon(
        load_settings=lambda: load_settings(arguments),
        run_cycle=sync_cycle_function(arguments, monitor),
        options=options,
    )
    return daemon.run()


def add_retry_arguments(parser) -> None:
    parser.add_argument(
        "item",
        metavar="ITEM",
        help="the item to retry: its key (or a unique prefix of at least 6 characters) "
        "or its issue reference such as acme/ops#12",
    )
    parser.add_argument(
        "--recreate",
        action="store_true",
        help="also forget the issue the item is mapped to, so that the next sync "
        "opens a new one unless an issue carries the item's marker; for an issue "
        "that was deleted on the tracker",
    )


def retry_handler(arguments, out) -> int:
    """``syncd retry ITEM``: let the next sync try one item afresh."""

    from syncd.cli import load_settings
    from syncd.engine import StateStore
    from syncd.lock import RunLock
    from syncd.runner import state_path

    settings = load_settings(arguments)
    path = state_path(settings)
    if not path.exists():
        raise SyncdError(f"state file {path} does not exist", hint="run syncd sync first")
    with RunLock(settings.state_dir, wait=getattr(arguments, "lock_wait", 0.0)):
        with StateStore.open(path) as state:
            key = resolve_item(state, arguments.item)
            settled = requeue_item(state, key)
            forgotten = None
            if getattr(arguments, "recreate", False):
                record = state.issue_record(key)
                if record is not None and record.number is not None:
                    check_issue_gone(settings, record)
                forgotten = forget_issue(state, key)
    record_text = f"item {key}"
    out.write(
        f"{record_text}: {settled} failed or unfinished writes cleared; "
        "the next sync plans it afresh\n"
    )
    if forgotten:
        out.write(
            f"{record_text}: no longer mapped to {forgotten}; the next sync opens a "
            "new issue for it unless an issue carries its marker\n"
        )
        logger.info("forgot issue %s of item %s", forgotten, key)
    logger.info("re-queued item %s (%d journal entries settled)", key, settled)
    return 0


def check_issue_gone(settings, record) -> None:
    """Raise SyncdError unless the tracker confirms the record's issue is gone.

    Opening a new issue while the old one still exists (a person removed
    the managed label, or transferred the issue) would make a duplicate.
    """

    from syncd.errors import IssueGoneError, IssueMovedError, IssueNotFoundError
    from syncd.runner import open_trackers

    opened = open_trackers(settings, read_only=True)
    try:
        if record.target in opened.errors:
            raise SyncdError(
                f"cannot check {record.ref}: target {record.target} cannot be used: "
                f"{opened.errors[record.target]}",
                hint="try again once the target is reachable",
            )
        tracker = opened.trackers.get(record.target)
        if tracker is None:
            raise SyncdError(
                f"cannot check {record.ref}: target {record.target!r} is not in "
                "the config"
            )
        try:
            issue = tracker.get(record.number)
        except (IssueNotFoundError, IssueGoneError):
            return
        except IssueMovedError as error:
            raise SyncdError(
                f"{record.ref} was transferred ({error}), so it still exists",
                hint="close or delete the transferred issue first, then retry",
            ) from None
    finally:
        opened.close()
    raise SyncdError(
        f"{record.ref} still exists ({issue.state.value}), so --recreate would "
        "open a second issue for the item",
        hint="delete or close it on the tracker first, or put the managed label "
        "back so that syncd finds it again",
    )


def forget_issue(state, key: str) -> str | None:
    """Unmap the item's issue in the state file; return its reference, if it had one."""

    record = state.issue_record(key)
    if record is None or record.number is None:
        return None
    state.save_issue(
        record.with_changes(number=None, ref=None, url=None, closed_by_syncd=False)
    )
    return record.ref


def resolve_item(state, item: str) -> str:
    """Return the item key that ``item`` (a key, key prefix or issue ref) names."""

    records = state.issue_records()
    if item in records:
        return item
    by_ref = [key for key, record in records.items() if record.ref and record.ref == item]
    if len(by_ref) == 1:
        return by_ref[0]
    known_keys = set(records)
    known_keys.update(entry.key for entry in state.journal() if entry.key)
    if len(item) >= 6:
        matches = sorted(key for key in known_keys if key.startswith(item))
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            shown = ", ".join(matches[:5])
            raise SyncdError(
                f"item {item!r} is ambiguous: it matches {len(matches)} keys ({shown})",
                hint="give more characters of the key",
            )
    if len(item) < 6 and any(key.startswith(item) for key in known_keys):
        raise SyncdError(
            f"item {item!r} is too short a key prefix",
            hint="give at least 6 characters of the key, or the issue reference",
        )
    raise SyncdError(
        f"item {item!r} not found in the state file",
        hint="use a key or an issue reference from syncd status",
    )


def requeue_item(state, key: str) -> int:
    """Settle the item's failed and unfinished writes and clear its one-time notes.

    The next sync plans the item again, and its conflict or manual close
    counts as not yet noted. Unfinished creates are left alone, because the
    next run must still look for the issue they may have made. Returns the
    number of journal entries settled.
    """

    settled = 0
    for entry in state.journal():
        if entry.key != key:
            continue
        if entry.status == "failed" or (entry.status == "pending" and entry.action != "create"):
            state.settle_journal(entry.id, "requeued", error=entry.error)
            settled += 1
    record = state.issue_record(key)
    if record is not None and (record.conflict_noted or record.person_close_noted):
        state.save_issue(record.with_changes(conflict_noted=None, person_close_noted=False))
    return settled
