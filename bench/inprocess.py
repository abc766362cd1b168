"""Run one sync in this process with trackers the caller built.

The steps are the runner's own (collect, plan, apply with the state store),
but the caller passes the tracker objects, so a benchmark can point them at
a fake, wrap them to inject faults, or give them a virtual clock.
"""

from __future__ import annotations

from collections.abc import Mapping

from syncd.settings import PacingSettings, Settings


def roster_for(settings: Settings):
    """Return the runner's roster, or None while the roster module does not exist."""

    from syncd import runner

    try:
        return runner.make_roster(settings)
    except ImportError:
        return None


def sync_with_trackers(
    settings: Settings,
    trackers: Mapping[str, object],
    *,
    engine_pacing: PacingSettings | None = None,
):
    """Plan and apply one sync through ``trackers``; return (plan, result).

    ``engine_pacing`` is passed to ``apply_plan``. Benchmarks leave it None
    when the adapters pace writes themselves through an injected clock.
    """

    from syncd import runner
    from syncd.engine import StateStore, apply_plan, compute_plan

    collected = runner.collect_documents(settings, read_only=False)
    with StateStore.open(runner.state_path(settings)) as state:
        plan = compute_plan(
            collected.documents,
            settings=settings,
            trackers=trackers,
            state=state,
            roster=roster_for(settings),
            source_problems=tuple(collected.source_problems),
            allow_mass_close=True,
        )
        result = apply_plan(plan, trackers=trackers, state=state, pacing=engine_pacing)
    return plan, result
