"""syncd's command line, run in a subprocess: exit codes, JSON shapes, overrides."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from syncd import __version__

from tests.cli.conftest import MEETING_ONE, MEETING_TWO, run_syncd

ACTIONS = ("create", "update", "close", "reopen", "comment")


def fingerprint(folder: Path) -> dict[str, tuple[int, str]]:
    """Map every file under ``folder`` to its mtime and content hash."""

    found = {}
    if not folder.exists():
        return found
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[str(path.relative_to(folder))] = (path.stat().st_mtime_ns, digest)
    return found


def issue_changes(report: dict) -> list[dict]:
    return [change for change in report["changes"] if change.get("subject") != "label"]


# Basics.


def test_version_prints_version():
    run = run_syncd("--version")

    assert run.code == 0
    assert run.stdout.strip() == f"syncd {__version__}"


def test_usage_error_exits_one():
    run = run_syncd("sync", "--no-such-option")

    assert run.code == 1
    assert "unrecognized arguments" in run.stderr


def test_missing_config_names_the_ways(tmp_path):
    run = run_syncd("plan", cwd=tmp_path)

    assert run.code == 1
    assert "--config" in run.stderr
    assert "SYNCD_CONFIG" in run.stderr
    assert "Traceback" not in run.stderr


def test_config_from_environment(project, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    run = project.syncd(
        "plan",
        "--format",
        "json",
        env={"SYNCD_CONFIG": str(project.config)},
        cwd=elsewhere,
    )

    assert run.code == 2
    assert run.json()["summary"]["create"] >= 2


def test_config_from_working_folder(project):
    run = project.syncd("plan")

    assert run.code == 2
    assert "Delete the calendar-announce channel." in run.stdout


# plan, sync, status.


def test_plan_writes_nothing(project):
    run = project.syncd("plan", "--config", str(project.config), "--format", "json")

    assert run.code == 2
    assert not project.tracker_file.exists()
    assert not project.state_dir.exists()
    report = run.json()
    assert report["dry_run"] is True
    assert {change["action"] for change in issue_changes(report)} == {"create"}


def test_plan_json_shape(project):
    report = project.syncd("plan", "--format", "json").json()

    [change] = [
        c for c in issue_changes(report) if c["item"]["text"].startswith("Delete")
    ]
    assert change["action"] == "create"
    assert change["item"]["path"] == "ops/2024-05-02.md"
    assert change["item"]["line"] == 15
    assert change["item"]["owners"] == ["RD"]
    assert change["item"]["key"]
    assert change["issue"]["tracker"] == "ops"
    assert change["fields"]["title"]["after"] == "Delete the calendar-announce channel."
    assert set(ACTIONS) <= set(report["summary"])
    assert report["files"] == {"read": 1, "failed": 0, "items": 2}


def test_sync_then_status(project):
    sync = project.syncd("sync", "--format", "json")
    status = project.syncd("status", "--format", "json")

    assert sync.code == 0
    assert sync.json()["summary"]["create"] >= 2
    assert status.code == 0
    issues = status.json()["issues"]
    assert len(issues) == 2
    delete = next(issue for issue in issues if issue["title"].startswith("Delete"))
    assert delete["tracker"] == "ops"
    assert delete["ref"] == "ops#1" or delete["ref"].startswith("ops#")
    assert delete["url"]
    assert delete["state"] == "open"
    assert delete["state_reason"] is None
    assert delete["assignees"] == ["rosa-example"]
    assert "syncd" in delete["labels"]
    assert delete["occurrences"] == [
        {"path": "ops/2024-05-02.md", "line": 15, "date": "2024-05-02", "present": True}
    ]


def test_second_sync_changes_nothing(project):
    project.syncd("sync")
    before = fingerprint(project.root / "tracker.db.d") | {
        "db": project.tracker_file.read_bytes()
    }

    run = project.syncd("sync", "--format", "json")
    plan = project.syncd("plan", "--format", "json")

    report = run.json()
    assert run.code == 0
    assert issue_changes(report) == []
    assert all(report["summary"][action] == 0 for action in ACTIONS)
    assert plan.code == 0
    assert plan.json()["changes"] == []
    assert project.tracker_file.read_bytes() == before["db"]


def test_status_text_lists_issues(project):
    project.syncd("sync")

    run = project.syncd("status")

    assert run.code == 0
    assert "Delete the calendar-announce channel." in run.stdout
    assert "rosa-example" in run.stdout
    assert "seen: ops/2024-05-02.md:15 (2024-05-02)" in run.stdout


def test_later_meeting_updates_and_closes(project):
    project.syncd("sync")
    project.write_minutes(
        "ops/2024-05-09.md", MEETING_TWO.replace("RD: Delete", "KM: Delete")
    )

    plan = project.syncd("plan", "--format", "json")
    sync = project.syncd("sync", "--format", "json")

    actions = sorted(change["action"] for change in issue_changes(plan.json()))
    assert plan.code == 2
    assert "create" in actions
    assert "update" in actions
    assert sync.code == 0
    status = project.syncd("status", "--format", "json").json()["issues"]
    delete = next(issue for issue in status if issue["title"].startswith("Delete"))
    assert delete["assignees"] == ["kai-example"]
    assert len(delete["occurrences"]) == 2


def test_dry_run_writes_nothing(project):
    project.syncd("sync")
    project.write_minutes("ops/2024-05-09.md", MEETING_TWO)
    before = fingerprint(project.root)

    run = project.syncd("sync", "--dry-run", "--format", "json")

    assert run.code == 0
    assert run.json()["dry_run"] is True
    assert "create" in [c["action"] for c in issue_changes(run.json())]
    assert fingerprint(project.root) == before


def test_dry_run_on_fresh_project_creates_no_files(project):
    before = fingerprint(project.root)

    run = project.syncd("sync", "--dry-run")

    assert run.code == 0
    assert "Rotate" not in run.stdout
    assert fingerprint(project.root) == before


def test_plan_markdown(project):
    run = project.syncd("plan", "--format", "markdown")

    assert run.code == 2
    assert run.stdout.lstrip().startswith("#")
    assert "Delete the calendar-announce channel." in run.stdout


def test_options_before_subcommand(project):
    run = run_syncd("--config", str(project.config), "--format", "json", "plan")

    assert run.code == 2
    assert run.json()["summary"]["create"] >= 2


# Overrides.


def test_source_override_replaces_root(project, tmp_path):
    checkout = tmp_path / "checkout"
    (checkout / "team").mkdir(parents=True)
    (checkout / "team" / "2024-06-01.md").write_text(MEETING_TWO, encoding="utf-8")

    run = project.syncd("plan", "--source", str(checkout), "--format", "json")

    paths = {change["item"]["path"] for change in issue_changes(run.json())}
    assert run.code == 2
    assert paths == {"team/2024-06-01.md"}


def test_source_override_needs_one_source(project):
    project.write_config(
        project.config.read_text(encoding="utf-8").replace(
            "    dialect: default\n", "    dialect: default\n  more:\n    root: more\n"
        )
    )

    run = project.syncd("plan", "--source", str(project.minutes))

    assert run.code == 1
    assert "2 sources" in run.stderr


def test_tracker_override_keeps_real_target_untouched(project, tmp_path):
    project.write_config(
        project.config.read_text(encoding="utf-8").replace(
            "    kind: local\n    path: tracker.db\n",
            "    kind: github\n    repo: acme/ops\n    base_url: http://127.0.0.1:9/api\n",
        )
    )
    rehearsal = tmp_path / "rehearsal" / "u.db"

    sync = project.syncd("sync", "--tracker", f"local:{rehearsal}", "--format", "json")
    status = project.syncd(
        "status", "--tracker", f"local:{rehearsal}", "--format", "json"
    )

    assert sync.code == 0, sync.stderr
    assert rehearsal.exists()
    assert (tmp_path / "rehearsal" / "u.db.state").is_dir()
    assert not project.state_dir.exists()
    assert {issue["tracker"] for issue in status.json()["issues"]} == {"ops"}
    assert len(status.json()["issues"]) == 2


def test_tracker_override_syntax_error(project):
    run = project.syncd("plan", "--tracker", "github:acme/ops")

    assert run.code == 1
    assert "local:PATH" in run.stderr


# Problems with files and sources.


def test_bad_file_is_reported_and_others_sync(project):
    project.write_minutes("ops/2024-05-09.md", MEETING_TWO)
    project.write_minutes(
        "ops/2024-05-16.md",
        "---\ntitle: Ops weekly\ntitle: pasted twice\n---\n\n## Action items\n\nRD: Never synced.\n",
    )

    run = project.syncd("sync", "--format", "json")

    report = run.json()
    assert run.code == 3
    assert report["files"]["failed"] == 1
    problem = next(p for p in report["problems"] if p["path"] == "ops/2024-05-16.md")
    assert problem["line"] == 3
    assert "duplicate" in problem["message"]
    titles = {
        c["fields"]["title"]["after"]
        for c in issue_changes(report)
        if c["action"] == "create"
    }
    assert "Rotate the staging database password." in titles
    assert "Never synced." not in titles


def test_bad_file_problem_in_text_output(project):
    project.write_minutes("ops/2024-05-09.md", b"\xff\xfe not utf-8".decode("latin-1"))
    (project.minutes / "ops" / "2024-05-09.md").write_bytes(
        b"## Action items\n\nRD: caf\xe9\n"
    )

    run = project.syncd("sync")

    assert run.code == 3
    assert "ops/2024-05-09.md" in run.stdout
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_unreadable_names_and_pipes_fail_alone(project, locale):
    folder = project.minutes / "ops"
    latin1_name = os.fsdecode(b"2024-05-09-caf\xe9.md")
    (folder / latin1_name).write_bytes(b"## Action items\n\nKM: From a Latin-1 name.\n")
    os.mkfifo(folder / "2024-05-16.md")
    (folder / "2024-05-23.md").symlink_to(folder / "gone.md")

    run = project.syncd("sync", "--format", "json", env={"LANG": locale})

    assert run.code == 3
    assert "Traceback" not in run.stderr
    report = run.json()
    messages = {problem["path"]: problem["message"] for problem in report["problems"]}
    assert "not valid UTF-8" in messages["ops/2024-05-09-caf\\xe9.md"]
    assert "named pipe" in messages["ops/2024-05-16.md"]
    assert "symbolic link" in messages["ops/2024-05-23.md"]
    assert report["files"]["failed"] == 3
    assert [c["action"] for c in issue_changes(report)].count("create") >= 1


def test_missing_source_closes_nothing(project):
    project.syncd("sync")

    run = project.syncd(
        "sync", "--source", str(project.root / "not-there"), "--format", "json"
    )

    assert run.code == 3
    assert all(change["action"] != "close" for change in run.json()["changes"])
    status = project.syncd("status", "--format", "json").json()["issues"]
    assert {issue["state"] for issue in status} == {"open"}


def test_guard_stops_mass_close(project):
    project.write_minutes(
        "ops/2024-05-02.md",
        MEETING_ONE
        + "".join(
            f"KM: Check rack {number} for loose cables.\n" for number in range(12)
        ),
    )
    project.syncd("sync")
    project.write_minutes(
        "ops/2024-05-09.md",
        "---\ndate: 2024-05-09\n---\n\n## Action items\n\nKM: Order lunch.\n",
    )

    refused = project.syncd("sync", "--format", "json")
    allowed = project.syncd("sync", "--allow-mass-close", "--format", "json")

    assert refused.code == 3
    assert refused.json()["summary"]["close"] == 0
    assert "--allow-mass-close" in refused.stdout
    assert allowed.code == 0
    assert allowed.json()["summary"]["close"] == 14


# Config validation.


def test_config_validate_ok(project):
    run = project.syncd("config", "validate")

    assert run.code == 0
    assert "valid" in run.stdout


def test_config_validate_lists_every_problem(project):
    project.write_config(
        project.config.read_text(encoding="utf-8")
        + "gaurds:\n  max_close: 3\npacing:\n  writes_per_minute: many\n"
    )

    run = project.syncd("config", "validate", "--config", str(project.config))

    assert run.code == 1
    assert (
        f"{project.config}:20: gaurds: unknown key 'gaurds'; did you mean 'guards'?"
        in run.stdout
    )
    assert (
        f"{project.config}:23: pacing.writes_per_minute: must be a whole number"
        in run.stdout
    )


def test_config_validate_json(project):
    project.write_config(
        project.config.read_text(encoding="utf-8").replace(
            "carry: forward", "carry: onward"
        )
    )

    run = project.syncd("config", "validate", "--format", "json")

    report = run.json()
    assert run.code == 1
    assert report["valid"] is False
    assert report["problems"] == [
        {
            "path": str(project.config),
            "line": 18,
            "key_path": "series[0].carry",
            "message": "must be one of forward, accumulate, not 'onward'",
        }
    ]


def test_config_error_stops_sync(project):
    project.write_config(
        project.config.read_text(encoding="utf-8") + "state_dir: twice\n"
    )

    run = project.syncd("sync")

    assert run.code == 1
    assert "duplicate key 'state_dir'" in run.stderr
    assert f"{project.config}:" in run.stderr
    assert not project.tracker_file.exists()


def test_config_validate_missing_root(project):
    project.write_config(
        project.config.read_text(encoding="utf-8").replace(
            "root: minutes", "root: gone"
        )
    )

    run = project.syncd("config", "validate")

    assert run.code == 1
    assert f"{project.config}:3: sources.minutes.root" in run.stdout
    assert "does not exist" in run.stdout


# parse.


def test_parse_relative_paths_without_config(project):
    run = project.syncd(
        "parse",
        "--format",
        "json",
        "--dialect",
        "default",
        "2024-05-02.md",
        cwd=project.minutes / "ops",
    )

    [document] = run.json()["documents"]
    assert run.code == 0
    assert document["path"] == "2024-05-02.md"
    assert document["meeting"]["date"] == "2024-05-02"
    assert [item["owners"] for item in document["items"]] == [["RD"], ["KM"]]
    assert document["items"][0]["line"] == 15


def test_parse_text_output(project):
    run = project.syncd("parse", str(project.minutes / "ops" / "2024-05-02.md"))

    assert run.code == 0
    assert "Delete the calendar-announce channel." in run.stdout


# Encoding.


def test_c_locale_prints_emoji(project):
    project.write_minutes(
        "ops/2024-05-09.md",
        MEETING_TWO.replace(
            "Rotate the staging database password.",
            "Fix the 🚀 launch page for Zoë 👩‍💻.",
        ),
    )
    locale = {"LANG": "C", "LC_ALL": "C"}

    dry = project.syncd("sync", "--dry-run", env=locale)
    sync = project.syncd("sync", env=locale)
    status = project.syncd("status", env=locale)
    parse = project.syncd(
        "parse",
        "--format",
        "json",
        str(project.minutes / "ops" / "2024-05-09.md"),
        env=locale,
    )

    for run in (dry, sync, status, parse):
        assert run.code == 0, run.stderr
        assert "UnicodeEncodeError" not in run.stderr
    assert "Fix the 🚀 launch page for Zoë 👩‍💻." in status.stdout
    assert "🚀" in dry.stdout
    assert "Zoë" in parse.stdout


def test_utf8_written_even_if_ascii_requested(project):
    run = project.syncd("plan", env={"PYTHONIOENCODING": "ascii"})

    assert run.code == 2
    assert "Delete the calendar-announce channel." in run.stdout


def test_bom_and_crlf_minutes(project):
    (project.minutes / "ops" / "2024-05-09.md").write_bytes(
        "\ufeff".encode() + MEETING_TWO.replace("\n", "\r\n").encode("utf-8")
    )
    project.syncd("sync")

    status = project.syncd("status", "--format", "json").json()["issues"]

    titles = sorted(issue["title"] for issue in status)
    assert titles == sorted(
        [
            "Book the room for the June offsite.",
            "Delete the calendar-announce channel.",
            "Rotate the staging database password.",
        ]
    )
    assert os.linesep not in "".join(titles).replace("\n", "")


def test_status_text_shows_unlisted_issue():
    from syncd.cli import render_status_text

    text = render_status_text(
        [
            {
                "ref": "ops#4",
                "state": None,
                "title": "Book the room",
                "assignees": [],
                "occurrences": [],
                "error": "target ops is unavailable",
            }
        ]
    )

    assert "ops#4  unknown" in text
    assert "error: target ops is unavailable" in text


def test_status_shows_last_run(project):
    project.syncd("sync")

    text = project.syncd("status")
    report = project.syncd("status", "--format", "json").json()

    assert text.stdout.startswith("last run: ")
    assert " created" in text.stdout.splitlines()[0]
    assert report["last_run"]["outcome"] == "ok"
    assert report["last_run"]["counts"]["create"] >= 2
    assert report["failed_writes"] == []
    assert report["pending_writes"] == []


def test_status_before_first_sync(project):
    run = project.syncd("status", "--format", "json")

    assert run.code == 0
    assert run.json()["issues"] == []
    assert run.json()["last_run"] is None
    assert not project.state_dir.exists()


def test_emptied_minutes_close_nothing(project):
    # The series guard takes an emptied meeting for broken input once three
    # or more of its issues would close. The action section is still there,
    # so only the guard prevents the closes.
    project.write_minutes("ops/2024-05-02.md", MEETING_ONE + "RD: Renew the TLS certificate.\n")
    project.syncd("sync")
    project.write_minutes("ops/2024-05-02.md", MEETING_ONE.split("RD: Delete")[0])

    run = project.syncd("sync")
    status = project.syncd("status", "--format", "json").json()["issues"]

    assert run.code == 3
    assert "--allow-mass-close" in run.stdout
    assert {issue["state"] for issue in status} == {"open"}


def test_zero_byte_minutes_close_nothing(project):
    project.write_minutes("ops/2024-05-02.md", MEETING_ONE)
    project.syncd("sync")
    (project.minutes / "ops" / "2024-05-02.md").write_bytes(b"")

    run = project.syncd("sync")
    status = project.syncd("status", "--format", "json").json()["issues"]

    assert run.code == 3
    assert "ops/2024-05-02.md: error: the file is empty" in run.stdout
    assert "(1 failed)" in run.stdout
    assert len(status) == 2
    assert {issue["state"] for issue in status} == {"open"}


def test_empty_next_meeting_file_warns(project):
    project.write_minutes("ops/2024-05-02.md", MEETING_ONE)
    project.syncd("sync")
    (project.minutes / "ops" / "2024-05-09.md").write_bytes(b"")

    run = project.syncd("sync", "-v")
    status = project.syncd("status", "--format", "json").json()["issues"]

    assert run.code == 0, run.stdout + run.stderr
    assert "ops/2024-05-09.md: warning: the file is empty" in run.stdout
    assert {issue["state"] for issue in status} == {"open"}


def test_task_ticked_under_a_handle_closes_its_issue(project):
    project.write_minutes("ops/2024-05-02.md", MEETING_ONE)
    project.syncd("sync")
    project.write_minutes(
        "ops/2024-05-09.md",
        "---\ntitle: Ops weekly\ndate: 2024-05-09\n---\n\n## Action items\n\n"
        "- [x] @rosa-example Delete the calendar-announce channel.\n"
        "- [ ] @kai-example Book the room for the June offsite.\n",
    )

    run = project.syncd("sync")
    status = project.syncd("status", "--format", "json").json()["issues"]

    assert run.code == 0, run.stdout + run.stderr
    states = {issue["title"]: issue["state"] for issue in status}
    assert states == {
        "Delete the calendar-announce channel.": "closed",
        "Book the room for the June offsite.": "open",
    }


def test_parse_with_people_file(project, tmp_path):
    roster = tmp_path / "people.yaml"
    roster.write_text(
        "people:\n  - name: Rosa Diaz\n    aliases: [RD]\n    github: rosa-example\n",
        encoding="utf-8",
    )

    run = project.syncd(
        "parse",
        "--people",
        str(roster),
        str(project.minutes / "ops" / "2024-05-02.md"),
        cwd=tmp_path,
    )

    assert run.code == 0, run.stderr
    assert "Rosa Diaz" in run.stdout or "rosa-example" in run.stdout


def test_parse_with_bad_people_file(project, tmp_path):
    roster = tmp_path / "people.yaml"
    roster.write_text("people:\n  - nmae: Rosa\n", encoding="utf-8")

    run = project.syncd(
        "parse", "--people", str(roster), str(project.minutes / "ops" / "2024-05-02.md")
    )

    assert run.code == 1
    assert f"{roster}:2" in run.stderr


def test_warnings_counted_and_listed_with_verbose(project):
    project.write_minutes(
        "ops/2024-05-09.md", MEETING_TWO.replace("KM: Rotate", "ZQ: Rotate")
    )

    quiet = project.syncd("plan")
    verbose = project.syncd("plan", "-v")

    assert "warning (owners left unassigned, files left out): -v lists them" in quiet.stdout
    assert "ops/2024-05-09.md:13: warning:" in verbose.stdout
    assert "ZQ" in verbose.stdout


def test_config_validate_reports_duplicates_with_schema(project):
    project.write_config(
        project.config.read_text(encoding="utf-8")
        + "state_dir: again\ngaurds:\n  max_close: 3\n"
    )

    run = project.syncd("config", "validate", "--config", str(project.config))

    assert run.code == 1
    assert "invalid, 2 problems:" in run.stdout
    assert ":20: state_dir: duplicate key 'state_dir'" in run.stdout
    assert ":21: gaurds: unknown key 'gaurds'" in run.stdout
