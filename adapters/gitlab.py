"""The GitLab tracker: one project on gitlab.com or a self-managed GitLab.

Requests go through python-gitlab's ``Gitlab.http_request`` (its
authentication, API root and redirect check) with ``obey_rate_limit=False``
and ``retry_transient_errors=False``, so ``syncd_adapters._retry`` is the
only layer that retries or paces. Issues are addressed by project and
``iid``, never by the global id, and their reference is ``group/project#iid``.

GitLab has no close reason. A "not planned" close adds the label named by
``not_planned_label`` (default ``syncd::not-planned``), which this adapter
reads back as ``state_reason`` and leaves out of ``Issue.labels``.

Options: ``project`` (path such as ``group/sub/project``, or numeric id,
required), ``base_url`` (default ``https://gitlab.com``, without ``/api/v4``),
the token options of ``syncd_adapters._tokens`` (default ``$GITLAB_TOKEN``),
``timeout``, ``per_page``, ``not_planned_label`` and the retry and pacing
options of ``syncd_adapters._retry``.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

import gitlab
import gitlab.exceptions
import requests
from syncd_adapters._common import (
    ASSIGNABLE_MAX_AGE,
    COMMON_OPTIONS,
    CREATE,
    READ,
    WRITE,
    RemoteTracker,
    fit_body,
    fit_title,
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

PROJECT_PATTERN = re.compile(
    r"^(?:\d+|[A-Za-z0-9_.][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+)$"
)

# Title 255 characters (TITLE_LENGTH_MAX), description 1,048,576, note
# 1,000,000: the limits GitLab validates.
GITLAB_LIMITS = TrackerLimits(title=255, body=1_048_576, comment=1_000_000)

DEFAULT_NOT_PLANNED_LABEL = "syncd::not-planned"


class GitLabTracker(RemoteTracker):
    kind = "gitlab"
    default_token_env = "GITLAB_TOKEN"
    default_base_url = "https://gitlab.com"
    known_options = COMMON_OPTIONS | {"project", "not_planned_label"}
    list_scope = "project"
    issues_endpoint = "/projects/{project}/issues"
    service = "GitLab"

    def __init__(self, name: str, options: dict, **kwargs: Any) -> None:
        super().__init__(name, options, **kwargs)
        if self.base_url.endswith("/api/v4"):
            self.base_url = self.base_url[: -len("/api/v4")]
        self.project = str(options["project"])
        self.not_planned_label = str(
            options.get("not_planned_label") or DEFAULT_NOT_PLANNED_LABEL
        )
        self._session = requests.Session()
        # python-gitlab's errors carry no headers; keep the last response
        # for Retry-After and RateLimit-Reset.
        self._last_response: requests.Response | None = None
        self._session.hooks["response"].append(self._remember_response)
        self._gitlab = gitlab.Gitlab(
            url=self.base_url,
            private_token=str(self._token),
            timeout=self.timeout,
            session=self._session,
            # One retry layer only: syncd_adapters._retry.
            retry_transient_errors=False,
        )
        self._api_url = self._gitlab.api_url
        self._project_path = f"/projects/{urllib.parse.quote(self.project, safe='')}"
        self._project_id: int | None = None
        self._user_ids: dict[str, int | None] = {}

    def _remember_response(
        self, response: requests.Response, *args: Any, **kwargs: Any
    ) -> None:
        self._last_response = response

    # Options.

    @classmethod
    def validate_options(cls, options: Mapping) -> list[tuple[str, str]]:
        problems = validate_common_options(options, cls.known_options)
        project = options.get("project")
        if project is None:
            problems.append(("project", "missing: name the project as group/project"))
        elif not isinstance(project, (str, int)) or not PROJECT_PATTERN.match(
            str(project)
        ):
            problems.append(
                ("project", f"{project!r} is not a project path (group/project) or id")
            )
        label = options.get("not_planned_label")
        if label is not None and (
            not isinstance(label, str) or not label.strip() or "," in label
        ):
            problems.append(
                ("not_planned_label", f"{label!r} must be a label name without commas")
            )
        return problems

    @property
    def limits(self) -> TrackerLimits:
        return GITLAB_LIMITS

    # Reads.

    def preflight(self) -> None:
        self.remember_read(self._project_path, self.preflight, self.changes_repository)
        data = self._call(
            READ,
            "GET",
            self._project_path,
            endpoint="/projects/{project}",
            scope="project",
        )
        self._project_id = data.get("id")
        path = data.get("path_with_namespace")
        if path and not self.project.isdigit() and path.lower() != self.project.lower():
            self.warn(
                f"project {self.project} is now {path}; update project in the config"
            )
        if data.get("issues_enabled") is False:
            raise TargetUnavailableError(
                f"issues are disabled on {self.project}",
                target=self.name,
                hint="turn on Issues in the project's settings, or route these items "
                "to another target",
            )
        if data.get("archived"):
            raise TargetUnavailableError(
                f"{self.project} is archived and read-only", target=self.name
            )

    def list_managed(self, label: str) -> list[Issue]:
        params = {
            "labels": label,
            "state": "all",
            "scope": "all",
            # Newest first: a new issue changes the first page, so a 304 on
            # every page means nothing was added anywhere.
            "order_by": "created_at",
            "sort": "desc",
            "per_page": str(self.per_page),
        }
        items = self._list_all(
            f"{self._project_path}/issues",
            params,
            endpoint="/projects/{project}/issues",
        )
        return [self._to_issue(item) for item in items]

    def get(self, number: int) -> Issue:
        data = self._call(
            READ,
            "GET",
            self._issue_path(number),
            endpoint="/projects/{project}/issues/{iid}",
            scope="issue",
            number=number,
        )
        return self._issue_from_response(data, number)

    def list_comments(self, number: int) -> list[Comment]:
        items = self._list_all(
            f"{self._issue_path(number)}/notes",
            {"sort": "asc", "order_by": "created_at", "per_page": str(self.per_page)},
            endpoint="/projects/{project}/issues/{iid}/notes",
            number=number,
        )
        return [self._to_comment(item) for item in items if not item.get("system")]

    def can_assign(self, account: str) -> bool:
        key = account.lower()
        if key not in self._assignable:
            known = self.cache.get_fact(f"assignable {key}", ASSIGNABLE_MAX_AGE)
            if isinstance(known, dict):
                self._assignable[key] = bool(known.get("assignable"))
                self._user_ids.setdefault(key, known.get("user_id"))
                return self._assignable[key]
            user_id = self._user_id(account)
            if user_id is None:
                self._assignable[key] = False
            else:
                status = self._call(
                    READ,
                    "GET",
                    f"{self._project_path}/members/all/{user_id}",
                    endpoint="/projects/{project}/members/all/{user_id}",
                    scope="member",
                    return_status=True,
                )
                self._assignable[key] = status == 200
            self.cache.put_fact(
                f"assignable {key}",
                {"assignable": self._assignable[key], "user_id": user_id},
            )
        return self._assignable[key]

    def current_account(self) -> str:
        if self._account is None:
            data = self._call(READ, "GET", "/user", endpoint="/user", scope="account")
            self._account = data["username"]
            self._user_ids[self._account.lower()] = data["id"]
        return self._account

    # Writes.

    def create(self, draft: IssueDraft) -> Issue:
        payload: dict[str, Any] = {
            "title": fit_title(draft.title, GITLAB_LIMITS.title),
            "description": fit_body(draft.body, GITLAB_LIMITS.body),
        }
        if draft.labels:
            payload["labels"] = ",".join(draft.labels)
        assignees = self._assignable_subset(draft.assignees)
        if assignees:
            payload["assignee_ids"] = [self._user_id(account) for account in assignees]
        if draft.milestone is not None:
            payload["milestone_id"] = self._milestone_key(draft.milestone)
        data = self._call(
            CREATE,
            "POST",
            f"{self._project_path}/issues",
            endpoint="/projects/{project}/issues",
            scope="project",
            body=payload,
        )
        issue = self._to_issue(data)
        self._check_assigned(issue, assignees)
        return issue

    def update(self, number: int, change: IssueUpdate) -> Issue:
        fields: dict[str, Any] = {}
        if change.title is not None:
            fields["title"] = fit_title(change.title, GITLAB_LIMITS.title)
        if change.body is not None:
            fields["description"] = fit_body(change.body, GITLAB_LIMITS.body)
        if change.add_labels:
            fields["add_labels"] = ",".join(change.add_labels)
        if change.remove_labels:
            fields["remove_labels"] = ",".join(change.remove_labels)
        if change.milestone is not UNSET:
            # GitLab clears the milestone on milestone_id 0.
            fields["milestone_id"] = (
                0 if change.milestone is None else self._milestone_key(change.milestone)
            )

        added: list[str] = []
        if change.add_assignees or change.remove_assignees:
            added = self._assignable_subset(change.add_assignees)
            fields["assignee_ids"] = self._assignee_ids_after(
                number, added, change.remove_assignees
            )

        if not fields:
            return self.get(number)
        data = self._put_issue(number, fields)
        issue = self._issue_from_response(data, number)
        self._check_assigned(issue, added)
        return issue

    def _assignee_ids_after(
        self, number: int, added: list[str], removed: tuple[str, ...]
    ) -> list[int]:
        # GitLab replaces the whole set, so start from the current one.
        current = self.get(number)
        removed_keys = {account.lower() for account in removed}
        accounts = [
            account
            for account in current.assignees
            if account.lower() not in removed_keys
        ]
        present = {account.lower() for account in accounts}
        accounts += [account for account in added if account.lower() not in present]
        ids = [self._user_id(account) for account in accounts]
        # assignee_ids [0] unassigns everyone.
        return [user_id for user_id in ids if user_id is not None] or [0]

    def close(self, number: int, reason: CloseReason) -> Issue:
        fields: dict[str, Any] = {"state_event": "close"}
        if reason is CloseReason.NOT_PLANNED:
            fields["add_labels"] = self.not_planned_label
        else:
            fields["remove_labels"] = self.not_planned_label
        return self._issue_from_response(self._put_issue(number, fields), number)

    def reopen(self, number: int) -> Issue:
        fields = {"state_event": "reopen", "remove_labels": self.not_planned_label}
        return self._issue_from_response(self._put_issue(number, fields), number)

    def comment(self, number: int, body: str) -> Comment:
        try:
            data = self._call(
                CREATE,
                "POST",
                f"{self._issue_path(number)}/notes",
                endpoint="/projects/{project}/issues/{iid}/notes",
                scope="comment",
                number=number,
                body={"body": fit_body(body, GITLAB_LIMITS.comment)},
            )
        except PermissionDeniedError as error:
            # GitLab returns a plain 403 on a locked discussion, so read the
            # issue to report the cause.
            if isinstance(error, IssueLockedError) or not self._is_locked(number):
                raise
            raise IssueLockedError(
                f"{self._ref(number)} is locked: new comments are rejected",
                target=self.name,
                ref=self._ref(number),
                status=error.status,
            ) from None
        return self._to_comment(data)

    def ensure_label(self, name: str, color: str, description: str = "") -> None:
        if name.lower() in {known.lower() for known in self._labels()}:
            return
        payload = {
            "name": name,
            "color": "#" + color.lstrip("#"),
            "description": description,
        }
        try:
            self._call(
                WRITE,
                "POST",
                f"{self._project_path}/labels",
                endpoint="/projects/{project}/labels",
                scope="project",
                body=payload,
            )
        except TrackerError as error:
            # 409: someone created it since the label list was read.
            if error.status != 409:
                raise
        self._labels().add(name)

    def ensure_milestone(self, title: str) -> None:
        if title in self._milestones():
            return
        try:
            data = self._call(
                WRITE,
                "POST",
                f"{self._project_path}/milestones",
                endpoint="/projects/{project}/milestones",
                scope="project",
                body={"title": title},
            )
        except ValidationFailedError as error:
            if "exists" not in str(error):
                raise
            self._milestone_ids = None
            self._milestones()
            return
        self._milestones()[title] = data["id"]

    def close_session(self) -> None:
        self.refresh_after_writes()
        self._session.close()
        super().close_session()

    # Helpers.

    def _issue_path(self, number: int) -> str:
        return f"{self._project_path}/issues/{int(number)}"

    def _ref(self, number: int) -> str:
        return f"{self.project}#{number}"

    def _put_issue(self, number: int, fields: dict) -> dict:
        return self._call(
            WRITE,
            "PUT",
            self._issue_path(number),
            endpoint="/projects/{project}/issues/{iid}",
            scope="issue",
            number=number,
            body=fields,
        )

    def _is_locked(self, number: int) -> bool:
        try:
            data = self._call(
                READ,
                "GET",
                self._issue_path(number),
                endpoint="/projects/{project}/issues/{iid}",
                scope="issue",
                number=number,
            )
        except TrackerError:
            return False
        return bool(data.get("discussion_locked"))

    def _user_id(self, account: str) -> int | None:
        key = account.lower()
        if key not in self._user_ids:
            items = self._call(
                READ,
                "GET",
                f"/users?{urllib.parse.urlencode({'username': account})}",
                endpoint="/users",
                scope="account",
            )
            match = next(
                (
                    item
                    for item in items or ()
                    if str(item.get("username", "")).lower() == key
                ),
                None,
            )
            self._user_ids[key] = match["id"] if match else None
        return self._user_ids[key]

    def _labels(self) -> set[str]:
        if self._label_names is None:
            items = self._list_all(
                f"{self._project_path}/labels",
                {"per_page": str(self.per_page)},
                endpoint="/projects/{project}/labels",
            )
            self._label_names = {item["name"] for item in items}
        return self._label_names

    def _milestones(self) -> dict[str, int]:
        if self._milestone_ids is None:
            items = self._list_all(
                f"{self._project_path}/milestones",
                {"per_page": str(self.per_page)},
                endpoint="/projects/{project}/milestones",
            )
            # Milestones are addressed by their global id in issue fields.
            self._milestone_ids = {item["title"]: item["id"] for item in items}
        return self._milestone_ids

    def _assignable_subset(self, accounts: tuple[str, ...]) -> list[str]:
        chosen = []
        for account in accounts:
            if self.can_assign(account):
                chosen.append(account)
            else:
                self.warn(
                    f"{account} cannot be assigned issues in {self.project}; left unassigned"
                )
        return chosen

    def _list_all(
        self,
        path: str,
        params: dict[str, str],
        *,
        endpoint: str,
        number: int | None = None,
    ) -> list[dict]:
        """Read every page of a list, sending the stored ETag for each page."""

        first_url = (
            f"{self._api_url}{path}?{urllib.parse.urlencode(sorted(params.items()))}"
        )
        return self._read_list(first_url, endpoint=endpoint, number=number)

    def _issue_from_response(self, data: Any, number: int) -> Issue:
        if not isinstance(data, dict):
            raise TransientTrackerError(
                f"unexpected response for {self._ref(number)}", target=self.name
            )
        if data.get("iid") != number or (
            self._project_id is not None and data.get("project_id") != self._project_id
        ):
            raise IssueMovedError(
                f"{self._ref(number)} was moved to {data.get('web_url')}",
                location=data.get("web_url"),
                target=self.name,
                ref=self._ref(number),
                status=301,
            )
        if data.get("moved_to_id"):
            raise IssueMovedError(
                f"{self._ref(number)} was moved to another project (issue id {data['moved_to_id']})",
                target=self.name,
                ref=self._ref(number),
            )
        return self._to_issue(data)

    def _to_issue(self, data: dict) -> Issue:
        labels = [str(label) for label in data.get("labels") or ()]
        not_planned = any(
            label.lower() == self.not_planned_label.lower() for label in labels
        )
        labels = sorted(
            label for label in labels if label.lower() != self.not_planned_label.lower()
        )
        closed = data.get("state") == "closed"
        state_reason = None
        if closed:
            state_reason = (
                CloseReason.NOT_PLANNED.value
                if not_planned
                else CloseReason.COMPLETED.value
            )
        milestone = data.get("milestone")
        closed_by = data.get("closed_by")
        return Issue(
            number=data["iid"],
            ref=self._ref(data["iid"]),
            url=data.get("web_url") or "",
            title=data.get("title") or "",
            body=data.get("description") or "",
            state=IssueState.CLOSED if closed else IssueState.OPEN,
            state_reason=state_reason,
            labels=tuple(labels),
            assignees=tuple(
                sorted(user["username"] for user in data.get("assignees") or () if user)
            ),
            milestone=milestone.get("title") if isinstance(milestone, dict) else None,
            locked=bool(data.get("discussion_locked")),
            closed_by=closed_by.get("username")
            if isinstance(closed_by, dict)
            else None,
            created_at=data.get("created_at"),
            updated_at=data.get("updated_at"),
        )

    @staticmethod
    def _to_comment(data: dict) -> Comment:
        author = data.get("author")
        return Comment(
            id=data["id"],
            body=data.get("body") or "",
            author=author.get("username") if isinstance(author, dict) else None,
            created_at=data.get("created_at"),
        )

    # One attempt of a request; ``RemoteTracker._call`` adds the runner.

    def _send(
        self,
        kind: str,
        verb: str,
        path: str,
        *,
        endpoint: str,
        scope: str,
        number: int | None,
        body: Any,
        paged: bool,
        return_status: bool,
    ) -> Any:
        url = (
            path
            if path.startswith(("http://", "https://"))
            else f"{self._api_url}{path}"
        )
        if not url.startswith(self._api_url + "/"):
            raise TargetUnavailableError(
                f"GitLab returned a link outside {self._api_url}: {urllib.parse.urlsplit(url).netloc}",
                hint="set base_url to the address the server itself reports",
                target=self.name,
            )
        # Every GET is conditional: a 304 costs no primary rate limit.
        conditional = verb == "GET" and not return_status
        cached = self.cache.get(url) if conditional else None
        headers = {"Accept": "application/json"}
        if cached is not None:
            headers["If-None-Match"] = cached.etag
        ref = self._ref(number) if number is not None else None
        self._last_response = None

        try:
            response = self._gitlab.http_request(
                verb.lower(),
                url,
                post_data=body,
                obey_rate_limit=False,
                retry_transient_errors=False,
                max_retries=0,
                extra_headers=headers,
            )
        except requests.exceptions.RequestException as error:
            raise self._lost_in_transport(kind, verb, endpoint, ref, error) from error
        except gitlab.exceptions.RedirectError as error:
            self.stats.count(verb, endpoint, 301)
            raise IssueMovedError(
                f"{ref or self.project} was moved: {error.error_message}",
                target=self.name,
                ref=ref,
                status=301,
            ) from None
        except gitlab.exceptions.GitlabError as error:
            # GitlabHttpError, and GitlabAuthenticationError for 401.
            status = error.response_code or 0
            self.stats.count(verb, endpoint, status)
            if status == 304:
                return self._not_modified(cached, verb, endpoint, paged)
            if return_status and status == 404:
                return status
            raise self._error_for_status(status, error, kind, scope, ref) from None

        status = response.status_code
        self.stats.count(verb, endpoint, status)
        remaining = response.headers.get("RateLimit-Remaining")
        if remaining and remaining.isdigit():
            self.stats.rate_limit_remaining = int(remaining)
        if return_status:
            return status
        data = self._parse_json(response, kind, verb, endpoint, ref)

        next_url = None
        if paged:
            if not isinstance(data, list):
                raise TransientTrackerError(
                    f"{verb} {endpoint}: expected a JSON array", target=self.name
                )
            next_url = response.links.get("next", {}).get("url")
            if next_url and not next_url.startswith(self._api_url + "/"):
                raise TargetUnavailableError(
                    f"GitLab returned a next-page link outside {self._api_url}",
                    hint="set base_url to the address the server itself reports",
                    target=self.name,
                )
        if conditional:
            self._store_page(url, response.headers.get("ETag"), data, next_url)
        return (data, next_url) if paged else data

    def _parse_json(
        self,
        response: requests.Response,
        kind: str,
        verb: str,
        endpoint: str,
        ref: str | None,
    ) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        content_type = response.headers.get("Content-Type", "")
        problem = None
        if "application/json" not in content_type:
            problem = f"the response is {content_type or 'untyped'}, not JSON"
        else:
            try:
                return response.json()
            except ValueError:
                problem = "the response is not valid JSON"
        raise self._lost(
            kind, f"{verb} {endpoint}: {problem}", ref, status=response.status_code
        )

    def _error_for_status(
        self,
        status: int,
        error: gitlab.exceptions.GitlabError,
        kind: str,
        scope: str,
        ref: str | None,
    ) -> TrackerError:
        message = error.error_message
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        text = message if isinstance(message, str) else json.dumps(message)
        what = ref or self.project
        context = {"target": self.name, "ref": ref, "status": status}
        headers = self._last_headers()

        if status == 401:
            return AuthenticationError(
                f"GitLab rejected the token for {self.project}: {text}",
                hint="check that the token is valid, not expired, and has the api scope",
                **context,
            )
        if status == 429:
            return RateLimitedError(
                f"GitLab rate limit on {self.project}: {text.strip()}",
                retry_after=_retry_after(headers.get("Retry-After")),
                reset_at=_number(headers.get("RateLimit-Reset")),
                **context,
            )
        if status == 403:
            if scope in ("issue", "comment"):
                return PermissionDeniedError(
                    f"GitLab refused the change to {what}: {text}", **context
                )
            return TargetUnavailableError(
                f"GitLab refused access to {self.project}: {text}",
                hint="give the token the api scope and at least Reporter access to the project",
                **context,
            )
        if status == 404:
            if scope in ("issue", "comment"):
                return IssueNotFoundError(f"{what} not found: {text}", **context)
            return TargetUnavailableError(
                f"{self.project} not found or the token lacks access to it",
                hint="check the project option and that the token can read the project",
                **context,
            )
        if status == 410:
            if scope in ("issue", "comment"):
                return IssueGoneError(f"{what} was deleted", **context)
            return TargetUnavailableError(f"{self.project} is gone: {text}", **context)
        if status in (400, 422):
            field = None
            if isinstance(message, dict) and message:
                field = next(iter(message))
                text = "; ".join(
                    f"{key} {' '.join(map(str, value)) if isinstance(value, list) else value}"
                    for key, value in message.items()
                )
            elif isinstance(message, str):
                missing = re.match(r"(\w+) is missing", message)
                field = missing.group(1) if missing else None
            return ValidationFailedError(
                f"GitLab rejected the request for {what}: {text}",
                field=field,
                **context,
            )
        if status == 409 and "resource lock" in text.lower():
            # GitLab rolled the write back, so sending it again is safe.
            return TransientTrackerError(
                f"GitLab conflict for {what}: {text}", **context
            )
        if status == 409:
            return TrackerError(
                f"GitLab reported a conflict for {what}: {text}", **context
            )
        if status >= 500:
            return self._lost(
                kind,
                f"GitLab server error {status} for {what}: {text}",
                ref,
                status=status,
            )
        return TrackerError(f"GitLab returned {status} for {what}: {text}", **context)

    def _last_headers(self) -> Mapping[str, str]:
        return self._last_response.headers if self._last_response is not None else {}


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _retry_after(value: str | None) -> float | None:
    """Read Retry-After as seconds or as an HTTP date."""

    seconds = _number(value)
    if seconds is not None or value is None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


__all__ = ["GitLabTracker"]
