"""The query benchmark on tiny data, in the normal suite, so ``make bench`` cannot rot.

Runs :func:`tests.perf.test_bench_queries.run_bench` end to end (generation, the engine and
the DuckDB baseline, in this process; the import floor is left to ``make bench``) on a
handful of rows, and checks the report has every figure the issue's targets are read from.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from tests.perf.test_bench_queries import QUESTIONS, run_bench

DAYS = 33  # any 33 days ending today hold a finished month of 2+ days


def test_bench_runs_on_tiny_data(tmp_path: Path) -> None:
    report = run_bench(4, DAYS, results=tmp_path, demo=None, isolated=False, rounds=1)

    # the layout users query after `maintain`: a finished month of 2+ days is one file
    end = date.fromisoformat(report["data_end"])
    days = [end - timedelta(n) for n in range(DAYS)]
    months: dict[tuple[int, int], int] = {}
    for day in days:
        months[(day.year, day.month)] = months.get((day.year, day.month), 0) + 1
    current = (end.year, end.month)
    expected = sum(count if key == current or count < 2 else 1 for key, count in months.items())
    assert report["data_files"] == expected < DAYS

    written = json.loads((tmp_path / "queries.json").read_text())
    assert written == report
    assert set(report["queries"]) == {*QUESTIONS, "avg_daily_followers_gained_as_of_middle"}
    for figures in report["queries"].values():
        assert {"cold_ratio", "warm_ratio", "peak_rss_ratio"} <= set(figures)
        assert figures["engine"]["rows"] > 0
    assert report["targets"]["import_ratio"] == 1.3
