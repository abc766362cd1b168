"""Configs and helpers for running the syncd command against the GitHub fake."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

from syncd.marker import marker_key
from tests.fakes import _server
from tests.fakes.github_fake import DEFAULT_TOKEN, GitHubFake, tracker_options
from tests.ops.support import PEOPLE, SYNCD, syncd_environment

TOKEN_ENV = "SYNCD_FAKE_GITHUB_TOKEN"


class NoDelayHandler(_server._Handler):
    # The fake writes headers and body in separate segments. With Nagle's
    # algorithm on, each response then waits about 40 ms for a delayed ACK.
    disable_nagle_algorithm = True


@contextlib.contextmanager
def running_fast_fake(**kwargs) -> Iterator[GitHubFake]:
    """Start the GitHub fake with TCP_NODELAY on its connections."""

    fake = GitHubFake(**kwargs)
    fake._server.RequestHandlerClass = NoDelayHandler
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def github_config(tmp_path: Path, fake: GitHubFake, repo: str = "acme/ops") -> Path:
    """Write a config with a folder source and one GitHub target served by ``fake``."""

    options = tracker_options(fake, repo)
    option_lines = "".join(f"    {key}: {value}\n" for key, value in options.items())
    config = tmp_path / "syncd.yaml"
    config.write_text(
        f"""sources:
  minutes:
    root: minutes
{PEOPLE}targets:
  ops:
    kind: github
{option_lines}state_dir: state
"""
    )
    return config


def github_environment() -> dict[str, str]:
    # The fake reads the token from the environment variable that the config names.
    return syncd_environment(**{TOKEN_ENV: DEFAULT_TOKEN})


def start_sync(tmp_path: Path, *arguments: str, stderr=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen(
        [SYNCD, "--config", "syncd.yaml", "sync", *arguments],
        cwd=tmp_path,
        env=github_environment(),
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )


def issues_by_key(fake: GitHubFake, repo: str = "acme/ops") -> dict[str, list[int]]:
    """Map each marker key to the numbers of the issues that carry it."""

    found: dict[str, list[int]] = {}
    for issue in fake.issues_in(repo):
        key = marker_key(issue.body or "")
        if key is not None:
            found.setdefault(key, []).append(issue.number)
    return found
