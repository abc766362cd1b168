"""Whole syncs against a fake: config, minutes and the real runner.

``sync_example`` syncs the example config (``config/example.yaml`` and its
minutes) into a fresh GitHub or GitLab fake, as many times as asked, and
returns what each run sent: the fake's request log and per-endpoint counts.
The benchmarks use it to record what a sync and a no-op sync cost.
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.fakes import github_fake, gitlab_fake

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = REPO_ROOT / "config" / "example.yaml"
TOKEN_VARIABLE = "SYNCD_FAKE_TRACKER_TOKEN"


@dataclass
class RunRecord:
    """One sync: the runner's outcome and the requests the fake served."""

    outcome: Any
    requests: list[tuple[str, str, int]]
    by_endpoint: dict[str, int] = field(default_factory=dict)

    @property
    def statuses(self) -> collections.Counter:
        return collections.Counter(status for _, _, status in self.requests)


def endpoint_of(path: str) -> str:
    """Fold numbers and names out of a path: ``/repos/{o}/{r}/issues/{n}``."""

    path = re.sub(r"^/repos/[^/]+/[^/]+", "/repos/{owner}/{repo}", path)
    path = re.sub(r"^/projects/[^/]+", "/projects/{project}", path)
    path = re.sub(r"/issues/\d+", "/issues/{number}", path)
    path = re.sub(r"/(assignees|users)/[^/]+$", r"/\1/{login}", path)
    path = re.sub(r"/labels/[^/]+$", "/labels/{name}", path)
    path = re.sub(r"/members/all/\d+$", "/members/all/{id}", path)
    return path


def count_by_endpoint(requests: list[tuple[str, str, int]]) -> dict[str, int]:
    counts: collections.Counter = collections.Counter(
        f"{method} {endpoint_of(path)} {status}" for method, path, status in requests
    )
    return dict(sorted(counts.items()))


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def target_options(kind: str, fake: Any, **extra: Any) -> dict:
    """Return the YAML target entry for a github or gitlab target on ``fake``."""

    if kind == "github":
        options = {"kind": "github", "repo": "acme/ops", "base_url": fake.url}
    else:
        options = {"kind": "gitlab", "project": "acme/infra", "base_url": fake.origin}
    options.update(
        {
            "token_env": TOKEN_VARIABLE,
            "timeout": 5,
            # Pacing is measured by its own tests; here it would only wait.
            "min_write_interval": 0,
            "writes_per_minute": "none",
            "writes_per_hour": "none",
        }
    )
    options.update(extra)
    return options


def write_config(
    tmp_path: Path,
    *,
    kind: str,
    fake: Any,
    minutes_root: Path,
    base: dict | None = None,
    **target_extra: Any,
) -> Path:
    """Write a config syncing ``minutes_root`` into ``fake``; return its path.

    ``base`` is a config mapping to start from (people, series, labels); its
    sources, targets and state folder are replaced.
    """

    config = dict(base or {})
    config["sources"] = {
        "minutes": {
            "kind": "folder",
            "root": str(minutes_root),
            "include": ["**/*.md"],
            "exclude": ["README.md"],
        }
    }
    config["targets"] = {"main": target_options(kind, fake, **target_extra)}
    config.pop("default_target", None)
    config.pop("routes", None)
    config["state_dir"] = str(tmp_path / "state")
    path = tmp_path / "syncd.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def start_fake(kind: str, members: tuple[str, ...] = ()) -> Any:
    if kind == "github":
        fake = github_fake.GitHubFake()
        fake.add_repo("acme/ops", collaborators=members)
    else:
        fake = gitlab_fake.GitLabFake()
        fake.add_project("acme/infra", members=members)
    return fake.start()


def fake_token(kind: str) -> str:
    return github_fake.DEFAULT_TOKEN if kind == "github" else gitlab_fake.DEFAULT_TOKEN


def run_sync(config_path: Path, fake: Any, token: str) -> RunRecord:
    """Run one ``syncd sync`` with the real runner; return it with the fake's log."""

    from syncd.config import load_config
    from syncd.runner import sync_run

    fake.reset_log()
    with environment(**{TOKEN_VARIABLE: token}):
        outcome = sync_run(load_config(config_path))
    requests = fake.request_log()
    return RunRecord(
        outcome=outcome, requests=requests, by_endpoint=count_by_endpoint(requests)
    )


def sync_example(kind: str, tmp_path: Path, *, runs: int = 2) -> list[RunRecord]:
    """Sync the example config into a fresh ``kind`` fake ``runs`` times."""

    base = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    minutes_root = (
        EXAMPLE_CONFIG.parent / base["sources"]["minutes"]["root"]
    ).resolve()
    accounts = tuple(
        person[kind] for person in base.get("people", ()) if person.get(kind)
    )
    fake = start_fake(kind, accounts)
    try:
        config_path = write_config(
            tmp_path, kind=kind, fake=fake, minutes_root=minutes_root, base=base
        )
        return [run_sync(config_path, fake, fake_token(kind)) for _ in range(runs)]
    finally:
        fake.stop()
