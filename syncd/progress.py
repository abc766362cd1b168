"""A progress bar for long first syncs, shown only to a person at a terminal.

The bar is drawn on stderr when stderr is a terminal, and never under
journald, in CI logs, with ``TERM=dumb`` or with JSON logs, where carriage
returns would only clutter the log. Otherwise every call does nothing, so
callers need no checks of their own.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import TextIO

from syncd.logsetup import under_journald

# Seconds between redraws, so a fast loop does not spend its time drawing.
REDRAW_INTERVAL = 0.1
BAR_WIDTH = 30


def progress_enabled(stream: TextIO | None = None) -> bool:
    stream = sys.stderr if stream is None else stream
    try:
        is_terminal = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return (
        is_terminal
        and os.environ.get("TERM", "") != "dumb"
        and not os.environ.get("CI")
        and not under_journald(stream)
    )


class Progress:
    """``label [#####.....] 12/40`` redrawn in place, cleared by ``close``."""

    def __init__(
        self, total: int, label: str, stream: TextIO | None = None, enabled: bool | None = None
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.total = max(0, total)
        self.label = label
        self.done = 0
        self.enabled = progress_enabled(self.stream) if enabled is None else enabled
        self._last_draw = 0.0
        self._log_filter: logging.Filter | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._clear_before_log_lines()
        return self

    def _clear_before_log_lines(self) -> None:
        # A log line written while the bar is drawn would start after the bar.
        # The filter clears the bar first, and the next advance() redraws it.
        progress = self

        class ClearBar(logging.Filter):
            def filter(self, record: logging.LogRecord) -> bool:
                if progress._last_draw:
                    progress.stream.write("\r\x1b[2K")
                    progress._last_draw = 0.0
                return True

        self._log_filter = ClearBar()
        for handler in logging.getLogger().handlers:
            handler.addFilter(self._log_filter)

    def __exit__(self, *exc_info) -> None:
        self.close()

    def advance(self, count: int = 1) -> None:
        self.done = min(self.total, self.done + count) if self.total else self.done + count
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last_draw >= REDRAW_INTERVAL or self.done == self.total:
            self._draw()
            self._last_draw = now

    def render(self) -> str:
        if self.total:
            filled = BAR_WIDTH * self.done // self.total
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            return f"{self.label} [{bar}] {self.done}/{self.total}"
        return f"{self.label} {self.done}"

    def _draw(self) -> None:
        self.stream.write("\r\x1b[2K" + self.render())
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._last_draw:
            # Clear the bar so the next log line starts on a clean line.
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
        if self._log_filter is not None:
            for handler in logging.getLogger().handlers:
                handler.removeFilter(self._log_filter)
            self._log_filter = None
        self.enabled = False
