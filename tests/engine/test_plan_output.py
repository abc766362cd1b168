"""The plan's JSON contract and its text and Markdown renderings."""

from __future__ import annotations

import json

from syncd.planview import render_plan_markdown, render_plan_text, render_result_text
from syncd.settings import Guards

from tests.engine.support import Harness, make_settings, meeting, task


def two_meetings():
    return [
        meeting(
            "2024-05-02",
            [task("Delete the channel.", "RD"), task("Update the rota.", "KM")],
        ),
        meeting(
            "2024-05-09",
            [task("Delete the channel.", "KM"), task("Book the room for @team.", "LP")],
        ),
    ]


def test_plan_json_follows_contract(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    harness.sync(two_meetings()[:1])
    plan = harness.plan(two_meetings())
    data = json.loads(json.dumps(plan.to_json()))

    assert data["version"] == 1
    assert data["summary"]["create"] == 1
    assert data["summary"]["update"] == 1
    assert data["summary"]["close"] == 1
    by_action = {c["action"]: c for c in data["changes"]}
    update = by_action["update"]
    assert update["issue"] == {"tracker": "main", "ref": "main#1"}
    assert update["item"]["path"] == "ops/2024-05-09.md"
    assert update["item"]["line"] == 10
    assert update["item"]["owners"] == ["KM"]
    assert update["item"]["text"] == "Delete the channel."
    assert update["item"]["key"]
    assert update["fields"]["assignees"] == {"before": ["rdiaz"], "after": ["kmoreno"]}
    assert update["match"] == "same text"
    assert by_action["close"]["close_reason"] == "completed"
    assert by_action["create"]["issue"] == {"tracker": "main", "ref": None}
    for key in ("conflicts", "problems", "refused"):
        assert isinstance(data[key], list)


def test_result_json_reports_outcomes(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    _, result = harness.sync(two_meetings()[:1])
    data = result.to_json()
    issues = [c for c in data["changes"] if c["subject"] == "issue"]
    assert [c["outcome"] for c in issues] == ["applied", "applied"]
    assert [c["issue"]["ref"] for c in issues] == ["main#1", "main#2"]
    assert data["summary"]["create"] == 4
    assert data["partial"] is False


def test_plan_text_reads_like_terraform(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    harness.sync(two_meetings()[:1])
    text = render_plan_text(harness.plan(two_meetings()))
    lines = text.splitlines()
    assert "~ update main#1: Delete the channel." in lines
    assert "    ~ assignees: [rdiaz] -> [kmoreno]" in lines
    assert "- close (completed) main#2: Update the rota." in lines
    assert "+ create new issue in main: Book the room for @team." in lines
    assert (
        lines[-1]
        == "Plan: 1 issue to create, 1 to update, 1 to close, 0 to reopen, "
        "1 comment to post, 0 unchanged."
    )


def test_plan_text_shows_refusals_and_no_changes(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path, guards=Guards(max_close=0)))
    harness.sync(two_meetings()[:1])
    text = render_plan_text(
        harness.plan([meeting("2024-05-09", [task("Delete the channel.", "RD")])])
    )
    assert "! refused to close main#2:" in text
    assert "--allow-mass-close" in text

    harness.sync(two_meetings()[:1])
    assert "No changes" in render_plan_text(harness.plan(two_meetings()[:1]))


def test_result_text_names_created_issues(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    _, result = harness.sync(two_meetings()[:1])
    text = render_result_text(result)
    assert "+ create main#1: Delete the channel." in text
    # Issues and labels are counted apart.
    summary = text.splitlines()[-1]
    assert summary.startswith("Result: 2 issues created")
    assert "2 labels created" in summary


def test_plan_markdown_table(tmp_path):
    harness = Harness(tmp_path, make_settings(tmp_path))
    harness.sync(two_meetings()[:1])
    markdown = render_plan_markdown(harness.plan(two_meetings()))
    assert markdown.startswith("### syncd plan")
    assert "| ~ | update | main#1 |" in markdown
    assert "| - | close (completed) | main#2 |" in markdown
    # Mentions in a pull-request comment would notify people.
    assert "@team" not in markdown
    assert "@&#8203;team" in markdown
