"""The run lock: at most one syncd run per state folder at a time.

Two runs that overlap (the timer's and a manual ``syncd sync``) would both
list the tracker before either creates, and both would open the same issue.
The lock is an ``fcntl.flock`` on ``<state folder>/syncd.lock``. It is a
kernel lock, so it is released when the holder exits or is killed, even by
SIGKILL, and a later run takes it over without any clean-up. The file also
records who holds the lock (pid, start time, command) so that a run that
cannot get it can name the process in the way.

The lock file is never deleted: deleting it would let a waiting process lock
the old inode while a new one locks a fresh file, and both would run.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import json
import logging
import os
import socket
import sys
import time
from dataclasses import dataclass
from collections.abc import Callable
from pathlib import Path

from syncd.errors import LockHeldError

logger = logging.getLogger(__name__)

LOCK_FILE_NAME = "syncd.lock"

# Exit status when the lock stays held: EX_TEMPFAIL from sysexits.h, so a
# systemd unit can list it in SuccessExitStatus and a script can retry later.
EXIT_LOCKED = 75

# How often a waiting run retries the lock, in seconds.
POLL_INTERVAL = 0.1


@dataclass(frozen=True)
class LockHolder:
    """The process recorded in the lock file. Any field may be unknown."""

    pid: int | None
    started_at: str | None
    host: str | None = None
    command: str | None = None

    def describe(self) -> str:
        if self.pid is None:
            return "an unknown process"
        text = f"pid {self.pid}"
        if self.host and self.host != socket.gethostname():
            text += f" on {self.host}"
        if self.started_at:
            text += f", started {self.started_at}"
        if self.command:
            text += f" ({self.command})"
        return text


def read_holder(lock_path: Path) -> LockHolder:
    """Read the holder record from ``lock_path``, tolerating a missing or torn file."""

    try:
        data = json.loads(lock_path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return LockHolder(pid=None, started_at=None)
    if not isinstance(data, dict):
        return LockHolder(pid=None, started_at=None)
    pid = data.get("pid")
    return LockHolder(
        pid=pid if isinstance(pid, int) else None,
        started_at=data.get("started_at"),
        host=data.get("host"),
        command=data.get("command"),
    )


class RunLock:
    """Hold the run lock of ``state_dir`` for the duration of a ``with`` block.

    ``wait`` is how many seconds to wait for another run to finish, and 0
    fails at once. When the lock is still held after ``wait`` seconds, entering raises
    ``LockHeldError`` naming the holder. The error's ``holder`` attribute is
    the ``LockHolder``.
    """

    def __init__(
        self,
        state_dir: Path,
        wait: float = 0,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / LOCK_FILE_NAME
        self.wait = max(0.0, float(wait))
        # Checked while waiting, so a daemon asked to stop does not wait on.
        self.should_stop = should_stop
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + self.wait
        logged_wait = False
        try:
            while not self._try_lock(fd):
                if time.monotonic() >= deadline:
                    raise self._held_error()
                if self.should_stop is not None and self.should_stop():
                    raise self._held_error(stopped=True)
                if not logged_wait:
                    logger.info(
                        "waiting up to %.0f s for the run lock held by %s",
                        self.wait,
                        read_holder(self.path).describe(),
                    )
                    logged_wait = True
                time.sleep(min(POLL_INTERVAL, max(0.0, deadline - time.monotonic())))
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._write_holder(fd)
        logger.debug("took the run lock %s", self.path)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            # Clear the record first, so a finished run is never read as the holder.
            os.ftruncate(fd, 0)
        except OSError as error:
            logger.warning("could not clear the lock file %s: %s", self.path, error)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @staticmethod
    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        return True

    def _write_holder(self, fd: int) -> None:
        record = {
            "pid": os.getpid(),
            "started_at": datetime.datetime.now(datetime.timezone.utc)
            .replace(microsecond=0)
            .isoformat(),
            "host": socket.gethostname(),
            "command": " ".join(["syncd", *sys.argv[1:2]]),
        }
        payload = json.dumps(record).encode("utf-8")
        os.ftruncate(fd, 0)
        os.pwrite(fd, payload, 0)
        os.fsync(fd)

    def _held_error(self, stopped: bool = False) -> LockHeldError:
        holder = read_holder(self.path)
        waited = f" after waiting {self.wait:.0f} s" if self.wait else ""
        if stopped:
            waited = " (stopped waiting: syncd was asked to stop)"
        error = LockHeldError(
            f"another sync is running: the run lock {self.path} is held by "
            f"{holder.describe()}{waited}",
            hint="wait for that run to finish, or pass a longer lock wait",
        )
        error.holder = holder
        error.lock_path = self.path
        return error
