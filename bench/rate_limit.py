"""Wall time of a first sync of 300 items under GitHub's content-creation limit."""

from __future__ import annotations

from bench.core import Context, NotMeasured, Section, benchmark


@benchmark("rate-limit", "First sync of 300 items at 80 content-creating requests per minute")
def rate_limit_benchmark(context: Context) -> Section:
    raise NotMeasured("the GitHub fake and adapter are not available yet")
