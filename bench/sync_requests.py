"""Requests per sync against the GitHub and GitLab fakes, next to the minimum."""

from __future__ import annotations

from bench.core import Context, NotMeasured, Section, benchmark


@benchmark("requests", "Requests per sync against the fakes")
def requests_benchmark(context: Context) -> Section:
    raise NotMeasured("the tracker fakes and adapters are not available yet")
