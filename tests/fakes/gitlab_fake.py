"""An in-memory GitLab REST v4 server on 127.0.0.1, faithful to what python-gitlab meets.

It serves the project issue, note, label, milestone, member and user
endpoints under ``/api/v4`` with GitLab's rules: issues addressed by the
project-scoped ``iid`` (the global ``id`` in an issue URL is a 404), projects
by numeric id or URL-encoded path (``acme%2Finfra``; a decoded slash is a
404), comma-separated labels, ``opened``/``closed`` states changed through
``state_event``, offset pagination with ``Link`` and ``x-*`` headers,
weak ETags with 304 responses, ``RateLimit-*`` headers, GitLab's error
bodies and its length limits. ``inject`` and the helper methods arm the
failures real servers show.

Run alone: ``python -m tests.fakes.gitlab_fake --port 0`` prints its URL.
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
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

DEFAULT_TOKEN = "fake-gitlab-token"
DEFAULT_USERNAME = "syncd-bot"

TITLE_MAX = 255
DESCRIPTION_MAX = 1_048_576
NOTE_MAX = 1_000_000

CREATE_LIMIT_MESSAGE = (
    "This endpoint has been requested too many times. Try again later."
)


@dataclass
class FakeGitLabIssue:
    id: int
    iid: int
    project_id: int
    title: str
    description: str | None
    author: str
    created_at: float
    updated_at: float
    state: str = "opened"
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    milestone_id: int | None = None
    discussion_locked: bool = False
    closed_at: float | None = None
    closed_by: str | None = None
    notes: list[int] = field(default_factory=list)
    moved_to_id: int | None = None


@dataclass
class FakeProject:
    id: int
    path_with_namespace: str
    issues_enabled: bool = True
    # False: the token cannot see the project, so everything is 404.
    visible: bool = True
    members: set[str] = field(default_factory=set)
    issues: dict[int, FakeGitLabIssue] = field(default_factory=dict)
    labels: dict[str, dict] = field(default_factory=dict)
    milestones: dict[int, dict] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    next_iid: int = 1


class GitLabFake(FakeServer):
    prefix = "/api/v4"

    def __init__(self, *, tokens: dict[str, str] | None = None, port: int = 0) -> None:
        super().__init__(port=port)
        self.tokens = dict(tokens or {DEFAULT_TOKEN: DEFAULT_USERNAME})
        self.users: dict[str, int] = {}
        self.projects: dict[int, FakeProject] = {}
        self._project_ids = itertools.count(77)
        self._issue_ids = itertools.count(90_001)
        self._other_ids = itertools.count(5001)
        self._notes: dict[int, dict] = {}
        self.max_per_page = 100
        self.rate_limit_per_minute = 2000
        # Unix time until which every request gets 429 with Retry-After.
        self.throttled_until: float | None = None
        # Application limit on issue creation: (creates, window s).
        self.create_limit: tuple[int, float] | None = None
        self._create_times: list[float] = []
        self.hidden_from_lists: set[tuple[int, int]] = set()
        for username in self.tokens.values():
            self.add_user(username)

    # Set-up helpers.

    def add_user(self, username: str) -> int:
        with self.lock:
            if username not in self.users:
                self.users[username] = next(self._other_ids)
            return self.users[username]

    def add_project(
        self,
        path: str,
        *,
        members: tuple[str, ...] = (),
        project_id: int | None = None,
        **flags: Any,
    ) -> FakeProject:
        with self.lock:
            project = FakeProject(
                id=project_id if project_id is not None else next(self._project_ids),
                path_with_namespace=path,
                **flags,
            )
            project.members.update(members)
            project.members.update(self.tokens.values())
            for username in project.members:
                self.add_user(username)
            self.projects[project.id] = project
            return project

    def project(self, path: str) -> FakeProject:
        for project in self.projects.values():
            if project.path_with_namespace == path:
                return project
        raise KeyError(path)

    def add_issue(
        self,
        path: str,
        title: str,
        description: str | None = "",
        *,
        labels: tuple[str, ...] = (),
        assignees: tuple[str, ...] = (),
        state: str = "opened",
        iid: int | None = None,
        issue_id: int | None = None,
        locked: bool = False,
        author: str | None = None,
    ) -> FakeGitLabIssue:
        with self.lock:
            project = self.project(path)
            now = self.clock()
            if iid is None:
                iid = project.next_iid
            project.next_iid = max(project.next_iid, iid + 1)
            for label in labels:
                self._ensure_label(project, label)
            issue = FakeGitLabIssue(
                id=issue_id if issue_id is not None else next(self._issue_ids),
                iid=iid,
                project_id=project.id,
                title=title,
                description=description,
                author=author or DEFAULT_USERNAME,
                created_at=now,
                updated_at=now,
                state=state,
                labels=list(labels),
                assignees=list(assignees),
                discussion_locked=locked,
            )
            if state == "closed":
                issue.closed_at = now
            project.issues[iid] = issue
            return issue

    def delete_issue(self, path: str, iid: int) -> None:
        with self.lock:
            project = self.project(path)
            project.issues.pop(iid)
            project.deleted.add(iid)

    def throttle(self, *, retry_after: float = 30.0) -> None:
        """Return 429 with Retry-After to every request for ``retry_after`` seconds."""

        with self.lock:
            self.throttled_until = self.clock() + retry_after

    def limit_creates(self, count: int, *, window: float = 60.0) -> None:
        with self.lock:
            self.create_limit = (count, window)
            self._create_times.clear()

    def issues_in(self, path: str) -> list[FakeGitLabIssue]:
        with self.lock:
            return sorted(
                self.project(path).issues.values(), key=lambda issue: issue.iid
            )

    # Rendering.

    def _html(self, path: str) -> str:
        return f"{self.origin}{path}"

    def _user_json(self, username: str) -> dict:
        user_id = self.add_user(username)
        return {
            "id": user_id,
            "username": username,
            "name": username.replace("-", " ").title(),
            "state": "active",
            "avatar_url": self._html(f"/uploads/avatar/{user_id}.png"),
            "web_url": self._html(f"/{username}"),
        }

    def _milestone_json(self, project: FakeProject, milestone_id: int) -> dict:
        milestone = project.milestones[milestone_id]
        data = {
            "id": milestone["id"],
            "iid": milestone["iid"],
            "project_id": project.id,
            "title": milestone["title"],
            "description": milestone["description"],
            "state": milestone["state"],
            "created_at": iso_time(milestone["created_at"], milliseconds=True),
            "updated_at": iso_time(milestone["updated_at"], milliseconds=True),
            "due_date": None,
            "start_date": None,
            "expired": False,
            "web_url": self._html(
                f"/{project.path_with_namespace}/-/milestones/{milestone['iid']}"
            ),
        }
        return data

    def _label_json(self, project: FakeProject, name: str) -> dict:
        label = project.labels[name.lower()]
        data = {
            "id": label["id"],
            "name": label["name"],
            "color": label["color"],
            "text_color": "#FFFFFF",
            "description": label["description"],
            "subscribed": False,
            "priority": None,
            "is_project_label": True,
        }
        self._check("label", data)
        return data

    def _issue_json(self, project: FakeProject, issue: FakeGitLabIssue) -> dict:
        path = project.path_with_namespace
        web_url = self._html(f"/{path}/-/issues/{issue.iid}")
        api = f"{self.url}/projects/{project.id}"
        assignees = [self._user_json(name) for name in issue.assignees]
        data = {
            "id": issue.id,
            "iid": issue.iid,
            "project_id": project.id,
            "title": issue.title,
            "description": issue.description,
            "state": issue.state,
            "created_at": iso_time(issue.created_at, milliseconds=True),
            "updated_at": iso_time(issue.updated_at, milliseconds=True),
            "closed_at": iso_time(issue.closed_at, milliseconds=True)
            if issue.closed_at
            else None,
            "closed_by": self._user_json(issue.closed_by) if issue.closed_by else None,
            # The model orders label names by title.
            "labels": sorted(issue.labels, key=str.lower),
            "milestone": (
                self._milestone_json(project, issue.milestone_id)
                if issue.milestone_id is not None
                else None
            ),
            "assignees": assignees,
            "assignee": assignees[0] if assignees else None,
            "author": self._user_json(issue.author),
            "type": "ISSUE",
            "issue_type": "issue",
            "user_notes_count": sum(
                1 for note_id in issue.notes if not self._notes[note_id]["system"]
            ),
            "merge_requests_count": 0,
            "upvotes": 0,
            "downvotes": 0,
            "due_date": None,
            "confidential": False,
            "discussion_locked": issue.discussion_locked,
            "web_url": web_url,
            "references": {
                "short": f"#{issue.iid}",
                "relative": f"#{issue.iid}",
                "full": f"{path}#{issue.iid}",
            },
            "time_stats": {
                "time_estimate": 0,
                "total_time_spent": 0,
                "human_time_estimate": None,
                "human_total_time_spent": None,
            },
            "task_completion_status": {"count": 0, "completed_count": 0},
            "has_tasks": False,
            "severity": "UNKNOWN",
            "subscribed": True,
            "imported": False,
            "imported_from": "none",
            "moved_to_id": issue.moved_to_id,
            "service_desk_reply_to": None,
            "_links": {
                "self": f"{api}/issues/{issue.iid}",
                "notes": f"{api}/issues/{issue.iid}/notes",
                "award_emoji": f"{api}/issues/{issue.iid}/award_emoji",
                "project": api,
                "closed_as_duplicate_of": None,
            },
        }
        self._check("issue", data)
        return data

    def _note_json(self, note: dict) -> dict:
        data = {
            "id": note["id"],
            "type": None,
            "body": note["body"],
            "attachment": None,
            "author": self._user_json(note["author"]),
            "created_at": iso_time(note["created_at"], milliseconds=True),
            "updated_at": iso_time(note["updated_at"], milliseconds=True),
            "system": note["system"],
            "noteable_id": note["issue_id"],
            "noteable_type": "Issue",
            "noteable_iid": note["issue_iid"],
            "resolvable": False,
            "confidential": False,
            "internal": False,
        }
        self._check("note", data)
        return data

    # Responses with GitLab's headers.

    def _token_of(self, request: Request) -> str | None:
        if "private-token" in request.headers:
            return request.headers["private-token"].strip()
        value = request.headers.get("authorization", "")
        if value.startswith("Bearer "):
            return value[len("Bearer ") :].strip()
        return None

    def decorate(self, request: Request, response: Response) -> None:
        observed = min(len(self.requests), self.rate_limit_per_minute)
        reset = int(self.clock()) + 60
        for key, value in (
            ("RateLimit-Name", "throttle_authenticated_api"),
            ("RateLimit-Limit", str(self.rate_limit_per_minute)),
            ("RateLimit-Observed", str(observed)),
            ("RateLimit-Remaining", str(self.rate_limit_per_minute - observed)),
            ("RateLimit-Reset", str(reset)),
        ):
            response.headers.setdefault(key, value)

    @staticmethod
    def error(status: int, message: Any, *, key: str = "message") -> Response:
        return Response(status, {key: message})

    def not_found_route(self, request: Request) -> Response:
        return self.error(404, "404 Not Found", key="error")

    def bad_json(self, request: Request) -> Response:
        return self.error(400, "400 Bad request - JSON parse error")

    def _with_etag(self, request: Request, response: Response) -> Response:
        digest = hashlib.md5(response.encoded_body())
        digest.update(response.headers.get("Link", "").encode("utf-8"))
        etag = f'W/"{digest.hexdigest()}"'
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = "max-age=0, private, must-revalidate"
        if request.headers.get("if-none-match") == etag:
            return Response(304, None, {"ETag": etag})
        return response

    def _paginate(self, request: Request, items: list[Any]) -> Response:
        try:
            per_page = int(request.param("per_page") or 20)
            page = int(request.param("page") or 1)
        except ValueError:
            return self.error(400, "per_page is invalid", key="error")
        per_page = max(1, min(per_page, self.max_per_page))
        page = max(1, page)
        total_pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        response = Response(200, chunk)
        headers = response.headers
        headers["x-page"] = str(page)
        headers["x-per-page"] = str(per_page)
        headers["x-total"] = str(len(items))
        headers["x-total-pages"] = str(total_pages)
        headers["x-next-page"] = str(page + 1) if page < total_pages else ""
        headers["x-prev-page"] = str(page - 1) if page > 1 else ""
        links = []
        if page > 1:
            links.append(f'<{self._page_url(request, page - 1)}>; rel="prev"')
        if page < total_pages:
            links.append(f'<{self._page_url(request, page + 1)}>; rel="next"')
        links.append(f'<{self._page_url(request, 1)}>; rel="first"')
        links.append(f'<{self._page_url(request, total_pages)}>; rel="last"')
        headers["Link"] = ", ".join(links)
        return response

    def _page_url(self, request: Request, page: int) -> str:
        pairs = [
            (key, value)
            for key, values in request.query.items()
            for value in values
            if key != "page"
        ]
        pairs.append(("page", str(page)))
        return f"{self.origin}{request.raw_path}?{urllib.parse.urlencode(pairs)}"

    # Routing.

    ROUTES = [
        ("GET", r"/user", "get_user"),
        ("GET", r"/users", "list_users"),
        ("GET", r"/projects/(?P<project>[^/]+)", "get_project"),
        ("GET", r"{project}/issues", "list_issues"),
        ("POST", r"{project}/issues", "create_issue"),
        ("GET", r"{issue}", "get_issue"),
        ("PUT", r"{issue}", "edit_issue"),
        ("DELETE", r"{issue}", "delete_issue_route"),
        ("GET", r"{issue}/notes", "list_notes"),
        ("POST", r"{issue}/notes", "create_note"),
        ("GET", r"{project}/labels", "list_labels"),
        ("POST", r"{project}/labels", "create_label"),
        ("GET", r"{project}/milestones", "list_milestones"),
        ("POST", r"{project}/milestones", "create_milestone"),
        ("GET", r"{project}/members/all/(?P<user_id>\d+)", "get_member"),
    ]

    def route(self, request: Request) -> Response:
        token = self._token_of(request)
        if token is None or token not in self.tokens:
            return self.error(401, "401 Unauthorized")
        username = self.tokens[token]

        if self.throttled_until is not None and self.clock() < self.throttled_until:
            wait = max(1, int(self.throttled_until - self.clock()))
            response = Response(429, "Retry later\n", content_type="text/plain")
            response.headers["Retry-After"] = str(wait)
            response.headers["RateLimit-ResetTime"] = email.utils.formatdate(
                self.throttled_until, usegmt=True
            )
            response.headers["RateLimit-Remaining"] = "0"
            response.headers["RateLimit-Reset"] = str(int(self.throttled_until))
            return response

        for method, pattern, handler_name in _COMPILED_ROUTES:
            match = pattern.fullmatch(request.path)
            if match is None or method != request.method:
                continue
            params = match.groupdict()
            project = None
            if "project" in params:
                project = self._find_project(params["project"])
                if project is None:
                    return self.error(404, "404 Project Not Found")
                if not project.issues_enabled and (
                    "issue" in handler_name or "note" in handler_name
                ):
                    return self.error(403, "403 Forbidden")
                if "iid" in params:
                    iid = int(params["iid"])
                    if iid in project.deleted or iid not in project.issues:
                        return self.error(404, "404 Issue Not Found")
            return getattr(self, "_" + handler_name)(request, username, project, params)
        return self.error(404, "404 Not Found", key="error")

    def _find_project(self, raw: str) -> FakeProject | None:
        # The path arrives still encoded: "acme%2Finfra". A literal slash
        # never reaches here because the route pattern excludes it.
        if raw.isdigit():
            project = self.projects.get(int(raw))
        else:
            path = urllib.parse.unquote(raw)
            project = next(
                (
                    item
                    for item in self.projects.values()
                    if item.path_with_namespace == path
                ),
                None,
            )
        if project is None or not project.visible:
            return None
        return project

    # Users and projects.

    def _get_user(
        self, request: Request, username: str, project: None, params: dict
    ) -> Response:
        data = self._user_json(username) | {
            "email": f"{username}@example.invalid",
            "bot": False,
        }
        return self._with_etag(request, Response(200, data))

    def _list_users(
        self, request: Request, username: str, project: None, params: dict
    ) -> Response:
        wanted = request.param("username")
        names = sorted(self.users)
        if wanted is not None:
            names = [name for name in names if name.lower() == wanted.lower()]
        return self._paginate(request, [self._user_json(name) for name in names])

    def _get_project(
        self, request: Request, username: str, project: FakeProject, params: dict
    ) -> Response:
        path = project.path_with_namespace
        namespace, _, name = path.rpartition("/")
        data = {
            "id": project.id,
            "name": name,
            "path": name,
            "path_with_namespace": path,
            "name_with_namespace": path.replace("/", " / "),
            "namespace": {
                "id": project.id + 1000,
                "full_path": namespace,
                "kind": "group",
            },
            "web_url": self._html(f"/{path}"),
            "issues_enabled": project.issues_enabled,
            "archived": False,
            "visibility": "private",
            "open_issues_count": sum(
                1 for issue in project.issues.values() if issue.state == "opened"
            ),
            "_links": {"self": f"{self.url}/projects/{project.id}"},
        }
        return self._with_etag(request, Response(200, data))

    def _get_member(
        self, request: Request, username: str, project: FakeProject, params: dict
    ) -> Response:
        user_id = int(params["user_id"])
        for name, known_id in self.users.items():
            if known_id == user_id and name in project.members:
                return Response(200, self._user_json(name) | {"access_level": 30})
        return self.error(404, "404 Not found")

    # Issues.

    def _list_issues(
        self, request: Request, username: str, project: FakeProject, params: dict
    ) -> Response:
        state = request.param("state", "all")
        wanted = [
            name.strip().lower()
            for name in (request.param("labels") or "").split(",")
            if name.strip()
        ]
        iids = {
            int(value) for value in request.query.get("iids[]", []) if value.isdigit()
        }
        search = (request.param("search") or "").lower()
        issues = []
        for issue in project.issues.values():
            if (project.id, issue.iid) in self.hidden_from_lists:
                continue
            if state in ("opened", "closed") and issue.state != state:
                continue
            names = {name.lower() for name in issue.labels}
            if any(name not in names for name in wanted):
                continue
            if iids and issue.iid not in iids:
                continue
            if (
                search
                and search not in f"{issue.title}\n{issue.description or ''}".lower()
            ):
                continue
            issues.append(issue)
        order_by = request.param("order_by", "created_at")
        key = {
            "created_at": lambda issue: (issue.created_at, issue.id),
            "updated_at": lambda issue: (issue.updated_at, issue.id),
        }.get(order_by, lambda issue: (issue.created_at, issue.id))
        issues.sort(key=key, reverse=request.param("sort", "desc") != "asc")
        response = self._paginate(
            request, [self._issue_json(project, issue) for issue in issues]
        )
        if response.status != 200:
            return response
        return self._with_etag(request, response)

    def _labels_param(self, value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, list):
            return [str(item).strip() for item in value if str(item).strip()]
        return [item.strip() for item in str(value).split(",") if item.strip()]

    def _assignees_from_ids(
        self, project: FakeProject, ids: Any
    ) -> list[str] | Response:
        if ids in (None, "", [0], [], 0):
            return []
        if not isinstance(ids, list):
            ids = [ids]
        names = []
        for user_id in ids:
            name = next(
                (name for name, known in self.users.items() if known == int(user_id)),
                None,
            )
            # GitLab ignores users who cannot be assigned instead of failing.
            if name is not None and name in project.members and name not in names:
                names.append(name)
        return names

    def _milestone_from_id(
        self, project: FakeProject, value: Any
    ) -> int | None | Response:
        if value in (None, "", 0, "0"):
            return None
        milestone_id = int(value)
        if milestone_id not in project.milestones:
            return self.error(404, "404 Milestone Not Found")
        return milestone_id

    def _create_issue(
        self, request: Request, username: str, project: FakeProject, params: dict
    ) -> Response:
        data = request.json() or {}
        if self.create_limit is not None:
            count, window = self.create_limit
            now = self.clock()
            self._create_times = [
                stamp for stamp in self._create_times if now - stamp < window
            ]
            if len(self._create_times) >= count:
                # Application limits send no RateLimit headers.
                response = self.error(429, {"error": CREATE_LIMIT_MESSAGE})
                response.decorated = False
                return response
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            return self.error(400, "title is missing", key="error")
        problem = self._check_lengths(title, data.get("description"))
        if problem is not None:
            return problem
        assignee_ids = data.get("assignee_ids", data.get("assignee_id"))
        assignees = self._assignees_from_ids(project, assignee_ids)
        milestone = self._milestone_from_id(project, data.get("milestone_id"))
        if isinstance(milestone, Response):
            return milestone
        if self.create_limit is not None:
            self._create_times.append(self.clock())
        labels = self._labels_param(data.get("labels"))
        issue = self.add_issue(
            project.path_with_namespace,
            title,
            data.get("description"),
            labels=tuple(labels),
            author=username,
        )
        issue.assignees = assignees
        issue.milestone_id = milestone
        return Response(201, self._issue_json(project, issue))

    def _check_lengths(self, title: str | None, description: Any) -> Response | None:
        if title is not None and len(title) > TITLE_MAX:
            return self.error(
                400, {"title": [f"is too long (maximum is {TITLE_MAX} characters)"]}
            )
        if isinstance(description, str) and len(description) > DESCRIPTION_MAX:
            return self.error(
                400,
                {
                    "description": [
                        f"is too long (maximum is {DESCRIPTION_MAX} characters)"
                    ]
                },
            )
        return None

    def _get_issue(
        self, request: Request, username: str, project: FakeProject, params: dict
    ) -> Response:
        issue = project.issues[int(params["iid"])]
        return self._with_etag(request, Response(200, self._issue_json(project, issue)))

    EDITABLE = (
        "title",
        "description",
        "state_event",
        "labels",
        "add_labels",
        "remove_labels",
        "assignee_ids",
        "assignee_id",
        "milestone_id",
        "discussion_locked",
        "due_date",
        "confidential",
    )

    def _edit_issue(
        self, request: Request, username: str, project: FakeProject, params: dict
    ) -> Response:
        issue = project.issues[int(params["iid"])]
        data = request.json() or {}
        if not any(key in data for key in self.EDITABLE):
            return self.error(
                400,
                "at least one parameter must be provided: " + ", ".join(self.EDITABLE),
                key="error",
            )
        if "title" in data and (
            not isinstance(data["title"], str) or not data["title"].strip()
        ):
            return self.error(400, {"title": ["can't be blank"]})
        problem = self._check_lengths(data.get("title"), data.get("description"))
        if problem is not None:
            return problem
        state_event = data.get("state_event")
        if state_event is not None and state_event not in ("close", "reopen"):
            return self.error(
                400, "state_event does not have a valid value", key="error"
            )
        milestone = issue.milestone_id
        if "milestone_id" in data:
            milestone = self._milestone_from_id(project, data["milestone_id"])
            if isinstance(milestone, Response):
                return milestone

        if "title" in data:
            issue.title = data["title"]
        if "description" in data:
            issue.description = data["description"]
        if "labels" in data:
            issue.labels = self._labels_param(data["labels"])
        for name in self._labels_param(data.get("add_labels")):
            if name.lower() not in {label.lower() for label in issue.labels}:
                issue.labels.append(name)
        removed = {
            name.lower() for name in self._labels_param(data.get("remove_labels"))
        }
        issue.labels = [label for label in issue.labels if label.lower() not in removed]
        for name in issue.labels:
            self._ensure_label(project, name)
        if "assignee_ids" in data or "assignee_id" in data:
            issue.assignees = self._assignees_from_ids(
                project, data.get("assignee_ids", data.get("assignee_id"))
            )
        issue.milestone_id = milestone
        if "discussion_locked" in data:
            issue.discussion_locked = bool(data["discussion_locked"])
        if state_event == "close" and issue.state != "closed":
            issue.state = "closed"
            issue.closed_at = self.clock()
            issue.closed_by = username
            self._system_note(issue, username, "closed")
        elif state_event == "reopen" and issue.state != "opened":
            issue.state = "opened"
            issue.closed_at = None
            issue.closed_by = None
            self._system_note(issue, username, "reopened")
        issue.updated_at = self.clock()
        return Response(200, self._issue_json(project, issue))

    def _delete_issue_route(
        self, request: Request, username: str, project: FakeProject, params: dict
    ) -> Response:
        self.delete_issue(project.path_with_namespace, int(params["iid"]))
        return Response(204)

    def _system_note(self, issue: FakeGitLabIssue, username: str, text: str) -> None:
        note = {
            "id": next(self._other_ids),
            "body": text,
            "author": username,
            "created_at": self.clock(),
            "updated_at": self.clock(),
            "system": True,
            "issue_id": issue.id,
            "issue_iid": issue.iid,
        }
        self._notes[note["id"]] = note
        issue.notes.append(note["id"])

    # Notes.

    def _list_notes(
        self, request: Request, username: str, project: FakeProject, params: dict
    ) -> Response:
        issue = project.issues[int(params["iid"])]
        notes = [self._notes[note_id] for note_id in issue.notes]
        notes.sort(
            key=lambda note: (note["created_at"], note["id"]),
            reverse=request.param("sort", "desc") != "asc",
        )
        response = self._paginate(request, [self._note_json(note) for note in notes])
        return self._with_etag(request, response)

    def _create_note(
        self, request: Request, username: str, project: FakeProject, params: dict
    ) -> Response:
        issue = project.issues[int(params["iid"])]
        body = (request.json() or {}).get("body")
        if not isinstance(body, str) or not body.strip():
            return self.error(400, "body is missing", key="error")
        if len(body) > NOTE_MAX:
            return self.error(
                400, {"note": [f"is too long (maximum is {NOTE_MAX} characters)"]}
            )
        if issue.discussion_locked:
            return self.error(403, "403 Forbidden")
        note = {
            "id": next(self._other_ids),
            "body": body,
            "author": username,
            "created_at": self.clock(),
            "updated_at": self.clock(),
            "system": False,
            "issue_id": issue.id,
            "issue_iid": issue.iid,
        }
        self._notes[note["id"]] = note
        issue.notes.append(note["id"])
        issue.updated_at = self.clock()
        return Response(201, self._note_json(note))

    # Labels and milestones.

    def _ensure_label(self, project: FakeProject, name: str) -> None:
        # GitLab creates labels named on an issue that the project lacks.
        if name.lower() not in project.labels:
            project.labels[name.lower()] = {
                "id": next(self._other_ids),
                "name": name,
                "color": "#6699cc",
                "description": None,
            }

    def _list_labels(
        self, request: Request, username: str, project: FakeProject, params: dict
    ) -> Response:
        labels = [self._label_json(project, key) for key in sorted(project.labels)]
        return self._with_etag(request, self._paginate(request, labels))

    def _create_label(
        self, request: Request, username: str, project: FakeProject, params: dict
    ) -> Response:
        data = request.json() or {}
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            return self.error(400, "name is missing", key="error")
        color = data.get("color")
        if not isinstance(color, str) or not re.fullmatch(
            r"#[0-9A-Fa-f]{6}|[a-z]+", color
        ):
            return self.error(400, {"color": ["must be a valid color code"]})
        if name.lower() in project.labels:
            return self.error(409, "Label already exists")
        project.labels[name.lower()] = {
            "id": next(self._other_ids),
            "name": name,
            "color": color,
            "description": data.get("description"),
        }
        return Response(201, self._label_json(project, name))

    def _list_milestones(
        self, request: Request, username: str, project: FakeProject, params: dict
    ) -> Response:
        state = request.param("state")
        title = request.param("title")
        milestones = [
            self._milestone_json(project, milestone_id)
            for milestone_id, milestone in sorted(project.milestones.items())
            if (state is None or milestone["state"] == state)
            and (title is None or milestone["title"] == title)
        ]
        return self._with_etag(request, self._paginate(request, milestones))

    def _create_milestone(
        self, request: Request, username: str, project: FakeProject, params: dict
    ) -> Response:
        data = request.json() or {}
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            return self.error(400, "title is missing", key="error")
        if any(
            milestone["title"] == title for milestone in project.milestones.values()
        ):
            return self.error(
                400, "Failed to create milestone! Milestone already exists"
            )
        milestone_id = next(self._other_ids)
        project.milestones[milestone_id] = {
            "id": milestone_id,
            "iid": len(project.milestones) + 1,
            "title": title,
            "description": data.get("description"),
            "state": "active",
            "created_at": self.clock(),
            "updated_at": self.clock(),
        }
        return Response(201, self._milestone_json(project, milestone_id))


_PROJECT_PATH = r"/projects/(?P<project>[^/]+)"
_COMPILED_ROUTES = compile_routes(
    GitLabFake.ROUTES,
    ("{issue}", _PROJECT_PATH + r"/issues/(?P<iid>\d+)"),
    ("{project}", _PROJECT_PATH),
)


# Factories for tests.


@contextlib.contextmanager
def running_fake(**kwargs: Any) -> Iterator[GitLabFake]:
    with GitLabFake(**kwargs) as fake:
        yield fake


def tracker_options(
    fake: GitLabFake, project: str = "acme/infra", **extra: Any
) -> dict:
    """Return target options for a GitLabTracker bound to ``fake`` (no pacing gaps)."""

    options = {
        "project": project,
        "base_url": fake.origin,
        "token_env": "SYNCD_FAKE_GITLAB_TOKEN",
        "timeout": "5",
        "min_write_interval": "0",
        "writes_per_minute": "none",
        "writes_per_hour": "none",
    }
    options.update(extra)
    return {key: value for key, value in options.items() if value is not None}


def make_tracker(
    fake: GitLabFake,
    tmp_path: Path | None = None,
    *,
    project: str = "acme/infra",
    token: str = DEFAULT_TOKEN,
    **kwargs: Any,
):
    """Return a GitLabTracker talking to ``fake`` over HTTP with the real python-gitlab."""

    from syncd_adapters.gitlab import GitLabTracker

    options = tracker_options(fake, project, **kwargs.pop("options", {}))
    environ = {"SYNCD_FAKE_GITLAB_TOKEN": token}
    kwargs.setdefault("sleep", lambda seconds: None)
    return GitLabTracker(
        "gitlab-fake", options, state_dir=tmp_path, environ=environ, **kwargs
    )


@contextlib.contextmanager
def make_contract_tracker(tmp_path: Path) -> Iterator[Any]:
    """Start a fresh fake with one empty project and yield a tracker bound to it."""

    with running_fake() as fake:
        fake.add_project("acme/infra", members=("alice", "bob"))
        with contract_session(make_tracker(fake, tmp_path), fake) as tracker:
            yield tracker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run the in-memory GitLab REST fake on 127.0.0.1."
    )
    parser.add_argument(
        "--port", type=int, default=0, help="TCP port; 0 picks a free one"
    )
    parser.add_argument(
        "--project",
        action="append",
        default=[],
        help="project path to create; repeatable",
    )
    parser.add_argument(
        "--token", default=DEFAULT_TOKEN, help="the token the fake accepts"
    )
    args = parser.parse_args(argv)

    fake = GitLabFake(port=args.port, tokens={args.token: DEFAULT_USERNAME})
    for path in args.project or ["acme/infra"]:
        fake.add_project(path)
    serve_until_interrupted(fake, fake.origin)
    return 0


if __name__ == "__main__":
    sys.exit(main())
