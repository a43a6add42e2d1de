"""Benchmark: what data quality costs a daily load (``make bench``; not in ``make test``).

One warm SparkSession, bronze from the simulator. For a 20-artist day and a 10,000-artist
day it measures the validated load's stages (bronze suite, silver suite, recording the
quarantine/results/report, MERGE) and, as the baseline in the same run, the MERGE alone of
the same rows into a twin table. Figures are medians over the days after the first (which
pays GX's and Spark's warm-up). It also times the 10,000-row silver suite on the Spark frame,
the path days above the pandas threshold take. Results: ``bench-results/validation.json``.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from catalog.bronze import LocalBronzeStore
from catalog.paths import LakehousePaths
from catalog.profiles import CATALOG_NAME, local_catalog
from catalog.spark import build_local_session, spark_schema
from catalog.tables import ARTISTS_SILVER, ensure_table
from expectations.suites import QualitySettings
from glue.job import run_local_day
from glue.merge import merge_day
from glue.transform import prepare_day
from ingest.connection import open_simulator
from ingest.pipeline import ingest_day
from ingest.roster import demo_roster

RESULTS = Path("bench-results")
SIZES = {20: 8, 10_000: 4}  # artists: days (the first of each is warm-up)
VALIDATION_STAGES = ("bronze_checks", "validation", "record")


def _median_after_first(samples: list[float]) -> float:
    return statistics.median(samples[1:])


def _ingest(paths: LakehousePaths, size: int, days: list[date]) -> None:
    roster = demo_roster(size)
    with open_simulator(seed=1, roster=roster) as connection:
        for day in days:
            ingest_day(
                day,
                store=LocalBronzeStore(paths.bronze),
                client=connection.client,
                roster=roster,
                source=connection.source,
                allow_backdated=False,
            )


def _bench_size(spark: Any, paths: LakehousePaths, size: int, first: date) -> dict[str, Any]:
    days = [first + timedelta(days=n) for n in range(SIZES[size])]
    _ingest(paths, size, days)
    baseline_def = replace(ARTISTS_SILVER, name=f"bench_merge_{size}")
    ensure_table(local_catalog(paths), baseline_def)
    baseline_table = f"{CATALOG_NAME}.{baseline_def.qualified_name}"
    columns = ARTISTS_SILVER.column_names
    stages: dict[str, list[float]] = {k: [] for k in (*VALIDATION_STAGES, "merge")}
    totals, baseline = [], []
    for day in days:
        rows = prepare_day(LocalBronzeStore(paths.bronze), day).rows.rows
        frame = spark.createDataFrame(
            [tuple(r.get(c) for c in columns) for r in rows],
            schema=spark_schema(ARTISTS_SILVER.schema),
        )
        start = time.perf_counter()
        merge_day(spark, baseline_table, frame, day=day, run_id="baseline")
        baseline.append(time.perf_counter() - start)

        start = time.perf_counter()
        result = run_local_day(spark, paths, day)
        totals.append(time.perf_counter() - start)
        assert result.committed
        assert result.quarantined == 0
        for key in stages:
            stages[key].append(result.timings[key])
    validation = [sum(stages[k][i] for k in VALIDATION_STAGES) for i in range(len(days))]
    base = _median_after_first(baseline)
    figures: dict[str, Any] = {
        "rows": size,
        "days_measured": len(days) - 1,
        "baseline_merge_only_median_s": round(base, 3),
        "validated_load_median_s": round(_median_after_first(totals), 3),
        # quality = bronze suite + silver suite (incl. previous counts) + recording results
        "quality_total_median_s": round(_median_after_first(validation), 3),
        **{f"stage_{k}_median_s": round(_median_after_first(v), 3) for k, v in stages.items()},
        "validation_share": round(_median_after_first(validation) / _median_after_first(totals), 2),
        "validated_load_vs_merge_only_ratio": round(_median_after_first(totals) / base, 2),
        "first_day_validated_load_s": round(totals[0], 2),
    }
    if size >= 10_000:
        # The same day validated on the Spark frame (as days above the threshold are).
        spark_s = []
        for _ in range(2):
            start = time.perf_counter()
            again = run_local_day(
                spark, paths, days[-1], settings=QualitySettings(pandas_max_rows=0)
            )
            spark_s.append(again.timings["validation"])
            assert not again.committed
            _ = time.perf_counter() - start
        figures["silver_suite_on_spark_frame_s"] = round(spark_s[-1], 3)
        figures["silver_suite_on_pandas_s"] = figures["stage_validation_median_s"]
    return figures


def test_validation_cost(tmp_path: Path) -> None:
    paths = LakehousePaths.resolve(tmp_path / "home").ensure()
    started = time.perf_counter()
    spark = build_local_session(paths, app_name="bench-validation")
    session_start_s = time.perf_counter() - started
    figures = {
        "spark_session_start_s": round(session_start_s, 2),
        "day_20_rows": _bench_size(spark, paths, 20, date(2026, 1, 1)),
        "day_10000_rows": _bench_size(spark, paths, 10_000, date(2026, 3, 1)),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "validation.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
