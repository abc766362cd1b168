"""The GitHub tracker: one repository on github.com or GitHub Enterprise Server.

Requests go through PyGithub's ``Requester`` (its authentication, base-URL
prefix, redirect rules and timeout), with PyGithub's own retries and
throttling switched off so that ``syncd_adapters._retry`` is the only layer
that retries or paces. Every PyGithub and requests exception is translated
into a ``syncd.errors`` type here.

Options: ``repo`` (``owner/name``, required), ``base_url`` (default
``https://api.github.com``; ``https://HOST/api/v3`` for GitHub Enterprise),
the token options of ``syncd_adapters._tokens`` (default ``$GITHUB_TOKEN``),
``timeout``, ``per_page`` and the retry and pacing options of
``syncd_adapters._retry``.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

import github
import requests
from github import Auth
from syncd_adapters._common import (
    ASSIGNABLE_MAX_AGE,
    COMMON_OPTIONS,
    CREATE,
    READ,
    WRITE,
    RemoteTracker,
    fit_body,
    fit_title,
    log,
    validate_common_options,
)

from syncd.errors import (
    AuthenticationError,
    IssueGoneError,
    IssueLockedError,
    IssueMovedError,
    IssueNotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    TargetUnavailableError,
    TrackerError,
    TransientTrackerError,
    ValidationFailedError,
)
from syncd.tracker import (
    UNSET,
    CloseReason,
    Comment,
    Issue,
    IssueDraft,
    IssueState,
    IssueUpdate,
    TrackerLimits,
)

REPO_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*)/[A-Za-z0-9._-]+$")

# Limits GitHub enforces with 422 Validation Failed.
GITHUB_LIMITS = TrackerLimits(title=256, body=65_536, comment=65_536)
MAX_ASSIGNEES = 10

# A close time identifies one close, so its closer never changes: keep it a
# year (seconds).
CLOSER_MAX_AGE = 365 * 24 * 3600.0

# Message prefixes and suffixes GitHub uses for secondary rate limits
# (the same texts PyGithub 2.10 recognises in Requester.isSecondaryRateLimitError).
SECONDARY_LIMIT_STARTS = ("you have exceeded a secondary rate limit",)
SECONDARY_LIMIT_ENDS = (
    "please retry your request again later.",
    "please wait a few minutes before you try again.",
)


class GitHubTracker(RemoteTracker):
    kind = "github"
    default_token_env = "GITHUB_TOKEN"
    default_base_url = "https://api.github.com"
    known_options = COMMON_OPTIONS | {"repo"}
    list_scope = "repo"
    issues_endpoint = "/repos/{repo}/issues"
    service = "GitHub"

    def __init__(self, name: str, options: dict, **kwargs: Any) -> None:
        super().__init__(name, options, **kwargs)
        self.repo = options["repo"]
        self._github = github.Github(
            auth=Auth.Token(str(self._token)),
            base_url=self.base_url,
            # PyGithub takes whole seconds only.
            timeout=max(1, math.ceil(self.timeout)),
            per_page=self.per_page,
            # One retry layer only: syncd_adapters._retry.
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            lazy=True,
        )
        self._requester = self._github.requester
        self._repo_url = f"{self.base_url}/repos/{self.repo}"
        self._pull_numbers: set[int] = set()
        base = urllib.parse.urlsplit(self.base_url)
        self._base_host = base.hostname
        self._base_port = base.port
        self._base_path = base.path.rstrip("/")

    # Options.

    @classmethod
    def validate_options(cls, options: Mapping) -> list[tuple[str, str]]:
        problems = validate_common_options(options, cls.known_options)
        repo = options.get("repo")
        if repo is None:
            problems.append(("repo", "missing: name the repository as owner/name"))
        elif not isinstance(repo, str) or not REPO_PATTERN.match(repo):
            problems.append(
                ("repo", f"{repo!r} is not a repository name of the form owner/name")
            )
        return problems

    @property
    def limits(self) -> TrackerLimits:
        return GITHUB_LIMITS

    # Reads.

    def preflight(self) -> None:
        self.remember_read(self._repo_url, self.preflight, self.changes_repository)
        data = self._call(
            READ, "GET", self._repo_url, endpoint="/repos/{repo}", scope="repo"
        )
        full_name = data.get("full_name") if isinstance(data, dict) else None
        if full_name and full_name.lower() != self.repo.lower():
            self.warn(
                f"repository {self.repo} now redirects to {full_name}; "
                "update repo in the config"
            )
        if isinstance(data, dict) and data.get("has_issues") is False:
            raise TargetUnavailableError(
                f"issues are disabled on {self.repo}",
                target=self.name,
                hint="turn on Issues in the repository settings, or route these "
                "items to another target",
            )
        if isinstance(data, dict) and data.get("archived"):
            raise TargetUnavailableError(
                f"{self.repo} is archived and read-only", target=self.name
            )

    def list_managed(self, label: str) -> list[Issue]:
        params = {
            "labels": label,
            "state": "all",
            # Newest first: a new issue changes the first page, so a 304 on
            # every page means nothing was added anywhere.
            "sort": "created",
            "direction": "desc",
            "per_page": str(self.per_page),
        }
        items = self._list_all(
            f"{self._repo_url}/issues", params, endpoint="/repos/{repo}/issues"
        )
        issues = []
        for item in items:
            if "pull_request" in item:
                self._pull_numbers.add(item["number"])
                continue
            if item.get("state") == "closed" and "closed_by" not in item:
                item = dict(item, closed_by=self._closer_of(item))
            issues.append(self._to_issue(item))
        return issues

    def _closer_of(self, item: dict) -> dict | None:
        """Return the ``closed_by`` user of a closed issue from GitHub's list.

        The list leaves ``closed_by`` out, so it is read from the issue once
        per close and kept in the cache under the close time. ``close``
        stores it from its own PATCH response, so a close by syncd needs no GET.
        """

        fact = _closer_fact(item["number"], item.get("closed_at"))
        known = self.cache.get_fact(fact, CLOSER_MAX_AGE)
        if isinstance(known, dict):
            return known.get("user")
        try:
            data = self._call(
                READ,
                "GET",
                self._issue_url(item["number"]),
                endpoint="/repos/{repo}/issues/{number}",
                scope="issue",
                number=item["number"],
            )
        except TrackerError as error:
            log.info(
                "target %s: closer of #%s unknown: %s", self.name, item["number"], error
            )
            return None
        closer = data.get("closed_by") if isinstance(data, dict) else None
        self.cache.put_fact(fact, {"user": closer})
        return closer

    def get(self, number: int) -> Issue:
        data = self._call(
            READ,
            "GET",
            self._issue_url(number),
            endpoint="/repos/{repo}/issues/{number}",
            scope="issue",
            number=number,
        )
        return self._issue_from_response(data, number)

    def list_comments(self, number: int) -> list[Comment]:
        items = self._list_all(
            f"{self._issue_url(number)}/comments",
            {"per_page": str(self.per_page)},
            endpoint="/repos/{repo}/issues/{number}/comments",
            number=number,
        )
        return [self._to_comment(item) for item in items]

    def can_assign(self, account: str) -> bool:
        key = account.lower()
        if key not in self._assignable:
            known = self.cache.get_fact(f"assignable {key}", ASSIGNABLE_MAX_AGE)
            if isinstance(known, bool):
                self._assignable[key] = known
                return known
            status = self._call(
                READ,
                "GET",
                f"{self._repo_url}/assignees/{urllib.parse.quote(account, safe='')}",
                endpoint="/repos/{repo}/assignees/{login}",
                scope="assignee",
                return_status=True,
            )
            self._assignable[key] = status == 204
            self.cache.put_fact(f"assignable {key}", status == 204)
        return self._assignable[key]

    def current_account(self) -> str:
        if self._account is None:
            data = self._call(
                READ, "GET", f"{self.base_url}/user", endpoint="/user", scope="account"
            )
            self._account = data["login"]
        return self._account

    # Writes.

    def create(self, draft: IssueDraft) -> Issue:
        payload: dict[str, Any] = {
            "title": fit_title(draft.title, GITHUB_LIMITS.title),
            "body": fit_body(draft.body, GITHUB_LIMITS.body),
        }
        if draft.labels:
            payload["labels"] = list(draft.labels)
        assignees = self._assignable_subset(draft.assignees)
        if assignees:
            payload["assignees"] = assignees
        if draft.milestone is not None:
            payload["milestone"] = self._milestone_key(draft.milestone)

        try:
            data = self._call(
                CREATE,
                "POST",
                f"{self._repo_url}/issues",
                endpoint="/repos/{repo}/issues",
                scope="repo",
                body=payload,
            )
        except ValidationFailedError as error:
            if error.field != "assignees" or "assignees" not in payload:
                raise
            # A 422 stores nothing, so sending the create again is safe. Ask
            # again which accounts are assignable: the stored results are stale.
            for account in assignees:
                self._assignable.pop(account.lower(), None)
                self.cache.discard(f"fact assignable {account.lower()}")
            still = [account for account in assignees if self.can_assign(account)]
            if still == assignees:
                # The server rejects what its own assignee check accepts.
                still = []
            rejected = [account for account in assignees if account not in still]
            self.warn(
                f"GitHub rejected assignees {rejected}; creating the issue without them"
            )
            for account in rejected:
                self._assignable[account.lower()] = False
            if still:
                payload["assignees"] = still
            else:
                del payload["assignees"]
            assignees = still
            data = self._call(
                CREATE,
                "POST",
                f"{self._repo_url}/issues",
                endpoint="/repos/{repo}/issues",
                scope="repo",
                body=payload,
            )
        issue = self._to_issue(data)
        self._check_assigned(issue, assignees)
        return issue

    def update(self, number: int, change: IssueUpdate) -> Issue:
        self._refuse_pull_request(number)
        latest: dict | None = None
        issue_url = self._issue_url(number)
        issue_scope = {"scope": "issue", "number": number}

        if change.add_labels:
            self._call(
                WRITE,
                "POST",
                f"{issue_url}/labels",
                endpoint="/repos/{repo}/issues/{number}/labels",
                body=list(change.add_labels),
                **issue_scope,
            )
        for label in change.remove_labels:
            self._remove_label(number, label)

        add = self._assignable_subset(change.add_assignees)
        if add:
            latest = self._call(
                WRITE,
                "POST",
                f"{issue_url}/assignees",
                endpoint="/repos/{repo}/issues/{number}/assignees",
                body={"assignees": add},
                **issue_scope,
            )
        if change.remove_assignees:
            latest = self._call(
                WRITE,
                "DELETE",
                f"{issue_url}/assignees",
                endpoint="/repos/{repo}/issues/{number}/assignees",
                body={"assignees": list(change.remove_assignees)},
                **issue_scope,
            )

        fields: dict[str, Any] = {}
        if change.title is not None:
            fields["title"] = fit_title(change.title, GITHUB_LIMITS.title)
        if change.body is not None:
            fields["body"] = fit_body(change.body, GITHUB_LIMITS.body)
        if change.milestone is not UNSET:
            # GitHub clears the milestone on null; PyGithub sends "" for it.
            fields["milestone"] = (
                None
                if change.milestone is None
                else self._milestone_key(change.milestone)
            )
        if fields:
            latest = self._patch(number, fields)
        elif latest is None:
            # Only labels changed, or nothing: read the issue instead of
            # sending an empty PATCH, which would count as a write.
            return self.get(number)
        issue = self._issue_from_response(latest, number)
        self._check_assigned(issue, add)
        return issue

    def close(self, number: int, reason: CloseReason) -> Issue:
        self._refuse_pull_request(number)
        data = self._patch(number, {"state": "closed", "state_reason": reason.value})
        issue = self._issue_from_response(data, number)
        # A PATCH response, like a GET of one issue, carries closed_by, which
        # the list leaves out. Storing it now spares the next listing a GET.
        closer = data.get("closed_by")
        if data.get("closed_at") and isinstance(closer, dict):
            fact = _closer_fact(number, data["closed_at"])
            self.cache.put_fact(fact, {"user": closer})
        return issue

    def reopen(self, number: int) -> Issue:
        self._refuse_pull_request(number)
        data = self._patch(number, {"state": "open", "state_reason": "reopened"})
        return self._issue_from_response(data, number)

    def comment(self, number: int, body: str) -> Comment:
        self._refuse_pull_request(number)
        data = self._call(
            CREATE,
            "POST",
            f"{self._issue_url(number)}/comments",
            endpoint="/repos/{repo}/issues/{number}/comments",
            scope="comment",
            number=number,
            body={"body": fit_body(body, GITHUB_LIMITS.comment)},
        )
        return self._to_comment(data)

    def ensure_label(self, name: str, color: str, description: str = "") -> None:
        if name.lower() in {known.lower() for known in self._labels()}:
            return
        payload = {
            "name": name,
            "color": color.lstrip("#"),
            "description": description[:100],
        }
        try:
            self._call(
                WRITE,
                "POST",
                f"{self._repo_url}/labels",
                endpoint="/repos/{repo}/labels",
                scope="repo",
                body=payload,
            )
        except ValidationFailedError as error:
            # Someone created it since the label list was read.
            if "already_exists" not in str(error):
                raise
        self._labels().add(name)

    def ensure_milestone(self, title: str) -> None:
        if title in self._milestones():
            return
        try:
            data = self._call(
                WRITE,
                "POST",
                f"{self._repo_url}/milestones",
                endpoint="/repos/{repo}/milestones",
                scope="repo",
                body={"title": title},
            )
        except ValidationFailedError as error:
            if "already_exists" not in str(error):
                raise
            self._milestone_ids = None
            self._milestones()
            return
        self._milestones()[title] = data["number"]

    def close_session(self) -> None:
        self.refresh_after_writes()
        self._github.close()
        super().close_session()

    # Helpers for reads.

    def _issue_url(self, number: int) -> str:
        return f"{self._repo_url}/issues/{int(number)}"

    def _labels(self) -> set[str]:
        if self._label_names is None:
            items = self._list_all(
                f"{self._repo_url}/labels",
                {"per_page": str(self.per_page)},
                endpoint="/repos/{repo}/labels",
            )
            self._label_names = {item["name"] for item in items}
        return self._label_names

    def _milestones(self) -> dict[str, int]:
        if self._milestone_ids is None:
            items = self._list_all(
                f"{self._repo_url}/milestones",
                {"state": "all", "per_page": str(self.per_page)},
                endpoint="/repos/{repo}/milestones",
            )
            self._milestone_ids = {item["title"]: item["number"] for item in items}
        return self._milestone_ids

    def _assignable_subset(self, accounts: tuple[str, ...]) -> list[str]:
        chosen = []
        for account in accounts:
            if not self.can_assign(account):
                self.warn(
                    f"{account} cannot be assigned issues in {self.repo}; left unassigned"
                )
                continue
            chosen.append(account)
        if len(chosen) > MAX_ASSIGNEES:
            self.warn(
                f"GitHub allows {MAX_ASSIGNEES} assignees; {chosen[MAX_ASSIGNEES:]} left out"
            )
            chosen = chosen[:MAX_ASSIGNEES]
        return chosen

    def _list_all(
        self,
        url: str,
        params: dict[str, str],
        *,
        endpoint: str,
        number: int | None = None,
    ) -> list[dict]:
        """Read every page of a list, sending the stored ETag for each page."""

        return self._read_list(_page_url(url, params), endpoint=endpoint, number=number)

    def _remove_label(self, number: int, label: str) -> None:
        try:
            self._call(
                WRITE,
                "DELETE",
                f"{self._issue_url(number)}/labels/{urllib.parse.quote(label, safe='')}",
                endpoint="/repos/{repo}/issues/{number}/labels/{name}",
                scope="label",
                number=number,
            )
        except IssueNotFoundError as error:
            # 404 "Label does not exist": it is already off the issue.
            if "label" not in str(error).lower():
                raise

    def _refuse_pull_request(self, number: int) -> None:
        # Pull requests share GitHub's issue numbers; one seen in the issue
        # list must never be edited, closed or commented on as an issue.
        if number in self._pull_numbers:
            raise IssueNotFoundError(
                f"{self.repo}#{number} is a pull request, not an issue",
                target=self.name,
                ref=f"{self.repo}#{number}",
            )

    def _patch(self, number: int, fields: dict) -> dict:
        return self._call(
            WRITE,
            "PATCH",
            self._issue_url(number),
            endpoint="/repos/{repo}/issues/{number}",
            scope="issue",
            number=number,
            body=fields,
        )

    def _issue_from_response(self, data: dict, number: int) -> Issue:
        if not isinstance(data, dict):
            raise TransientTrackerError(
                f"unexpected response for {self.repo}#{number}", target=self.name
            )
        expected = self._issue_url(number)
        if data.get("url") and not _same_api_url(data["url"], expected):
            # PyGithub followed a 301: the issue was transferred.
            raise IssueMovedError(
                f"{self.repo}#{number} was moved to {data.get('html_url') or data['url']}",
                location=data.get("html_url") or data["url"],
                target=self.name,
                ref=f"{self.repo}#{number}",
                status=301,
            )
        if "pull_request" in data:
            raise IssueNotFoundError(
                f"{self.repo}#{number} is a pull request, not an issue",
                target=self.name,
                ref=f"{self.repo}#{number}",
            )
        return self._to_issue(data)

    def _to_issue(self, data: dict) -> Issue:
        labels = sorted(
            label["name"] if isinstance(label, dict) else str(label)
            for label in data.get("labels") or ()
        )
        assignees = sorted(
            user["login"] for user in data.get("assignees") or () if user
        )
        milestone = data.get("milestone")
        closed_by = data.get("closed_by")
        return Issue(
            number=data["number"],
            ref=f"{self.repo}#{data['number']}",
            url=data.get("html_url") or data.get("url") or "",
            title=data.get("title") or "",
            body=data.get("body") or "",
            state=IssueState.CLOSED
            if data.get("state") == "closed"
            else IssueState.OPEN,
            state_reason=data.get("state_reason"),
            labels=tuple(labels),
            assignees=tuple(assignees),
            milestone=milestone.get("title") if isinstance(milestone, dict) else None,
            locked=bool(data.get("locked")),
            closed_by=closed_by.get("login") if isinstance(closed_by, dict) else None,
            created_at=data.get("created_at"),
            updated_at=data.get("updated_at"),
        )

    @staticmethod
    def _to_comment(data: dict) -> Comment:
        user = data.get("user")
        return Comment(
            id=data["id"],
            body=data.get("body") or "",
            author=user.get("login") if isinstance(user, dict) else None,
            created_at=data.get("created_at"),
        )

    # One attempt of a request; ``RemoteTracker._call`` adds the runner.

    def _send(
        self,
        kind: str,
        verb: str,
        url: str,
        *,
        endpoint: str,
        scope: str,
        number: int | None,
        body: Any,
        paged: bool,
        return_status: bool,
    ) -> Any:
        self._check_server_url(url)
        # Every GET is conditional: a 304 costs no primary rate limit.
        conditional = verb == "GET" and not return_status
        cached = self.cache.get(url) if conditional else None
        headers = {"Accept": "application/vnd.github+json"}
        if cached is not None:
            headers["If-None-Match"] = cached.etag
        ref = f"{self.repo}#{number}" if number is not None else None

        try:
            status, response_headers, output = self._requester.requestJson(
                verb, url, None, headers, body
            )
        except requests.exceptions.RequestException as error:
            raise self._lost_in_transport(kind, verb, endpoint, ref, error) from error
        except RuntimeError as error:
            # PyGithub refuses a redirect to another host or scheme.
            self.stats.count(verb, endpoint, 301)
            if scope in ("issue", "comment", "label"):
                raise IssueMovedError(
                    str(error), target=self.name, ref=ref, status=301
                ) from None
            raise TargetUnavailableError(
                str(error), target=self.name, status=301
            ) from None

        self.stats.count(verb, endpoint, status)
        remaining = response_headers.get("x-ratelimit-remaining")
        if remaining is not None:
            try:
                self.stats.rate_limit_remaining = int(float(remaining))
            except ValueError:
                pass

        if status == 304:
            return self._not_modified(cached, verb, endpoint, paged)

        data = self._parse_json(output, kind, verb, endpoint, status, ref)
        if return_status and status in (204, 404):
            # GET /assignees/{login}: 204 means assignable, 404 means not.
            return status
        if status >= 400 or status == 301:
            raise self._error_for_status(
                status, response_headers, data, kind, scope, ref
            )
        if return_status:
            return status
        next_url = None
        if paged:
            if not isinstance(data, list):
                raise TransientTrackerError(
                    f"{verb} {endpoint}: expected a JSON array",
                    target=self.name,
                    status=status,
                )
            next_url = _next_link(response_headers.get("link"))
            if next_url is not None:
                self._check_server_url(next_url)
        if conditional:
            self._store_page(url, response_headers.get("etag"), data, next_url)
        return (data, next_url) if paged else data

    def _parse_json(
        self,
        output: str,
        kind: str,
        verb: str,
        endpoint: str,
        status: int,
        ref: str | None,
    ) -> Any:
        if not output:
            return None
        try:
            return json.loads(output)
        except ValueError:
            if status >= 400:
                return {"message": output[:200]}
            message = f"{verb} {endpoint}: the response is not valid JSON"
            raise self._lost(kind, message, ref, status=status) from None

    def _error_for_status(
        self,
        status: int,
        headers: Mapping[str, str],
        data: Any,
        kind: str,
        scope: str,
        ref: str | None,
    ) -> TrackerError:
        message = ""
        if isinstance(data, dict):
            message = str(data.get("message") or "")
        lowered = message.lower()
        what = ref or self.repo
        context = {"target": self.name, "ref": ref, "status": status}

        if status == 401:
            return AuthenticationError(
                f"GitHub rejected the token for {self.repo}: {message or 'Bad credentials'}",
                hint="check that the token is valid and not expired",
                **context,
            )
        if status in (403, 429) and _is_rate_limited(status, headers, lowered):
            return RateLimitedError(
                f"GitHub rate limit on {self.repo}: {message or status}",
                retry_after=_float_header(headers, "retry-after"),
                reset_at=(
                    _float_header(headers, "x-ratelimit-reset")
                    if headers.get("x-ratelimit-remaining") == "0"
                    else None
                ),
                **context,
            )
        if status == 403:
            if "locked" in lowered:
                return IssueLockedError(f"{what} is locked: {message}", **context)
            if scope in ("issue", "comment", "label"):
                return PermissionDeniedError(
                    f"GitHub refused the change to {what}: {message}", **context
                )
            return TargetUnavailableError(
                f"GitHub refused access to {self.repo}: {message or '403 Forbidden'}",
                hint="give the token Issues read and write permission on the repository",
                **context,
            )
        if status == 410:
            if "disabled" in lowered or scope == "repo":
                return TargetUnavailableError(
                    f"issues are disabled on {self.repo}"
                    if "disabled" in lowered
                    else f"{self.repo} is gone: {message}",
                    **context,
                )
            return IssueGoneError(f"{what} was deleted", **context)
        if status == 404:
            if scope in ("issue", "comment", "label"):
                return IssueNotFoundError(
                    f"{what} not found: {message or 'Not Found'}", **context
                )
            return TargetUnavailableError(
                f"{self.repo} not found or the token lacks access to it",
                hint="check the repo option and that the token can read the repository",
                **context,
            )
        if status == 301:
            return IssueMovedError(
                f"{what} was moved", location=headers.get("location"), **context
            )
        if status in (400, 422):
            field = None
            errors = data.get("errors") if isinstance(data, dict) else None
            details = []
            if isinstance(errors, list):
                for item in errors:
                    if isinstance(item, dict):
                        field = field or item.get("field")
                        details.append(
                            str(
                                item.get("message")
                                or f"{item.get('field')} {item.get('code')}"
                            )
                        )
            text = "; ".join(details) or message or "Validation Failed"
            return ValidationFailedError(
                f"GitHub rejected the request for {what}: {text}",
                field=field,
                **context,
            )
        if status >= 500 or status == 409:
            return self._lost(
                kind,
                f"GitHub server error {status} for {what}: {message}",
                ref,
                status=status,
            )
        return TrackerError(
            f"GitHub returned {status} for {what}: {message}", **context
        )

    def _check_server_url(self, url: str) -> None:
        """Reject a URL that leaves the configured server, as PyGithub does."""

        parts = urllib.parse.urlsplit(url)
        same_port = parts.port == self._base_port
        if (
            parts.hostname != self._base_host
            or not same_port
            or not parts.path.startswith(self._base_path + "/")
        ):
            raise TargetUnavailableError(
                f"GitHub returned a link outside {self.base_url}: {parts.scheme}://{parts.netloc}{parts.path}",
                hint="set base_url to the address the server itself reports",
                target=self.name,
            )


def _closer_fact(number: int, closed_at: str | None) -> str:
    """Return the cache key of the ``closed_by`` user of one close of an issue."""

    return f"closed_by {number} {closed_at}"


def _page_url(url: str, params: dict[str, str]) -> str:
    return f"{url}?{urllib.parse.urlencode(sorted(params.items()))}"


def _same_api_url(actual: str, expected: str) -> bool:
    return urllib.parse.urlsplit(actual).path.rstrip("/") == urllib.parse.urlsplit(
        expected
    ).path.rstrip("/")


def _is_rate_limited(status: int, headers: Mapping[str, str], message: str) -> bool:
    if headers.get("x-ratelimit-remaining") == "0":
        return True
    if "retry-after" in headers:
        return True
    if message.startswith("api rate limit exceeded"):
        return True
    if message.startswith(SECONDARY_LIMIT_STARTS) or message.endswith(
        SECONDARY_LIMIT_ENDS
    ):
        return True
    return status == 429


def _float_header(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _next_link(header: str | None) -> str | None:
    """Return the ``rel="next"`` URL of a Link header, parsed as PyGithub does."""

    if not header:
        return None
    for part in header.split(", "):
        pieces = part.split("; ")
        if len(pieces) == 2 and pieces[1] == 'rel="next"' and pieces[0].startswith("<"):
            return pieces[0][1:-1]
    return None


__all__ = ["GitHubTracker"]
