"""A fake systemd notify socket: a Unix datagram socket that records messages."""

from __future__ import annotations

import socket
import time
from pathlib import Path


class NotifySocket:
    """Bind ``path`` and collect the ``KEY=value`` lines sent to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(str(path))
        self.messages: list[dict[str, str]] = []

    def drain(self) -> None:
        """Read every message already queued, without waiting for more."""

        while self._receive(0.001):
            pass

    def close(self) -> None:
        if self.socket.fileno() != -1:
            self.drain()
            self.socket.close()

    def _receive(self, timeout: float) -> bool:
        self.socket.settimeout(max(timeout, 0.001))
        try:
            payload = self.socket.recv(65536)
        except (socket.timeout, BlockingIOError):
            return False
        fields = {}
        for line in payload.decode("utf-8").splitlines():
            key, _, value = line.partition("=")
            fields[key] = value
        self.messages.append(fields)
        return True

    def wait_for(self, key: str, value: str | None = None, timeout: float = 15.0) -> dict:
        """Return the first message, old or new, with ``key`` (equal to ``value``)."""

        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for message in self.messages[seen:]:
                if key in message and (value is None or message[key] == value):
                    return message
            seen = len(self.messages)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {key} message within {timeout} s: {self.messages}")
            self._receive(remaining)

    def count(self, key: str) -> int:
        return sum(1 for message in self.messages if key in message)
