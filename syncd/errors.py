"""syncd's own exception types.

Adapters translate PyGithub, python-gitlab and httpx exceptions into these at
their boundary, so the engine and the CLI never see a client library's
exception. ``syncd.messages`` is the one place that turns them into text for
users.
"""

from __future__ import annotations

from dataclasses import dataclass


class SyncdError(Exception):
    """Base class. ``hint`` tells the user what to do next, when known."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a config or dialect file.

    ``key_path`` is the dotted path of the key (``targets.ops.repo``), or an
    empty string for a problem with the file as a whole.
    """

    path: str
    line: int | None
    key_path: str
    message: str

    def __str__(self) -> str:
        location = self.path if self.line is None else f"{self.path}:{self.line}"
        key = f" {self.key_path}:" if self.key_path else ""
        return f"{location}:{key} {self.message}"


class ConfigError(SyncdError):
    """A config, dialect or roster file is invalid; ``problems`` lists all of it."""

    def __init__(
        self, problems: list[ConfigProblem], *, what: str = "configuration"
    ) -> None:
        self.problems = list(problems)
        # What kind of file is invalid: "configuration", "dialect file", "roster".
        self.what = what
        lines = "\n".join(str(problem) for problem in self.problems)
        super().__init__(f"invalid {what}:\n{lines}")


class InputError(SyncdError):
    """A minutes file cannot be read or parsed. It affects only that file."""

    def __init__(self, path: str, line: int | None, message: str, **kwargs) -> None:
        self.path = path
        self.line = line
        super().__init__(message, **kwargs)


class SourceError(SyncdError):
    """A whole source (folder, git repository, URL) cannot be read."""

    def __init__(self, source: str, message: str, **kwargs) -> None:
        self.source = source
        super().__init__(message, **kwargs)


class LockHeldError(SyncdError):
    """Another syncd run holds the run lock of the state folder."""


class GuardError(SyncdError):
    """A safety guard stopped the run before it closed issues."""


class DryRunWriteError(SyncdError):
    """A write was attempted through a tracker opened for a dry run.

    This is a programming error: plan and dry-run code must only read.
    """


class TrackerError(SyncdError):
    """A tracker call failed. ``target`` names the configured target."""

    # True when the whole target is unusable for this run (bad token, issues
    # disabled, repository missing); False when only one issue is affected.
    target_wide: bool = False

    def __init__(
        self,
        message: str,
        *,
        target: str | None = None,
        ref: str | None = None,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.target = target
        self.ref = ref
        self.status = status
        super().__init__(message, hint=hint)


class TransientTrackerError(TrackerError):
    """A failure that may pass: 5xx, timeout, dropped connection."""


class AmbiguousWriteError(TransientTrackerError):
    """A write whose outcome is unknown: the server may have committed it.

    A create that fails this way must not be re-sent blindly; the caller looks
    for the issue's marker first.
    """


class RateLimitedError(TransientTrackerError):
    """The tracker asked syncd to slow down.

    ``retry_after`` is in seconds from now, ``reset_at`` a Unix time; either
    may be None.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        reset_at: float | None = None,
        **kwargs,
    ) -> None:
        self.retry_after = retry_after
        self.reset_at = reset_at
        super().__init__(message, **kwargs)


class AuthenticationError(TrackerError):
    """The token is missing, invalid or expired."""

    target_wide = True


class TargetUnavailableError(TrackerError):
    """The project cannot be used: not found, no access, or issues disabled."""

    target_wide = True


class IssueNotFoundError(TrackerError):
    """One issue does not exist or is not visible to the token."""


class IssueGoneError(TrackerError):
    """One issue was deleted (410)."""


class IssueMovedError(TrackerError):
    """One issue was transferred to another project (301)."""

    def __init__(self, message: str, *, location: str | None = None, **kwargs) -> None:
        self.location = location
        super().__init__(message, **kwargs)


class PermissionDeniedError(TrackerError):
    """The token may not do this to one issue (403), for example a locked one."""


class IssueLockedError(PermissionDeniedError):
    """The issue's conversation is locked, so comments are refused."""


class ValidationFailedError(TrackerError):
    """The tracker rejected a field value (422 on GitHub, 400 on GitLab)."""

    def __init__(self, message: str, *, field: str | None = None, **kwargs) -> None:
        self.field = field
        super().__init__(message, **kwargs)
