"""Benchmark: the daily load in one warm SparkSession (``make bench``; not in ``make test``).

Figures are medians over the days after the first (which pays planning and JIT warm-up),
reported as ratios against a floor measured in the same run: a blind Iceberg append of the
same rows (no change detection, no MERGE, no tag). Nothing here asserts a speed: the
figures are written to ``bench-results/daily_load.json`` (and stdout) for people and for the
targets of other issues to read. The only assertions are behaviour (each day commits once,
a re-run commits nothing).

:func:`run_bench` takes the sizes, so ``tests/perf_smoke/test_bench_smoke.py`` runs the same
code on a tiny roster in the normal suite and the benchmark cannot rot. It uses the suite's
shared Spark home (``lakehouse`` fixture): one SparkSession per process, one home.
"""

from __future__ import annotations

import statistics
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
from glue.job import run_local_day
from glue.transform import prepare_day
from ingest.pipeline import ingest_day
from ingest.roster import demo_roster
from ingest.simulator.connection import open_simulator
from tests.perf.figures import RESULTS, median_after_first, ratio, write_figures

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from tests.conftest import SparkLakehouse

pytestmark = pytest.mark.spark

NAME = "daily_load"
ARTISTS = 20
DAYS = 31
FIRST_DAY = date(2026, 1, 1)
BASELINE_TABLE = "bench_append"


def run_bench(
    spark: SparkSession,
    paths: LakehousePaths,
    *,
    artists: int = ARTISTS,
    days: int = DAYS,
    out_dir: Path = RESULTS,
) -> dict[str, Any]:
    """Ingest ``days`` days of ``artists`` from the simulator, load each into silver (and
    again, as a no-op re-run), time both against a blind append; write the figures."""
    store = LocalBronzeStore(paths.bronze)
    roster = demo_roster(artists)
    window = [FIRST_DAY + timedelta(days=n) for n in range(days)]

    ingest_s = []
    with open_simulator(seed=1, roster=roster) as connection:
        for day in window:
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

    catalog = local_catalog(paths)
    baseline_def = replace(ARTISTS_SILVER, name=BASELINE_TABLE)
    ensure_table(catalog, baseline_def)
    baseline_table = f"{CATALOG_NAME}.{baseline_def.qualified_name}"
    columns = ARTISTS_SILVER.column_names

    append_s, merge_s, noop_s = [], [], []
    try:
        for day in window:
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
            assert result.committed, f"the first load of {day} made no commit"

            start = time.perf_counter()
            again = run_local_day(spark, paths, day)
            noop_s.append(time.perf_counter() - start)
            assert not again.committed, f"a re-run of {day} that changed nothing committed"
    finally:
        spark.sql(f"DROP TABLE IF EXISTS {baseline_table} PURGE")

    floor = median_after_first(append_s)
    transform = median_after_first(merge_s)
    noop = median_after_first(noop_s)
    figures = {
        "artists": artists,
        "days": days,
        "floor": "a blind Iceberg append of the same rows, measured in the same run",
        "ingest_per_day_median_s": round(statistics.median(ingest_s), 3),
        "baseline_blind_append_median_s": round(floor, 3),
        "transform_first_day_s": round(merge_s[0], 2),
        "transform_per_day_median_s": round(transform, 3),
        "noop_rerun_median_s": round(noop, 3),
        "transform_vs_append_ratio": ratio(transform, floor),
        "noop_vs_append_ratio": ratio(noop, floor),
    }
    write_figures(out_dir, NAME, figures)
    return figures


def test_daily_load(lakehouse: SparkLakehouse) -> None:
    run_bench(lakehouse.spark, lakehouse.paths)
