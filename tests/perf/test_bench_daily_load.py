"""Benchmark: the daily load against its floors (``make bench``; not in ``make test``).

The floors are measured in the same run, on the same rows, so the figures are ratios that
mean the same on a busy machine as on an idle one (speed is never asserted):

* **bare MERGE** (issue 15's floor of a 30-day load): per day, a Spark frame of the day's
  rows and ``MERGE INTO`` a twin table on ``(snapshot_date, artist_id)``: no validation, no
  change detection, no summary properties, no tag;
* **blind append** (the floor of one more day): per day, the day's rows appended to a twin
  table, with no check and no tag: with Spark (``writeTo(...).append()``, the job's engine)
  and with pyiceberg (``Table.append``, the cheapest Iceberg commit there is).

Spark is warmed up first (one throwaway MERGE and append), so no floor pays the JVM's JIT
warm-up: the floors are as low as this machine makes them. Then, day after day: the floors,
the pipeline's own load of the day (:func:`glue.job.run_local_day`: bronze checks,
validation, quarantine, dq_results, report, the silver write and its tag), and a re-run of
the day that must change nothing.

Figures (``bench-results/daily_load.json`` and stdout):

* ``thirty_day``: the pipeline's first 30 days (or fewer, at smoke size) against 30 bare
  MERGEs, both in the warm session;
* ``one_more_day``: the median day after the first against the median blind append, and the
  last day alone (a day loaded into a month of history);
* ``stages_median_s``: where a day's seconds go (the job's own per-stage timings);
* ``cold`` (``cold=True``, the full benchmark only): the demo-like figure with start
  included: a fresh process that loads the days the way ``demo``/``backfill`` do (a
  SparkSession started only if a day needs one), against a fresh process that starts Spark
  and runs the bare MERGEs (:mod:`tests.perf.daily_load_cold`).

:func:`run_bench` takes the sizes, so ``tests/perf_smoke/test_bench_smoke.py`` runs the same
code on a tiny roster in the normal suite and the benchmark cannot rot. It uses the suite's
shared Spark home (``lakehouse`` fixture): one SparkSession per process, one home.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

from catalog.bronze.local import LocalBronzeStore
from catalog.iceberg.profiles import CATALOG_NAME, local_catalog
from catalog.iceberg.tables import ARTISTS_SILVER, TableDefinition, ensure_table
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
#: The issue's 30-day load (the demo's default window).
THIRTY: Final = 30
FIRST_DAY = date(2026, 1, 1)
#: Twin tables of silver (same schema, partitioning and properties) the floors write to.
SPARK_APPEND_TABLE = "bench_append"
PYICEBERG_APPEND_TABLE = "bench_pyappend"
MERGE_TABLE = "bench_merge"
#: A day outside the window, used only to warm Spark up before anything is timed.
WARM_UP_DAY = FIRST_DAY - timedelta(days=40)


def bare_merge(spark: SparkSession, table: str, rows: list[dict[str, Any]], day: date) -> None:
    """The floor of a load: the day's rows MERGEd into ``table`` and nothing else."""
    columns = ARTISTS_SILVER.column_names
    frame = spark.createDataFrame(
        [tuple(r.get(c) for c in columns) for r in rows], schema=spark_schema(ARTISTS_SILVER.schema)
    )
    view = f"bench_source_{day.strftime('%Y%m%d')}"
    frame.createOrReplaceTempView(view)
    try:
        spark.sql(
            f"MERGE INTO {table} t USING {view} s "
            f"ON t.snapshot_date = DATE '{day.isoformat()}' AND t.artist_id = s.artist_id "
            "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
        )
    finally:
        spark.catalog.dropTempView(view)


def spark_append(spark: SparkSession, table: str, rows: list[dict[str, Any]]) -> None:
    """A floor of one more day: the rows appended with Spark, blind."""
    columns = ARTISTS_SILVER.column_names
    spark.createDataFrame(
        [tuple(r.get(c) for c in columns) for r in rows], schema=spark_schema(ARTISTS_SILVER.schema)
    ).writeTo(table).append()


def pyiceberg_append(paths: LakehousePaths, definition: TableDefinition, rows: list[Any]) -> None:
    """The other floor of one more day: the rows appended with pyiceberg, blind."""
    import pyarrow as pa

    table = local_catalog(paths).load_table(definition.identifier)
    table.append(pa.Table.from_pylist(rows, schema=table.schema().as_arrow()))


def _ingest(paths: LakehousePaths, artists: int, days: list[date]) -> list[float]:
    store = LocalBronzeStore(paths.bronze)
    roster = demo_roster(artists)
    seconds = []
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
            seconds.append(time.perf_counter() - start)
    return seconds


def _cold(paths: LakehousePaths, days: int, work: Path) -> dict[str, Any]:
    """Both cold runs (a fresh process each, start included), on copies of the bronze."""
    figures: dict[str, Any] = {}
    for mode in ("floor", "pipeline"):
        home = work / f"cold-{mode}"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        shutil.copytree(paths.bronze, home / "bronze")
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.perf.daily_load_cold",
                mode,
                str(home),
                FIRST_DAY.isoformat(),
                str(days),
            ],
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        figures[f"{mode}_s"] = round(time.perf_counter() - start, 2)
        shutil.rmtree(home, ignore_errors=True)
    return {
        "what": (
            f"{days} days in a fresh process, start included: the pipeline's loads (Spark "
            "started only if a day needs it) against Spark started and bare MERGEs"
        ),
        "pipeline_s": figures["pipeline_s"],
        "bare_merge_floor_s": figures["floor_s"],
        "ratio": ratio(figures["pipeline_s"], figures["floor_s"]),
    }


def run_bench(
    spark: SparkSession,
    paths: LakehousePaths,
    *,
    artists: int = ARTISTS,
    days: int = DAYS,
    out_dir: Path = RESULTS,
    cold: bool = False,
) -> dict[str, Any]:
    """Ingest ``days`` days of ``artists`` from the simulator, load each into silver (and
    again, as a no-op re-run), time them against the floors; write the figures."""
    store = LocalBronzeStore(paths.bronze)
    window = [FIRST_DAY + timedelta(days=n) for n in range(days)]
    ingest_s = _ingest(paths, artists, [WARM_UP_DAY, *window])[1:]

    catalog = local_catalog(paths)
    twins = {
        name: replace(ARTISTS_SILVER, name=name)
        for name in (SPARK_APPEND_TABLE, PYICEBERG_APPEND_TABLE, MERGE_TABLE)
    }
    for definition in twins.values():
        ensure_table(catalog, definition)
    spark_table = {name: f"{CATALOG_NAME}.{d.qualified_name}" for name, d in twins.items()}

    spark_append_s: list[float] = []
    pyiceberg_append_s: list[float] = []
    merge_s: list[float] = []
    load_s: list[float] = []
    noop_s: list[float] = []
    stages: dict[str, list[float]] = defaultdict(list)
    try:
        warm = prepare_day(store, WARM_UP_DAY).rows.rows
        bare_merge(spark, spark_table[MERGE_TABLE], warm, WARM_UP_DAY)
        spark_append(spark, spark_table[SPARK_APPEND_TABLE], warm)
        pyiceberg_append(paths, twins[PYICEBERG_APPEND_TABLE], warm)
        for day in window:
            rows = prepare_day(store, day).rows.rows

            start = time.perf_counter()
            spark_append(spark, spark_table[SPARK_APPEND_TABLE], rows)
            spark_append_s.append(time.perf_counter() - start)

            start = time.perf_counter()
            pyiceberg_append(paths, twins[PYICEBERG_APPEND_TABLE], rows)
            pyiceberg_append_s.append(time.perf_counter() - start)

            start = time.perf_counter()
            bare_merge(spark, spark_table[MERGE_TABLE], rows, day)
            merge_s.append(time.perf_counter() - start)

            start = time.perf_counter()
            result = run_local_day(spark, paths, day)
            load_s.append(time.perf_counter() - start)
            assert result.committed, f"the first load of {day} made no commit"
            for stage, seconds in result.timings.items():
                stages[stage].append(seconds)

            start = time.perf_counter()
            again = run_local_day(spark, paths, day)
            noop_s.append(time.perf_counter() - start)
            assert not again.committed, f"a re-run of {day} that changed nothing committed"
    finally:
        for name in spark_table.values():
            spark.sql(f"DROP TABLE IF EXISTS {name} PURGE")

    thirty = min(THIRTY, days)
    load_30, merge_30 = sum(load_s[:thirty]), sum(merge_s[:thirty])
    floor = median_after_first(spark_append_s)
    py_floor = median_after_first(pyiceberg_append_s)
    transform = median_after_first(load_s)
    noop = median_after_first(noop_s)
    figures: dict[str, Any] = {
        "artists": artists,
        "days": days,
        "floor": "blind Iceberg appends (Spark, pyiceberg) and bare Spark MERGEs of the same "
        "rows, measured in the same run, in the same warm session",
        "ingest_per_day_median_s": round(statistics.median(ingest_s), 3),
        "thirty_day": {
            "days": thirty,
            "load_s": round(load_30, 2),
            "bare_merge_floor_s": round(merge_30, 2),
            "ratio": ratio(load_30, merge_30),
        },
        "one_more_day": {
            "load_median_s": round(transform, 3),
            "spark_blind_append_median_s": round(floor, 3),
            "pyiceberg_blind_append_median_s": round(py_floor, 3),
            "bare_merge_median_s": round(median_after_first(merge_s), 3),
            "ratio_vs_spark_append": ratio(transform, floor),
            "ratio_vs_pyiceberg_append": ratio(transform, py_floor),
            "last_day_load_s": round(load_s[-1], 3),
            "last_day_ratio_vs_spark_append": ratio(load_s[-1], spark_append_s[-1]),
        },
        "stages_median_s": {k: round(median_after_first(v), 4) for k, v in stages.items()},
        "first_day_load_s": round(load_s[0], 2),
        "noop_rerun_median_s": round(noop, 3),
        # The keys earlier runs wrote (read by the smoke test and older notes).
        "baseline_blind_append_median_s": round(floor, 3),
        "transform_per_day_median_s": round(transform, 3),
        "transform_vs_append_ratio": ratio(transform, floor),
        "noop_vs_append_ratio": ratio(noop, floor),
    }
    if cold:
        figures["cold"] = _cold(paths, min(THIRTY, days), paths.home.parent / "bench-cold")
    write_figures(out_dir, NAME, figures)
    return figures


def test_daily_load(lakehouse: SparkLakehouse) -> None:
    run_bench(lakehouse.spark, lakehouse.paths, cold=True)
