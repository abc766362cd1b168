"""A small project on disk (minutes, roster, config) and a way to run syncd on it.

The CLI tests run syncd in a real subprocess, as a timer or a script would,
so the tests check the exit codes, stdout and stderr a user gets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

MEETING_ONE = """\
---
title: Ops weekly
date: 2024-05-02
participants: [Rosa Diaz, Kai Moller]
---

# Ops weekly

## Notes

- RD: the calendar channel is noisy.

## Action items

RD: Delete the calendar-announce channel.
KM: Book the room for the June offsite.
"""

MEETING_TWO = """\
---
title: Ops weekly
date: 2024-05-09
participants: [Rosa Diaz, Kai Moller]
---

# Ops weekly

## Action items

RD: Delete the calendar-announce channel.
KM: Book the room for the June offsite.
KM: Rotate the staging database password.
"""

CONFIG = """\
sources:
  minutes:
    root: minutes
    dialect: default
people:
  - name: Rosa Diaz
    aliases: [RD]
    github: rosa-example
  - name: Kai Moller
    aliases: [KM]
    github: kai-example
targets:
  ops:
    kind: local
    path: tracker.db
series:
  - match: "*"
    carry: forward
state_dir: state
"""


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@dataclass
class Project:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "syncd.yaml"

    @property
    def minutes(self) -> Path:
        return self.root / "minutes"

    @property
    def tracker_file(self) -> Path:
        return self.root / "tracker.db"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    def write_minutes(self, name: str, text: str) -> Path:
        path = self.minutes / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def write_config(self, text: str) -> None:
        self.config.write_text(textwrap.dedent(text), encoding="utf-8")

    def syncd(
        self, *arguments: str, env: dict | None = None, cwd: Path | None = None
    ) -> Run:
        return run_syncd(*arguments, env=env, cwd=cwd or self.root)


def run_syncd(*arguments: str, env: dict | None = None, cwd: Path | None = None) -> Run:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("SYNCD_", "GITHUB_", "GITLAB_", "LC_", "LANG", "PYTHONIO", "PYTHONUTF8")
        )
    }
    environment.update(env or {})
    completed = subprocess.run(
        [sys.executable, "-m", "syncd.cli", *arguments],
        cwd=cwd,
        env=environment,
        capture_output=True,
        timeout=120,
    )
    return Run(
        code=completed.returncode,
        stdout=completed.stdout.decode("utf-8"),
        stderr=completed.stderr.decode("utf-8"),
    )


@pytest.fixture
def project(tmp_path) -> Project:
    made = Project(tmp_path)
    made.write_config(CONFIG)
    made.write_minutes("ops/2024-05-02.md", MEETING_ONE)
    return made
