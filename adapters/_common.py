"""Shared parts of the GitHub and GitLab adapters: options, limits, caches and pacing."""

from __future__ import annotations

import hashlib
import logging
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests
from syncd_adapters._http_cache import CachedPage, PageCache
from syncd_adapters._options import read_number
from syncd_adapters._retry import (
    RequestRunner,
    RetryPolicy,
    WritePacer,
    pacing_from_options,
    validate_retry_options,
)
from syncd_adapters._tokens import (
    INLINE_TOKEN_OPTIONS,
    resolve_token,
    validate_token_options,
)

from syncd.errors import (
    AmbiguousWriteError,
    ConfigError,
    ConfigProblem,
    SyncdError,
    TrackerError,
    TransientTrackerError,
)
from syncd.logsetup import mask_secret
from syncd.settings import PacingSettings, TargetSettings
from syncd.tracker import Issue, Tracker

log = logging.getLogger("syncd_adapters")

# Kinds of request, which decide how failures are read.
READ = "read"
WRITE = "write"  # idempotent: sending it twice leaves the same result
CREATE = "create"  # not idempotent: a lost response is an unknown outcome

TRUNCATION_NOTE = "\n\n*(Truncated by syncd: the tracker's length limit was reached.)*"

# Seconds; every request of both clients gets an explicit timeout, because
# python-gitlab waits forever by default.
DEFAULT_TIMEOUT = 30.0

# How long the result of "may this account be assigned?" is reused across
# runs. A stale "yes" costs nothing: both trackers leave an account they
# cannot assign off the issue (GitHub's 422 makes the create retry without it).
ASSIGNABLE_MAX_AGE = 6 * 3600.0

COMMON_OPTIONS = frozenset(
    {
        "base_url",
        "token_env",
        "token_file",
        "token_credential",
        "timeout",
        "per_page",
        "max_attempts",
        "max_rate_limit_wait",
        "wait_budget",
        "min_write_interval",
        "writes_per_minute",
        "writes_per_hour",
    }
)


def validate_base_url(value: object) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, str):
        return [("base_url", f"must be a URL, not {type(value).__name__}")]
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [("base_url", f"{value!r} is not an http:// or https:// URL")]
    if parts.query or parts.fragment:
        return [("base_url", f"{value!r} must not have a query or fragment")]
    return []


def validate_common_options(
    options: Mapping, known: frozenset[str]
) -> list[tuple[str, str]]:
    """Return (option, message) pairs for the options both adapters take."""

    problems = []
    # An inline token gets its own message from validate_token_options.
    for key in sorted(set(options) - known - set(INLINE_TOKEN_OPTIONS)):
        problems.append((key, f"unknown option (known: {', '.join(sorted(known))})"))
    problems.extend(validate_base_url(options.get("base_url")))
    problems.extend(validate_token_options(options))
    problems.extend(validate_retry_options(options))
    try:
        per_page = read_number(options, "per_page", None, integer=True)
    except ValueError as error:
        problems.append(("per_page", str(error)))
    else:
        if per_page is not None and not 1 <= per_page <= 100:
            problems.append(("per_page", f"must be from 1 to 100, not {per_page}"))
    return problems


def fit_title(title: str, limit: int) -> str:
    """Cut ``title`` to ``limit`` characters, ending with an ellipsis when cut."""

    if len(title) <= limit:
        return title
    return title[: limit - 1].rstrip() + "…"


def fit_body(body: str, limit: int) -> str:
    """Cut ``body`` to ``limit`` characters with a truncation note.

    The marker sits at the start of the body, so cutting the end keeps it.
    """

    if len(body) <= limit:
        return body
    return body[: limit - len(TRUNCATION_NOTE)] + TRUNCATION_NOTE


def without_token(error: SyncdError, token: str) -> SyncdError:
    """Return ``error`` with ``token`` masked in its message, hint and location.

    A server can echo the request's token in an error body (a proxy that
    prints the Authorization header, a validation message that quotes it),
    and the adapter builds its messages from those bodies. The error is
    changed in place, so its type and other fields stay.
    """

    if not token:
        return error
    error.args = tuple(
        mask_secret(argument, token) if isinstance(argument, str) else argument
        for argument in error.args
    )
    for name in ("hint", "location"):
        value = error.__dict__.get(name)
        if isinstance(value, str):
            setattr(error, name, mask_secret(value, token))
    return error


def safe_file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) or "target"


class _Write:
    """One write of this run: its endpoint template, issue number and body."""

    __slots__ = ("endpoint", "number", "sets_state")

    def __init__(self, endpoint: str, number: int | None, body: Any) -> None:
        self.endpoint = endpoint
        self.number = number
        # A close or reopen: "state" on GitHub, "state_event" on GitLab.
        self.sets_state = isinstance(body, Mapping) and (
            "state" in body or "state_event" in body
        )


def _any_write(writes: list[_Write]) -> bool:
    return bool(writes)


class RemoteTracker(Tracker):
    """A tracker behind an HTTP API, with the run's caches and its request runner.

    ``pacing`` comes from ``Settings.pacing``; the target's options may
    override each of its values. ``clock``, ``monotonic`` and ``sleep`` are
    for tests, which run waits on a simulated clock.
    """

    default_token_env = ""
    default_base_url = ""
    known_options: frozenset[str] = COMMON_OPTIONS
    # The failure scope of a list read that belongs to no one issue.
    list_scope = ""
    # The endpoint of the issue list; writes under it touch issues.
    issues_endpoint = ""
    # The tracker's name in warnings.
    service = ""
    # The adapter paces its own writes (syncd_adapters._retry.WritePacer),
    # so the engine must not add a second gap on top.
    needs_pacing = False

    def __init__(
        self,
        name: str,
        options: dict,
        *,
        state_dir: Path | None = None,
        pacing: PacingSettings | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(name)
        problems = self.validate_options(options)
        if problems:
            raise ConfigError(
                [
                    ConfigProblem(
                        path="",
                        line=None,
                        key_path=f"targets.{name}.{key}",
                        message=text,
                    )
                    for key, text in problems
                ]
            )
        self.options = dict(options)
        self.base_url = str(options.get("base_url") or self.default_base_url).rstrip(
            "/"
        )
        self.timeout = read_number(options, "timeout", DEFAULT_TIMEOUT)
        self.per_page = read_number(options, "per_page", 100, integer=True)
        self._token = resolve_token(
            options, default_env=self.default_token_env, target=name, environ=environ
        )

        pacing_settings = pacing_from_options(options, pacing or self.default_pacing())
        pacer = WritePacer(
            pacing_settings,
            clock=monotonic or (clock if clock is not time.time else time.monotonic),
            sleep=sleep,
        )
        self.runner = RequestRunner(
            RetryPolicy.from_options(options),
            pacer,
            clock=clock,
            sleep=sleep,
            target=name,
        )

        # The cache scope carries a digest of the token, never the token.
        token_digest = hashlib.sha256(self._token.encode("utf-8")).hexdigest()[:16]
        cache_path = None
        if state_dir is not None:
            cache_path = Path(state_dir) / f"http-cache-{safe_file_name(name)}.sqlite"
        self.cache = PageCache(cache_path, scope=f"{self.base_url} {token_digest}")

        self._label_names: set[str] | None = None
        self._milestone_ids: dict[str, int] | None = None
        self._assignable: dict[str, bool] = {}
        self._account: str | None = None
        # Reads to repeat at the end of a run that wrote, keyed by URL, each
        # with a test of whether this run's writes changed what it read. A
        # list's entry reads only its first page (see refresh_after_writes).
        self._refreshers: dict[
            str, tuple[Callable[[], object], Callable[[list[_Write]], bool]]
        ] = {}
        self._writes: list[_Write] = []
        self._persistent_cache = state_dir is not None

    @classmethod
    def default_pacing(cls) -> PacingSettings:
        return PacingSettings()

    @classmethod
    def from_settings(
        cls,
        target: TargetSettings,
        *,
        state_dir: Path,
        read_only: bool = False,
        pacing: PacingSettings | None = None,
    ) -> RemoteTracker:
        # A plan or dry run must not create files, so its ETag store is in
        # memory and its list requests are plain ones.
        return cls(
            target.name,
            dict(target.options),
            state_dir=None if read_only else state_dir,
            pacing=pacing,
        )

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        log.warning("target %s: %s", self.name, message)

    def remember_read(
        self,
        url: str,
        read: Callable[[], object],
        changed_by: Callable[[list[_Write]], bool] | None = None,
    ) -> None:
        """Note a read to repeat if this run's writes changed it; see ``refresh_after_writes``.

        ``changed_by`` returns, from the run's writes, whether the response
        to this read changed. None means any write may have changed it.
        """

        self._refreshers.setdefault(url, (read, changed_by or _any_write))

    def note_write(self, endpoint: str, number: int | None, body: Any) -> None:
        self._writes.append(_Write(endpoint, number, body))

    def changes_repository(self, writes: list[_Write]) -> bool:
        """Return whether ``writes`` changed the repository's or project's own record.

        Its open issue count moves when an issue is created, closed or
        reopened. Edits and comments leave it as it was.
        """

        return any(
            write.endpoint == self.issues_endpoint
            or (write.endpoint.startswith(self.issues_endpoint) and write.sets_state)
            for write in writes
        )

    def refresh_after_writes(self) -> None:
        """Repeat this run's reads that its writes changed, so the stored ETags are current.

        Without this, the next run's conditional requests would carry ETags
        from before this run's own writes and get full 200 responses. A read
        whose response the writes left alone (the labels after issue edits)
        is not repeated. A list is read again at its first page only, so the
        refresh costs one request per read. Issue lists are newest first, so
        that page contains this run's creates, and a list of at most
        ``per_page`` items is that page alone. Later pages of a longer list
        get one 200 in the next run and 304 after that. Reading them here
        would spend the same rate-limit units but add a request per page to
        every run that wrote.
        """

        writes, self._writes = self._writes, []
        if not (writes and self._persistent_cache):
            return
        for url, (read, changed_by) in list(self._refreshers.items()):
            if not changed_by(writes):
                continue
            try:
                read()
            except SyncdError as error:
                log.info(
                    "target %s: refreshing %s after writes failed: %s",
                    self.name,
                    url,
                    error,
                )

    def close_session(self) -> None:
        self.refresh_after_writes()
        self.cache.close()

    # Pages of a list: ``_list_all`` builds the first page's URL, and the
    # pages themselves are read the same way on both trackers.

    def _read_list(
        self, first_url: str, *, endpoint: str, number: int | None
    ) -> list[dict]:
        """Read every page of a list, and note its first page for the refresh."""

        first_page: list[dict] = []
        items = self._read_pages(
            first_url, endpoint=endpoint, number=number, first_page=first_page
        )
        # The numbers of the issues on the first page (iid on GitLab).
        on_first_page = {
            entry.get("iid", entry.get("number"))
            for entry in first_page
            if isinstance(entry, dict)
        }

        def changed_by(writes: list[_Write]) -> bool:
            # A create under the list's endpoint adds to its first page. Any
            # other write changes the list only when it touches an entry on
            # that page: an issue of an issue list, or the issue whose
            # comments the list contains.
            for write in writes:
                if not write.endpoint.startswith(endpoint):
                    continue
                if number is not None:
                    if write.number == number:
                        return True
                elif write.number is None or write.number in on_first_page:
                    return True
            return False

        self.remember_read(
            first_url,
            lambda: self._read_pages(
                first_url, endpoint=endpoint, number=number, max_pages=1
            ),
            changed_by,
        )
        return items

    def _read_pages(
        self,
        page_url: str | None,
        *,
        endpoint: str,
        number: int | None,
        max_pages: int | None = None,
        first_page: list[dict] | None = None,
    ) -> list[dict]:
        """Read a list from ``page_url`` on, following ``next`` links.

        Each page is a conditional GET whose ETag and body are stored.
        ``max_pages`` stops the read after that many pages, and the entries
        of the first page are added to ``first_page`` when it is given.
        """

        seen: set[str] = set()
        items: list[dict] = []
        while page_url and (max_pages is None or len(seen) < max_pages):
            if page_url in seen:
                raise TransientTrackerError(
                    f"pagination of {endpoint} returned to a page already read",
                    target=self.name,
                )
            seen.add(page_url)
            page, page_url = self._call(
                READ,
                "GET",
                page_url,
                endpoint=endpoint,
                scope="issue" if number is not None else self.list_scope,
                number=number,
                paged=True,
            )
            if not page:
                break
            if first_page is not None and len(seen) == 1:
                first_page.extend(page)
            items.extend(page)
        return items

    def missing_labels(self, names: list[str]) -> list[str]:
        known = {name.lower() for name in self._labels()}
        return [name for name in names if name.lower() not in known]

    def missing_milestones(self, titles: list[str]) -> list[str]:
        known = self._milestones()
        return [title for title in titles if title not in known]

    def _milestone_key(self, title: str) -> int:
        """Return what issue fields name milestone ``title`` by; create it if missing."""

        milestones = self._milestones()
        if title not in milestones:
            self.ensure_milestone(title)
        return milestones[title]

    def _check_assigned(self, issue: Issue, requested: list[str]) -> None:
        # Both trackers drop an assignee silently when the account may not
        # be assigned (on GitHub, when the token lacks push access).
        present = {account.lower() for account in issue.assignees}
        dropped = [account for account in requested if account.lower() not in present]
        if dropped:
            self.warn(f"{self.service} dropped assignees {dropped} on {issue.ref}")

    # The request layer: one attempt is ``_send``; ``_call`` adds the runner.

    def _call(
        self,
        kind: str,
        verb: str,
        url: str,
        *,
        endpoint: str,
        scope: str,
        number: int | None = None,
        body: Any = None,
        paged: bool = False,
        return_status: bool = False,
    ) -> Any:
        def attempt() -> Any:
            try:
                return self._send(
                    kind,
                    verb,
                    url,
                    endpoint=endpoint,
                    scope=scope,
                    number=number,
                    body=body,
                    paged=paged,
                    return_status=return_status,
                )
            except TrackerError as error:
                # Before the retry log or any caller sees the error.
                raise without_token(error, self._token)

        try:
            return self.runner.run(
                attempt, write=kind != READ, description=f"{verb} {endpoint}"
            )
        finally:
            # An ambiguous write may have been stored too.
            if kind != READ:
                self.note_write(endpoint, number, body)

    def _lost(
        self, kind: str, message: str, ref: str | None, status: int | None = None
    ) -> TrackerError:
        if kind == CREATE:
            return AmbiguousWriteError(
                message + "; the write may have been stored, so it is not re-sent",
                target=self.name,
                ref=ref,
                status=status,
            )
        return TransientTrackerError(message, target=self.name, ref=ref, status=status)

    def _lost_in_transport(
        self,
        kind: str,
        verb: str,
        endpoint: str,
        ref: str | None,
        error: requests.exceptions.RequestException,
    ) -> TrackerError:
        """Count a request that got no response and say how it was lost."""

        self.stats.count(verb, endpoint, 0)
        if isinstance(error, requests.exceptions.Timeout):
            return self._lost(
                kind, f"{verb} {endpoint} timed out after {self.timeout:g} s", ref
            )
        if isinstance(
            error,
            (
                requests.exceptions.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
            ),
        ):
            return self._lost(
                kind,
                f"{verb} {endpoint} failed: connection error ({type(error).__name__})",
                ref,
            )
        # Anything else requests raises, such as too many redirects.
        return self._lost(
            kind, f"{verb} {endpoint} failed: {type(error).__name__}", ref
        )

    # Conditional reads: each GET sends the stored ETag; a 304 answers it
    # from the stored page.

    def _not_modified(
        self, cached: CachedPage | None, verb: str, endpoint: str, paged: bool
    ) -> Any:
        if cached is None:
            raise TransientTrackerError(
                f"{verb} {endpoint}: 304 Not Modified without a stored page",
                target=self.name,
            ) from None
        return (cached.body, cached.next_url) if paged else cached.body

    def _store_page(
        self, url: str, etag: str | None, data: Any, next_url: str | None
    ) -> None:
        if etag:
            self.cache.put(url, etag, data, next_url)
        else:
            self.cache.discard(url)
