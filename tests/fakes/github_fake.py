"""An in-memory GitHub REST v3 server on 127.0.0.1, faithful to what PyGithub meets.

It serves the issue endpoints syncd and PyGithub use, with GitHub's quirks:
URLs built from its own host, port and prefix (PyGithub rejects others),
strict ``Link`` headers, pull requests in the issue list, ``"milestone": ""``
as a clear, raw JSON arrays for labels, labels auto-created by name, ETags
with 304 responses that cost no rate limit, rate-limit headers, GitHub's
error bodies and its length limits. ``inject`` and the helper methods arm
the failures real servers show (rate limits, 5xx, slow or dropped responses,
stale lists, moved and deleted issues, malformed JSON).

Run alone: ``python -m tests.fakes.github_fake --port 0`` prints its URL.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import re
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes._server import (
    FakeServer,
    Request,
    Response,
    compile_routes,
    contract_session,
    iso_time,
    serve_until_interrupted,
)

DOCS = "https://docs.github.com/rest"
DEFAULT_TOKEN = "fake-github-token"
DEFAULT_LOGIN = "syncd-bot"

TITLE_MAX = 256
BODY_MAX = 65_536
LABELS_MAX = 100
ASSIGNEES_MAX = 10

SECONDARY_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit and have been temporarily blocked "
    "from content creation. Please retry your request again later."
)


@dataclass
class FakeIssue:
    id: int
    number: int
    title: str
    body: str | None
    user: str
    created_at: float
    updated_at: float
    state: str = "open"
    state_reason: str | None = None
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    milestone: int | None = None
    locked: bool = False
    active_lock_reason: str | None = None
    closed_at: float | None = None
    closed_by: str | None = None
    pull_request: bool = False
    comments: list[int] = field(default_factory=list)


@dataclass
class FakeRepo:
    id: int
    owner: str
    name: str
    has_issues: bool = True
    private: bool = False
    # False: the token cannot see the repository, so everything is 404.
    visible: bool = True
    # False: a fine-grained token without Issues write; writes get 403.
    issues_writable: bool = True
    archived: bool = False
    collaborators: set[str] = field(default_factory=set)
    issues: dict[int, FakeIssue] = field(default_factory=dict)
    labels: dict[str, dict] = field(default_factory=dict)
    milestones: dict[int, dict] = field(default_factory=dict)
    # number -> (full name, number) of the repository it was transferred to.
    moved: dict[int, tuple[str, int]] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class GitHubFake(FakeServer):
    """GitHub REST v3 in memory. ``prefix="/api/v3"`` makes it look like GitHub Enterprise."""

    def __init__(
        self,
        *,
        prefix: str = "",
        tokens: dict[str, str] | None = None,
        port: int = 0,
        rate_limit: int = 5000,
    ) -> None:
        super().__init__(port=port)
        self.prefix = prefix
        self.tokens = dict(tokens or {DEFAULT_TOKEN: DEFAULT_LOGIN})
        self.users: dict[str, int] = {}
        self.repos: dict[str, FakeRepo] = {}
        self._ids = itertools.count(1001)
        self._comments: dict[int, dict] = {}
        self.rate_limit = rate_limit
        self.rate_remaining: dict[str, int] = {}
        self.rate_reset = self.clock() + 3600
        # Largest per_page honoured; GitHub clamps at 100, tests go lower.
        self.max_per_page = 100
        # Secondary limit on content creation: (creates, window s, retry-after s).
        self.create_limit: tuple[int, float, float | None] | None = None
        self._create_times: list[float] = []
        # Issue numbers left out of list responses, as a lagging list would.
        self.hidden_from_lists: set[tuple[str, int]] = set()
        # True: assignees the repo cannot take are dropped without an error,
        # as GitHub does for tokens without push access.
        self.drop_invalid_assignees = False
        # False: the token has no push access, so GitHub drops every
        # assignee of a create or edit without an error, although the
        # assignee check still returns 204 for a collaborator.
        self.token_can_assign = True
        # Seconds before an issue appears in search results.
        self.search_lag = 60.0
        # Called with (kind, JSON) for every issue, comment, label and
        # milestone served, to validate against the OpenAPI schemas.
        for login in self.tokens.values():
            self.add_user(login)

    # Set-up helpers.

    def add_user(self, login: str) -> int:
        with self.lock:
            if login not in self.users:
                self.users[login] = next(self._ids)
            return self.users[login]

    def add_repo(
        self, full_name: str, *, collaborators: tuple[str, ...] = (), **flags: Any
    ) -> FakeRepo:
        owner, name = full_name.split("/")
        with self.lock:
            repo = FakeRepo(id=next(self._ids), owner=owner, name=name, **flags)
            repo.collaborators.update(collaborators)
            repo.collaborators.update(self.tokens.values())
            for login in repo.collaborators:
                self.add_user(login)
            self.repos[full_name.lower()] = repo
            return repo

    def repo(self, full_name: str) -> FakeRepo:
        return self.repos[full_name.lower()]

    def add_issue(
        self,
        full_name: str,
        title: str,
        body: str | None = "",
        *,
        labels: tuple[str, ...] = (),
        assignees: tuple[str, ...] = (),
        state: str = "open",
        pull_request: bool = False,
        locked: bool = False,
        number: int | None = None,
        user: str | None = None,
    ) -> FakeIssue:
        with self.lock:
            repo = self.repo(full_name)
            now = self.clock()
            if number is None:
                number = repo.next_number
            repo.next_number = max(repo.next_number, number + 1)
            for label in labels:
                self._ensure_label(repo, label)
            issue = FakeIssue(
                id=next(self._ids),
                number=number,
                title=title,
                body=body,
                user=user or DEFAULT_LOGIN,
                created_at=now,
                updated_at=now,
                state=state,
                labels=list(labels),
                assignees=list(assignees),
                locked=locked,
                active_lock_reason="resolved" if locked else None,
                pull_request=pull_request,
            )
            if state == "closed":
                issue.closed_at = now
                issue.state_reason = "completed"
            repo.issues[number] = issue
            return issue

    def add_milestone(self, full_name: str, title: str) -> dict:
        with self.lock:
            repo = self.repo(full_name)
            number = max(repo.milestones, default=0) + 1
            milestone = {
                "id": next(self._ids),
                "number": number,
                "title": title,
                "description": None,
                "state": "open",
                "created_at": self.clock(),
                "updated_at": self.clock(),
                "due_on": None,
                "closed_at": None,
            }
            repo.milestones[number] = milestone
            return milestone

    def transfer_issue(self, full_name: str, number: int, to_repo: str) -> FakeIssue:
        """Move an issue to another repository, so its old URL returns 301."""

        with self.lock:
            source = self.repo(full_name)
            target = self.repo(to_repo)
            issue = source.issues.pop(number)
            for label in issue.labels:
                self._ensure_label(target, label)
            issue.number = target.next_number
            target.next_number += 1
            target.issues[issue.number] = issue
            source.moved[number] = (target.full_name, issue.number)
            return issue

    def delete_issue(self, full_name: str, number: int) -> None:
        with self.lock:
            repo = self.repo(full_name)
            repo.issues.pop(number)
            repo.deleted.add(number)

    def exhaust_rate_limit(
        self, *, reset_in: float = 60.0, token: str | None = None
    ) -> None:
        """Use up the primary limit: requests get 403 until ``reset_in`` seconds pass."""

        with self.lock:
            self.rate_reset = self.clock() + reset_in
            for key in [token] if token else list(self.tokens):
                self.rate_remaining[key] = 0

    def limit_creates(
        self, count: int, *, window: float = 60.0, retry_after: float | None = 60.0
    ) -> None:
        """After ``count`` creates within ``window`` seconds, creates get a secondary limit."""

        with self.lock:
            self.create_limit = (count, window, retry_after)
            self._create_times.clear()

    def issues_in(
        self, full_name: str, *, include_pulls: bool = False
    ) -> list[FakeIssue]:
        with self.lock:
            issues = self.repo(full_name).issues.values()
            return sorted(
                (issue for issue in issues if include_pulls or not issue.pull_request),
                key=lambda issue: issue.number,
            )

    # Rendering.

    def _api(self, path: str) -> str:
        return f"{self.url}{path}"

    def _html(self, path: str) -> str:
        return f"{self.origin}{path}"

    def _user_json(self, login: str) -> dict:
        user_id = self.add_user(login)
        return {
            "login": login,
            "id": user_id,
            "node_id": f"U_{user_id}",
            "avatar_url": self._html(f"/avatars/{login}"),
            "gravatar_id": "",
            "url": self._api(f"/users/{login}"),
            "html_url": self._html(f"/{login}"),
            "followers_url": self._api(f"/users/{login}/followers"),
            "following_url": self._api(f"/users/{login}/following{{/other_user}}"),
            "gists_url": self._api(f"/users/{login}/gists{{/gist_id}}"),
            "starred_url": self._api(f"/users/{login}/starred{{/owner}}{{/repo}}"),
            "subscriptions_url": self._api(f"/users/{login}/subscriptions"),
            "organizations_url": self._api(f"/users/{login}/orgs"),
            "repos_url": self._api(f"/users/{login}/repos"),
            "events_url": self._api(f"/users/{login}/events{{/privacy}}"),
            "received_events_url": self._api(f"/users/{login}/received_events"),
            "type": "User",
            "site_admin": False,
        }

    def _label_json(self, repo: FakeRepo, name: str) -> dict:
        label = repo.labels[name.lower()]
        quoted = urllib.parse.quote(label["name"], safe="")
        data = {
            "id": label["id"],
            "node_id": f"LA_{label['id']}",
            "url": self._api(f"/repos/{repo.full_name}/labels/{quoted}"),
            "name": label["name"],
            "description": label["description"],
            "color": label["color"],
            "default": False,
        }
        self._check("label", data)
        return data

    def _milestone_json(self, repo: FakeRepo, number: int) -> dict:
        milestone = repo.milestones[number]
        base = f"/repos/{repo.full_name}/milestones/{number}"
        open_count = sum(
            1
            for issue in repo.issues.values()
            if issue.milestone == number and issue.state == "open"
        )
        closed_count = sum(
            1
            for issue in repo.issues.values()
            if issue.milestone == number and issue.state == "closed"
        )
        data = {
            "url": self._api(base),
            "html_url": self._html(f"/{repo.full_name}/milestone/{number}"),
            "labels_url": self._api(base + "/labels"),
            "id": milestone["id"],
            "node_id": f"MI_{milestone['id']}",
            "number": number,
            "state": milestone["state"],
            "title": milestone["title"],
            "description": milestone["description"],
            "creator": self._user_json(DEFAULT_LOGIN),
            "open_issues": open_count,
            "closed_issues": closed_count,
            "created_at": iso_time(milestone["created_at"]),
            "updated_at": iso_time(milestone["updated_at"]),
            "closed_at": None,
            "due_on": milestone["due_on"],
        }
        self._check("milestone", data)
        return data

    def _issue_json(
        self, repo: FakeRepo, issue: FakeIssue, *, single: bool = False
    ) -> dict:
        base = f"/repos/{repo.full_name}/issues/{issue.number}"
        assignees = [self._user_json(login) for login in issue.assignees]
        data: dict[str, Any] = {
            "id": issue.id,
            "node_id": f"I_{issue.id}",
            "url": self._api(base),
            "repository_url": self._api(f"/repos/{repo.full_name}"),
            "labels_url": self._api(base + "/labels{/name}"),
            "comments_url": self._api(base + "/comments"),
            "events_url": self._api(base + "/events"),
            "html_url": self._html(
                f"/{repo.full_name}/{'pull' if issue.pull_request else 'issues'}/{issue.number}"
            ),
            "number": issue.number,
            "state": issue.state,
            "state_reason": issue.state_reason,
            "title": issue.title,
            "body": issue.body,
            "user": self._user_json(issue.user),
            "labels": [self._label_json(repo, name) for name in issue.labels],
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "milestone": (
                self._milestone_json(repo, issue.milestone)
                if issue.milestone is not None
                else None
            ),
            "locked": issue.locked,
            "active_lock_reason": issue.active_lock_reason,
            "comments": len(issue.comments),
            "closed_at": iso_time(issue.closed_at) if issue.closed_at else None,
            "created_at": iso_time(issue.created_at),
            "updated_at": iso_time(issue.updated_at),
            "author_association": "OWNER",
            "timeline_url": self._api(base + "/timeline"),
            "reactions": {
                "url": self._api(base + "/reactions"),
                "total_count": 0,
                "+1": 0,
                "-1": 0,
                "laugh": 0,
                "confused": 0,
                "heart": 0,
                "hooray": 0,
                "eyes": 0,
                "rocket": 0,
            },
        }
        if issue.pull_request:
            pulls = f"/repos/{repo.full_name}/pulls/{issue.number}"
            data["pull_request"] = {
                "url": self._api(pulls),
                "html_url": self._html(f"/{repo.full_name}/pull/{issue.number}"),
                "diff_url": self._html(f"/{repo.full_name}/pull/{issue.number}.diff"),
                "patch_url": self._html(f"/{repo.full_name}/pull/{issue.number}.patch"),
                "merged_at": None,
            }
            data["draft"] = False
        if single:
            # GitHub includes closed_by only when one issue is requested.
            data["closed_by"] = (
                self._user_json(issue.closed_by) if issue.closed_by else None
            )
        self._check("issue", data)
        return data

    def _comment_json(self, repo: FakeRepo, comment: dict) -> dict:
        data = {
            "id": comment["id"],
            "node_id": f"IC_{comment['id']}",
            "url": self._api(
                f"/repos/{repo.full_name}/issues/comments/{comment['id']}"
            ),
            "html_url": self._html(
                f"/{repo.full_name}/issues/{comment['issue']}#issuecomment-{comment['id']}"
            ),
            "issue_url": self._api(
                f"/repos/{repo.full_name}/issues/{comment['issue']}"
            ),
            "body": comment["body"],
            "user": self._user_json(comment["user"]),
            "created_at": iso_time(comment["created_at"]),
            "updated_at": iso_time(comment["updated_at"]),
            "author_association": "OWNER",
        }
        self._check("issue-comment", data)
        return data

    # Responses with GitHub's headers.

    def _token_of(self, request: Request) -> str | None:
        value = request.headers.get("authorization", "")
        for scheme in ("token ", "Bearer ", "bearer "):
            if value.startswith(scheme):
                return value[len(scheme) :].strip()
        return None

    def decorate(self, request: Request, response: Response) -> None:
        token = self._token_of(request) or ""
        remaining = self.rate_remaining.get(token, self.rate_limit)
        for key, value in (
            ("x-ratelimit-limit", str(self.rate_limit)),
            ("x-ratelimit-remaining", str(remaining)),
            ("x-ratelimit-used", str(self.rate_limit - remaining)),
            ("x-ratelimit-reset", str(int(self.rate_reset))),
            ("x-ratelimit-resource", "core"),
        ):
            response.headers.setdefault(key, value)
        response.headers.setdefault("x-github-media-type", "github.v3; format=json")

    @staticmethod
    def error(status: int, message: str, **extra: Any) -> Response:
        body = {"message": message, "documentation_url": DOCS, "status": str(status)}
        body.update(extra)
        return Response(status, body)

    def validation_failed(
        self,
        resource: str,
        field_name: str,
        code: str,
        message: str | None = None,
        **extra: Any,
    ) -> Response:
        error: dict[str, Any] = {
            "resource": resource,
            "field": field_name,
            "code": code,
        }
        if message:
            error["message"] = message
        error.update(extra)
        return self.error(422, "Validation Failed", errors=[error])

    def not_found_route(self, request: Request) -> Response:
        return self.error(404, "Not Found")

    def bad_json(self, request: Request) -> Response:
        return self.error(400, "Problems parsing JSON")

    def _with_etag(self, request: Request, response: Response) -> Response:
        """Add an ETag, and return 304 when the client already has this version."""

        digest = hashlib.sha1(response.encoded_body())
        digest.update(response.headers.get("Link", "").encode("utf-8"))
        etag = f'"{digest.hexdigest()}"'
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = "private, max-age=60, s-maxage=60"
        response.headers["Vary"] = "Accept, Authorization, Cookie"
        if request.headers.get("if-none-match") == etag:
            return Response(304, None, {"ETag": etag})
        return response

    def _paginate(self, request: Request, items: list[Any]) -> Response:
        per_page = self._int_param(request, "per_page", 30)
        per_page = max(1, min(per_page, self.max_per_page))
        page = max(1, self._int_param(request, "page", 1))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        response = Response(200, chunk)
        if len(items) > per_page:
            links = []
            if page < last:
                links.append(f'<{self._page_url(request, page + 1)}>; rel="next"')
                links.append(f'<{self._page_url(request, last)}>; rel="last"')
            if page > 1:
                links.append(f'<{self._page_url(request, 1)}>; rel="first"')
                links.append(f'<{self._page_url(request, page - 1)}>; rel="prev"')
            if links:
                response.headers["Link"] = ", ".join(links)
        return response

    def _page_url(self, request: Request, page: int) -> str:
        query = {key: values[-1] for key, values in request.query.items()}
        query["page"] = str(page)
        return f"{self.origin}{request.raw_path}?{urllib.parse.urlencode(query)}"

    @staticmethod
    def _int_param(request: Request, name: str, default: int) -> int:
        try:
            return int(request.param(name) or default)
        except ValueError:
            return default

    # Routing.

    ROUTES = [
        ("GET", r"/user", "get_user"),
        ("GET", r"/users/(?P<login>[^/]+)", "get_named_user"),
        ("GET", r"/rate_limit", "get_rate_limit"),
        ("GET", r"/search/issues", "search_issues"),
        ("GET", r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)", "get_repo"),
        ("GET", r"{repo}/issues", "list_issues"),
        ("POST", r"{repo}/issues", "create_issue"),
        ("GET", r"{repo}/issues/comments/(?P<comment>\d+)", "get_comment"),
        ("PATCH", r"{repo}/issues/comments/(?P<comment>\d+)", "edit_comment"),
        ("DELETE", r"{repo}/issues/comments/(?P<comment>\d+)", "delete_comment"),
        ("GET", r"{issue}", "get_issue"),
        ("PATCH", r"{issue}", "edit_issue"),
        ("GET", r"{issue}/comments", "list_comments"),
        ("POST", r"{issue}/comments", "create_comment"),
        ("GET", r"{issue}/labels", "list_issue_labels"),
        ("POST", r"{issue}/labels", "add_labels"),
        ("PUT", r"{issue}/labels", "set_labels"),
        ("DELETE", r"{issue}/labels", "clear_labels"),
        ("DELETE", r"{issue}/labels/(?P<label>[^/]+)", "remove_label"),
        ("POST", r"{issue}/assignees", "add_assignees"),
        ("DELETE", r"{issue}/assignees", "remove_assignees"),
        ("PUT", r"{issue}/lock", "lock_issue"),
        ("DELETE", r"{issue}/lock", "unlock_issue"),
        ("GET", r"{repo}/labels", "list_labels"),
        ("POST", r"{repo}/labels", "create_label"),
        ("GET", r"{repo}/labels/(?P<label>[^/]+)", "get_label"),
        ("GET", r"{repo}/milestones", "list_milestones"),
        ("POST", r"{repo}/milestones", "create_milestone"),
        ("GET", r"{repo}/milestones/(?P<milestone>\d+)", "get_milestone"),
        ("GET", r"{repo}/assignees", "list_assignees"),
        ("GET", r"{repo}/assignees/(?P<login>[^/]+)", "check_assignee"),
    ]

    def route(self, request: Request) -> Response:
        token = self._token_of(request)
        if token is None:
            return self.error(401, "Requires authentication")
        if token not in self.tokens:
            return self.error(401, "Bad credentials")
        login = self.tokens[token]

        counted = request.path != "/rate_limit"
        if counted:
            remaining = self.rate_remaining.get(token, self.rate_limit)
            if self.clock() >= self.rate_reset:
                self.rate_reset = self.clock() + 3600
                remaining = self.rate_limit
            if remaining <= 0:
                self.rate_remaining[token] = 0
                return self.error(
                    403, f"API rate limit exceeded for user ID {self.users[login]}."
                )

        response = self._dispatch(request, login)
        if counted and response.status != 304:
            self.rate_remaining[token] = (
                self.rate_remaining.get(token, self.rate_limit) - 1
            )
        return response

    def _dispatch(self, request: Request, login: str) -> Response:
        if request.path.endswith("/") and request.path != "/":
            return self.error(404, "Not Found")
        matched_path = False
        for method, pattern, handler_name in _COMPILED_ROUTES:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            matched_path = True
            if method != request.method:
                continue
            params = match.groupdict()
            repo = None
            if "owner" in params:
                repo = self.repos.get(f"{params['owner']}/{params['name']}".lower())
                if repo is None or not repo.visible:
                    return self.error(404, "Not Found")
                if (
                    handler_name != "get_repo"
                    and not repo.has_issues
                    and (
                        "issue" in handler_name
                        or "comment" in handler_name
                        or handler_name
                        in (
                            "add_labels",
                            "set_labels",
                            "clear_labels",
                            "remove_label",
                            "add_assignees",
                            "remove_assignees",
                            "lock_issue",
                            "unlock_issue",
                        )
                    )
                ):
                    return self.error(410, "Issues are disabled for this repo")
                if "number" in params:
                    number = int(params["number"])
                    if number in repo.moved:
                        return self._moved(request, repo, number)
                    if number in repo.deleted:
                        return self.error(410, "This issue was deleted")
                    if number not in repo.issues:
                        return self.error(404, "Not Found")
                if request.method != "GET" and not repo.issues_writable:
                    return self.error(
                        403, "Resource not accessible by personal access token"
                    )
            handler = getattr(self, "_" + handler_name)
            return handler(request, login, repo, params)
        if matched_path:
            return self.error(404, "Not Found")
        return self.error(404, "Not Found")

    def _moved(self, request: Request, repo: FakeRepo, number: int) -> Response:
        target_repo, target_number = repo.moved[number]
        rest = request.path.split(f"/issues/{number}", 1)[1]
        location = self._api(f"/repos/{target_repo}/issues/{target_number}{rest}")
        response = self.error(301, "Moved Permanently", url=location)
        response.headers["Location"] = location
        return response

    # Users and the rate limit.

    def _get_user(
        self, request: Request, login: str, repo: None, params: dict
    ) -> Response:
        return self._with_etag(
            request, Response(200, self._user_json(login) | {"name": login})
        )

    def _get_named_user(
        self, request: Request, login: str, repo: None, params: dict
    ) -> Response:
        if params["login"] not in self.users:
            return self.error(404, "Not Found")
        return Response(200, self._user_json(params["login"]))

    def _get_rate_limit(
        self, request: Request, login: str, repo: None, params: dict
    ) -> Response:
        token = self._token_of(request) or ""
        remaining = self.rate_remaining.get(token, self.rate_limit)
        core = {
            "limit": self.rate_limit,
            "remaining": remaining,
            "reset": int(self.rate_reset),
            "used": self.rate_limit - remaining,
        }
        return Response(200, {"resources": {"core": core}, "rate": core})

    def _search_issues(
        self, request: Request, login: str, repo: None, params: dict
    ) -> Response:
        # Search lags behind writes: an issue appears after ``search_lag`` s.
        query = request.param("q", "") or ""
        cutoff = self.clock() - self.search_lag
        items = []
        for candidate in self.repos.values():
            if f"repo:{candidate.full_name}".lower() not in query.lower():
                continue
            for issue in candidate.issues.values():
                if issue.updated_at <= cutoff:
                    items.append(self._issue_json(candidate, issue) | {"score": 1.0})
        page = self._paginate(request, items)
        page.body = {
            "total_count": len(items),
            "incomplete_results": False,
            "items": page.body,
        }
        return page

    # Repositories.

    def _get_repo(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        base = f"/repos/{repo.full_name}"
        data = {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self._user_json(repo.owner),
            "private": repo.private,
            "html_url": self._html(f"/{repo.full_name}"),
            "url": self._api(base),
            "issues_url": self._api(base + "/issues{/number}"),
            "labels_url": self._api(base + "/labels{/name}"),
            "milestones_url": self._api(base + "/milestones{/number}"),
            "assignees_url": self._api(base + "/assignees{/user}"),
            "has_issues": repo.has_issues,
            "archived": repo.archived,
            "open_issues_count": sum(
                1 for issue in repo.issues.values() if issue.state == "open"
            ),
            "permissions": {
                "admin": False,
                "maintain": False,
                "push": repo.issues_writable,
                "triage": repo.issues_writable,
                "pull": True,
            },
        }
        return self._with_etag(request, Response(200, data))

    # Issues.

    def _list_issues(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        state = request.param("state", "open")
        wanted = [
            name.strip().lower()
            for name in (request.param("labels") or "").split(",")
            if name.strip()
        ]
        issues = []
        for issue in repo.issues.values():
            if (repo.full_name, issue.number) in self.hidden_from_lists:
                continue
            if state != "all" and issue.state != state:
                continue
            names = {name.lower() for name in issue.labels}
            if any(name not in names for name in wanted):
                continue
            since = request.param("since")
            if since and iso_time(issue.updated_at) < since:
                continue
            issues.append(issue)
        sort = request.param("sort", "created")
        key = {
            "created": lambda issue: (issue.created_at, issue.number),
            "updated": lambda issue: (issue.updated_at, issue.number),
            "comments": lambda issue: (len(issue.comments), issue.number),
        }.get(sort, lambda issue: (issue.created_at, issue.number))
        issues.sort(key=key, reverse=request.param("direction", "desc") != "asc")
        response = self._paginate(
            request, [self._issue_json(repo, issue) for issue in issues]
        )
        return self._with_etag(request, response)

    def _create_issue(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        data = request.json()
        if not isinstance(data, dict):
            return self.error(400, "Body should be a JSON object")
        if self.create_limit is not None:
            count, window, retry_after = self.create_limit
            now = self.clock()
            self._create_times = [
                stamp for stamp in self._create_times if now - stamp < window
            ]
            if len(self._create_times) >= count:
                response = self.error(403, SECONDARY_LIMIT_MESSAGE)
                if retry_after is not None:
                    response.headers["Retry-After"] = str(int(retry_after))
                return response
        title = data.get("title")
        if isinstance(title, int) and not isinstance(title, bool):
            title = str(title)
        if not isinstance(title, str) or not title.strip():
            return self.validation_failed("Issue", "title", "missing_field")
        problem = self._check_fields(repo, data, title=title)
        if problem is not None:
            return problem
        assignees = list(data.get("assignees") or [])
        if data.get("assignee"):
            assignees.append(data["assignee"])
        assignees, problem = self._checked_assignees(repo, assignees)
        if problem is not None:
            return problem
        milestone = data.get("milestone")
        if milestone not in (None, "") and int(milestone) not in repo.milestones:
            return self.validation_failed(
                "Issue", "milestone", "invalid", value=milestone
            )

        if self.create_limit is not None:
            self._create_times.append(self.clock())
        labels = list(data.get("labels") or [])
        issue = self.add_issue(
            repo.full_name, title, data.get("body"), labels=tuple(labels), user=login
        )
        issue.assignees = assignees
        issue.milestone = int(milestone) if milestone not in (None, "") else None
        response = Response(201, self._issue_json(repo, issue, single=True))
        response.headers["Location"] = self._api(
            f"/repos/{repo.full_name}/issues/{issue.number}"
        )
        return response

    def _check_fields(
        self, repo: FakeRepo, data: dict, *, title: str | None
    ) -> Response | None:
        if title is not None and len(title) > TITLE_MAX:
            return self.validation_failed(
                "Issue",
                "title",
                "custom",
                f"title is too long (maximum is {TITLE_MAX} characters)",
            )
        body = data.get("body")
        if isinstance(body, str) and len(body) > BODY_MAX:
            return self.validation_failed(
                "Issue",
                "body",
                "custom",
                f"body is too long (maximum is {BODY_MAX} characters)",
            )
        labels = data.get("labels")
        if isinstance(labels, list) and len(labels) > LABELS_MAX:
            return self.validation_failed(
                "Issue",
                "labels",
                "custom",
                f"Issues cannot have more than {LABELS_MAX} labels",
            )
        return None

    def _checked_assignees(
        self, repo: FakeRepo, logins: list[str]
    ) -> tuple[list[str], Response | None]:
        if len(logins) > ASSIGNEES_MAX:
            return [], self.validation_failed(
                "Issue",
                "assignees",
                "custom",
                f"Issues cannot have more than {ASSIGNEES_MAX} assignees",
            )
        if not self.token_can_assign:
            return [], None
        valid = []
        for login in logins:
            if login in repo.collaborators:
                if login not in valid:
                    valid.append(login)
            elif not self.drop_invalid_assignees:
                return [], self.validation_failed(
                    "Issue", "assignees", "invalid", value=login
                )
        return valid, None

    def _get_issue(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        issue = repo.issues[int(params["number"])]
        return self._with_etag(
            request, Response(200, self._issue_json(repo, issue, single=True))
        )

    def _edit_issue(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        issue = repo.issues[int(params["number"])]
        data = request.json()
        if not isinstance(data, dict):
            return self.error(400, "Body should be a JSON object")
        title = data.get("title")
        if "title" in data and (not isinstance(title, str) or not title.strip()):
            return self.validation_failed("Issue", "title", "missing_field")
        problem = self._check_fields(
            repo, data, title=title if "title" in data else None
        )
        if problem is not None:
            return problem
        if "assignees" in data:
            assignees, problem = self._checked_assignees(
                repo, list(data["assignees"] or [])
            )
            if problem is not None:
                return problem
        if "milestone" in data and data["milestone"] not in (None, ""):
            if int(data["milestone"]) not in repo.milestones:
                return self.validation_failed(
                    "Issue", "milestone", "invalid", value=data["milestone"]
                )
        state = data.get("state")
        if state is not None and state not in ("open", "closed"):
            return self.validation_failed("Issue", "state", "invalid", value=state)
        reason = data.get("state_reason")
        if reason is not None and reason not in (
            "completed",
            "not_planned",
            "duplicate",
            "reopened",
        ):
            return self.validation_failed(
                "Issue", "state_reason", "invalid", value=reason
            )

        if "title" in data:
            issue.title = title
        if "body" in data:
            issue.body = data["body"]
        if "labels" in data:
            names = [
                label["name"] if isinstance(label, dict) else label
                for label in data["labels"] or []
            ]
            for name in names:
                self._ensure_label(repo, name)
            issue.labels = names
        if "assignees" in data:
            issue.assignees = assignees
        if "milestone" in data:
            # PyGithub sends "" to clear the milestone; GitHub accepts null too.
            value = data["milestone"]
            issue.milestone = None if value in (None, "") else int(value)
        if state is not None and state != issue.state:
            # state_reason is ignored unless the state changes.
            issue.state = state
            if state == "closed":
                issue.closed_at = self.clock()
                issue.closed_by = login
                issue.state_reason = reason or "completed"
            else:
                issue.closed_at = None
                issue.closed_by = None
                issue.state_reason = "reopened"
        issue.updated_at = self.clock()
        return Response(200, self._issue_json(repo, issue, single=True))

    # Comments.

    def _list_comments(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        issue = repo.issues[int(params["number"])]
        comments = [
            self._comment_json(repo, self._comments[cid]) for cid in issue.comments
        ]
        return self._with_etag(request, self._paginate(request, comments))

    def _create_comment(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        issue = repo.issues[int(params["number"])]
        data = request.json()
        body = data.get("body") if isinstance(data, dict) else None
        if not isinstance(body, str) or not body:
            return self.validation_failed("IssueComment", "body", "missing_field")
        if len(body) > BODY_MAX:
            return self.validation_failed(
                "IssueComment",
                "data",
                "unprocessable",
                f"Body is too long (maximum is {BODY_MAX} characters)",
            )
        if issue.locked:
            return self.error(403, "Unable to create comment because issue is locked.")
        comment = {
            "id": next(self._ids),
            "issue": issue.number,
            "body": body,
            "user": login,
            "created_at": self.clock(),
            "updated_at": self.clock(),
        }
        self._comments[comment["id"]] = comment
        issue.comments.append(comment["id"])
        issue.updated_at = self.clock()
        return Response(201, self._comment_json(repo, comment))

    def _find_comment(self, repo: FakeRepo, comment_id: int) -> dict | None:
        comment = self._comments.get(comment_id)
        if comment is None or comment["issue"] not in repo.issues:
            return None
        if comment_id not in repo.issues[comment["issue"]].comments:
            return None
        return comment

    def _get_comment(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        comment = self._find_comment(repo, int(params["comment"]))
        if comment is None:
            return self.error(404, "Not Found")
        return Response(200, self._comment_json(repo, comment))

    def _edit_comment(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        comment = self._find_comment(repo, int(params["comment"]))
        if comment is None:
            return self.error(404, "Not Found")
        body = (request.json() or {}).get("body")
        if not isinstance(body, str) or len(body) > BODY_MAX:
            return self.validation_failed("IssueComment", "body", "invalid")
        comment["body"] = body
        comment["updated_at"] = self.clock()
        return Response(200, self._comment_json(repo, comment))

    def _delete_comment(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        comment = self._find_comment(repo, int(params["comment"]))
        if comment is None:
            return self.error(404, "Not Found")
        repo.issues[comment["issue"]].comments.remove(comment["id"])
        del self._comments[comment["id"]]
        return Response(204)

    # Labels on an issue.

    def _ensure_label(self, repo: FakeRepo, name: str) -> None:
        # GitHub creates unknown labels named in an issue, grey, without a description.
        if name.lower() not in repo.labels:
            repo.labels[name.lower()] = {
                "id": next(self._ids),
                "name": name,
                "color": "ededed",
                "description": None,
            }

    def _label_names(self, request: Request) -> list[str] | None:
        data = request.json()
        if isinstance(data, dict):
            data = data.get("labels")
        if not isinstance(data, list):
            return None
        return [item["name"] if isinstance(item, dict) else str(item) for item in data]

    def _issue_labels_response(
        self, repo: FakeRepo, issue: FakeIssue, status: int = 200
    ) -> Response:
        return Response(status, [self._label_json(repo, name) for name in issue.labels])

    def _list_issue_labels(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        issue = repo.issues[int(params["number"])]
        return self._paginate(
            request, [self._label_json(repo, name) for name in issue.labels]
        )

    def _add_labels(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        issue = repo.issues[int(params["number"])]
        names = self._label_names(request)
        if names is None:
            return self.validation_failed("Label", "labels", "invalid")
        present = {name.lower() for name in issue.labels}
        for name in names:
            self._ensure_label(repo, name)
            if name.lower() not in present:
                issue.labels.append(repo.labels[name.lower()]["name"])
                present.add(name.lower())
        if len(issue.labels) > LABELS_MAX:
            return self.validation_failed(
                "Issue", "labels", "custom", "Too many labels"
            )
        issue.updated_at = self.clock()
        return self._issue_labels_response(repo, issue)

    def _set_labels(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        issue = repo.issues[int(params["number"])]
        names = self._label_names(request)
        if names is None:
            return self.validation_failed("Label", "labels", "invalid")
        for name in names:
            self._ensure_label(repo, name)
        issue.labels = [repo.labels[name.lower()]["name"] for name in names]
        issue.updated_at = self.clock()
        return self._issue_labels_response(repo, issue)

    def _clear_labels(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        issue = repo.issues[int(params["number"])]
        issue.labels = []
        issue.updated_at = self.clock()
        return Response(204)

    def _remove_label(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        issue = repo.issues[int(params["number"])]
        name = urllib.parse.unquote(params["label"])
        remaining = [label for label in issue.labels if label.lower() != name.lower()]
        if len(remaining) == len(issue.labels):
            return self.error(404, "Label does not exist")
        issue.labels = remaining
        issue.updated_at = self.clock()
        return self._issue_labels_response(repo, issue)

    # Assignees and locks.

    def _add_assignees(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        issue = repo.issues[int(params["number"])]
        logins = list((request.json() or {}).get("assignees") or [])
        # Unassignable logins are ignored here, as GitHub does on this endpoint.
        for candidate in logins:
            if candidate in repo.collaborators and candidate not in issue.assignees:
                issue.assignees.append(candidate)
        issue.assignees = issue.assignees[:ASSIGNEES_MAX]
        issue.updated_at = self.clock()
        return Response(201, self._issue_json(repo, issue, single=True))

    def _remove_assignees(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        issue = repo.issues[int(params["number"])]
        logins = {
            candidate.lower()
            for candidate in (request.json() or {}).get("assignees") or []
        }
        issue.assignees = [
            candidate
            for candidate in issue.assignees
            if candidate.lower() not in logins
        ]
        issue.updated_at = self.clock()
        return Response(200, self._issue_json(repo, issue, single=True))

    def _lock_issue(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        issue = repo.issues[int(params["number"])]
        reason = (request.json() or {}).get("lock_reason") if request.body else None
        if reason is not None and reason not in (
            "off-topic",
            "too heated",
            "resolved",
            "spam",
        ):
            return self.validation_failed("Issue", "lock_reason", "invalid")
        issue.locked = True
        issue.active_lock_reason = reason
        return Response(204)

    def _unlock_issue(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        issue = repo.issues[int(params["number"])]
        issue.locked = False
        issue.active_lock_reason = None
        return Response(204)

    # Repository labels and milestones.

    def _list_labels(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        labels = [self._label_json(repo, key) for key in sorted(repo.labels)]
        return self._with_etag(request, self._paginate(request, labels))

    def _get_label(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        name = urllib.parse.unquote(params["label"])
        if name.lower() not in repo.labels:
            return self.error(404, "Not Found")
        return Response(200, self._label_json(repo, name))

    def _create_label(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        data = request.json() or {}
        name = data.get("name")
        if not isinstance(name, str) or not name:
            return self.validation_failed("Label", "name", "missing_field")
        if len(name) > 50:
            return self.validation_failed(
                "Label", "name", "custom", "name is too long (maximum is 50 characters)"
            )
        color = data.get("color") or "ededed"
        if not re.fullmatch(r"[0-9A-Fa-f]{6}", color):
            return self.validation_failed("Label", "color", "invalid")
        description = data.get("description")
        if isinstance(description, str) and len(description) > 100:
            return self.validation_failed(
                "Label",
                "description",
                "custom",
                "description is too long (maximum is 100 characters)",
            )
        if name.lower() in repo.labels:
            return self.validation_failed("Label", "name", "already_exists")
        repo.labels[name.lower()] = {
            "id": next(self._ids),
            "name": name,
            "color": color.lower(),
            "description": description,
        }
        return Response(201, self._label_json(repo, name))

    def _list_milestones(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        state = request.param("state", "open")
        numbers = [
            number
            for number, milestone in sorted(repo.milestones.items())
            if state == "all" or milestone["state"] == state
        ]
        milestones = [self._milestone_json(repo, number) for number in numbers]
        return self._with_etag(request, self._paginate(request, milestones))

    def _get_milestone(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        number = int(params["milestone"])
        if number not in repo.milestones:
            return self.error(404, "Not Found")
        return Response(200, self._milestone_json(repo, number))

    def _create_milestone(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        data = request.json() or {}
        title = data.get("title")
        if not isinstance(title, str) or not title:
            return self.validation_failed("Milestone", "title", "missing_field")
        if any(milestone["title"] == title for milestone in repo.milestones.values()):
            return self.validation_failed("Milestone", "title", "already_exists")
        milestone = self.add_milestone(repo.full_name, title)
        milestone["description"] = data.get("description")
        milestone["state"] = data.get("state") or "open"
        milestone["due_on"] = data.get("due_on")
        return Response(201, self._milestone_json(repo, milestone["number"]))

    def _list_assignees(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        users = [self._user_json(name) for name in sorted(repo.collaborators)]
        return self._with_etag(request, self._paginate(request, users))

    def _check_assignee(
        self, request: Request, login: str, repo: FakeRepo, params: dict
    ) -> Response:
        if params["login"] in repo.collaborators:
            return Response(204)
        return self.error(404, "Not Found")


_REPO_PATH = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
_COMPILED_ROUTES = compile_routes(
    GitHubFake.ROUTES,
    ("{issue}", _REPO_PATH + r"/issues/(?P<number>\d+)"),
    ("{repo}", _REPO_PATH),
)


# Factories for tests.


@contextlib.contextmanager
def running_fake(**kwargs: Any) -> Iterator[GitHubFake]:
    with GitHubFake(**kwargs) as fake:
        yield fake


def tracker_options(fake: GitHubFake, repo: str = "acme/ops", **extra: Any) -> dict:
    """Return target options for a GitHubTracker bound to ``fake`` (no pacing gaps)."""

    options = {
        "repo": repo,
        "base_url": fake.url,
        "token_env": "SYNCD_FAKE_GITHUB_TOKEN",
        "timeout": 5,
        "min_write_interval": 0,
        "writes_per_minute": None,
        "writes_per_hour": None,
    }
    options.update(extra)
    return {key: value for key, value in options.items() if value is not None}


def make_tracker(
    fake: GitHubFake,
    tmp_path: Path | None = None,
    *,
    repo: str = "acme/ops",
    token: str = DEFAULT_TOKEN,
    **kwargs: Any,
):
    """Return a GitHubTracker talking to ``fake`` over HTTP with the real PyGithub."""

    from syncd_adapters.github import GitHubTracker

    options = tracker_options(fake, repo, **kwargs.pop("options", {}))
    environ = {"SYNCD_FAKE_GITHUB_TOKEN": token}
    kwargs.setdefault("sleep", lambda seconds: None)
    return GitHubTracker(
        "github-fake", options, state_dir=tmp_path, environ=environ, **kwargs
    )


@contextlib.contextmanager
def make_contract_tracker(tmp_path: Path) -> Iterator[Any]:
    """Start a fresh fake with one empty repository and yield a tracker bound to it."""

    with running_fake() as fake:
        fake.add_repo("acme/ops", collaborators=("alice", "bob"))
        with contract_session(make_tracker(fake, tmp_path), fake) as tracker:
            yield tracker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run the in-memory GitHub REST fake on 127.0.0.1."
    )
    parser.add_argument(
        "--port", type=int, default=0, help="TCP port; 0 picks a free one"
    )
    parser.add_argument(
        "--prefix", default="", help='API path prefix, "/api/v3" for GitHub Enterprise'
    )
    parser.add_argument(
        "--repo",
        action="append",
        default=[],
        help="repository to create (owner/name); repeatable",
    )
    parser.add_argument(
        "--token", default=DEFAULT_TOKEN, help="the token the fake accepts"
    )
    args = parser.parse_args(argv)

    fake = GitHubFake(
        prefix=args.prefix, port=args.port, tokens={args.token: DEFAULT_LOGIN}
    )
    for full_name in args.repo or ["acme/ops"]:
        fake.add_repo(full_name)
    serve_until_interrupted(fake, fake.url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
