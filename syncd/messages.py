"""The one place that turns errors and problems into text for users.

Every message names what failed (file and line, target, source or issue),
the value involved, and, when the error carries a hint, what to do next.
The CLI and the daemon print these, and no other module formats an
exception for a person. Every error's text is masked here as in the logs
(``syncd.logsetup.redact``), although the adapters already mask their token
in the errors they raise.
"""

from __future__ import annotations

from syncd.errors import (
    AuthenticationError,
    ConfigError,
    ConfigProblem,
    DryRunWriteError,
    GuardError,
    InputError,
    LockHeldError,
    RateLimitedError,
    SourceError,
    SyncdError,
    TargetUnavailableError,
    TrackerError,
)
from syncd.logsetup import redact
from syncd.model import Problem


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """Return ``1 issue`` or ``2 issues``: the count with the noun in the right number."""

    if count == 1:
        return f"{count} {noun}"
    return f"{count} {plural_noun or noun + 's'}"


def format_location(path: str, line: int | None) -> str:
    return path if line is None else f"{path}:{line}"


def format_problem(problem: Problem) -> str:
    """Return ``path:line: severity: message`` for one problem.

    A problem with no file, such as two issues with one marker, has no location.
    """

    text = f"{problem.severity.value}: {problem.message}"
    if not problem.path:
        return text
    return f"{format_location(problem.path, problem.line)}: {text}"


def error_text(error: BaseException) -> str:
    """Return an error's message with tokens and other secrets masked.

    This is the text for a report, a JSON field or the state file.
    """

    return redact(str(error))


def problem_text(error: SyncdError) -> str:
    """Return the message of an error that became a problem of one file, source or target.

    The problem already names its file, source or target, so the text is the
    error's message with its hint, if any, in parentheses.
    """

    text = f"{error} ({error.hint})" if error.hint else str(error)
    return redact(text)


def format_config_problem(problem: ConfigProblem) -> str:
    return str(problem)


def _hint(error: SyncdError) -> str:
    return f"\n  hint: {error.hint}" if error.hint else ""


def format_error(error: BaseException) -> str:
    """Return the text shown for an error that ended a command, secrets masked."""

    return redact(_format_error(error))


def _format_error(error: BaseException) -> str:
    if isinstance(error, ConfigError):
        count = plural(len(error.problems), "problem")
        lines = [f"error: invalid {error.what} ({count}):"]
        lines += [f"  {format_config_problem(problem)}" for problem in error.problems]
        return "\n".join(lines)
    if isinstance(error, LockHeldError):
        return f"error: {error}{_hint(error)}"
    if isinstance(error, GuardError):
        return f"error: stopped before closing issues: {error}{_hint(error)}"
    if isinstance(error, DryRunWriteError):
        return (
            f"error: internal error, a dry run tried to write: {error}\n"
            "  hint: nothing was written; please report this as a bug"
        )
    if isinstance(error, TrackerError):
        return f"error: {format_tracker_error(error)}{_hint(error)}"
    if isinstance(error, SourceError):
        return f"error: source {error.source!r}: {error}{_hint(error)}"
    if isinstance(error, InputError):
        return (
            f"error: {format_location(error.path, error.line)}: {error}{_hint(error)}"
        )
    if isinstance(error, SyncdError):
        return f"error: {error}{_hint(error)}"
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return f"error: {where}{error.strerror or error}"
    return f"error: unexpected {type(error).__name__}: {error}"


def format_tracker_error(error: TrackerError) -> str:
    """Return ``target X: issue R: message (HTTP N)`` with the parts that are known."""

    parts = []
    if error.target:
        parts.append(f"target {error.target}")
    if error.ref:
        parts.append(f"issue {error.ref}")
    text = str(error)
    if isinstance(error, AuthenticationError):
        text = f"authentication failed: {text}"
    elif isinstance(error, TargetUnavailableError):
        text = f"target unavailable: {text}"
    elif isinstance(error, RateLimitedError) and error.retry_after is not None:
        text = f"{text} (retry after {error.retry_after:.0f} s)"
    if error.status is not None:
        text = f"{text} (HTTP {error.status})"
    parts.append(text)
    return redact(": ".join(parts))
