"""One interface over the GitHub and GitLab fakes, so a test runs on both trackers.

A rig starts a fake with one project (``acme/ops`` on GitHub, ``acme/infra``
on GitLab) whose members are ``rdunne`` and ``kmoller``, builds trackers
bound to it on a simulated clock, and seeds or inspects the fake's issues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes import github_fake, gitlab_fake

MEMBERS = ("rdunne", "kmoller")


@dataclass
class SimClock:
    """Wall and monotonic time in one: ``sleep`` moves it forward at once."""

    now: float = 1_800_000_000.0
    sleeps: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class StoredIssue:
    number: int
    title: str
    body: str
    state: str
    labels: tuple[str, ...]
    assignees: tuple[str, ...]


class Rig:
    kind = ""
    project = ""
    token = ""
    # The keyword the fake's make_tracker takes for the project, and that
    # make_tracker itself.
    project_option = ""
    make_tracker: Any = None

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.clock = SimClock()
        self.fake: Any = None

    def tracker(
        self, *, state_dir: Path | None = None, token: str | None = None, **options: Any
    ):
        """Return a tracker bound to the fake, on the rig's simulated clock.

        ``repo`` (GitHub) or ``project`` (GitLab) picks another project than
        the rig's own; every other keyword is a target option.
        """

        project = options.pop(self.project_option, None) or self.project
        return self.make_tracker(
            self.fake,
            state_dir,
            token=token or self.token,
            options=options,
            clock=self.clock.time,
            monotonic=self.clock.time,
            sleep=self.clock.sleep,
            **{self.project_option: project},
        )

    def close(self) -> None:
        self.fake.stop()

    # Paths of the fake's request log, as regular expressions.
    def create_path(self) -> str:
        raise NotImplementedError

    def issue_path(self, number: int) -> str:
        raise NotImplementedError

    def comments_path(self, number: int) -> str:
        raise NotImplementedError

    def creates(self) -> int:
        return self.fake.count("POST", self.create_path())


class GitHubRig(Rig):
    kind = "github"
    project = "acme/ops"
    token = github_fake.DEFAULT_TOKEN
    project_option = "repo"
    make_tracker = staticmethod(github_fake.make_tracker)

    def __init__(self, tmp_path: Path, *, prefix: str = "") -> None:
        super().__init__(tmp_path)
        self.fake = github_fake.GitHubFake(prefix=prefix)
        self.fake.clock = self.clock.time
        self.fake.rate_reset = self.clock.now + 3600
        self.fake.add_repo(self.project, collaborators=MEMBERS)
        self.fake.start()

    def seed(
        self,
        title: str,
        body: str = "",
        *,
        labels=(),
        assignees=(),
        state: str = "open",
        number: int | None = None,
        locked: bool = False,
        pull_request: bool = False,
    ) -> int:
        issue = self.fake.add_issue(
            self.project,
            title,
            body,
            labels=tuple(labels),
            assignees=tuple(assignees),
            state="closed" if state == "closed" else "open",
            number=number,
            locked=locked,
            pull_request=pull_request,
        )
        return issue.number

    def stored(self) -> list[StoredIssue]:
        return [
            StoredIssue(
                issue.number,
                issue.title,
                issue.body or "",
                issue.state,
                tuple(sorted(issue.labels)),
                tuple(sorted(issue.assignees)),
            )
            for issue in self.fake.issues_in(self.project)
        ]

    def lock(self, number: int) -> None:
        self.fake.repo(self.project).issues[number].locked = True

    def create_path(self) -> str:
        return r"/repos/acme/ops/issues"

    def issue_path(self, number: int) -> str:
        return rf"/repos/acme/ops/issues/{number}"

    def comments_path(self, number: int) -> str:
        return rf"/repos/acme/ops/issues/{number}/comments"

    def list_path(self) -> str:
        return r"/repos/acme/ops/issues"


class GitLabRig(Rig):
    kind = "gitlab"
    project = "acme/infra"
    token = gitlab_fake.DEFAULT_TOKEN
    project_option = "project"
    make_tracker = staticmethod(gitlab_fake.make_tracker)

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.fake = gitlab_fake.GitLabFake()
        self.fake.clock = self.clock.time
        self.fake.add_project(self.project, members=MEMBERS)
        self.fake.start()

    def seed(
        self,
        title: str,
        body: str = "",
        *,
        labels=(),
        assignees=(),
        state: str = "open",
        number: int | None = None,
        locked: bool = False,
        issue_id: int | None = None,
    ) -> int:
        issue = self.fake.add_issue(
            self.project,
            title,
            body,
            labels=tuple(labels),
            assignees=tuple(assignees),
            state="closed" if state == "closed" else "opened",
            iid=number,
            locked=locked,
            issue_id=issue_id,
        )
        return issue.iid

    def stored(self) -> list[StoredIssue]:
        return [
            StoredIssue(
                issue.iid,
                issue.title,
                issue.description or "",
                "closed" if issue.state == "closed" else "open",
                tuple(sorted(issue.labels)),
                tuple(sorted(issue.assignees)),
            )
            for issue in self.fake.issues_in(self.project)
        ]

    def lock(self, number: int) -> None:
        self.fake.project(self.project).issues[number].discussion_locked = True

    def create_path(self) -> str:
        return r"/projects/acme%2Finfra/issues"

    def issue_path(self, number: int) -> str:
        return rf"/projects/acme%2Finfra/issues/{number}"

    def comments_path(self, number: int) -> str:
        return rf"/projects/acme%2Finfra/issues/{number}/notes"

    def list_path(self) -> str:
        return r"/projects/acme%2Finfra/issues"


RIGS = {"github": GitHubRig, "gitlab": GitLabRig}
