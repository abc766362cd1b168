"""Requests per sync against the GitHub and GitLab fakes, next to the minimum.

Each fake is a real HTTP server on 127.0.0.1 and each adapter drives the
real PyGithub or python-gitlab client, so the counts are the requests a
real run would send. The counts come from the fake's own request log.

Four syncs per tracker, of one meeting that lists N items:

1. first sync: the minimum is N creates plus a constant. Before the
   creates come reads of the repository or project, the empty issue list,
   the label list and the current account, and the create of the managed
   label. After them the refresh reads the repository, the first page of
   the issue list and the label list again. The constant is checked by
   running two sizes: the requests beyond the creates must be the same.
2. the same minutes again, the first no-op sync after the first sync:
   ⌈N/100⌉ list pages. The refresh read only the first page, so each page
   past the first gets a 200 response here, once, and every other request
   gets 304.
3. the same minutes a third time, the steady-state no-op: at most ⌈N/100⌉
   list pages, and every response is 304 Not Modified.
4. K items reworded: K issue updates, the list pages and the reads a no-op
   sync sends besides the list (repository or project, label list, current
   account).

The example config (config/example.yaml and its minutes) is synced twice
against each fake as well, with the request counts per endpoint.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

from bench.core import PROJECT_ROOT, Context, NotMeasured, Section, benchmark, require, verdict
from bench.generate import generate_series
from syncd.settings import (
    Carry,
    Guards,
    PacingSettings,
    SeriesPolicy,
    SeriesRule,
    Settings,
    SourceSettings,
    TargetSettings,
)

TARGET_NAME = "tracker"
NO_PACING = PacingSettings(min_write_interval=0.0, writes_per_minute=None, writes_per_hour=None)
PAGE_SIZE = 100
CHANGED_ITEMS = 10
# Reads every sync sends besides the issue list: the repository or project,
# the label list and the current account.
OTHER_READS = 3

_NUMBER = re.compile(r"/\d+(?=/|$)")


def endpoint_of(method: str, path: str) -> str:
    """Return ``METHOD /path`` with numbers replaced, so requests group by endpoint."""

    return f"{method} {_NUMBER.sub('/{n}', path)}"


class FakeTarget:
    """One running fake, a project on it, and trackers bound to it."""

    def __init__(self, kind: str, state_dir: Path) -> None:
        self.kind = kind
        self.state_dir = state_dir
        if kind == "github":
            from tests.fakes import github_fake as module

            self.fake = module.GitHubFake()
            self.fake.start()
            self.fake.add_repo("acme/ops")
            self.options = module.tracker_options(self.fake, "acme/ops")
            self.environ = {"SYNCD_FAKE_GITHUB_TOKEN": module.DEFAULT_TOKEN}
        else:
            from tests.fakes import gitlab_fake as module

            self.fake = module.GitLabFake()
            self.fake.start()
            self.fake.add_project("acme/infra")
            self.options = module.tracker_options(self.fake, "acme/infra")
            self.environ = {"SYNCD_FAKE_GITLAB_TOKEN": module.DEFAULT_TOKEN}

    def target_settings(self) -> TargetSettings:
        return TargetSettings(name=TARGET_NAME, kind=self.kind, options=self.options)

    def tracker(self, pacing: PacingSettings = NO_PACING, **kwargs):
        from syncd.tracker import load_tracker_class

        tracker_class = load_tracker_class(self.kind)
        return tracker_class(
            TARGET_NAME,
            self.options,
            state_dir=self.state_dir,
            environ=self.environ,
            pacing=pacing,
            **kwargs,
        )

    def requests(self) -> list[tuple[str, str, int]]:
        return self.fake.request_log()

    def stop(self) -> None:
        self.fake.stop()


def one_sync(settings: Settings, target: FakeTarget) -> Counter:
    """Sync once and return the requests it sent, by (endpoint, status)."""

    from bench.inprocess import sync_with_trackers

    target.fake.reset_log()
    tracker = target.tracker()
    try:
        sync_with_trackers(settings, {TARGET_NAME: tracker})
    finally:
        tracker.close_session()
    return Counter((endpoint_of(method, path), status) for method, path, status in target.requests())


def _settings(folder: Path, state_dir: Path, target: FakeTarget) -> Settings:
    return Settings(
        sources=(SourceSettings(name="minutes", root=folder, dialect="unikraft"),),
        targets=(target.target_settings(),),
        default_target=TARGET_NAME,
        series=(SeriesRule(match="*", policy=SeriesPolicy(carry=Carry.FORWARD)),),
        guards=Guards(max_close=10**6, max_close_fraction=1.0),
        pacing=NO_PACING,
        state_dir=state_dir,
    )


def _write_meeting(folder: Path, items: int, reworded: int = 0) -> None:
    series = generate_series("unikraft", items, seed=items, new_per_meeting=items)
    meeting = series.files[0]
    text = meeting.text
    for entry in meeting.entries[:reworded]:
        text = text.replace(entry.text, entry.text.rstrip(".") + " and report back.", 1)
    path = folder / meeting.relative_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _is_create(endpoint: str) -> bool:
    return endpoint.startswith("POST") and endpoint.endswith("/issues")


def _is_list(endpoint: str) -> bool:
    return endpoint.startswith("GET") and endpoint.endswith("/issues")


def _summarize(counts: Counter) -> dict:
    total = sum(counts.values())
    creates = sum(n for (endpoint, _), n in counts.items() if _is_create(endpoint))
    lists = sum(n for (endpoint, _), n in counts.items() if _is_list(endpoint))
    lists_200 = sum(
        n for (endpoint, status), n in counts.items() if _is_list(endpoint) and status == 200
    )
    not_modified = sum(n for (_, status), n in counts.items() if status == 304)
    return {
        "total": total,
        "creates": creates,
        "lists": lists,
        "lists_200": lists_200,
        "not_modified": not_modified,
    }


def endpoint_table(title: str, columns: dict[str, Counter]) -> str:
    """Render request counts as a Markdown table: one row per endpoint and status."""

    keys = sorted({key for counts in columns.values() for key in counts})
    header = f"| {title}: endpoint | status | " + " | ".join(columns) + " |"
    rule = "| --- | ---: | " + " | ".join("---:" for _ in columns) + " |"
    rows = [header, rule]
    for endpoint, status in keys:
        cells = " | ".join(str(counts.get((endpoint, status), 0)) for counts in columns.values())
        rows.append(f"| `{endpoint}` | {status} | {cells} |")
    totals = " | ".join(str(sum(counts.values())) for counts in columns.values())
    rows.append(f"| total | | {totals} |")
    return "\n".join(rows) + "\n"


def measure_tracker(kind: str, items: int, work_dir: Path) -> dict:
    """Run first, repeated and changed syncs of ``items`` items against one fake."""

    folder = work_dir / "minutes"
    folder.mkdir(parents=True)
    target = FakeTarget(kind, work_dir / "adapter-state")
    try:
        settings = _settings(folder, work_dir / "state", target)
        _write_meeting(folder, items)
        first = one_sync(settings, target)
        second = one_sync(settings, target)
        third = one_sync(settings, target)
        _write_meeting(folder, items, reworded=CHANGED_ITEMS)
        changed = one_sync(settings, target)
    finally:
        target.stop()
    return {"first": first, "second": second, "third": third, "changed": changed}


def _add_tracker_rows(section: Section, kind: str, small: dict, large: dict, sizes) -> None:
    small_n, large_n = sizes
    pages = math.ceil(large_n / PAGE_SIZE)
    first_small = _summarize(small["first"])
    first = _summarize(large["first"])
    overhead_small = first_small["total"] - first_small["creates"]
    overhead = first["total"] - first["creates"]
    section.add(
        f"{kind}: first sync of {large_n:,} items, creates",
        first["creates"],
        "requests",
        f"{large_n:,}",
        verdict(first["creates"] == large_n),
    )
    section.add(
        f"{kind}: first sync, requests besides creates ({small_n:,} items / {large_n:,} items)",
        f"{overhead_small} / {overhead}",
        "requests",
        "a constant: the same for both sizes",
        verdict(overhead_small == overhead),
    )
    first_noop = _summarize(large["second"])
    section.add(
        f"{kind}: first no-op sync after the first sync, list requests "
        f"({first_noop['lists_200']} answered 200)",
        first_noop["lists"],
        "requests",
        f"<= {pages} (one per 100 issues), pages past the first answered 200 once",
        verdict(first_noop["lists"] <= pages and first_noop["lists_200"] <= pages - 1),
    )
    section.add(
        f"{kind}: first no-op sync after the first sync, all requests "
        f"({first_noop['not_modified']} answered 304)",
        first_noop["total"],
        "requests",
        f"{pages} list pages + {OTHER_READS} other reads, all 304 except pages past the first",
        verdict(first_noop["not_modified"] + first_noop["lists_200"] == first_noop["total"]),
    )
    steady = _summarize(large["third"])
    section.add(
        f"{kind}: third sync, steady-state no-op, list requests",
        steady["lists"],
        "requests",
        f"<= {pages} (one per 100 issues)",
        verdict(steady["lists"] <= pages),
    )
    section.add(
        f"{kind}: third sync, steady-state no-op, all requests "
        f"({steady['not_modified']} answered 304)",
        steady["total"],
        "requests",
        f"{pages} list pages + {OTHER_READS} other reads, all answered 304",
        verdict(steady["not_modified"] == steady["total"]),
    )
    changed = _summarize(large["changed"])
    changed_minimum = CHANGED_ITEMS + pages + OTHER_READS
    section.add(
        f"{kind}: sync with {CHANGED_ITEMS} reworded items",
        changed["total"],
        "requests",
        f"{CHANGED_ITEMS} updates + {pages} list pages + {OTHER_READS} other reads "
        f"(repository, labels, account) = {changed_minimum}",
        verdict(changed["total"] <= changed_minimum),
    )
    columns = {
        "first sync": large["first"],
        "first no-op": large["second"],
        "steady no-op": large["third"],
        f"{CHANGED_ITEMS} reworded": large["changed"],
    }
    section.tables.append(endpoint_table(f"{kind}, {large_n:,} items", columns))


def measure_example_config(kind: str, work_dir: Path) -> tuple[Counter, Counter] | None:
    """Sync config/example.yaml twice against one fake; None when it has no minutes."""

    from syncd.config import load_config

    settings = load_config(PROJECT_ROOT / "config" / "example.yaml")
    target = FakeTarget(kind, work_dir / "adapter-state")
    try:
        settings = replace(
            settings,
            targets=(target.target_settings(),),
            routes=(),
            default_target=TARGET_NAME,
            pacing=NO_PACING,
            state_dir=work_dir / "state",
        )
        first = one_sync(settings, target)
        second = one_sync(settings, target)
    finally:
        target.stop()
    return first, second


@benchmark("requests", "Requests per sync against the fakes")
def requests_benchmark(context: Context) -> Section:
    require("syncd.engine", "compute_plan", "apply_plan", "StateStore")
    for module, names in (
        ("tests.fakes.github_fake", ("GitHubFake", "tracker_options")),
        ("tests.fakes.gitlab_fake", ("GitLabFake", "tracker_options")),
        ("syncd_adapters.github", ("GitHubTracker",)),
        ("syncd_adapters.gitlab", ("GitLabTracker",)),
    ):
        require(module, *names)

    section = Section("requests", "Requests per sync against the fakes")
    sizes = (20, 100) if context.quick else (100, 1_000)
    for kind in ("github", "gitlab"):
        small = measure_tracker(kind, sizes[0], context.work_dir / f"{kind}-{sizes[0]}")
        large = measure_tracker(kind, sizes[1], context.work_dir / f"{kind}-{sizes[1]}")
        _add_tracker_rows(section, kind, small, large, sizes)

    for kind in ("github", "gitlab"):
        try:
            first, second = measure_example_config(kind, context.work_dir / f"example-{kind}")
        except Exception as error:  # noqa: BLE001 (recorded in place of the figures)
            section.notes.append(f"example config against the {kind} fake: not measured ({error})")
            continue
        first_summary, second_summary = _summarize(first), _summarize(second)
        section.add(
            f"{kind}: example config, first sync",
            first_summary["total"],
            "requests",
            note=f"{first_summary['creates']} creates",
        )
        section.add(
            f"{kind}: example config, second sync ({second_summary['not_modified']} answered 304)",
            second_summary["total"],
            "requests",
            "only 304 responses",
            verdict(second_summary["not_modified"] == second_summary["total"]),
        )
        section.tables.append(
            endpoint_table(f"{kind}, example config", {"first sync": first, "second": second})
        )
    section.notes.append(
        "Pacing is off for these runs (no minimum gap, no caps): it changes when requests "
        "are sent, not how many."
    )
    return section
