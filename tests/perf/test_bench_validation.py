"""Benchmark: what data quality costs a daily load (``make bench``; not in ``make test``).

One warm SparkSession, bronze from the simulator. For a 20-artist day and a 10,000-artist
day it measures the validated load's stages (bronze suite, silver suite, recording the
quarantine/results/report, MERGE) and, as the baseline in the same run, the MERGE alone of
the same rows into a twin table. Figures are medians over the days after the first (which
pays GX's and Spark's warm-up). It also times the 10,000-row silver suite on the Spark frame,
the path days above the pandas threshold take. Results: ``bench-results/validation.json``
(and stdout). Speed is reported as ratios to the MERGE-only floor, never asserted; the
assertions are behaviour (each first load commits, clean data quarantines nothing).

:func:`run_bench` takes the sizes, so ``tests/perf_smoke/test_bench_smoke.py`` runs the same
code on tiny days in the normal suite and the benchmark cannot rot. It uses the suite's
shared Spark home (``lakehouse`` fixture): one SparkSession per process, one home.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from catalog.bronze.local import LocalBronzeStore
from catalog.iceberg.profiles import CATALOG_NAME, local_catalog
from catalog.iceberg.tables import ARTISTS_SILVER, ensure_table
from catalog.paths import LakehousePaths
from catalog.runtime.spark import spark_schema
from expectations.suites import QualitySettings
from glue.job import run_local_day
from glue.merge import merge_day
from glue.transform import prepare_day
from ingest.pipeline import ingest_day
from ingest.roster import demo_roster
from ingest.simulator.connection import open_simulator
from tests.perf.figures import RESULTS, median_after_first, ratio, write_figures

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from tests.conftest import SparkLakehouse

pytestmark = pytest.mark.spark

NAME = "validation"
#: artists: days (the first of each is warm-up), and the first day of each size.
SIZES = {20: 8, 10_000: 4}
FIRST_DAYS = (date(2026, 1, 1), date(2026, 3, 1))
#: Days of at least this many rows are also validated on the Spark frame (as days above
#: the pandas threshold are in production).
SPARK_FRAME_FROM_ROWS = 10_000
VALIDATION_STAGES = ("bronze_checks", "validation", "record")


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


def _bench_size(
    spark: SparkSession,
    paths: LakehousePaths,
    size: int,
    n_days: int,
    first: date,
    *,
    spark_frame: bool,
    spark_frame_runs: int,
) -> dict[str, Any]:
    days = [first + timedelta(days=n) for n in range(n_days)]
    _ingest(paths, size, days)
    baseline_def = replace(ARTISTS_SILVER, name=f"bench_merge_{size}")
    ensure_table(local_catalog(paths), baseline_def)
    baseline_table = f"{CATALOG_NAME}.{baseline_def.qualified_name}"
    try:
        return _measure(
            spark, paths, size, days, baseline_table, spark_frame_runs if spark_frame else 0
        )
    finally:
        spark.sql(f"DROP TABLE IF EXISTS {baseline_table} PURGE")


def _measure(
    spark: SparkSession,
    paths: LakehousePaths,
    size: int,
    days: list[date],
    baseline_table: str,
    spark_frame_runs: int,
) -> dict[str, Any]:
    columns = ARTISTS_SILVER.column_names
    stages: dict[str, list[float]] = {k: [] for k in (*VALIDATION_STAGES, "merge")}
    totals: list[float] = []
    baseline: list[float] = []
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
    base = median_after_first(baseline)
    figures: dict[str, Any] = {
        "rows": size,
        "days_measured": len(days) - 1,
        "baseline_merge_only_median_s": round(base, 3),
        "validated_load_median_s": round(median_after_first(totals), 3),
        # quality = bronze suite + silver suite (incl. previous counts) + recording results
        "quality_total_median_s": round(median_after_first(validation), 3),
        **{f"stage_{k}_median_s": round(median_after_first(v), 3) for k, v in stages.items()},
        "validation_share": ratio(median_after_first(validation), median_after_first(totals)),
        "validated_load_vs_merge_only_ratio": ratio(median_after_first(totals), base),
        "first_day_validated_load_s": round(totals[0], 2),
    }
    if spark_frame_runs:
        # The same day validated on the Spark frame (as days above the threshold are); the
        # last run is reported (the first pays the Spark-frame path's warm-up).
        spark_s = []
        for _ in range(spark_frame_runs):
            again = run_local_day(
                spark, paths, days[-1], settings=QualitySettings(pandas_max_rows=0)
            )
            spark_s.append(again.timings["validation"])
            assert not again.committed
        figures["silver_suite_on_spark_frame_s"] = round(spark_s[-1], 3)
        figures["silver_suite_on_pandas_s"] = figures["stage_validation_median_s"]
    return figures


def run_bench(
    spark: SparkSession,
    paths: LakehousePaths,
    *,
    sizes: dict[int, int] | None = None,
    spark_frame_from_rows: int = SPARK_FRAME_FROM_ROWS,
    spark_frame_runs: int = 2,
    out_dir: Path = RESULTS,
) -> dict[str, Any]:
    """Measure each ``rows: days`` size (at most two, days after ``FIRST_DAYS``); write the
    figures (``day_<rows>_rows`` each) to ``<out_dir>/validation.json``."""
    chosen = SIZES if sizes is None else sizes
    if len(chosen) > len(FIRST_DAYS):
        raise ValueError(f"at most {len(FIRST_DAYS)} sizes, got {sorted(chosen)}")
    figures: dict[str, Any] = {
        "floor": "the MERGE alone of the same rows into a twin table, measured in the same run",
    }
    for (size, n_days), first in zip(sorted(chosen.items()), FIRST_DAYS, strict=False):
        figures[f"day_{size}_rows"] = _bench_size(
            spark,
            paths,
            size,
            n_days,
            first,
            spark_frame=size >= spark_frame_from_rows,
            spark_frame_runs=spark_frame_runs,
        )
    write_figures(out_dir, NAME, figures)
    return figures


def test_validation_cost(lakehouse: SparkLakehouse) -> None:
    run_bench(lakehouse.spark, lakehouse.paths)
