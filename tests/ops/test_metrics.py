"""The Prometheus textfile: format, counters carried across runs, atomic writes."""

from __future__ import annotations

import stat

from syncd.metrics import RunMetrics, read_counters, render, write_textfile


def sample_metrics(**changes) -> RunMetrics:
    values = dict(
        success=True,
        duration_seconds=2.5,
        finished_at=1_760_000_000.0,
        changes={"create": 3, "close": 1},
        failed_changes=1,
        file_errors=2,
        api_requests={"ops": 17},
        rate_limit_remaining={"ops": 4983},
    )
    values.update(changes)
    return RunMetrics(**values)


def samples(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = value
    return found


def test_render_counts_per_action():
    values = samples(render(sample_metrics()))
    assert values['syncd_last_run_changes{action="create"}'] == "3"
    assert values['syncd_last_run_changes{action="update"}'] == "0"
    assert values['syncd_changes_total{action="close"}'] == "1"
    assert values["syncd_last_run_success"] == "1"
    assert values["syncd_last_run_duration_seconds"] == "2.5"


def test_render_errors_requests_rate_limit():
    values = samples(render(sample_metrics()))
    assert values['syncd_last_run_errors{kind="change"}'] == "1"
    assert values['syncd_last_run_errors{kind="file"}'] == "2"
    assert values['syncd_api_requests_total{target="ops"}'] == "17"
    assert values['syncd_rate_limit_remaining{target="ops"}'] == "4983"


def test_every_family_has_help_and_type():
    text = render(sample_metrics())
    names = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    helps = {line.split()[2] for line in text.splitlines() if line.startswith("# HELP")}
    assert names == helps
    for sample_name in samples(text):
        assert sample_name.split("{")[0] in names


def test_counters_add_up_across_runs(tmp_path):
    path = tmp_path / "syncd.prom"
    assert write_textfile(path, sample_metrics())
    assert write_textfile(path, sample_metrics(success=False, changes={"create": 2}))

    values = samples(path.read_text())
    assert values['syncd_changes_total{action="create"}'] == "5"
    assert values['syncd_last_run_changes{action="create"}'] == "2"
    assert values['syncd_runs_total{result="success"}'] == "1"
    assert values['syncd_runs_total{result="failure"}'] == "1"
    assert values['syncd_api_requests_total{target="ops"}'] == "34"


def test_file_is_world_readable_and_complete(tmp_path):
    path = tmp_path / "textfile" / "syncd.prom"
    assert write_textfile(path, sample_metrics())
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert path.read_text().endswith("\n")
    assert [entry.name for entry in path.parent.iterdir()] == ["syncd.prom"]


def test_unwritable_folder_is_reported_not_raised(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert not write_textfile(blocker / "syncd.prom", sample_metrics())
    assert "could not write the metrics file" in caplog.text


def test_label_values_are_escaped():
    text = render(sample_metrics(api_requests={'we"ird\\name': 1}))
    assert 'target="we\\"ird\\\\name"' in text


def test_read_counters_ignores_gauges(tmp_path):
    path = tmp_path / "syncd.prom"
    path.write_text('syncd_last_run_success 1\nsyncd_changes_total{action="create"} 4\n')
    assert read_counters(path) == {'syncd_changes_total{action="create"}': 4.0}


def test_failed_run_counts_error_kind(tmp_path, monkeypatch):
    from syncd.daemon import Monitor
    from syncd.errors import GuardError, SourceError

    monkeypatch.delenv("SYNCD_PING_URL", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    path = tmp_path / "syncd.prom"
    monitor = Monitor(str(path), None)

    monitor.failed(SourceError("minutes", "unreachable"), 1.5)
    values = samples(path.read_text())
    assert values['syncd_last_run_errors{kind="source"}'] == "1"
    assert values["syncd_last_run_success"] == "0"

    monitor.failed(GuardError("too many closes"), 0.5)
    values = samples(path.read_text())
    assert values['syncd_last_run_errors{kind="run"}'] == "1"
    assert values['syncd_errors_total{kind="source"}'] == "1"
    assert values['syncd_runs_total{result="failure"}'] == "2"
