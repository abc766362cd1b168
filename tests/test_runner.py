"""The runner's own steps: series names, dialect choice, reading sources."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from syncd.parser import series_for_path
from syncd.runner import (
    EXIT_CHANGES_PENDING,
    EXIT_OK,
    EXIT_PARTIAL,
    collect_documents,
    dialect_name_for,
    open_trackers,
    series_of,
    sync_run,
)
from syncd.settings import (
    SeriesPolicy,
    SeriesRule,
    Settings,
    SourceSettings,
    TargetSettings,
)


def settings_for(root: Path, **source) -> Settings:
    return Settings(
        sources=(SourceSettings(name="minutes", root=root, **source),),
        targets=(TargetSettings("ops", "local", {"path": str(root / "t.db")}),),
        default_target="ops",
        state_dir=root / "state",
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("gsoc/plat-rearch-2023-06-13.md", "gsoc/plat-rearch"),
        ("gsoc/2023-05-15.md", "gsoc"),
        ("app-compat/app-compat-2023-11-15.md", "app-compat"),
        ("community/2022/2022-04-28.md", "community"),
        ("maintainers/2022/topics.md", "maintainers"),
        ("ops_weekly_20240502.md", "ops_weekly"),
    ],
)
def test_series_from_file_name(path, expected):
    source = SourceSettings(name="m", series_from_file_name=True)

    assert series_of(path, source, series_for_path) == expected


def test_series_from_folder_by_default():
    source = SourceSettings(name="m")

    assert (
        series_of("gsoc/plat-rearch-2023-06-13.md", source, series_for_path) == "gsoc"
    )


def test_dialect_from_first_matching_rule():
    settings = Settings(
        sources=(SourceSettings(name="m", dialect="default"),),
        targets=(),
        series=(
            SeriesRule(match="ops/*", policy=SeriesPolicy()),
            SeriesRule(match="rust/*", policy=SeriesPolicy(), dialect="rust-lang-team"),
            SeriesRule(match="*", policy=SeriesPolicy(), dialect="unikraft"),
        ),
    )

    assert (
        dialect_name_for(settings, settings.sources[0], "rust/lang") == "rust-lang-team"
    )
    assert dialect_name_for(settings, settings.sources[0], "ops/weekly") == "unikraft"
    assert dialect_name_for(settings, settings.sources[0], "top") == "unikraft"


def test_collect_reads_every_file(tmp_path):
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "2024-05-02.md").write_text(
        "## Action items\n\nRD: Delete the channel.\n", encoding="utf-8"
    )
    (tmp_path / "ops" / "2024-05-09.md").write_bytes(b"---\ndate: [\n---\n")

    collected = collect_documents(settings_for(tmp_path), read_only=True)

    assert collected.files == 2
    assert collected.failed_files == 1
    assert collected.items == 1
    good = next(d for d in collected.documents if d.path == "ops/2024-05-02.md")
    assert good.meeting.series == "ops"
    assert good.meeting.date == datetime.date(2024, 5, 2)
    assert [p.path for p in collected.file_problems] == ["ops/2024-05-09.md"]


def test_collect_reports_missing_source(tmp_path):
    collected = collect_documents(settings_for(tmp_path / "absent"), read_only=True)

    assert collected.files == 0
    [problem] = collected.source_problems
    assert problem.path == "minutes"
    assert "does not exist" in problem.message


def test_collect_reports_oversized_file(tmp_path):
    (tmp_path / "big.md").write_text(
        "## Action items\n\n" + "RD: x\n" * 50, encoding="utf-8"
    )

    collected = collect_documents(
        settings_for(tmp_path, max_file_bytes=64), read_only=True
    )

    [problem] = collected.file_problems
    assert problem.path == "big.md"
    assert "max_file_bytes" in problem.message


def test_collect_stops_when_asked(tmp_path):
    for day in range(1, 4):
        (tmp_path / f"2024-05-0{day}.md").write_text(
            "## Action items\n", encoding="utf-8"
        )

    collected = collect_documents(
        settings_for(tmp_path), read_only=True, should_stop=lambda: True
    )

    assert collected.files == 0
    assert collected.stopped is True
    [problem] = collected.source_problems
    assert "nothing was written" in problem.message


def test_open_trackers_reports_unbuildable_target(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    settings = Settings(
        sources=(),
        targets=(
            TargetSettings("ops", "local", {"path": str(tmp_path / "t.db")}),
            TargetSettings(
                "gh", "github", {"repo": "acme/ops", "base_url": "http://127.0.0.1:9"}
            ),
        ),
        state_dir=tmp_path / "state",
    )

    opened = open_trackers(settings, read_only=True)

    assert set(opened.trackers) == {"ops"}
    [problem] = opened.problems
    assert problem.path == "target gh"
    assert "GITHUB_TOKEN" in problem.message
    opened.close()
    assert not (tmp_path / "t.db").exists()


def test_exit_code_values():
    assert (EXIT_OK, EXIT_CHANGES_PENDING, EXIT_PARTIAL) == (0, 2, 3)


def test_stopped_sync_writes_nothing(tmp_path):
    for day in range(1, 4):
        (tmp_path / f"2024-05-0{day}.md").write_text(
            "## Action items\n\nRD: Delete the channel.\n", encoding="utf-8"
        )
    settings = settings_for(tmp_path)
    calls = iter([False, True, True, True])

    outcome = sync_run(settings, should_stop=lambda: next(calls, True))

    assert outcome.result is None
    assert outcome.dry_run is True
    assert outcome.exit_code() == EXIT_PARTIAL
    assert not (tmp_path / "t.db").exists()


def test_series_of_top_level_file_is_source_name():
    from syncd.parser import series_for_path
    from syncd.runner import series_of
    from syncd.settings import SourceSettings

    source = SourceSettings(name="notes")

    assert series_of("2024-05-02.md", source, series_for_path) == "notes"
    assert series_of("ops/2024-05-02.md", source, series_for_path) == "ops"
