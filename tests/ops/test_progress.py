"""The progress bar draws only on a terminal."""

from __future__ import annotations

import io
import os
import pty

from syncd.progress import Progress, progress_enabled


def test_disabled_for_pipe():
    stream = io.StringIO()
    with Progress(10, "creating issues", stream=stream) as progress:
        progress.advance(10)
    assert stream.getvalue() == ""


def test_enabled_on_terminal(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    leader, follower = pty.openpty()
    try:
        with os.fdopen(follower, "w", closefd=False) as stream:
            assert progress_enabled(stream)
            monkeypatch.setenv("TERM", "dumb")
            assert not progress_enabled(stream)
            monkeypatch.setenv("TERM", "xterm")
            monkeypatch.setenv("CI", "true")
            assert not progress_enabled(stream)
    finally:
        os.close(leader)
        os.close(follower)


def test_render_shows_count():
    progress = Progress(40, "creating issues", stream=io.StringIO(), enabled=False)
    progress.advance(12)
    assert progress.render() == "creating issues [#########.....................] 12/40"


def test_drawn_and_cleared_when_enabled():
    stream = io.StringIO()
    with Progress(2, "files", stream=stream, enabled=True) as progress:
        progress.advance()
        progress.advance()
    output = stream.getvalue()
    assert "files [" in output
    assert output.endswith("\r\x1b[2K")


def test_log_line_clears_bar():
    import logging

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with Progress(3, "files", stream=stream, enabled=True) as progress:
            progress.advance()
            logging.getLogger("syncd.test").warning("a warning")
            progress.advance()
    finally:
        root.removeHandler(handler)
    output = stream.getvalue()
    assert "\r\x1b[2Ka warning\n" in output
    assert output.index("a warning") < output.rindex("files [")
    assert handler.filters == []
