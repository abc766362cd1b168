"""The systemd notification protocol (sd_notify(3)), without libsystemd.

Under ``Type=notify`` systemd passes a Unix datagram socket in
``$NOTIFY_SOCKET``. The daemon sends ``READY=1`` once it runs, ``STATUS=...``
lines for ``systemctl status``, ``WATCHDOG=1`` at least every
``$WATCHDOG_USEC`` microseconds, and ``STOPPING=1`` when it shuts down. A
name starting with ``@`` is an abstract socket. Outside systemd there is no
socket and every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket

logger = logging.getLogger(__name__)

# Seconds to wait for room in the receiver's queue before dropping a message.
SEND_TIMEOUT = 0.5


class Notifier:
    """A connection to the notify socket, or a no-op when there is none."""

    def __init__(self, address: str | None = None) -> None:
        if address is None:
            address = os.environ.get("NOTIFY_SOCKET") or None
        self.address = address
        self._socket: socket.socket | None = None
        self._failed = False
        if address:
            self._socket = socket.socket(
                socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
            )
            # A receiver that stops reading fills its queue, and a blocking send
            # would then hang the daemon. Give up on one message instead.
            self._socket.settimeout(SEND_TIMEOUT)

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    def send(self, *assignments: str) -> bool:
        """Send ``KEY=value`` lines in one datagram. Return whether it was sent."""

        if self._socket is None or not self.address:
            return False
        target = self.address
        if target.startswith("@"):
            target = "\0" + target[1:]
        payload = "\n".join(assignments).encode("utf-8")
        try:
            self._socket.sendto(payload, target)
        except OSError as error:
            # Log the first failure of a run of them only, because the watchdog
            # would repeat it every few seconds.
            if not self._failed:
                logger.warning("could not notify systemd at %s: %s", self.address, error)
                self._failed = True
            return False
        self._failed = False
        return True

    def ready(self, status: str | None = None) -> bool:
        lines = ["READY=1", f"MAINPID={os.getpid()}"]
        if status:
            lines.append(f"STATUS={status}")
        return self.send(*lines)

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def reloading(self) -> bool:
        return self.send("RELOADING=1")

    def stopping(self, status: str | None = None) -> bool:
        lines = ["STOPPING=1"]
        if status:
            lines.append(f"STATUS={status}")
        return self.send(*lines)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def watchdog_interval() -> float | None:
    """Return how often to send ``WATCHDOG=1``, in seconds, or None if no watchdog is set.

    systemd expects a ping within ``$WATCHDOG_USEC`` microseconds. Pinging at
    half that interval leaves room for one late ping. ``$WATCHDOG_PID``, when
    set, must be this process.
    """

    value = os.environ.get("WATCHDOG_USEC", "")
    if not value.isdigit() or int(value) == 0:
        return None
    watchdog_pid = os.environ.get("WATCHDOG_PID", "")
    if watchdog_pid.isdigit() and int(watchdog_pid) != os.getpid():
        return None
    return int(value) / 1_000_000 / 2
