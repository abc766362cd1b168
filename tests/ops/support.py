"""Set-up shared by the ops tests: minutes, configs and the syncd command."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

SYNCD = str(Path(sys.executable).parent / "syncd")

PEOPLE = """people:
  - name: Ann Bell
    aliases: [AB]
  - name: Carl Dunn
    aliases: [CD]
"""


def write_minutes(folder: Path, date: str, items: list[str], name: str | None = None) -> Path:
    """Write one meeting's minutes with ``items`` (``"AB: Do this."``) under ``folder``."""

    folder.mkdir(parents=True, exist_ok=True)
    lines = ["---", "title: Weekly", f"date: {date}", "---", "# Action items"]
    lines += [f"- {item}" for item in items]
    path = folder / (name or f"{date}.md")
    path.write_text("\n".join(lines) + "\n")
    return path


def local_config(tmp_path: Path, root: str = "minutes", extra: str = "") -> Path:
    """Write a config with one folder source and the embedded tracker."""

    config = tmp_path / "syncd.yaml"
    config.write_text(
        f"""sources:
  minutes:
    root: {root}
{PEOPLE}targets:
  ops:
    kind: local
    path: tracker.sqlite
    project: ops
state_dir: state
pacing:
  min_write_interval: 0
{extra}"""
    )
    return config


def local_issues(tmp_path: Path) -> list[tuple[str, str]]:
    """Return (title, state) of every issue in the embedded tracker file."""

    path = tmp_path / "tracker.sqlite"
    if not path.exists():
        return []
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT title, state FROM issues ORDER BY number").fetchall()
    finally:
        connection.close()


def syncd_environment(**changes: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SYNCD_")}
    environment.pop("NOTIFY_SOCKET", None)
    environment.pop("WATCHDOG_USEC", None)
    environment.pop("JOURNAL_STREAM", None)
    environment.update(changes)
    return environment
