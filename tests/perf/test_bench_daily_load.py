"""Benchmark: the daily load in one warm SparkSession (``make bench``; not in ``make test``).

Figures are medians over 30 days after the first (which pays planning and JIT warm-up),
reported as ratios against a baseline measured in the same run: a blind Iceberg append of
the same rows (no change detection, no MERGE, no tag). Results go to
``bench-results/daily_load.json`` and stdout.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from catalog.bronze import LocalBronzeStore
from catalog.paths import LakehousePaths
from catalog.profiles import CATALOG_NAME, local_catalog
from catalog.spark import build_local_session, spark_schema
from catalog.tables import ARTISTS_SILVER, ensure_table
from glue.job import run_local_day
from glue.transform import prepare_day
from ingest.connection import open_simulator
from ingest.pipeline import ingest_day
from ingest.roster import demo_roster

DAYS = 31
RESULTS = Path("bench-results")


def _median_after_first(samples: list[float]) -> float:
    return statistics.median(samples[1:])


def test_daily_load(tmp_path: Path) -> None:
    paths = LakehousePaths.resolve(tmp_path / "home").ensure()
    store = LocalBronzeStore(paths.bronze)
    roster = demo_roster(20)
    first = date(2026, 1, 1)
    days = [first + timedelta(days=n) for n in range(DAYS)]

    ingest_s = []
    with open_simulator(seed=1, roster=roster) as connection:
        for day in days:
            start = time.perf_counter()
            ingest_day(
                day,
                store=store,
                client=connection.client,
                roster=roster,
                source=connection.source,
                allow_backdated=False,
            )
            ingest_s.append(time.perf_counter() - start)

    started = time.perf_counter()
    spark = build_local_session(paths, app_name="bench")
    session_start_s = time.perf_counter() - started
    catalog = local_catalog(paths)
    baseline_def = replace(ARTISTS_SILVER, name="bench_append")
    ensure_table(catalog, baseline_def)
    baseline_table = f"{CATALOG_NAME}.{baseline_def.qualified_name}"
    columns = ARTISTS_SILVER.column_names

    append_s, merge_s, noop_s = [], [], []
    for day in days:
        rows = prepare_day(store, day).rows.rows
        start = time.perf_counter()
        frame = spark.createDataFrame(
            [tuple(r.get(c) for c in columns) for r in rows],
            schema=spark_schema(baseline_def.schema),
        )
        frame.writeTo(baseline_table).append()
        append_s.append(time.perf_counter() - start)

        start = time.perf_counter()
        result = run_local_day(spark, paths, day)
        merge_s.append(time.perf_counter() - start)
        assert result.committed

        start = time.perf_counter()
        again = run_local_day(spark, paths, day)
        noop_s.append(time.perf_counter() - start)
        assert not again.committed

    baseline = _median_after_first(append_s)
    figures = {
        "artists": len(roster),
        "days": DAYS,
        "spark_session_start_s": round(session_start_s, 2),
        "ingest_per_day_median_s": round(statistics.median(ingest_s), 3),
        "baseline_blind_append_median_s": round(baseline, 3),
        "transform_first_day_s": round(merge_s[0], 2),
        "transform_per_day_median_s": round(_median_after_first(merge_s), 3),
        "noop_rerun_median_s": round(_median_after_first(noop_s), 3),
        "transform_vs_append_ratio": round(_median_after_first(merge_s) / baseline, 2),
        "noop_vs_append_ratio": round(_median_after_first(noop_s) / baseline, 2),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "daily_load.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
