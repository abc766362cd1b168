"""User-facing text for errors and problems."""

from __future__ import annotations

import pytest

from syncd.errors import (
    AuthenticationError,
    ConfigError,
    ConfigProblem,
    DryRunWriteError,
    InputError,
    LockHeldError,
    RateLimitedError,
    SourceError,
    SyncdError,
)
from syncd.messages import (
    format_error,
    format_problem,
    format_tracker_error,
    problem_text,
)
from syncd.model import Problem, Severity


def test_config_error_lists_every_problem():
    error = ConfigError(
        [
            ConfigProblem(
                "syncd.yaml", 4, "sources.minutes.inclde", "unknown key 'inclde'"
            ),
            ConfigProblem("syncd.yaml", None, "", "cannot be read"),
        ]
    )

    text = format_error(error)

    assert text.splitlines() == [
        "error: invalid configuration (2 problems):",
        "  syncd.yaml:4: sources.minutes.inclde: unknown key 'inclde'",
        "  syncd.yaml: cannot be read",
    ]


def test_tracker_error_names_target_issue_and_status():
    error = AuthenticationError(
        "token rejected",
        target="ops",
        ref="acme/ops#4",
        status=401,
        hint="renew the token",
    )

    text = format_error(error)

    assert text == (
        "error: target ops: issue acme/ops#4: authentication failed: token rejected (HTTP 401)\n"
        "  hint: renew the token"
    )


def test_rate_limit_shows_wait():
    error = RateLimitedError("secondary rate limit", retry_after=61, target="ops")

    assert (
        format_tracker_error(error)
        == "target ops: secondary rate limit (retry after 61 s)"
    )


def test_source_and_input_errors_name_location():
    assert format_error(SourceError("minutes", "folder /x does not exist")) == (
        "error: source 'minutes': folder /x does not exist"
    )
    assert format_error(InputError("ops/a.md", 3, "duplicate key 'title'")) == (
        "error: ops/a.md:3: duplicate key 'title'"
    )


def test_lock_and_generic_errors_keep_hint():
    assert format_error(LockHeldError("held by pid 12", hint="wait")) == (
        "error: held by pid 12\n  hint: wait"
    )
    assert format_error(SyncdError("bad")) == "error: bad"


def test_dry_run_write_reads_as_bug():
    assert "report this as a bug" in format_error(DryRunWriteError("create()"))


def test_os_error_names_file():
    error = PermissionError(13, "Permission denied", "/etc/syncd/syncd.yaml")

    assert format_error(error) == "error: /etc/syncd/syncd.yaml: Permission denied"


def test_problem_line():
    assert format_problem(
        Problem("ops/a.md", 7, "owner XY is unknown", Severity.WARNING)
    ) == ("ops/a.md:7: warning: owner XY is unknown")
    assert (
        format_problem(Problem("minutes", None, "unreadable"))
        == "minutes: error: unreadable"
    )


def test_problem_text_adds_hint():
    assert problem_text(SyncdError("folder /x does not exist", hint="pass --source")) == (
        "folder /x does not exist (pass --source)"
    )
    assert problem_text(SyncdError("bad")) == "bad"


def test_dialect_problems_name_the_dialect_file(tmp_path):
    from syncd.errors import ConfigError
    from syncd.messages import format_error
    from syncd.parser import load_dialect

    dialect_file = tmp_path / "mine.yaml"
    dialect_file.write_text("bogus: 1\n", encoding="utf-8")

    with pytest.raises(ConfigError) as raised:
        load_dialect(str(dialect_file))
    text = format_error(raised.value)

    assert text.startswith("error: invalid dialect file (1 problem):")
    assert f"{dialect_file}:1: bogus: unknown key" in text
