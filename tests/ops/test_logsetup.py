"""Log formats, journald detection and redaction of secrets."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from syncd import logsetup

# A child process that configures logging as the CLI does and logs three lines.
CHILD_SCRIPT = """
import logging, sys
from syncd import logsetup
logsetup.configure(int(sys.argv[1]), sys.argv[2])
logsetup.register_secret("s3cret-token-value")
log = logging.getLogger("syncd.engine")
log.info("created issue acme/ops#3", extra={"item": "abc123"})
log.debug("token is s3cret-token-value")
log.warning("header Authorization: token ghp_abcdefghijklmnopqrstuvwxyz0123")
"""


def run_child(verbosity: int, log_format: str, env: dict | None = None) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD_SCRIPT, str(verbosity), log_format],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=True,
    )
    assert result.stdout == ""
    return result.stderr.splitlines()


def test_text_lines_have_timestamps():
    lines = run_child(0, "text", env={"JOURNAL_STREAM": ""})
    assert len(lines) == 2
    assert lines[0].endswith("INFO syncd.engine: created issue acme/ops#3")
    assert lines[0][:4].isdigit()


def test_debug_shown_at_verbosity_one():
    lines = run_child(1, "text")
    assert any("token is ***" in line for line in lines)


def test_secrets_are_redacted():
    lines = run_child(1, "text")
    text = "\n".join(lines)
    assert "s3cret-token-value" not in text
    assert "ghp_abcdef" not in text
    assert "Authorization: token ***" in text


def test_json_format_carries_extra_fields():
    lines = run_child(0, "json")
    entries = [json.loads(line) for line in lines]
    assert entries[0]["message"] == "created issue acme/ops#3"
    assert entries[0]["level"] == "info"
    assert entries[0]["logger"] == "syncd.engine"
    assert entries[0]["item"] == "abc123"
    assert entries[0]["time"].endswith("Z")


def test_journald_lines_have_priority_prefix(tmp_path):
    # Point JOURNAL_STREAM at the file that stderr is written to, as systemd does.
    stderr_path = tmp_path / "stderr"
    with open(stderr_path, "w") as stderr_file:
        status = os.fstat(stderr_file.fileno())
        subprocess.run(
            [sys.executable, "-c", CHILD_SCRIPT, "0", "text"],
            stderr=stderr_file,
            env={**os.environ, "JOURNAL_STREAM": f"{status.st_dev}:{status.st_ino}"},
            check=True,
        )
    lines = stderr_path.read_text().splitlines()
    assert lines[0] == "<6>syncd.engine: created issue acme/ops#3"
    assert lines[1].startswith("<4>syncd.engine: ")


def test_inherited_journal_stream_is_ignored():
    lines = run_child(0, "text", env={"JOURNAL_STREAM": "1:2"})
    assert not lines[0].startswith("<")


def test_unknown_format_is_rejected():
    with pytest.raises(ValueError, match="unknown log format"):
        logsetup.configure(0, "xml")


def test_configure_twice_keeps_one_handler():
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        logsetup.configure(0)
        logsetup.configure(1)
        ours = [handler for handler in root.handlers if handler.get_name() == "syncd"]
        assert len(ours) == 1
    finally:
        for handler in list(root.handlers):
            if handler not in before:
                root.removeHandler(handler)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("https://bot:hunter2secret@example.invalid/x", "https://bot:***@example.invalid/x"),
        ("PRIVATE-TOKEN: glpat-abcdefghij0123456789", "PRIVATE-TOKEN: ***"),
        ("plain words stay", "plain words stay"),
    ],
)
def test_redact_patterns(text, expected):
    assert logsetup.redact(text) == expected


def test_sync_logs_one_line_per_write(tmp_path):
    from tests.ops.support import SYNCD, local_config, syncd_environment, write_minutes

    write_minutes(tmp_path / "minutes" / "weekly", "2026-03-02", ["AB: Write the notes.", "CD: Book the room."])
    local_config(tmp_path)
    result = subprocess.run(
        [SYNCD, "--config", "syncd.yaml", "--log-format", "json", "sync"],
        cwd=tmp_path,
        env=syncd_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    writes = [entry for entry in entries if "action" in entry]
    assert [entry["action"] for entry in writes] == ["ensure_label", "create", "create"]
    assert all(entry["level"] == "info" for entry in writes)
    assert all(entry["target"] == "ops" for entry in writes)
    assert {entry["ref"] for entry in writes[1:]} == {"ops#1", "ops#2"}


def test_loaded_token_is_masked(tmp_path):
    # The adapters' token loader registers what it reads, so a client
    # library that prints the token (here a warning with it in full) is masked.
    script = (
        "import logging\n"
        "from syncd import logsetup\n"
        "from syncd_adapters._tokens import resolve_token\n"
        "logsetup.configure(0)\n"
        "token = resolve_token({'token_env': 'T'}, default_env='T', target='ops', environ={'T': 'plain-token-1234'})\n"
        "logging.getLogger('urllib3').warning('sent Authorization ' + str.__str__(token))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "plain-token-1234" not in result.stderr
    assert "sent Authorization ***" in result.stderr
